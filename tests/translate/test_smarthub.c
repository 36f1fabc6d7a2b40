/* test_smarthub.c -- smarthub.c on the shared SmartHub poll samples (exact
 * Wh and cost totals, the 14:15 gap, meters joined by name, export as
 * absolute values) and on answers built here: DST days, statuses, HTML,
 * truncated JSON, duplicates, signs, rounding, qualities and limits.
 * The sample tests need ESPIGATE_SHARED; without it they are skipped with a
 * message, the built-in cases still run. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "smarthub.h"

#define MAX_READINGS 4096
#define MAX_SKIPS 256

typedef struct collected {
    tr_channel ch[TR_MAX_CHANNELS];
    int n_ch;
    tr_reading r[MAX_READINGS];
    int n;
    tr_skip skips[MAX_SKIPS];
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
    if (k->n_skips < MAX_SKIPS) k->skips[k->n_skips++] = *s;
    return 0;
}

typedef struct jbuf {
    char s[65536];
    size_t n;
} jbuf;

typedef struct fixture {
    jbuf b;              /* answers built by a test */
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
    f->tz = tr_tz_load(TR_SMARTHUB_SAMPLE_ZONE, NULL, &err);
    f->k = calloc(1, sizeof *f->k);
    if (!f->tz || !f->k) return -1;
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
    free(f);
    return 0;
}

/* Path of a shared sample, or skip the test when ESPIGATE_SHARED is unset. */
static void sample_path(const char *file, char *path, size_t size)
{
    const char *shared = getenv("ESPIGATE_SHARED");
    if (!shared) {
        print_message("ESPIGATE_SHARED is not set: skipping the %s sample test\n", file);
        skip();
    }
    snprintf(path, size, "%s/sources/samples/smarthub/%s", shared, file);
}

static int run_sample(fixture *f, const char *file)
{
    char path[1024];
    sample_path(file, path, sizeof path);
    FILE *in = fopen(path, "rb");
    if (!in) fail_msg("cannot open %s", path);
    int rc = tr_smarthub_read(in, file, &f->opts, &f->sink, &f->err);
    fclose(in);
    return rc;
}

/* Forget what earlier runs in the same test collected. */
static void reset(fixture *f)
{
    memset(f->k, 0, sizeof *f->k);
    tr_summary_init(&f->sum, f->tz, &f->inner, &f->sink);
}

static int run_text(fixture *f, const char *text)
{
    return tr_smarthub_read_mem(text, strlen(text), "t.json", &f->opts, &f->sink, &f->err);
}

static int64_t utc(int y, int mo, int d, int h, int mi)
{
    return tr_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60;
}

/* Wall-clock-as-UTC ms of a local time (what SmartHub writes as x). */
static long long wall_ms(int y, int mo, int d, int h, int mi)
{
    return (long long)utc(y, mo, d, h, mi) * 1000;
}

static int channel_of(const fixture *f, const char *key)
{
    for (int i = 0; i < f->k->n_ch; i++)
        if (strcmp(f->k->ch[i].key, key) == 0) return i;
    fail_msg("no channel %s", key);
    return -1;
}

static int count_skips(const fixture *f, tr_skip_kind kind, const char *needle)
{
    int n = 0;
    for (int i = 0; i < f->k->n_skips; i++)
        if (f->k->skips[i].kind == kind && (!needle || strstr(f->k->skips[i].reason, needle))) n++;
    return n;
}

/* Per channel: strictly increasing starts, never a shared instant. */
static void expect_ordered(const fixture *f)
{
    for (int c = 0; c < f->k->n_ch; c++) {
        int64_t prev = INT64_MIN;
        for (int i = 0; i < f->k->n; i++) {
            if (f->k->r[i].channel != c) continue;
            assert_true(f->k->r[i].start > prev);
            prev = f->k->r[i].start;
        }
    }
}

