/* aggxml.c -- the render aggregate as XML, the only input of feed.xsl.
 *
 * Our own small vocabulary (docs/render.md):
 *
 *   <report version="1"> <title/> <source/> <feed/> <time/>
 *     <usage-point title service>
 *       <channel title reading-type unit role ...>
 *         <day date dow value cost n est flagged missing nodata hours/>...
 *         <hour h label avg n/>...                   (24, when meaningful)
 *       </channel>
 *       <net unit> <day date import export net/>... </net>
 *       <summary ...> <item kind date amount note/>... </summary>
 *     </usage-point>
 *     <notes> <note/>... </notes>
 *   </report>
 *
 * Every number is already formatted here, exactly (num.c), in the unit
 * people read (kWh, not Wh x 10^0); the stylesheet only lays it out and
 * uses number() for chart geometry.  Text from the feed goes through
 * xmlTextWriter, which escapes it; characters XML cannot carry (from the
 * command line) are replaced by '?'. */
#include <libxml/chvalid.h>
#include <libxml/xmlstring.h>
#include <libxml/xmlwriter.h>
#include <stdlib.h>
#include <string.h>

#include "render_int.h"

typedef struct xw {
    xmlTextWriterPtr w;
    int rc;                 /* first libxml2 failure */
} xw;

/* Copy s into out with characters XML cannot carry (controls, bad
 * UTF-8, surrogates) made '?'; truncates at a character boundary. */
static void clean_text(const char *s, char *out, size_t size)
{
    size_t n = 0, left = strlen(s);
    const unsigned char *p = (const unsigned char *)s;
    while (left && n + 5 < size) {
        int len = left > 4 ? 4 : (int)left;
        int c = xmlGetUTF8Char(p, &len);
        if (c < 0 || !xmlIsCharQ(c)) {
            out[n++] = '?';
            p++;
            left--;
            continue;
        }
        memcpy(out + n, p, (size_t)len);
        n += (size_t)len;
        p += len;
        left -= (size_t)len;
    }
    out[n] = '\0';
}

static void attr(xw *x, const char *name, const char *value)
{
    char buf[ESPI_URI_MAX + 16];
    clean_text(value ? value : "", buf, sizeof buf);
    if (!x->rc && xmlTextWriterWriteAttribute(x->w, BAD_CAST name, BAD_CAST buf) < 0)
        x->rc = EG_ENOMEM;
}

static void attr_int(xw *x, const char *name, long long v)
{
    char buf[32];
    snprintf(buf, sizeof buf, "%lld", v);
    attr(x, name, buf);
}

static void start(xw *x, const char *name)
{
    if (!x->rc && xmlTextWriterStartElement(x->w, BAD_CAST name) < 0) x->rc = EG_ENOMEM;
}

static void end(xw *x)
{
    if (!x->rc && xmlTextWriterEndElement(x->w) < 0) x->rc = EG_ENOMEM;
}

static void text_element(xw *x, const char *name, const char *value)
{
    char buf[ESPI_URI_MAX + 16];
    clean_text(value, buf, sizeof buf);
    if (!x->rc && xmlTextWriterWriteElement(x->w, BAD_CAST name, BAD_CAST buf) < 0)
        x->rc = EG_ENOMEM;
}

static void note(xw *x, const char *level, const char *msg)
{
    start(x, "note");
    attr(x, "level", level);
    if (!x->rc && xmlTextWriterWriteString(x->w, BAD_CAST msg) < 0) x->rc = EG_ENOMEM;
    end(x);
}

static void money(xw *x, const char *name, int64_t v)
{
    char buf[48];
    if (v == ESPI_NONE || render_ratio(v, 100000, 0, 2, buf, sizeof buf)) return;
    attr(x, name, buf);
}

static void local_time_attr(xw *x, const render_agg *a, const char *name, int64_t t)
{
    char buf[40];
    if (t == ESPI_NONE) return;
    render_local_format(&a->lt, t, buf, sizeof buf);
    buf[16] = '\0'; /* "2012-03-11T03:00" */
    buf[10] = ' ';
    attr(x, name, buf);
}

/* ---- pieces ------------------------------------------------------------ */

