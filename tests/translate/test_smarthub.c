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

static void test_smarthub_unknown_types_are_noted_empty_time_of_use_is_not(void **state)
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
    assert_int_equal(count_skips(f, TR_SKIP_WARNING, "TIME_OF_USE"), 0); /* read, just empty */
    assert_int_equal(f->k->n_ch, 1);
    assert_int_equal(f->k->ch[0].tou, ESPI_NONE);
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

/* ---- TIME_OF_USE ------------------------------------------------------------------------ */

/* The period of local hour h under the test schedule: Super Off Pk 00-05,
 * On Peak 13-20, Off Peak otherwise (as the real Cobb EMC fixture). */
static const char *tou_period(int h)
{
    return h <= 5 ? "Super Off Pk" : h >= 13 && h <= 20 ? "On Peak" : "Off Peak";
}

/* y of local hour h on 2024-01-08: (h+1) x 0.11 kWh; hour 9 is null (a gap). */
static void hour_y(int h, char *y, size_t size)
{
    if (h == 9) snprintf(y, size, "null");
    else snprintf(y, size, "%d.%02d", (h + 1) * 11 / 100, (h + 1) * 11 % 100);
}

/* One answer for meter M1 on 2024-01-08: a USAGE entry with 24 hourly points
 * and a TIME_OF_USE entry whose series (labels[0..n), in that order) each carry
 * the hours of their period.  bump adds 0.01 kWh to the TOU point of hour 14. */
static void build_tou(jbuf *b, const char *const *labels, int n, int bump)
{
    char y[16];
    b->n = 0;
    jadd(b, "{\"status\":\"COMPLETE\",\"data\":{\"ELECTRIC\":[{\"type\":\"USAGE\",\"timeFrame\":"
            "\"HOURLY\",\"meters\":[{\"meterNumber\":\"M1\",\"seriesId\":\"M1\",\"channel\":1,"
            "\"flowDirection\":\"FORWARD\",\"unitOfMeasure\":\"KWH\",\"rate\":null}],"
            "\"series\":[{\"name\":\"M1\",\"meterNumber\":\"M1\",\"data\":[");
    for (int h = 0; h < 24; h++) {
        hour_y(h, y, sizeof y);
        jadd(b, "%s{\"x\":%lld,\"y\":%s}", h ? "," : "", wall_ms(2024, 1, 8, h, 0), y);
    }
    jadd(b, "]}]},{\"type\":\"TIME_OF_USE\",\"timeFrame\":\"HOURLY\",\"meters\":[");
    for (int i = 0; i < n; i++)
        jadd(b, "%s{\"meterNumber\":\"M1\",\"seriesId\":\"M1 - %s\",\"channel\":1,\"flowDirection\":"
                "\"FORWARD\",\"rate\":\"%s\",\"rateName\":\"%s\",\"unitOfMeasure\":\"KWH\"}",
             i ? "," : "", labels[i], labels[i], labels[i]);
    jadd(b, "],\"series\":[");
    for (int i = 0; i < n; i++) {
        int k = 0;
        jadd(b, "%s{\"name\":\"M1 - %s\",\"meterNumber\":\"M1\",\"channel\":0,\"rateName\":\"%s\","
                "\"data\":[", i ? "," : "", labels[i], labels[i]);
        for (int h = 0; h < 24; h++) {
            if (strcmp(tou_period(h), labels[i]) != 0) continue;
            hour_y(h, y, sizeof y);
            if (bump && h == 14) snprintf(y, sizeof y, "1.66"); /* 1.65 in USAGE */
            jadd(b, "%s{\"x\":%lld,\"y\":%s}", k++ ? "," : "", wall_ms(2024, 1, 8, h, 0), y);
        }
        jadd(b, "]}");
    }
    jadd(b, "]}]}}");
}

