/* test_x12.c -- the X12 tokenizer: separators read from the ISA, the
 * repetition separator, envelope counts and control numbers, truncation,
 * and the "file:segment N (SEG)" positions of its errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "x12.h"

/* An ISA with element separator e, component c, terminator t, version v. */
static void isa(char *out, size_t n, char e, char c, char t, const char *version, char rep)
{
    snprintf(out, n, "ISA%c00%c          %c00%c          %cZZ%cSENDER         %cZZ%c"
             "RECEIVER       %c231107%c1200%c%c%c%s%c000000042%c0%cP%c%c%c",
             e, e, e, e, e, e, e, e, e, e, e, rep, e, version, e, e, e, e, c, t);
}

static const char body_star[] =
    "GS*PT*S*R*20231107*1200*7*X*004010~\n"
    "ST*867*0001~\n"
    "BPT*00*X*20231107*C1~\n"
    "QTY*QD*1.5*KH>EA~\n"
    "SE*4*0001~\n"
    "GE*1*7~\n"
    "IEA*1*000000042~\n";

/* Tokenize text; returns the first non-1 result and leaves err filled. */
static int tokenize(const char *text, int *segments, char ids[][4], int max, eg_err *err)
{
    FILE *in = fmemopen((void *)text, strlen(text), "r");
    tr_x12 x;
    int rc, n = 0;
    assert_non_null(in);
    eg_err_clear(err);
    tr_x12_init(&x, in, "t.x12");
    while ((rc = tr_x12_next(&x, err)) == 1) {
        if (ids && n < max) snprintf(ids[n], 4, "%s", tr_x12_id(&x));
        n++;
    }
    fclose(in);
    if (segments) *segments = n;
    return rc;
}

static char *with_isa(char e, char c, char t, const char *version, char rep, const char *body)
{
    static char buf[4096];
    isa(buf, sizeof buf, e, c, t, version, rep);
    size_t k = strlen(buf);
    snprintf(buf + k, sizeof buf - k, "\n%s", body);
    return buf;
}

static void test_x12_star_tilde_interchange_has_seven_segments(void **state)
{
    char ids[16][4];
    int n;
    eg_err err;
    (void)state;
    assert_int_equal(tokenize(with_isa('*', '>', '~', "00401", 'U', body_star), &n, ids, 16, &err), 0);
    assert_int_equal(n, 8);
    assert_string_equal(ids[0], "ISA");
    assert_string_equal(ids[4], "QTY");
    assert_string_equal(ids[7], "IEA");
}

static void test_x12_separators_come_from_the_isa(void **state)
{
    /* the same interchange with | elements, ^ components, newline terminator */
    char body[1024];
    size_t k = 0;
    eg_err err;
    int n;
    (void)state;
    for (const char *p = body_star; *p && k + 1 < sizeof body; p++) {
        if (*p == '~') continue;
        body[k++] = *p == '*' ? '|' : *p == '>' ? '^' : *p;
    }
    body[k] = 0;
    assert_int_equal(tokenize(with_isa('|', '^', '\n', "00401", 'U', body), &n, NULL, 0, &err), 0);
    assert_int_equal(n, 8);
}

static void test_x12_elements_and_components_split(void **state)
{
    const char *text = with_isa('*', '>', '~', "00501", '^', body_star);
    FILE *in = fmemopen((void *)text, strlen(text), "r");
    tr_x12 x;
    eg_err err;
    char comp[8];
    (void)state;
    tr_x12_init(&x, in, "t.x12");
    assert_int_equal(tr_x12_next(&x, &err), 1);
    assert_int_equal(x.elem, '*');
    assert_int_equal(x.comp, '>');
    assert_int_equal(x.term, '~');
    assert_int_equal(x.rep, '^'); /* 00501: ISA11 is the repetition separator */
    assert_string_equal(tr_x12_el(&x, 13), "000000042");
    while (tr_x12_next(&x, &err) == 1 && !tr_x12_is(&x, "QTY")) {
    }
    assert_string_equal(tr_x12_el(&x, 2), "1.5");
    assert_string_equal(tr_x12_component(&x, tr_x12_el(&x, 3), 1, comp, sizeof comp), "KH");
    assert_string_equal(tr_x12_component(&x, tr_x12_el(&x, 3), 2, comp, sizeof comp), "EA");
    assert_string_equal(tr_x12_component(&x, tr_x12_el(&x, 3), 3, comp, sizeof comp), "");
    assert_string_equal(tr_x12_el(&x, 9), "");
    fclose(in);
}

static void test_x12_version_4010_has_no_repetition_separator(void **state)
{
    const char *text = with_isa('*', '>', '~', "00401", 'U', body_star);
    FILE *in = fmemopen((void *)text, strlen(text), "r");
    tr_x12 x;
    eg_err err;
    (void)state;
    tr_x12_init(&x, in, "t.x12");
    assert_int_equal(tr_x12_next(&x, &err), 1);
    assert_int_equal(x.rep, 0);
    fclose(in);
}

/* Replace the first `from` in body_star with `to` and expect an error that
 * contains `want`. */
static void expect_error(const char *from, const char *to, const char *want)
{
    char body[1024], msg[EG_ERR_MSG_MAX + 64];
    const char *p = strstr(body_star, from);
    eg_err err;
    assert_non_null(p);
    snprintf(body, sizeof body, "%.*s%s%s", (int)(p - body_star), body_star, to, p + strlen(from));
    int rc = tokenize(with_isa('*', '>', '~', "00401", 'U', body), NULL, NULL, 0, &err);
    eg_err_format(&err, msg, sizeof msg);
    if (rc != EG_EDATA || !strstr(msg, want))
        fail_msg("rc %d, message \"%s\" (wanted \"%s\")", rc, msg, want);
}

