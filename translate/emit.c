/* emit.c -- translator output -> a streaming Download-My-Data feed (see emit.h).
 *
 * State.  A table of channels keyed by tr_channel.key and a table of usage
 * points keyed by tr_channel.usage_point, both filled by the scan; a map
 * from the current input's channel indices to table slots (translators
 * number channels per file, and two files may hold the same channel); and
 * per channel the readings of its current local day.  A day is written as
 * one IntervalBlock when the channel's first reading of a later day
 * arrives, or at tr_emit_end().  Readings of one channel arrive in time
 * order (tr.h promises it per input, and we check it across inputs), so a
 * day never reopens.
 *
 * Entries are written as they become known: UsagePoint when its first
 * channel is declared in the write pass, MeterReading and ReadingType with
 * the channel, IntervalBlocks as days complete.  Atom does not order
 * entries; each UsagePoint, MeterReading, ReadingType and the one
 * LocalTimeParameters appear exactly once because the tables remember what
 * was written. */
#include "emit.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "uri.h"

#define EMIT_SID_KEY_MAX (16 + TR_EMIT_MAX_USAGE_POINTS * TR_KEY_MAX)
#define MAP_UNDECLARED (-2)
#define MAP_DROPPED (-1)

typedef struct em_up {
    char key[TR_KEY_MAX];
    int64_t service_kind;
    int selected;
    int written;
    char id[37];
} em_up;

typedef struct em_chan {
    tr_emit_channel_stats st;
    int up;                          /* slot in the usage point table */
    int written;                     /* MeterReading + ReadingType written */
    char mrid[37], rtid[37];
    int64_t last_end;                /* write pass: end of the previous reading */
    int64_t day;                     /* local day number of the buffer, ESPI_NONE */
    int64_t day_start, day_end;
    espi_interval_reading *buf;
    size_t n, cap;
} em_chan;

struct tr_emit {
    tr_emit_opts o;
    const char *base;
    em_chan ch[TR_EMIT_MAX_CHANNELS];
    int n_ch;
    em_up up[TR_EMIT_MAX_USAGE_POINTS];
    int n_up;
    int map[TR_MAX_CHANNELS];        /* input channel index -> slot */
    const char *input;
    espi_writer *w;                  /* set by tr_emit_begin */
    char sid[37], ltp[37];
    int64_t first_start, last_end;   /* of the selected data (scan) */
    int64_t updated;
    int64_t entries;
    espi_entry e;                    /* reused for every entry (large) */
    char key[TR_KEY_MAX + 64];
};

/* ---- small helpers -------------------------------------------------------- */

void tr_emit_opts_init(tr_emit_opts *o)
{
    memset(o, 0, sizeof *o);
    o->updated = ESPI_NONE;
}

static const char *input_name(const tr_emit *e)
{
    return e->input ? e->input : "input";
}

/* Does usage point key match the selection (NULL = everything)? */
static int up_selected(const char *key, const char *want)
{
    if (!want || !*want) return 1;
    if (strcmp(key, want) == 0) return 1;
    size_t kl = strlen(key), wl = strlen(want);
    return kl > wl && key[kl - wl - 1] == ':' && strcmp(key + kl - wl, want) == 0;
}

static int find_channel(const tr_emit *e, const char *key)
{
    for (int i = 0; i < e->n_ch; i++)
        if (strcmp(e->ch[i].st.channel.key, key) == 0) return i;
    return -1;
}

static int find_up(const tr_emit *e, const char *key)
{
    for (int i = 0; i < e->n_up; i++)
        if (strcmp(e->up[i].key, key) == 0) return i;
    return -1;
}

/* Slot of the input's channel index, or a negative MAP_* value. */
static int slot_of(const tr_emit *e, int index)
{
    return index >= 0 && index < TR_MAX_CHANNELS ? e->map[index] : MAP_UNDECLARED;
}

/* e->key = formatted key; reset e->e with its id, title and timestamps; the
 * bare UUID (for hrefs) goes to bare. */
#if defined(__GNUC__)
__attribute__((format(printf, 4, 5)))
#endif
static void entry_for(tr_emit *e, const char *title, char bare[37], const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->key, sizeof e->key, fmt, ap);
    va_end(ap);
    espi_entry_init(&e->e);
    espi_uuid5(e->key, e->e.id);
    espi_uuid5_bare(e->key, bare);
    snprintf(e->e.title, sizeof e->e.title, "%s", title);
    e->e.published = e->e.updated = e->updated;
}