static void day_total(const fixture *f, int ch, int mo, int d, int *count, int64_t *wh)
{
    *count = 0;
    *wh = 0;
    for (int i = 0; i < f->k->n; i++) {
        int y, m, dd;
        if (f->k->r[i].channel != ch) continue;
        tr_tz_local_date(f->tz, f->k->r[i].start, &y, &m, &dd);
        if (m == mo && dd == d) (*count)++, *wh += f->k->r[i].value;
    }
}

/* ---- a small answer builder --------------------------------------------------- */

static void jadd(jbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void jadd(jbuf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int w = vsnprintf(b->s + b->n, sizeof b->s - b->n, fmt, ap);
    va_end(ap);
    assert_true(w >= 0 && (size_t)w < sizeof b->s - b->n);
    b->n += (size_t)w;
}

/* One COMPLETE answer with one USAGE entry: one meter (flow), one series
 * named "M1" with points "x:y" given as (ms, text) pairs; extra is spliced
 * into the entry (e.g. ",\"estimatedSeries\":{...}"). */
static void build_poll(jbuf *b, const char *flow, const long long *xs, const char *const *ys, int n,
                       const char *extra)
{
    b->n = 0;
    jadd(b, "{\"status\":\"COMPLETE\",\"data\":{\"ELECTRIC\":[{\"type\":\"USAGE\","
            "\"timeFrame\":\"HOURLY\",\"unitOfMeasure\":\"KWH\",\"meters\":[{\"meterNumber\":\"M1\","
            "\"seriesId\":\"M1\",\"channel\":1,\"flowDirection\":\"%s\",\"unitOfMeasure\":\"KWH\"}],"
            "\"series\":[{\"name\":\"M1\",\"meterNumber\":\"M1\",\"channel\":1,\"data\":[", flow);
    for (int i = 0; i < n; i++) jadd(b, "%s{\"x\":%lld,\"y\":%s}", i ? "," : "", xs[i], ys[i]);
    jadd(b, "]}]%s}]}}", extra ? extra : "");
}

/* Hourly points for local hours `hours` (0..23, repeats allowed) of y-mo-d, all "0.5". */
static void build_day(jbuf *b, int y, int mo, int d, const int *hours, int n)
{
    long long xs[32];
    const char *ys[32];
    for (int i = 0; i < n; i++) xs[i] = wall_ms(y, mo, d, hours[i], 0), ys[i] = "0.5";
    build_poll(b, "FORWARD", xs, ys, n, NULL);
}

/* ---- samples -------------------------------------------------------------------- */

static void test_smarthub_15min_sample_has_95_readings_and_one_gap(void **state)
{
    fixture *f = *state;
    assert_int_equal(run_sample(f, "poll_15min_with_cost.json"), 0);
    assert_int_equal(f->k->n_ch, 1);
    assert_string_equal(f->k->ch[0].key, "smarthub:1ND83100245:forward");
    assert_int_equal(f->k->ch[0].flow_direction, ESPI_FLOW_FORWARD);
    assert_int_equal(f->k->ch[0].interval_length, 900); /* timeFrame says HOURLY */
    assert_int_equal(f->k->ch[0].measuring_period, ESPI_TIMEATTR_15_MINUTE);
    assert_int_equal(f->k->ch[0].currency, ESPI_CURRENCY_USD);
    assert_int_equal(f->k->n, 95);
    assert_int_equal(f->sum.skipped[TR_SKIP_NO_VALUE], 1);
    assert_int_equal(f->k->n + f->sum.skipped[TR_SKIP_NO_VALUE], 96); /* points */
    assert_int_equal(f->sum.ch[0].total, 28710);
    assert_int_equal(f->sum.ch[0].cost_total, 340070);
    assert_int_equal(f->sum.ch[0].rounded, 0);
    /* 00:00 CDT = 05:00Z; the gap is 14:15-14:30 CDT = 19:15Z */
    assert_int_equal(f->k->r[0].start, utc(2024, 7, 15, 5, 0));
    assert_int_equal(f->k->r[0].duration, 900);
    assert_int_equal(f->sum.ch[0].gaps, 1);
    assert_int_equal(f->sum.ch[0].gap_seconds, 900);
    for (int i = 0; i < f->k->n; i++) assert_true(f->k->r[i].start != utc(2024, 7, 15, 19, 15));
    assert_int_equal(count_skips(f, TR_SKIP_NO_VALUE, "2024-07-15 14:15"), 1);
    assert_int_equal(f->sum.ch[0].last_end, utc(2024, 7, 16, 5, 0));
    expect_ordered(f);
}

static void test_smarthub_hourly_sample_totals_per_local_day(void **state)
{
    fixture *f = *state;
    int n;
    int64_t wh;
    assert_int_equal(run_sample(f, "poll_hourly_with_cost.json"), 0);
    assert_int_equal(f->k->n, 72);
    assert_int_equal(f->sum.ch[0].total, 80490);
    assert_int_equal(f->sum.ch[0].cost_total, 953780);
    assert_int_equal(f->k->ch[0].interval_length, 3600);
    assert_int_equal(f->k->r[0].start, utc(2024, 1, 8, 6, 0)); /* 00:00 CST */
    day_total(f, 0, 1, 8, &n, &wh);
    assert_int_equal(n, 24);
    assert_int_equal(wh, 28010);
    day_total(f, 0, 1, 9, &n, &wh);
    assert_int_equal(wh, 26420);
    day_total(f, 0, 1, 10, &n, &wh);
    assert_int_equal(n, 24);
    assert_int_equal(wh, 26060);
    assert_int_equal(f->sum.ch[0].gaps, 0);
    assert_int_equal(f->k->n_skips, 0);
}

static void test_smarthub_multi_meter_joins_by_name_and_exports_absolute(void **state)
{
    fixture *f = *state;
    assert_int_equal(run_sample(f, "poll_multi_meter.json"), 0);
    assert_int_equal(f->k->n_ch, 3);
    int house = channel_of(f, "smarthub:1ND83100245:forward");
    int shop = channel_of(f, "smarthub:1ND87654321:forward");
    int gen = channel_of(f, "smarthub:1ND87654321:reverse");
    assert_int_equal(f->sum.ch[house].total, 30790);
    assert_int_equal(f->sum.ch[house].cost_total, 364840);
    assert_int_equal(f->sum.ch[shop].total, 6370);
    assert_int_equal(f->sum.ch[shop].cost_total, 75500);
    assert_int_equal(f->sum.ch[gen].total, 50970);
    assert_int_equal(f->k->ch[gen].flow_direction, ESPI_FLOW_REVERSE);
    assert_int_equal(f->k->ch[gen].currency, ESPI_NONE);
    assert_string_equal(f->k->ch[gen].usage_point, "smarthub:1ND87654321");
    for (int i = 0; i < f->k->n; i++) {
        assert_true(f->k->r[i].value >= 0);
        if (f->k->r[i].channel == gen) assert_int_equal(f->k->r[i].cost, ESPI_NONE);
    }
    assert_int_equal(f->sum.ch[gen].readings, 24);
    assert_int_equal(f->sum.skipped[TR_SKIP_WARNING], 0); /* REVERSE with negative y is normal */
    expect_ordered(f);
}

static void test_smarthub_pending_answer_is_an_error(void **state)
{
    fixture *f = *state;
    assert_int_equal(run_sample(f, "poll_pending.json"), EG_EDATA);
    assert_non_null(strstr(f->err.msg, "PENDING"));
    assert_non_null(strstr(f->err.msg, "re-POST"));
    assert_int_equal(f->k->n_ch, 0);
}

static void test_smarthub_truncated_json_reports_line_and_column(void **state)
{
    fixture *f = *state;
    char path[1024], msg[700];
    static char buf[8192];
    sample_path("poll_hourly_with_cost.json", path, sizeof path);
    FILE *in = fopen(path, "rb");
    assert_non_null(in);
    size_t n = fread(buf, 1, 2000, in);
    fclose(in);
    assert_int_equal(n, 2000);
    long lines = 1;
    for (size_t i = 0; i < n; i++) lines += buf[i] == '\n';
    assert_int_equal(tr_smarthub_read_mem(buf, n, "cut.json", &f->opts, &f->sink, &f->err), EG_EDATA);
    assert_int_equal(f->err.line, lines); /* where the text stops */
    assert_true(f->err.col > 0);
    eg_err_format(&f->err, msg, sizeof msg);
    char head[64];
    snprintf(head, sizeof head, "cut.json:%ld:%ld: not valid JSON", f->err.line, f->err.col);
    assert_memory_equal(msg, head, strlen(head));
    assert_int_equal(f->k->n, 0);
}

/* ---- statuses and shapes ----------------------------------------------------------- */

static void test_smarthub_failed_error_html_and_gwt_are_named(void **state)
{
    fixture *f = *state;
    assert_int_equal(run_text(f, "{\"status\":\"FAILED\"}"), EG_EDATA);
    assert_non_null(strstr(f->err.msg, "poll status is FAILED"));
    assert_int_equal(run_text(f, "{\"status\":\"ERROR\",\"data\":{}}"), EG_EDATA);
    assert_non_null(strstr(f->err.msg, "poll status is ERROR"));
    assert_int_equal(run_text(f, "\n  <!DOCTYPE html><html><body>Sign in</body></html>"), EG_EDATA);
    assert_non_null(strstr(f->err.msg, "HTML page"));
    assert_int_equal(run_text(f, "//OK[1,2,3]"), EG_EDATA);
    assert_non_null(strstr(f->err.msg, "GWT"));
    assert_int_equal(run_text(f, "  \n"), EG_EDATA);
    assert_non_null(strstr(f->err.msg, "empty input"));
    assert_int_equal(run_text(f, "[1,2]"), EG_EDATA);
    assert_non_null(strstr(f->err.msg, "JSON array"));
    assert_int_equal(run_text(f, "{\"status\":\"COMPLETE\",\"data\":{\"ELECTRIC\":[]}}"), EG_EDATA);
    assert_non_null(strstr(f->err.msg, "no USAGE series"));
    assert_int_equal(run_text(f, "{\"status\":\"COMPLETE\",\"data\":{\"WATER\":[]}}"), EG_EDATA);
    assert_non_null(strstr(f->err.msg, "no ELECTRIC list"));
}

static void test_smarthub_bare_data_object_is_accepted(void **state)
{
    fixture *f = *state;
    jbuf *b = &f->b;
    long long xs[2] = {wall_ms(2024, 1, 8, 0, 0), wall_ms(2024, 1, 8, 1, 0)};
    const char *ys[2] = {"1.25", "0.5"};
    build_poll(b, "FORWARD", xs, ys, 2, NULL);
    const char *bare = strstr(b->s, "{\"ELECTRIC\"");
    assert_non_null(bare);
    b->s[b->n - 1] = 0; /* drop the wrapper's closing brace */
    assert_int_equal(run_text(f, bare), 0);
    assert_int_equal(f->k->n, 2);
    assert_int_equal(f->k->r[0].value, 1250);
    assert_int_equal(f->k->r[0].start, utc(2024, 1, 8, 6, 0));
    assert_int_equal(f->k->r[0].cost, ESPI_NONE);
    assert_int_equal(f->k->ch[0].currency, ESPI_NONE);
}

static void test_smarthub_time_of_use_and_unknown_types_are_noted(void **state)
{
    fixture *f = *state;
    static const char text[] =
        "{\"ELECTRIC\":[{\"type\":\"TIME_OF_USE\",\"series\":[]},{\"type\":\"DEMAND\"},"
        "{\"type\":\"USAGE\",\"timeFrame\":\"HOURLY\",\"meters\":[],\"series\":[{\"name\":\"S\","
        "\"data\":[{\"x\":1704672000000,\"y\":2}]}],\"baseSeries\":[{\"name\":\"S\",\"data\":"
        "[{\"x\":1704672000000,\"y\":2}]}]}],\"GAS\":[]}";
    assert_int_equal(run_text(f, text), 0);
    assert_int_equal(f->k->n, 1); /* baseSeries not added */
    assert_int_equal(f->k->r[0].value, 2000);
    assert_int_equal(f->k->r[0].duration, 3600); /* from timeFrame */
    assert_string_equal(f->k->ch[0].key, "smarthub:S:forward");
    assert_int_equal(count_skips(f, TR_SKIP_WARNING, "TIME_OF_USE ignored"), 1);
    assert_int_equal(count_skips(f, TR_SKIP_WARNING, "DEMAND ignored (unknown type)"), 1);
    assert_int_equal(count_skips(f, TR_SKIP_WARNING, "industry GAS ignored"), 1);
    assert_int_equal(count_skips(f, TR_SKIP_WARNING, "matches no meters"), 1);
}

/* ---- DST ------------------------------------------------------------------------------ */

static void test_smarthub_fall_back_day_has_25_readings(void **state)
{
    fixture *f = *state;
    jbuf *b = &f->b;
    int hours[25] = {0, 1, 1};
    for (int i = 3; i < 25; i++) hours[i] = i - 1;
    build_day(b, 2024, 11, 3, hours, 25);
    assert_int_equal(run_text(f, b->s), 0);
    assert_int_equal(f->k->n, 25);
    expect_ordered(f);
    for (int i = 1; i < 25; i++) assert_int_equal(f->k->r[i].start, f->k->r[i - 1].start + 3600);
    assert_int_equal(f->k->r[0].start, utc(2024, 11, 3, 5, 0)); /* 00:00 CDT */
    assert_int_equal(f->k->r[1].start, utc(2024, 11, 3, 6, 0)); /* 01:00 CDT */
    assert_int_equal(f->k->r[2].start, utc(2024, 11, 3, 7, 0)); /* 01:00 CST */
    assert_int_equal(f->k->r[24].start, utc(2024, 11, 4, 5, 0)); /* 23:00 CST */
    assert_int_equal(f->sum.ch[0].dst_days, 1);
    assert_int_equal(f->sum.ch[0].gaps, 0);
    assert_int_equal(count_skips(f, TR_SKIP_WARNING, "occurs twice"), 1);
}

static void test_smarthub_fall_back_15min_points_interleave_correctly(void **state)
{
    /* 01:00,01:00,01:15,01:15: sorted by x the folds interleave; by UTC they must not */
    fixture *f = *state;
    jbuf *b = &f->b;
    long long xs[8];
    const char *ys[8] = {"1", "2", "3", "4", "5", "6", "7", "8"};
    for (int i = 0; i < 8; i++) xs[i] = wall_ms(2024, 11, 3, 1, (i % 4) * 15);
    build_poll(b, "FORWARD", xs, ys, 8, NULL);
    assert_int_equal(run_text(f, b->s), 0);
    assert_int_equal(f->k->n, 8);
    expect_ordered(f);
    assert_int_equal(f->k->r[0].start, utc(2024, 11, 3, 6, 0));
    assert_int_equal(f->k->r[0].value, 1000);
    assert_int_equal(f->k->r[3].value, 4000);
    assert_int_equal(f->k->r[4].start, utc(2024, 11, 3, 7, 0));
    assert_int_equal(f->k->r[4].value, 5000); /* the second 01:00 in source order */
    assert_int_equal(f->k->r[0].duration, 900);
}

static void test_smarthub_spring_forward_day_has_23_readings(void **state)
{
    fixture *f = *state;
    jbuf *b = &f->b;
    int hours[24], n = 0;
    for (int h = 0; h < 24; h++)
        if (h != 2) hours[n++] = h;
    build_day(b, 2024, 3, 10, hours, n);
    assert_int_equal(run_text(f, b->s), 0);
    assert_int_equal(f->k->n, 23);
    assert_int_equal(f->sum.ch[0].gaps, 0); /* 01:00 CST ends at 03:00 CDT */
    assert_int_equal(f->sum.ch[0].dst_days, 1);
}

static void test_smarthub_spring_forward_point_that_does_not_exist_is_dropped(void **state)
{
    fixture *f = *state;
    jbuf *b = &f->b;
    int hours[24];
    for (int h = 0; h < 24; h++) hours[h] = h;
    build_day(b, 2024, 3, 10, hours, 24);
    assert_int_equal(run_text(f, b->s), 0);
    assert_int_equal(f->k->n, 23);
    expect_ordered(f);
    assert_int_equal(f->sum.skipped[TR_SKIP_NONEXISTENT], 1);
    assert_int_equal(count_skips(f, TR_SKIP_NONEXISTENT,
                                 "2024-03-10 02:00 does not exist in America/Chicago"), 1);
}

static void test_smarthub_daily_points_last_23_or_25_hours(void **state)
{
    fixture *f = *state;
    static const char text[] =
        "{\"ELECTRIC\":[{\"type\":\"USAGE\",\"timeFrame\":\"DAILY\",\"meters\":[{\"meterNumber\":"
        "\"M\",\"seriesId\":\"M\",\"flowDirection\":\"FORWARD\"}],\"series\":[{\"name\":\"M\","
        "\"data\":[{\"x\":1730505600000,\"y\":10},{\"x\":1730592000000,\"y\":11}]}]}]}";
    /* x = 2024-11-02 and 2024-11-03 (fall back): a day long, the second 25 hours */
    assert_int_equal(run_text(f, text), 0);
    assert_int_equal(f->k->n, 2);
    assert_int_equal(f->k->r[0].duration, 86400);
    assert_int_equal(f->k->r[1].duration, 90000);
    assert_int_equal(f->k->ch[0].measuring_period, ESPI_TIMEATTR_24_HOUR);
}

/* ---- values, signs, duplicates --------------------------------------------------------- */

static void test_smarthub_values_exact_or_rounded_and_flagged(void **state)
{
    fixture *f = *state;
    jbuf *b = &f->b;
    long long xs[5];
    const char *ys[5] = {"57.029999999999994", "0.1", "2", "\"0.145\"", "1e-3"};
    for (int i = 0; i < 5; i++) xs[i] = wall_ms(2024, 1, 8, i, 0);
    build_poll(b, "FORWARD", xs, ys, 5, NULL);
    assert_int_equal(run_text(f, b->s), 0);
    assert_int_equal(f->k->n, 5);
    assert_int_equal(f->k->r[0].value, 57030);
    assert_int_equal(f->k->r[0].flags, TR_READING_ROUNDED);
    assert_int_equal(f->k->r[1].value, 100);
    assert_int_equal(f->k->r[1].flags, 0);
    assert_int_equal(f->k->r[2].value, 2000);
    assert_int_equal(f->k->r[3].value, 145);
    assert_int_equal(f->k->r[4].value, 1);
    assert_int_equal(f->k->r[4].flags, 0);
}

static void test_smarthub_bad_y_is_an_error_or_a_skip(void **state)
{
    fixture *f = *state;
    jbuf *b = &f->b;
    long long xs[2] = {wall_ms(2024, 1, 8, 0, 0), wall_ms(2024, 1, 8, 1, 0)};
    const char *ys[2] = {"true", "\"1,5\""};
    build_poll(b, "FORWARD", xs, ys, 2, NULL);
    assert_int_equal(run_text(f, b->s), EG_EDATA);
    assert_non_null(strstr(f->err.msg, "series \"M1\" at 2024-01-08 00:00: y a boolean is not a "
                                       "number"));
    f->opts.lenient = 1;
    assert_int_equal(run_text(f, b->s), 0);
    assert_int_equal(f->k->n, 0);
    assert_int_equal(f->sum.skipped[TR_SKIP_BAD_ROW], 2);
    assert_int_equal(count_skips(f, TR_SKIP_BAD_ROW, "y \"1,5\" is not a decimal number"), 1);
}

static void test_smarthub_forward_series_with_both_signs_is_net(void **state)
{
    fixture *f = *state;
    jbuf *b = &f->b;
    long long xs[3];
    const char *ys[3] = {"1.5", "-2.25", "0"};
    for (int i = 0; i < 3; i++) xs[i] = wall_ms(2024, 6, 1, i, 0);
    build_poll(b, "FORWARD", xs, ys, 3, NULL);
    assert_int_equal(run_text(f, b->s), 0);
    assert_string_equal(f->k->ch[0].key, "smarthub:M1:net");
    assert_int_equal(f->k->ch[0].flow_direction, ESPI_FLOW_NET);
    assert_int_equal(f->k->r[1].value, -2250);
    assert_int_equal(count_skips(f, TR_SKIP_WARNING, "read as NET"), 1);
}

static void test_smarthub_forward_series_all_negative_is_export(void **state)
{
    fixture *f = *state;
    jbuf *b = &f->b;
    long long xs[2] = {wall_ms(2024, 6, 1, 0, 0), wall_ms(2024, 6, 1, 1, 0)};
    const char *ys[2] = {"-1.5", "0"};
    build_poll(b, "FORWARD", xs, ys, 2, NULL);
    assert_int_equal(run_text(f, b->s), 0);
    assert_int_equal(f->k->ch[0].flow_direction, ESPI_FLOW_REVERSE);
    assert_int_equal(f->k->r[0].value, 1500);
    build_poll(b, "REVERSE", xs, (const char *const[]){"-1", "2"}, 2, NULL);
    assert_int_equal(run_text(f, b->s), EG_EDATA);
    assert_non_null(strstr(f->err.msg, "positive and negative values"));
}

static void test_smarthub_duplicate_points_dropped_or_refused(void **state)
{
    fixture *f = *state;
    jbuf *b = &f->b;
    long long x0 = wall_ms(2024, 1, 8, 0, 0), x1 = wall_ms(2024, 1, 8, 1, 0);
    build_poll(b, "FORWARD", (const long long[]){x1, x0, x1}, (const char *const[]){"1", "2", "1"},
               3, NULL);
    assert_int_equal(run_text(f, b->s), 0);
    assert_int_equal(f->k->n, 2); /* sorted, identical repeat dropped */
    assert_int_equal(f->k->r[0].value, 2000);
    assert_int_equal(count_skips(f, TR_SKIP_WARNING, "duplicate dropped"), 1);
    reset(f);
    build_poll(b, "FORWARD", (const long long[]){x0, x0}, (const char *const[]){"null", "3"}, 2,
               NULL);
    assert_int_equal(run_text(f, b->s), 0); /* the value replaces the null: no gap */
    assert_int_equal(f->k->n, 1);
    assert_int_equal(f->k->r[0].value, 3000);
    assert_int_equal(f->sum.skipped[TR_SKIP_NO_VALUE], 0);
    build_poll(b, "FORWARD", (const long long[]){x0, x0}, (const char *const[]){"1", "3"}, 2, NULL);
    assert_int_equal(run_text(f, b->s), EG_EDATA);
    assert_non_null(strstr(f->err.msg, "two different values at 2024-01-08 00:00"));
}

static void test_smarthub_interval_from_ordered_interval_map(void **state)
{
    fixture *f = *state;
    jbuf *b = &f->b;
    long long x0 = wall_ms(2024, 1, 8, 0, 0);
    char extra[256];
    snprintf(extra, sizeof extra, ",\"xToOrderedInterval\":{\"%lld\":{\"interval\":{\"start\":%lld,"
             "\"end\":%lld}}}", x0, x0, x0 + 1800000);
    build_poll(b, "FORWARD", &x0, (const char *const[]){"1"}, 1, extra);
    assert_int_equal(run_text(f, b->s), 0);
    assert_int_equal(f->k->r[0].duration, 1800);
    assert_int_equal(f->k->ch[0].interval_length, 1800);
}

static void test_smarthub_estimated_and_edited_series_set_quality(void **state)
{
    fixture *f = *state;
    jbuf *b = &f->b;
    long long xs[3];
    char extra[512];
    for (int i = 0; i < 3; i++) xs[i] = wall_ms(2024, 1, 8, i, 0);
    snprintf(extra, sizeof extra, ",\"estimatedSeries\":{\"M1\":[{\"x\":%lld,\"y\":1}]},"
             "\"editedSeries\":[{\"name\":\"M1\",\"data\":[{\"x\":%lld,\"y\":1}]}]", xs[1], xs[2]);
    build_poll(b, "FORWARD", xs, (const char *const[]){"1", "1", "1"}, 3, extra);
    assert_int_equal(run_text(f, b->s), 0);
    assert_int_equal(f->k->r[0].quality, ESPI_NONE);
    assert_int_equal(f->k->r[1].quality, ESPI_QUALITY_ESTIMATED_REFERENCE_DAY);
    assert_int_equal(f->k->r[2].quality, ESPI_QUALITY_MANUALLY_EDITED);
    assert_int_equal(f->sum.ch[0].estimated, 1);
    reset(f);
    build_poll(b, "FORWARD", xs, (const char *const[]){"1", "1", "1"}, 3,
               ",\"estimatedSeries\":\"odd\"");
    assert_int_equal(run_text(f, b->s), 0);
    assert_int_equal(count_skips(f, TR_SKIP_WARNING, "estimatedSeries has an unknown shape"), 1);
}

static void test_smarthub_input_over_the_limit_is_refused(void **state)
{
    fixture *f = *state;
    static const char text[] = "{\"status\":\"PENDING\"}          ";
    FILE *in = fmemopen((void *)text, strlen(text), "r");
    assert_non_null(in);
    assert_int_equal(tr_smarthub_read_max(in, 10, "big.json", &f->opts, &f->sink, &f->err),
                     EG_ELIMIT);
    assert_non_null(strstr(f->err.msg, "larger than 10 bytes"));
    rewind(in);
    assert_int_equal(tr_smarthub_read_max(in, strlen(text), "ok.json", &f->opts, &f->sink, &f->err),
                     EG_EDATA); /* exactly at the limit: read, and it is PENDING */
    fclose(in);
    f->opts.tz = NULL;
    assert_int_equal(run_text(f, "{}"), EG_EUSAGE);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_smarthub_15min_sample_has_95_readings_and_one_gap),
        T(test_smarthub_hourly_sample_totals_per_local_day),
        T(test_smarthub_multi_meter_joins_by_name_and_exports_absolute),
        T(test_smarthub_pending_answer_is_an_error),
        T(test_smarthub_truncated_json_reports_line_and_column),
        T(test_smarthub_failed_error_html_and_gwt_are_named),
        T(test_smarthub_bare_data_object_is_accepted),
        T(test_smarthub_time_of_use_and_unknown_types_are_noted),
        T(test_smarthub_fall_back_day_has_25_readings),
        T(test_smarthub_fall_back_15min_points_interleave_correctly),
        T(test_smarthub_spring_forward_day_has_23_readings),
        T(test_smarthub_spring_forward_point_that_does_not_exist_is_dropped),
        T(test_smarthub_daily_points_last_23_or_25_hours),
        T(test_smarthub_values_exact_or_rounded_and_flagged),
        T(test_smarthub_bad_y_is_an_error_or_a_skip),
        T(test_smarthub_forward_series_with_both_signs_is_net),
        T(test_smarthub_forward_series_all_negative_is_export),
        T(test_smarthub_duplicate_points_dropped_or_refused),
        T(test_smarthub_interval_from_ordered_interval_map),
        T(test_smarthub_estimated_and_edited_series_set_quality),
        T(test_smarthub_input_over_the_limit_is_refused),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
