/* test_smarthub_csv.c -- smarthub_csv.c on the shared Green Button CSV sample
 * (72 rows, 80.49 kWh, equal value by value to the hourly poll JSON) and on
 * files built here: unlabeled blocks in either order classified by sign and
 * by net = forward + export, a kW demand block, the older "Download Your
 * Data" rows with cost, DST days, gaps and bad rows.  The sample tests need
 * ESPIGATE_SHARED and are skipped with a message without it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "smarthub.h"

#define MAX_READINGS 512

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
    assert_true(r->channel < k->n_ch);
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
    collected *k, *json; /* json: the poll sample, for the comparison */
    tr_summary sum;
    tr_sink inner, sink;
    tr_options opts;
    eg_err err;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    eg_err err;
    if (!f) return -1;
    f->tz = tr_tz_load(TR_SMARTHUB_SAMPLE_ZONE, NULL, &err);
    f->k = calloc(1, sizeof *f->k);
    f->json = calloc(1, sizeof *f->json);
    if (!f->tz || !f->k || !f->json) return -1;
    f->inner = (tr_sink){f->k, on_channel, on_reading, on_skip, NULL};
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
    free(f->json);
    free(f);
    return 0;
}

static FILE *open_sample(const char *file)
{
    char path[1024];
    const char *shared = getenv("ESPIGATE_SHARED");
    if (!shared) {
        print_message("ESPIGATE_SHARED is not set: skipping the %s sample test\n", file);
        skip();
    }
    snprintf(path, sizeof path, "%s/sources/samples/smarthub/%s", shared, file);
    FILE *in = fopen(path, "rb");
    if (!in) fail_msg("cannot open %s", path);
    return in;
}

static int run_text(fixture *f, const char *text)
{
    memset(f->k, 0, sizeof *f->k);
    tr_summary_init(&f->sum, f->tz, &f->inner, &f->sink);
    FILE *in = fmemopen((void *)text, strlen(text), "r");
    assert_non_null(in);
    int rc = tr_smarthub_csv_read(in, "t.csv", &f->opts, &f->sink, &f->err);
    fclose(in);
    return rc;
}

static int64_t utc(int y, int mo, int d, int h, int mi)
{
    return tr_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60;
}

static int channel_of(const fixture *f, const char *key)
{
    for (int i = 0; i < f->k->n_ch; i++)
        if (strcmp(f->k->ch[i].key, key) == 0) return i;
    fail_msg("no channel %s", key);
    return -1;
}

static int64_t channel_total(const fixture *f, int ch, int *count)
{
    int64_t t = 0;
    *count = 0;
    for (int i = 0; i < f->k->n; i++)
        if (f->k->r[i].channel == ch) t += f->k->r[i].value, (*count)++;
    return t;
}

/* ---- the sample ------------------------------------------------------------------------ */

static void test_smarthub_csv_sample_has_72_rows_and_80_49_kwh(void **state)
{
    fixture *f = *state;
    FILE *in = open_sample("greenbutton_download_hourly.csv");
    assert_int_equal(tr_smarthub_csv_read(in, "gb.csv", &f->opts, &f->sink, &f->err), 0);
    fclose(in);
    assert_int_equal(f->k->n_ch, 1);
    assert_string_equal(f->k->ch[0].key, "smarthub-csv:7700123456:forward");
    assert_int_equal(f->k->ch[0].flow_direction, ESPI_FLOW_FORWARD);
    assert_int_equal(f->k->ch[0].interval_length, 3600);
    assert_int_equal(f->k->ch[0].currency, ESPI_NONE);
    assert_int_equal(f->k->n, 72);
    assert_int_equal(f->sum.ch[0].total, 80490);
    assert_int_equal(f->sum.ch[0].gaps, 0);
    assert_int_equal(f->k->r[0].start, utc(2024, 1, 8, 6, 0)); /* 00:00 CST */
    assert_int_equal(f->k->r[0].value, 770);
    assert_int_equal(f->k->r[0].line, 15);
    assert_int_equal(f->k->n_skips, 0);
}

