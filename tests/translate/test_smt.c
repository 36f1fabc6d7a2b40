/* test_smt.c -- smt.c on the shared SMT samples (exact per-day Wh sums,
 * 92/100-interval DST days, estimated counts, contiguity, unique instants),
 * the daily export, and bad input in strict and lenient mode. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "smt.h"

#define MAX_READINGS 4096

typedef struct collected {
    tr_channel ch[TR_MAX_CHANNELS];
    int n_ch;
    tr_reading r[MAX_READINGS];
    int n;
    tr_skip skips[64];
    int n_skips;
} collected;

static int on_channel(void *ctx, const tr_channel *c, eg_err *err)
{
    collected *k = ctx;
    (void)err;
    assert_int_equal(c->index, k->n_ch);
    k->ch[k->n_ch++] = *c;
    return 0;
}

static int on_reading(void *ctx, const tr_reading *r, eg_err *err)
{
    collected *k = ctx;
    (void)err;
    assert_true(r->channel < k->n_ch); /* declared first */
    assert_true(k->n < MAX_READINGS);
    k->r[k->n++] = *r;
    return 0;
}

static int on_skip(void *ctx, const tr_skip *s, eg_err *err)
{
    collected *k = ctx;
    (void)err;
    if (k->n_skips < 64) k->skips[k->n_skips++] = *s;
    return 0;
}

typedef struct fixture {
    tr_tz *tz;
    collected *k;
    tr_summary sum;
    tr_sink inner, sink;
    tr_options opts;
    eg_err err;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    eg_err err;
    f->tz = tr_tz_load(TR_SMT_ZONE, NULL, &err);
    f->k = calloc(1, sizeof *f->k);
    if (!f->tz || !f->k) return -1;
    f->inner = (tr_sink){f->k, on_channel, on_reading, on_skip};
    tr_summary_init(&f->sum, f->tz, &f->inner, &f->sink);
    f->opts.tz = f->tz;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    tr_tz_free(f->tz);
    free(f->k);
    free(f);
    return 0;
}

static int run_file(fixture *f, const char *path, const char *name)
{
    FILE *in = fopen(path, "rb");
    if (!in) fail_msg("cannot open %s", path);
    int rc = tr_smt_read(in, name, &f->opts, &f->sink, &f->err);
    fclose(in);
    return rc;
}

static int run_sample(fixture *f, const char *file)
{
    char path[1024];
    const char *shared = getenv("ESPIGATE_SHARED");
    assert_non_null(shared);
    snprintf(path, sizeof path, "%s/sources/samples/smt/%s", shared, file);
    return run_file(f, path, file);
}

static int run_text(fixture *f, const char *text)
{
    FILE *in = fmemopen((void *)text, strlen(text), "r");
    assert_non_null(in);
    int rc = tr_smt_read(in, "t.csv", &f->opts, &f->sink, &f->err);
    fclose(in);
    return rc;
}

/* Readings of channel `key` on local day mo/d: count, Wh total, estimated. */
static void day_stats(const fixture *f, const char *key, int mo, int d, int *count,
                      int64_t *total, int *estimated)
{
    *count = *estimated = 0;
    *total = 0;
    for (int i = 0; i < f->k->n; i++) {
        const tr_reading *r = &f->k->r[i];
        int y, m, dd;
        if (strcmp(f->k->ch[r->channel].key, key) != 0) continue;
        tr_tz_local_date(f->tz, r->start, &y, &m, &dd);
        if (m != mo || dd != d) continue;
        (*count)++;
        *total += r->value;
        if (r->quality == ESPI_QUALITY_ESTIMATED_REFERENCE_DAY) (*estimated)++;
    }
}

static void expect_day(const fixture *f, const char *key, int mo, int d, int count, int64_t wh,
                       int estimated)
{
    int c, e;
    int64_t t;
    day_stats(f, key, mo, d, &c, &t, &e);
    if (c != count || t != wh || e != estimated)
        fail_msg("%s %02d/%02d: %d readings %lld Wh %d estimated; expected %d, %lld, %d", key, mo,
                 d, c, (long long)t, e, count, (long long)wh, estimated);
}

