/* test_opower.c -- opower.c on the shipped Opower samples (exact Wh and cost
 * totals, 23/25-reading DST days with the repeated hour resolved by order,
 * estimated rows, unique instants), the billing export at the sink (bills,
 * the -$25.02 credit, the billing-period channel), BOM/CRLF variants, the
 * column variants (USAGE (kWh), IMPORT/EXPORT with and without END TIME,
 * signed USAGE, daily gas in therms, offset timestamps), and bad input in
 * strict and lenient mode. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "opower.h"

#define ZONE "America/New_York"
#define MAX_READINGS 4096
#define MAX_BILLS 64
#define T(y, mo, d, h, mi) utc_of(f, y, mo, d, h, mi, 0)
#define T1(y, mo, d, h, mi) utc_of(f, y, mo, d, h, mi, 1)

typedef struct collected {
    tr_channel ch[TR_MAX_CHANNELS];
    int n_ch;
    tr_reading r[MAX_READINGS];
    int n;
    tr_skip skips[64];
    int n_skips;
    tr_bill bills[MAX_BILLS];
    int n_bills;
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
    assert_true(r->duration > 0);
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

static int on_bill(void *ctx, const tr_bill *b, eg_err *err)
{
    collected *k = ctx;
    (void)err;
    assert_true(k->n_bills < MAX_BILLS);
    assert_int_equal(b->n_items, 0);
    k->bills[k->n_bills++] = *b;
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
    if (!f) return -1;
    f->tz = tr_tz_load(ZONE, NULL, &err);
    f->k = calloc(1, sizeof *f->k);
    if (!f->tz || !f->k) return -1;
    f->inner = (tr_sink){f->k, on_channel, on_reading, on_skip, on_bill};
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

/* Forget what a previous run in the same test collected. */
static void reset(fixture *f)
{
    memset(f->k, 0, sizeof *f->k);
    memset(&f->err, 0, sizeof f->err);
    tr_summary_init(&f->sum, f->tz, &f->inner, &f->sink);
}

static int64_t utc_of(const fixture *f, int y, int mo, int d, int h, int mi, int fold)
{
    int64_t t = 0;
    assert_int_equal(tr_tz_local_to_utc(f->tz, y, mo, d, h, mi, 0, fold, &t, NULL), 0);
    return t;
}

static int run_file(fixture *f, const char *path, const char *name)
{
    FILE *in = fopen(path, "rb");
    if (!in) fail_msg("cannot open %s", path);
    int rc = tr_opower_read(in, name, &f->opts, &f->sink, &f->err);
    fclose(in);
    return rc;
}

/* Path of sample <file>: samples/opower/ of this checkout (relative to
 * tests/translate, the working directory), else the shared development
 * samples ($ESPIGATE_SHARED/sources/samples/opower/: the billing export
 * ships in samples/opower/ with its golden once the emitter writes bills);
 * skips the test when neither has it. */
static void sample_path(const char *file, char *path, size_t size)
{
    const char *shared = getenv("ESPIGATE_SHARED");
    FILE *probe;
    snprintf(path, size, "../../samples/opower/%s", file);
    if ((probe = fopen(path, "rb"))) {
        fclose(probe);
        return;
    }
    if (!shared) skip();
    snprintf(path, size, "%s/sources/samples/opower/%s", shared, file);
}

static int run_sample(fixture *f, const char *file)
{
    char path[1024];
    sample_path(file, path, sizeof path);
    return run_file(f, path, file);
}

static int run_bytes(fixture *f, const char *text, size_t len)
{
    FILE *in = fmemopen((void *)text, len, "r");
    assert_non_null(in);
    int rc = tr_opower_read(in, "t.csv", &f->opts, &f->sink, &f->err);
    fclose(in);
    return rc;
}

static int run_text(fixture *f, const char *text)
{
    return run_bytes(f, text, strlen(text));
}

/* A sample's bytes with the BOM dropped and/or LF turned into CRLF. */
static char *variant(const char *file, int keep_bom, int crlf, size_t *len)
{
    char path[1024];
    sample_path(file, path, sizeof path);
    FILE *in = fopen(path, "rb");
    assert_non_null(in);
    char *buf = calloc(1, 2 * 65536), *out = buf;
    int c, first = 1;
    assert_non_null(buf);
    while ((c = fgetc(in)) != EOF && out - buf < 2 * 65536 - 4) {
        if (first && !keep_bom && c == 0xEF) { /* skip EF BB BF */
            assert_int_equal(fgetc(in), 0xBB);
            assert_int_equal(fgetc(in), 0xBF);
            first = 0;
            continue;
        }
        first = 0;
        if (c == '\r' && !crlf) continue;
        if (c == '\n' && crlf && (out == buf || out[-1] != '\r')) *out++ = '\r';
        *out++ = (char)c;
    }
    fclose(in);
    *len = (size_t)(out - buf);
    return buf;
}