static void test_smarthub_csv_sample_equals_the_hourly_poll_value_by_value(void **state)
{
    fixture *f = *state;
    tr_sink js = {f->json, on_channel, on_reading, on_skip, NULL};
    FILE *in = open_sample("poll_hourly_with_cost.json");
    assert_int_equal(tr_smarthub_read(in, "poll.json", &f->opts, &js, &f->err), 0);
    fclose(in);
    in = open_sample("greenbutton_download_hourly.csv");
    assert_int_equal(tr_smarthub_csv_read(in, "gb.csv", &f->opts, &f->sink, &f->err), 0);
    fclose(in);
    assert_int_equal(f->k->n, 72);
    assert_int_equal(f->json->n, f->k->n);
    for (int i = 0; i < f->k->n; i++) {
        assert_int_equal(f->k->r[i].start, f->json->r[i].start);
        assert_int_equal(f->k->r[i].duration, f->json->r[i].duration);
        assert_int_equal(f->k->r[i].value, f->json->r[i].value);
    }
}

/* ---- blocks ---------------------------------------------------------------------------- */

#define BANNER " ========================================\n"
#define KWH_BLOCK \
    BANNER " Meter Reading Information\n" \
    " Type of readings: Electricity, Energy Consumption, Real energy in kilowatt-hours \n" BANNER \
    " Energy consumption time period,Usage(Real energy in kilowatt-hours),Events occurred\n"
#define KW_BLOCK \
    BANNER " Type of readings: Electricity, Demand, Real energy in kilowatts \n" BANNER \
    " Energy consumption time period,Usage(Real energy in kilowatts),Events occurred\n"
#define ROWS(a, b, c) \
    " 2025-10-19 00:00 to 2025-10-19 01:00," a ",,\n" \
    " 2025-10-19 01:00 to 2025-10-19 02:00," b ",,\n" \
    " 2025-10-19 02:00 to 2025-10-19 03:00," c ",,\n \n"
#define HEAD "\n========================================\n Usage Information\n For: 4242\n"

static void expect_three_channels(const fixture *f)
{
    int n;
    int fwd = channel_of(f, "smarthub-csv:4242:forward");
    int rev = channel_of(f, "smarthub-csv:4242:reverse");
    int net = channel_of(f, "smarthub-csv:4242:net");
    assert_int_equal(f->k->ch[rev].flow_direction, ESPI_FLOW_REVERSE);
    assert_int_equal(f->k->ch[net].flow_direction, ESPI_FLOW_NET);
    assert_int_equal(channel_total(f, fwd, &n), 1000 + 200 + 0);
    assert_int_equal(n, 3);
    assert_int_equal(channel_total(f, rev, &n), 0 + 500 + 2500); /* absolute */
    assert_int_equal(channel_total(f, net, &n), 1000 - 300 - 2500);
    assert_int_equal(f->k->r[0].start, utc(2025, 10, 19, 5, 0)); /* 00:00 CDT */
}

static void test_smarthub_csv_blocks_classified_export_forward_net(void **state)
{
    fixture *f = *state;
    assert_int_equal(run_text(f, HEAD KWH_BLOCK ROWS("0.000", "-0.500", "-2.500")
                                     KWH_BLOCK ROWS("1.000", "0.200", "0.000")
                                     KWH_BLOCK ROWS("1.000", "-0.300", "-2.500")),
                     0);
    assert_int_equal(f->k->n_ch, 3);
    assert_string_equal(f->k->ch[0].key, "smarthub-csv:4242:reverse"); /* file order kept */
    expect_three_channels(f);
    assert_int_equal(f->k->n_skips, 0);
}

static void test_smarthub_csv_blocks_in_another_order_with_demand(void **state)
{
    fixture *f = *state;
    assert_int_equal(run_text(f, HEAD KWH_BLOCK ROWS("1.000", "0.200", "0.000")
                                     KWH_BLOCK ROWS("1.000", "-0.300", "-2.500")
                                     KWH_BLOCK ROWS("0.000", "-0.500", "-2.500")
                                     KW_BLOCK ROWS("3.100", "2.000", "1.500")),
                     0);
    assert_int_equal(f->k->n_ch, 4);
    expect_three_channels(f);
    int kw = channel_of(f, "smarthub-csv:4242:demand");
    assert_int_equal(f->k->ch[kw].uom, ESPI_UOM_W);
    assert_int_equal(f->k->ch[kw].kind, ESPI_KIND_DEMAND);
    int n;
    assert_int_equal(channel_total(f, kw, &n), 6600);
}

