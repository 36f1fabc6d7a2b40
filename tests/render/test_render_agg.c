/* test_render_agg.c -- the render aggregate, driven without the reader.
 *
 * Resources are built by hand and fed to render_agg_meta/data exactly as
 * the reader would, so each test pins one behaviour: exact daily totals,
 * local-day boundaries on the spring-forward day, quality counts, the
 * day-row limit, exact CSV values and escaping of hostile feed text. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "render_int.h"

#define MR "UsagePoint/1/MeterReading/1"
/* 2024-03-10T05:00:00Z = local midnight US Eastern (EST) on the DST day */
#define T_0310 1710046800

static void entry(espi_entry *e, const char *title, const char *self, const char *related)
{
    espi_entry_init(e);
    snprintf(e->title, sizeof e->title, "%s", title);
    snprintf(e->self.href, sizeof e->self.href, "%s", self);
    if (related) {
        snprintf(e->related[0].href, sizeof e->related[0].href, "%s", related);
        snprintf(e->related[0].rel, sizeof e->related[0].rel, "related");
        e->n_related = 1;
    }
}

/* Pass 1 for one usage point, one Wh channel (10^p, interval len), US Eastern. */
static render_agg *setup_agg(const render_opts *o, const char *up_title, const char *mr_title,
                             int64_t p, int64_t len)
{
    render_agg *a = render_agg_new(o);
    espi_entry e;
    espi_resource r;
    eg_err err;
    assert_non_null(a);

    memset(&r, 0, sizeof r);
    entry(&e, up_title, "https://h/espi/1_1/resource/UsagePoint/1", NULL);
    r.type = ESPI_RES_USAGE_POINT;
    r.entry = &e;
    espi_usage_point_init(&r.u.usage_point);
    r.u.usage_point.service_kind = ESPI_SERVICE_ELECTRICITY;
    assert_int_equal(render_agg_meta(a, &r, &err), 0);

    entry(&e, "Eastern", "LocalTimeParameters/1", NULL);
    r.type = ESPI_RES_LOCAL_TIME_PARAMETERS;
    espi_local_time_parameters_init(&r.u.local_time_parameters);
    r.u.local_time_parameters.tz_offset = -18000;
    r.u.local_time_parameters.dst_offset = 3600;
    r.u.local_time_parameters.dst_start_rule = 0x360E2000u;
    r.u.local_time_parameters.dst_end_rule = 0xB40E2000u;
    assert_int_equal(render_agg_meta(a, &r, &err), 0);

    entry(&e, mr_title, "https://h/espi/1_1/resource/" MR, "https://h/espi/1_1/resource/ReadingType/7");
    r.type = ESPI_RES_METER_READING;
    assert_int_equal(render_agg_meta(a, &r, &err), 0);

    entry(&e, "RT", "ReadingType/7", NULL); /* relative href on purpose */
    r.type = ESPI_RES_READING_TYPE;
    espi_reading_type_init(&r.u.reading_type);
    r.u.reading_type.kind = ESPI_KIND_ENERGY;
    r.u.reading_type.uom = ESPI_UOM_WH;
    r.u.reading_type.power_of_ten_multiplier = p;
    r.u.reading_type.flow_direction = ESPI_FLOW_FORWARD;
    r.u.reading_type.interval_length = len;
    r.u.reading_type.currency = ESPI_CURRENCY_USD;
    assert_int_equal(render_agg_meta(a, &r, &err), 0);
    render_agg_resolve(a);
    return a;
}

/* Readings start, start+len, ... with values v0, v0+dv, ... */
static void readings(espi_interval_reading *rs, size_t n, int64_t start, int64_t len, int64_t v0,
                     int64_t dv)
{
    for (size_t i = 0; i < n; i++) {
        espi_interval_reading_init(&rs[i]);
        rs[i].time_period.start = start + (int64_t)i * len;
        rs[i].time_period.duration = len;
        rs[i].value = v0 + (int64_t)i * dv;
    }
}