static void test_smarthub_time_of_use_periods_become_channels_that_add_up(void **state)
{
    fixture *f = *state;
    static const char *const labels[3] = {"Off Peak", "Super Off Pk", "On Peak"};
    build_tou(&f->b, labels, 3, 0);
    assert_int_equal(run_text(f, f->b.s), 0);
    assert_int_equal(f->k->n_ch, 4);
    int use = channel_of(f, "smarthub:M1:forward");
    int on = channel_of(f, "smarthub:M1:forward:tou-on-peak");
    int off = channel_of(f, "smarthub:M1:forward:tou-off-peak");
    int sup = channel_of(f, "smarthub:M1:forward:tou-super-off-peak");
    /* fixed codes, whatever the order of the answer */
    assert_int_equal(f->k->ch[use].tou, ESPI_NONE);
    assert_int_equal(f->k->ch[on].tou, 1);
    assert_int_equal(f->k->ch[off].tou, 2);
    assert_int_equal(f->k->ch[sup].tou, 3);
    assert_string_equal(f->k->ch[on].name, "SmartHub M1 Consumption On Peak");
    assert_string_equal(f->k->ch[sup].name, "SmartHub M1 Consumption Super Off Pk");
    assert_string_equal(f->k->ch[on].usage_point, "smarthub:M1");
    assert_int_equal(f->k->ch[on].interval_length, 3600);
    assert_int_equal(f->k->ch[on].flow_direction, ESPI_FLOW_FORWARD);
    assert_int_equal(f->k->ch[on].cpp, ESPI_NONE);
    assert_int_equal(f->k->ch[on].consumption_tier, ESPI_NONE);
    /* readings only where the period has points; the null hour 9 stays a gap */
    assert_int_equal(f->sum.ch[sup].readings, 6);
    assert_int_equal(f->sum.ch[on].readings, 8);
    assert_int_equal(f->sum.ch[off].readings, 9);
    assert_int_equal(f->sum.ch[use].readings, 23);
    assert_int_equal(f->sum.skipped[TR_SKIP_NO_VALUE], 2); /* USAGE and Off Peak at 09:00 */
    /* exact totals per period (sum of (h+1) x 110 Wh over its hours) and against USAGE */
    assert_int_equal(f->sum.ch[sup].total, 2310);
    assert_int_equal(f->sum.ch[on].total, 15400);
    assert_int_equal(f->sum.ch[off].total, 14190);
    assert_int_equal(f->sum.ch[use].total, 31900);
    assert_int_equal(f->sum.ch[sup].total + f->sum.ch[on].total + f->sum.ch[off].total,
                     f->sum.ch[use].total);
    /* interval by interval: the periods' readings at a start add up to USAGE's */
    for (int i = 0; i < f->k->n; i++) {
        const tr_reading *u = &f->k->r[i];
        int64_t sum = 0;
        int parts = 0;
        if (u->channel != use) continue;
        for (int j = 0; j < f->k->n; j++)
            if (f->k->r[j].channel != use && f->k->r[j].start == u->start) {
                assert_int_equal(f->k->r[j].duration, u->duration);
                sum += f->k->r[j].value, parts++;
            }
        assert_int_equal(parts, 1);
        assert_int_equal(sum, u->value);
    }
    /* 13:00 CST = 19:00Z is the first On Peak hour */
    for (int i = 0; i < f->k->n; i++)
        if (f->k->r[i].channel == on) {
            assert_int_equal(f->k->r[i].start, utc(2024, 1, 8, 19, 0));
            break;
        }
    assert_int_equal(count_skips(f, TR_SKIP_WARNING, NULL), 0);
    expect_ordered(f);
}

static void test_smarthub_time_of_use_that_does_not_add_up_is_noted(void **state)
{
    fixture *f = *state;
    static const char *const labels[3] = {"On Peak", "Off Peak", "Super Off Pk"};
    build_tou(&f->b, labels, 3, 1);
    assert_int_equal(run_text(f, f->b.s), 0);
    assert_int_equal(count_skips(f, TR_SKIP_WARNING,
                                 "TIME_OF_USE series of meter M1 do not add up to USAGE series "
                                 "\"M1\" at 1 of 23 intervals (first at 2024-01-08 14:00: 1660 Wh by "
                                 "period, 1650 Wh in USAGE)"), 1);
    assert_int_equal(f->sum.ch[channel_of(f, "smarthub:M1:forward:tou-on-peak")].total, 15410);
}