static void write_time(xw *x, const render_agg *a)
{
    char buf[64];
    start(x, "time");
    attr(x, "local", a->lt.valid ? "1" : "0");
    if (a->lt.valid) {
        attr(x, "name", a->lt.title);
        render_offset_format(a->lt.tz_offset, buf, sizeof buf);
        attr(x, "zone", buf);
        if (a->lt.has_dst) {
            render_offset_format(a->lt.tz_offset + a->lt.dst_offset, buf, sizeof buf);
            attr(x, "dst-zone", buf);
            render_dst_rule_words(a->lt.dst_start, buf, sizeof buf);
            attr(x, "dst-start", buf);
            render_dst_rule_words(a->lt.dst_end, buf, sizeof buf);
            attr(x, "dst-end", buf);
        }
    }
    end(x);
}

/* Display exponent of channel values: value x 10^exp in `unit`. */
static const char *channel_unit(const render_agg *a, int ch, int *exp10)
{
    const espi_reading_type *rt = render_agg_rt(a, ch);
    int ue = 0;
    const char *unit = rt ? render_unit(rt->uom, &ue) : "";
    int64_t p = rt && rt->power_of_ten_multiplier != ESPI_NONE ? rt->power_of_ten_multiplier : 0;
    if (p < -18 || p > 18) p = 0;
    *exp10 = (int)p - ue;
    return unit;
}

static int accumulates(const espi_reading_type *rt)
{
    if (!rt) return 0;
    switch (rt->uom) {
    case ESPI_UOM_WH: case ESPI_UOM_VARH: case ESPI_UOM_VAH: case ESPI_UOM_M3:
    case ESPI_UOM_M3_COMPENSATED: case ESPI_UOM_THERM: case ESPI_UOM_US_GALLON:
        return 1;
    default: return 0;
    }
}

static const char *channel_role(const espi_reading_type *rt)
{
    if (!rt) return "";
    switch (rt->flow_direction) {
    case ESPI_FLOW_FORWARD: return "import";
    case ESPI_FLOW_REVERSE: return "export";
    case ESPI_FLOW_NET: return "net";
    default: return "";
    }
}

static void write_day(xw *x, const render_agg *a, const render_day *d, int exp10, int has_cost)
{
    char buf[64];
    start(x, "day");
    render_day_format(d->day, buf, sizeof buf);
    attr(x, "date", buf);
    attr(x, "dow", render_day_weekday(d->day));
    if (d->n && !render_decimal(d->sum, exp10, buf, sizeof buf)) attr(x, "value", buf);
    if (has_cost && d->has_cost) money(x, "cost", d->cost);
    attr_int(x, "n", d->n);
    attr_int(x, "est", d->est);
    attr_int(x, "flagged", d->flagged);
    attr_int(x, "missing", d->missing);
    attr_int(x, "nodata", d->nodata);
    attr_int(x, "hours", render_local_day_length(&a->lt, d->day) / 3600);
    end(x);
}

static void write_profile(xw *x, const render_channel *c, int exp10)
{
    for (int h = 0; h < 24; h++) {
        char buf[64];
        start(x, "hour");
        attr_int(x, "h", h);
        snprintf(buf, sizeof buf, "%02d:00", h);
        attr(x, "label", buf);
        if (c->hours[h].secs > 0) {
            /* average per hour = sum x 3600 / seconds covered */
            char v[64];
            __int128 num = (__int128)c->hours[h].sum * 3600;
            if (num <= INT64_MAX && num >= INT64_MIN &&
                !render_ratio((int64_t)num, c->hours[h].secs, exp10, 3, v, sizeof v))
                attr(x, "avg", v);
        }
        attr_int(x, "n", c->hours[h].n);
        end(x);
    }
}

