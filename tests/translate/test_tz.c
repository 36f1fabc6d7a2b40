/* test_tz.c -- tz.c against the system tz database: gaps, repeated hours,
 * day lengths, footer rules past the table, ESPI LocalTimeParameters that
 * espi_dst_rule_instant() decodes back to the real transitions, and
 * malformed TZif input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "tz.h"

#define H 3600
#define DAY 86400

static int64_t utc_of(int y, int mo, int d, int h, int mi)
{
    return tr_days_from_civil(y, mo, d) * DAY + h * H + mi * 60;
}

static tr_tz *load(const char *name)
{
    eg_err err;
    eg_err_clear(&err);
    tr_tz *z = tr_tz_load(name, NULL, &err);
    if (!z) fprintf(stderr, "%s: %s\n", name, err.msg);
    assert_non_null(z);
    return z;
}

static void test_tz_plain_time_converts_with_standard_offset(void **state)
{
    (void)state;
    tr_tz *z = load("America/Chicago");
    int64_t t;
    int flags = -1;
    assert_int_equal(tr_tz_local_to_utc(z, 2023, 1, 15, 12, 0, 0, 0, &t, &flags), 0);
    assert_int_equal(t, utc_of(2023, 1, 15, 18, 0));
    assert_int_equal(flags, 0);
    assert_int_equal(tr_tz_local_to_utc(z, 2023, 7, 15, 12, 0, 0, 1, &t, &flags), 0);
    assert_int_equal(t, utc_of(2023, 7, 15, 17, 0));
    assert_int_equal(flags, 0);
    tr_tz_free(z);
}

static void test_tz_spring_gap_is_flagged_and_resolved_by_fold(void **state)
{
    (void)state;
    tr_tz *z = load("America/Chicago");
    int64_t t;
    int flags;
    assert_int_equal(tr_tz_local_to_utc(z, 2023, 3, 12, 1, 59, 0, 0, &t, &flags), 0);
    assert_int_equal(t, utc_of(2023, 3, 12, 7, 59));
    assert_int_equal(flags, 0);
    assert_int_equal(tr_tz_local_to_utc(z, 2023, 3, 12, 2, 30, 0, 0, &t, &flags), 0);
    assert_int_equal(flags, TR_TZ_GAP);
    assert_int_equal(t, utc_of(2023, 3, 12, 8, 30)); /* read as CST = 03:30 CDT */
    assert_int_equal(tr_tz_local_to_utc(z, 2023, 3, 12, 2, 30, 0, 1, &t, &flags), 0);
    assert_int_equal(t, utc_of(2023, 3, 12, 7, 30)); /* read as CDT = 01:30 CST */
    assert_int_equal(tr_tz_local_to_utc(z, 2023, 3, 12, 3, 0, 0, 0, &t, &flags), 0);
    assert_int_equal(t, utc_of(2023, 3, 12, 8, 0));
    assert_int_equal(flags, 0);
    tr_tz_free(z);
}

static void test_tz_fall_back_hour_is_ambiguous_first_is_dst(void **state)
{
    (void)state;
    tr_tz *z = load("America/Chicago");
    int64_t t;
    int flags;
    tr_tm tm;
    assert_int_equal(tr_tz_local_to_utc(z, 2023, 11, 5, 1, 30, 0, 0, &t, &flags), 0);
    assert_int_equal(flags, TR_TZ_AMBIGUOUS);
    assert_int_equal(t, utc_of(2023, 11, 5, 6, 30));
    tr_tz_local(z, t, &tm);
    assert_int_equal(tm.isdst, 1);
    assert_int_equal(tm.hour, 1);
    assert_int_equal(tr_tz_local_to_utc(z, 2023, 11, 5, 1, 30, 0, 1, &t, &flags), 0);
    assert_int_equal(t, utc_of(2023, 11, 5, 7, 30));
    tr_tz_local(z, t, &tm);
    assert_int_equal(tm.isdst, 0);
    assert_int_equal(tm.hour, 1);
    assert_int_equal(tm.utoff, -6 * H);
    assert_int_equal(tr_tz_local_to_utc(z, 2023, 11, 5, 2, 0, 0, 0, &t, &flags), 0);
    assert_int_equal(flags, 0);
    assert_int_equal(t, utc_of(2023, 11, 5, 8, 0));
    tr_tz_free(z);
}