static void test_x12_bad_se_count_names_the_segment(void **state)
{
    (void)state;
    expect_error("SE*4*", "SE*5*", "t.x12:segment 6 (SE): SE01 says 5 segments but there are 4");
}

static void test_x12_bad_se_control_number(void **state)
{
    (void)state;
    expect_error("SE*4*0001", "SE*4*0002", "segment 6 (SE): SE02 control number \"0002\" differs "
                                           "from ST02 \"0001\"");
}

static void test_x12_bad_ge_count_and_control(void **state)
{
    (void)state;
    expect_error("GE*1*7", "GE*2*7", "segment 7 (GE): GE01 says 2 transaction sets but there are 1");
    expect_error("GE*1*7", "GE*1*8", "GE02 control number \"8\" differs from GS06 \"7\"");
}

static void test_x12_bad_iea_count_and_control(void **state)
{
    (void)state;
    expect_error("IEA*1*", "IEA*3*", "segment 8 (IEA): IEA01 says 3 functional groups");
    expect_error("IEA*1*000000042", "IEA*1*000000043", "IEA02 control number");
}

static void test_x12_truncated_segment(void **state)
{
    (void)state;
    expect_error("GE*1*7~\nIEA*1*000000042~\n", "GE*1*7~\nIEA*1*0000", "segment 8 (IEA): "
                 "truncated: the file ends before the segment terminator '~'");
    expect_error("GE*1*7~\nIEA*1*000000042~\n", "", "segment 6 (SE): the file ends after this "
                 "segment, inside a group (expected GE)");
    expect_error("IEA*1*000000042~\n", "", "segment 7 (GE): the file ends after this segment, "
                 "inside an interchange (expected IEA)");
    expect_error("QTY*QD*1.5*KH>EA~\n", "QTY*QD*1.5\nSE*4*0001~\n", "segment 5 (QTY): a line "
                 "break inside the segment");
}

static void test_x12_wrong_separator_in_body(void **state)
{
    (void)state;
    expect_error("BPT*00*X*20231107*C1", "BPT|00|X|20231107|C1",
                 "segment 4 (BPT): \"BPT|00|X|202\" is not a segment id");
}

static void test_x12_envelope_order(void **state)
{
    (void)state;
    expect_error("SE*4*0001~\n", "", "segment 6 (GE): GE out of place (expected SE first)");
    expect_error("ST*867*0001~\n", "", "BPT outside a transaction set (expected ST or GE)");
}

static void test_x12_isa_fixed_width_is_checked(void **state)
{
    char text[2048];
    eg_err err;
    char msg[EG_ERR_MSG_MAX + 64];
    (void)state;
    /* ISA06 one character short: every later separator moves */
    snprintf(text, sizeof text, "%s", with_isa('*', '>', '~', "00401", 'U', body_star));
    char *p = strstr(text, "SENDER ");
    memmove(p + 6, p + 7, strlen(p + 7) + 1);
    assert_int_equal(tokenize(text, NULL, NULL, 0, &err), EG_EDATA);
    eg_err_format(&err, msg, sizeof msg);
    assert_non_null(strstr(msg, "t.x12:segment 1 (ISA): found 'Z' at offset 50 where the "
                                "element separator '*' belongs"));
    /* too short altogether */
    assert_int_equal(tokenize("ISA*00*  ", NULL, NULL, 0, &err), EG_EDATA);
    eg_err_format(&err, msg, sizeof msg);
    assert_non_null(strstr(msg, "truncated"));
    /* not X12 at all */
    assert_int_equal(tokenize("TYPE,DATE\n", NULL, NULL, 0, &err), EG_EDATA);
    /* empty */
    assert_int_equal(tokenize("", NULL, NULL, 0, &err), EG_EDATA);
}

static void test_x12_two_interchanges_in_one_file(void **state)
{
    char text[4096];
    int n;
    eg_err err;
    (void)state;
    snprintf(text, sizeof text, "%s", with_isa('*', '>', '~', "00401", 'U', body_star));
    size_t k = strlen(text);
    snprintf(text + k, sizeof text - k, "%s", with_isa('*', '>', '~', "00401", 'U', body_star));
    assert_int_equal(tokenize(text, &n, NULL, 0, &err), 0);
    assert_int_equal(n, 16);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_x12_star_tilde_interchange_has_seven_segments),
        cmocka_unit_test(test_x12_separators_come_from_the_isa),
        cmocka_unit_test(test_x12_elements_and_components_split),
        cmocka_unit_test(test_x12_version_4010_has_no_repetition_separator),
        cmocka_unit_test(test_x12_bad_se_count_names_the_segment),
        cmocka_unit_test(test_x12_bad_se_control_number),
        cmocka_unit_test(test_x12_bad_ge_count_and_control),
        cmocka_unit_test(test_x12_bad_iea_count_and_control),
        cmocka_unit_test(test_x12_truncated_segment),
        cmocka_unit_test(test_x12_wrong_separator_in_body),
        cmocka_unit_test(test_x12_envelope_order),
        cmocka_unit_test(test_x12_isa_fixed_width_is_checked),
        cmocka_unit_test(test_x12_two_interchanges_in_one_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