static int feed_block(render_agg *a, const espi_interval_reading *rs, size_t n, eg_err *err)
{
    espi_entry e;
    espi_resource r;
    memset(&r, 0, sizeof r);
    entry(&e, "", "https://h/espi/1_1/resource/" MR "/IntervalBlock/9", NULL);
    r.type = ESPI_RES_INTERVAL_BLOCK;
    r.entry = &e;
    r.u.interval_block.readings = rs;
    r.u.interval_block.n_readings = n;
    r.u.interval_block.interval.start = rs[0].time_period.start;
    r.u.interval_block.interval.duration = (int64_t)n * rs[0].time_period.duration;
    return render_agg_data(a, &r, err);
}

static const render_day *find_day(const render_agg *a, const char *date)
{
    char buf[16];
    for (size_t i = 0; i < a->n_days; i++) {
        render_day_format(a->days[i].day, buf, sizeof buf);
        if (strcmp(buf, date) == 0) return &a->days[i];
    }
    return NULL;
}

/* ---- numbers ----------------------------------------------------------- */

static void test_decimal_moves_the_point_exactly(void **state)
{
    char b[64];
    assert_int_equal(render_decimal(324, -3, b, sizeof b), 0);
    assert_string_equal(b, "0.324");
    assert_int_equal(render_decimal(-5, -3, b, sizeof b), 0);
    assert_string_equal(b, "-0.005");
    assert_int_equal(render_decimal(1304716, -3, b, sizeof b), 0);
    assert_string_equal(b, "1304.716");
    assert_int_equal(render_decimal(7, 2, b, sizeof b), 0);
    assert_string_equal(b, "700");
    assert_int_equal(render_decimal(INT64_MIN, -3, b, sizeof b), 0);
    assert_string_equal(b, "-9223372036854775.808");
    assert_int_equal(render_ratio(15303000, 100000, 0, 2, b, sizeof b), 0);
    assert_string_equal(b, "153.03");
    assert_int_equal(render_ratio(974, 100000, 0, 2, b, sizeof b), 0); /* 0.00974 -> 0.01 */
    assert_string_equal(b, "0.01");
    assert_int_equal(render_decimal(1, -3, b, 3), -1); /* "0.001" does not fit 3 bytes */
}

static void test_reading_type_in_words(void **state)
{
    espi_reading_type rt;
    char b[128];
    espi_reading_type_init(&rt);
    rt.kind = ESPI_KIND_ENERGY;
    rt.uom = ESPI_UOM_WH;
    rt.flow_direction = ESPI_FLOW_FORWARD;
    rt.interval_length = 900;
    render_reading_type_words(&rt, b, sizeof b);
    assert_string_equal(b, "Energy, kWh, delivered (forward), 15-minute");
    rt.flow_direction = ESPI_FLOW_REVERSE;
    rt.interval_length = 3600;
    render_reading_type_words(&rt, b, sizeof b);
    assert_string_equal(b, "Energy, kWh, received (reverse), hourly");
}

/* ---- aggregation --------------------------------------------------------- */

static void test_daily_totals_are_exact(void **state)
{
    espi_interval_reading rs[192];
    eg_err err;
    render_agg *a = setup_agg(NULL, "Home", "15 min", 0, 900);
    /* 2024-03-05 local (EST, no DST): 96 readings 1..96 Wh, then 03-06: 96 x 1000 Wh */
    readings(rs, 96, 1709614800, 900, 1, 1);
    readings(rs + 96, 96, 1709614800 + 86400, 900, 1000, 0);
    assert_int_equal(feed_block(a, rs, 192, &err), 0);
    assert_int_equal(render_agg_finish(a, &err), 0);
    const render_day *d1 = find_day(a, "2024-03-05"), *d2 = find_day(a, "2024-03-06");
    assert_non_null(d1);
    assert_non_null(d2);
    assert_int_equal(d1->sum, 96 * 97 / 2);
    assert_int_equal(d1->n, 96);
    assert_int_equal(d2->sum, 96000);
    assert_int_equal(a->n_days, 2);
    char *xml = NULL;
    size_t len;
    assert_int_equal(render_agg_xml(a, &xml, &len, &err), 0);
    assert_non_null(strstr(xml, "date=\"2024-03-05\" dow=\"Tue\" value=\"4.656\""));
    assert_non_null(strstr(xml, "date=\"2024-03-06\" dow=\"Wed\" value=\"96.000\""));
    assert_non_null(strstr(xml, "total=\"100.656\""));
    assert_non_null(strstr(xml, "reading-type=\"Energy, kWh, delivered (forward), 15-minute\""));
    free(xml);
    render_agg_free(a);
}