static void test_tz_day_lengths_are_23_24_25_hours(void **state)
{
    (void)state;
    tr_tz *z = load("America/Chicago");
    int64_t s, e;
    assert_int_equal(tr_tz_day_bounds(z, 2023, 3, 12, &s, &e), 0);
    assert_int_equal(s, utc_of(2023, 3, 12, 6, 0));
    assert_int_equal(e - s, 23 * H);
    assert_int_equal(tr_tz_day_bounds(z, 2023, 11, 5, &s, &e), 0);
    assert_int_equal(s, utc_of(2023, 11, 5, 5, 0));
    assert_int_equal(e - s, 25 * H);
    assert_int_equal(tr_tz_day_bounds(z, 2023, 12, 31, &s, &e), 0);
    assert_int_equal(e - s, 24 * H);
    assert_int_equal(e, utc_of(2024, 1, 1, 6, 0));
    int y, mo, d;
    tr_tz_local_date(z, utc_of(2023, 11, 6, 5, 59), &y, &mo, &d);
    assert_true(y == 2023 && mo == 11 && d == 5);
    tr_tz_local_date(z, utc_of(2023, 11, 6, 6, 0), &y, &mo, &d);
    assert_true(y == 2023 && mo == 11 && d == 6);
    tr_tz_free(z);
}

static void test_tz_midnight_gap_day_starts_at_transition(void **state)
{
    (void)state;
    /* Havana springs forward at 00:00 -> 01:00 (2023-03-12). */
    tr_tz *z = load("America/Havana");
    int64_t s, e;
    assert_int_equal(tr_tz_day_bounds(z, 2023, 3, 12, &s, &e), 0);
    assert_int_equal(s, utc_of(2023, 3, 12, 5, 0));
    assert_int_equal(e - s, 23 * H);
    tr_tz_free(z);
}

static void test_tz_footer_rules_govern_far_future(void **state)
{
    (void)state;
    tr_tz *z = load("America/Chicago");
    assert_int_equal(tr_tz_utc_offset(z, utc_of(2050, 7, 1, 0, 0)), -5 * H);
    assert_int_equal(tr_tz_utc_offset(z, utc_of(2050, 1, 1, 0, 0)), -6 * H);
    int64_t t;
    int flags;
    assert_int_equal(tr_tz_local_to_utc(z, 2050, 3, 13, 2, 30, 0, 0, &t, &flags), 0);
    assert_int_equal(flags, TR_TZ_GAP); /* 2050-03-13 is the second Sunday */
    assert_int_equal(tr_tz_local_to_utc(z, 2050, 11, 6, 1, 30, 0, 1, &t, &flags), 0);
    assert_int_equal(flags, TR_TZ_AMBIGUOUS);
    assert_int_equal(t, utc_of(2050, 11, 6, 7, 30));
    tr_tz_free(z);
}

static void test_tz_southern_hemisphere_footer(void **state)
{
    (void)state;
    tr_tz *z = load("Australia/Sydney");
    espi_local_time_parameters p;
    assert_int_equal(tr_tz_utc_offset(z, utc_of(2060, 1, 15, 0, 0)), 11 * H);
    assert_int_equal(tr_tz_utc_offset(z, utc_of(2060, 7, 15, 0, 0)), 10 * H);
    assert_int_equal(tr_tz_local_time_parameters(z, 2060, &p, NULL), 0);
    assert_int_equal(p.tz_offset, 10 * H);
    assert_int_equal(p.dst_offset, H);
    assert_int_equal(p.dst_start_rule, 0xA40E2000u); /* first Sunday of October 02:00 */
    assert_int_equal(p.dst_end_rule, 0x440E3000u);   /* first Sunday of April 03:00 */
    tr_tz_free(z);
}