static void test_smarthub_csv_block_of_zeros_takes_the_free_direction(void **state)
{
    fixture *f = *state;
    /* export all zero: net equals forward; rule 1 still names three channels */
    assert_int_equal(run_text(f, HEAD KWH_BLOCK ROWS("0.000", "0.000", "0.000")
                                     KWH_BLOCK ROWS("1.000", "0.200", "0.000")
                                     KWH_BLOCK ROWS("1.000", "0.200", "0.000")),
                     0);
    assert_int_equal(f->k->n_ch, 3);
    int n;
    assert_int_equal(channel_total(f, channel_of(f, "smarthub-csv:4242:reverse"), &n), 0);
    assert_string_equal(f->k->ch[0].key, "smarthub-csv:4242:reverse");
    /* two blocks only, one of zeros: by sign, with a note */
    assert_int_equal(run_text(f, HEAD KWH_BLOCK ROWS("0.000", "0.000", "0.000")
                                     KWH_BLOCK ROWS("1.000", "0.200", "0.000")),
                     0);
    assert_string_equal(f->k->ch[0].key, "smarthub-csv:4242:reverse");
    assert_int_equal(f->sum.skipped[TR_SKIP_WARNING], 1);
    /* two forward-looking blocks that are not forward + export */
    assert_int_equal(run_text(f, HEAD KWH_BLOCK ROWS("1.000", "0.200", "0.000")
                                     KWH_BLOCK ROWS("2.000", "0.200", "0.000")),
                     EG_EDATA);
    assert_non_null(strstr(f->err.msg, "two blocks look forward"));
}

/* ---- the older export ------------------------------------------------------------------- */

static void test_smarthub_csv_download_your_data_rows_with_cost(void **state)
{
    fixture *f = *state;
    assert_int_equal(run_text(f, "Usage Management\nAccount,4242\n\n"
                                 "2024-01-08 00:00 to 2024-01-08 01:00,0.77,0.09\n"
                                 "2024-01-08 01:00 to 2024-01-08 02:00,,\n"
                                 "2024-01-08 02:00 to 2024-01-08 03:00,1.5,$0.1778\n"),
                     0);
    assert_int_equal(f->k->n, 3);
    assert_string_equal(f->k->ch[0].key, "smarthub-csv:account:forward");
    assert_int_equal(f->k->ch[0].currency, ESPI_CURRENCY_USD);
    assert_int_equal(f->k->r[1].value, 0); /* empty numbers mean 0 */
    assert_int_equal(f->k->r[1].cost, 0);
    assert_int_equal(f->sum.ch[0].total, 2270);
    assert_int_equal(f->sum.ch[0].cost_total, 9000 + 17780);
}

/* ---- time ------------------------------------------------------------------------------- */

static void test_smarthub_csv_fall_back_repeated_hour_by_order(void **state)
{
    fixture *f = *state;
    assert_int_equal(run_text(f, KWH_BLOCK
                              " 2024-11-03 00:00 to 2024-11-03 01:00,1.000,,\n"
                              " 2024-11-03 01:00 to 2024-11-03 02:00,2.000,,\n"
                              " 2024-11-03 01:00 to 2024-11-03 02:00,3.000,,\n"
                              " 2024-11-03 02:00 to 2024-11-03 03:00,4.000,,\n"),
                     0);
    assert_int_equal(f->k->n, 4);
    for (int i = 0; i < 4; i++) {
        assert_int_equal(f->k->r[i].start, utc(2024, 11, 3, 5 + i, 0));
        assert_int_equal(f->k->r[i].duration, 3600);
        assert_int_equal(f->k->r[i].value, 1000 * (i + 1));
    }
    assert_int_equal(f->sum.ch[0].gaps, 0);
}