static void test_dst_day_is_23_local_hours(void **state)
{
    espi_interval_reading rs[48];
    eg_err err;
    render_agg *a = setup_agg(NULL, "Home", "hourly", 0, 3600);
    /* 47 hourly readings from local midnight 2024-03-10 (EST): 23 fall on the
     * spring-forward day, the 24th starts at 00:00 EDT on 03-11 */
    readings(rs, 47, T_0310, 3600, 100, 0);
    assert_int_equal(feed_block(a, rs, 47, &err), 0);
    assert_int_equal(render_agg_finish(a, &err), 0);
    const render_day *d = find_day(a, "2024-03-10"), *e = find_day(a, "2024-03-11");
    assert_non_null(d);
    assert_non_null(e);
    assert_int_equal(d->n, 23);
    assert_int_equal(d->sum, 2300);
    assert_int_equal(d->missing, 0);
    assert_int_equal(e->n, 24);
    assert_int_equal(e->missing, 0);
    assert_int_equal(render_local_day_length(&a->lt, d->day), 23 * 3600);
    /* 07:00Z is 02:00 EST, the instant clocks jump to 03:00 EDT */
    char b[40];
    render_local_format(&a->lt, T_0310 + 2 * 3600, b, sizeof b);
    assert_string_equal(b, "2024-03-10T03:00:00-04:00");
    render_local_format(&a->lt, T_0310 + 2 * 3600 - 1, b, sizeof b);
    assert_string_equal(b, "2024-03-10T01:59:59-05:00");
    /* no local 02:00 slot on that day: profile hour 2 holds only 03-11's reading */
    assert_int_equal(a->chs[0].hours[2].n, 1);
    assert_int_equal(a->chs[0].hours[3].n, 2);
    render_agg_free(a);
}

static void test_fall_back_day_is_25_local_hours(void **state)
{
    render_ltime lt;
    espi_local_time_parameters p;
    espi_local_time_parameters_init(&p);
    p.tz_offset = -18000;
    p.dst_offset = 3600;
    p.dst_start_rule = 0x360E2000u;
    p.dst_end_rule = 0xB40E2000u;
    assert_int_equal(render_ltime_set(&lt, &p, "x"), 0);
    /* 2024-11-03 local: 00:00 EDT = 04:00Z; change at 06:00Z (02:00 EDT) */
    int64_t day = render_local_day(&lt, 1730606400);
    assert_int_equal(render_local_day_length(&lt, day), 25 * 3600);
    assert_int_equal(render_ltime_offset(&lt, 1730613600 - 1), -14400);
    assert_int_equal(render_ltime_offset(&lt, 1730613600), -18000);
}