/* US transition day (March, November) for 2023..2025. */
static const struct { int year, mar, nov; } us_days[] = {
    {2023, 12, 5}, {2024, 10, 3}, {2025, 9, 2}};

static void check_us_zone(const char *name, int std_hours, int has_dst)
{
    tr_tz *z = load(name);
    for (size_t i = 0; i < sizeof us_days / sizeof us_days[0]; i++) {
        espi_local_time_parameters p;
        int y = us_days[i].year;
        assert_int_equal(tr_tz_local_time_parameters(z, y, &p, NULL), 0);
        assert_int_equal(p.tz_offset, std_hours * H);
        if (!has_dst) {
            assert_int_equal(p.dst_offset, 0);
            assert_int_equal(p.dst_start_rule, ESPI_DST_RULE_NONE);
            assert_int_equal(p.dst_end_rule, ESPI_DST_RULE_NONE);
            continue;
        }
        assert_int_equal(p.dst_offset, H);
        assert_int_equal(p.dst_start_rule, 0x360E2000u);
        assert_int_equal(p.dst_end_rule, 0xB40E2000u);
        /* the real instants: 02:00 standard time, 02:00 daylight time */
        int64_t start = utc_of(y, 3, us_days[i].mar, 2, 0) - std_hours * H;
        int64_t end = utc_of(y, 11, us_days[i].nov, 2, 0) - (std_hours + 1) * H;
        assert_int_equal(tr_tz_utc_offset(z, start - 1), std_hours * H);
        assert_int_equal(tr_tz_utc_offset(z, start), (std_hours + 1) * H);
        assert_int_equal(tr_tz_utc_offset(z, end - 1), (std_hours + 1) * H);
        assert_int_equal(tr_tz_utc_offset(z, end), std_hours * H);
        int64_t got;
        assert_int_equal(espi_dst_rule_instant(p.dst_start_rule, y, p.tz_offset, &got), 0);
        assert_int_equal(got, start);
        /* the end rule's time is daylight wall time (POSIX semantics) */
        assert_int_equal(espi_dst_rule_instant(p.dst_end_rule, y, p.tz_offset + p.dst_offset, &got), 0);
        assert_int_equal(got, end);
    }
    tr_tz_free(z);
}

static void test_tz_us_local_time_parameters_decode_to_real_instants(void **state)
{
    (void)state;
    check_us_zone("America/Chicago", -6, 1);
    check_us_zone("America/New_York", -5, 1);
    check_us_zone("America/Denver", -7, 1);
    check_us_zone("America/Los_Angeles", -8, 1);
    check_us_zone("America/Phoenix", -7, 0);
}

static void test_tz_old_year_uses_fixed_day_rules(void **state)
{
    (void)state;
    /* 2006: first Sunday of April (2nd) to last Sunday of October (29th),
     * which the current footer (M3.2.0) does not describe. */
    tr_tz *z = load("America/Chicago");
    espi_local_time_parameters p;
    int64_t got;
    assert_int_equal(tr_tz_local_time_parameters(z, 2006, &p, NULL), 0);
    assert_int_equal(p.dst_start_rule, 0x40202000u);
    assert_int_equal(p.dst_end_rule, 0xA1D02000u);
    assert_int_equal(espi_dst_rule_instant(p.dst_start_rule, 2006, p.tz_offset, &got), 0);
    assert_int_equal(got, utc_of(2006, 4, 2, 8, 0));
    tr_tz_free(z);
}

static void test_tz_zone_dir_is_a_parameter(void **state)
{
    (void)state;
    eg_err err;
    tr_tz *z = tr_tz_load("Chicago", TR_TZ_DEFAULT_DIR "/America", &err);
    assert_non_null(z);
    assert_string_equal(tr_tz_name(z), "Chicago");
    assert_int_equal(tr_tz_utc_offset(z, utc_of(2024, 7, 1, 0, 0)), -5 * H);
    tr_tz_free(z);
    assert_null(tr_tz_load("America/Chicago", "/nonexistent-zoneinfo", &err));
    assert_int_equal(err.code, EG_ENOINPUT);
}

