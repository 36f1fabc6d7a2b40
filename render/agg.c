/* agg.c -- stream a feed's resources into the render aggregate.
 *
 * Pass 1 (render_agg_meta) keeps only what Atom lets appear anywhere and
 * the data needs: usage points, MeterReadings with their ReadingType link,
 * ReadingTypes and the first LocalTimeParameters.  Pass 2
 * (render_agg_data) folds every IntervalReading into a day row of its
 * channel -- the local calendar day its interval starts in -- and into
 * the channel's local-hour profile, and copies UsageSummaries with their
 * line items.  Everything is bounded by the RENDER_MAX_* limits; a feed
 * that needs more ends with EG_ELIMIT and a message naming the limit.
 *
 * A channel is one MeterReading, found from an IntervalBlock's self link
 * (".../MeterReading/1/IntervalBlock/7") or else its up link
 * (".../MeterReading/1/IntervalBlock"). */
#include <stdlib.h>
#include <string.h>

#include "render_int.h"

void render_opts_init(render_opts *o)
{
    memset(o, 0, sizeof *o);
    o->max_day_rows = RENDER_MAX_DAY_ROWS;
}

render_agg *render_agg_new(const render_opts *o)
{
    render_agg *a = calloc(1, sizeof *a);
    if (!a) return NULL;
    render_opts_init(&a->o);
    if (o) a->o = *o;
    if (!a->o.max_day_rows || a->o.max_day_rows > UINT32_MAX / 4)
        a->o.max_day_rows = RENDER_MAX_DAY_ROWS;
    a->feed_updated = ESPI_NONE;
    a->last_ch = -1;
    a->ups = calloc(RENDER_MAX_USAGE_POINTS, sizeof *a->ups);
    a->chs = calloc(RENDER_MAX_CHANNELS, sizeof *a->chs);
    a->rts = calloc(RENDER_MAX_READING_TYPES, sizeof *a->rts);
    if (!a->ups || !a->chs || !a->rts) {
        render_agg_free(a);
        return NULL;
    }
    return a;
}

void render_agg_free(render_agg *a)
{
    if (!a) return;
    free(a->ups);
    free(a->chs);
    free(a->rts);
    free(a->sums);
    free(a->items);
    free(a->days);
    free(a->index);
    free(a);
}

int render_agg_head(render_agg *a, const espi_feed_head *h, eg_err *err)
{
    snprintf(a->feed_title, sizeof a->feed_title, "%s", h->title);
    snprintf(a->feed_id, sizeof a->feed_id, "%s", h->id);
    a->feed_updated = h->updated;
    return 0;
}

/* ---- keys and lookups -------------------------------------------------- */

/* Cut key at the first "/<seg>" that is followed by '/' or the end; returns
 * 1 when found. */
static int cut_at_segment(char *key, const char *seg)
{
    size_t n = strlen(seg);
    for (char *p = strstr(key, seg); p; p = strstr(p + 1, seg)) {
        if ((p == key || p[-1] == '/') && (p[n] == '/' || p[n] == '\0')) {
            *(p == key ? p : p - 1) = '\0';
            return 1;
        }
    }
    return 0;
}

static int find_up(const render_agg *a, const char *key)
{
    for (int i = 0; i < a->n_ups; i++)
        if (strcmp(a->ups[i].key, key) == 0) return i;
    return -1;
}

/* The usage point of a MeterReading key, created (not in feed) if needed. */
static int up_of_channel(render_agg *a, const char *mr_key)
{
    char key[ESPI_URI_MAX];
    snprintf(key, sizeof key, "%s", mr_key);
    if (!cut_at_segment(key, "MeterReading")) return -1;
    int i = find_up(a, key);
    if (i >= 0 || a->n_ups >= RENDER_MAX_USAGE_POINTS) return i;
    render_up *u = &a->ups[a->n_ups];
    memset(u, 0, sizeof *u);
    snprintf(u->key, sizeof u->key, "%s", key);
    u->service_kind = ESPI_NONE;
    return a->n_ups++;
}

static int find_channel(render_agg *a, const char *key)
{
    if (a->last_ch >= 0 && strcmp(a->chs[a->last_ch].key, key) == 0) return a->last_ch;
    for (int i = 0; i < a->n_chs; i++)
        if (strcmp(a->chs[i].key, key) == 0) return a->last_ch = i;
    return -1;
}

