/* test_decimal.c -- decimal.c: every number style the sources write, the
 * rounding policy (half away from zero, flagged), overflow and syntax errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "decimal.h"

static int64_t ok(const char *s, int scale, unsigned flags, int expect_rounded)
{
    int64_t v = 0;
    int rounded = -1;
    int rc = tr_dec_parse_str(s, scale, flags, &v, &rounded);
    if (rc != 0) fail_msg("\"%s\": %s", s, tr_dec_strerror(rc));
    assert_int_equal(rounded, expect_rounded);
    return v;
}

static int bad(const char *s, int scale, unsigned flags)
{
    int64_t v = 12345;
    int rc = tr_dec_parse_str(s, scale, flags, &v, NULL);
    assert_true(rc < 0);
    assert_int_equal(v, 12345); /* untouched on error */
    return rc;
}

static void test_dec_smt_style_numbers(void **state)
{
    (void)state;
    assert_int_equal(ok(".145", 3, 0, 0), 145);
    assert_int_equal(ok(".14", 3, 0, 0), 140);
    assert_int_equal(ok(".1", 3, 0, 0), 100);
    assert_int_equal(ok("0", 3, 0, 0), 0);
    assert_int_equal(ok("0.580", 3, 0, 0), 580);
    assert_int_equal(ok("48211.402", 3, 0, 0), 48211402);
    assert_int_equal(ok("  12 ", 3, 0, 0), 12000);
    assert_int_equal(ok("1.", 3, 0, 0), 1000);
    assert_int_equal(ok("-.5", 3, 0, 0), -500);
    assert_int_equal(ok("+2.5", 0, 0, 1), 3);
}

static void test_dec_money_needs_currency_flag(void **state)
{
    (void)state;
    assert_int_equal(ok("-$4.66", 5, TR_DEC_CURRENCY, 0), -466000);
    assert_int_equal(ok("$0.13 ", 5, TR_DEC_CURRENCY, 0), 13000);
    assert_int_equal(ok("$-4.66", 5, TR_DEC_CURRENCY, 0), -466000);
    assert_int_equal(ok("56.14", 5, TR_DEC_CURRENCY, 0), 5614000);
    assert_int_equal(bad("$0.13", 5, 0), TR_DEC_ESYNTAX);
    assert_int_equal(bad("$$1", 5, TR_DEC_CURRENCY), TR_DEC_ESYNTAX);
    assert_int_equal(bad("$", 5, TR_DEC_CURRENCY), TR_DEC_ESYNTAX);
}

static void test_dec_thousands_only_when_asked_and_well_placed(void **state)
{
    (void)state;
    assert_int_equal(ok("1,234.5", 1, TR_DEC_THOUSANDS, 0), 12345);
    assert_int_equal(ok("12,345,678", 0, TR_DEC_THOUSANDS, 0), 12345678);
    assert_int_equal(ok("$1,234.56", 2, TR_DEC_THOUSANDS | TR_DEC_CURRENCY, 0), 123456);
    assert_int_equal(bad("1,234.5", 1, 0), TR_DEC_ESYNTAX);
    assert_int_equal(bad("1,2", 3, 0), TR_DEC_ESYNTAX);
    assert_int_equal(bad("1,2", 3, TR_DEC_THOUSANDS), TR_DEC_ESYNTAX);
    assert_int_equal(bad("12,34", 0, TR_DEC_THOUSANDS), TR_DEC_ESYNTAX);
    assert_int_equal(bad("1234,567", 0, TR_DEC_THOUSANDS), TR_DEC_ESYNTAX);
    assert_int_equal(bad(",123", 0, TR_DEC_THOUSANDS), TR_DEC_ESYNTAX);
    assert_int_equal(bad("1,", 0, TR_DEC_THOUSANDS), TR_DEC_ESYNTAX);
    assert_int_equal(bad("1,,234", 0, TR_DEC_THOUSANDS), TR_DEC_ESYNTAX);
    assert_int_equal(bad("1.234,5", 0, TR_DEC_THOUSANDS), TR_DEC_ESYNTAX);
}

static void test_dec_rounds_half_away_from_zero_and_flags_it(void **state)
{
    (void)state;
    assert_int_equal(ok("57.029999999999994", 3, 0, 1), 57030);
    assert_int_equal(ok("57.029999999999994", 2, 0, 1), 5703);
    assert_int_equal(ok("0.0005", 3, 0, 1), 1);
    assert_int_equal(ok("-0.0005", 3, 0, 1), -1);
    assert_int_equal(ok("0.00049999", 3, 0, 1), 0);
    assert_int_equal(ok("0.0015", 3, 0, 1), 2);
    assert_int_equal(ok("0.0025", 3, 0, 1), 3); /* not banker's rounding */
    assert_int_equal(ok("2.4", 0, 0, 1), 2);
    assert_int_equal(ok("0.1230000", 3, 0, 0), 123); /* trailing zeros are exact */
    assert_int_equal(ok("0.000000000000000000001", 3, 0, 1), 0);
    assert_int_equal(bad("0.0005", 3, TR_DEC_EXACT), TR_DEC_EINEXACT);
    assert_int_equal(ok("0.5000", 3, TR_DEC_EXACT, 0), 500);
}