/* Each channel: strictly increasing, contiguous, 900 s, never a shared instant. */
static void expect_contiguous(const fixture *f)
{
    for (int c = 0; c < f->k->n_ch; c++) {
        int64_t prev_end = ESPI_NONE;
        for (int i = 0; i < f->k->n; i++) {
            const tr_reading *r = &f->k->r[i];
            if (r->channel != c) continue;
            assert_int_equal(r->duration, 900);
            if (prev_end != ESPI_NONE) assert_int_equal(r->start, prev_end);
            prev_end = r->start + r->duration;
        }
    }
}

#define CONS "smt:10999990000012345:consumption"
#define SURP "smt:10999990000012345:surplus"

static void test_smt_spring_forward_day_has_92_intervals(void **state)
{
    fixture *f = *state;
    assert_int_equal(run_sample(f, "IntervalData_2023-03-11_2023-03-13_spring_dst.csv"), 0);
    assert_int_equal(f->k->n_ch, 2);
    assert_string_equal(f->k->ch[0].key, CONS);
    assert_int_equal(f->k->ch[0].flow_direction, ESPI_FLOW_FORWARD);
    assert_string_equal(f->k->ch[1].key, SURP);
    assert_int_equal(f->k->ch[1].flow_direction, ESPI_FLOW_REVERSE);
    assert_int_equal(f->k->ch[1].uom, ESPI_UOM_WH);
    assert_int_equal(f->k->ch[1].interval_length, 900);
    expect_day(f, CONS, 3, 11, 96, 11576, 0);
    expect_day(f, SURP, 3, 11, 96, 37502, 0);
    expect_day(f, CONS, 3, 12, 92, 10834, 0);
    expect_day(f, SURP, 3, 12, 92, 38350, 0);
    expect_day(f, CONS, 3, 13, 96, 11222, 8);
    expect_day(f, SURP, 3, 13, 96, 38539, 8);
    assert_int_equal(f->k->n, 2 * (96 + 92 + 96));
    expect_contiguous(f);
    /* the four blank 02:xx rows per channel are dropped, not errors */
    assert_int_equal(f->sum.skipped[TR_SKIP_NONEXISTENT], 8);
    assert_int_equal(f->sum.skipped[TR_SKIP_BAD_ROW], 0);
    assert_int_equal(f->sum.ch[0].dst_days, 1);
    assert_int_equal(f->sum.ch[0].local_days, 3);
    assert_int_equal(f->sum.ch[0].gaps, 0);
    assert_int_equal(f->sum.ch[1].estimated, 8);
    assert_int_equal(f->sum.ch[0].total, 11576 + 10834 + 11222);
}

static void test_smt_fall_back_day_has_100_intervals(void **state)
{
    fixture *f = *state;
    assert_int_equal(run_sample(f, "IntervalData_2023-11-04_2023-11-06_fall_dst.csv"), 0);
    expect_day(f, CONS, 11, 4, 96, 10912, 2);
    expect_day(f, SURP, 11, 4, 96, 37949, 2);
    expect_day(f, CONS, 11, 5, 100, 11323, 0);
    expect_day(f, SURP, 11, 5, 100, 37856, 0);
    expect_day(f, CONS, 11, 6, 96, 10827, 0);
    expect_day(f, SURP, 11, 6, 96, 38238, 0);
    expect_contiguous(f);
    assert_int_equal(f->sum.ch[0].dst_days, 1);
    assert_int_equal(f->sum.skipped[TR_SKIP_NONEXISTENT], 0);
    /* the repeated hour: first 01:00 block is CDT (06:00Z), second CST (07:00Z) */
    int n0100 = 0;
    for (int i = 0; i < f->k->n; i++) {
        tr_tm tm;
        tr_tz_local(f->tz, f->k->r[i].start, &tm);
        if (f->k->r[i].channel == 0 && tm.mon == 11 && tm.mday == 5 && tm.hour == 1 &&
            tm.min == 0) {
            assert_int_equal(tm.isdst, n0100 == 0);
            n0100++;
        }
    }
    assert_int_equal(n0100, 2);
}

