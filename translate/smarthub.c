/* smarthub.c -- NISC SmartHub usage poll JSON -> ESPI-ready readings.
 *
 * The poll answer is one JSON document (bounded by TR_SMARTHUB_MAX_BYTES)
 * read in one streaming pass with yajl into compact tables
 * (smarthub_doc.h: no DOM, no allocation per value); parse errors carry
 * line:column.  Every decision below is taken on the complete tables, so JSON
 * key order never matters.  It is
 * either {"status":"COMPLETE","data":{...}} or the bare data object; a
 * PENDING/FAILED/ERROR status, an HTML page (expired session, maintenance)
 * and the legacy GWT "//OK" answer are clear errors.  data.ELECTRIC is a
 * list of entries told apart by `type`:
 *   USAGE        kWh per interval: the readings;
 *   COST         dollars per interval: joined to USAGE series by series
 *                NAME (never by position -- the order differs) and to
 *                points by x; it becomes tr_reading.cost;
 *   TIME_OF_USE  the USAGE kWh again, split by TOU period: one series per
 *                period ("<meter> - On Peak", rateName "On Peak"), each
 *                holding only the intervals of its period.  Each period
 *                becomes its own channel of the meter with ReadingType.tou
 *                set (codes: sh_tou_known -- fixed for known labels, sorted
 *                after them for others, never by answer order) and readings
 *                only where its series has points.  Where USAGE and the
 *                periods both have values at an x, the periods must add up
 *                to USAGE; a note says where they do not;
 *   other        ignored with a note.
 * baseSeries and meterToChartData repeat the points and are never read.
 *
 * Series and meters: series[].name joins meters[].seriesId; failing that
 * the meter with the same meterNumber and channel.  Each series lands in a
 * channel keyed by (meter number, flow direction, span, TOU period),
 * declared in series order: "smarthub:<meter>:<flow>" for intervals under a
 * day (the key every earlier feed used), "...:daily" for DAILY answers,
 * "...:monthly" for MONTHLY billing periods, then ":tou-<period>" for a TOU
 * series -- so a daily channel never mixes with an hourly one of the meter.
 * FORWARD/TOTAL -> forward, REVERSE/RETURN -> reverse with absolute values,
 * NET -> net, signed.  The sign of y wins over the flags: a FORWARD series
 * with both signs is net data (one co-op sends net export that way) and
 * becomes a NET channel; a FORWARD series with only negative values is
 * export and becomes a reverse channel; a REVERSE series with both signs
 * cannot be read safely and is a data error.  Each reinterpretation is
 * reported as a TR_SKIP_WARNING.
 *
 * Time: x is the interval start as wall-clock-as-UTC epoch ms, i.e. the
 * local wall time written as if it were UTC.  We split it into local fields
 * with plain day arithmetic and convert them with tr_tz_local_to_utc() in
 * the configured zone.  A wall time in the spring-forward gap does not
 * exist: the point is dropped (TR_SKIP_NONEXISTENT).  On a fall-back day
 * the repeated hour gets the same x twice (UNVERIFIED in real data): within
 * a series the first occurrence is read as daylight time (fold 0), the
 * second as standard time (fold 1), and a note says so.  Any other repeated
 * x is a duplicate: dropped when identical, a row problem when different.
 * Each point's length comes from xToOrderedInterval[x] when present, else
 * from the smallest gap between the series' x values, else from timeFrame
 * (HOURLY 3600, DAILY 86400).  A length under a day is elapsed time; a day
 * or longer is converted end-wall-time -> UTC, so DAILY readings of DST
 * days last 23 or 25 hours.  MONTHLY points are billing periods and need
 * their xToOrderedInterval (start, end, orderedName "Jun 2026"); the open,
 * unbilled period comes with a far-future end (after 2200 or over 366
 * days) and is dropped with a note until it is billed.  Points are sorted (x, then source order) and,
 * after conversion, by UTC start: the sink sees each channel in strictly
 * increasing order, never two readings at one instant (checked).
 *
 * Values: y is parsed from its text exactly as written (yajl hands numbers
 * over as text), with decimal.h at the series' scale -- no float anywhere.
 * Values SmartHub itself printed from float sums (57.029999999999994) have
 * more decimals than the unit; they are rounded half away from zero to 3
 * decimals (Wh) or 5 (hundred-thousandths) and flagged TR_READING_ROUNDED.
 * Numbers sent as strings are read the same way.  y null is a gap
 * (TR_SKIP_NO_VALUE).
 *
 * Quality: estimatedSeries/editedSeries were {} in every sample seen.  We
 * accept two plausible shapes -- {"<series name>": [points or x values]}
 * and [{"name": ..., "data": [points]}] -- and mark matching points 8
 * (estimated, as smt.c) or 7 (manually edited; estimated wins).  Another
 * non-empty shape gets a note and no qualities.
 *
 * Duplicate object keys are accepted (the last value wins): a fall-back
 * day may legitimately repeat an x key in xToOrderedInterval, and the
 * Java-toString keys of meterToChartData are not ours to judge (nor read).
 *
 * Memory: the answer's text, its tables (~24 bytes a point, ~40 an
 * xToOrderedInterval item) and one array of points (TR_SMARTHUB_MAX_POINTS). */
#include "smarthub.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "decimal.h"
#include "smarthub_doc.h"

#define SH_MAX_X_MS INT64_C(7258118400000) /* 2200-01-01: later x is not a date */
#define SH_SCALE_WH 3                      /* kWh text -> Wh */
#define SH_SCALE_COST 5                    /* dollars -> hundred-thousandths */
#define SH_DAY 86400
#define SH_MONTH_NOMINAL 2592000           /* nominal billing period (as bill.c) */
#define SH_OPEN_MS (INT64_C(366) * 86400000) /* no billing period is longer */
#define SH_OPEN (-1)                       /* wall_length(): the open billing period */
#define SH_RATE_MAX 40                     /* longest TOU label we accept */
#define SH_TOU_FIRST_UNKNOWN 6             /* after sh_tou_known[] */

/* The channel a series belongs to is also chosen by how long its points are:
 * a meter's daily or billing-period series never shares a channel (or a key)
 * with its interval series. */
enum sh_span {
    SH_SPAN_INTERVAL,  /* under a day: "smarthub:<meter>:<flow>" */
    SH_SPAN_DAY,       /* DAILY: "...:daily" */
    SH_SPAN_BILLING    /* MONTHLY billing periods: "...:monthly" */
};

enum sh_state {
    SH_EMIT,        /* becomes a reading */
    SH_GAP,         /* y null: reported, no reading */
    SH_DROPPED      /* nonexistent time, duplicate, bad: already reported */
};

typedef struct sh_point {
    int64_t x_ms;      /* wall-clock-as-UTC ms */
    int64_t value;     /* Wh, sign as in the source until the channel is chosen */
    int64_t cost;      /* hundred-thousandths or ESPI_NONE */
    int64_t quality;   /* espi_quality or ESPI_NONE */
    int64_t start;     /* UTC seconds, after resolution */
    int64_t duration;
    int64_t seq;       /* source order, the tie-breaker of every sort */
    unsigned flags;    /* tr_reading_flags */
    int series;        /* index into ctx.ser */
    int channel;
    int state;         /* sh_state */
} sh_point;