static const char PRE[] = "\xEF\xBB\xBFName,JANE Q MEMBER\n"
                          "Address,\"1 A RD, TOWN ST 00000\"\n"
                          "Account Number,555\n"
                          "Service,Service 1\n\n";

static char *with_preamble(const char *body)
{
    static char buf[8192]; /* tests run one at a time */
    snprintf(buf, sizeof buf, "%s%s", PRE, body);
    return buf;
}

/* Readings of channel ch on local day mo/d: count, value total, estimated. */
static void day_stats(const fixture *f, int ch, int y, int mo, int d, int *count, int64_t *total,
                      int *estimated)
{
    *count = *estimated = 0;
    *total = 0;
    for (int i = 0; i < f->k->n; i++) {
        const tr_reading *r = &f->k->r[i];
        int ry, rm, rd;
        if (r->channel != ch) continue;
        tr_tz_local_date(f->tz, r->start, &ry, &rm, &rd);
        if (ry != y || rm != mo || rd != d) continue;
        (*count)++;
        *total += r->value;
        if (r->quality == ESPI_QUALITY_ESTIMATED_REFERENCE_DAY) (*estimated)++;
    }
}

/* Totals of channel ch: readings, values, costs; contiguous and increasing. */
static void channel_totals(const fixture *f, int ch, int *count, int64_t *value, int64_t *cost,
                           int *gaps)
{
    int64_t prev_end = ESPI_NONE;
    *count = *gaps = 0;
    *value = *cost = 0;
    for (int i = 0; i < f->k->n; i++) {
        const tr_reading *r = &f->k->r[i];
        if (r->channel != ch) continue;
        if (prev_end != ESPI_NONE) {
            assert_true(r->start >= prev_end); /* never two readings at one instant */
            if (r->start != prev_end) (*gaps)++;
        }
        prev_end = r->start + r->duration;
        (*count)++;
        *value += r->value;
        if (r->cost != ESPI_NONE) *cost += r->cost;
    }
}

static const tr_reading *reading_at(const fixture *f, int ch, int64_t start)
{
    for (int i = 0; i < f->k->n; i++)
        if (f->k->r[i].channel == ch && f->k->r[i].start == start) return &f->k->r[i];
    fail_msg("no reading of channel %d at %lld", ch, (long long)start);
    return NULL;
}

static void expect_totals(const fixture *f, int ch, int count, int64_t value, int64_t cost)
{
    int n, gaps;
    int64_t v, c;
    channel_totals(f, ch, &n, &v, &c, &gaps);
    if (n != count || v != value || c != cost)
        fail_msg("channel %d: %d readings, %lld, cost %lld; expected %d, %lld, %lld", ch, n,
                 (long long)v, (long long)c, count, (long long)value, (long long)cost);
}

/* ---- the samples ------------------------------------------------------------------ */

static void test_opower_spring_sample_exact_totals_and_23_hour_day(void **state)
{
    fixture *f = *state;
    int n, e, gaps;
    int64_t t, c;
    assert_int_equal(run_sample(f, "electric_interval_2024-03-09_to_2024-03-11.csv"), 0);
    assert_int_equal(f->k->n_ch, 1);
    const tr_channel *ch = &f->k->ch[0];
    assert_string_equal(ch->key, "opower:9990001234:electric:forward");
    assert_string_equal(ch->usage_point, "opower:9990001234:electric");
    assert_int_equal(ch->flow_direction, ESPI_FLOW_FORWARD);
    assert_int_equal(ch->uom, ESPI_UOM_WH);
    assert_int_equal(ch->power_of_ten_multiplier, 0);
    assert_int_equal(ch->interval_length, 3600);
    assert_int_equal(ch->measuring_period, ESPI_TIMEATTR_60_MINUTE);
    assert_int_equal(ch->currency, ESPI_CURRENCY_USD);
    assert_int_equal(ch->service_kind, ESPI_SERVICE_ELECTRICITY);
    expect_totals(f, 0, 71, 65450, 932000); /* 71 rows, 65.45 kWh, $9.32 */
    channel_totals(f, 0, &n, &t, &c, &gaps);
    assert_int_equal(gaps, 0);
    day_stats(f, 0, 2024, 3, 10, &n, &t, &e);
    assert_int_equal(n, 23);
    day_stats(f, 0, 2024, 3, 9, &n, &t, &e);
    assert_int_equal(n, 24);
    /* 01:00 EST is followed directly by 03:00 EDT, one hour later */
    const tr_reading *one = reading_at(f, 0, T(2024, 3, 10, 1, 0));
    assert_int_equal(one->duration, 3600);
    assert_int_equal(one->start + 3600, T(2024, 3, 10, 3, 0));
    /* 2024-03-11 09:00-12:00 (four rows) estimated, nothing else */
    day_stats(f, 0, 2024, 3, 11, &n, &t, &e);
    assert_int_equal(e, 4);
    for (int h = 9; h <= 12; h++)
        assert_int_equal(reading_at(f, 0, T(2024, 3, 11, h, 0))->quality,
                         ESPI_QUALITY_ESTIMATED_REFERENCE_DAY);
    assert_int_equal(reading_at(f, 0, T(2024, 3, 11, 13, 0))->quality, ESPI_NONE);
    assert_int_equal(f->sum.ch[0].estimated, 4);
    assert_int_equal(f->sum.ch[0].dst_days, 1);
    assert_int_equal(f->k->n_skips, 0);
}