static void date_text(const tr_tz *tz, int64_t t, char out[16])
{
    int y, mo, d;
    tr_tz_local_date(tz, t, &y, &mo, &d);
    snprintf(out, 16, "%04d-%02d-%02d", y % 10000, mo % 100, d % 100);
}

/* ---- lifetime ------------------------------------------------------------- */

tr_emit *tr_emit_new(const tr_emit_opts *o, eg_err *err)
{
    tr_emit *e = NULL;
    if (!o || !o->tz) {
        eg_errf(err, EG_EUSAGE, NULL, 0, 0, "tr_emit_new needs a time zone for the local days");
        return NULL;
    }
    if (!(e = calloc(1, sizeof *e))) {
        eg_errf(err, EG_ENOMEM, NULL, 0, 0, "out of memory");
        return NULL;
    }
    e->o = *o;
    e->base = o->base_url && *o->base_url ? o->base_url : ESPI_DEFAULT_BASE;
    e->first_start = e->last_end = ESPI_NONE;
    e->updated = ESPI_NONE;
    for (int i = 0; i < TR_MAX_CHANNELS; i++) e->map[i] = MAP_UNDECLARED;
    return e;
}

void tr_emit_free(tr_emit *e)
{
    if (!e) return;
    for (int i = 0; i < e->n_ch; i++) free(e->ch[i].buf);
    free(e);
}

void tr_emit_begin_input(tr_emit *e, const char *name)
{
    e->input = name;
    for (int i = 0; i < TR_MAX_CHANNELS; i++) e->map[i] = MAP_UNDECLARED;
}

/* ---- pass 1: scan ----------------------------------------------------------- */

/* Facts that must agree when two inputs declare the same channel key. */
static int same_facts(const tr_channel *a, const tr_channel *b)
{
    return strcmp(a->usage_point, b->usage_point) == 0 && a->service_kind == b->service_kind &&
           a->flow_direction == b->flow_direction && a->uom == b->uom &&
           a->power_of_ten_multiplier == b->power_of_ten_multiplier &&
           a->interval_length == b->interval_length && a->commodity == b->commodity &&
           a->kind == b->kind && a->accumulation == b->accumulation &&
           a->measuring_period == b->measuring_period;
}

static int add_up(tr_emit *e, const tr_channel *ch, eg_err *err)
{
    int u = find_up(e, ch->usage_point);
    if (u >= 0) return u;
    if (e->n_up >= TR_EMIT_MAX_USAGE_POINTS)
        return eg_errf(err, EG_ELIMIT, input_name(e), 0, 0,
                       "more than %d usage points (expected at most %d in one feed; split the "
                       "inputs or pick one usage point)", TR_EMIT_MAX_USAGE_POINTS,
                       TR_EMIT_MAX_USAGE_POINTS);
    em_up *p = &e->up[e->n_up];
    snprintf(p->key, sizeof p->key, "%s", ch->usage_point);
    p->service_kind = ch->service_kind;
    p->selected = up_selected(p->key, e->o.usage_point);
    return e->n_up++;
}

static int scan_channel(void *ctx, const tr_channel *ch, eg_err *err)
{
    tr_emit *e = ctx;
    if (ch->index < 0 || ch->index >= TR_MAX_CHANNELS)
        return eg_errf(err, EG_ESOFTWARE, input_name(e), 0, 0, "channel index %d out of range",
                       ch->index);
    int i = find_channel(e, ch->key);
    if (i >= 0) {
        tr_channel *have = &e->ch[i].st.channel;
        if (!same_facts(have, ch))
            return eg_errf(err, EG_EDATA, input_name(e), 0, 0,
                           "channel %s is declared again with different facts (usage point, "
                           "flow, unit or interval; expected the same meter channel in every input)",
                           ch->key);
        if (have->currency == ESPI_NONE) have->currency = ch->currency;
        else if (ch->currency != ESPI_NONE && ch->currency != have->currency)
            return eg_errf(err, EG_EDATA, input_name(e), 0, 0,
                           "channel %s has costs in currency %lld here and %lld in an earlier input "
                           "(expected one currency)", ch->key, (long long)ch->currency,
                           (long long)have->currency);
        e->map[ch->index] = i;
        return 0;
    }
    if (e->n_ch >= TR_EMIT_MAX_CHANNELS)
        return eg_errf(err, EG_ELIMIT, input_name(e), 0, 0,
                       "more than %d channels in one feed (expected fewer meters per run)",
                       TR_EMIT_MAX_CHANNELS);
    int u = add_up(e, ch, err);
    if (u < 0) return u;
    em_chan *c = &e->ch[e->n_ch];
    memset(c, 0, sizeof *c);
    c->st.channel = *ch;
    c->st.channel.index = e->n_ch;
    c->st.selected = e->up[u].selected;
    c->st.first_start = c->st.last_end = ESPI_NONE;
    c->up = u;
    c->last_end = c->day = ESPI_NONE;
    e->map[ch->index] = e->n_ch++;
    return 0;
}

