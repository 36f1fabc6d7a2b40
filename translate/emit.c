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
 * was written.
 *
 * Bills.  The scan keeps one small record per bill key (tr_bill.key): the
 * period, dates, consumption, demand, total and a heap copy of the line
 * items -- O(bills), a few hundred bytes each.  The same bill may come from
 * several inputs (a billing-history CSV gives the period and total, a
 * line-items CSV the items with quantities and rates): records with one key
 * are merged field by field, a field given twice must agree, and of two item
 * lists (whose sums must agree) the more detailed one is kept.  The write
 * pass only checks that it sees the bills the scan saw; every UsageSummary is
 * written by tr_emit_end() in key order, so where bills sit among the
 * readings of the inputs cannot change the feed.
 *
 * Readings longer than a day (a bill's billing-period reading) are allowed
 * when they run from one local midnight to another: such a reading gets an
 * IntervalBlock of its own whose interval is the reading's, as in GBA's
 * monthly sample. */
#include "emit.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decimal.h"
#include "uri.h"

#define EMIT_SID_KEY_MAX (16 + TR_EMIT_MAX_USAGE_POINTS * TR_KEY_MAX)
#define MAP_UNDECLARED (-2)
#define MAP_DROPPED (-1)
#define EMIT_SRC_MAX 128

typedef struct em_up {
    char key[TR_KEY_MAX];
    int64_t service_kind;
    int selected;
    int written;
    int bills;                       /* bills of this usage point (scan) */
    char id[37];
} em_up;

/* One bill, merged over every input that carried its key. */
typedef struct em_bill {
    char key[TR_KEY_MAX];
    int up;                          /* slot in the usage point table */
    int64_t start, duration, statement_date, consumption, peak_demand, total, currency;
    tr_line_item *items;             /* owned; NULL when none */
    int n_items;
    int seen;                        /* write pass: bill callbacks for this key */
    char src[EMIT_SRC_MAX];          /* "file:line" it first came from, for messages */
} em_bill;

typedef struct em_chan {
    tr_emit_channel_stats st;
    int up;                          /* slot in the usage point table */
    int written;                     /* MeterReading + ReadingType written */
    char mrid[37], rtid[37];
    int64_t last_end;                /* write pass: end of the previous reading */
    int multi_day;                   /* the buffer holds one reading of whole local days */
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
    int64_t first_start, last_end;   /* of the selected data and bills (scan) */
    int64_t updated;
    int64_t entries;
    em_bill *bills;                  /* sorted by key in tr_emit_begin */
    int n_bills, cap_bills;
    tr_emit_bill_stats bill_stats;
    espi_entry e;                    /* reused for every entry (large) */
    espi_line_item li[TR_MAX_LINE_ITEMS];
    char key[TR_KEY_MAX + 64];
    tr_tz_cache tzc;                 /* local dates of o.tz, per reading */
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
    tr_tz_cache_init(&e->tzc, o->tz);
    for (int i = 0; i < TR_MAX_CHANNELS; i++) e->map[i] = MAP_UNDECLARED;
    return e;
}

void tr_emit_free(tr_emit *e)
{
    if (!e) return;
    for (int i = 0; i < e->n_ch; i++) free(e->ch[i].buf);
    for (int i = 0; i < e->n_bills; i++) free(e->bills[i].items);
    free(e->bills);
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

static int add_up(tr_emit *e, const char *key, int64_t service_kind, eg_err *err)
{
    int u = find_up(e, key);
    if (u >= 0) return u;
    if (e->n_up >= TR_EMIT_MAX_USAGE_POINTS)
        return eg_errf(err, EG_ELIMIT, input_name(e), 0, 0,
                       "more than %d usage points (expected at most %d in one feed; split the "
                       "inputs or pick one usage point)", TR_EMIT_MAX_USAGE_POINTS,
                       TR_EMIT_MAX_USAGE_POINTS);
    em_up *p = &e->up[e->n_up];
    snprintf(p->key, sizeof p->key, "%s", key);
    p->service_kind = service_kind;
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
    int u = add_up(e, ch->usage_point, ch->service_kind, err);
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

/* ---- pass 1: bills ---------------------------------------------------------- */

static int find_bill(const tr_emit *e, const char *key)
{
    for (int i = 0; i < e->n_bills; i++)
        if (strcmp(e->bills[i].key, key) == 0) return i;
    return -1;
}

/* A value for a message: money (scale 5), energy (3), an instant (-1). */
static const char *shown(int64_t v, int scale, char *buf, size_t size)
{
    if (scale < 0) espi_time_format(v, buf, size);
    else tr_dec_format(v, scale, buf, size);
    return buf;
}

/* Take v into *have unless it is absent; a different value already there is
 * a conflict between two inputs carrying the same bill. */
static int merge_value(const tr_emit *e, const em_bill *b, const tr_bill *in, const char *what,
                       int scale, int64_t *have, int64_t v, eg_err *err)
{
    char x[40], y[40];
    if (v == ESPI_NONE || *have == v) return 0;
    if (*have == ESPI_NONE) {
        *have = v;
        return 0;
    }
    return eg_errf(err, EG_EDATA, input_name(e), in->line, 0,
                   "bill %s: %s is %s here but %s in %s (expected every input to agree on a bill)",
                   b->key, what, shown(v, scale, x, sizeof x), shown(*have, scale, y, sizeof y),
                   b->src);
}

static int64_t items_sum(const tr_line_item *it, int n)
{
    int64_t sum = 0;
    for (int i = 0; i < n; i++) sum += it[i].amount;
    return sum;
}

/* How much an item list says beyond amounts: items with a quantity or rate. */
static int items_detail(const tr_line_item *it, int n)
{
    int d = 0;
    for (int i = 0; i < n; i++) d += it[i].quantity != ESPI_NONE || it[i].unit_cost != ESPI_NONE;
    return d;
}

static int merge_items(const tr_emit *e, em_bill *b, const tr_bill *in, eg_err *err)
{
    char x[40], y[40];
    if (in->n_items == 0) return 0;
    if (b->n_items) {
        int64_t have = items_sum(b->items, b->n_items), got = items_sum(in->items, in->n_items);
        if (have != got)
            return eg_errf(err, EG_EDATA, input_name(e), in->line, 0,
                           "bill %s: line items sum to %s here but %s in %s (expected the same "
                           "charges in every input)", b->key, shown(got, 5, x, sizeof x),
                           shown(have, 5, y, sizeof y), b->src);
        if (items_detail(in->items, in->n_items) <= items_detail(b->items, b->n_items)) return 0;
    }
    tr_line_item *copy = malloc((size_t)in->n_items * sizeof *copy);
    if (!copy) return eg_errf(err, EG_ENOMEM, input_name(e), in->line, 0, "out of memory");
    memcpy(copy, in->items, (size_t)in->n_items * sizeof *copy);
    free(b->items);
    b->items = copy;
    b->n_items = in->n_items;
    return 0;
}

/* A new record for in->key, or EG_ELIMIT. */
static int new_bill(tr_emit *e, const tr_bill *in, int up, eg_err *err)
{
    if (e->n_bills == e->cap_bills) {
        if (e->cap_bills >= TR_EMIT_MAX_BILLS)
            return eg_errf(err, EG_ELIMIT, input_name(e), in->line, 0,
                           "more than %d bills in one feed (expected fewer accounts or years per "
                           "run)", TR_EMIT_MAX_BILLS);
        int cap = e->cap_bills ? e->cap_bills * 2 : 32;
        if (cap > TR_EMIT_MAX_BILLS) cap = TR_EMIT_MAX_BILLS;
        em_bill *grown = realloc(e->bills, (size_t)cap * sizeof *grown);
        if (!grown) return eg_errf(err, EG_ENOMEM, input_name(e), in->line, 0, "out of memory");
        e->bills = grown;
        e->cap_bills = cap;
    }
    em_bill *b = &e->bills[e->n_bills];
    memset(b, 0, sizeof *b);
    snprintf(b->key, sizeof b->key, "%s", in->key);
    b->up = up;
    b->start = b->duration = b->statement_date = b->consumption = ESPI_NONE;
    b->peak_demand = b->total = b->currency = ESPI_NONE;
    snprintf(b->src, sizeof b->src, "%.100s:%ld", input_name(e), in->line);
    e->up[up].bills++;
    return e->n_bills++;
}

static int check_bill(const tr_emit *e, const tr_bill *in, eg_err *err)
{
    if (!in->key[0] || !in->usage_point[0])
        return eg_errf(err, EG_ESOFTWARE, input_name(e), in->line, 0,
                       "bill without a key or usage point");
    if (in->n_items < 0 || in->n_items > TR_MAX_LINE_ITEMS || (in->n_items && !in->items))
        return eg_errf(err, EG_ESOFTWARE, input_name(e), in->line, 0,
                       "bill %s has %d line items (expected 0..%d)", in->key, in->n_items,
                       TR_MAX_LINE_ITEMS);
    if ((in->start == ESPI_NONE) != (in->duration == ESPI_NONE) ||
        (in->duration != ESPI_NONE && in->duration <= 0))
        return eg_errf(err, EG_EDATA, input_name(e), in->line, 0,
                       "bill %s has a billing period of %lld s (expected a positive length)",
                       in->key, (long long)in->duration);
    return 0;
}

static int scan_bill(void *ctx, const tr_bill *in, eg_err *err)
{
    tr_emit *e = ctx;
    int rc, i, u;
    if ((rc = check_bill(e, in, err))) return rc;
    if ((u = add_up(e, in->usage_point, ESPI_SERVICE_ELECTRICITY, err)) < 0) return u;
    if ((i = find_bill(e, in->key)) < 0 && (i = new_bill(e, in, u, err)) < 0) return i;
    em_bill *b = &e->bills[i];
    if (b->up != u)
        return eg_errf(err, EG_EDATA, input_name(e), in->line, 0,
                       "bill %s belongs to usage point %s here but to %s in %s", in->key,
                       in->usage_point, e->up[b->up].key, b->src);
    if ((rc = merge_value(e, b, in, "the period start", -1, &b->start, in->start, err)) ||
        (rc = merge_value(e, b, in, "the period length (s)", 0, &b->duration, in->duration, err)) ||
        (rc = merge_value(e, b, in, "the statement date", -1, &b->statement_date,
                          in->statement_date, err)) ||
        (rc = merge_value(e, b, in, "the consumption (kWh)", 3, &b->consumption, in->consumption,
                          err)) ||
        (rc = merge_value(e, b, in, "the peak demand (kW)", 3, &b->peak_demand, in->peak_demand,
                          err)) ||
        (rc = merge_value(e, b, in, "the total of current charges", 5, &b->total, in->bill_total,
                          err)) ||
        (rc = merge_value(e, b, in, "the currency", 0, &b->currency, in->currency, err)) ||
        (rc = merge_items(e, b, in, err)))
        return rc;
    if (in->start != ESPI_NONE && e->up[u].selected) {
        int64_t end = in->start + in->duration;
        if (e->first_start == ESPI_NONE || in->start < e->first_start) e->first_start = in->start;
        if (e->last_end == ESPI_NONE || end > e->last_end) e->last_end = end;
    }
    return 0;
}

void tr_emit_scan_sink(tr_emit *e, tr_sink *out)
{
    out->ctx = e;
    out->channel = scan_channel;
    out->reading = scan_reading;
    out->skip = NULL;
    out->bill = scan_bill;
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

static int cmp_bill(const void *a, const void *b)
{
    return strcmp(((const em_bill *)a)->key, ((const em_bill *)b)->key);
}

/* Every selected bill needs its billing period from some input (a
 * line-items CSV alone does not say it). */
static int check_bill_periods(const tr_emit *e, eg_err *err)
{
    for (int i = 0; i < e->n_bills; i++) {
        const em_bill *b = &e->bills[i];
        if (b->start == ESPI_NONE && e->up[b->up].selected)
            return eg_errf(err, EG_EDATA, NULL, 0, 0,
                           "%s: bill %s has no billing period (a line-items CSV does not say "
                           "it; give the billing-history CSV or the bill itself as well)",
                           b->src, b->key);
    }
    return 0;
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
    if ((rc = check_bill_periods(e, err))) return rc;
    if (e->first_start == ESPI_NONE) return no_data_error(e, err);
    e->w = w;
    e->updated = e->o.updated != ESPI_NONE ? e->o.updated : e->last_end;
    h = calloc(1, sizeof *h);
    sidkey = malloc(EMIT_SID_KEY_MAX);
    if (!h || !sidkey) { rc = eg_errf(err, EG_ENOMEM, NULL, 0, 0, "out of memory"); goto done; }
    /* channels in key order, so the order of the inputs cannot change the feed */
    qsort(e->ch, (size_t)e->n_ch, sizeof e->ch[0], cmp_channel);
    for (int i = 0; i < e->n_ch; i++) e->ch[i].st.channel.index = i;
    if (e->n_bills) qsort(e->bills, (size_t)e->n_bills, sizeof e->bills[0], cmp_bill);
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
    espi_links_usage_point(&e->e, e->base, e->sid, p->id, e->ltp, p->bills > 0, 0);
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
    if (ch->tou != ESPI_NONE) /* tell the TOU ReadingTypes of one meter apart */
        snprintf(title + strlen(title), sizeof title - strlen(title), ", tou %lld",
                 (long long)ch->tou);
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
    rt.tou = ch->tou;
    rt.cpp = ch->cpp;
    rt.consumption_tier = ch->consumption_tier;
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
    char bare[37], date[16], title[ESPI_STR256 + 48];
    int rc;
    if (c->day == ESPI_NONE || c->n == 0) return 0;
    date_text(e->o.tz, c->day_start, date);
    if (c->multi_day) {
        char last[16];
        date_text(e->o.tz, c->day_end, last);
        snprintf(title, sizeof title, "%s %s to %s", c->st.channel.name, date, last);
    } else {
        snprintf(title, sizeof title, "%s %s", c->st.channel.name, date);
    }
    entry_for(e, title, bare, "%s:ib:%s", c->st.channel.key, date);
    espi_links_interval_block(&e->e, e->base, e->sid, e->up[c->up].id, c->mrid, bare);
    espi_interval_block b;
    /* a block starts with its first reading (GBA FB_04 D042): a day whose
     * first reading is not at local midnight (a TOU period, a gap at 00:00)
     * gets a shorter block; the end stays the local day's end */
    b.interval.start = c->buf[0].time_period.start > c->day_start ? c->buf[0].time_period.start
                                                                   : c->day_start;
    b.interval.duration = c->day_end - b.interval.start;
    b.readings = c->buf;
    b.n_readings = c->n;
    if ((rc = espi_writer_interval_block(e->w, &e->e, &b, err))) return rc;
    e->entries++;
    c->st.blocks++;
    if (!c->multi_day && c->day_end - c->day_start != 86400) c->st.dst_blocks++;
    c->n = 0;
    c->day = ESPI_NONE;
    c->multi_day = 0;
    return 0;
}

/* Make c's buffer the day of instant t (flushing the previous day). */
static int open_day(tr_emit *e, em_chan *c, int64_t t, long line, eg_err *err)
{
    int y, mo, d, rc;
    if (c->day != ESPI_NONE && !c->multi_day && t >= c->day_start && t < c->day_end)
        return 0; /* still the open day: the usual case */
    tr_tz_cache_local_date(&e->tzc, t, &y, &mo, &d);
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

/* Does r run from the local midnight that opens c's (empty) day buffer to a
 * later local midnight?  Such a reading (a billing period) gets its own block. */
static int whole_local_days(const tr_emit *e, const em_chan *c, const tr_reading *r)
{
    tr_tm t;
    if (c->n != 0 || r->start != c->day_start) return 0;
    tr_tz_local(e->o.tz, r->start + r->duration, &t);
    return t.hour == 0 && t.min == 0 && t.sec == 0;
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
        if (whole_local_days(e, c, r)) {
            c->day_end = r->start + r->duration;  /* a block of its own */
            c->multi_day = 1;
        } else {
            espi_time_format(r->start, a, sizeof a);
            return eg_errf(err, EG_EDATA, input_name(e), r->line, 0,
                           "reading of %s at %s lasts %lld s and crosses local midnight in %s "
                           "(expected intervals inside one local day, or whole local days)",
                           c->st.channel.key, a, (long long)r->duration, tr_tz_name(e->o.tz));
        }
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

/* The write pass only checks it reads what the scan read: bills are
 * written, merged, by tr_emit_end(). */
static int write_bill_seen(void *ctx, const tr_bill *in, eg_err *err)
{
    tr_emit *e = ctx;
    int i = find_bill(e, in->key);
    if (i < 0 || !e->w)
        return eg_errf(err, EG_ESOFTWARE, input_name(e), in->line, 0,
                       "bill %s was not seen by the scan (the two passes read different data?)",
                       in->key);
    e->bills[i].seen++;
    return 0;
}

void tr_emit_write_sink(tr_emit *e, tr_sink *out)
{
    out->ctx = e;
    out->channel = write_channel;
    out->reading = write_reading;
    out->skip = NULL;
    out->bill = write_bill_seen;
}

static int64_t pow10i(int p)
{
    int64_t v = 1;
    while (p-- > 0) v *= 10;
    return v;
}

/* LineItem measurement and unitCost of a tr_line_item.  Wh and W quantities
 * are written the way bills print them, in kWh / kW (powerOfTenMultiplier
 * 3) when whole, else in the largest whole power of ten (15.3 kW = 153 x
 * 10^2 W); their unit_cost is per kWh / kW (emit.h) and is scaled to that
 * unit, or left out when it would not be a whole number of
 * hundred-thousandths.  Other units are written as given. */
static void item_measurement(const tr_line_item *it, espi_line_item *li)
{
    int64_t q = it->quantity, uc = it->unit_cost;
    if (q == ESPI_NONE || it->quantity_uom == ESPI_NONE) return;
    li->measurement.uom = it->quantity_uom;
    if (it->quantity_uom != ESPI_UOM_WH && it->quantity_uom != ESPI_UOM_W) {
        li->measurement.power_of_ten_multiplier = 0;
        li->measurement.value = q;
        li->unit_cost = uc;
        return;
    }
    int p = 3;
    while (p > 0 && q % pow10i(p) != 0) p--;
    li->measurement.power_of_ten_multiplier = p;
    li->measurement.value = q / pow10i(p);
    if (uc != ESPI_NONE && uc > -INT64_MAX / 1000 && uc < INT64_MAX / 1000 &&
        (uc * pow10i(p)) % 1000 == 0)
        li->unit_cost = uc * pow10i(p) / 1000;
}

/* ESPI commodity of a usage point's service kind (bills say no more). */
static int64_t commodity_of(int64_t service_kind)
{
    switch (service_kind) {
    case ESPI_SERVICE_ELECTRICITY: return ESPI_COMMODITY_ELECTRICITY_SECONDARY;
    case ESPI_SERVICE_GAS: return ESPI_COMMODITY_NATURAL_GAS;
    case ESPI_SERVICE_WATER: return ESPI_COMMODITY_POTABLE_WATER;
    default: return ESPI_NONE;
    }
}

static void summary_measurement(espi_summary_measurement *m, int64_t uom, int64_t value)
{
    if (value == ESPI_NONE) return;
    m->power_of_ten_multiplier = 0;
    m->uom = uom;
    m->value = value;
}

/* One UsageSummary: billLastPeriod = the current charges; every charge and
 * credit is a LineItem and costAdditionalLastPeriod is their sum (emit.h). */
static int write_usage_summary(tr_emit *e, const em_bill *b, eg_err *err)
{
    em_up *p = &e->up[b->up];
    char bare[37], from[16], to[16], title[ESPI_STR256];
    espi_usage_summary us;
    int rc;
    if (!p->written && (rc = write_usage_point(e, p, err))) return rc;
    date_text(e->o.tz, b->start, from);
    date_text(e->o.tz, b->start + b->duration, to);
    snprintf(title, sizeof title, "Bill for %s to %s", from, to);
    entry_for(e, title, bare, "%s:us", b->key);
    espi_links_usage_summary(&e->e, e->base, e->sid, p->id, bare);
    espi_usage_summary_init(&us);
    us.billing_period.start = b->start;
    us.billing_period.duration = b->duration;
    us.bill_last_period = b->total;
    /* a bill with no charges at all (an EDI 867 usage record) states no cost */
    if (b->n_items > 0 || b->total != ESPI_NONE)
        us.cost_additional_last_period = items_sum(b->items, b->n_items);
    for (int i = 0; i < b->n_items; i++) {
        espi_line_item *li = &e->li[i];
        espi_line_item_init(li);
        li->amount = b->items[i].amount;
        snprintf(li->note, sizeof li->note, "%s", b->items[i].note);
        li->item_kind = b->items[i].item_kind;
        item_measurement(&b->items[i], li);
    }
    us.line_items = e->li;
    us.n_line_items = (size_t)b->n_items;
    us.currency = b->currency;
    summary_measurement(&us.overall_consumption_last_period, ESPI_UOM_WH, b->consumption);
    summary_measurement(&us.peak_demand, ESPI_UOM_W, b->peak_demand);
    us.quality_of_reading = ESPI_QUALITY_REVENUE;
    us.status_time_stamp = b->statement_date != ESPI_NONE ? b->statement_date : b->start + b->duration;
    us.commodity = commodity_of(p->service_kind);
    if ((rc = espi_writer_usage_summary(e->w, &e->e, &us, err))) return rc;
    e->entries++;
    e->bill_stats.bills++;
    if (b->consumption != ESPI_NONE) e->bill_stats.consumption += b->consumption;
    if (b->total != ESPI_NONE) e->bill_stats.total += b->total;
    return 0;
}

static int write_bills(tr_emit *e, eg_err *err)
{
    int rc = 0;
    for (int i = 0; i < e->n_bills && !rc; i++) {
        const em_bill *b = &e->bills[i];
        if (!e->up[b->up].selected) continue;
        if (!b->seen)
            return eg_errf(err, EG_ESOFTWARE, NULL, 0, 0,
                           "bill %s was not seen by the write pass (the two passes read different "
                           "data?)", b->key);
        rc = write_usage_summary(e, b, err);
    }
    return rc;
}

int tr_emit_end(tr_emit *e, eg_err *err)
{
    int rc = 0;
    if (!e->w) return eg_errf(err, EG_EUSAGE, NULL, 0, 0, "tr_emit_end before tr_emit_begin");
    for (int i = 0; i < e->n_ch && !rc; i++) rc = flush_day(e, &e->ch[i], err);
    if (!rc) rc = write_bills(e, err);
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

const tr_emit_bill_stats *tr_emit_bill_info(const tr_emit *e)
{
    return &e->bill_stats;
}
