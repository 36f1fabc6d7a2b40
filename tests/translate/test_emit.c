/* test_emit.c -- emit.c: channels + readings -> a Download-My-Data feed.
 *
 * Readings are made up here (no translator), written to memory, and the
 * XML is read back with libxml2 XPath: one IntervalBlock per local day with
 * 92/100 readings on the US Central DST days, LocalTimeParameters of the
 * data's year, each UsagePoint/MeterReading/ReadingType once, totals in ==
 * totals out, gaps kept as gaps, byte-identical output for the same input,
 * and the refusals (two readings at one instant, a reading across local
 * midnight, a channel declared again with other facts, an unknown usage
 * point). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <libxml/parser.h>
#include <libxml/xpath.h>
#include <libxml/xpathInternals.h>

#include "emit.h"

/* ---- helpers -------------------------------------------------------------------- */

typedef struct mem {
    char *p;
    size_t n, cap;
} mem;

static int mem_write(void *io, const char *buf, int len)
{
    mem *m = io;
    if (m->n + (size_t)len + 1 > m->cap) {
        size_t cap = (m->n + (size_t)len + 1) * 2;
        char *p = realloc(m->p, cap);
        if (!p) return -1;
        m->p = p;
        m->cap = cap;
    }
    memcpy(m->p + m->n, buf, (size_t)len);
    m->n += (size_t)len;
    m->p[m->n] = 0;
    return len;
}

static tr_tz *chicago(void)
{
    eg_err err;
    tr_tz *z = tr_tz_load("America/Chicago", getenv("TZDIR"), &err);
    if (!z) fail_msg("cannot load America/Chicago: %s", err.msg);
    return z;
}

static tr_channel channel(int index, const char *key, const char *up, int64_t flow, int64_t currency)
{
    tr_channel c;
    memset(&c, 0, sizeof c);
    c.tou = c.cpp = c.consumption_tier = ESPI_NONE; /* 0 would be a code */
    c.index = index;
    snprintf(c.key, sizeof c.key, "%s", key);
    snprintf(c.usage_point, sizeof c.usage_point, "%s", up);
    snprintf(c.name, sizeof c.name, "test %s", key);
    c.service_kind = ESPI_SERVICE_ELECTRICITY;
    c.flow_direction = flow;
    c.uom = ESPI_UOM_WH;
    c.power_of_ten_multiplier = 0;
    c.interval_length = 900;
    c.commodity = ESPI_COMMODITY_ELECTRICITY_SECONDARY;
    c.kind = ESPI_KIND_ENERGY;
    c.accumulation = ESPI_ACCUM_DELTA_DATA;
    c.measuring_period = ESPI_TIMEATTR_15_MINUTE;
    c.currency = currency;
    return c;
}

/* A deterministic value for reading i. */
static int64_t value_of(int64_t i)
{
    return 50 + (i * 37) % 211;
}

/* One "input": channels and 15-minute readings from local midnight of
 * y-mo-d for `days` local days, skipping readings whose index is in skip[]. */
typedef struct feed_spec {
    tr_channel ch[4];
    int n_ch;
    int y, mo, d, days;
    const int *skip;
    int n_skip;
    int with_cost;
} feed_spec;

static int skipped(const feed_spec *s, int i)
{
    for (int k = 0; k < s->n_skip; k++)
        if (s->skip[k] == i) return 1;
    return 0;
}

/* Feed spec into sink; *total gets the sum of values of channel 0. */
static int play(const feed_spec *s, const tr_tz *tz, const tr_sink *sink, int64_t *total, eg_err *err)
{
    int64_t start, end, t;
    int rc;
    for (int c = 0; c < s->n_ch; c++)
        if ((rc = sink->channel(sink->ctx, &s->ch[c], err))) return rc;
    assert_int_equal(tr_tz_day_bounds(tz, s->y, s->mo, s->d, &start, NULL), 0);
    int y, mo, d;
    tr_civil_from_days(tr_days_from_civil(s->y, s->mo, s->d) + s->days, &y, &mo, &d);
    assert_int_equal(tr_tz_day_bounds(tz, y, mo, d, &end, NULL), 0);
    if (total) *total = 0;
    for (int c = 0; c < s->n_ch; c++) {
        int i = 0;
        for (t = start; t < end; t += 900, i++) {
            if (skipped(s, i)) continue;
            tr_reading r = {c, t, 900, value_of(i + c), s->with_cost ? value_of(i) * 11 : ESPI_NONE,
                            i % 50 == 7 ? ESPI_QUALITY_ESTIMATED_REFERENCE_DAY : ESPI_NONE, 0, i + 2};
            if (c == 0 && total) *total += r.value;
            if ((rc = sink->reading(sink->ctx, &r, err))) return rc;
        }
    }
    return 0;
}

