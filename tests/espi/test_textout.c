/* test_textout.c -- JSON and XML report strings stay valid UTF-8 whatever bytes come in. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "textout.h"

/* Run fn(s) into a memory stream and return what it wrote (caller frees). */
static char *render(void (*fn)(FILE *, const char *), const char *s)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    fn(f, s);
    fclose(f);
    return buf;
}

static void expect(void (*fn)(FILE *, const char *), const char *in, const char *want)
{
    char *got = render(fn, in);
    assert_string_equal(got, want);
    free(got);
}

static void test_utf8_sequences(void **state)
{
    (void)state;
    assert_int_equal(eg_utf8_seq((const unsigned char *)"a", 1), 1);
    assert_int_equal(eg_utf8_seq((const unsigned char *)"\xc3\xa9", 2), 2);          /* é */
    assert_int_equal(eg_utf8_seq((const unsigned char *)"\xe2\x82\xac", 3), 3);      /* € */
    assert_int_equal(eg_utf8_seq((const unsigned char *)"\xf0\x9f\x94\x8c", 4), 4);  /* plug */
    assert_int_equal(eg_utf8_seq((const unsigned char *)"\xc3\xa9", 1), 0);          /* truncated */
    assert_int_equal(eg_utf8_seq((const unsigned char *)"\x80", 1), 0);              /* continuation */
    assert_int_equal(eg_utf8_seq((const unsigned char *)"\xc0\xaf", 2), 0);          /* overlong '/' */
    assert_int_equal(eg_utf8_seq((const unsigned char *)"\xe0\x80\xaf", 3), 0);      /* overlong */
    assert_int_equal(eg_utf8_seq((const unsigned char *)"\xed\xa0\x80", 3), 0);      /* surrogate */
    assert_int_equal(eg_utf8_seq((const unsigned char *)"\xf4\x90\x80\x80", 4), 0);  /* > U+10FFFF */
    assert_int_equal(eg_utf8_seq((const unsigned char *)"\xe2\x28\xa1", 3), 0);      /* bad 2nd byte */
}

static void test_json_escapes_and_replaces(void **state)
{
    (void)state;
    expect(eg_json_string, "plain", "\"plain\"");
    expect(eg_json_string, "q\"b\\s\n\r\t", "\"q\\\"b\\\\s\\n\\r\\t\"");
    expect(eg_json_string, "\x01\x1f\x7f", "\"\\u0001\\u001f\\u007f\"");
    expect(eg_json_string, "caf\xc3\xa9 \xe2\x82\xac", "\"caf\xc3\xa9 \xe2\x82\xac\"");
    /* a garbage body excerpt: each bad byte becomes U+FFFD, the rest survives */
    expect(eg_json_string, "a\x80" "b\xff\xc3", "\"a\xef\xbf\xbd" "b\xef\xbf\xbd\xef\xbf\xbd\"");
    expect(eg_json_string, "\xed\xa0\x80", "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\"");
    expect(eg_json_string, "", "\"\"");
}

static void test_xml_escapes_and_replaces(void **state)
{
    (void)state;
    expect(eg_xml_text, "<a href=\"x\">'&'</a>", "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
    expect(eg_xml_text, "tab\tnl\n", "tab\tnl\n");
    expect(eg_xml_text, "nul?\x01\x0b", "nul?\xef\xbf\xbd\xef\xbf\xbd");
    expect(eg_xml_text, "\xfe\xc3\xa9", "\xef\xbf\xbd\xc3\xa9");
}

/* Every possible byte pair round-trips into valid UTF-8 output. */
static void test_any_bytes_give_valid_utf8(void **state)
{
    (void)state;
    char in[3] = {0};
    for (int a = 1; a < 256; a++)
        for (int b = 1; b < 256; b++) {
            in[0] = (char)a, in[1] = (char)b;
            char *out = render(eg_json_string, in);
            size_t n = strlen(out);
            for (size_t i = 0; i < n;) {
                size_t k = eg_utf8_seq((const unsigned char *)out + i, n - i);
                assert_true(k > 0);
                assert_false(k == 1 && (unsigned char)out[i] < 0x20);
                i += k;
            }
            free(out);
        }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_utf8_sequences),
        cmocka_unit_test(test_json_escapes_and_replaces),
        cmocka_unit_test(test_xml_escapes_and_replaces),
        cmocka_unit_test(test_any_bytes_give_valid_utf8),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