static void test_smarthub_time_of_use_codes_do_not_depend_on_order(void **state)
{
    /* unknown labels are numbered after the known ones, sorted: Alpha Night 6, Zeta Saver 7 */
    fixture *f = *state;
    static const char *const a[3] = {"Zeta Saver", "On Peak", "Alpha Night"};
    static const char *const z[3] = {"Alpha Night", "Zeta Saver", "On Peak"};
    const char *const *orders[2] = {a, z};
    for (int o = 0; o < 2; o++) {
        reset(f);
        build_tou(&f->b, orders[o], 3, 0);
        assert_int_equal(run_text(f, f->b.s), 0);
        assert_int_equal(f->k->ch[channel_of(f, "smarthub:M1:forward:tou-on-peak")].tou, 1);
        assert_int_equal(f->k->ch[channel_of(f, "smarthub:M1:forward:tou-alphanight")].tou, 6);
        assert_int_equal(f->k->ch[channel_of(f, "smarthub:M1:forward:tou-zetasaver")].tou, 7);
        /* only On Peak hours carry values under these labels */
        assert_int_equal(f->sum.ch[channel_of(f, "smarthub:M1:forward:tou-zetasaver")].readings, 0);
    }
    /* a label shared by two meters counts once: Beta is 7, not 8 */
    reset(f);
    static const char two[] =
        "{\"ELECTRIC\":[{\"type\":\"TIME_OF_USE\",\"timeFrame\":\"HOURLY\",\"series\":["
        "{\"name\":\"A - Alpha\",\"data\":[{\"x\":1704672000000,\"y\":1}]},"
        "{\"name\":\"B - ALPHA\",\"data\":[{\"x\":1704672000000,\"y\":2}]},"
        "{\"name\":\"A - Beta\",\"data\":[{\"x\":1704675600000,\"y\":3}]}]}]}";
    assert_int_equal(run_text(f, two), 0);
    assert_int_equal(f->k->ch[channel_of(f, "smarthub:A:forward:tou-alpha")].tou, 6);
    assert_int_equal(f->k->ch[channel_of(f, "smarthub:B:forward:tou-alpha")].tou, 6);
    assert_int_equal(f->k->ch[channel_of(f, "smarthub:A:forward:tou-beta")].tou, 7);
    assert_string_equal(f->k->ch[channel_of(f, "smarthub:B:forward:tou-alpha")].usage_point,
                        "smarthub:B");
}

static void test_smarthub_time_of_use_label_from_name_or_meter(void **state)
{
    /* no rateName on the series: the meter's rate (joined by seriesId), else the name's tail */
    fixture *f = *state;
    static const char text[] =
        "{\"ELECTRIC\":[{\"type\":\"TIME_OF_USE\",\"timeFrame\":\"HOURLY\",\"meters\":[{"
        "\"meterNumber\":\"M9\",\"seriesId\":\"S1\",\"rate\":\"SUPER-OFF-PEAK\"}],\"series\":["
        "{\"name\":\"S1\",\"data\":[{\"x\":1704672000000,\"y\":1}]},"
        "{\"name\":\"M9 - Shoulder\",\"data\":[{\"x\":1704675600000,\"y\":2}]},"
        "{\"name\":\"M9\",\"data\":[{\"x\":1704679200000,\"y\":3}]}]}]}";
    assert_int_equal(run_text(f, text), EG_EDATA);
    assert_non_null(strstr(f->err.msg, "TIME_OF_USE series \"M9\" names no period"));
    f->opts.lenient = 1;
    assert_int_equal(run_text(f, text), 0);
    assert_int_equal(f->k->n_ch, 2);
    assert_int_equal(f->k->ch[channel_of(f, "smarthub:M9:forward:tou-super-off-peak")].tou, 3);
    assert_int_equal(f->k->ch[channel_of(f, "smarthub:M9:forward:tou-shoulder")].tou, 4);
    assert_int_equal(f->sum.skipped[TR_SKIP_BAD_ROW], 1);
}

/* ---- DAILY and MONTHLY -------------------------------------------------------------------- */