static int add_channel(render_agg *a, const char *key, eg_err *err)
{
    int i = find_channel(a, key);
    if (i >= 0) return i;
    if (a->n_chs >= RENDER_MAX_CHANNELS) {
        eg_errf(err, EG_ELIMIT, NULL, 0, 0,
                "more than %d MeterReadings (render limit RENDER_MAX_CHANNELS); render one "
                "usage point at a time",
                RENDER_MAX_CHANNELS);
        return -1;
    }
    render_channel *c = &a->chs[a->n_chs];
    memset(c, 0, sizeof *c);
    snprintf(c->key, sizeof c->key, "%s", key);
    c->rt = -1;
    c->up = up_of_channel(a, key);
    c->first = c->last_end = c->min_day = c->max_day = ESPI_NONE;
    c->min_duration = c->max_duration = ESPI_NONE;
    return a->last_ch = a->n_chs++;
}

int render_agg_channel(render_agg *a, const espi_entry *e, eg_err *err)
{
    char key[ESPI_URI_MAX];
    if (!e) return -1;
    render_href_key(e->self.href, key, sizeof key);
    if (!cut_at_segment(key, "IntervalBlock")) {
        render_href_key(e->up.href, key, sizeof key);
        if (!cut_at_segment(key, "IntervalBlock")) return -1;
    }
    return add_channel(a, key, err);
}

const espi_reading_type *render_agg_rt(const render_agg *a, int ch)
{
    if (ch < 0 || ch >= a->n_chs || a->chs[ch].rt < 0) return NULL;
    return &a->rts[a->chs[ch].rt].rt;
}

/* ---- pass 1 ------------------------------------------------------------ */

static int meta_usage_point(render_agg *a, const espi_resource *r, eg_err *err)
{
    char key[ESPI_URI_MAX];
    render_href_key(r->entry->self.href, key, sizeof key);
    int i = find_up(a, key);
    if (i < 0) {
        if (a->n_ups >= RENDER_MAX_USAGE_POINTS)
            return eg_errf(err, EG_ELIMIT, NULL, r->entry->line, 0,
                           "more than %d UsagePoints (render limit RENDER_MAX_USAGE_POINTS); "
                           "split the feed per usage point",
                           RENDER_MAX_USAGE_POINTS);
        i = a->n_ups++;
        memset(&a->ups[i], 0, sizeof a->ups[i]);
        snprintf(a->ups[i].key, sizeof a->ups[i].key, "%s", key);
    }
    render_up *u = &a->ups[i];
    u->in_feed = 1;
    snprintf(u->title, sizeof u->title, "%s", r->entry->title);
    u->service_kind = r->u.usage_point.service_kind;
    return 0;
}

static int meta_meter_reading(render_agg *a, const espi_resource *r, eg_err *err)
{
    char key[ESPI_URI_MAX];
    render_href_key(r->entry->self.href, key, sizeof key);
    if (!*key) return 0;
    int ch = add_channel(a, key, err);
    if (ch < 0) return err ? err->code : EG_ELIMIT;
    render_channel *c = &a->chs[ch];
    snprintf(c->title, sizeof c->title, "%s", r->entry->title);
    for (int i = 0; i < r->entry->n_related; i++) {
        char rk[ESPI_URI_MAX];
        render_href_key(r->entry->related[i].href, rk, sizeof rk);
        const char *p = strstr(rk, "ReadingType/");
        if (p && (p == rk || p[-1] == '/')) snprintf(c->rt_key, sizeof c->rt_key, "%s", p);
    }
    return 0;
}

static int meta_reading_type(render_agg *a, const espi_resource *r, eg_err *err)
{
    if (a->n_rts >= RENDER_MAX_READING_TYPES)
        return eg_errf(err, EG_ELIMIT, NULL, r->entry->line, 0,
                       "more than %d ReadingTypes (render limit RENDER_MAX_READING_TYPES)",
                       RENDER_MAX_READING_TYPES);
    render_rt *t = &a->rts[a->n_rts++];
    char key[ESPI_URI_MAX];
    render_href_key(r->entry->self.href, key, sizeof key);
    const char *p = strstr(key, "ReadingType/");
    snprintf(t->key, sizeof t->key, "%s", p ? p : key);
    snprintf(t->title, sizeof t->title, "%s", r->entry->title);
    t->rt = r->u.reading_type;
    return 0;
}