static void write_channel(xw *x, const render_agg *a, int ch, size_t *di)
{
    const render_channel *c = &a->chs[ch];
    const espi_reading_type *rt = render_agg_rt(a, ch);
    char buf[160];
    int exp10;
    const char *unit = channel_unit(a, ch, &exp10);
    start(x, "channel");
    snprintf(buf, sizeof buf, "ch%d", ch + 1);
    attr(x, "id", buf);
    attr(x, "title", *c->title ? c->title : "Meter reading");
    if (rt) {
        render_reading_type_words(rt, buf, sizeof buf);
        attr(x, "reading-type", buf);
        attr(x, "commodity", render_commodity_word(rt->commodity));
        if (rt->currency != ESPI_NONE) attr(x, "currency", render_currency_code(rt->currency));
    } else {
        attr(x, "reading-type", "unknown (no ReadingType linked)");
    }
    attr(x, "unit", unit);
    attr(x, "role", channel_role(rt));
    attr(x, "bucket", c->min_duration != ESPI_NONE && c->min_duration >= 86400 ? "period" : "day");
    if (c->min_duration != ESPI_NONE) attr_int(x, "interval", c->min_duration);
    attr_int(x, "readings", c->n_readings);
    if (c->n_readings && !render_decimal(c->total, exp10, buf, sizeof buf)) attr(x, "total", buf);
    if (c->has_cost) money(x, "cost-total", c->cost_total);
    local_time_attr(x, a, "first", c->first);
    local_time_attr(x, a, "last", c->last_end);
    attr_int(x, "est", c->n_est);
    attr_int(x, "flagged", c->n_flagged);
    attr_int(x, "missing", c->n_missing);
    attr_int(x, "nodata", c->n_nodata);
    for (; *di < a->n_days && a->days[*di].ch == ch; (*di)++)
        write_day(x, a, &a->days[*di], exp10, c->has_cost);
    if (accumulates(rt) && c->max_duration != ESPI_NONE && c->max_duration <= 3600)
        write_profile(x, c, exp10);
    end(x);
}

/* First channel of usage point u with the given flow and unit uom. */
static int channel_with_flow(const render_agg *a, int u, int64_t flow, int64_t uom)
{
    for (int i = 0; i < a->n_chs; i++) {
        const espi_reading_type *rt = render_agg_rt(a, i);
        if (a->chs[i].up == u && rt && rt->flow_direction == flow && (uom < 0 || rt->uom == uom) &&
            rt->power_of_ten_multiplier != ESPI_NONE && a->chs[i].n_readings)
            return i;
    }
    return -1;
}

static int64_t pow10i(int64_t e)
{
    int64_t r = 1;
    while (e-- > 0) r *= 10;
    return r;
}

/* Import/export/net per local day for a usage point with both flows. */
static void write_net(xw *x, const render_agg *a, int u, const size_t *first_row)
{
    int fi = channel_with_flow(a, u, ESPI_FLOW_FORWARD, -1);
    if (fi < 0) return;
    int ri = channel_with_flow(a, u, ESPI_FLOW_REVERSE, render_agg_rt(a, fi)->uom);
    if (ri < 0) return;
    int64_t pf = render_agg_rt(a, fi)->power_of_ten_multiplier;
    int64_t pr = render_agg_rt(a, ri)->power_of_ten_multiplier;
    if (pf < -18 || pf > 18 || pr < -18 || pr > 18) return;
    int64_t p = pf < pr ? pf : pr, sf = pow10i(pf - p), sr = pow10i(pr - p);
    int ue;
    const char *unit = render_unit(render_agg_rt(a, fi)->uom, &ue);
    int exp10 = (int)p - ue;
    start(x, "net");
    attr(x, "unit", unit);
    attr(x, "import", a->chs[fi].title);
    attr(x, "export", a->chs[ri].title);
    size_t i = first_row[fi], j = first_row[ri];
    while ((i < a->n_days && a->days[i].ch == fi) || (j < a->n_days && a->days[j].ch == ri)) {
        int hi = i < a->n_days && a->days[i].ch == fi, hj = j < a->n_days && a->days[j].ch == ri;
        int64_t day = hi && (!hj || a->days[i].day <= a->days[j].day) ? a->days[i].day : a->days[j].day;
        int64_t im = 0, ex = 0;
        if (hi && a->days[i].day == day) im = a->days[i++].sum;
        if (hj && a->days[j].day == day) ex = a->days[j++].sum;
        char buf[64];
        int64_t ims, exs, net;
        if (__builtin_mul_overflow(im, sf, &ims) || __builtin_mul_overflow(ex, sr, &exs) ||
            __builtin_sub_overflow(ims, exs, &net))
            continue;
        start(x, "day");
        render_day_format(day, buf, sizeof buf);
        attr(x, "date", buf);
        attr(x, "dow", render_day_weekday(day));
        render_decimal(ims, exp10, buf, sizeof buf);
        attr(x, "import", buf);
        render_decimal(exs, exp10, buf, sizeof buf);
        attr(x, "export", buf);
        render_decimal(net, exp10, buf, sizeof buf);
        attr(x, "net", buf);
        end(x);
    }
    end(x);
}