static void test_opower_fall_sample_25_readings_repeated_hour_by_order(void **state)
{
    fixture *f = *state;
    int n, e, gaps;
    int64_t t, c;
    assert_int_equal(run_sample(f, "electric_interval_2024-11-02_to_2024-11-04.csv"), 0);
    assert_int_equal(f->k->n_ch, 1);
    expect_totals(f, 0, 73, 66800, 957000); /* 73 rows, 66.80 kWh, $9.57 */
    channel_totals(f, 0, &n, &t, &c, &gaps); /* asserts unique, increasing instants */
    assert_int_equal(gaps, 0);
    day_stats(f, 0, 2024, 11, 3, &n, &t, &e);
    assert_int_equal(n, 25);
    /* the first 01:00,01:59 row (0.52 kWh) is EDT, the second (0.60) EST */
    const tr_reading *dst = reading_at(f, 0, T(2024, 11, 3, 1, 0));
    const tr_reading *std = reading_at(f, 0, T1(2024, 11, 3, 1, 0));
    assert_int_equal(std->start - dst->start, 3600);
    assert_int_equal(dst->value, 520);
    assert_int_equal(std->value, 600);
    assert_int_equal(dst->duration, 3600);
    assert_int_equal(std->duration, 3600);
    assert_int_equal(dst->line, 32);
    assert_int_equal(std->line, 33);
    assert_int_equal(f->sum.ch[0].dst_days, 1);
}

static void test_opower_billing_sample_bills_credit_and_period_channel(void **state)
{
    fixture *f = *state;
    int64_t wh = 0, cost = 0;
    assert_int_equal(run_sample(f, "electric_billing_2023-12_to_2024-12.csv"), 0);
    assert_int_equal(f->k->n_bills, 12);
    assert_int_equal(f->k->n_ch, 1);
    const tr_channel *ch = &f->k->ch[0];
    assert_string_equal(ch->key, "opower:9990001234:electric:billing");
    assert_int_equal(ch->accumulation, ESPI_ACCUM_DELTA_DATA);
    assert_int_equal(ch->kind, ESPI_KIND_ENERGY);
    assert_int_equal(ch->flow_direction, ESPI_FLOW_FORWARD);
    assert_int_equal(ch->currency, ESPI_CURRENCY_USD);
    assert_int_equal(f->k->n, 12);
    for (int i = 0; i < 12; i++) {
        const tr_bill *b = &f->k->bills[i];
        const tr_reading *r = &f->k->r[i];
        assert_string_equal(b->usage_point, "opower:9990001234:electric");
        assert_int_equal(b->currency, ESPI_CURRENCY_USD);
        assert_int_equal(b->statement_date, ESPI_NONE);
        assert_int_equal(b->peak_demand, ESPI_NONE);
        /* the reading is the bill's period and energy, with its cost */
        assert_int_equal(r->start, b->start);
        assert_int_equal(r->duration, b->duration);
        assert_int_equal(r->value, b->consumption);
        assert_int_equal(r->cost, b->bill_total);
        /* inclusive, non-overlapping: each period starts where the last ended */
        if (i) assert_int_equal(b->start, f->k->bills[i - 1].start + f->k->bills[i - 1].duration);
        wh += b->consumption;
        cost += b->bill_total;
    }
    assert_int_equal(wh, 8050660);     /* 8050.66 kWh */
    assert_int_equal(cost, 115285000); /* $1152.85 */
    assert_int_equal(f->sum.bills, 12);
    assert_int_equal(f->sum.bill_consumption, 8050660);
    assert_int_equal(f->sum.bill_total, 115285000);
    assert_int_equal(f->sum.ch[0].total, 8050660);
    const tr_bill *first = &f->k->bills[0], *credit = &f->k->bills[6], *spring = &f->k->bills[3];
    assert_string_equal(first->key, "opower:9990001234:electric:bill:2023-12-06");
    assert_int_equal(first->start, T(2023, 12, 6, 0, 0));
    assert_int_equal(first->duration, 31 * 86400); /* 12-06 .. 01-05 inclusive */
    assert_int_equal(first->consumption, 963990);
    assert_int_equal(first->bill_total, 15054000);
    assert_int_equal(first->line, 7);
    assert_string_equal(credit->key, "opower:9990001234:electric:bill:2024-06-13");
    assert_int_equal(credit->bill_total, -2502000); /* -$25.02 */
    assert_int_equal(credit->consumption, 366490);
    /* 2024-03-10 .. 2024-04-11: 33 local days, one of them 23 hours */
    assert_int_equal(spring->start, T(2024, 3, 10, 0, 0));
    assert_int_equal(spring->duration, 33 * 86400 - 3600);
    assert_int_equal(f->k->bills[11].start + f->k->bills[11].duration, T(2024, 12, 18, 0, 0));
}