static void meta_local_time(render_agg *a, const espi_resource *r)
{
    const espi_local_time_parameters *p = &r->u.local_time_parameters;
    if (a->n_ltp++ == 0) {
        a->ltp0 = *p;
        render_ltime_set(&a->lt, p, r->entry ? r->entry->title : "");
        return;
    }
    if (p->tz_offset != a->ltp0.tz_offset || p->dst_offset != a->ltp0.dst_offset ||
        p->dst_start_rule != a->ltp0.dst_start_rule || p->dst_end_rule != a->ltp0.dst_end_rule)
        a->ltp_differ = 1;
}

int render_agg_meta(render_agg *a, const espi_resource *r, eg_err *err)
{
    if (r->type == ESPI_RES_LOCAL_TIME_PARAMETERS) {
        meta_local_time(a, r);
        return 0;
    }
    if (!r->entry) return 0;
    switch (r->type) {
    case ESPI_RES_USAGE_POINT: return meta_usage_point(a, r, err);
    case ESPI_RES_METER_READING: return meta_meter_reading(a, r, err);
    case ESPI_RES_READING_TYPE: return meta_reading_type(a, r, err);
    default: return 0;
    }
}

void render_agg_resolve(render_agg *a)
{
    for (int i = 0; i < a->n_chs; i++) {
        render_channel *c = &a->chs[i];
        if (c->up < 0) c->up = up_of_channel(a, c->key);
        for (int j = 0; j < a->n_rts && c->rt < 0 && *c->rt_key; j++) {
            size_t n = strlen(a->rts[j].key), m = strlen(c->rt_key);
            /* "ReadingType/07" matches ".../ReadingType/07" either way round */
            if (n >= m ? strcmp(a->rts[j].key + n - m, c->rt_key) == 0
                       : strcmp(c->rt_key + m - n, a->rts[j].key) == 0)
                c->rt = j;
        }
    }
}

/* ---- day rows ---------------------------------------------------------- */

static size_t hash_day(int ch, int64_t day, size_t cap)
{
    uint64_t h = (uint64_t)day * 0x9E3779B97F4A7C15ull ^ ((uint64_t)ch * 0xC2B2AE3D27D4EB4Full);
    h ^= h >> 29;
    return (size_t)(h & (cap - 1));
}

static int grow_index(render_agg *a)
{
    size_t cap = a->index_cap ? a->index_cap * 2 : 1024;
    uint32_t *ix = calloc(cap, sizeof *ix);
    if (!ix) return EG_ENOMEM;
    for (size_t i = 0; i < a->n_days; i++) {
        size_t h = hash_day(a->days[i].ch, a->days[i].day, cap);
        while (ix[h]) h = (h + 1) & (cap - 1);
        ix[h] = (uint32_t)(i + 1);
    }
    free(a->index);
    a->index = ix;
    a->index_cap = cap;
    return 0;
}

/* The row of (ch, day), created when absent.  NULL with err set. */
static render_day *day_row(render_agg *a, int ch, int64_t day, eg_err *err)
{
    if (a->index_cap) {
        size_t h = hash_day(ch, day, a->index_cap);
        for (; a->index[h]; h = (h + 1) & (a->index_cap - 1)) {
            render_day *d = &a->days[a->index[h] - 1];
            if (d->ch == ch && d->day == day) return d;
        }
    }
    if (a->n_days >= a->o.max_day_rows) {
        eg_errf(err, EG_ELIMIT, NULL, 0, 0,
                "the feed needs more than %zu day rows (channels x local days; render limit "
                "RENDER_MAX_DAY_ROWS): render fewer usage points or a shorter period, e.g. "
                "split the feed or export a smaller date range",
                a->o.max_day_rows);
        return NULL;
    }
    if ((a->n_days + 1) * 2 > a->index_cap && grow_index(a)) goto nomem;
    if (a->n_days == a->cap_days) {
        size_t cap = a->cap_days ? a->cap_days * 2 : 256;
        render_day *g = realloc(a->days, cap * sizeof *g);
        if (!g) goto nomem;
        a->days = g;
        a->cap_days = cap;
    }
    render_day *d = &a->days[a->n_days];
    memset(d, 0, sizeof *d);
    d->ch = ch;
    d->day = day;
    size_t h = hash_day(ch, day, a->index_cap);
    while (a->index[h]) h = (h + 1) & (a->index_cap - 1);
    a->index[h] = (uint32_t)(++a->n_days);
    render_channel *c = &a->chs[ch];
    if (c->min_day == ESPI_NONE || day < c->min_day) c->min_day = day;
    if (c->max_day == ESPI_NONE || day > c->max_day) c->max_day = day;
    return d;
nomem:
    eg_errf(err, EG_ENOMEM, NULL, 0, 0, "out of memory for %zu day rows", a->n_days);
    return NULL;
}