static void measurement_attr(xw *x, const char *name, const espi_summary_measurement *m)
{
    char buf[64], key[64];
    int ue = 0;
    if (m->value == ESPI_NONE) return;
    const char *unit = m->uom != ESPI_NONE ? render_unit(m->uom, &ue) : "";
    int64_t p = m->power_of_ten_multiplier != ESPI_NONE ? m->power_of_ten_multiplier : 0;
    if (p < -18 || p > 18 || render_decimal(m->value, (int)p - ue, buf, sizeof buf)) return;
    attr(x, name, buf);
    snprintf(key, sizeof key, "%s-unit", name);
    attr(x, key, unit);
}

static void write_summary(xw *x, const render_agg *a, const render_summary *m)
{
    const espi_usage_summary *s = &m->s;
    char buf[64];
    start(x, "summary");
    attr(x, "title", m->title);
    if (s->billing_period.start != ESPI_NONE) {
        local_time_attr(x, a, "start", s->billing_period.start);
        if (s->billing_period.duration != ESPI_NONE && s->billing_period.duration >= 0) {
            local_time_attr(x, a, "end", s->billing_period.start + s->billing_period.duration);
            render_ratio(s->billing_period.duration, 86400, 0, 1, buf, sizeof buf);
            attr(x, "days", buf);
        }
    }
    attr(x, "currency", s->currency != ESPI_NONE ? render_currency_code(s->currency) : "");
    money(x, "bill-last-period", s->bill_last_period);
    money(x, "bill-to-date", s->bill_to_date);
    money(x, "cost-additional", s->cost_additional_last_period);
    measurement_attr(x, "consumption-last-period", &s->overall_consumption_last_period);
    measurement_attr(x, "consumption-this-period", &s->current_billing_period_overall_consumption);
    measurement_attr(x, "peak-demand", &s->peak_demand);
    if (s->quality_of_reading != ESPI_NONE)
        attr(x, "quality", render_quality_word(s->quality_of_reading));
    local_time_attr(x, a, "status-time", s->status_time_stamp);
    for (size_t i = 0; i < m->n_items; i++) {
        const render_item *it = &a->items[m->first_item + i];
        start(x, "item");
        attr(x, "kind", render_item_kind_word(it->kind));
        if (it->date_time != ESPI_NONE) {
            render_local_format(&a->lt, it->date_time, buf, sizeof buf);
            buf[10] = '\0';
            attr(x, "date", buf);
        }
        money(x, "amount", it->amount);
        attr(x, "note", it->note);
        end(x);
    }
    end(x);
}

static void write_usage_point(xw *x, const render_agg *a, int u, const size_t *first_row)
{
    const render_up *up = &a->ups[u];
    start(x, "usage-point");
    attr(x, "title", *up->title ? up->title : up->key);
    attr(x, "service", up->service_kind != ESPI_NONE ? render_service_word(up->service_kind) : "");
    attr(x, "in-feed", up->in_feed ? "1" : "0");
    for (int i = 0; i < a->n_chs; i++) {
        size_t di = first_row[i];
        if (a->chs[i].up == u) write_channel(x, a, i, &di);
    }
    write_net(x, a, u, first_row);
    for (int i = 0; i < a->n_sums; i++)
        if (a->sums[i].up == u) write_summary(x, a, &a->sums[i]);
    end(x);
}