static void test_opower_bom_and_line_endings_do_not_matter(void **state)
{
    fixture *f = *state;
    static const char *file = "electric_interval_2024-11-02_to_2024-11-04.csv";
    for (int v = 0; v < 4; v++) {
        size_t len;
        char *buf = variant(file, v & 1, v & 2, &len);
        reset(f);
        assert_int_equal(run_bytes(f, buf, len), 0);
        expect_totals(f, 0, 73, 66800, 957000);
        assert_int_equal(f->k->r[72].line, 79); /* line numbers survive CRLF */
        free(buf);
        buf = NULL;
    }
    /* the billing export is CRLF as shipped; LF gives the same bills */
    size_t len;
    char *buf = variant("electric_billing_2023-12_to_2024-12.csv", 0, 0, &len);
    assert_null(memchr(buf, '\r', len));
    reset(f);
    assert_int_equal(run_bytes(f, buf, len), 0);
    assert_int_equal(f->k->n_bills, 12);
    assert_int_equal(f->k->bills[6].bill_total, -2502000);
    free(buf);
}

/* ---- column variants ------------------------------------------------------------------ */

static void test_opower_usage_kwh_header_without_units_or_cost(void **state)
{
    fixture *f = *state;
    assert_int_equal(run_text(f, with_preamble("TYPE,DATE,START TIME,END TIME,USAGE (kWh),NOTES\n"
                                               "Electric usage,3/9/2024,0:00,0:59,0.45,\n"
                                               "Electric usage,3/9/2024,1:00,1:59,1.5,\n")),
                     0);
    assert_int_equal(f->k->n_ch, 1);
    assert_int_equal(f->k->ch[0].currency, ESPI_NONE);
    assert_string_equal(f->k->ch[0].key, "opower:555:electric:forward");
    assert_int_equal(f->k->r[0].start, T(2024, 3, 9, 0, 0));
    assert_int_equal(f->k->r[1].start, T(2024, 3, 9, 1, 0));
    assert_int_equal(f->k->r[0].cost, ESPI_NONE);
    expect_totals(f, 0, 2, 1950, 0);
}

static void test_opower_fifteen_minute_rows_and_money_forms(void **state)
{
    fixture *f = *state;
    assert_int_equal(run_text(f, with_preamble(
                                     "TYPE,DATE,START TIME,END TIME,USAGE,UNITS,COST,NOTES\n"
                                     "Electric usage,2024-01-02,00:00,00:14,0.10,kWh,\"$0.12 \",\n"
                                     "Electric usage,2024-01-02,00:15,00:29,0.20,kWh,-$4.66,\n"
                                     "Electric usage,2024-01-02,00:30,00:44,0.30,kWh,$1.00,\n")),
                     0);
    assert_int_equal(f->k->ch[0].interval_length, 900);
    assert_int_equal(f->k->ch[0].measuring_period, ESPI_TIMEATTR_15_MINUTE);
    assert_int_equal(f->k->r[0].cost, 12000);
    assert_int_equal(f->k->r[1].cost, -466000);
    assert_int_equal(f->k->r[2].start - f->k->r[1].start, 900);
    expect_totals(f, 0, 3, 600, 12000 - 466000 + 100000);
}

static void test_opower_import_export_two_channels(void **state)
{
    fixture *f = *state;
    assert_int_equal(run_text(f, with_preamble(
                                     "TYPE,DATE,START TIME,END TIME,IMPORT (kWh),EXPORT (kWh)\n"
                                     "Electric usage,2024-06-01,12:00,12:59,0.10,1.20\n"
                                     "Electric usage,2024-06-01,13:00,13:59,0.40,-0.30\n")),
                     0);
    assert_int_equal(f->k->n_ch, 2);
    assert_int_equal(f->k->ch[0].flow_direction, ESPI_FLOW_FORWARD);
    assert_int_equal(f->k->ch[1].flow_direction, ESPI_FLOW_REVERSE);
    assert_string_equal(f->k->ch[1].key, "opower:555:electric:reverse");
    expect_totals(f, 0, 2, 500, 0);
    expect_totals(f, 1, 2, 1500, 0); /* an export written negative counts by magnitude */
}