typedef struct sh_series {
    const char *name;       /* borrowed from the document's string pool */
    const char *meter;      /* meter number (meters[] or series), or the name */
    const char *flow;       /* meters[].flowDirection, NULL when unknown */
    const char *rate;       /* TOU period label as SmartHub writes it; NULL unless is_tou */
    const sh_dentry *entry; /* its entry (xToOrderedInterval lookups) */
    int64_t frame_len;      /* from timeFrame, 0 when unknown (and for MONTHLY) */
    int64_t nominal;        /* smallest gap between x values (s), 0 unknown */
    int64_t tou;            /* TOU period code (see tou_number), ESPI_NONE unless is_tou */
    size_t begin, end;      /* range in ctx.pts (USAGE series) */
    int is_cost, has_cost;
    int is_tou;             /* a TIME_OF_USE series: one period's share of the kWh */
    int monthly;            /* timeFrame MONTHLY: billing periods from xToOrderedInterval */
    int span;               /* sh_span, set with the channel */
    int channel;
    char meter_buf[64];     /* meter number cut from a TOU series name */
    char rate_key[SH_RATE_MAX + 1]; /* the label lower-cased, letters and digits only */
} sh_series;

typedef struct sh_ctx {
    sh_doc doc;             /* the answer's tables (smarthub_doc.h) */
    const char *name;
    const tr_options *o;
    const tr_sink *sink;
    eg_err *err;
    sh_point *pts;
    size_t n_pts, cap_pts;
    int64_t seq;
    sh_series ser[TR_SMARTHUB_MAX_SERIES];
    int n_ser;
    tr_channel ch[TR_MAX_CHANNELS];
    int n_ch;
    tr_tz_cache tzc;        /* local -> UTC of o->tz, cached */
} sh_ctx;

#define PROBLEM(x, ...) tr_row_problem((x)->sink, (x)->o, (x)->name, 0, (x)->err, __VA_ARGS__)
#define WARN(x, ...) tr_report_skip((x)->sink, TR_SKIP_WARNING, 0, (x)->err, __VA_ARGS__)

/* ---- small JSON helpers ---------------------------------------------------------- */

/* A pooled string of the document, or NULL. */
static const char *dstr(const sh_ctx *x, uint32_t off)
{
    return sh_doc_str(&x->doc, off);
}

/* Point p's y at `scale` decimals.  Returns 0 with *out, 1 for null (or no
 * y), or a negative tr_dec_status / -100 (wrong JSON type); *text quotes it
 * for messages.  Numbers are parsed from their text exactly as written. */
static int point_decimal(const sh_ctx *x, const sh_dpoint *p, int scale, int64_t *out,
                         int *rounded, char *text, size_t size)
{
    const char *t = sh_doc_ytext(&x->doc, p);
    int st;
    *rounded = 0;
    switch (p->y_kind) {
    case SH_ABSENT:
    case SH_NULL: snprintf(text, size, "?"); return 1;
    case SH_NUMBER:
        st = tr_dec_parse(t, p->y_len, scale, TR_DEC_EXPONENT, out, rounded);
        if (st < 0) snprintf(text, size, "%.*s", (int)(p->y_len < 60 ? p->y_len : 60), t);
        return st;
    case SH_STRING:
        st = tr_dec_parse(t, p->y_len, scale, TR_DEC_EXPONENT, out, rounded);
        if (st < 0) snprintf(text, size, "\"%.*s\"", (int)(p->y_len < 60 ? p->y_len : 60), t);
        return st;
    default:
        snprintf(text, size, "%s", p->y_kind == SH_OBJECT ? "an object"
                                   : p->y_kind == SH_ARRAY ? "an array" : "a boolean");
        return -100;
    }
}

/* Local wall fields of a wall-clock-as-UTC second count. */
static void wall_fields(int64_t wall, int f[6])
{
    int64_t days = wall / 86400, sod = wall % 86400;
    tr_civil_from_days(days, &f[0], &f[1], &f[2]);
    f[3] = (int)(sod / 3600);
    f[4] = (int)(sod / 60 % 60);
    f[5] = (int)(sod % 60);
}

static void wall_text(int64_t wall, char *buf, size_t size)
{
    int f[6];
    wall_fields(wall, f);
    snprintf(buf, size, "%04d-%02d-%02d %02d:%02d", f[0], f[1], f[2], f[3], f[4]);
}

/* ---- points ------------------------------------------------------------------------ */

static int cmp_x(const void *a, const void *b)
{
    const sh_point *p = a, *q = b;
    if (p->x_ms != q->x_ms) return p->x_ms < q->x_ms ? -1 : 1;
    return p->seq < q->seq ? -1 : p->seq > q->seq;
}

static int cmp_channel_start(const void *a, const void *b)
{
    const sh_point *p = a, *q = b;
    if (p->channel != q->channel) return p->channel < q->channel ? -1 : 1;
    if (p->start != q->start) return p->start < q->start ? -1 : 1;
    return p->seq < q->seq ? -1 : p->seq > q->seq;
}

/* qsort unless a[0..n) is already in order (the usual case: SmartHub sends
 * points in time order, one series after another). */
static void sort_points(sh_point *a, size_t n, int (*cmp)(const void *, const void *))
{
    size_t i = 1;
    while (i < n && cmp(&a[i - 1], &a[i]) <= 0) i++;
    if (i < n) qsort(a, n, sizeof *a, cmp);
}

static int push_point(sh_ctx *x, sh_point **out)
{
    if (x->n_pts >= TR_SMARTHUB_MAX_POINTS)
        return eg_errf(x->err, EG_ELIMIT, x->name, 0, 0,
                       "more than %d points in one answer (request fewer days per poll)",
                       TR_SMARTHUB_MAX_POINTS);
    if (x->n_pts == x->cap_pts) {
        size_t cap = x->cap_pts ? x->cap_pts * 2 : 256;
        sh_point *p = realloc(x->pts, cap * sizeof *p);
        if (!p) return eg_errf(x->err, EG_ENOMEM, x->name, 0, 0, "out of memory");
        x->pts = p;
        x->cap_pts = cap;
    }
    *out = &x->pts[x->n_pts++];
    memset(*out, 0, sizeof **out);
    (*out)->cost = (*out)->quality = ESPI_NONE;
    (*out)->seq = x->seq++;
    return 0;
}

/* Parse series s's data[] into points (appended to ctx.pts).  A bad point is
 * a row problem (error, or dropped in lenient mode).  Returns 0 or < 0. */