static void write_notes(xw *x, const render_agg *a)
{
    char buf[256];
    start(x, "notes");
    if (!a->lt.valid)
        note(x, "warn", "The feed has no usable LocalTimeParameters: times are shown in UTC.");
    if (a->ltp_differ)
        note(x, "warn", "The feed has LocalTimeParameters that disagree; times use the first one.");
    if (a->lt.valid && !a->lt.has_dst && a->ltp0.dst_start_rule != ESPI_DST_RULE_NONE)
        note(x, "warn", "The DST rules of LocalTimeParameters cannot be decoded: no DST applied.");
    if (a->blocks_unlinked) {
        snprintf(buf, sizeof buf,
                 "%ld IntervalBlocks have no link to a MeterReading and are not shown.",
                 a->blocks_unlinked);
        note(x, "warn", buf);
    }
    for (int i = 0; i < a->n_chs; i++)
        if (a->chs[i].rt < 0 && a->chs[i].n_readings) {
            snprintf(buf, sizeof buf,
                     "Meter reading %d has no ReadingType: values are shown as raw numbers.",
                     i + 1);
            note(x, "warn", buf);
        }
    int orphans = 0;
    for (int i = 0; i < a->n_sums; i++) orphans += a->sums[i].up < 0;
    if (orphans) {
        snprintf(buf, sizeof buf, "%d usage summaries name no usage point of this feed.", orphans);
        note(x, "warn", buf);
    }
    end(x);
}

static void write_report(xw *x, const render_agg *a)
{
    char buf[64];
    size_t *first_row = NULL;
    if (!(first_row = calloc((size_t)a->n_chs + 1, sizeof *first_row))) {
        x->rc = EG_ENOMEM;
        return;
    }
    for (int i = 0; i < a->n_chs; i++) first_row[i] = a->n_days;
    for (size_t i = a->n_days; i-- > 0;) first_row[a->days[i].ch] = i;
    start(x, "report");
    attr(x, "version", "1");
    attr(x, "generator", "espigate " ESPIGATE_VERSION);
    const char *title = a->o.title && *a->o.title ? a->o.title
                        : *a->feed_title           ? a->feed_title
                                                   : "Green Button data";
    text_element(x, "title", title);
    text_element(x, "source", a->o.source_name ? a->o.source_name : "");
    start(x, "feed");
    attr(x, "title", a->feed_title);
    attr(x, "id", a->feed_id);
    if (a->feed_updated != ESPI_NONE) {
        espi_time_format(a->feed_updated, buf, sizeof buf);
        attr(x, "updated", buf);
    }
    end(x);
    write_time(x, a);
    for (int u = 0; u < a->n_ups; u++) write_usage_point(x, a, u, first_row);
    write_notes(x, a);
    end(x);
    free(first_row);
}

int render_agg_xml(const render_agg *a, char **out, size_t *len, eg_err *err)
{
    xw x = {NULL, 0};
    xmlBufferPtr buf = NULL;
    int rc = 0;
    *out = NULL;
    if (!a->finished) return eg_errf(err, EG_ESOFTWARE, NULL, 0, 0, "render_agg_finish not called");
    if (!(buf = xmlBufferCreate()) || !(x.w = xmlNewTextWriterMemory(buf, 0))) {
        rc = EG_ENOMEM;
        goto done;
    }
    xmlTextWriterSetIndent(x.w, 1);
    if (xmlTextWriterStartDocument(x.w, NULL, "UTF-8", NULL) < 0) x.rc = EG_ENOMEM;
    write_report(&x, a);
    if (!x.rc && xmlTextWriterEndDocument(x.w) < 0) x.rc = EG_ENOMEM;
    xmlFreeTextWriter(x.w);
    x.w = NULL;
    if ((rc = x.rc)) goto done;
    *len = (size_t)xmlBufferLength(buf);
    if (!(*out = malloc(*len + 1))) {
        rc = EG_ENOMEM;
        goto done;
    }
    memcpy(*out, xmlBufferContent(buf), *len);
    (*out)[*len] = '\0';
done:
    if (x.w) xmlFreeTextWriter(x.w);
    if (buf) xmlBufferFree(buf);
    if (rc) eg_errf(err, rc, NULL, 0, 0, "out of memory writing the render aggregate");
    return rc;
}