static void test_opower_without_end_time_duration_is_gap_to_next_row(void **state)
{
    fixture *f = *state;
    /* 15-minute rows, then a missing quarter (00:45): the gap stays a gap */
    assert_int_equal(run_text(f, with_preamble("TYPE,DATE,START TIME,IMPORT (kWh),EXPORT (kWh)\n"
                                               "Electric usage,2024-06-01,00:00,0.1,0.0\n"
                                               "Electric usage,2024-06-01,00:15,0.2,0.0\n"
                                               "Electric usage,2024-06-01,00:30,0.3,0.0\n"
                                               "Electric usage,2024-06-01,01:00,0.4,0.1\n")),
                     0);
    assert_int_equal(f->k->ch[0].interval_length, 900);
    int n, gaps;
    int64_t v, c;
    channel_totals(f, 0, &n, &v, &c, &gaps);
    assert_int_equal(n, 4);
    assert_int_equal(v, 1000);
    assert_int_equal(gaps, 1);
    for (int i = 0; i < f->k->n; i++) assert_int_equal(f->k->r[i].duration, 900);
    expect_totals(f, 1, 4, 100, 0);
}

static void test_opower_without_end_time_first_step_gap_is_not_the_length(void **state)
{
    fixture *f = *state;
    /* 15-minute rows; 00:15, 01:15-02:30 and 03:00-05:45 are missing */
    assert_int_equal(run_text(f, with_preamble("TYPE,DATE,START TIME,USAGE (kWh)\n"
                                               "Electric usage,2024-06-01,00:00,0.1\n"
                                               "Electric usage,2024-06-01,00:30,0.2\n"
                                               "Electric usage,2024-06-01,00:45,0.3\n"
                                               "Electric usage,2024-06-01,01:00,0.4\n"
                                               "Electric usage,2024-06-01,02:45,0.5\n"
                                               "Electric usage,2024-06-01,06:00,0.6\n")),
                     0);
    int n, gaps;
    int64_t v, c;
    channel_totals(f, 0, &n, &v, &c, &gaps); /* asserts no overlap */
    assert_int_equal(n, 6);
    assert_int_equal(v, 2100);
    assert_int_equal(gaps, 2);
    for (int i = 1; i < 6; i++) assert_int_equal(f->k->r[i].duration, 900);
    assert_true(f->k->r[0].duration <= 1800); /* not yet known: up to the next row */
}

static void test_opower_without_end_time_caps_at_an_hour_and_midnight(void **state)
{
    fixture *f = *state;
    assert_int_equal(run_text(f, with_preamble("TYPE,DATE,START TIME,USAGE (kWh)\n"
                                               "Electric usage,2024-06-01,18:45,0.1\n"
                                               "Electric usage,2024-06-01,22:45,0.2\n"
                                               "Electric usage,2024-06-01,23:45,0.3\n"
                                               "Electric usage,2024-06-02,00:45,0.4\n")),
                     0);
    assert_int_equal(f->k->r[0].duration, 3600); /* four hours to the next row: a gap */
    assert_int_equal(f->k->r[1].duration, 3600);
    assert_int_equal(f->k->r[2].duration, 900);  /* ends at local midnight */
    assert_int_equal(f->k->r[3].duration, 3600); /* the last row: the smallest step */
}

static void test_opower_without_end_time_fall_back_by_order(void **state)
{
    fixture *f = *state;
    assert_int_equal(run_text(f, with_preamble("TYPE,DATE,START TIME,IMPORT (kWh),EXPORT (kWh)\n"
                                               "Electric usage,2024-11-03,00:00,1,0\n"
                                               "Electric usage,2024-11-03,01:00,2,0\n"
                                               "Electric usage,2024-11-03,01:00,3,0\n"
                                               "Electric usage,2024-11-03,02:00,4,0\n")),
                     0);
    assert_int_equal(reading_at(f, 0, T(2024, 11, 3, 1, 0))->value, 2000);
    assert_int_equal(reading_at(f, 0, T1(2024, 11, 3, 1, 0))->value, 3000);
    assert_int_equal(reading_at(f, 0, T(2024, 11, 3, 2, 0))->duration, 3600);
    for (int i = 0; i < 4; i++) assert_int_equal(f->k->r[i].duration, 3600);
}

static void test_opower_single_row_without_end_time_is_refused(void **state)
{
    fixture *f = *state;
    assert_int_equal(run_text(f, with_preamble("TYPE,DATE,START TIME,USAGE (kWh)\n"
                                               "Electric usage,2024-06-01,00:00,0.1\n")),
                     EG_EDATA);
    assert_non_null(strstr(f->err.msg, "END TIME"));
}