static int scan_reading(void *ctx, const tr_reading *r, eg_err *err)
{
    tr_emit *e = ctx;
    int s = slot_of(e, r->channel);
    if (s < 0)
        return eg_errf(err, EG_ESOFTWARE, input_name(e), r->line, 0,
                       "reading for channel %d before its declaration", r->channel);
    tr_emit_channel_stats *st = &e->ch[s].st;
    int64_t end = r->start + r->duration;
    if (st->first_start == ESPI_NONE || r->start < st->first_start) st->first_start = r->start;
    if (st->last_end == ESPI_NONE || end > st->last_end) st->last_end = end;
    if (!st->selected) return 0;
    if (e->first_start == ESPI_NONE || r->start < e->first_start) e->first_start = r->start;
    if (e->last_end == ESPI_NONE || end > e->last_end) e->last_end = end;
    return 0;
}

void tr_emit_scan_sink(tr_emit *e, tr_sink *out)
{
    out->ctx = e;
    out->channel = scan_channel;
    out->reading = scan_reading;
    out->skip = NULL;
}

/* ---- feed head -------------------------------------------------------------- */

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int cmp_channel(const void *a, const void *b)
{
    return strcmp(((const em_chan *)a)->st.channel.key, ((const em_chan *)b)->st.channel.key);
}

/* "subscription:<selected usage point keys, sorted, ','-joined>". */
static void subscription_key(const tr_emit *e, char *out, size_t size)
{
    const char *keys[TR_EMIT_MAX_USAGE_POINTS];
    int n = 0;
    for (int i = 0; i < e->n_up; i++)
        if (e->up[i].selected) keys[n++] = e->up[i].key;
    qsort(keys, (size_t)n, sizeof keys[0], cmp_str);
    size_t len = (size_t)snprintf(out, size, "subscription:");
    for (int i = 0; i < n && len < size; i++)
        len += (size_t)snprintf(out + len, size - len, "%s%s", i ? "," : "", keys[i]);
}

/* A message naming the usage points the scan found. */
static int no_data_error(const tr_emit *e, eg_err *err)
{
    char found[512];
    size_t len = 0;
    found[0] = 0;
    for (int i = 0; i < e->n_up && len < sizeof found; i++)
        len += (size_t)snprintf(found + len, sizeof found - len, "%s%s", i ? ", " : "",
                                e->up[i].key);
    if (e->o.usage_point && *e->o.usage_point)
        return eg_errf(err, EG_EDATA, NULL, 0, 0,
                       "no readings for usage point \"%s\" (found: %s)", e->o.usage_point,
                       e->n_up ? found : "no usage point at all");
    return eg_errf(err, EG_EDATA, NULL, 0, 0,
                   "the input holds no readings (usage points found: %s; expected interval rows)",
                   e->n_up ? found : "none");
}

static int write_ltp(tr_emit *e, eg_err *err)
{
    espi_local_time_parameters t;
    int y, mo, d, rc;
    tr_tz_local_date(e->o.tz, e->first_start, &y, &mo, &d);
    if ((rc = tr_tz_local_time_parameters(e->o.tz, y, &t, err))) return rc;
    char title[TR_TZ_NAME_MAX + 32];
    snprintf(title, sizeof title, "%s (rules of %04d)", tr_tz_name(e->o.tz), y % 10000);
    entry_for(e, title, e->ltp, "ltp:%s", tr_tz_name(e->o.tz));
    espi_links_local_time_parameters(&e->e, e->base, e->ltp);
    if ((rc = espi_writer_local_time_parameters(e->w, &e->e, &t, err))) return rc;
    e->entries++;
    return 0;
}