static void test_smarthub_daily_dst_weeks_have_23_and_25_hour_days(void **state)
{
    /* two DAILY weeks (2024-03-07..13 and 2024-10-31..11-06, with xToOrderedInterval)
     * and an HOURLY entry of the same meter: two channels, never mixed */
    fixture *f = *state;
    jbuf *b = &f->b;
    long long xs[14];
    int k = 0;
    for (int d = 7; d <= 13; d++) xs[k++] = wall_ms(2024, 3, d, 0, 0);
    xs[k++] = wall_ms(2024, 10, 31, 0, 0);
    for (int d = 1; d <= 6; d++) xs[k++] = wall_ms(2024, 11, d, 0, 0);
    b->n = 0;
    jadd(b, "{\"status\":\"COMPLETE\",\"data\":{\"ELECTRIC\":[{\"type\":\"USAGE\",\"timeFrame\":"
            "\"HOURLY\",\"meters\":[{\"meterNumber\":\"M\",\"seriesId\":\"M\",\"flowDirection\":"
            "\"FORWARD\"}],\"series\":[{\"name\":\"M\",\"data\":[{\"x\":%lld,\"y\":0.5},{\"x\":%lld,"
            "\"y\":0.25}]}]},{\"type\":\"USAGE\",\"timeFrame\":\"DAILY\",\"meters\":[{\"meterNumber\":"
            "\"M\",\"seriesId\":\"M\",\"flowDirection\":\"FORWARD\"}],\"series\":[{\"name\":\"M\","
            "\"data\":[", wall_ms(2024, 3, 7, 0, 0), wall_ms(2024, 3, 7, 1, 0));
    for (int i = 0; i < 14; i++) jadd(b, "%s{\"x\":%lld,\"y\":%d.%d}", i ? "," : "", xs[i], 20 + i, i);
    jadd(b, "]}],\"xToOrderedInterval\":{");
    for (int i = 0; i < 14; i++)
        jadd(b, "%s\"%lld\":{\"interval\":{\"start\":%lld,\"end\":%lld}}", i ? "," : "", xs[i],
             xs[i], xs[i] + 86400000LL);
    jadd(b, "}}]}}");
    assert_int_equal(run_text(f, b->s), 0);
    assert_int_equal(f->k->n_ch, 2);
    int hourly = channel_of(f, "smarthub:M:forward");
    int daily = channel_of(f, "smarthub:M:forward:daily");
    assert_int_equal(f->k->ch[hourly].interval_length, 3600);
    assert_int_equal(f->k->ch[daily].interval_length, 86400);
    assert_int_equal(f->k->ch[daily].measuring_period, ESPI_TIMEATTR_24_HOUR);
    assert_string_equal(f->k->ch[daily].name, "SmartHub M Consumption Daily");
    assert_int_equal(f->sum.ch[hourly].readings, 2);
    assert_int_equal(f->sum.ch[hourly].total, 750);
    assert_int_equal(f->sum.ch[daily].readings, 14);
    assert_int_equal(f->sum.ch[daily].total, 375960); /* 20.0 + 21.1 + ... + 29.9 + 30.10 + ... + 33.13 */
    assert_int_equal(f->sum.ch[daily].dst_days, 2);
    assert_int_equal(f->sum.ch[daily].gaps, 1); /* between the two weeks */
    int64_t want[14];
    for (int i = 0; i < 14; i++) want[i] = 86400;
    want[3] = 82800;  /* 2024-03-10: clocks spring forward */
    want[10] = 90000; /* 2024-11-03: clocks fall back */
    k = 0;
    for (int i = 0; i < f->k->n; i++) {
        const tr_reading *r = &f->k->r[i];
        if (r->channel != daily) continue;
        assert_int_equal(r->duration, want[k]);
        if (k == 3) assert_int_equal(r->start, utc(2024, 3, 10, 6, 0));  /* 00:00 CST */
        if (k == 4) assert_int_equal(r->start, utc(2024, 3, 11, 5, 0));  /* 00:00 CDT */
        if (k == 10) assert_int_equal(r->start, utc(2024, 11, 3, 5, 0)); /* 00:00 CDT */
        if (k == 11) assert_int_equal(r->start, utc(2024, 11, 4, 6, 0)); /* 00:00 CST */
        if (k != 6 && k + 1 < 14) assert_int_equal(r->start + r->duration, f->k->r[i + 1].start);
        k++;
    }
    assert_int_equal(k, 14);
    expect_ordered(f);
}