static void test_smt_daily_file_sums_and_dst_day_length(void **state)
{
    fixture *f = *state;
    assert_int_equal(run_sample(f, "DailyMeterUsage_2023-11-01_2023-11-30.csv"), 0);
    assert_int_equal(f->k->n_ch, 1);
    assert_string_equal(f->k->ch[0].key, "smt:10999990000012345:daily");
    assert_int_equal(f->k->n, 30);
    assert_int_equal(f->sum.ch[0].total, 641324);
    assert_int_equal(f->sum.skipped[TR_SKIP_WARNING], 0);
    expect_day(f, "smt:10999990000012345:daily", 11, 4, 1, 10912, 0);
    expect_day(f, "smt:10999990000012345:daily", 11, 5, 1, 11323, 0);
    expect_day(f, "smt:10999990000012345:daily", 11, 6, 1, 10827, 0);
    assert_int_equal(f->k->r[4].duration, 90000); /* 11/05 */
    assert_int_equal(f->k->r[3].duration, 86400);
    assert_int_equal(f->k->r[0].start, tr_days_from_civil(2023, 11, 1) * 86400 + 5 * 3600);
}

static void test_smt_bad_number_names_file_line_and_expectation(void **state)
{
    fixture *f = *state;
    char msg[600];
    assert_int_equal(run_file(f, "data/smt_bad_number.csv", "smt_bad_number.csv"), EG_EDATA);
    assert_string_equal(eg_err_format(&f->err, msg, sizeof msg),
                        "smt_bad_number.csv:3: USAGE_KWH \"1,2\" is not a decimal number "
                        "(expected e.g. 0.145)");
}

static void test_smt_lenient_skips_and_records_bad_rows(void **state)
{
    fixture *f = *state;
    f->opts.lenient = 1;
    assert_int_equal(run_file(f, "data/smt_bad_number.csv", "smt_bad_number.csv"), 0);
    assert_int_equal(f->k->n, 3);
    assert_int_equal(f->sum.skipped[TR_SKIP_BAD_ROW], 1);
    assert_int_equal(f->sum.n_kept, 1);
    assert_int_equal(f->sum.kept[0].line, 3);
    assert_string_equal(f->sum.kept[0].reason,
                        "USAGE_KWH \"1,2\" is not a decimal number (expected e.g. 0.145)");
    assert_int_equal(f->sum.ch[0].gaps, 1); /* the skipped interval */
    assert_int_equal(f->sum.ch[0].gap_seconds, 900);
    char buf[4096] = "";
    FILE *out = fmemopen(buf, sizeof buf, "w");
    tr_summary_print(&f->sum, out);
    fclose(out);
    assert_non_null(strstr(buf, "bad rows skipped: 1"));
    assert_non_null(strstr(buf, "line 3: USAGE_KWH"));
}

#define HDR "ESIID,USAGE_DATE,REVISION_DATE,USAGE_START_TIME,USAGE_END_TIME,USAGE_KWH," \
            "ESTIMATED_ACTUAL,CONSUMPTION_SURPLUSGENERATION\n"
#define ROW(t0, t1, v) "'10999990000012345,01/10/2024,01/11/2024 08:00:00," t0 "," t1 "," v ",A,Consumption\n"

static void test_smt_columns_found_by_name_not_position(void **state)
{
    fixture *f = *state;
    assert_int_equal(run_text(f, "CONSUMPTION_SURPLUSGENERATION,USAGE_KWH,ESIID,USAGE_START_TIME,"
                                 "USAGE_END_TIME,USAGE_DATE,ESTIMATED_ACTUAL,EXTRA\n"
                                 "Surplus Generation,.5,'10999990000012345,23:45, 00:00,01/10/2024,E,x\n"),
                     0);
    assert_int_equal(f->k->n, 1);
    assert_int_equal(f->k->r[0].value, 500);
    assert_int_equal(f->k->r[0].quality, ESPI_QUALITY_ESTIMATED_REFERENCE_DAY);
    assert_int_equal(f->k->r[0].start, tr_days_from_civil(2024, 1, 11) * 86400 + 6 * 3600 - 900);
    assert_int_equal(f->k->ch[0].flow_direction, ESPI_FLOW_REVERSE);
}