int tr_emit_begin(tr_emit *e, espi_writer *w, eg_err *err)
{
    espi_feed_head *h = NULL;
    char *sidkey = NULL, feed_bare[37];
    int rc = 0;
    if (e->first_start == ESPI_NONE) return no_data_error(e, err);
    e->w = w;
    e->updated = e->o.updated != ESPI_NONE ? e->o.updated : e->last_end;
    h = calloc(1, sizeof *h);
    sidkey = malloc(EMIT_SID_KEY_MAX);
    if (!h || !sidkey) { rc = eg_errf(err, EG_ENOMEM, NULL, 0, 0, "out of memory"); goto done; }
    /* channels in key order, so the order of the inputs cannot change the feed */
    qsort(e->ch, (size_t)e->n_ch, sizeof e->ch[0], cmp_channel);
    for (int i = 0; i < e->n_ch; i++) e->ch[i].st.channel.index = i;
    for (int i = 0; i < TR_MAX_CHANNELS; i++) e->map[i] = MAP_UNDECLARED;
    subscription_key(e, sidkey, EMIT_SID_KEY_MAX);
    espi_uuid5_bare(sidkey, e->sid);
    for (int i = 0; i < e->n_up; i++)
        if (e->up[i].selected) {
            snprintf(e->key, sizeof e->key, "%s:up", e->up[i].key);
            espi_uuid5_bare(e->key, e->up[i].id);
        }
    for (int i = 0; i < e->n_ch; i++) {
        snprintf(e->key, sizeof e->key, "%s:mr", e->ch[i].st.channel.key);
        espi_uuid5_bare(e->key, e->ch[i].mrid);
        snprintf(e->key, sizeof e->key, "%s:rt", e->ch[i].st.channel.key);
        espi_uuid5_bare(e->key, e->ch[i].rtid);
    }
    entry_for(e, "", feed_bare, "feed:%s", sidkey);
    snprintf(h->id, sizeof h->id, "%s", e->e.id);
    if (e->o.title) {
        snprintf(h->title, sizeof h->title, "%s", e->o.title);
    } else {
        int n = 0, first = -1;
        for (int i = 0; i < e->n_up; i++)
            if (e->up[i].selected && n++ == 0) first = i;
        snprintf(h->title, sizeof h->title, "Green Button Download My Data: %s%s",
                 first >= 0 ? e->up[first].key : "", n > 1 ? " and more" : "");
    }
    h->updated = e->updated;
    snprintf(h->self.rel, sizeof h->self.rel, "self");
    espi_uri_batch_subscription(h->self.href, e->base, e->sid);
    if ((rc = espi_writer_begin_feed(w, h, err))) goto done;
    rc = write_ltp(e, err);
done:
    free(h);
    free(sidkey);
    return rc;
}

/* ---- pass 2: write ------------------------------------------------------------ */

static int write_usage_point(tr_emit *e, em_up *p, eg_err *err)
{
    espi_usage_point up;
    char title[TR_KEY_MAX + 32], bare[37];
    int rc;
    snprintf(title, sizeof title, "Usage point %s", p->key);
    entry_for(e, title, bare, "%s:up", p->key);
    espi_links_usage_point(&e->e, e->base, e->sid, p->id, e->ltp, 0, 0);
    espi_usage_point_init(&up);
    up.service_kind = p->service_kind;
    up.status = 1;
    if ((rc = espi_writer_usage_point(e->w, &e->e, &up, err))) return rc;
    p->written = 1;
    e->entries++;
    return 0;
}

static const char *flow_word(int64_t flow)
{
    switch (flow) {
    case ESPI_FLOW_FORWARD: return "delivered";
    case ESPI_FLOW_REVERSE: return "received";
    case ESPI_FLOW_NET: return "net";
    case ESPI_FLOW_TOTAL: return "total";
    default: return "flow";
    }
}