static void test_smarthub_csv_spring_forward_rows(void **state)
{
    fixture *f = *state;
    assert_int_equal(run_text(f, KWH_BLOCK
                              " 2024-03-10 01:00 to 2024-03-10 03:00,1.000,,\n"
                              " 2024-03-10 02:00 to 2024-03-10 03:00,0.000,,\n"
                              " 2024-03-10 03:00 to 2024-03-10 04:00,2.000,,\n"),
                     0);
    assert_int_equal(f->k->n, 2);
    assert_int_equal(f->k->r[0].start, utc(2024, 3, 10, 7, 0));
    assert_int_equal(f->k->r[0].duration, 3600);
    assert_int_equal(f->k->r[1].start, utc(2024, 3, 10, 8, 0));
    assert_int_equal(f->sum.skipped[TR_SKIP_NONEXISTENT], 1);
    assert_int_equal(run_text(f, KWH_BLOCK " 2024-03-10 02:00 to 2024-03-10 03:00,0.500,,\n"),
                     EG_EDATA);
    assert_non_null(strstr(f->err.msg, "2024-03-10 02:00 does not exist in America/Chicago"));
    assert_int_equal(f->err.line, 6);
}

static void test_smarthub_csv_daily_rows_last_25_hours_on_fall_back(void **state)
{
    fixture *f = *state;
    assert_int_equal(run_text(f, KWH_BLOCK
                              " 2024-11-02 00:00 to 2024-11-03 00:00,20.000,,\n"
                              " 2024-11-03 00:00 to 2024-11-04 00:00,21.000,,\n"),
                     0);
    assert_int_equal(f->k->r[0].duration, 86400);
    assert_int_equal(f->k->r[1].duration, 90000);
    assert_int_equal(f->k->ch[0].measuring_period, ESPI_TIMEATTR_24_HOUR);
}

/* ---- bad input -------------------------------------------------------------------------- */

static void test_smarthub_csv_bad_rows_gaps_and_empty_files(void **state)
{
    fixture *f = *state;
    char msg[600];
    static const char text[] = KWH_BLOCK
        " 2024-01-08 00:00 to 2024-01-08 01:00,0.770,,\n"
        " 2024-01-08 01:00 to 2024-01-08 02:00,,,\n"
        " 2024-01-08 02:00 to 2024-01-08 03:00,1;5,,\n"
        " 2024-01-08 01:30 to 2024-01-08 02:30,0.5,,\n";
    assert_int_equal(run_text(f, text), EG_EDATA);
    assert_string_equal(eg_err_format(&f->err, msg, sizeof msg),
                        "t.csv:8: usage \"1;5\" is not a decimal number (expected kWh like 0.770)");
    f->opts.lenient = 1;
    assert_int_equal(run_text(f, text), 0);
    assert_int_equal(f->k->n, 1);
    assert_int_equal(f->sum.skipped[TR_SKIP_NO_VALUE], 1);
    assert_int_equal(f->sum.skipped[TR_SKIP_BAD_ROW], 2); /* 1;5 and the row going back */
    assert_int_equal(f->sum.kept[2].line, 9);
    assert_non_null(strstr(f->sum.kept[2].reason, "comes before the previous row's end"));
    f->opts.lenient = 0;
    assert_int_equal(run_text(f, BANNER " Usage Information\n"), EG_EDATA);
    assert_non_null(strstr(f->err.msg, "no usage rows"));
    assert_int_equal(run_text(f, BANNER " Type of readings: Electricity, Gas, therms\n"), EG_EDATA);
    assert_non_null(strstr(f->err.msg, "unknown type of readings"));
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_smarthub_csv_sample_has_72_rows_and_80_49_kwh),
        T(test_smarthub_csv_sample_equals_the_hourly_poll_value_by_value),
        T(test_smarthub_csv_blocks_classified_export_forward_net),
        T(test_smarthub_csv_blocks_in_another_order_with_demand),
        T(test_smarthub_csv_block_of_zeros_takes_the_free_direction),
        T(test_smarthub_csv_download_your_data_rows_with_cost),
        T(test_smarthub_csv_fall_back_repeated_hour_by_order),
        T(test_smarthub_csv_spring_forward_rows),
        T(test_smarthub_csv_daily_rows_last_25_hours_on_fall_back),
        T(test_smarthub_csv_bad_rows_gaps_and_empty_files),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
