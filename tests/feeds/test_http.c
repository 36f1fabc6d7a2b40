/* test_http.c -- requests and responses as plain data (feeds/http.c): the
 * target parser, http_resp_take_buffer, which every handler that builds a
 * whole document uses (buffered when small, streamed from memory when not),
 * and http_resp_give, how a feed's producer hands over its chunks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "err.h"
#include "http.h"

static void test_http_target_is_decoded_and_duplicates_refused(void **state)
{
    (void)state;
    http_req *r = NULL;
    eg_err err;
    assert_int_equal(http_req_new("GET", "/a%20b?x=1&y=%41", &r, &err), 0);
    assert_string_equal(http_req_path(r), "/a b");
    assert_string_equal(http_req_query(r, "y"), "A");
    http_req_free(r);
    assert_int_equal(http_req_new("GET", "/a?x=1&x=2", &r, &err), EG_EDATA);
    assert_int_equal(http_req_new("GET", "/a%2", &r, &err), EG_EDATA);
    assert_int_equal(http_req_new("GET", "/a%00b", &r, &err), EG_EDATA);
}

static void test_http_small_buffer_is_sent_buffered(void **state)
{
    (void)state;
    http_resp *rs = http_resp_new();
    char *p = strdup("<entry/>");
    size_t len;
    assert_int_equal(http_resp_take_buffer(rs, p, strlen(p)), 0);
    assert_false(http_resp_is_stream(rs));
    assert_string_equal(http_resp_body(rs, &len), "<entry/>");
    http_resp_free(rs);
}

static void test_http_large_buffer_is_streamed_whole(void **state)
{
    (void)state;
    size_t n = 3u << 20, got = 0, len;
    char *p = malloc(n);
    assert_non_null(p);
    for (size_t i = 0; i < n; i++) p[i] = (char)('a' + i % 26);
    http_resp *rs = http_resp_new();
    assert_int_equal(http_resp_take_buffer(rs, p, n), 0); /* p is the response's now */
    assert_true(http_resp_is_stream(rs));
    int rc;
    do {
        rc = http_resp_produce(rs);
        char *chunk = http_resp_take_body(rs, &len);
        for (size_t i = 0; i < len; i++) assert_int_equal(chunk[i], 'a' + (got + i) % 26);
        got += len;
        free(chunk);
    } while (rc == 1);
    assert_int_equal(rc, 0);
    assert_int_equal(got, n);
    http_resp_free(rs); /* done() frees the buffer: ASan checks */
}

static void test_http_give_adopts_into_empty_body_and_appends_otherwise(void **state)
{
    (void)state;
    http_resp *rs = http_resp_new();
    size_t len;
    char *a = malloc(4), *b = malloc(4);
    assert_non_null(a);
    assert_non_null(b);
    memcpy(a, "abc", 3);
    memcpy(b, "def", 3);
    assert_int_equal(http_resp_give(rs, a, 3), 0);
    assert_ptr_equal(http_resp_body(rs, &len), a); /* no copy */
    assert_string_equal(http_resp_body(rs, &len), "abc");
    assert_int_equal(http_resp_give(rs, b, 3), 0); /* appended, b freed: ASan checks */
    assert_string_equal(http_resp_body(rs, &len), "abcdef");
    assert_int_equal(len, 6);
    char *body = http_resp_take_body(rs, &len);
    assert_int_equal(len, 6);
    free(body);
    assert_int_equal(http_resp_give(rs, NULL, 0), -1);
    http_resp_free(rs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_http_target_is_decoded_and_duplicates_refused),
        cmocka_unit_test(test_http_small_buffer_is_sent_buffered),
        cmocka_unit_test(test_http_large_buffer_is_streamed_whole),
        cmocka_unit_test(test_http_give_adopts_into_empty_body_and_appends_otherwise),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
