/* test_model.c -- the helpers in espi/model.c: ids, times, DST rules.
 *
 * DST rule convention (what espi_dst_rule_instant does and these tests pin
 * down): the rule's hour is local wall-clock time just before the change,
 * so callers pass the offset in force then: tzOffset for the start rule,
 * tzOffset + dstOffset for the end rule.  For US Central in 2024:
 *   360E2000 (2nd Sunday of March, 02:00 CST)  -> 2024-03-10T08:00:00Z;
 *   B40E2000 (1st Sunday of November, 02:00 CDT, offset -18000)
 *                                              -> 2024-11-03T07:00:00Z;
 * both are the real US transitions. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "espi.h"

static void test_uuid5_is_deterministic_version_5(void **state)
{
    (void)state;
    char a[ESPI_ID_MAX], b[ESPI_ID_MAX], c[ESPI_ID_MAX], bare[37];
    espi_uuid5("synth:1:up:1", a);
    espi_uuid5("synth:1:up:1", b);
    espi_uuid5("synth:1:up:2", c);
    assert_string_equal(a, b);
    assert_string_not_equal(a, c);
    assert_int_equal(strlen(a), 9 + 36);
    assert_memory_equal(a, "urn:uuid:", 9);
    const char *u = a + 9;
    assert_int_equal(u[8], '-');
    assert_int_equal(u[13], '-');
    assert_int_equal(u[14], '5');                  /* version nibble */
    assert_non_null(strchr("89ab", u[19]));        /* RFC 4122 variant */
    espi_uuid5_bare("synth:1:up:1", bare);
    assert_string_equal(bare, u);
}

static void check_format(int64_t t, const char *want)
{
    char s[40];
    int64_t back = 0;
    espi_time_format(t, s, sizeof s);
    assert_string_equal(s, want);
    assert_int_equal(espi_time_parse(s, &back), 0);
    assert_int_equal(back, t);
}

static void test_time_format_parse_round_trips(void **state)
{
    (void)state;
    check_format(0, "1970-01-01T00:00:00Z");
    check_format(-1, "1969-12-31T23:59:59Z");
    check_format(951782400, "2000-02-29T00:00:00Z");       /* leap day, 400-year rule */
    check_format(-2208988800LL, "1900-01-01T00:00:00Z");   /* 1900 is not leap */
    check_format(-11670955200LL, "1600-02-29T12:00:00Z");
    check_format(1710057600, "2024-03-10T08:00:00Z");
    for (int64_t t = -5000000000LL; t < 5000000000LL; t += 86399 * 37 + 13) {
        char s[40];
        int64_t back;
        espi_time_format(t, s, sizeof s);
        assert_int_equal(espi_time_parse(s, &back), 0);
        assert_int_equal(back, t);
    }
}

static void test_time_parse_offsets_dates_and_garbage(void **state)
{
    (void)state;
    int64_t t = 0;
    assert_int_equal(espi_time_parse("2024-03-10T02:00:00-06:00", &t), 0);
    assert_int_equal(t, 1710057600);
    assert_int_equal(espi_time_parse("2024-03-10T09:30:00+01:30", &t), 0);
    assert_int_equal(t, 1710057600);
    assert_int_equal(espi_time_parse("1900-02-28", &t), 0);        /* a date alone: midnight */
    assert_int_equal(t, -2208988800LL + 58 * 86400LL);
    assert_int_equal(espi_time_parse("1900-03-01T00:00:00Z", &t), 0); /* no Feb 29 in 1900 */
    assert_int_equal(t, -2208988800LL + 59 * 86400LL);
    assert_int_equal(espi_time_parse(" 2024-02-29T00:00:00.123Z\n", &t), 0);
    assert_int_equal(t, 1709164800);
    assert_int_equal(espi_time_parse("2024-13-01", &t), -1);
    assert_int_equal(espi_time_parse("2024-03-10T02:00", &t), -1);
    assert_int_equal(espi_time_parse("yesterday", &t), -1);
    assert_int_equal(espi_time_parse("2024-03-10Tx", &t), -1);
}