static void test_tz_bad_names_and_fields_are_refused(void **state)
{
    (void)state;
    eg_err err;
    assert_null(tr_tz_load("../../etc/passwd", NULL, &err));
    assert_int_equal(err.code, EG_EUSAGE);
    assert_null(tr_tz_load("/etc/localtime", NULL, &err));
    assert_int_equal(err.code, EG_EUSAGE);
    assert_null(tr_tz_load("Not/A_Zone", NULL, &err));
    assert_int_equal(err.code, EG_ENOINPUT);
    tr_tz *z = load("America/Chicago");
    int64_t t;
    assert_int_equal(tr_tz_local_to_utc(z, 2023, 2, 29, 0, 0, 0, 0, &t, NULL), EG_EUSAGE);
    assert_int_equal(tr_tz_local_to_utc(z, 2023, 1, 1, 24, 0, 0, 0, &t, NULL), EG_EUSAGE);
    assert_int_equal(tr_tz_local_to_utc(z, 2023, 13, 1, 0, 0, 0, 0, &t, NULL), EG_EUSAGE);
    tr_tz_free(z);
}

static unsigned char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    unsigned char *buf = malloc(1 << 20);
    assert_non_null(buf);
    *len = fread(buf, 1, 1 << 20, f);
    fclose(f);
    return buf;
}