static int write_meter_reading(tr_emit *e, em_chan *c, eg_err *err)
{
    const tr_channel *ch = &c->st.channel;
    const em_up *p = &e->up[c->up];
    char bare[37], title[ESPI_STR256];
    int rc;
    entry_for(e, ch->name, bare, "%s:mr", ch->key);
    espi_links_meter_reading(&e->e, e->base, e->sid, p->id, c->mrid, c->rtid);
    if ((rc = espi_writer_meter_reading(e->w, &e->e, err))) return rc;
    e->entries++;

    espi_reading_type rt;
    snprintf(title, sizeof title, "uom %lld x 10^%lld %s, %lld s intervals", (long long)ch->uom,
             (long long)ch->power_of_ten_multiplier, flow_word(ch->flow_direction),
             (long long)ch->interval_length);
    entry_for(e, title, bare, "%s:rt", ch->key);
    espi_links_reading_type(&e->e, e->base, c->rtid);
    espi_reading_type_init(&rt);
    rt.accumulation_behaviour = ch->accumulation;
    rt.commodity = ch->commodity;
    rt.currency = ch->currency;
    rt.flow_direction = ch->flow_direction;
    rt.interval_length = ch->interval_length;
    rt.kind = ch->kind;
    /* No source we read tells the phase; GBA FB_05 (D064) wants the element
     * for electricity, so say 0 "none" rather than guess s12N. */
    if (ch->commodity == ESPI_COMMODITY_ELECTRICITY_SECONDARY ||
        ch->commodity == ESPI_COMMODITY_ELECTRICITY_PRIMARY)
        rt.phase = 0;
    rt.power_of_ten_multiplier = ch->power_of_ten_multiplier;
    rt.uom = ch->uom;
    rt.measuring_period = ch->measuring_period;
    if ((rc = espi_writer_reading_type(e->w, &e->e, &rt, err))) return rc;
    e->entries++;
    c->written = 1;
    return 0;
}

static int write_channel(void *ctx, const tr_channel *ch, eg_err *err)
{
    tr_emit *e = ctx;
    int rc;
    if (ch->index < 0 || ch->index >= TR_MAX_CHANNELS)
        return eg_errf(err, EG_ESOFTWARE, input_name(e), 0, 0, "channel index %d out of range",
                       ch->index);
    int s = find_channel(e, ch->key);
    if (s < 0 || !e->w)
        return eg_errf(err, EG_ESOFTWARE, input_name(e), 0, 0,
                       "channel %s was not seen by the scan (the two passes read different data?)",
                       ch->key);
    em_chan *c = &e->ch[s];
    if (!c->st.selected) {
        e->map[ch->index] = MAP_DROPPED;
        return 0;
    }
    e->map[ch->index] = s;
    if (c->written) return 0;
    em_up *p = &e->up[c->up];
    if (!p->written && (rc = write_usage_point(e, p, err))) return rc;
    return write_meter_reading(e, c, err);
}

/* Write the channel's buffered day as one IntervalBlock and empty it. */
static int flush_day(tr_emit *e, em_chan *c, eg_err *err)
{
    char bare[37], date[16], title[ESPI_STR256 + 16];
    int rc;
    if (c->day == ESPI_NONE || c->n == 0) return 0;
    date_text(e->o.tz, c->day_start, date);
    snprintf(title, sizeof title, "%s %s", c->st.channel.name, date);
    entry_for(e, title, bare, "%s:ib:%s", c->st.channel.key, date);
    espi_links_interval_block(&e->e, e->base, e->sid, e->up[c->up].id, c->mrid, bare);
    espi_interval_block b;
    b.interval.duration = c->day_end - c->day_start;
    b.interval.start = c->day_start;
    b.readings = c->buf;
    b.n_readings = c->n;
    if ((rc = espi_writer_interval_block(e->w, &e->e, &b, err))) return rc;
    e->entries++;
    c->st.blocks++;
    if (b.interval.duration != 86400) c->st.dst_blocks++;
    c->n = 0;
    c->day = ESPI_NONE;
    return 0;
}

/* Make c's buffer the day of instant t (flushing the previous day). */
static int open_day(tr_emit *e, em_chan *c, int64_t t, long line, eg_err *err)
{
    int y, mo, d, rc;
    tr_tz_local_date(e->o.tz, t, &y, &mo, &d);
    int64_t day = tr_days_from_civil(y, mo, d);
    if (day == c->day) return 0;
    if ((rc = flush_day(e, c, err))) return rc;
    if (tr_tz_day_bounds(e->o.tz, y, mo, d, &c->day_start, &c->day_end))
        return eg_errf(err, EG_EDATA, input_name(e), line, 0,
                       "local date %04d-%02d-%02d is out of range", y, mo, d);
    c->day = day;
    return 0;
}

static int append(tr_emit *e, em_chan *c, const espi_interval_reading *ir, long line, eg_err *err)
{
    if (c->n == c->cap) {
        if (c->cap >= TR_EMIT_MAX_DAY_READINGS)
            return eg_errf(err, EG_ELIMIT, input_name(e), line, 0,
                           "more than %d readings of %s in one local day (expected intervals of "
                           "at least a second)", TR_EMIT_MAX_DAY_READINGS, c->st.channel.key);
        size_t cap = c->cap ? c->cap * 2 : 128;
        if (cap > TR_EMIT_MAX_DAY_READINGS) cap = TR_EMIT_MAX_DAY_READINGS;
        espi_interval_reading *grown = realloc(c->buf, cap * sizeof *grown);
        if (!grown) return eg_errf(err, EG_ENOMEM, input_name(e), line, 0, "out of memory");
        c->buf = grown;
        c->cap = cap;
    }
    c->buf[c->n++] = *ir;
    return 0;
}