static void test_smt_missing_column_is_reported(void **state)
{
    fixture *f = *state;
    assert_int_equal(run_text(f, "ESIID,USAGE_DATE,USAGE_START_TIME,USAGE_END_TIME,USAGE_KWH,"
                                 "CONSUMPTION_SURPLUSGENERATION\n"),
                     EG_EDATA);
    assert_int_equal(f->err.line, 1);
    assert_non_null(strstr(f->err.msg, "no ESTIMATED_ACTUAL column"));
    assert_int_equal(run_text(f, ""), EG_EDATA);
    assert_non_null(strstr(f->err.msg, "empty file"));
}

static void test_smt_duplicate_row_is_refused(void **state)
{
    fixture *f = *state;
    assert_int_equal(run_text(f, HDR ROW("00:00", "00:15", ".1") ROW("00:15", "00:30", ".2")
                                     ROW("00:15", "00:30", ".2")),
                     EG_EDATA);
    assert_int_equal(f->err.line, 4);
    assert_non_null(strstr(f->err.msg, "comes before the previous row"));
}

static void test_smt_gap_in_rows_is_counted_not_hidden(void **state)
{
    fixture *f = *state;
    assert_int_equal(run_text(f, HDR ROW("00:00", "00:15", ".1") ROW("01:00", "01:15", ".2")), 0);
    assert_int_equal(f->k->n, 2);
    assert_int_equal(f->k->r[1].start - f->k->r[0].start, 3600);
    assert_int_equal(f->sum.ch[0].gaps, 1);
    assert_int_equal(f->sum.ch[0].gap_seconds, 2700);
}

static void test_smt_value_at_nonexistent_time_is_an_error(void **state)
{
    fixture *f = *state;
    assert_int_equal(run_text(f, HDR "'10999990000012345,03/12/2023,,02:15,02:30,.1,A,Consumption\n"),
                     EG_EDATA);
    assert_non_null(strstr(f->err.msg, "does not exist in America/Chicago"));
}

static void test_smt_fall_back_with_plain_labels(void **state)
{
    /* a tolerant labelling: the repeated hour labelled 01:00,01:15 (not 02:00,01:15) */
    fixture *f = *state;
    static const char text[] =
        HDR
        "'10999990000012345,11/05/2023,,01:45,02:00,.1,A,Consumption\n"
        "'10999990000012345,11/05/2023,,01:00,01:15,.2,A,Consumption\n"
        "'10999990000012345,11/05/2023,,01:15,01:30,.3,A,Consumption\n";
    assert_int_equal(run_text(f, text), 0);
    assert_int_equal(f->k->n, 2 + 1);
    assert_int_equal(f->k->r[0].start, tr_days_from_civil(2023, 11, 5) * 86400 + 6 * 3600 + 2700);
    assert_int_equal(f->k->r[1].start, f->k->r[0].start + 900);
    assert_int_equal(f->k->r[2].start, f->k->r[1].start + 900);
}