static uint32_t be32_at(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static size_t v1_block_size(const unsigned char *h)
{
    return be32_at(h + 32) * 5 + be32_at(h + 36) * 6 + be32_at(h + 40) + be32_at(h + 28) * 8 +
           be32_at(h + 24) + be32_at(h + 20);
}

static void test_tz_malformed_tzif_is_a_data_error(void **state)
{
    (void)state;
    eg_err err;
    size_t len;
    unsigned char *buf = slurp(TR_TZ_DEFAULT_DIR "/America/Chicago", &len);
    assert_null(tr_tz_from_bytes("x", (const unsigned char *)"not a tzif", 10, &err));
    assert_int_equal(err.code, EG_EDATA);
    for (size_t cut = 0; cut < len; cut += len / 37 + 1) {
        tr_tz *z = tr_tz_from_bytes("cut", buf, cut, &err);
        assert_null(z);
        assert_int_equal(err.code, EG_EDATA);
    }
    /* corrupt the 64-bit section: a transition naming a type that does not exist */
    unsigned char *bad = malloc(len);
    assert_non_null(bad);
    memcpy(bad, buf, len);
    size_t h2 = 44 + v1_block_size(bad);
    uint32_t timecnt = be32_at(bad + h2 + 32);
    assert_true(timecnt > 0);
    bad[h2 + 44 + 8 * timecnt] = 200;
    assert_null(tr_tz_from_bytes("bad", bad, len, &err));
    assert_int_equal(err.code, EG_EDATA);
    assert_non_null(strstr(err.msg, "type that does not exist"));
    /* and one with transitions out of order */
    memcpy(bad, buf, len);
    memcpy(bad + h2 + 44 + 8, bad + h2 + 44, 8);
    assert_null(tr_tz_from_bytes("bad", bad, len, &err));
    assert_non_null(strstr(err.msg, "not in order"));
    tr_tz *z;
    /* the whole file loads */
    z = tr_tz_from_bytes("America/Chicago", buf, len, &err);
    assert_non_null(z);
    tr_tz_free(z);
    free(bad);
    free(buf);
}

static void test_tz_v1_only_file_loads(void **state)
{
    (void)state;
    eg_err err;
    size_t len;
    unsigned char *buf = slurp(TR_TZ_DEFAULT_DIR "/America/Chicago", &len);
    uint32_t timecnt = be32_at(buf + 32);
    if (timecnt < 100) { /* a "slim" tzdata build keeps no v1 data */
        free(buf);
        skip();
    }
    buf[4] = 0; /* claim version 1: the 64-bit section and footer are ignored */
    tr_tz *z = tr_tz_from_bytes("v1", buf, len, &err);
    assert_non_null(z);
    assert_int_equal(tr_tz_utc_offset(z, utc_of(2023, 7, 1, 0, 0)), -5 * H);
    assert_int_equal(tr_tz_utc_offset(z, utc_of(2023, 12, 1, 0, 0)), -6 * H);
    tr_tz_free(z);
    free(buf);
}

/* The cache gives exactly the uncached answers: every 15 minutes (local ->
 * UTC with both folds, UTC -> local date and offset) over years with DST
 * changes, in zones with footers, southern rules, 30-minute DST, a skipped
 * day and no DST at all. */
static void test_tz_cache_agrees_with_uncached(void **state)
{
    static const char *const zones[] = {"America/Chicago", "Australia/Sydney",
                                        "Australia/Lord_Howe", "Pacific/Apia", "Asia/Kolkata",
                                        "UTC", "Europe/London", "America/Havana"};
    static const int years[] = {1995, 2011, 2023, 2040};
    (void)state;
    for (size_t zi = 0; zi < sizeof zones / sizeof zones[0]; zi++) {
        tr_tz *z = load(zones[zi]);
        for (size_t yi = 0; yi < sizeof years / sizeof years[0]; yi++) {
            tr_tz_cache c;
            tr_tz_cache_init(&c, z);
            int64_t day0 = tr_days_from_civil(years[yi], 1, 1);
            for (int64_t q = 0; q < 366 * 96; q++) {
                int64_t local = day0 * 86400 + q * 900;
                int y, mo, d, fa, fb;
                tr_civil_from_days(local / 86400, &y, &mo, &d);
                int h = (int)(local % 86400 / 3600), mi = (int)(local % 3600 / 60);
                for (int fold = 0; fold <= 1; fold++) {
                    int64_t a = 0, b = 0;
                    assert_int_equal(tr_tz_local_to_utc(z, y, mo, d, h, mi, 0, fold, &a, &fa), 0);
                    assert_int_equal(tr_tz_cache_local_to_utc(&c, y, mo, d, h, mi, 0, fold, &b, &fb), 0);
                    if (a != b || fa != fb) fail_msg("%s %04d-%02d-%02d %02d:%02d fold %d: %lld/%d vs "
                                                     "cached %lld/%d", zones[zi], y, mo, d, h, mi, fold,
                                                     (long long)a, fa, (long long)b, fb);
                }
                int64_t t = local - 12 * 3600; /* as UTC, shifted so both halves are seen */
                int y1, m1, d1, y2, m2, d2;
                tr_tz_local_date(z, t, &y1, &m1, &d1);
                tr_tz_cache_local_date(&c, t, &y2, &m2, &d2);
                assert_int_equal(y1 * 10000 + m1 * 100 + d1, y2 * 10000 + m2 * 100 + d2);
                assert_int_equal(tr_tz_utc_offset(z, t), tr_tz_cache_offset(&c, t));
            }
        }
        tr_tz_free(z);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tz_plain_time_converts_with_standard_offset),
        cmocka_unit_test(test_tz_spring_gap_is_flagged_and_resolved_by_fold),
        cmocka_unit_test(test_tz_fall_back_hour_is_ambiguous_first_is_dst),
        cmocka_unit_test(test_tz_day_lengths_are_23_24_25_hours),
        cmocka_unit_test(test_tz_midnight_gap_day_starts_at_transition),
        cmocka_unit_test(test_tz_footer_rules_govern_far_future),
        cmocka_unit_test(test_tz_southern_hemisphere_footer),
        cmocka_unit_test(test_tz_us_local_time_parameters_decode_to_real_instants),
        cmocka_unit_test(test_tz_old_year_uses_fixed_day_rules),
        cmocka_unit_test(test_tz_zone_dir_is_a_parameter),
        cmocka_unit_test(test_tz_bad_names_and_fields_are_refused),
        cmocka_unit_test(test_tz_malformed_tzif_is_a_data_error),
        cmocka_unit_test(test_tz_v1_only_file_loads),
        cmocka_unit_test(test_tz_cache_agrees_with_uncached),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