/* A MONTHLY answer: three billed periods and the open one (end `open_end`). */
static void build_monthly(jbuf *b, long long open_end, int with_map)
{
    static const int from[5][3] = {{2024, 1, 20}, {2024, 2, 19}, {2024, 3, 20}, {2024, 4, 18}};
    static const char *const names[4] = {"Feb 2024", "Mar 2024", "Apr 2024", "May 2024"};
    static const char *const ys[4] = {"812.37", "745.2", "690", "118.04"};
    b->n = 0;
    jadd(b, "{\"status\":\"COMPLETE\",\"data\":{\"ELECTRIC\":[{\"type\":\"USAGE\",\"timeFrame\":"
            "\"MONTHLY\",\"meters\":[{\"meterNumber\":\"M\",\"seriesId\":\"M\",\"flowDirection\":"
            "\"FORWARD\"}],\"series\":[{\"name\":\"M\",\"data\":[");
    for (int i = 0; i < 4; i++)
        jadd(b, "%s{\"x\":%lld,\"y\":%s}", i ? "," : "", wall_ms(from[i][0], from[i][1], from[i][2],
                                                              0, 0), ys[i]);
    jadd(b, "]}]");
    if (with_map) {
        jadd(b, ",\"xToOrderedInterval\":{");
        for (int i = 0; i < 4; i++) {
            long long a = wall_ms(from[i][0], from[i][1], from[i][2], 0, 0);
            long long e = i < 3 ? wall_ms(from[i + 1][0], from[i + 1][1], from[i + 1][2], 0, 0)
                                : open_end;
            jadd(b, "%s\"%lld\":{\"interval\":{\"start\":%lld,\"end\":%lld},\"orderedName\":\"%s\","
                    "\"createTickDrillDownLink\":true}", i ? "," : "", a, a, e, names[i]);
        }
        jadd(b, "}");
    }
    jadd(b, "}]}}");
}