/* ---- pass 2 ------------------------------------------------------------ */

static int add_checked(int64_t *sum, int64_t v, long line, eg_err *err)
{
    if (__builtin_add_overflow(*sum, v, sum))
        return eg_errf(err, EG_EDATA, NULL, line, 0,
                       "sum of interval values overflows a 64-bit integer (value %lld)",
                       (long long)v);
    return 0;
}

static int fold_reading(render_agg *a, int ch, const espi_interval_reading *r, int64_t dflt_dur,
                        long line, eg_err *err)
{
    render_channel *c = &a->chs[ch];
    const espi_reading_type *rt = render_agg_rt(a, ch);
    int64_t start = r->time_period.start;
    int64_t dur = r->time_period.duration != ESPI_NONE ? r->time_period.duration : dflt_dur;
    int rc = 0;
    if (start == ESPI_NONE || dur == ESPI_NONE || dur <= 0) return 0;
    render_day *d = day_row(a, ch, render_local_day(&a->lt, start), err);
    if (!d) return err ? err->code : EG_ELIMIT;
    if (c->first == ESPI_NONE || start < c->first) c->first = start;
    if (c->last_end == ESPI_NONE || start + dur > c->last_end) c->last_end = start + dur;
    if (c->min_duration == ESPI_NONE || dur < c->min_duration) c->min_duration = dur;
    if (c->max_duration == ESPI_NONE || dur > c->max_duration) c->max_duration = dur;
    if (r->value == ESPI_NONE) {
        d->nodata++;
        c->n_nodata++;
        return 0;
    }
    if ((rc = add_checked(&d->sum, r->value, line, err))) return rc;
    if ((rc = add_checked(&c->total, r->value, line, err))) return rc;
    d->secs += dur;
    c->secs += dur;
    d->n++;
    c->n_readings++;
    if (r->cost != ESPI_NONE) {
        if ((rc = add_checked(&d->cost, r->cost, line, err))) return rc;
        if ((rc = add_checked(&c->cost_total, r->cost, line, err))) return rc;
        d->has_cost = c->has_cost = 1;
    }
    int q = render_quality_class(r->qualities, r->n_qualities,
                                 rt ? rt->default_quality : ESPI_NONE);
    if (q == 1) d->est++, c->n_est++;
    if (q == 2) d->flagged++, c->n_flagged++;
    if (dur <= 3600) {
        int64_t local = start + render_ltime_offset(&a->lt, start);
        int64_t sod = ((local % 86400) + 86400) % 86400;
        render_hour *h = &c->hours[sod / 3600];
        if ((rc = add_checked(&h->sum, r->value, line, err))) return rc;
        h->secs += dur;
        h->n++;
    }
    return 0;
}

static int data_block(render_agg *a, const espi_resource *r, eg_err *err)
{
    const espi_interval_block *b = &r->u.interval_block;
    int ch = render_agg_channel(a, r->entry, err);
    if (ch < 0) {
        if (err && err->code) return err->code;
        a->blocks_unlinked++;
        return 0;
    }
    const espi_reading_type *rt = render_agg_rt(a, ch);
    int64_t dflt = rt && rt->interval_length > 0 ? rt->interval_length : ESPI_NONE;
    if (dflt == ESPI_NONE && b->n_readings && b->interval.duration > 0)
        dflt = b->interval.duration / (int64_t)b->n_readings;
    for (size_t i = 0; i < b->n_readings; i++) {
        int rc = fold_reading(a, ch, &b->readings[i], dflt, r->entry ? r->entry->line : 0, err);
        if (rc) return rc;
    }
    return 0;
}