static void test_opower_signed_usage_splits_into_forward_and_reverse(void **state)
{
    fixture *f = *state;
    assert_int_equal(run_text(f, with_preamble(
                                     "TYPE,DATE,START TIME,END TIME,USAGE,UNITS,COST,NOTES\n"
                                     "Electric usage,2024-06-01,10:00,10:59,0.50,kWh,$0.07,\n"
                                     "Electric usage,2024-06-01,11:00,11:59,-1.25,kWh,-$0.18,\n"
                                     "Electric usage,2024-06-01,12:00,12:59,0.25,kWh,$0.04,\n")),
                     0);
    assert_int_equal(f->k->n_ch, 2);
    assert_int_equal(f->k->ch[1].flow_direction, ESPI_FLOW_REVERSE);
    /* forward: 500, 0, 250; reverse from its first export row: 1250, 0 */
    expect_totals(f, 0, 3, 750, 7000 + 4000);
    expect_totals(f, 1, 2, 1250, -18000);
    assert_int_equal(reading_at(f, 0, T(2024, 6, 1, 11, 0))->value, 0);
    assert_int_equal(reading_at(f, 1, T(2024, 6, 1, 12, 0))->value, 0);
    /* forward - reverse = the source's net, exactly */
    assert_int_equal(f->sum.ch[0].total - f->sum.ch[1].total, 500 - 1250 + 250);
}

static void test_opower_gas_daily_therms_real_local_days(void **state)
{
    fixture *f = *state;
    assert_int_equal(run_text(f, with_preamble("TYPE,DATE,USAGE,UNITS,COST,NOTES\n"
                                               "Natural gas usage,2024-03-09,1.02,therms,$1.50,\n"
                                               "Natural gas usage,2024-03-10,0.987,therms,$1.40,\n"
                                               "Natural gas usage,2024-11-03,2.10,therms,$3.01,\n")),
                     0);
    const tr_channel *ch = &f->k->ch[0];
    assert_string_equal(ch->key, "opower:555:gas:daily");
    assert_int_equal(ch->service_kind, ESPI_SERVICE_GAS);
    assert_int_equal(ch->commodity, ESPI_COMMODITY_NATURAL_GAS);
    assert_int_equal(ch->uom, ESPI_UOM_THERM);
    assert_int_equal(ch->power_of_ten_multiplier, -3);
    assert_int_equal(ch->interval_length, 86400);
    assert_int_equal(ch->measuring_period, ESPI_TIMEATTR_24_HOUR);
    assert_int_equal(f->k->r[0].value, 1020); /* therms x 1000, exactly */
    assert_int_equal(f->k->r[1].value, 987);
    assert_int_equal(f->k->r[0].duration, 86400);
    assert_int_equal(f->k->r[1].duration, 82800);
    assert_int_equal(f->k->r[2].duration, 90000);
    assert_int_equal(f->k->r[1].start, T(2024, 3, 10, 0, 0));
    expect_totals(f, 0, 3, 4107, 591000);
}

static void test_opower_offset_timestamps_resolve_dst(void **state)
{
    fixture *f = *state;
    assert_int_equal(run_text(f, "Name,Address,Account Number,Service,Type,Date,Start Time,End Time,"
                                 "Usage,Units,Costs,Weather\n"
                                 "U,A,77,E,electric,2024-11-03,2024-11-03 01:00:00-04:00,"
                                 "2024-11-03 02:00:00-04:00,1.0,kWh,$0.12,45\n"
                                 "U,A,77,E,electric,2024-11-03,2024-11-03 01:00:00-05:00,"
                                 "2024-11-03 02:00:00-05:00,2.0,kWh,$0.24,45\n"
                                 "U,A,77,G,gas,2024-11-03,2024-11-03 01:00:00-05:00,"
                                 "2024-11-03 02:00:00-05:00,0.045,therms,$0.05,45\n"),
                     0);
    assert_int_equal(f->k->n_ch, 2);
    assert_string_equal(f->k->ch[0].key, "opower:77:electric:forward");
    assert_string_equal(f->k->ch[1].key, "opower:77:gas:forward");
    assert_int_equal(f->k->r[0].start, T(2024, 11, 3, 1, 0));
    assert_int_equal(f->k->r[1].start, T1(2024, 11, 3, 1, 0));
    assert_int_equal(f->k->r[0].duration, 3600);
    assert_int_equal(f->k->r[2].value, 45);
    /* the gas series' first row is the second 01:00: its offset says so, not its order */
    assert_int_equal(f->k->r[2].start, T1(2024, 11, 3, 1, 0));
    expect_totals(f, 0, 2, 3000, 36000);
}

/* ---- DST and order problems ------------------------------------------------------------ */