static void test_quality_counts_estimated_flagged_missing(void **state)
{
    espi_interval_reading rs[24];
    eg_err err;
    render_agg *a = setup_agg(NULL, "Home", "hourly", 0, 3600);
    int64_t t = 1709614800; /* 2024-03-05 local midnight */
    readings(rs, 24, t, 3600, 10, 0);
    rs[1].qualities[0] = ESPI_QUALITY_ESTIMATED_LINEAR, rs[1].n_qualities = 1;
    rs[2].qualities[0] = ESPI_QUALITY_ESTIMATED_REFERENCE_DAY, rs[2].n_qualities = 1;
    rs[3].qualities[0] = ESPI_QUALITY_QUESTIONABLE, rs[3].n_qualities = 1;
    rs[4].qualities[0] = ESPI_QUALITY_VALID, rs[4].n_qualities = 1;
    rs[5].value = ESPI_NONE; /* present without a value */
    /* drop hours 20..23 of the day but keep the last one: 3 missing */
    rs[20] = rs[23];
    assert_int_equal(feed_block(a, rs, 21, &err), 0);
    assert_int_equal(render_agg_finish(a, &err), 0);
    const render_day *d = find_day(a, "2024-03-05");
    assert_non_null(d);
    assert_int_equal(d->est, 2);
    assert_int_equal(d->flagged, 1);
    assert_int_equal(d->nodata, 1);
    assert_int_equal(d->missing, 4); /* 3 absent + the one without value */
    assert_int_equal(d->n, 20);
    assert_int_equal(a->chs[0].n_est, 2);
    render_agg_free(a);
}

static void test_missing_whole_day_gets_a_row(void **state)
{
    espi_interval_reading rs[2];
    eg_err err;
    render_agg *a = setup_agg(NULL, "Home", "daily gap", 0, 3600);
    readings(rs, 1, 1709614800, 3600, 5, 0);
    readings(rs + 1, 1, 1709614800 + 2 * 86400 + 23 * 3600, 3600, 5, 0);
    assert_int_equal(feed_block(a, rs, 2, &err), 0);
    assert_int_equal(render_agg_finish(a, &err), 0);
    const render_day *d = find_day(a, "2024-03-06");
    assert_non_null(d);
    assert_int_equal(d->n, 0);
    assert_int_equal(d->missing, 24);
    assert_int_equal(a->n_days, 3);
    render_agg_free(a);
}

static void test_day_row_limit_names_the_limit(void **state)
{
    espi_interval_reading rs[5];
    eg_err err;
    render_opts o;
    render_opts_init(&o);
    o.max_day_rows = 3;
    render_agg *a = setup_agg(&o, "Home", "daily", 0, 86400);
    readings(rs, 5, 1709614800, 86400, 1, 0);
    eg_err_clear(&err);
    assert_int_equal(feed_block(a, rs, 5, &err), EG_ELIMIT);
    assert_non_null(strstr(err.msg, "RENDER_MAX_DAY_ROWS"));
    assert_non_null(strstr(err.msg, "3 day rows"));
    render_agg_free(a);
}

/* ---- CSV and HTML ------------------------------------------------------- */

static char *capture(FILE *f)
{
    long n = ftell(f);
    char *s = calloc(1, (size_t)n + 1);
    rewind(f);
    assert_int_equal(fread(s, 1, (size_t)n, f), (size_t)n);
    return s;
}

static void test_csv_rows_exact_and_escaped(void **state)
{
    espi_interval_reading rs[2];
    eg_err err;
    render_agg *a = setup_agg(NULL, "=HYPERLINK(\"x\")", "A, \"B\"", -3, 900);
    readings(rs, 2, T_0310 + 7200 - 900, 900, 123456, 1);
    rs[0].cost = 974;
    rs[1].qualities[0] = ESPI_QUALITY_ESTIMATED_LINEAR, rs[1].n_qualities = 1;
    FILE *f = tmpfile();
    espi_entry e;
    espi_resource r;
    memset(&r, 0, sizeof r);
    entry(&e, "", "https://h/espi/1_1/resource/" MR "/IntervalBlock/9", NULL);
    r.type = ESPI_RES_INTERVAL_BLOCK;
    r.entry = &e;
    r.u.interval_block.readings = rs;
    r.u.interval_block.n_readings = 2;
    render_csv_header(f);
    assert_int_equal(render_csv_block(a, f, &r, &err), 0);
    char *s = capture(f);
    assert_string_equal(
        s, "usage_point,meter_reading,reading_type,start_utc,start_local,duration_s,value,unit,"
           "cost,currency,quality\r\n"
           "\"'=HYPERLINK(\"\"x\"\")\",\"A, \"\"B\"\"\",\"Energy, kWh, delivered (forward), "
           "15-minute\",2024-03-10T06:45:00Z,2024-03-10T01:45:00-05:00,900,0.123456,kWh,"
           "0.00974,USD,\r\n"
           "\"'=HYPERLINK(\"\"x\"\")\",\"A, \"\"B\"\"\",\"Energy, kWh, delivered (forward), "
           "15-minute\",2024-03-10T07:00:00Z,2024-03-10T03:00:00-04:00,900,0.123457,kWh,,,"
           "estimated (linear interpolation)\r\n");
    free(s);
    fclose(f);
    render_agg_free(a);
}