static int data_summary(render_agg *a, const espi_resource *r, eg_err *err)
{
    const espi_usage_summary *s = &r->u.usage_summary;
    long line = r->entry ? r->entry->line : 0;
    if (a->n_sums >= RENDER_MAX_SUMMARIES)
        return eg_errf(err, EG_ELIMIT, NULL, line, 0,
                       "more than %d UsageSummaries (render limit RENDER_MAX_SUMMARIES); split "
                       "the feed or export fewer billing periods",
                       RENDER_MAX_SUMMARIES);
    if (a->n_items + s->n_line_items > RENDER_MAX_LINE_ITEMS)
        return eg_errf(err, EG_ELIMIT, NULL, line, 0,
                       "more than %d bill line items in all (render limit "
                       "RENDER_MAX_LINE_ITEMS); export fewer billing periods",
                       RENDER_MAX_LINE_ITEMS);
    if (!a->sums && !(a->sums = calloc(RENDER_MAX_SUMMARIES, sizeof *a->sums)))
        return eg_errf(err, EG_ENOMEM, NULL, 0, 0, "out of memory for usage summaries");
    if (s->n_line_items) {
        render_item *g = realloc(a->items, (a->n_items + s->n_line_items) * sizeof *g);
        if (!g) return eg_errf(err, EG_ENOMEM, NULL, 0, 0, "out of memory for line items");
        a->items = g;
    }
    render_summary *m = &a->sums[a->n_sums++];
    m->s = *s;
    m->s.line_items = NULL;
    m->first_item = a->n_items;
    m->n_items = s->n_line_items;
    m->up = -1;
    for (size_t i = 0; i < s->n_line_items; i++) {
        render_item *it = &a->items[a->n_items++];
        it->amount = s->line_items[i].amount;
        it->date_time = s->line_items[i].date_time;
        it->kind = s->line_items[i].item_kind;
        snprintf(it->note, sizeof it->note, "%s", s->line_items[i].note);
    }
    if (!r->entry) return 0;
    snprintf(m->title, sizeof m->title, "%s", r->entry->title);
    /* ".../UsagePoint/1/UsageSummary[/id]" names its usage point */
    const char *links[] = {r->entry->up.href, r->entry->self.href};
    for (int i = 0; i < 2 && m->up < 0; i++) {
        char key[ESPI_URI_MAX];
        render_href_key(links[i], key, sizeof key);
        if (cut_at_segment(key, "UsageSummary") || cut_at_segment(key, "ElectricPowerUsageSummary"))
            if (strstr(key, "UsagePoint/")) m->up = find_up(a, key);
    }
    if (m->up < 0 && a->n_ups == 1) m->up = 0;
    return 0;
}

int render_agg_data(render_agg *a, const espi_resource *r, eg_err *err)
{
    switch (r->type) {
    case ESPI_RES_INTERVAL_BLOCK: return data_block(a, r, err);
    case ESPI_RES_USAGE_SUMMARY: return data_summary(a, r, err);
    default: return 0;
    }
}

/* ---- finish ------------------------------------------------------------ */

static int cmp_day(const void *x, const void *y)
{
    const render_day *a = x, *b = y;
    if (a->ch != b->ch) return a->ch < b->ch ? -1 : 1;
    return a->day < b->day ? -1 : a->day > b->day;
}

/* Days inside a channel's span with fewer reading-seconds than the day
 * holds: count the intervals missing; days without any reading get a row. */
static int fill_missing(render_agg *a, int ch, eg_err *err)
{
    render_channel *c = &a->chs[ch];
    int64_t len = c->min_duration;
    if (c->min_day == ESPI_NONE || len == ESPI_NONE || len <= 0 || len >= 86400 ||
        c->max_duration != len)
        return 0;
    for (int64_t day = c->min_day; day <= c->max_day; day++) {
        render_day *d = day_row(a, ch, day, err);
        if (!d) return err ? err->code : EG_ELIMIT;
        c = &a->chs[ch];
        int64_t from = render_local_midnight(&a->lt, day);
        int64_t length = render_local_day_length(&a->lt, day);
        int64_t lo = from > c->first ? from : c->first;
        int64_t hi = from + length < c->last_end ? from + length : c->last_end;
        int64_t gap = hi - lo - d->secs;
        if (gap > 0) {
            d->missing = (long)(gap / len);
            c->n_missing += d->missing;
        }
    }
    return 0;
}

int render_agg_finish(render_agg *a, eg_err *err)
{
    if (a->finished) return 0;
    for (int i = 0; i < a->n_chs; i++) {
        int rc = fill_missing(a, i, err);
        if (rc) return rc;
    }
    if (a->n_days) qsort(a->days, a->n_days, sizeof *a->days, cmp_day);
    free(a->index);
    a->index = NULL;
    a->index_cap = 0;
    a->finished = 1;
    return 0;
}