static void test_dec_exponent_only_when_asked(void **state)
{
    (void)state;
    assert_int_equal(ok("5.7e-05", 8, TR_DEC_EXPONENT, 0), 5700);
    assert_int_equal(ok("1E3", 0, TR_DEC_EXPONENT, 0), 1000);
    assert_int_equal(ok("1.5e+2", 1, TR_DEC_EXPONENT, 0), 1500);
    assert_int_equal(ok("0e999999999", 3, TR_DEC_EXPONENT, 0), 0);
    assert_int_equal(ok("1e-999999999", 3, TR_DEC_EXPONENT, 1), 0);
    assert_int_equal(bad("1e999999999", 3, TR_DEC_EXPONENT), TR_DEC_EOVERFLOW);
    assert_int_equal(bad("1e3", 0, 0), TR_DEC_ESYNTAX);
    assert_int_equal(bad("1e", 0, TR_DEC_EXPONENT), TR_DEC_ESYNTAX);
    assert_int_equal(bad("e5", 0, TR_DEC_EXPONENT), TR_DEC_ESYNTAX);
}

static void test_dec_overflow_is_detected_not_wrapped(void **state)
{
    (void)state;
    assert_int_equal(ok("9223372036854775807", 0, 0, 0), INT64_MAX);
    assert_int_equal(ok("-9223372036854775807", 0, 0, 0), -INT64_MAX);
    assert_int_equal(bad("9223372036854775808", 0, 0), TR_DEC_EOVERFLOW);
    assert_int_equal(bad("9223372036854775807.5", 0, 0), TR_DEC_EOVERFLOW);
    assert_int_equal(bad("9223372036854775.808", 3, 0), TR_DEC_EOVERFLOW);
    assert_int_equal(ok("9223372036854775.807", 3, 0, 0), INT64_MAX);
    assert_int_equal(bad("99999999999999999999999", 0, 0), TR_DEC_EOVERFLOW);
    assert_int_equal(ok("000000000000000000000000001", 0, 0, 0), 1);
    assert_int_equal(bad("1", 19, 0), TR_DEC_ESCALE);
}

static void test_dec_syntax_errors_say_what_is_wrong(void **state)
{
    (void)state;
    assert_int_equal(bad("", 3, 0), TR_DEC_EEMPTY);
    assert_int_equal(bad("   ", 3, 0), TR_DEC_EEMPTY);
    assert_int_equal(bad(".", 3, 0), TR_DEC_ESYNTAX);
    assert_int_equal(bad("-", 3, 0), TR_DEC_ESYNTAX);
    assert_int_equal(bad("1.2.3", 3, 0), TR_DEC_ESYNTAX);
    assert_int_equal(bad("1 2", 3, 0), TR_DEC_ESYNTAX);
    assert_int_equal(bad("0x10", 3, 0), TR_DEC_ESYNTAX);
    assert_int_equal(bad("nan", 3, 0), TR_DEC_ESYNTAX);
    assert_int_equal(bad("--1", 3, 0), TR_DEC_ESYNTAX);
    assert_string_equal(tr_dec_strerror(TR_DEC_ESYNTAX), "is not a decimal number");
    assert_string_equal(tr_dec_strerror(TR_DEC_EOVERFLOW), "is too large");
    /* not NUL-terminated input is bounded by len */
    int64_t v;
    assert_int_equal(tr_dec_parse("1.25xyz", 4, 2, 0, &v, NULL), 0);
    assert_int_equal(v, 125);
}

static void test_dec_format_round_trips(void **state)
{
    (void)state;
    char buf[32];
    assert_string_equal(tr_dec_format(11576, 3, buf, sizeof buf), "11.576");
    assert_string_equal(tr_dec_format(-466000, 5, buf, sizeof buf), "-4.66000");
    assert_string_equal(tr_dec_format(5, 3, buf, sizeof buf), "0.005");
    assert_string_equal(tr_dec_format(INT64_MIN, 0, buf, sizeof buf), "-9223372036854775808");
    assert_string_equal(tr_dec_format(42, 0, buf, sizeof buf), "42");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dec_smt_style_numbers),
        cmocka_unit_test(test_dec_money_needs_currency_flag),
        cmocka_unit_test(test_dec_thousands_only_when_asked_and_well_placed),
        cmocka_unit_test(test_dec_rounds_half_away_from_zero_and_flags_it),
        cmocka_unit_test(test_dec_exponent_only_when_asked),
        cmocka_unit_test(test_dec_overflow_is_detected_not_wrapped),
        cmocka_unit_test(test_dec_syntax_errors_say_what_is_wrong),
        cmocka_unit_test(test_dec_format_round_trips),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