static int parse_points(sh_ctx *x, int si, const sh_dseries *ds, int scale)
{
    char text[80];
    int rc = 0;
    for (size_t k = ds->p0; k < ds->p1; k++) {
        const sh_dpoint *p = &x->doc.pts[k];
        size_t i = k - ds->p0;
        sh_point *pt = NULL;
        int64_t xm = p->x_ms, v = 0;
        int rounded;
        int st = point_decimal(x, p, scale, &v, &rounded, text, sizeof text);
        if (xm < 0 || xm % 1000 != 0) {
            if ((rc = PROBLEM(x, "series \"%s\" point %zu has no usable x (expected epoch ms of "
                                 "the interval start, whole seconds)", x->ser[si].name, i)))
                return rc;
            continue;
        }
        if (st < 0) {
            char w[24];
            wall_text(xm / 1000, w, sizeof w);
            if ((rc = PROBLEM(x, "series \"%s\" at %s: y %s %s (expected a number like 0.11 or "
                                 "null)", x->ser[si].name, w, text,
                              st == -100 ? "is not a number" : tr_dec_strerror(st))))
                return rc;
            continue;
        }
        if ((rc = push_point(x, &pt))) return rc;
        pt->x_ms = xm;
        pt->series = si;
        pt->state = st == 1 ? SH_GAP : SH_EMIT;
        pt->value = st == 1 ? 0 : v;
        pt->flags = rounded ? TR_READING_ROUNDED : 0u;
    }
    return 0;
}

/* ---- series and meters ----------------------------------------------------------------- */

static const sh_dmeter *find_meter(const sh_ctx *x, const sh_dentry *e, const sh_dseries *sr)
{
    const char *name = dstr(x, sr->name), *num = dstr(x, sr->meter_number);
    int64_t chan = sr->channel.ok ? sr->channel.v : -1;
    for (size_t i = e->m0; i < e->m1; i++) {
        const char *sid = dstr(x, x->doc.met[i].series_id);
        if (name && sid && strcmp(name, sid) == 0) return &x->doc.met[i];
    }
    for (size_t i = e->m0; i < e->m1; i++) {
        const sh_dmeter *m = &x->doc.met[i];
        const char *mn = dstr(x, m->meter_number);
        if (num && mn && strcmp(num, mn) == 0 && chan >= 0 && (m->channel.ok ? m->channel.v : -2) == chan)
            return m;
    }
    return NULL;
}

static int64_t frame_length(const sh_ctx *x, const sh_dentry *e)
{
    const char *tf = dstr(x, e->time_frame);
    if (tf && strcmp(tf, "HOURLY") == 0) return 3600;
    if (tf && strcmp(tf, "DAILY") == 0) return SH_DAY;
    return 0;
}

static int is_monthly(const sh_ctx *x, const sh_dentry *e)
{
    const char *tf = dstr(x, e->time_frame);
    return tf && strcmp(tf, "MONTHLY") == 0;
}

/* A label worth using: not missing, empty or Java's "null". */
static int usable(const char *s)
{
    return s && *s && strcmp(s, "null") != 0;
}

/* The TOU period label of a TIME_OF_USE series: its rateName, else its own
 * meter's (joined by seriesId) rateName or rate, else what follows the last
 * " - " of its name ("1N0000000001 - On Peak").  NULL when there is none. */
static const char *tou_label(const sh_ctx *x, const sh_dseries *series, const sh_dmeter *meter,
                             const char *name)
{
    const char *r = dstr(x, series->rate_name), *sid = meter ? dstr(x, meter->series_id) : NULL;
    const char *tail = NULL;
    if (usable(r)) return r;
    if (sid && strcmp(sid, name) == 0) {
        if (usable(r = dstr(x, meter->rate_name))) return r;
        if (usable(r = dstr(x, meter->rate))) return r;
    }
    for (const char *d = strstr(name, " - "); d; d = strstr(d + 1, " - ")) tail = d + 3;
    return usable(tail) ? tail : NULL;
}