static void test_smt_bad_fields_each_have_a_message(void **state)
{
    fixture *f = *state;
    static const struct { const char *row, *expect; } cases[] = {
        {"X1,01/10/2024,,00:00,00:15,.1,A,Consumption\n", "ESIID \"X1\" is not an ESIID"},
        {"'10999990000012345,2024-01-10,,00:00,00:15,.1,A,Consumption\n",
         "USAGE_DATE \"2024-01-10\" is not a date (expected MM/DD/YYYY)"},
        {"'10999990000012345,02/30/2024,,00:00,00:15,.1,A,Consumption\n", "USAGE_DATE \"02/30/2024\""},
        {"'10999990000012345,01/10/2024,,0:0,00:15,.1,A,Consumption\n", "USAGE_START_TIME \"0:0\""},
        {"'10999990000012345,01/10/2024,,00:00,25:00,.1,A,Consumption\n", "USAGE_END_TIME \"25:00\""},
        {"'10999990000012345,01/10/2024,,00:00,00:15,.1,X,Consumption\n",
         "ESTIMATED_ACTUAL \"X\" is not a quality flag (expected A or E)"},
        {"'10999990000012345,01/10/2024,,00:00,00:15,-.1,A,Consumption\n", "USAGE_KWH \"-.1\" is negative"},
        {"'10999990000012345,01/10/2024,,00:00,00:15,.1,A,Export\n",
         "CONSUMPTION_SURPLUSGENERATION \"Export\" is not a known channel"},
        {"'10999990000012345,01/10/2024,,00:00,00:15\n", "row has 5 fields (expected 8"},
        {"'10999990000012345,01/10/2024,,00:00,00:15,,E,Consumption\n", "USAGE_KWH is empty but"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char text[512];
        snprintf(text, sizeof text, HDR "%s", cases[i].row);
        assert_int_equal(run_text(f, text), EG_EDATA);
        assert_int_equal(f->err.line, 2);
        if (!strstr(f->err.msg, cases[i].expect))
            fail_msg("case %zu: got \"%s\", expected \"%s\"", i, f->err.msg, cases[i].expect);
    }
}

#define DHDR "ESIID,USAGE_DATE,REVISION_DATE,START_READING,END_READING,USAGE_KWH\n"

static void test_smt_daily_register_mismatch_strict_and_lenient(void **state)
{
    fixture *f = *state;
    static const char text[] = DHDR
        "'10999990000012345,11/01/2023,,100.000,110.000,10\n"
        "'10999990000012345,11/02/2023,,110.000,120.500,10.4\n"
        "'10999990000012345,11/03/2023,,121.000,125.000,4\n";
    assert_int_equal(run_text(f, text), EG_EDATA);
    assert_int_equal(f->err.line, 3);
    assert_non_null(strstr(f->err.msg, "USAGE_KWH \"10.4\" differs from END_READING - START_READING "
                                       "= 120.500 - 110.000 = 10.500"));
    f->opts.lenient = 1;
    memset(f->k, 0, sizeof *f->k);
    tr_summary_init(&f->sum, f->tz, &f->inner, &f->sink);
    assert_int_equal(run_text(f, text), 0);
    assert_int_equal(f->k->n, 3);
    assert_int_equal(f->k->r[1].value, 10400);
    assert_int_equal(f->sum.skipped[TR_SKIP_WARNING], 2); /* mismatch + register jump */
}

static int stop_after_first(void *ctx, const tr_reading *r, eg_err *err)
{
    (void)ctx; (void)r; (void)err;
    return EG_ESTOP;
}

static void test_smt_sink_can_stop_the_translator(void **state)
{
    fixture *f = *state;
    tr_sink stop = f->inner;
    stop.reading = stop_after_first;
    FILE *in = fmemopen((void *)(HDR ROW("00:00", "00:15", ".1") ROW("00:15", "00:30", ".1")),
                        strlen(HDR) + 2 * strlen(ROW("00:00", "00:15", ".1")), "r");
    assert_int_equal(tr_smt_read(in, "x", &f->opts, &stop, &f->err), EG_ESTOP);
    fclose(in);
    f->opts.tz = NULL;
    assert_int_equal(tr_smt_read(stdin, "x", &f->opts, &f->sink, &f->err), EG_EUSAGE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_smt_spring_forward_day_has_92_intervals, setup, teardown),
        cmocka_unit_test_setup_teardown(test_smt_fall_back_day_has_100_intervals, setup, teardown),
        cmocka_unit_test_setup_teardown(test_smt_daily_file_sums_and_dst_day_length, setup, teardown),
        cmocka_unit_test_setup_teardown(test_smt_bad_number_names_file_line_and_expectation, setup, teardown),
        cmocka_unit_test_setup_teardown(test_smt_lenient_skips_and_records_bad_rows, setup, teardown),
        cmocka_unit_test_setup_teardown(test_smt_columns_found_by_name_not_position, setup, teardown),
        cmocka_unit_test_setup_teardown(test_smt_missing_column_is_reported, setup, teardown),
        cmocka_unit_test_setup_teardown(test_smt_duplicate_row_is_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_smt_gap_in_rows_is_counted_not_hidden, setup, teardown),
        cmocka_unit_test_setup_teardown(test_smt_value_at_nonexistent_time_is_an_error, setup, teardown),
        cmocka_unit_test_setup_teardown(test_smt_fall_back_with_plain_labels, setup, teardown),
        cmocka_unit_test_setup_teardown(test_smt_bad_fields_each_have_a_message, setup, teardown),
        cmocka_unit_test_setup_teardown(test_smt_daily_register_mismatch_strict_and_lenient, setup, teardown),
        cmocka_unit_test_setup_teardown(test_smt_sink_can_stop_the_translator, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