static int check_reading(const tr_emit *e, const em_chan *c, const tr_reading *r, eg_err *err)
{
    char a[32], b[32];
    if (r->duration <= 0)
        return eg_errf(err, EG_EDATA, input_name(e), r->line, 0,
                       "reading of %s has duration %lld s (expected a positive interval)",
                       c->st.channel.key, (long long)r->duration);
    if (c->last_end != ESPI_NONE && r->start < c->last_end) {
        espi_time_format(r->start, a, sizeof a);
        espi_time_format(c->last_end, b, sizeof b);
        return eg_errf(err, EG_EDATA, input_name(e), r->line, 0,
                       "reading of %s at %s starts before the previous reading's end %s "
                       "(expected no two readings at one instant; give overlapping inputs once, "
                       "in time order)", c->st.channel.key, a, b);
    }
    return 0;
}

static int write_reading(void *ctx, const tr_reading *r, eg_err *err)
{
    tr_emit *e = ctx;
    int s = slot_of(e, r->channel), rc;
    if (s == MAP_DROPPED) return 0;
    if (s < 0)
        return eg_errf(err, EG_ESOFTWARE, input_name(e), r->line, 0,
                       "reading for channel %d before its declaration", r->channel);
    em_chan *c = &e->ch[s];
    if ((rc = check_reading(e, c, r, err))) return rc;
    if ((rc = open_day(e, c, r->start, r->line, err))) return rc;
    if (r->start + r->duration > c->day_end) {
        char a[32];
        espi_time_format(r->start, a, sizeof a);
        return eg_errf(err, EG_EDATA, input_name(e), r->line, 0,
                       "reading of %s at %s lasts %lld s and crosses local midnight in %s "
                       "(expected intervals inside one local day)", c->st.channel.key, a,
                       (long long)r->duration, tr_tz_name(e->o.tz));
    }
    espi_interval_reading ir;
    espi_interval_reading_init(&ir);
    ir.cost = r->cost;
    if (r->quality != ESPI_NONE) {
        ir.qualities[0] = r->quality;
        ir.n_qualities = 1;
    }
    ir.time_period.duration = r->duration;
    ir.time_period.start = r->start;
    ir.value = r->value;
    if ((rc = append(e, c, &ir, r->line, err))) return rc;
    tr_emit_channel_stats *st = &c->st;
    if (c->last_end != ESPI_NONE && r->start != c->last_end) st->gaps++;
    c->last_end = r->start + r->duration;
    st->readings++;
    st->total += r->value;
    if (r->cost != ESPI_NONE) st->cost_total += r->cost, st->with_cost++;
    if (r->quality == ESPI_QUALITY_ESTIMATED_REFERENCE_DAY ||
        r->quality == ESPI_QUALITY_ESTIMATED_LINEAR)
        st->estimated++;
    return 0;
}

void tr_emit_write_sink(tr_emit *e, tr_sink *out)
{
    out->ctx = e;
    out->channel = write_channel;
    out->reading = write_reading;
    out->skip = NULL;
}

int tr_emit_end(tr_emit *e, eg_err *err)
{
    int rc = 0;
    if (!e->w) return eg_errf(err, EG_EUSAGE, NULL, 0, 0, "tr_emit_end before tr_emit_begin");
    for (int i = 0; i < e->n_ch && !rc; i++) rc = flush_day(e, &e->ch[i], err);
    if (!rc) rc = espi_writer_end_feed(e->w, err);
    return rc;
}

/* ---- results ------------------------------------------------------------------- */

int tr_emit_channel_count(const tr_emit *e)
{
    return e->n_ch;
}

const tr_emit_channel_stats *tr_emit_channel_info(const tr_emit *e, int i)
{
    return i >= 0 && i < e->n_ch ? &e->ch[i].st : NULL;
}

int64_t tr_emit_entries(const tr_emit *e)
{
    return e->entries;
}

int64_t tr_emit_updated(const tr_emit *e)
{
    return e->updated;
}
