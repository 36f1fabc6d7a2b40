/* uri.c -- ESPI REST URIs and the Atom links built from them.
 *
 * One resource, one URI; every link we write is derived here so the graph
 * the GBA function-block tests walk (FB_01/FB_04/FB_15: UsagePoint related
 * = the MeterReading collection a MeterReading's `up` names, and so on) is
 * consistent by construction:
 *
 *   UsagePoint    self  {sub}/UsagePoint/{up}          up {sub}/UsagePoint
 *                 related {sub}/UsagePoint/{up}/MeterReading
 *                         [{sub}/UsagePoint/{up}/UsageSummary]
 *                         [{sub}/UsagePoint/{up}/ElectricPowerQualitySummary]
 *                         [{base}/LocalTimeParameters/{ltp}]
 *   MeterReading  self  {upuri}/MeterReading/{mr}      up {upuri}/MeterReading
 *                 related {upuri}/MeterReading/{mr}/IntervalBlock, {base}/ReadingType/{rt}
 *   IntervalBlock self  {mruri}/IntervalBlock/{ib}     up {mruri}/IntervalBlock
 *   UsageSummary, ElectricPowerQualitySummary: like IntervalBlock under {upuri}
 *   ReadingType, LocalTimeParameters: top level {base}/Kind/{id}, up {base}/Kind
 *
 * where {sub} is {base}/Subscription/{sid}, or just {base} when sid is NULL
 * or "" (a Download-My-Data file has no subscription).  A trailing '/' on
 * base is ignored.  URIs longer than ESPI_URI_MAX - 1 are truncated (base
 * URLs are configuration, ids are UUIDs: nothing real comes close). */
#include "uri.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* out = the NULL-terminated list of parts, concatenated and truncated to
 * ESPI_URI_MAX - 1 bytes (out may not alias a part). */
static void uri_join(char out[ESPI_URI_MAX], ...)
{
    va_list ap;
    size_t n = 0;
    const char *part;
    va_start(ap, out);
    while ((part = va_arg(ap, const char *)) != NULL) {
        size_t k = strlen(part);
        if (k > ESPI_URI_MAX - 1 - n) k = ESPI_URI_MAX - 1 - n;
        memcpy(out + n, part, k);
        n += k;
    }
    va_end(ap);
    out[n] = '\0';
}

/* base without trailing slashes, into out. */
static void trim_base(char out[ESPI_URI_MAX], const char *base)
{
    uri_join(out, base ? base : "", (const char *)NULL);
    size_t n = strlen(out);
    while (n > 0 && out[n - 1] == '/') out[--n] = '\0';
}

static void set_link(espi_link *l, const char *rel, const char *href)
{
    snprintf(l->rel, sizeof l->rel, "%s", rel);
    uri_join(l->href, href, (const char *)NULL);
    l->type[0] = '\0';
}

/* {base}[/Subscription/{sid}]/UsagePoint/{up} into out. */
static void usage_point_uri(char out[ESPI_URI_MAX], const char *base, const char *sid, const char *up)
{
    char b[ESPI_URI_MAX];
    trim_base(b, base);
    if (sid && *sid)
        uri_join(out, b, "/Subscription/", sid, "/UsagePoint/", up, (const char *)NULL);
    else
        uri_join(out, b, "/UsagePoint/", up, (const char *)NULL);
}

/* self = {parent}/{kind}/{id}, up = {parent}/{kind}, no related links. */
static void self_and_up(espi_entry *e, const char *parent, const char *kind, const char *id)
{
    char href[ESPI_URI_MAX];
    uri_join(href, parent, "/", kind, "/", id, (const char *)NULL);
    set_link(&e->self, "self", href);
    uri_join(href, parent, "/", kind, (const char *)NULL);
    set_link(&e->up, "up", href);
    e->n_related = 0;
}

/* Add "related" = a + b (b may be ""). */
static void add_related2(espi_entry *e, const char *a, const char *b)
{
    char href[ESPI_URI_MAX];
    uri_join(href, a, b, (const char *)NULL);
    espi_entry_add_related(e, href);
}