/* Both passes over spec; the feed goes to out.  Returns 0 or the first error. */
static int emit_spec(const feed_spec *s, const tr_emit_opts *o, mem *out, int64_t *total, eg_err *err)
{
    tr_sink sink;
    espi_writer_opts wo = {1};
    espi_writer *w = NULL;
    int rc;
    tr_emit *e = tr_emit_new(o, err);
    if (!e) return err->code;
    tr_emit_begin_input(e, "spec");
    tr_emit_scan_sink(e, &sink);
    if ((rc = play(s, o->tz, &sink, NULL, err))) goto done;
    if (!(w = espi_writer_open_io(mem_write, out, &wo, err))) { rc = err->code; goto done; }
    if ((rc = tr_emit_begin(e, w, err))) goto done;
    tr_emit_begin_input(e, "spec");
    tr_emit_write_sink(e, &sink);
    if ((rc = play(s, o->tz, &sink, total, err))) goto done;
    if ((rc = tr_emit_end(e, err))) goto done;
    rc = espi_writer_close(w, err);
    w = NULL;
done:
    espi_writer_abort(w);
    tr_emit_free(e);
    return rc;
}

/* ---- XPath over the written feed ------------------------------------------------ */

typedef struct doc {
    xmlDocPtr d;
    xmlXPathContextPtr x;
} doc;

static doc parse(const mem *m)
{
    doc d;
    d.d = xmlReadMemory(m->p, (int)m->n, "feed.xml", NULL, XML_PARSE_NONET);
    assert_non_null(d.d);
    d.x = xmlXPathNewContext(d.d);
    xmlXPathRegisterNs(d.x, BAD_CAST "a", BAD_CAST ATOM_NS);
    xmlXPathRegisterNs(d.x, BAD_CAST "e", BAD_CAST ESPI_NS);
    return d;
}