static void test_opower_spring_forward_row_with_usage_is_refused(void **state)
{
    fixture *f = *state;
    static const char head[] = "TYPE,DATE,START TIME,END TIME,USAGE,UNITS,COST,NOTES\n"
                               "Electric usage,2024-03-10,01:00,01:59,0.5,kWh,$0.07,\n"
                               "Electric usage,2024-03-10,02:00,02:59,",
                      tail[] = ",kWh,,\n"
                               "Electric usage,2024-03-10,03:00,03:59,0.5,kWh,$0.07,\n";
    char text[512];
    snprintf(text, sizeof text, "%s%s%s", head, "0.4", tail);
    assert_int_equal(run_text(f, with_preamble(text)), EG_EDATA);
    assert_non_null(strstr(f->err.msg, "does not exist"));
    assert_int_equal(f->err.line, 8);
    reset(f);
    snprintf(text, sizeof text, "%s%s%s", head, "", tail);
    assert_int_equal(run_text(f, with_preamble(text)), 0);
    assert_int_equal(f->k->n, 2);
    assert_int_equal(f->k->n_skips, 1);
    assert_int_equal(f->k->skips[0].kind, TR_SKIP_NONEXISTENT);
}

static void test_opower_third_repeated_hour_and_duplicates_are_refused(void **state)
{
    fixture *f = *state;
    assert_int_equal(run_text(f, with_preamble(
                                     "TYPE,DATE,START TIME,END TIME,USAGE,UNITS,COST,NOTES\n"
                                     "Electric usage,2024-11-03,01:00,01:59,0.5,kWh,,\n"
                                     "Electric usage,2024-11-03,01:00,01:59,0.5,kWh,,\n"
                                     "Electric usage,2024-11-03,01:00,01:59,0.5,kWh,,\n")),
                     EG_EDATA);
    assert_int_equal(f->err.line, 9);
    assert_non_null(strstr(f->err.msg, "comes before"));
    reset(f);
    assert_int_equal(run_text(f, with_preamble(
                                     "TYPE,DATE,START TIME,END TIME,USAGE,UNITS,COST,NOTES\n"
                                     "Electric usage,2024-06-01,05:00,05:59,0.5,kWh,,\n"
                                     "Electric usage,2024-06-01,05:00,05:59,0.5,kWh,,\n")),
                     EG_EDATA);
    assert_int_equal(f->err.line, 8);
}

static void test_opower_empty_usage_is_a_gap(void **state)
{
    fixture *f = *state;
    assert_int_equal(run_text(f, with_preamble(
                                     "TYPE,DATE,START TIME,END TIME,USAGE,UNITS,COST,NOTES\n"
                                     "Electric usage,2024-06-01,05:00,05:59,0.5,kWh,,\n"
                                     "Electric usage,2024-06-01,06:00,06:59,,kWh,,\n"
                                     "Electric usage,2024-06-01,07:00,07:59,0.5,kWh,,\n")),
                     0);
    int n, gaps;
    int64_t v, c;
    channel_totals(f, 0, &n, &v, &c, &gaps);
    assert_int_equal(n, 2);
    assert_int_equal(gaps, 1);
    assert_int_equal(f->k->skips[0].kind, TR_SKIP_NO_VALUE);
    assert_int_equal(f->k->skips[0].line, 8);
}

static void test_opower_billing_overlap_is_refused(void **state)
{
    fixture *f = *state;
    assert_int_equal(run_text(f, with_preamble("TYPE,START DATE,END DATE,USAGE,UNITS,COST,NOTES\r\n"
                                               "Electric billing,2024-01-01,2024-01-31,10,kWh,$2,\r\n"
                                               "Electric billing,2024-01-31,2024-02-28,10,kWh,$2,\r\n")),
                     EG_EDATA);
    assert_int_equal(f->err.line, 8);
    assert_non_null(strstr(f->err.msg, "overlaps"));
}

/* ---- bad input --------------------------------------------------------------------------- */