void espi_entry_add_related(espi_entry *e, const char *href)
{
    if (e->n_related < 0) e->n_related = 0;
    if (e->n_related >= ESPI_MAX_RELATED) return;
    set_link(&e->related[e->n_related++], "related", href);
}

void espi_links_usage_point(espi_entry *e, const char *base, const char *sid, const char *up,
                            const char *ltp, int has_summary, int has_quality_summary)
{
    char b[ESPI_URI_MAX], upuri[ESPI_URI_MAX], coll[ESPI_URI_MAX];
    trim_base(b, base);
    usage_point_uri(upuri, base, sid, up);
    set_link(&e->self, "self", upuri);
    if (sid && *sid)
        uri_join(coll, b, "/Subscription/", sid, "/UsagePoint", (const char *)NULL);
    else
        uri_join(coll, b, "/UsagePoint", (const char *)NULL);
    set_link(&e->up, "up", coll);
    e->n_related = 0;
    add_related2(e, upuri, "/MeterReading");
    if (has_summary) add_related2(e, upuri, "/UsageSummary");
    if (has_quality_summary) add_related2(e, upuri, "/ElectricPowerQualitySummary");
    if (ltp && *ltp) {
        char href[ESPI_URI_MAX];
        uri_join(href, b, "/LocalTimeParameters/", ltp, (const char *)NULL);
        espi_entry_add_related(e, href);
    }
}

void espi_links_meter_reading(espi_entry *e, const char *base, const char *sid, const char *up,
                              const char *mr, const char *rt)
{
    char upuri[ESPI_URI_MAX], self[ESPI_URI_MAX];
    usage_point_uri(upuri, base, sid, up);
    self_and_up(e, upuri, "MeterReading", mr);
    uri_join(self, e->self.href, (const char *)NULL);
    add_related2(e, self, "/IntervalBlock");
    if (rt && *rt) {
        char b[ESPI_URI_MAX], href[ESPI_URI_MAX];
        trim_base(b, base);
        uri_join(href, b, "/ReadingType/", rt, (const char *)NULL);
        espi_entry_add_related(e, href);
    }
}

void espi_links_reading_type(espi_entry *e, const char *base, const char *rt)
{
    char b[ESPI_URI_MAX];
    trim_base(b, base);
    self_and_up(e, b, "ReadingType", rt);
}

void espi_links_interval_block(espi_entry *e, const char *base, const char *sid, const char *up,
                               const char *mr, const char *ib)
{
    char upuri[ESPI_URI_MAX], mruri[ESPI_URI_MAX];
    usage_point_uri(upuri, base, sid, up);
    uri_join(mruri, upuri, "/MeterReading/", mr, (const char *)NULL);
    self_and_up(e, mruri, "IntervalBlock", ib);
}

void espi_links_usage_summary(espi_entry *e, const char *base, const char *sid, const char *up,
                              const char *us)
{
    char upuri[ESPI_URI_MAX];
    usage_point_uri(upuri, base, sid, up);
    self_and_up(e, upuri, "UsageSummary", us);
}

void espi_links_power_quality_summary(espi_entry *e, const char *base, const char *sid,
                                      const char *up, const char *q)
{
    char upuri[ESPI_URI_MAX];
    usage_point_uri(upuri, base, sid, up);
    self_and_up(e, upuri, "ElectricPowerQualitySummary", q);
}

void espi_links_local_time_parameters(espi_entry *e, const char *base, const char *ltp)
{
    char b[ESPI_URI_MAX];
    trim_base(b, base);
    self_and_up(e, b, "LocalTimeParameters", ltp);
}

void espi_uri_batch_subscription(char out[ESPI_URI_MAX], const char *base, const char *sid)
{
    char b[ESPI_URI_MAX];
    trim_base(b, base);
    uri_join(out, b, "/Batch/Subscription/", sid ? sid : "", (const char *)NULL);
}