/* Lower-case letters and digits of label into key (size > SH_RATE_MAX). */
static void rate_key(const char *label, char *key)
{
    size_t n = 0;
    for (const char *c = label; *c && n < SH_RATE_MAX; c++) {
        if (*c >= 'A' && *c <= 'Z') key[n++] = (char)(*c - 'A' + 'a');
        else if ((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9')) key[n++] = *c;
    }
    key[n] = 0;
}

/* The TOU parts of series s (a TIME_OF_USE series): label, its key, and the
 * meter number when the series names none ("<meter> - <period>").  *ok says
 * whether the series is usable (a lenient row problem leaves it 0). */
static int tou_facts(sh_ctx *x, sh_series *s, const sh_dseries *series, const sh_dmeter *meter,
                     int *ok)
{
    *ok = 0;
    s->rate = tou_label(x, series, meter, s->name);
    if (!s->rate)
        return PROBLEM(x, "TIME_OF_USE series \"%s\" names no period (expected rateName, a "
                          "meter with rate, or a name like \"<meter> - On Peak\")", s->name);
    if (strlen(s->rate) > SH_RATE_MAX)
        return PROBLEM(x, "TIME_OF_USE series \"%s\": period name longer than %d characters",
                       s->name, SH_RATE_MAX);
    rate_key(s->rate, s->rate_key);
    if (!s->rate_key[0])
        return PROBLEM(x, "TIME_OF_USE series \"%s\": period name \"%s\" has no letters or "
                          "digits", s->name, s->rate);
    const char *d = strstr(s->name, " - ");
    if (s->meter == s->name && d && (size_t)(d - s->name) < sizeof s->meter_buf) {
        snprintf(s->meter_buf, sizeof s->meter_buf, "%.*s", (int)(d - s->name), s->name);
        s->meter = s->meter_buf;
    }
    *ok = 1;
    return 0;
}

/* Register a series of `entry`; *si gets its index, -1 when skipped.
 * kind is "USAGE", "COST" or "TIME_OF_USE". */
static int add_series(sh_ctx *x, const sh_dentry *entry, const sh_dseries *series,
                      const char *kind, int *si)
{
    const sh_dmeter *meter = find_meter(x, entry, series);
    const char *name = dstr(x, series->name);
    const char *unit = meter ? dstr(x, meter->unit) : NULL;
    int is_cost = strcmp(kind, "COST") == 0, is_tou = strcmp(kind, "TIME_OF_USE") == 0;
    int rc;
    *si = -1;
    if (!name || !*name || series->data_kind != SH_ARRAY)
        return PROBLEM(x, "a %s series has no name or no data array (expected "
                          "{\"name\":..., \"data\":[{\"x\":..., \"y\":...}]})", kind);
    if (!is_cost && unit && strcmp(unit, "KWH") != 0)
        return WARN(x, "series \"%s\" ignored: its meter's unit is %s (only KWH is translated)",
                    name, unit);
    if (x->n_ser >= TR_SMARTHUB_MAX_SERIES)
        return eg_errf(x->err, EG_ELIMIT, x->name, 0, 0,
                       "more than %d series in one answer", TR_SMARTHUB_MAX_SERIES);
    sh_series *s = &x->ser[x->n_ser];
    memset(s, 0, sizeof *s);
    s->name = name;
    s->meter = meter && dstr(x, meter->meter_number) ? dstr(x, meter->meter_number)
               : dstr(x, series->meter_number) ? dstr(x, series->meter_number) : name;
    s->flow = meter ? dstr(x, meter->flow) : NULL;
    s->entry = entry;
    s->frame_len = frame_length(x, entry);
    s->monthly = is_monthly(x, entry);
    s->is_cost = is_cost;
    s->is_tou = is_tou;
    s->tou = ESPI_NONE;
    s->channel = -1;
    int ok = 1;
    if (is_tou && ((rc = tou_facts(x, s, series, meter, &ok)) || !ok))
        return rc; /* not registered: n_ser unchanged */
    if (strlen(s->meter) > 60)
        return PROBLEM(x, "series \"%s\": meter number longer than 60 characters", name);
    if (!meter && !is_cost &&
        (rc = WARN(x, "series \"%s\" matches no meters[].seriesId nor meterNumber+channel; "
                      "its direction is taken from the sign of its values", name)))
        return rc;
    *si = x->n_ser++;
    s->begin = x->n_pts;
    rc = parse_points(x, *si, series, is_cost ? SH_SCALE_COST : SH_SCALE_WH);
    s->end = x->n_pts;
    if (rc == 0 && s->end - s->begin > 1)
        sort_points(x->pts + s->begin, s->end - s->begin, cmp_x);
    return rc;
}

/* Smallest positive gap between consecutive x of a sorted series, in s. */
static int64_t smallest_gap(const sh_ctx *x, const sh_series *s)
{
    int64_t best = 0;
    for (size_t i = s->begin + 1; i < s->end; i++) {
        int64_t g = (x->pts[i].x_ms - x->pts[i - 1].x_ms) / 1000;
        if (g > 0 && (best == 0 || g < best)) best = g;
    }
    return best;
}

/* ---- cost and quality ---------------------------------------------------------------------- */

/* The USAGE series called name, else the TIME_OF_USE one, else -1. */
static int find_usage_series(const sh_ctx *x, const char *name)
{
    for (int tou = 0; tou <= 1; tou++)
        for (int i = 0; i < x->n_ser; i++)
            if (!x->ser[i].is_cost && x->ser[i].is_tou == tou && strcmp(x->ser[i].name, name) == 0)
                return i;
    return -1;
}

/* Put the cost points of series c on the usage points of series u with the
 * same x: the k-th cost at an x goes to the k-th usage point at that x. */
static int join_cost(sh_ctx *x, int ci, int ui)
{
    sh_series *c = &x->ser[ci], *u = &x->ser[ui];
    size_t i = c->begin, j = u->begin, unmatched = 0;
    u->has_cost = 1;
    while (i < c->end) {
        int64_t xm = x->pts[i].x_ms;
        while (j < u->end && x->pts[j].x_ms < xm) j++;
        size_t k = j;
        for (; i < c->end && x->pts[i].x_ms == xm; i++, k++) {
            if (k < u->end && x->pts[k].x_ms == xm) {
                if (x->pts[i].state == SH_EMIT) {
                    x->pts[k].cost = x->pts[i].value;
                    x->pts[k].flags |= x->pts[i].flags;
                }
            } else if (x->pts[i].state == SH_EMIT) {
                unmatched++;
            }
        }
    }
    if (unmatched)
        return WARN(x, "COST series \"%s\": %zu values have no USAGE point at the same x "
                       "(ignored)", c->name, unmatched);
    return 0;
}

static int join_costs(sh_ctx *x)
{
    int rc;
    for (int i = 0; i < x->n_ser; i++) {
        if (!x->ser[i].is_cost) continue;
        int u = find_usage_series(x, x->ser[i].name);
        if (u < 0) {
            if ((rc = WARN(x, "COST series \"%s\" has no USAGE series of that name (ignored)",
                           x->ser[i].name)))
                return rc;
            continue;
        }
        if ((rc = join_cost(x, i, u))) return rc;
    }
    return 0;
}

static void mark_quality(sh_ctx *x, const sh_dgroup *g, int64_t quality)
{
    const char *series = dstr(x, g->name);
    int u = series ? find_usage_series(x, series) : -1;
    if (u < 0) return;
    for (size_t i = g->i0; i < g->i1; i++) {
        int64_t xm = x->doc.qx[i];
        for (size_t k = x->ser[u].begin; k < x->ser[u].end; k++)
            if (x->pts[k].x_ms == xm) x->pts[k].quality = quality;
    }
}

/* Apply estimatedSeries / editedSeries (q) of one entry (shapes: file comment). */
static int apply_quality(sh_ctx *x, const sh_dentry *e, int q, const char *key, int64_t quality)
{
    int kind = e->q_kind[q];
    if (kind == SH_ABSENT || kind == SH_NULL) return 0;
    if (kind == SH_OBJECT || kind == SH_ARRAY) {
        for (size_t g = e->g0[q]; g < e->g1[q]; g++) mark_quality(x, &x->doc.qg[g], quality);
        return 0;
    }
    return WARN(x, "%s has an unknown shape (expected an object keyed by series name); "
                   "qualities not applied", key);
}

/* ---- channels ------------------------------------------------------------------------------- */

/* Choose the flow of usage series s from its meter flag and the signs of
 * its values; *absolute says whether values become absolute.  Returns 0,
 * or a negative code (a problem, or a warning the sink refused). */
static int choose_flow(sh_ctx *x, const sh_series *s, int64_t *flow, int *absolute)
{
    int pos = 0, neg = 0;
    for (size_t i = s->begin; i < s->end; i++)
        if (x->pts[i].state == SH_EMIT) {
            pos |= x->pts[i].value > 0;
            neg |= x->pts[i].value < 0;
        }
    const char *f = s->flow ? s->flow : "";
    int reverse = strcmp(f, "REVERSE") == 0 || strcmp(f, "RETURN") == 0;
    int forward = strcmp(f, "FORWARD") == 0 || strcmp(f, "TOTAL") == 0;
    *absolute = 0;
    if (strcmp(f, "NET") == 0) return *flow = ESPI_FLOW_NET, 0;
    if (pos && neg) {
        if (reverse)
            return eg_errf(x->err, EG_EDATA, x->name, 0, 0,
                           "series \"%s\" is %s but has positive and negative values (expected "
                           "one sign on a one-directional channel)", s->name, f);
        *flow = ESPI_FLOW_NET;
        return *f ? WARN(x, "series \"%s\" is %s but has both signs: read as NET (signed, "
                            "negative = export)", s->name, f)
                  : 0;
    }
    if (reverse || neg) {
        *flow = ESPI_FLOW_REVERSE;
        *absolute = 1;
        if (!reverse && neg)
            return WARN(x, "series \"%s\" is %s but all its values are negative: read as "
                           "export (REVERSE, absolute values)", s->name, *f ? f : "unflagged");
        return 0;
    }
    if (!forward && *f)
        return WARN(x, "series \"%s\": unknown flowDirection \"%s\", read as FORWARD "
                       "(non-negative values)", s->name, f);
    *flow = ESPI_FLOW_FORWARD;
    return 0;
}

static int64_t measuring_period(int64_t len)
{
    switch (len) {
    case 300: return ESPI_TIMEATTR_5_MINUTE;
    case 900: return ESPI_TIMEATTR_15_MINUTE;
    case 1800: return ESPI_TIMEATTR_30_MINUTE;
    case 3600: return ESPI_TIMEATTR_60_MINUTE;
    case 86400: return ESPI_TIMEATTR_24_HOUR;
    default: return ESPI_NONE;
    }
}

/* TOU period codes (ReadingType.tou, Int16).  SmartHub has no codes, only
 * each co-op's labels, so we number them ourselves: the labels below (compared
 * lower-case, letters and digits only, so "Super Off Pk", "SUPER-OFF-PEAK"
 * match) get fixed codes 1..5; any other label gets SH_TOU_FIRST_UNKNOWN and
 * up in the sorted order of the distinct labels of the answer.  So a code
 * never depends on the order of the answer, and the known ones never change;
 * an unknown label's code can differ between answers with different sets of
 * unknown labels, which is why the channel key carries the label, not the
 * code. */
static const struct {
    const char *keys[3]; /* rate_key() forms */
    const char *slug;    /* in channel keys */
} sh_tou_known[SH_TOU_FIRST_UNKNOWN - 1] = {
    {{"onpeak", "onpk", "peak"}, "on-peak"},                 /* 1 */
    {{"offpeak", "offpk", NULL}, "off-peak"},                /* 2 */
    {{"superoffpeak", "superoffpk", NULL}, "super-off-peak"}, /* 3 */
    {{"shoulder", NULL, NULL}, "shoulder"},                  /* 4 */
    {{"midpeak", "midpk", NULL}, "mid-peak"},                /* 5 */
};

/* Fixed code (1..) of a known rate key, 0 when unknown. */
static int known_tou(const char *key)
{
    for (int i = 0; i < SH_TOU_FIRST_UNKNOWN - 1; i++)
        for (int k = 0; k < 3 && sh_tou_known[i].keys[k]; k++)
            if (strcmp(sh_tou_known[i].keys[k], key) == 0) return i + 1;
    return 0;
}

/* Give every TIME_OF_USE series its code (see sh_tou_known). */
static void number_tou(sh_ctx *x)
{
    for (int i = 0; i < x->n_ser; i++) {
        sh_series *s = &x->ser[i];
        if (!s->is_tou) continue;
        int code = known_tou(s->rate_key);
        if (!code) { /* 1 + the number of distinct unknown keys sorting before it */
            code = SH_TOU_FIRST_UNKNOWN;
            for (int j = 0; j < x->n_ser; j++) {
                const sh_series *o = &x->ser[j];
                int first = 1; /* count each distinct key once: at its first series */
                for (int k = 0; k < j && first; k++)
                    first = !(x->ser[k].is_tou && strcmp(x->ser[k].rate_key, o->rate_key) == 0);
                if (o->is_tou && first && !known_tou(o->rate_key) &&
                    strcmp(o->rate_key, s->rate_key) < 0)
                    code++;
            }
        }
        s->tou = code;
    }
}

/* Find or create the channel of (meter, flow, span, TOU period) for series s;
 * interval is the wall length of its points. */
static int channel_for(sh_ctx *x, sh_series *s, int64_t flow, int64_t interval, int *index)
{
    const char *tag = flow == ESPI_FLOW_NET ? "net" : flow == ESPI_FLOW_REVERSE ? "reverse" : "forward";
    int span = s->monthly || interval > SH_DAY ? SH_SPAN_BILLING
               : interval == SH_DAY           ? SH_SPAN_DAY
                                              : SH_SPAN_INTERVAL;
    const char *span_tag = span == SH_SPAN_BILLING ? ":monthly" : span == SH_SPAN_DAY ? ":daily" : "";
    const char *slug = !s->is_tou ? "" : known_tou(s->rate_key) ? sh_tou_known[s->tou - 1].slug
                                                                 : s->rate_key;
    char key[TR_KEY_MAX];
    int w = snprintf(key, sizeof key, "smarthub:%s:%s%s%s%s", s->meter, tag, span_tag,
                     s->is_tou ? ":tou-" : "", slug);
    s->span = span;
    if (w < 0 || (size_t)w >= sizeof key)
        return eg_errf(x->err, EG_ELIMIT, x->name, 0, 0,
                       "series \"%s\": its channel key would be longer than %d characters "
                       "(meter number or period name too long)", s->name, TR_KEY_MAX - 1);
    for (int i = 0; i < x->n_ch; i++)
        if (strcmp(x->ch[i].key, key) == 0) {
            if (s->has_cost) x->ch[i].currency = ESPI_CURRENCY_USD;
            return *index = i, 0;
        }
    if (x->n_ch >= TR_MAX_CHANNELS)
        return eg_errf(x->err, EG_ELIMIT, x->name, 0, 0,
                       "more than %d meter channels in one answer", TR_MAX_CHANNELS);
    tr_channel *c = &x->ch[x->n_ch];
    memset(c, 0, sizeof *c);
    c->index = x->n_ch;
    snprintf(c->key, sizeof c->key, "%s", key);
    snprintf(c->usage_point, sizeof c->usage_point, "smarthub:%s", s->meter);
    snprintf(c->name, sizeof c->name, "SmartHub %s %s%s%s%s", s->meter,
             flow == ESPI_FLOW_NET ? "Net" : flow == ESPI_FLOW_REVERSE ? "Generation" : "Consumption",
             span == SH_SPAN_BILLING ? " Monthly" : span == SH_SPAN_DAY ? " Daily" : "",
             s->is_tou ? " " : "", s->is_tou ? s->rate : "");
    c->service_kind = ESPI_SERVICE_ELECTRICITY;
    c->flow_direction = flow;
    c->uom = ESPI_UOM_WH;
    c->power_of_ten_multiplier = 0;
    /* billing periods vary (28-35 days): a nominal length, as bill.c */
    c->interval_length = span == SH_SPAN_BILLING ? SH_MONTH_NOMINAL : interval;
    c->commodity = ESPI_COMMODITY_ELECTRICITY_SECONDARY;
    c->kind = ESPI_KIND_ENERGY;
    c->accumulation = ESPI_ACCUM_DELTA_DATA;
    c->measuring_period = measuring_period(c->interval_length);
    c->currency = s->has_cost ? ESPI_CURRENCY_USD : ESPI_NONE;
    c->tou = s->is_tou ? s->tou : ESPI_NONE;
    c->cpp = c->consumption_tier = ESPI_NONE;
    *index = x->n_ch++;
    return 0;
}

/* ---- time resolution ------------------------------------------------------------------------ */

/* xToOrderedInterval[x] of point p, or NULL. */
static const sh_dxto *ordered_interval(const sh_ctx *x, const sh_series *s, const sh_point *p)
{
    return sh_doc_xto(&x->doc, s->entry, p->x_ms);
}

/* Wall length (s) of point p of series s: xToOrderedInterval, else (not for
 * MONTHLY: billing periods differ) timeFrame DAILY, the series' smallest gap,
 * timeFrame HOURLY; 0 when unknown.  SH_OPEN for the open billing period of a
 * MONTHLY answer (its end is far in the future). */
static int64_t wall_length(const sh_ctx *x, const sh_series *s, const sh_point *p)
{
    const sh_dxto *iv = ordered_interval(x, s, p);
    int64_t a = iv ? iv->start : -1, b = iv ? iv->end : -1;
    if (a == p->x_ms && b > a && s->monthly && (b > SH_MAX_X_MS || b - a > SH_OPEN_MS))
        return SH_OPEN;
    if (a == p->x_ms && b > a && b <= SH_MAX_X_MS && (b - a) % 1000 == 0) return (b - a) / 1000;
    if (s->monthly) return 0;
    if (s->frame_len == SH_DAY) return SH_DAY;
    return s->nominal ? s->nominal : s->frame_len;
}

/* The wall length of s's first point with one (the channel's interval), else
 * its timeFrame's. */
static int64_t series_length(const sh_ctx *x, const sh_series *s)
{
    for (size_t i = s->begin; i < s->end; i++) {
        int64_t len = wall_length(x, s, &x->pts[i]);
        if (len > 0) return len;
    }
    return s->frame_len;
}

static int same_value(const sh_point *a, const sh_point *b)
{
    return a->state == b->state && a->value == b->value && a->cost == b->cost;
}

/* A repeated x that is not the second half of a fall-back hour: drop p when
 * it repeats `first`, complain when it differs. */
static int duplicate(sh_ctx *x, const sh_series *s, sh_point *first, sh_point *p, const char *w)
{
    if (p->state == SH_GAP || same_value(first, p)) {
        p->state = SH_DROPPED;
        return WARN(x, "series \"%s\" repeats the point at %s (duplicate dropped)", s->name, w);
    }
    if (first->state == SH_GAP) { /* keep the value, drop the null */
        first->state = SH_DROPPED;
        p->start = first->start;
        p->duration = first->duration;
        return 0;
    }
    p->state = SH_DROPPED;
    return PROBLEM(x, "series \"%s\" has two different values at %s (expected one point per "
                      "interval; kept the first)", s->name, w);
}

/* UTC start and duration of p read with `fold`.  Returns 0, 1 when the wall
 * time does not exist, 2 for the open billing period, or < 0. */
static int to_utc(sh_ctx *x, const sh_series *s, sh_point *p, int fold, int *ambiguous)
{
    int f[6], g[6], flags = 0;
    int64_t wall = p->x_ms / 1000, len = wall_length(x, s, p), end;
    *ambiguous = 0;
    if (len == SH_OPEN) return 2;
    wall_fields(wall, f);
    if (tr_tz_cache_local_to_utc(&x->tzc, f[0], f[1], f[2], f[3], f[4], f[5], fold, &p->start, &flags))
        return eg_errf(x->err, EG_ESOFTWARE, x->name, 0, 0, "local time conversion failed");
    *ambiguous = (flags & TR_TZ_AMBIGUOUS) != 0;
    if (flags & TR_TZ_GAP) return 1;
    if (len <= 0) {
        char w[24];
        wall_text(wall, w, sizeof w);
        p->state = SH_DROPPED;
        if (s->monthly)
            return PROBLEM(x, "series \"%s\" at %s: cannot tell the billing period (a MONTHLY "
                              "point needs its xToOrderedInterval start and end)", s->name, w);
        return PROBLEM(x, "series \"%s\" at %s: cannot tell the interval length (no "
                          "xToOrderedInterval, a single point and timeFrame %s)", s->name, w,
                       s->frame_len ? "known" : "not HOURLY/DAILY");
    }
    if (len < 86400) return p->duration = len, 0;
    wall_fields(wall + len, g);
    if (tr_tz_cache_local_to_utc(&x->tzc, g[0], g[1], g[2], g[3], g[4], g[5], 0, &end, NULL) ||
        end <= p->start)
        return eg_errf(x->err, EG_ESOFTWARE, x->name, 0, 0, "interval end conversion failed");
    p->duration = end - p->start;
    return 0;
}

/* Resolve every point of usage series s (sorted by x): fold by order,
 * nonexistent times, duplicates, gaps. */
static int resolve_series(sh_ctx *x, sh_series *s)
{
    int rc = 0, occ = 0, amb = 0;
    size_t group = s->begin;
    char w[24];
#define WALL(pt) (wall_text((pt)->x_ms / 1000, w, sizeof w), w) /* for messages only */
    for (size_t i = s->begin; i < s->end && rc == 0; i++) {
        sh_point *p = &x->pts[i];
        if (i > s->begin && p->x_ms == x->pts[i - 1].x_ms) occ++;
        else occ = 0, group = i;
        p->channel = s->channel;
        int fold = occ == 1 && amb ? 1 : 0;
        if (occ >= 1 && !(occ == 1 && amb)) {
            if (x->pts[group].state == SH_DROPPED) p->state = SH_DROPPED; /* nonexistent time */
            else rc = duplicate(x, s, &x->pts[group], p, WALL(p));
            continue;
        }
        if ((rc = to_utc(x, s, p, fold, &amb)) < 0) break;
        if (p->state == SH_DROPPED) continue;
        if (rc == 2) {
            const sh_dxto *iv = ordered_interval(x, s, p);
            const char *period = iv ? dstr(x, iv->ordered_name) : NULL;
            p->state = SH_DROPPED;
            rc = WARN(x, "series \"%s\": the billing period %s%s%sfrom %s is still open (unbilled; "
                         "its end is far in the future): dropped until it is billed", s->name,
                      period ? "\"" : "", period ? period : "", period ? "\" " : "", WALL(p));
            continue;
        }
        if (rc == 1) {
            p->state = SH_DROPPED;
            rc = tr_report_skip(x->sink, TR_SKIP_NONEXISTENT, 0, x->err,
                                "series \"%s\": %s does not exist in %s (clocks spring forward); "
                                "point dropped", s->name, WALL(p), tr_tz_name(x->o->tz));
            continue;
        }
        if (fold == 1)
            rc = WARN(x, "series \"%s\": %s occurs twice (clocks fall back); the first point "
                         "is read as daylight time, the second as standard time", s->name, WALL(p));
    }
    /* gaps last: a null later replaced by a repeated point with a value is no gap */
    for (size_t i = s->begin; i < s->end && rc == 0; i++) {
        if (x->pts[i].state != SH_GAP) continue;
        wall_text(x->pts[i].x_ms / 1000, w, sizeof w);
        rc = tr_report_skip(x->sink, TR_SKIP_NO_VALUE, 0, x->err,
                            "series \"%s\" has no value (y null) at %s (a gap in SmartHub's data)",
                            s->name, w);
    }
    return rc;
}
#undef WALL

/* Choose the channel of every usage series and resolve its points. */
static int place_series(sh_ctx *x)
{
    int rc = 0, absolute;
    int64_t flow = ESPI_FLOW_FORWARD;
    for (int i = 0; i < x->n_ser && rc == 0; i++) {
        sh_series *s = &x->ser[i];
        if (s->is_cost) continue;
        s->nominal = smallest_gap(x, s);
        if ((rc = choose_flow(x, s, &flow, &absolute))) break;
        if ((rc = channel_for(x, s, flow, series_length(x, s), &s->channel))) break;
        for (size_t k = s->begin; k < s->end; k++)
            if (absolute && x->pts[k].value < 0) x->pts[k].value = -x->pts[k].value;
        rc = resolve_series(x, s);
    }
    return rc;
}

/* ---- TOU cross-check ------------------------------------------------------------------------ */

typedef struct sh_xv {
    int64_t x_ms, value;
} sh_xv;

static int cmp_xv(const void *a, const void *b)
{
    const sh_xv *p = a, *q = b;
    return p->x_ms < q->x_ms ? -1 : p->x_ms > q->x_ms;
}

/* Sum of the values at x in sorted t[0..n); *found says whether any. */
static int64_t sum_at(const sh_xv *t, size_t n, int64_t xm, int *found)
{
    size_t lo = 0, hi = n;
    int64_t sum = 0;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (t[mid].x_ms < xm) lo = mid + 1;
        else hi = mid;
    }
    *found = lo < n && t[lo].x_ms == xm;
    for (; lo < n && t[lo].x_ms == xm; lo++) sum += t[lo].value;
    return sum;
}

/* SmartHub's TIME_OF_USE series split the USAGE kWh: at every x where both a
 * USAGE series and the TOU series of its meter (same span) have values, the
 * periods must add up to the USAGE value.  One note per USAGE series that
 * does not (both are still translated as given). */
static int check_tou_sums(sh_ctx *x)
{
    sh_xv *t = NULL;
    int rc = 0;
    for (int u = 0; u < x->n_ser && rc == 0; u++) {
        const sh_series *us = &x->ser[u];
        size_t n = 0, checked = 0, bad = 0;
        int64_t first_x = 0, first_u = 0, first_t = 0;
        if (us->is_cost || us->is_tou) continue;
        for (int pass = 0; pass < 2; pass++) { /* count, then fill */
            if (pass == 1) {
                if (n == 0) break;
                if (!(t = malloc(n * sizeof *t))) {
                    rc = eg_errf(x->err, EG_ENOMEM, x->name, 0, 0, "out of memory");
                    break;
                }
                n = 0;
            }
            for (int i = 0; i < x->n_ser; i++) {
                const sh_series *ts = &x->ser[i];
                if (!ts->is_tou || ts->span != us->span || strcmp(ts->meter, us->meter) != 0)
                    continue;
                for (size_t k = ts->begin; k < ts->end; k++) {
                    if (x->pts[k].state != SH_EMIT) continue;
                    if (pass == 1) t[n] = (sh_xv){x->pts[k].x_ms, x->pts[k].value};
                    n++;
                }
            }
        }
        if (rc || !t) continue;
        qsort(t, n, sizeof *t, cmp_xv);
        for (size_t k = us->begin; k < us->end;) {
            int64_t xm = x->pts[k].x_ms, sum = 0;
            int any = 0, found;
            for (; k < us->end && x->pts[k].x_ms == xm; k++)
                if (x->pts[k].state == SH_EMIT) sum += x->pts[k].value, any = 1;
            int64_t tsum = sum_at(t, n, xm, &found);
            if (!any || !found) continue;
            checked++;
            if (tsum != sum && bad++ == 0) first_x = xm, first_u = sum, first_t = tsum;
        }
        free(t);
        t = NULL;
        if (bad) {
            char w[24];
            wall_text(first_x / 1000, w, sizeof w);
            rc = WARN(x, "TIME_OF_USE series of meter %s do not add up to USAGE series \"%s\" at "
                         "%zu of %zu intervals (first at %s: %" PRId64 " Wh by period, %" PRId64
                         " Wh in USAGE); both translated as given", us->meter, us->name, bad,
                      checked, w, first_t, first_u);
        }
    }
    free(t);
    return rc;
}

/* ---- emission ------------------------------------------------------------------------------ */

static int emit_all(sh_ctx *x)
{
    int rc = 0;
    for (int i = 0; i < x->n_ch && rc == 0; i++)
        rc = x->sink->channel ? x->sink->channel(x->sink->ctx, &x->ch[i], x->err) : 0;
    /* cost points were only carriers: leave usage points, ordered per channel */
    size_t n = 0;
    for (size_t i = 0; i < x->n_pts; i++)
        if (!x->ser[x->pts[i].series].is_cost && x->pts[i].state == SH_EMIT) x->pts[n++] = x->pts[i];
    sort_points(x->pts, n, cmp_channel_start);
    const sh_point *prev = NULL;
    for (size_t i = 0; i < n && rc == 0; i++) {
        const sh_point *p = &x->pts[i];
        if (prev && prev->channel == p->channel && p->start < prev->start + prev->duration) {
            char w[24];
            wall_text(p->x_ms / 1000, w, sizeof w);
            if (p->start == prev->start && same_value(prev, p)) {
                rc = WARN(x, "series \"%s\" at %s repeats another series of channel %s "
                             "(duplicate dropped)", x->ser[p->series].name, w, x->ch[p->channel].key);
            } else {
                rc = PROBLEM(x, "series \"%s\" at %s overlaps the previous reading of channel %s "
                                "(expected one value per interval; kept the first)",
                             x->ser[p->series].name, w, x->ch[p->channel].key);
            }
            continue;
        }
        tr_reading r = {p->channel, p->start, p->duration, p->value, p->cost, p->quality,
                        p->flags, 0};
        rc = x->sink->reading(x->sink->ctx, &r, x->err);
        prev = p;
    }
    return rc;
}

/* ---- document ------------------------------------------------------------------------------ */

/* The data object of the answer: unwrap status/data, refuse PENDING & co.
 * *box: 0 when the root itself is the data object, 1 for root.data. */
static int find_data(sh_ctx *x, int *box)
{
    const sh_doc *d = &x->doc;
    const char *s = d->status_kind == SH_STRING ? dstr(x, d->status) : NULL;
    if (d->root_kind != SH_OBJECT)
        return eg_errf(x->err, EG_EDATA, x->name, 0, 0,
                       "the answer is a JSON %s (expected an object like {\"status\":\"COMPLETE\","
                       "\"data\":{...}})", d->root_kind == SH_ARRAY ? "array" : "value");
    if (d->status_kind != SH_ABSENT && !s)
        return eg_errf(x->err, EG_EDATA, x->name, 0, 0, "status is not a string");
    if (s && strcmp(s, "PENDING") == 0)
        return eg_errf(x->err, EG_EDATA, x->name, 0, 0,
                       "poll status is PENDING: SmartHub has not finished (re-POST the same request "
                       "every few seconds until status is COMPLETE)");
    if (s && strcmp(s, "COMPLETE") != 0)
        return eg_errf(x->err, EG_EDATA, x->name, 0, 0,
                       "poll status is %.40s (expected COMPLETE; FAILED/ERROR mean SmartHub refused "
                       "the request -- check screen, dates and account)", s);
    int wrapped = s || d->data_kind == SH_OBJECT;
    if (wrapped && d->data_kind != SH_OBJECT)
        return eg_errf(x->err, EG_EDATA, x->name, 0, 0,
                       "status is COMPLETE but there is no data object");
    *box = wrapped;
    return 0;
}

static int read_entries(sh_ctx *x, const sh_dbox *b, int cost_pass)
{
    int rc = 0, si;
    size_t i = 0; /* index in the ELECTRIC list */
    for (size_t n = 0; n < x->doc.n_ent; n++) {
        const sh_dentry *e = &x->doc.ent[n];
        if (e->list != b->list) continue;
        size_t idx = i++;
        const char *type = dstr(x, e->type);
        int cost = type && strcmp(type, "COST") == 0;
        int usage = type && (strcmp(type, "USAGE") == 0 || strcmp(type, "TIME_OF_USE") == 0);
        if (!cost_pass && !usage && !cost &&
            (rc = WARN(x, "ELECTRIC entry %zu of type %s ignored (unknown type)", idx,
                       type ? type : "(none)")))
            return rc;
        if ((cost_pass && !cost) || (!cost_pass && !usage)) continue;
        if (e->series_kind != SH_ARRAY) {
            if ((rc = PROBLEM(x, "ELECTRIC entry %zu (%s) has no series array", idx, type))) return rc;
            continue;
        }
        for (size_t k = e->s0; k < e->s1; k++)
            if ((rc = add_series(x, e, &x->doc.ser[k], type, &si))) return rc;
        if (!cost_pass &&
            ((rc = apply_quality(x, e, SH_Q_EDITED, "editedSeries", ESPI_QUALITY_MANUALLY_EDITED)) ||
             (rc = apply_quality(x, e, SH_Q_ESTIMATED, "estimatedSeries",
                                 ESPI_QUALITY_ESTIMATED_REFERENCE_DAY))))
            return rc;
    }
    return 0;
}

static int translate_doc(sh_ctx *x)
{
    int rc, box = 0;
    if ((rc = find_data(x, &box))) return rc;
    const sh_dbox *b = &x->doc.box[box];
    if (b->electric_kind != SH_ARRAY)
        return eg_errf(x->err, EG_EDATA, x->name, 0, 0,
                       "no ELECTRIC list in the data object (expected {\"ELECTRIC\":[...]}; only "
                       "electric usage is translated)");
    for (int i = 0; i < b->n_industries; i++)
        if ((rc = WARN(x, "industry %.40s ignored (only ELECTRIC is translated)",
                       dstr(x, b->industries[i]))))
            return rc;
    if ((rc = read_entries(x, b, 0)) || (rc = read_entries(x, b, 1))) return rc;
    int any = 0;
    for (int i = 0; i < x->n_ser; i++) any |= !x->ser[i].is_cost;
    if (!any)
        return eg_errf(x->err, EG_EDATA, x->name, 0, 0,
                       "the answer has no USAGE series (SmartHub returns empty data for spans "
                       "it will not serve; request at most 30 days)");
    number_tou(x);
    if ((rc = join_costs(x)) || (rc = place_series(x)) || (rc = check_tou_sums(x))) return rc;
    return emit_all(x);
}

/* Refuse what is clearly not a JSON poll answer, naming what it is. */
static int sniff(const char *buf, size_t len, const char *name, eg_err *err)
{
    size_t i = 0;
    if (len >= 3 && memcmp(buf, "\xEF\xBB\xBF", 3) == 0) i = 3;
    while (i < len && (buf[i] == ' ' || buf[i] == '\t' || buf[i] == '\r' || buf[i] == '\n')) i++;
    if (i == len)
        return eg_errf(err, EG_EDATA, name, 1, 1, "empty input (expected a SmartHub poll answer)");
    if (buf[i] == '<')
        return eg_errf(err, EG_EDATA, name, 1, 1,
                       "this is an HTML page, not JSON (SmartHub answers with a web page when the "
                       "session expired or the portal is down: log in again, check Content-Type)");
    if (len - i >= 4 && memcmp(buf + i, "//OK", 4) == 0)
        return eg_errf(err, EG_EDATA, name, 1, 1,
                       "this is a legacy GWT ReadingService answer (//OK...), not the JSON poll "
                       "(use /services/secured/utility-usage/poll)");
    return 0;
}

int tr_smarthub_read_mem(const char *buf, size_t len, const char *name, const tr_options *opts,
                         const tr_sink *sink, eg_err *err)
{
    sh_ctx *x = NULL;
    int rc;
    if (!opts || !opts->tz || !sink || !sink->reading)
        return eg_errf(err, EG_EUSAGE, name, 0, 0, "tr_smarthub_read needs a zone and a reading sink");
    if ((rc = sniff(buf, len, name, err))) goto done;
    if (!(x = calloc(1, sizeof *x))) {
        rc = eg_errf(err, EG_ENOMEM, name, 0, 0, "out of memory");
        goto done;
    }
    if ((rc = sh_doc_parse(&x->doc, buf, len, TR_SMARTHUB_MAX_POINTS, name, err))) goto done;
    x->name = name;
    x->o = opts;
    x->sink = sink;
    x->err = err;
    tr_tz_cache_init(&x->tzc, opts->tz);
    rc = translate_doc(x);
done:
    if (x) {
        free(x->pts);
        sh_doc_free(&x->doc);
    }
    free(x);
    return rc < 0 ? rc : 0;
}

/* First buffer size: the file's size + 1 when it is a regular file (one
 * read, no regrowth), else 64 KiB. */
static size_t size_hint(FILE *in)
{
    struct stat st;
    if (fstat(fileno(in), &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0 &&
        (uintmax_t)st.st_size < TR_SMARTHUB_MAX_BYTES)
        return (size_t)st.st_size + 1;
    return 65536;
}

int tr_smarthub_read_max(FILE *in, size_t max_bytes, const char *name, const tr_options *opts,
                         const tr_sink *sink, eg_err *err)
{
    char *buf = NULL;
    size_t len = 0, cap = 0;
    int rc = 0;
    for (;;) {
        if (len == cap) {
            size_t ncap = cap ? cap * 2 : size_hint(in);
            if (ncap > max_bytes + 1) ncap = max_bytes + 1;
            if (ncap <= len) {
                rc = eg_errf(err, EG_ELIMIT, name, 0, 0,
                             "input is larger than %zu bytes (the limit for one poll answer; "
                             "request fewer days per poll)", max_bytes);
                goto done;
            }
            char *nb = realloc(buf, ncap);
            if (!nb) {
                rc = eg_errf(err, EG_ENOMEM, name, 0, 0, "out of memory reading the input");
                goto done;
            }
            buf = nb;
            cap = ncap;
        }
        size_t got = fread(buf + len, 1, cap - len, in);
        len += got;
        if (len > max_bytes) {
            rc = eg_errf(err, EG_ELIMIT, name, 0, 0,
                         "input is larger than %zu bytes (the limit for one poll answer; request "
                         "fewer days per poll)", max_bytes);
            goto done;
        }
        if (got == 0) break;
    }
    if (ferror(in)) {
        rc = eg_errf(err, EG_EIO, name, 0, 0, "read error");
        goto done;
    }
    rc = tr_smarthub_read_mem(buf ? buf : "", len, name, opts, sink, err);
done:
    free(buf);
    return rc;
}

int tr_smarthub_read(FILE *in, const char *name, const tr_options *opts, const tr_sink *sink,
                     eg_err *err)
{
    return tr_smarthub_read_max(in, TR_SMARTHUB_MAX_BYTES, name, opts, sink, err);
}