static void test_smarthub_monthly_billing_periods_and_the_open_one(void **state)
{
    fixture *f = *state;
    build_monthly(&f->b, 253402300799000LL, 1); /* open period ends 9999-12-31 */
    assert_int_equal(run_text(f, f->b.s), 0);
    assert_int_equal(f->k->n_ch, 1);
    assert_string_equal(f->k->ch[0].key, "smarthub:M:forward:monthly");
    assert_string_equal(f->k->ch[0].name, "SmartHub M Consumption Monthly");
    assert_int_equal(f->k->ch[0].interval_length, 2592000); /* nominal */
    assert_int_equal(f->k->ch[0].measuring_period, ESPI_NONE);
    assert_int_equal(f->k->n, 3);
    assert_int_equal(f->k->r[0].start, utc(2024, 1, 20, 6, 0));
    assert_int_equal(f->k->r[0].duration, 30 * 86400);
    assert_int_equal(f->k->r[1].start, utc(2024, 2, 19, 6, 0));
    assert_int_equal(f->k->r[1].duration, 30 * 86400 - 3600); /* spans 2024-03-10 */
    assert_int_equal(f->k->r[2].start, utc(2024, 3, 20, 5, 0)); /* CDT */
    assert_int_equal(f->k->r[2].duration, 29 * 86400);
    assert_int_equal(f->sum.ch[0].total, 812370 + 745200 + 690000);
    assert_int_equal(f->sum.ch[0].gaps, 0);
    assert_int_equal(count_skips(f, TR_SKIP_WARNING, "the billing period \"May 2024\" from "
                                                     "2024-04-18 00:00 is still open"), 1);
    /* an end in 2100 is as open: no billing period lasts a year */
    reset(f);
    build_monthly(&f->b, wall_ms(2100, 1, 1, 0, 0), 1);
    assert_int_equal(run_text(f, f->b.s), 0);
    assert_int_equal(f->k->n, 3);
    assert_int_equal(count_skips(f, TR_SKIP_WARNING, "still open"), 1);
    /* without xToOrderedInterval a billing period cannot be told */
    reset(f);
    build_monthly(&f->b, 0, 0);
    assert_int_equal(run_text(f, f->b.s), EG_EDATA);
    assert_non_null(strstr(f->err.msg, "at 2024-01-20 00:00: cannot tell the billing period"));
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

/* The answer is read as a stream (smarthub_doc.c): nothing may depend on key
 * order -- a series' name after its data, the entry's type after its series,
 * the meters last -- and a repeated key keeps its last value. */
static void test_smarthub_key_order_and_repeated_keys_do_not_matter(void **state)
{
    fixture *f = *state;
    jbuf *b = &f->b;
    long long x0 = wall_ms(2024, 1, 8, 0, 0), x1 = wall_ms(2024, 1, 8, 1, 0);
    b->n = 0;
    jadd(b, "{\"data\":{\"ELECTRIC\":[{\"series\":[{\"data\":[{\"y\":\"0.5\\u0030\",\"x\":%lld},"
            "{\"y\":1.25,\"x\":%lld}],\"name\":\"ignored\",\"name\":\"M1\"}],\"type\":\"COST\","
            "\"type\":\"USAGE\",\"timeFrame\":\"HOURLY\",\"xToOrderedInterval\":{\"%lld\":"
            "{\"interval\":{\"end\":%lld,\"start\":%lld}},\"%lld\":{\"interval\":{\"start\":%lld,"
            "\"end\":%lld}}},\"meters\":[{\"flowDirection\":\"FORWARD\",\"seriesId\":\"M1\","
            "\"meterNumber\":\"M\\u00e91\"}]}]},\"status\":\"COMPLETE\"}",
         x0, x1, x0, x0 + 60000, x0, x0, x0, x0 + 900000);
    assert_int_equal(run_text(f, b->s), 0);
    assert_int_equal(f->k->n_ch, 1);
    assert_string_equal(f->k->ch[0].key, "smarthub:M\xc3\xa9" "1:forward");
    assert_int_equal(f->k->n, 2);
    assert_int_equal(f->k->r[0].value, 500);         /* "0.5\u0030" = "0.50", escapes decoded */
    assert_int_equal(f->k->r[0].duration, 900);      /* the last of the repeated x keys */
    assert_int_equal(f->k->r[1].value, 1250);
    assert_int_equal(f->k->r[1].duration, 3600);     /* smallest gap */
    /* a kept string that is not UTF-8 is refused with a position */
    b->n = 0;
    jadd(b, "{\"ELECTRIC\":[{\"type\":\"USAGE\",\"series\":[{\"name\":\"M\xff\",\"data\":[]}]}]}");
    assert_int_equal(run_text(f, b->s), EG_EDATA);
    assert_non_null(strstr(f->err.msg, "not valid UTF-8"));
    assert_int_equal(f->err.line, 1);
    assert_true(f->err.col > 40);
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
        T(test_smarthub_key_order_and_repeated_keys_do_not_matter),
        T(test_smarthub_failed_error_html_and_gwt_are_named),
        T(test_smarthub_bare_data_object_is_accepted),
        T(test_smarthub_unknown_types_are_noted_empty_time_of_use_is_not),
        T(test_smarthub_fall_back_day_has_25_readings),
        T(test_smarthub_fall_back_15min_points_interleave_correctly),
        T(test_smarthub_spring_forward_day_has_23_readings),
        T(test_smarthub_spring_forward_point_that_does_not_exist_is_dropped),
        T(test_smarthub_daily_points_last_23_or_25_hours),
        T(test_smarthub_time_of_use_periods_become_channels_that_add_up),
        T(test_smarthub_time_of_use_that_does_not_add_up_is_noted),
        T(test_smarthub_time_of_use_codes_do_not_depend_on_order),
        T(test_smarthub_time_of_use_label_from_name_or_meter),
        T(test_smarthub_daily_dst_weeks_have_23_and_25_hour_days),
        T(test_smarthub_monthly_billing_periods_and_the_open_one),
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