static void test_html_escapes_hostile_titles(void **state)
{
    espi_interval_reading rs[24];
    eg_err err;
    render_opts o;
    render_opts_init(&o);
    o.title = "Bills & <script>alert(1)</script>";
    render_agg *a = setup_agg(&o, "<img src=x onerror=alert(2)>", "M&M <b>", 0, 3600);
    readings(rs, 24, 1709614800, 3600, 500, 10);
    assert_int_equal(feed_block(a, rs, 24, &err), 0);
    assert_int_equal(render_agg_finish(a, &err), 0);
    char *xml = NULL;
    size_t len;
    assert_int_equal(render_agg_xml(a, &xml, &len, &err), 0);
    FILE *f = tmpfile();
    assert_int_equal(render_html_from_xml(xml, len, f, &err), 0);
    char *html = capture(f);
    assert_null(strstr(html, "<script"));
    assert_null(strstr(html, "<img"));
    assert_null(strstr(html, "<b>"));
    assert_non_null(strstr(html, "<title>Bills &amp; &lt;script&gt;alert(1)&lt;/script&gt;"));
    assert_non_null(strstr(html, "M&amp;M &lt;b&gt;"));
    assert_non_null(strstr(html, "<html lang=\"en\">"));
    assert_non_null(strstr(html, "<th scope=\"col\">"));
    assert_non_null(strstr(html, "role=\"img\""));
    assert_non_null(strstr(html, "class=\"bar\""));
    assert_null(strstr(html, "http://www.w3.org/1999/XSL")); /* no stylesheet leftovers */
    free(html);
    free(xml);
    fclose(f);
    render_agg_free(a);
}

static void test_html_from_hand_written_aggregate(void **state)
{
    FILE *in = fopen("agg_hand.xml", "rb");
    assert_non_null(in);
    fseek(in, 0, SEEK_END);
    char *xml = capture(in);
    size_t len = strlen(xml);
    fclose(in);
    FILE *f = tmpfile();
    eg_err err;
    assert_int_equal(render_html_from_xml(xml, len, f, &err), 0);
    char *html = capture(f);
    assert_non_null(strstr(html, "Net metering: import and export"));
    assert_non_null(strstr(html, "class=\"bar neg\""));
    assert_non_null(strstr(html, "23-hour day"));
    assert_non_null(strstr(html, "Energy &amp; delivery &lt;script&gt;"));
    assert_non_null(strstr(html, "class=\"q-miss\""));
    assert_non_null(strstr(html, "class=\"q-est\""));
    assert_null(strstr(html, "<script"));
    free(html);
    free(xml);
    fclose(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_decimal_moves_the_point_exactly),
        cmocka_unit_test(test_reading_type_in_words),
        cmocka_unit_test(test_daily_totals_are_exact),
        cmocka_unit_test(test_dst_day_is_23_local_hours),
        cmocka_unit_test(test_fall_back_day_is_25_local_hours),
        cmocka_unit_test(test_quality_counts_estimated_flagged_missing),
        cmocka_unit_test(test_missing_whole_day_gets_a_row),
        cmocka_unit_test(test_day_row_limit_names_the_limit),
        cmocka_unit_test(test_csv_rows_exact_and_escaped),
        cmocka_unit_test(test_html_escapes_hostile_titles),
        cmocka_unit_test(test_html_from_hand_written_aggregate),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