static void unparse(doc *d)
{
    xmlXPathFreeContext(d->x);
    xmlFreeDoc(d->d);
}

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static double xnum(const doc *d, const char *fmt, ...)
{
    char expr[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(expr, sizeof expr, fmt, ap);
    va_end(ap);
    xmlXPathObjectPtr r = xmlXPathEvalExpression(BAD_CAST expr, d->x);
    if (!r) fail_msg("bad XPath %s", expr);
    double v = xmlXPathCastToNumber(r);
    xmlXPathFreeObject(r);
    return v;
}

static char *xstr(const doc *d, const char *expr)
{
    xmlXPathObjectPtr r = xmlXPathEvalExpression(BAD_CAST expr, d->x);
    if (!r) fail_msg("bad XPath %s", expr);
    xmlChar *s = xmlXPathCastToString(r);
    xmlXPathFreeObject(r);
    char *out = strdup((const char *)s);
    xmlFree(s);
    return out;
}

/* ---- tests ------------------------------------------------------------------------- */

static feed_spec one_channel(int y, int mo, int d, int days)
{
    feed_spec s;
    memset(&s, 0, sizeof s);
    s.ch[0] = channel(0, "t:1:consumption", "t:1", ESPI_FLOW_FORWARD, ESPI_NONE);
    s.n_ch = 1;
    s.y = y, s.mo = mo, s.d = d, s.days = days;
    return s;
}

#define IB "/a:feed/a:entry/a:content/e:IntervalBlock"

static void expect_day_blocks(int y, int mo, int d, int dst_readings, int dst_seconds)
{
    tr_tz *tz = chicago();
    tr_emit_opts o;
    mem m = {0};
    eg_err err;
    tr_emit_opts_init(&o);
    o.tz = tz;
    feed_spec s = one_channel(y, mo, d, 3);
    assert_int_equal(emit_spec(&s, &o, &m, NULL, &err), 0);
    doc x = parse(&m);
    assert_int_equal((int)xnum(&x, "count(" IB ")"), 3);
    assert_int_equal((int)xnum(&x, "count(" IB "[count(e:IntervalReading)=96])"), 2);
    assert_int_equal((int)xnum(&x, "count(" IB "[count(e:IntervalReading)=%d])", dst_readings), 1);
    assert_int_equal((int)xnum(&x, "count(" IB "[e:interval/e:duration=%d])", dst_seconds), 1);
    /* the DST day is the middle one and starts at its local midnight */
    int64_t ds;
    assert_int_equal(tr_tz_day_bounds(tz, y, mo, d + 1, &ds, NULL), 0);
    assert_int_equal((int)xnum(&x, "count(" IB "[e:interval/e:start=%lld][count(e:IntervalReading)=%d])",
                               (long long)ds, dst_readings), 1);
    /* every reading lies inside its block, no two at one instant */
    assert_int_equal((int)xnum(&x, "count(" IB "/e:IntervalReading[e:timePeriod/e:start < "
                                   "../e:interval/e:start or e:timePeriod/e:start + e:timePeriod/e:duration "
                                   "> ../e:interval/e:start + ../e:interval/e:duration])"), 0);
    assert_int_equal((int)xnum(&x, "count(" IB "/e:IntervalReading[e:timePeriod/e:start = "
                                   "preceding::e:IntervalReading/e:timePeriod/e:start])"), 0);
    unparse(&x);
    free(m.p);
    tr_tz_free(tz);
}

static void test_emit_spring_forward_day_is_one_block_of_92(void **state)
{
    (void)state;
    expect_day_blocks(2024, 3, 9, 92, 82800);
}

static void test_emit_fall_back_day_is_one_block_of_100(void **state)
{
    (void)state;
    expect_day_blocks(2024, 11, 2, 100, 90000);
}

static void test_emit_local_time_parameters_chicago(void **state)
{
    (void)state;
    tr_tz *tz = chicago();
    tr_emit_opts o;
    mem m = {0};
    eg_err err;
    tr_emit_opts_init(&o);
    o.tz = tz;
    feed_spec s = one_channel(2024, 7, 1, 1);
    assert_int_equal(emit_spec(&s, &o, &m, NULL, &err), 0);
    doc x = parse(&m);
    assert_int_equal((int)xnum(&x, "count(//e:LocalTimeParameters)"), 1);
    assert_int_equal((int)xnum(&x, "number(//e:LocalTimeParameters/e:tzOffset)"), -21600);
    assert_int_equal((int)xnum(&x, "number(//e:LocalTimeParameters/e:dstOffset)"), 3600);
    char *start = xstr(&x, "string(//e:LocalTimeParameters/e:dstStartRule)");
    char *end = xstr(&x, "string(//e:LocalTimeParameters/e:dstEndRule)");
    assert_string_equal(start, "360E2000");
    assert_string_equal(end, "B40E2000");
    /* the UsagePoint links the LocalTimeParameters entry it belongs to */
    assert_int_equal((int)xnum(&x, "count(/a:feed/a:entry[a:content/e:UsagePoint]/a:link[@rel='related']"
                                   "[@href=/a:feed/a:entry[a:content/e:LocalTimeParameters]/a:link[@rel='self']/@href])"),
                     1);
    free(start);
    free(end);
    unparse(&x);
    free(m.p);
    tr_tz_free(tz);
}

static void test_emit_reading_type_carries_tou_cpp_and_tier_only_when_set(void **state)
{
    (void)state;
    tr_tz *tz = chicago();
    tr_emit_opts o;
    mem m = {0};
    eg_err err;
    tr_emit_opts_init(&o);
    o.tz = tz;
    feed_spec s = one_channel(2024, 7, 1, 1);
    s.ch[1] = channel(1, "t:1:consumption:tou-on-peak", "t:1", ESPI_FLOW_FORWARD, ESPI_NONE);
    s.ch[1].tou = 1;
    s.ch[1].cpp = 0; /* 0 is a code, written as such */
    s.ch[1].consumption_tier = 2;
    s.n_ch = 2;
    assert_int_equal(emit_spec(&s, &o, &m, NULL, &err), 0);
    doc x = parse(&m);
#define RT "/a:feed/a:entry/a:content/e:ReadingType"
    assert_int_equal((int)xnum(&x, "count(" RT ")"), 2);
    assert_int_equal((int)xnum(&x, "count(" RT "/e:tou)"), 1);
    assert_int_equal((int)xnum(&x, "count(" RT "/e:cpp)"), 1);
    assert_int_equal((int)xnum(&x, "count(" RT "/e:consumptionTier)"), 1);
    assert_int_equal((int)xnum(&x, "number(" RT "/e:tou)"), 1);
    assert_int_equal((int)xnum(&x, "number(" RT "/e:cpp)"), 0);
    assert_int_equal((int)xnum(&x, "number(" RT "/e:consumptionTier)"), 2);
    /* schema order: consumptionTier after commodity, tou after timeAttribute/powerOfTen, cpp after uom */
    assert_int_equal((int)xnum(&x, "count(" RT "/e:consumptionTier[preceding-sibling::e:commodity]"
                                   "[following-sibling::e:flowDirection])"), 1);
    assert_int_equal((int)xnum(&x, "count(" RT "/e:tou[preceding-sibling::e:powerOfTenMultiplier]"
                                   "[following-sibling::e:uom])"), 1);
    assert_int_equal((int)xnum(&x, "count(" RT "/e:cpp[preceding-sibling::e:uom])"), 1);
    char *title = xstr(&x, "string(/a:feed/a:entry[a:content/e:ReadingType/e:tou]/a:title)");
    assert_non_null(strstr(title, ", tou 1"));
    free(title);
#undef RT
    unparse(&x);
    free(m.p);
    tr_tz_free(tz);
}

static void test_emit_block_starts_with_its_first_reading(void **state)
{
    /* a day whose readings begin at 13:00 (a TOU period, a gap at midnight):
     * the block starts there (GBA FB_04 D042) and still ends at local midnight */
    (void)state;
    tr_tz *tz = chicago();
    tr_emit_opts o;
    mem m = {0};
    eg_err err;
    int skip[52];
    for (int i = 0; i < 52; i++) skip[i] = i;
    tr_emit_opts_init(&o);
    o.tz = tz;
    feed_spec s = one_channel(2024, 7, 1, 1);
    s.skip = skip, s.n_skip = 52;
    assert_int_equal(emit_spec(&s, &o, &m, NULL, &err), 0);
    doc x = parse(&m);
    int64_t day, next;
    assert_int_equal(tr_tz_day_bounds(tz, 2024, 7, 1, &day, &next), 0);
    assert_int_equal((int)xnum(&x, "count(" IB ")"), 1);
    assert_int_equal((long long)xnum(&x, "number(" IB "/e:interval/e:start)"), day + 13 * 3600);
    assert_int_equal((long long)xnum(&x, "number(" IB "/e:interval/e:duration)"), next - day - 13 * 3600);
    assert_int_equal((long long)xnum(&x, "number(" IB "/e:IntervalReading[1]/e:timePeriod/e:start)"),
                     day + 13 * 3600);
    unparse(&x);
    free(m.p);
    tr_tz_free(tz);
}

static void test_emit_same_input_gives_identical_bytes(void **state)
{
    (void)state;
    tr_tz *tz = chicago();
    tr_emit_opts o;
    mem a = {0}, b = {0}, c = {0};
    eg_err err;
    tr_emit_opts_init(&o);
    o.tz = tz;
    feed_spec s = one_channel(2024, 11, 2, 3);
    s.ch[1] = channel(1, "t:1:surplus", "t:1", ESPI_FLOW_REVERSE, ESPI_NONE);
    s.n_ch = 2;
    assert_int_equal(emit_spec(&s, &o, &a, NULL, &err), 0);
    assert_int_equal(emit_spec(&s, &o, &b, NULL, &err), 0);
    assert_int_equal(a.n, b.n);
    assert_memory_equal(a.p, b.p, a.n);
    /* the stamp is the end of the data, and --updated changes it (and only it) */
    doc x = parse(&a);
    int64_t end;
    assert_int_equal(tr_tz_day_bounds(tz, 2024, 11, 5, &end, NULL), 0);
    char want[32];
    espi_time_format(end, want, sizeof want);
    char *got = xstr(&x, "string(/a:feed/a:updated)");
    assert_string_equal(got, want);
    free(got);
    unparse(&x);
    o.updated = 1700000000;
    assert_int_equal(emit_spec(&s, &o, &c, NULL, &err), 0);
    assert_true(c.n == a.n && memcmp(a.p, c.p, a.n) != 0);
    free(a.p);
    free(b.p);
    free(c.p);
    tr_tz_free(tz);
}

static void test_emit_totals_in_equal_totals_out_and_gaps_stay_gaps(void **state)
{
    (void)state;
    static const int skip[] = {0, 40, 41, 42, 300};
    tr_tz *tz = chicago();
    tr_emit_opts o;
    mem m = {0};
    eg_err err;
    int64_t total = 0;
    tr_emit_opts_init(&o);
    o.tz = tz;
    feed_spec s = one_channel(2024, 3, 9, 4);
    s.skip = skip;
    s.n_skip = 5;
    s.with_cost = 1;
    s.ch[0].currency = ESPI_CURRENCY_USD;
    assert_int_equal(emit_spec(&s, &o, &m, &total, &err), 0);
    doc x = parse(&m);
    int n = 96 + 92 + 96 + 96 - 5;
    assert_int_equal((int)xnum(&x, "count(//e:IntervalReading)"), n);
    assert_int_equal((int64_t)xnum(&x, "sum(//e:IntervalReading/e:value)"), total);
    assert_int_equal((int)xnum(&x, "count(//e:IntervalReading[e:cost])"), n);
    assert_int_equal((int)xnum(&x, "count(//e:IntervalReading[e:ReadingQuality/e:quality=8])"), 8);
    assert_int_equal((int)xnum(&x, "number(//e:ReadingType/e:currency)"), 840);
    /* one of each: UsagePoint, MeterReading, ReadingType, LocalTimeParameters */
    assert_int_equal((int)xnum(&x, "count(//e:UsagePoint)"), 1);
    assert_int_equal((int)xnum(&x, "count(//e:MeterReading)"), 1);
    assert_int_equal((int)xnum(&x, "count(//e:ReadingType)"), 1);
    assert_int_equal((int)xnum(&x, "number(//e:ReadingType/e:accumulationBehaviour)"), 4);
    assert_int_equal((int)xnum(&x, "number(//e:ReadingType/e:intervalLength)"), 900);
    /* ids are unique */
    assert_int_equal((int)xnum(&x, "count(//a:entry/a:id[. = preceding::a:entry/a:id])"), 0);
    unparse(&x);
    free(m.p);
    tr_tz_free(tz);
}

static void test_emit_two_readings_at_one_instant_are_refused(void **state)
{
    (void)state;
    tr_tz *tz = chicago();
    tr_emit_opts o;
    tr_sink sink;
    eg_err err;
    mem m = {0};
    espi_writer_opts wo = {1};
    tr_emit_opts_init(&o);
    o.tz = tz;
    tr_emit *e = tr_emit_new(&o, &err);
    tr_channel c = channel(0, "t:1:consumption", "t:1", ESPI_FLOW_FORWARD, ESPI_NONE);
    tr_reading r = {0, 1710050400, 900, 10, ESPI_NONE, ESPI_NONE, 0, 5};
    tr_emit_begin_input(e, "a.csv");
    tr_emit_scan_sink(e, &sink);
    assert_int_equal(sink.channel(sink.ctx, &c, &err), 0);
    assert_int_equal(sink.reading(sink.ctx, &r, &err), 0);
    espi_writer *w = espi_writer_open_io(mem_write, &m, &wo, &err);
    assert_int_equal(tr_emit_begin(e, w, &err), 0);
    tr_emit_begin_input(e, "b.csv");
    tr_emit_write_sink(e, &sink);
    assert_int_equal(sink.channel(sink.ctx, &c, &err), 0);
    assert_int_equal(sink.reading(sink.ctx, &r, &err), 0);
    r.line = 9;
    assert_int_equal(sink.reading(sink.ctx, &r, &err), EG_EDATA);
    assert_string_equal(err.file, "b.csv");
    assert_int_equal(err.line, 9);
    assert_non_null(strstr(err.msg, "one instant"));
    /* a reading that crosses local midnight (2024-03-12 04:45Z is 23:45 CDT) */
    r.start = 1710218700;
    r.duration = 3600;
    assert_int_equal(sink.reading(sink.ctx, &r, &err), EG_EDATA);
    assert_non_null(strstr(err.msg, "midnight"));
    espi_writer_abort(w);
    tr_emit_free(e);
    free(m.p);
    tr_tz_free(tz);
}

static void test_emit_channel_redeclared_with_other_facts_is_refused(void **state)
{
    (void)state;
    tr_tz *tz = chicago();
    tr_emit_opts o;
    tr_sink sink;
    eg_err err;
    tr_emit_opts_init(&o);
    o.tz = tz;
    tr_emit *e = tr_emit_new(&o, &err);
    tr_channel c = channel(0, "t:1:consumption", "t:1", ESPI_FLOW_FORWARD, ESPI_NONE);
    tr_emit_scan_sink(e, &sink);
    tr_emit_begin_input(e, "a.csv");
    assert_int_equal(sink.channel(sink.ctx, &c, &err), 0);
    tr_emit_begin_input(e, "b.csv");
    assert_int_equal(sink.channel(sink.ctx, &c, &err), 0); /* same facts: same channel */
    assert_int_equal(tr_emit_channel_count(e), 1);
    c.interval_length = 3600;
    assert_int_equal(sink.channel(sink.ctx, &c, &err), EG_EDATA);
    tr_emit_free(e);
    tr_tz_free(tz);
}

static void test_emit_usage_point_selection(void **state)
{
    (void)state;
    tr_tz *tz = chicago();
    tr_emit_opts o;
    mem m = {0}, n = {0};
    eg_err err;
    tr_emit_opts_init(&o);
    o.tz = tz;
    o.usage_point = "2222";
    feed_spec s = one_channel(2024, 7, 1, 1);
    s.ch[1] = channel(1, "t:2222:consumption", "t:2222", ESPI_FLOW_FORWARD, ESPI_NONE);
    s.n_ch = 2;
    assert_int_equal(emit_spec(&s, &o, &m, NULL, &err), 0);
    doc x = parse(&m);
    assert_int_equal((int)xnum(&x, "count(//e:UsagePoint)"), 1);
    assert_int_equal((int)xnum(&x, "count(//e:MeterReading)"), 1);
    assert_int_equal((int)xnum(&x, "count(//a:entry[a:content/e:MeterReading][a:title='test t:2222:consumption'])"), 1);
    unparse(&x);
    o.usage_point = "9999";
    assert_int_equal(emit_spec(&s, &o, &n, NULL, &err), EG_EDATA);
    assert_non_null(strstr(err.msg, "t:2222"));
    free(m.p);
    free(n.p);
    tr_tz_free(tz);
}

/* ---- bills ------------------------------------------------------------------------- */

/* One input of the bill tests: an optional billing-period reading on the
 * billed-kWh channel, then a bill. */
typedef struct bill_input {
    const char *name;
    int64_t start, duration;       /* reading + bill period; ESPI_NONE: neither */
    tr_bill bill;
} bill_input;

static int play_bill(const bill_input *in, const tr_sink *sink, eg_err *err)
{
    int rc;
    if (in->start != ESPI_NONE) {
        tr_channel c = channel(0, "b:1:billed-kwh", "b:1", ESPI_FLOW_FORWARD, ESPI_NONE);
        c.interval_length = 2592000;
        c.measuring_period = ESPI_NONE;
        tr_reading r = {0, in->start, in->duration, in->bill.consumption, ESPI_NONE, ESPI_NONE, 0, 2};
        if ((rc = sink->channel(sink->ctx, &c, err)) || (rc = sink->reading(sink->ctx, &r, err)))
            return rc;
    }
    return sink->bill(sink->ctx, &in->bill, err);
}

static int emit_bills(const bill_input *in, int n, const tr_tz *tz, mem *out, eg_err *err)
{
    tr_sink sink;
    tr_emit_opts o;
    espi_writer_opts wo = {1};
    espi_writer *w = NULL;
    int rc = 0;
    tr_emit_opts_init(&o);
    o.tz = tz;
    tr_emit *e = tr_emit_new(&o, err);
    if (!e) return err->code;
    tr_emit_scan_sink(e, &sink);
    for (int i = 0; i < n && !rc; i++) {
        tr_emit_begin_input(e, in[i].name);
        rc = play_bill(&in[i], &sink, err);
    }
    if (rc) goto done;
    if (!(w = espi_writer_open_io(mem_write, out, &wo, err))) { rc = err->code; goto done; }
    if ((rc = tr_emit_begin(e, w, err))) goto done;
    tr_emit_write_sink(e, &sink);
    for (int i = 0; i < n && !rc; i++) {
        tr_emit_begin_input(e, in[i].name);
        rc = play_bill(&in[i], &sink, err);
    }
    if (rc || (rc = tr_emit_end(e, err))) goto done;
    assert_int_equal(tr_emit_bill_info(e)->bills, 1);
    rc = espi_writer_close(w, err);
    w = NULL;
done:
    espi_writer_abort(w);
    tr_emit_free(e);
    return rc;
}

static tr_line_item item(const char *note, int64_t amount, int64_t kind)
{
    tr_line_item it;
    memset(&it, 0, sizeof it);
    snprintf(it.note, sizeof it.note, "%s", note);
    it.amount = amount;
    it.item_kind = kind;
    it.quantity = it.quantity_uom = it.unit_cost = ESPI_NONE;
    return it;
}

/* A March 2024 bill (crosses spring forward) from a "history" input with
 * plain items and a "line items" input without period but with quantities. */
static void two_bill_inputs(const tr_tz *tz, bill_input in[2], tr_line_item plain[2],
                            tr_line_item detailed[2])
{
    int64_t start, end;
    assert_int_equal(tr_tz_day_bounds(tz, 2024, 3, 1, &start, NULL), 0);
    assert_int_equal(tr_tz_day_bounds(tz, 2024, 4, 1, &end, NULL), 0);
    plain[0] = item("Facility Charge", 3800000, ESPI_ITEM_DELIVERY_FEE);
    plain[1] = item("Energy Charge", 45028000, ESPI_ITEM_USAGE_FEE);
    detailed[0] = plain[0];
    detailed[1] = plain[1];
    detailed[1].quantity = 5146000;
    detailed[1].quantity_uom = ESPI_UOM_WH;
    detailed[1].unit_cost = 8750; /* per kWh */
    memset(in, 0, 2 * sizeof *in);
    for (int i = 0; i < 2; i++) {
        tr_bill *b = &in[i].bill;
        snprintf(b->usage_point, sizeof b->usage_point, "b:1");
        snprintf(b->key, sizeof b->key, "b:1:2024-04-08");
        b->statement_date = end + 7 * 86400;
        b->consumption = b->peak_demand = b->bill_total = b->currency = ESPI_NONE;
        b->line = 2;
    }
    in[0].name = "history.csv";
    in[0].start = in[0].bill.start = start;
    in[0].duration = in[0].bill.duration = end - start;
    in[0].bill.consumption = 5146000;
    in[0].bill.peak_demand = 15300;
    in[0].bill.bill_total = 48828000;
    in[0].bill.currency = ESPI_CURRENCY_USD;
    in[0].bill.items = plain;
    in[0].bill.n_items = 2;
    in[1].name = "items.csv";
    in[1].start = in[1].duration = in[1].bill.start = in[1].bill.duration = ESPI_NONE;
    in[1].bill.items = detailed;
    in[1].bill.n_items = 2;
}

#define US "/a:feed/a:entry/a:content/e:UsageSummary"

static void test_emit_bill_from_two_inputs_is_one_usage_summary(void **state)
{
    (void)state;
    tr_tz *tz = chicago();
    bill_input in[2];
    tr_line_item plain[2], detailed[2];
    mem m = {0};
    eg_err err;
    two_bill_inputs(tz, in, plain, detailed);
    assert_int_equal(emit_bills(in, 2, tz, &m, &err), 0);
    doc x = parse(&m);
    assert_int_equal((int)xnum(&x, "count(" US ")"), 1);
    assert_int_equal((int64_t)xnum(&x, US "/e:billingPeriod/e:duration"), 31 * 86400 - 3600);
    assert_int_equal((int64_t)xnum(&x, US "/e:billLastPeriod"), 48828000);
    assert_int_equal((int64_t)xnum(&x, US "/e:costAdditionalLastPeriod"),
                     (int64_t)xnum(&x, "sum(" US "/e:costAdditionalDetailLastPeriod/e:amount)"));
    /* the detailed items won: 5146 kWh at 8750 hundred-thousandths per kWh */
    assert_int_equal((int)xnum(&x, US "/e:costAdditionalDetailLastPeriod[e:note='Energy Charge']"
                                   "/e:measurement/e:powerOfTenMultiplier"), 3);
    assert_int_equal((int)xnum(&x, US "/e:costAdditionalDetailLastPeriod[e:note='Energy Charge']"
                                   "/e:measurement/e:value"), 5146);
    assert_int_equal((int)xnum(&x, US "/e:costAdditionalDetailLastPeriod[e:note='Energy Charge']"
                                   "/e:unitCost"), 8750);
    assert_int_equal((int64_t)xnum(&x, US "/e:overallConsumptionLastPeriod/e:value"), 5146000);
    assert_int_equal((int)xnum(&x, US "/e:peakDemand/e:uom"), ESPI_UOM_W);
    assert_int_equal((int)xnum(&x, US "/e:qualityOfReading"), ESPI_QUALITY_REVENUE);
    assert_int_equal((int64_t)xnum(&x, US "/e:statusTimeStamp"), in[0].bill.statement_date);
    assert_int_equal((int)xnum(&x, US "/e:currency"), 840);
    assert_int_equal((int)xnum(&x, US "/e:commodity"), 1);
    /* the UsagePoint links its UsageSummary collection, which is the summary's up */
    char *up = xstr(&x, "/a:feed/a:entry[a:content/e:UsageSummary]/a:link[@rel='up']/@href");
    assert_int_equal((int)xnum(&x, "count(/a:feed/a:entry[a:content/e:UsagePoint]/a:link"
                                   "[@rel='related'][@href='%s'])", up), 1);
    free(up);
    /* the month-long reading has an IntervalBlock of its own */
    assert_int_equal((int)xnum(&x, "count(" IB ")"), 1);
    assert_int_equal((int64_t)xnum(&x, IB "/e:interval/e:duration"), 31 * 86400 - 3600);
    unparse(&x);
    free(m.p);
    tr_tz_free(tz);
}

static void test_emit_bill_inputs_that_disagree_are_refused(void **state)
{
    (void)state;
    tr_tz *tz = chicago();
    bill_input in[2];
    tr_line_item plain[2], detailed[2];
    mem m = {0};
    eg_err err;
    two_bill_inputs(tz, in, plain, detailed);
    detailed[1].amount += 1000; /* a cent more in the line items */
    assert_int_equal(emit_bills(in, 2, tz, &m, &err), EG_EDATA);
    assert_non_null(strstr(err.msg, "line items sum to"));
    assert_non_null(strstr(err.msg, "history.csv:2"));
    two_bill_inputs(tz, in, plain, detailed);
    in[1].bill.bill_total = 1;
    assert_int_equal(emit_bills(in, 2, tz, &m, &err), EG_EDATA);
    assert_non_null(strstr(err.msg, "total of current charges"));
    free(m.p);
    tr_tz_free(tz);
}

static void test_emit_bill_without_period_is_refused(void **state)
{
    (void)state;
    tr_tz *tz = chicago();
    bill_input in[2];
    tr_line_item plain[2], detailed[2];
    mem m = {0};
    eg_err err;
    two_bill_inputs(tz, in, plain, detailed);
    assert_int_equal(emit_bills(&in[1], 1, tz, &m, &err), EG_EDATA);
    assert_non_null(strstr(err.msg, "no billing period"));
    assert_null(m.p);
    tr_tz_free(tz);
}

static void test_emit_reading_of_days_must_run_midnight_to_midnight(void **state)
{
    (void)state;
    tr_tz *tz = chicago();
    bill_input in[2];
    tr_line_item plain[2], detailed[2];
    mem m = {0};
    eg_err err;
    two_bill_inputs(tz, in, plain, detailed);
    in[0].start += 3600;
    in[0].bill.start += 3600;
    assert_int_equal(emit_bills(in, 1, tz, &m, &err), EG_EDATA);
    assert_non_null(strstr(err.msg, "crosses local midnight"));
    free(m.p);
    tr_tz_free(tz);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_emit_bill_from_two_inputs_is_one_usage_summary),
        cmocka_unit_test(test_emit_bill_inputs_that_disagree_are_refused),
        cmocka_unit_test(test_emit_bill_without_period_is_refused),
        cmocka_unit_test(test_emit_reading_of_days_must_run_midnight_to_midnight),
        cmocka_unit_test(test_emit_spring_forward_day_is_one_block_of_92),
        cmocka_unit_test(test_emit_fall_back_day_is_one_block_of_100),
        cmocka_unit_test(test_emit_local_time_parameters_chicago),
        cmocka_unit_test(test_emit_reading_type_carries_tou_cpp_and_tier_only_when_set),
        cmocka_unit_test(test_emit_block_starts_with_its_first_reading),
        cmocka_unit_test(test_emit_same_input_gives_identical_bytes),
        cmocka_unit_test(test_emit_totals_in_equal_totals_out_and_gaps_stay_gaps),
        cmocka_unit_test(test_emit_two_readings_at_one_instant_are_refused),
        cmocka_unit_test(test_emit_channel_redeclared_with_other_facts_is_refused),
        cmocka_unit_test(test_emit_usage_point_selection),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