static void check_rule(uint32_t rule, int year, int64_t tz, const char *want)
{
    int64_t t = 0;
    char s[40];
    assert_int_equal(espi_dst_rule_instant(rule, year, tz, &t), 0);
    espi_time_format(t, s, sizeof s);
    assert_string_equal(s, want);
}

static void test_dst_rules_us_central(void **state)
{
    (void)state;
    check_rule(0x360E2000u, 2024, -21600, "2024-03-10T08:00:00Z");
    check_rule(0xB40E2000u, 2024, -18000, "2024-11-03T07:00:00Z"); /* CDT before the change */
    check_rule(0xB40E2000u, 2024, -21600, "2024-11-03T08:00:00Z"); /* offset is the caller's */
    check_rule(0x360E2000u, 2025, -21600, "2025-03-09T08:00:00Z");
    check_rule(0xB40E2000u, 2025, -18000, "2025-11-02T07:00:00Z");
    check_rule(0x360E2000u, 2024, -18000, "2024-03-10T07:00:00Z"); /* US Eastern */
}

static void test_dst_rules_other_operators(void **state)
{
    (void)state;
    check_rule(0xAE0E1000u, 2024, 0, "2024-10-27T01:00:00Z");  /* last Sunday of October */
    check_rule(0x40100000u, 2024, -18000, "2024-04-01T05:00:00Z"); /* April 1, op 0 */
    check_rule(0x328E2000u, 2024, -21600, "2024-03-10T08:00:00Z"); /* Sunday on/after the 8th */
    check_rule(0x360E2001u, 2024, 0, "2024-03-10T02:00:01Z");  /* seconds field */
}

static void test_dst_rules_invalid(void **state)
{
    (void)state;
    int64_t t = 42;
    assert_int_equal(espi_dst_rule_instant(ESPI_DST_RULE_NONE, 2024, 0, &t), -1);
    assert_int_equal(espi_dst_rule_instant(0x060E2000u, 2024, 0, &t), -1); /* month 0 */
    assert_int_equal(espi_dst_rule_instant(0xD60E2000u, 2024, 0, &t), -1); /* month 13 */
    assert_int_equal(espi_dst_rule_instant(0x2C0E2000u, 2024, 0, &t), -1); /* 5th Sunday of Feb 2024 */
    assert_int_equal(espi_dst_rule_instant(0x36002000u, 2024, 0, &t), -1); /* weekday 0 */
    assert_int_equal(espi_dst_rule_instant(0x360F8000u, 2024, 0, &t), -1); /* hour 24 */
    assert_int_equal(espi_dst_rule_instant(0x20000000u, 2024, 0, &t), -1); /* day 0, op 0 */
    assert_int_equal(t, 42); /* untouched on failure */
}

static void test_resource_names_round_trip(void **state)
{
    (void)state;
    assert_string_equal(espi_resource_name(ESPI_RES_USAGE_POINT), "UsagePoint");
    assert_null(espi_resource_name(ESPI_RES_UNKNOWN));
    assert_int_equal(espi_resource_from_name("ElectricPowerUsageSummary"), ESPI_RES_USAGE_SUMMARY);
    assert_int_equal(espi_resource_from_name("IntervalBlock"), ESPI_RES_INTERVAL_BLOCK);
    assert_int_equal(espi_resource_from_name("Nope"), ESPI_RES_UNKNOWN);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_uuid5_is_deterministic_version_5),
        cmocka_unit_test(test_time_format_parse_round_trips),
        cmocka_unit_test(test_time_parse_offsets_dates_and_garbage),
        cmocka_unit_test(test_dst_rules_us_central),
        cmocka_unit_test(test_dst_rules_other_operators),
        cmocka_unit_test(test_dst_rules_invalid),
        cmocka_unit_test(test_resource_names_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