static void test_opower_bad_rows_strict_name_file_and_line(void **state)
{
    fixture *f = *state;
    static const struct {
        const char *row, *msg;
    } cases[] = {
        {"Electric usage,2024-06-01,05:00,05:59,1;2,kWh,,", "USAGE \"1;2\" is not a decimal"},
        {"Electric usage,2024-13-01,05:00,05:59,1,kWh,,", "DATE \"2024-13-01\""},
        {"Electric usage,2024-06-01,5h,05:59,1,kWh,,", "START TIME \"5h\""},
        {"Electric usage,2024-06-01,05:00,04:59,1,kWh,,", "END TIME \"04:59\""},
        {"Electric usage,2024-06-01,05:00,05:59,1,CCF,,", "UNITS \"CCF\""},
        {"Water usage,2024-06-01,05:00,05:59,1,kWh,,", "TYPE \"Water usage\""},
        {"Natural gas usage,2024-06-01,05:00,05:59,1,kWh,,", "does not go with unit kWh"},
        {"Electric usage,2024-06-01,05:00,05:59,1,kWh,4.6$,", "COST \"4.6$\""},
        {"Electric usage,2024-06-01", "row has 2 fields"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char text[512], expect[300];
        snprintf(text, sizeof text,
                 "TYPE,DATE,START TIME,END TIME,USAGE,UNITS,COST,NOTES\n"
                 "Electric usage,2024-06-01,04:00,04:59,1,kWh,,\n%s\n", cases[i].row);
        reset(f);
        assert_int_equal(run_text(f, with_preamble(text)), EG_EDATA);
        snprintf(expect, sizeof expect, "%s", cases[i].msg);
        if (!strstr(f->err.msg, expect) || f->err.line != 8)
            fail_msg("case %zu: line %ld: %s (expected line 8: %s)", i, f->err.line, f->err.msg,
                     expect);
        assert_string_equal(f->err.file, "t.csv");
    }
}

static void test_opower_lenient_skips_and_reports_bad_rows(void **state)
{
    fixture *f = *state;
    f->opts.lenient = 1;
    assert_int_equal(run_text(f, with_preamble(
                                     "TYPE,DATE,START TIME,END TIME,USAGE,UNITS,COST,NOTES\n"
                                     "Electric usage,2024-06-01,04:00,04:59,1,kWh,,\n"
                                     "Electric usage,2024-06-01,05:00,05:59,1;2,kWh,,\n"
                                     "Electric usage,2024-06-01,05:00,05:59,x,kWh,,\n"
                                     "Electric usage,2024-06-01,06:00,06:59,2,kWh,,\n")),
                     0);
    expect_totals(f, 0, 2, 3000, 0);
    assert_int_equal(f->k->n_skips, 2);
    assert_int_equal(f->k->skips[0].kind, TR_SKIP_BAD_ROW);
    assert_int_equal(f->k->skips[0].line, 8);
    assert_non_null(strstr(f->k->skips[0].reason, "USAGE \"1;2\""));
    assert_int_equal(f->k->skips[1].line, 9);
    assert_int_equal(f->sum.skipped[TR_SKIP_BAD_ROW], 2);
}

static void test_opower_header_problems(void **state)
{
    fixture *f = *state;
    assert_int_equal(run_text(f, "Name,X\nAccount Number,1\n\ndate,kwh\n2024-01-01,3\n"), EG_EDATA);
    assert_non_null(strstr(f->err.msg, "no TYPE,DATE header"));
    assert_int_equal(run_text(f, with_preamble("TYPE,DATE,START TIME,END TIME,USAGE,COST\n")),
                     EG_EDATA);
    assert_non_null(strstr(f->err.msg, "no UNITS column"));
    assert_int_equal(f->err.line, 6);
    assert_int_equal(run_text(f, with_preamble("TYPE,DATE,START TIME,USAGE (CCF)\n")), EG_EDATA);
    assert_non_null(strstr(f->err.msg, "unit other than kWh or therms"));
    assert_int_equal(run_text(f, with_preamble("TYPE,DATE,START TIME,IMPORT (kWh),"
                                               "EXPORT (therms)\n")),
                     EG_EDATA);
    assert_non_null(strstr(f->err.msg, "different units"));
    assert_int_equal(run_text(f, with_preamble("TYPE,DATE,START TIME,END TIME,UNITS\n")), EG_EDATA);
    assert_non_null(strstr(f->err.msg, "no USAGE column"));
    assert_int_equal(run_text(f, ""), EG_EDATA);
}

static void test_opower_needs_a_zone(void **state)
{
    fixture *f = *state;
    f->opts.tz = NULL;
    assert_int_equal(run_text(f, with_preamble("TYPE,DATE,USAGE,UNITS\n")), EG_EUSAGE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T_(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
        T_(test_opower_spring_sample_exact_totals_and_23_hour_day),
        T_(test_opower_fall_sample_25_readings_repeated_hour_by_order),
        T_(test_opower_billing_sample_bills_credit_and_period_channel),
        T_(test_opower_bom_and_line_endings_do_not_matter),
        T_(test_opower_usage_kwh_header_without_units_or_cost),
        T_(test_opower_fifteen_minute_rows_and_money_forms),
        T_(test_opower_import_export_two_channels),
        T_(test_opower_without_end_time_duration_is_gap_to_next_row),
        T_(test_opower_without_end_time_first_step_gap_is_not_the_length),
        T_(test_opower_without_end_time_caps_at_an_hour_and_midnight),
        T_(test_opower_without_end_time_fall_back_by_order),
        T_(test_opower_single_row_without_end_time_is_refused),
        T_(test_opower_signed_usage_splits_into_forward_and_reverse),
        T_(test_opower_gas_daily_therms_real_local_days),
        T_(test_opower_offset_timestamps_resolve_dst),
        T_(test_opower_spring_forward_row_with_usage_is_refused),
        T_(test_opower_third_repeated_hour_and_duplicates_are_refused),
        T_(test_opower_empty_usage_is_a_gap),
        T_(test_opower_billing_overlap_is_refused),
        T_(test_opower_bad_rows_strict_name_file_and_line),
        T_(test_opower_lenient_skips_and_reports_bad_rows),
        T_(test_opower_header_problems),
        T_(test_opower_needs_a_zone),
#undef T_
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
