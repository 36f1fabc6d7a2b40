/* opower.c -- Opower "Download My Data" CSV -> ESPI-ready readings and bills.
 *
 * The file is a report before it is a table: a UTF-8 BOM, a preamble of
 * label,value rows (Name; Address, quoted because it holds commas; Account
 * Number; Service), a blank line, then the header.  We read rows until one
 * names both TYPE and DATE (or START DATE) -- the classic header starts with
 * TYPE, the newer per-row layout starts with Name -- and remember the
 * preamble's Account Number on the way.  Every column is then found by its
 * header text, never by position, and the header decides the layout:
 *
 *   START DATE + END DATE   billing export;
 *   START TIME              interval data (END TIME optional);
 *   neither                 daily data (PG&E gas), one row per local day.
 *
 * Usage columns: USAGE (with UNITS, or the unit in the header: "USAGE
 * (kWh)"), or IMPORT (kWh) + EXPORT (kWh).  Units are kWh (kept in Wh) or
 * therms (kept in thousandths, uom 169 x 10^-3); TYPE says the service
 * ("Electric usage", "Natural gas usage", "electric", "gas") and must agree
 * with the unit.  Channels are per (account, service, layout), declared on
 * first use, keyed "opower:<account>:<electric|gas>:<tag>".
 *
 * A single signed USAGE is split, not netted: its positive part goes to the
 * forward channel (flow 1) and the magnitude of its negative part to a
 * reverse channel (flow 19), which is declared at the first negative row and
 * from then on gets a reading for every row (0 on import intervals).  So an
 * account without export looks like any consumption feed, and forward minus
 * reverse equals the source's net exactly, row by row.  A row's COST goes
 * with the channel that carries its energy (reverse for an export row).
 *
 * Time.  DATE is YYYY-MM-DD or M/D/YYYY; START TIME "H:MM" is local wall
 * clock; END TIME is the interval's LAST minute (00:59 hourly, 00:14
 * 15-minute), so the end instant is the first moment at or after the start
 * when the wall clock reads END TIME, plus a minute (a second for H:MM:SS).
 * Wall clock repeats on the fall-back day: the start is the earliest reading
 * of its label not before the end of the series' previous row, so the first
 * "01:00,01:59" row is DST (fold 0) and the second standard time (fold 1);
 * a third, or any row going back in time, is refused.  Spring-forward days
 * simply lack the 02:00 row; a row at a nonexistent time is dropped when
 * empty or zero and refused otherwise.  Without END TIME a row lasts until
 * the next row of its series starts, capped at the smallest step seen so far
 * (a gap stays a gap), at an hour (Opower intervals are 15, 30 or 60
 * minutes) and at local midnight; the last row takes the smallest step.  A
 * gap of under an hour right after the first row is absorbed by it: the
 * interval length is not known yet.  Timestamps with a UTC offset ("2026-01-01 00:00:00-05:00", newer
 * layout) are exact instants and their END TIME is the exclusive end.
 *
 * Quality: NOTES containing "estimated" ("* This data was estimated") ->
 * 8, estimated using reference day (the code GB consumers read as
 * estimated; Opower does not say how).  Other notes are ignored.
 *
 * Billing rows are inclusive local dates: the period runs from local
 * midnight of START DATE to local midnight after END DATE, and periods may
 * not overlap.  Each row becomes a tr_bill (bill_total = COST, credits
 * negative; consumption = USAGE in Wh for electricity; no line items: the
 * export gives only a total, and one "usage" item would mislabel fixed
 * charges and credits) and one reading on the billing-period channel with
 * the period as its duration and COST as its cost.
 *
 * State is one small record per series and at most one pending row, so
 * memory does not grow with the file. */
#include "opower.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "decimal.h"
#include "trcsv.h"

#define OP_ACCOUNT_MAX 40
#define OP_HEADER_SEARCH_ROWS 64  /* preamble rows we read looking for the header */
#define OP_MAX_SERIES 8
#define OP_MAX_DURATION 90000     /* no interval row outlasts a fall-back day */
#define OP_MAX_STEP 3600          /* Opower intervals: 15, 30 or 60 minutes */
#define OP_SKIPPED -1000          /* a bad row reported and skipped (lenient) */

enum op_layout { OP_INTERVAL, OP_DAILY, OP_BILLING };
enum op_service { OP_ELECTRIC, OP_GAS };
enum op_unit { OP_UNIT_NONE, OP_UNIT_KWH, OP_UNIT_THERM };

typedef struct op_cols {
    int type, date, start, end, usage, imp, exp, units, cost, notes, account;
    int start_date, end_date;
    int need;             /* fields a row must have: max required column + 1 */
} op_cols;

/* One series: the rows of one account and service; up to two channels. */
typedef struct op_series {
    char account[OP_ACCOUNT_MAX];
    int service;          /* op_service */
    int fwd, rev;         /* channel indices, -1 until declared */
    int64_t last_end;     /* UTC end of the previous row, ESPI_NONE */
    int64_t step;         /* smallest start-to-start step (no END TIME), ESPI_NONE */
    int pending;          /* pend holds a row waiting for its duration */
    struct op_row *pend;
} op_series;

/* One parsed row. */
typedef struct op_row {
    int service;
    char account[OP_ACCOUNT_MAX];
    int y, mo, d;                  /* DATE or START DATE */
    int ey, emo, ed;               /* END DATE (billing) */
    int64_t start, duration;       /* UTC; duration ESPI_NONE until known */
    int has_value, has_rev;        /* has_rev: the row carries a reverse value */
    int negative;                  /* signed USAGE < 0: cost goes to reverse */
    int64_t fwd, rev;              /* >= 0, channel units */
    int64_t cost;                  /* ESPI_NONE when absent */
    int64_t quality;
    unsigned flags;
    long line;
    char label[40];                /* "2024-03-10 02:00" for messages */
} op_row;

typedef struct op_ctx {
    tr_csv csv;
    const tr_options *o;
    const tr_sink *sink;
    eg_err *err;
    int layout;                    /* op_layout */
    int import_export;             /* IMPORT/EXPORT columns instead of USAGE */
    int header_unit;               /* op_unit from "USAGE (kWh)", else NONE */
    op_cols col;
    long header_line;
    char account[OP_ACCOUNT_MAX];  /* from the preamble */
    op_series s[OP_MAX_SERIES];
    op_row pend[OP_MAX_SERIES];
    int n_s, n_ch;
} op_ctx;

/* ---- small parsers -------------------------------------------------------- */

static const char *field(const op_ctx *x, int col)
{
    return col >= 0 ? tr_csv_field(&x->csv, col) : "";
}

static long line(const op_ctx *x)
{
    return tr_csv_line(&x->csv);
}

#define ROW_PROBLEM(x, ...) \
    tr_row_problem((x)->sink, (x)->o, (x)->csv.name, line(x), (x)->err, __VA_ARGS__)

/* ROW_PROBLEM's result as a row parser's: negative stops, else skipped. */
static int skipped(int rc)
{
    return rc < 0 ? rc : OP_SKIPPED;
}

static int parse_uint(const char **p, int min_digits, int max_digits, int *out)
{
    int v = 0, n = 0;
    while (isdigit((unsigned char)**p) && n < max_digits) v = v * 10 + (*(*p)++ - '0'), n++;
    if (n < min_digits) return -1;
    *out = v;
    return 0;
}

static int valid_date(int y, int mo, int d)
{
    return y >= 1900 && y <= 9999 && mo >= 1 && mo <= 12 && d >= 1 && d <= tr_days_in_month(y, mo);
}

/* "YYYY-MM-DD" or "M/D/YYYY" at *p; advances *p. */
static int parse_date_at(const char **p, int *y, int *mo, int *d)
{
    const char *s = *p;
    if (isdigit((unsigned char)s[0]) && isdigit((unsigned char)s[1]) &&
        isdigit((unsigned char)s[2]) && isdigit((unsigned char)s[3]) && s[4] == '-') {
        if (parse_uint(&s, 4, 4, y) || *s++ != '-' || parse_uint(&s, 2, 2, mo) || *s++ != '-' ||
            parse_uint(&s, 2, 2, d))
            return -1;
    } else if (parse_uint(&s, 1, 2, mo) || *s++ != '/' || parse_uint(&s, 1, 2, d) ||
               *s++ != '/' || parse_uint(&s, 4, 4, y)) {
        return -1;
    }
    *p = s;
    return valid_date(*y, *mo, *d) ? 0 : -1;
}

static int parse_date(const char *s, int *y, int *mo, int *d)
{
    return parse_date_at(&s, y, mo, d) || *s ? -1 : 0;
}

/* A time field: wall clock "H:MM[:SS]", optionally after its own date
 * ("2026-01-01 00:00:00"), optionally with a UTC offset ("-05:00", "Z"). */
typedef struct op_time {
    int has_date, has_sec, has_offset;
    int y, mo, d, h, mi, sec;
    int32_t offset;                /* seconds east of UTC */
} op_time;

static int parse_offset(const char *s, int32_t *off)
{
    int sign, oh, om = 0;
    if (*s == 'Z' && !s[1]) return *off = 0, 0;
    if (*s != '+' && *s != '-') return -1;
    sign = *s++ == '-' ? -1 : 1;
    if (parse_uint(&s, 2, 2, &oh)) return -1;
    if (*s == ':') s++;
    if (*s && parse_uint(&s, 2, 2, &om)) return -1;
    if (*s || oh > 18 || om > 59) return -1;
    *off = sign * (oh * 3600 + om * 60);
    return 0;
}

static int parse_time(const char *s, op_time *t)
{
    memset(t, 0, sizeof *t);
    if (strlen(s) > 10 && (s[4] == '-' || s[2] == '/' || s[1] == '/')) {
        if (parse_date_at(&s, &t->y, &t->mo, &t->d) || (*s != ' ' && *s != 'T')) return -1;
        t->has_date = 1;
        s++;
    }
    if (parse_uint(&s, 1, 2, &t->h) || *s++ != ':' || parse_uint(&s, 2, 2, &t->mi)) return -1;
    if (*s == ':') {
        s++;
        if (parse_uint(&s, 2, 2, &t->sec)) return -1;
        t->has_sec = 1;
        if (*s == '.')
            for (s++; isdigit((unsigned char)*s); s++) {} /* fractions: Opower writes none */
    }
    if (*s) {
        if (parse_offset(s, &t->offset)) return -1;
        t->has_offset = 1;
    }
    return t->h <= 23 && t->mi <= 59 && t->sec <= 59 ? 0 : -1;
}

static int64_t utc_of_offset_time(const op_time *t)
{
    return tr_days_from_civil(t->y, t->mo, t->d) * 86400 + t->h * 3600 + t->mi * 60 + t->sec -
           t->offset;
}

static int unit_of(const char *s)
{
    if (strcasecmp(s, "kWh") == 0) return OP_UNIT_KWH;
    if (strcasecmp(s, "therms") == 0 || strcasecmp(s, "therm") == 0) return OP_UNIT_THERM;
    return OP_UNIT_NONE;
}

static int contains_nocase(const char *hay, const char *needle)
{
    size_t n = strlen(needle);
    for (; *hay; hay++)
        if (strncasecmp(hay, needle, n) == 0) return 1;
    return 0;
}

static void copy_account(char out[OP_ACCOUNT_MAX], const char *s)
{
    size_t n = 0;
    for (; *s && n + 1 < OP_ACCOUNT_MAX; s++)
        if (isalnum((unsigned char)*s) || *s == '-' || *s == '_') out[n++] = *s;
    out[n] = 0;
}

/* ---- channels --------------------------------------------------------------- */

static const char *service_word(int service)
{
    return service == OP_GAS ? "gas" : "electric";
}

static void time_facts(int64_t duration, int64_t *measuring_period)
{
    switch (duration) {
    case 300: *measuring_period = ESPI_TIMEATTR_5_MINUTE; break;
    case 900: *measuring_period = ESPI_TIMEATTR_15_MINUTE; break;
    case 1800: *measuring_period = ESPI_TIMEATTR_30_MINUTE; break;
    case 3600: *measuring_period = ESPI_TIMEATTR_60_MINUTE; break;
    default: *measuring_period = ESPI_NONE; break;
    }
}

/* Declare channel `reverse` of series s; interval = the first row's
 * duration (interval layout).  Sets s->fwd or s->rev. */
static int declare(op_ctx *x, op_series *s, int reverse, int64_t interval)
{
    tr_channel c;
    const char *svc = service_word(s->service);
    const char *tag, *what;
    int rc;
    if (x->n_ch >= TR_MAX_CHANNELS)
        return eg_errf(x->err, EG_ELIMIT, x->csv.name, line(x), 0,
                       "more than %d channels in one file (expected one account, one or two "
                       "services)", TR_MAX_CHANNELS);
    memset(&c, 0, sizeof c);
    c.tou = c.cpp = c.consumption_tier = ESPI_NONE; /* 0 would be a code */
    c.index = x->n_ch;
    c.service_kind = s->service == OP_GAS ? ESPI_SERVICE_GAS : ESPI_SERVICE_ELECTRICITY;
    c.commodity = s->service == OP_GAS ? ESPI_COMMODITY_NATURAL_GAS
                                       : ESPI_COMMODITY_ELECTRICITY_SECONDARY;
    c.flow_direction = reverse ? ESPI_FLOW_REVERSE : ESPI_FLOW_FORWARD;
    c.uom = s->service == OP_GAS ? ESPI_UOM_THERM : ESPI_UOM_WH;
    c.power_of_ten_multiplier = s->service == OP_GAS ? -3 : 0;
    c.kind = ESPI_KIND_ENERGY;
    c.accumulation = ESPI_ACCUM_DELTA_DATA;
    c.currency = x->col.cost >= 0 ? ESPI_CURRENCY_USD : ESPI_NONE;
    if (x->layout == OP_BILLING) {
        /* Periods vary (29-34 days): no nominal length.  ReadingType
         * timeAttribute 8 (billing period) belongs here once tr_channel
         * carries a time attribute. */
        c.interval_length = ESPI_NONE;
        c.measuring_period = ESPI_NONE;
        tag = reverse ? "billing-reverse" : "billing";
        what = reverse ? "Billing Period Export" : "Billing Periods";
    } else if (x->layout == OP_DAILY) {
        c.interval_length = 86400;
        c.measuring_period = ESPI_TIMEATTR_24_HOUR;
        tag = reverse ? "daily-reverse" : "daily", what = reverse ? "Daily Export" : "Daily";
    } else {
        c.interval_length = interval;
        time_facts(interval, &c.measuring_period);
        tag = reverse ? "reverse" : "forward", what = reverse ? "Export" : "Consumption";
    }
    snprintf(c.usage_point, sizeof c.usage_point, "opower:%s:%s", s->account, svc);
    snprintf(c.key, sizeof c.key, "opower:%s:%s:%s", s->account, svc, tag);
    snprintf(c.name, sizeof c.name, "Opower %s %s %s", s->account,
             s->service == OP_GAS ? "Gas" : "Electricity", what);
    if (x->sink->channel && (rc = x->sink->channel(x->sink->ctx, &c, x->err))) return rc;
    if (reverse) s->rev = x->n_ch;
    else s->fwd = x->n_ch;
    x->n_ch++;
    return 0;
}

static int find_series(op_ctx *x, const op_row *r, op_series **out)
{
    for (int i = 0; i < x->n_s; i++)
        if (x->s[i].service == r->service && strcmp(x->s[i].account, r->account) == 0)
            return *out = &x->s[i], 0;
    if (x->n_s >= OP_MAX_SERIES)
        return eg_errf(x->err, EG_ELIMIT, x->csv.name, r->line, 0,
                       "more than %d account/service series in one file (expected one account)",
                       OP_MAX_SERIES);
    op_series *s = &x->s[x->n_s];
    memset(s, 0, sizeof *s);
    snprintf(s->account, sizeof s->account, "%s", r->account);
    s->service = r->service;
    s->fwd = s->rev = -1;
    s->last_end = s->step = ESPI_NONE;
    s->pend = &x->pend[x->n_s];
    x->n_s++;
    *out = s;
    return 0;
}

static int emit(op_ctx *x, int ch, const op_row *r, int64_t value, int64_t cost)
{
    tr_reading rd = {ch, r->start, r->duration, value, cost, r->quality, r->flags, r->line};
    return x->sink->reading(x->sink->ctx, &rd, x->err);
}

/* Hand out a row whose start and duration are known. */
static int emit_row(op_ctx *x, op_series *s, const op_row *r)
{
    int rc;
    if (!r->has_value)
        return tr_report_skip(x->sink, TR_SKIP_NO_VALUE, r->line, x->err,
                              "%s has no usage value (a gap in the data)", r->label);
    if (s->fwd < 0 && (rc = declare(x, s, 0, r->duration))) return rc;
    if (r->has_rev && s->rev < 0 && (rc = declare(x, s, 1, r->duration))) return rc;
    if ((rc = emit(x, s->fwd, r, r->fwd, r->negative ? ESPI_NONE : r->cost))) return rc;
    if (s->rev >= 0 && (r->has_rev || !x->import_export))
        return emit(x, s->rev, r, r->rev, r->negative ? r->cost : ESPI_NONE);
    return 0;
}

/* ---- row fields ------------------------------------------------------------------ */

/* An energy field at 3 decimals.  0 ok, 1 empty, else OP_SKIPPED/<0. */
static int parse_amount(op_ctx *x, int col, const char *what, int allow_negative, int64_t *v,
                        op_row *r)
{
    const char *s = field(x, col);
    int rounded = 0;
    int rc = tr_dec_parse_str(s, 3, TR_DEC_THOUSANDS, v, &rounded);
    if (rc == TR_DEC_EEMPTY) return 1;
    if (rc == 0 && *v < 0 && !allow_negative) rc = TR_DEC_ESYNTAX;
    if (rc == 0) {
        if (rounded) r->flags |= TR_READING_ROUNDED;
        return 0;
    }
    return skipped(ROW_PROBLEM(x, "%s \"%s\" %s (expected e.g. 0.45)", what, s,
                               rc == 0 ? "is negative" : tr_dec_strerror(rc)));
}

/* TYPE, account, unit, usage, cost, notes.  0 ok, else OP_SKIPPED/<0. */
static int parse_common(op_ctx *x, op_row *r)
{
    const op_cols *c = &x->col;
    const char *s = field(x, c->type);
    int unit, rc;
    int64_t v = 0, e = 0;
    r->service = contains_nocase(s, "gas") ? OP_GAS : contains_nocase(s, "electric") ? OP_ELECTRIC : -1;
    if (r->service < 0)
        return skipped(ROW_PROBLEM(x, "TYPE \"%s\" is not a known service (expected e.g. "
                                      "\"Electric usage\" or \"Natural gas usage\")", s));
    if (c->account >= 0 && *field(x, c->account)) copy_account(r->account, field(x, c->account));
    else snprintf(r->account, sizeof r->account, "%s", x->account);
    if (!r->account[0]) snprintf(r->account, sizeof r->account, "unknown");
    unit = x->header_unit;
    if (c->units >= 0 && *(s = field(x, c->units)) && (unit = unit_of(s)) == OP_UNIT_NONE)
        return skipped(ROW_PROBLEM(x, "UNITS \"%s\" is not a unit we translate (expected kWh or "
                                      "therms)", s));
    if (unit == OP_UNIT_NONE)
        return skipped(ROW_PROBLEM(x, "UNITS is empty (expected kWh or therms)"));
    if ((unit == OP_UNIT_THERM) != (r->service == OP_GAS))
        return skipped(ROW_PROBLEM(x, "TYPE \"%s\" does not go with unit %s (expected kWh for "
                                      "electricity, therms for gas)", field(x, c->type),
                                   unit == OP_UNIT_THERM ? "therms" : "kWh"));
    if (x->import_export) {
        if ((rc = parse_amount(x, c->imp, "IMPORT", 0, &v, r)) < 0) return rc;
        int has_imp = rc == 0;
        if ((rc = parse_amount(x, c->exp, "EXPORT", 1, &e, r)) < 0) return rc;
        r->has_rev = rc == 0;
        r->has_value = has_imp || r->has_rev;
        if (r->has_value && !has_imp)
            return skipped(ROW_PROBLEM(x, "IMPORT is empty but EXPORT is not (expected both)"));
        r->fwd = v;
        r->rev = e < 0 ? -e : e;
    } else {
        if ((rc = parse_amount(x, c->usage, "USAGE", 1, &v, r)) < 0)
            return rc;
        r->has_value = rc == 0;
        r->negative = v < 0;
        r->has_rev = r->negative;
        r->fwd = v < 0 ? 0 : v;
        r->rev = v < 0 ? -v : 0;
    }
    r->cost = ESPI_NONE;
    if (c->cost >= 0 && *(s = field(x, c->cost)) &&
        (rc = tr_dec_parse_str(s, 5, TR_DEC_CURRENCY | TR_DEC_THOUSANDS, &r->cost, NULL)))
        return skipped(ROW_PROBLEM(x, "COST \"%s\" %s (expected dollars, e.g. $0.13 or -$4.66)", s,
                                   tr_dec_strerror(rc)));
    r->quality = contains_nocase(field(x, c->notes), "estimated")
                     ? ESPI_QUALITY_ESTIMATED_REFERENCE_DAY : ESPI_NONE;
    return 0;
}

/* ---- interval rows ------------------------------------------------------------------ */

/* UTC readings of a wall time (0..2 of them, ascending); *gap when none. */
static int wall_candidates(const op_ctx *x, int y, int mo, int d, const op_time *t,
                           int64_t out[2], int *gap)
{
    int flags;
    *gap = 0;
    if (tr_tz_local_to_utc(x->o->tz, y, mo, d, t->h, t->mi, t->sec, 0, &out[0], &flags)) return 0;
    if (flags & TR_TZ_GAP) return *gap = 1, 0;
    if (!(flags & TR_TZ_AMBIGUOUS)) return 1;
    tr_tz_local_to_utc(x->o->tz, y, mo, d, t->h, t->mi, t->sec, 1, &out[1], &flags);
    return 2;
}

/* The row's start: 0 ok, 1 nonexistent local time, 2 before prev_end. */
static int resolve_start(const op_ctx *x, op_row *r, const op_time *t, int64_t prev_end)
{
    int64_t cand[2];
    int gap, n;
    if (t->has_offset) {
        r->start = utc_of_offset_time(t);
        return prev_end != ESPI_NONE && r->start < prev_end ? 2 : 0;
    }
    n = t->has_date ? wall_candidates(x, t->y, t->mo, t->d, t, cand, &gap)
                    : wall_candidates(x, r->y, r->mo, r->d, t, cand, &gap);
    if (n == 0) return 1;
    for (int i = 0; i < n; i++)
        if (prev_end == ESPI_NONE || cand[i] >= prev_end) return r->start = cand[i], 0;
    return 2;
}

/* Duration from END TIME.  0 ok, else OP_SKIPPED/<0. */
static int resolve_end(op_ctx *x, op_row *r, const op_time *st, const op_time *et)
{
    int64_t end = ESPI_NONE, cand[2];
    int gap = 0, n, flags;
    if (et->has_offset) {
        end = utc_of_offset_time(et);  /* the exclusive end */
    } else {
        int y = et->has_date ? et->y : r->y, mo = et->has_date ? et->mo : r->mo;
        int d = et->has_date ? et->d : r->d;
        /* rows never cross midnight: an END TIME before START TIME is wrong */
        int ends_before = et->h * 3600 + et->mi * 60 + et->sec < st->h * 3600 + st->mi * 60 + st->sec;
        n = ends_before && !et->has_date ? 0 : wall_candidates(x, y, mo, d, et, cand, &gap);
        if (n == 0 && gap) { /* a last minute inside the skipped hour: read it after the gap */
            tr_tz_local_to_utc(x->o->tz, y, mo, d, et->h, et->mi, et->sec, 1, &cand[0], &flags);
            n = 1;
        }
        for (int i = 0; i < n && end == ESPI_NONE; i++)
            if (cand[i] >= r->start) end = cand[i] + (et->has_sec ? 1 : 60);
    }
    if (end == ESPI_NONE || end <= r->start || end - r->start > OP_MAX_DURATION)
        return skipped(ROW_PROBLEM(x, "END TIME \"%s\" does not end the interval starting %s "
                                      "(expected the interval's last minute, e.g. 00:59 after "
                                      "00:00)", field(x, x->col.end), r->label));
    r->duration = end - r->start;
    return 0;
}

/* Local midnight after the local day holding utc. */
static int64_t day_end_of(const op_ctx *x, int64_t utc)
{
    int y, mo, d;
    int64_t s, e;
    tr_tz_local_date(x->o->tz, utc, &y, &mo, &d);
    if (tr_tz_day_bounds(x->o->tz, y, mo, d, &s, &e)) return utc + 86400;
    return e;
}

/* Hand out s's pending row, lasting until next_start (ESPI_NONE at the end). */
static int flush_pending(op_ctx *x, op_series *s, int64_t next_start)
{
    op_row *p = s->pend;
    if (!s->pending) return 0;
    s->pending = 0;
    if (next_start != ESPI_NONE) {
        int64_t step = next_start - p->start;
        if (s->step == ESPI_NONE || step < s->step) s->step = step;
    }
    if (s->step == ESPI_NONE)
        return tr_row_problem(x->sink, x->o, x->csv.name, p->line, x->err,
                              "%s is the only row and there is no END TIME (cannot tell the "
                              "interval length; expected an END TIME column or more rows)",
                              p->label);
    p->duration = s->step < OP_MAX_STEP ? s->step : OP_MAX_STEP; /* <= the step to next_start */
    int64_t midnight = day_end_of(x, p->start);
    if (p->start + p->duration > midnight) p->duration = midnight - p->start;
    s->last_end = p->start + p->duration;
    return emit_row(x, s, p);
}

/* Resolve and hand out (or hold, without END TIME) one interval row. */
static int interval_row(op_ctx *x)
{
    op_row r;
    op_time st, et;
    op_series *s;
    const char *txt;
    int rc, has_end;
    int64_t prev;
    memset(&r, 0, sizeof r);
    r.line = line(x);
    r.duration = ESPI_NONE;
    if ((rc = parse_common(x, &r))) return rc;
    if (parse_date((txt = field(x, x->col.date)), &r.y, &r.mo, &r.d))
        return skipped(ROW_PROBLEM(x, "DATE \"%s\" is not a date (expected YYYY-MM-DD or "
                                      "M/D/YYYY)", txt));
    if (parse_time((txt = field(x, x->col.start)), &st))
        return skipped(ROW_PROBLEM(x, "START TIME \"%s\" is not a time (expected H:MM, e.g. 0:00 "
                                      "or 13:00)", txt));
    snprintf(r.label, sizeof r.label, "%04d-%02d-%02d %02d:%02d", st.has_date ? st.y : r.y,
             st.has_date ? st.mo : r.mo, st.has_date ? st.d : r.d, st.h, st.mi);
    has_end = x->col.end >= 0 && *field(x, x->col.end);
    if (has_end && parse_time((txt = field(x, x->col.end)), &et))
        return skipped(ROW_PROBLEM(x, "END TIME \"%s\" is not a time (expected H:MM, the "
                                      "interval's last minute, e.g. 00:59)", txt));
    if ((rc = find_series(x, &r, &s))) return rc;
    prev = s->pending ? s->pend->start + 1 : s->last_end;
    rc = resolve_start(x, &r, &st, prev);
    if (rc == 1 && (!r.has_value || (r.fwd == 0 && r.rev == 0)))
        return tr_report_skip(x->sink, TR_SKIP_NONEXISTENT, r.line, x->err,
                              "%s does not exist in %s (clocks spring forward); row without "
                              "usage dropped", r.label, tr_tz_name(x->o->tz));
    if (rc == 1)
        return skipped(ROW_PROBLEM(x, "%s does not exist in %s (clocks spring forward) but the "
                                      "row has usage (expected no row for it)", r.label,
                                   tr_tz_name(x->o->tz)));
    if (rc == 2)
        return skipped(ROW_PROBLEM(x, "%s comes before the end of the previous row (expected "
                                      "rows in time order without duplicates; a local time "
                                      "repeats only in the fall-back hour, and only once)",
                                   r.label));
    if ((rc = flush_pending(x, s, r.start))) return rc;
    if (!has_end) {
        *s->pend = r;
        s->pending = 1;
        return 0;
    }
    if ((rc = resolve_end(x, &r, &st, &et))) return rc;
    s->last_end = r.start + r.duration;
    return emit_row(x, s, &r);
}

/* ---- daily and billing rows ------------------------------------------------------------ */

static int daily_row(op_ctx *x)
{
    op_row r;
    op_series *s;
    const char *txt;
    int rc;
    int64_t ds, de;
    memset(&r, 0, sizeof r);
    r.line = line(x);
    if ((rc = parse_common(x, &r))) return rc;
    if (parse_date((txt = field(x, x->col.date)), &r.y, &r.mo, &r.d))
        return skipped(ROW_PROBLEM(x, "DATE \"%s\" is not a date (expected YYYY-MM-DD or "
                                      "M/D/YYYY)", txt));
    snprintf(r.label, sizeof r.label, "%04d-%02d-%02d", r.y, r.mo, r.d);
    if (tr_tz_day_bounds(x->o->tz, r.y, r.mo, r.d, &ds, &de))
        return eg_errf(x->err, EG_ESOFTWARE, x->csv.name, r.line, 0, "day bounds of %s failed",
                       r.label);
    if ((rc = find_series(x, &r, &s))) return rc;
    if (s->last_end != ESPI_NONE && ds < s->last_end)
        return skipped(ROW_PROBLEM(x, "DATE %s comes before the end of the previous row "
                                      "(expected dates in order without duplicates)", r.label));
    r.start = ds;
    r.duration = de - ds;
    s->last_end = de;
    return emit_row(x, s, &r);
}

static int emit_bill(op_ctx *x, const op_series *s, const op_row *r)
{
    tr_bill b;
    if (!x->sink->bill) return 0;
    memset(&b, 0, sizeof b);
    snprintf(b.usage_point, sizeof b.usage_point, "opower:%s:%s", s->account,
             service_word(s->service));
    snprintf(b.key, sizeof b.key, "opower:%s:%s:bill:%04d-%02d-%02d", s->account,
             service_word(s->service), r->y, r->mo, r->d);
    b.start = r->start;
    b.duration = r->duration;
    b.statement_date = ESPI_NONE;
    b.consumption = s->service == OP_ELECTRIC && r->has_value ? r->fwd - r->rev : ESPI_NONE;
    b.peak_demand = ESPI_NONE;
    b.bill_total = r->cost;
    b.currency = ESPI_CURRENCY_USD;
    b.items = NULL;
    b.n_items = 0;
    b.line = r->line;
    return x->sink->bill(x->sink->ctx, &b, x->err);
}

static int billing_row(op_ctx *x)
{
    op_row r;
    op_series *s;
    const char *a, *b;
    int rc;
    int64_t ds, de, unused;
    memset(&r, 0, sizeof r);
    r.line = line(x);
    if ((rc = parse_common(x, &r))) return rc;
    if (parse_date((a = field(x, x->col.start_date)), &r.y, &r.mo, &r.d))
        return skipped(ROW_PROBLEM(x, "START DATE \"%s\" is not a date (expected YYYY-MM-DD or "
                                      "M/D/YYYY)", a));
    if (parse_date((b = field(x, x->col.end_date)), &r.ey, &r.emo, &r.ed) ||
        tr_days_from_civil(r.ey, r.emo, r.ed) < tr_days_from_civil(r.y, r.mo, r.d))
        return skipped(ROW_PROBLEM(x, "END DATE \"%s\" is not a date on or after START DATE %s "
                                      "(expected the period's last day, inclusive)", b, a));
    snprintf(r.label, sizeof r.label, "%04d-%02d-%02d..%04d-%02d-%02d", r.y, r.mo, r.d, r.ey,
             r.emo, r.ed);
    if (tr_tz_day_bounds(x->o->tz, r.y, r.mo, r.d, &ds, &unused) ||
        tr_tz_day_bounds(x->o->tz, r.ey, r.emo, r.ed, &unused, &de))
        return eg_errf(x->err, EG_ESOFTWARE, x->csv.name, r.line, 0, "day bounds of %s failed",
                       r.label);
    if ((rc = find_series(x, &r, &s))) return rc;
    if (s->last_end != ESPI_NONE && ds < s->last_end)
        return skipped(ROW_PROBLEM(x, "billing period %s overlaps the previous one (expected "
                                      "periods in order, each starting after the previous END "
                                      "DATE)", r.label));
    r.start = ds;
    r.duration = de - ds;
    s->last_end = de;
    if ((rc = emit_row(x, s, &r))) return rc;
    if (!r.has_value && r.cost == ESPI_NONE) return 0;
    return emit_bill(x, s, &r);
}

/* ---- header ------------------------------------------------------------------------------- */

/* The header names TYPE and DATE or START DATE (the preamble never does). */
static int is_header(const tr_csv *c)
{
    int type = 0, date = 0;
    for (int i = 0; i < tr_csv_nfields(c); i++) {
        const char *f = tr_csv_field(c, i);
        if (strcasecmp(f, "TYPE") == 0) type = 1;
        if (strcasecmp(f, "DATE") == 0 || strcasecmp(f, "START DATE") == 0) date = 1;
    }
    return type && date;
}

/* Make the current row tr_csv's header: tr_csv_read_header() only takes
 * the first row, and ours follows a preamble. */
static void adopt_header(tr_csv *c)
{
    memcpy(c->head, c->row, c->row_used);
    for (int i = 0; i < c->nfields; i++) c->head_off[i] = c->off[i];
    c->nhead = c->nfields;
}

/* Column "base" or "base (unit)"; *unit gets the op_unit, OP_UNIT_NONE
 * without one, -1 for a unit we do not translate. */
static int column_with_unit(const tr_csv *c, const char *base, int *unit)
{
    size_t n = strlen(base);
    *unit = OP_UNIT_NONE;
    for (int i = 0; i < c->nhead; i++) {
        const char *h = c->head + c->head_off[i], *p;
        char u[16];
        size_t k = 0;
        if (strncasecmp(h, base, n) != 0) continue;
        p = h + n;
        if (!*p) return i;
        while (*p == ' ') p++;
        if (*p++ != '(') continue;
        while (*p && *p != ')' && k + 1 < sizeof u) u[k++] = *p++;
        u[k] = 0;
        if (*p != ')' || p[1]) continue;
        *unit = unit_of(u) == OP_UNIT_NONE ? -1 : unit_of(u);
        return i;
    }
    return -1;
}

static int header_error(op_ctx *x, const char *what)
{
    return eg_errf(x->err, EG_EDATA, x->csv.name, x->header_line, 0,
                   "Opower header %s (expected e.g. TYPE,DATE,START TIME,END TIME,USAGE,UNITS,"
                   "COST,NOTES or TYPE,START DATE,END DATE,USAGE,UNITS,COST,NOTES)", what);
}

static int max_of(int a, int b)
{
    return a > b ? a : b;
}

static int locate_columns(op_ctx *x)
{
    op_cols *c = &x->col;
    const tr_csv *v = &x->csv;
    int u_usage, u_imp, u_exp;
    c->type = tr_csv_column(v, "TYPE");
    c->date = tr_csv_column(v, "DATE");
    c->start = tr_csv_column(v, "START TIME");
    c->end = tr_csv_column(v, "END TIME");
    c->start_date = tr_csv_column(v, "START DATE");
    c->end_date = tr_csv_column(v, "END DATE");
    c->units = tr_csv_column(v, "UNITS");
    c->cost = tr_csv_column(v, "COST");
    if (c->cost < 0) c->cost = tr_csv_column(v, "COSTS");
    c->notes = tr_csv_column(v, "NOTES");
    c->account = tr_csv_column(v, "ACCOUNT NUMBER");
    c->usage = column_with_unit(v, "USAGE", &u_usage);
    c->imp = column_with_unit(v, "IMPORT", &u_imp);
    c->exp = column_with_unit(v, "EXPORT", &u_exp);
    x->layout = c->start_date >= 0 ? OP_BILLING : c->start >= 0 ? OP_INTERVAL : OP_DAILY;
    if (x->layout == OP_BILLING && c->end_date < 0)
        return header_error(x, "has START DATE but no END DATE");
    if (x->layout != OP_BILLING && c->date < 0) return header_error(x, "has no DATE column");
    x->import_export = c->usage < 0 && c->imp >= 0 && c->exp >= 0;
    if (c->usage < 0 && !x->import_export)
        return header_error(x, "has no USAGE column (nor IMPORT and EXPORT)");
    x->header_unit = x->import_export ? u_imp : u_usage;
    if (x->import_export && u_exp != u_imp)
        return header_error(x, "names different units for IMPORT and EXPORT");
    if (x->header_unit < 0) return header_error(x, "names a unit other than kWh or therms");
    if (c->units < 0 && x->header_unit == OP_UNIT_NONE)
        return header_error(x, "has no UNITS column and its USAGE names no unit");
    c->need = max_of(c->type, max_of(c->date, max_of(c->start, max_of(c->start_date,
              max_of(c->end_date, max_of(c->usage, max_of(c->imp, c->exp))))))) + 1;
    return 0;
}

/* Skip the preamble (remembering Account Number) up to the header. */
static int read_header(op_ctx *x)
{
    int rc, rows = 0;
    while ((rc = tr_csv_next(&x->csv, x->err)) == 1 && !is_header(&x->csv)) {
        if (++rows >= OP_HEADER_SEARCH_ROWS) {
            rc = 0;
            break;
        }
        if (strcasecmp(tr_csv_field(&x->csv, 0), "Account Number") == 0)
            copy_account(x->account, tr_csv_field(&x->csv, 1));
    }
    if (rc < 0) return rc;
    if (rc == 0)
        return eg_errf(x->err, EG_EDATA, x->csv.name, 1, 0,
                       "no TYPE,DATE header in the first %d rows (expected an Opower Download "
                       "My Data export: Name, Address, Account Number, Service, a blank line, "
                       "then TYPE,DATE,START TIME,END TIME,USAGE,UNITS,COST,NOTES)",
                       OP_HEADER_SEARCH_ROWS);
    x->header_line = line(x);
    adopt_header(&x->csv);
    return locate_columns(x);
}

/* ---- driver ---------------------------------------------------------------------------------- */

static int read_rows(op_ctx *x)
{
    int rc;
    while ((rc = tr_csv_next(&x->csv, x->err)) == 1) {
        if (tr_csv_nfields(&x->csv) < x->col.need) {
            if ((rc = ROW_PROBLEM(x, "row has %d fields (expected at least %d, like the header "
                                     "on line %ld)", tr_csv_nfields(&x->csv), x->col.need,
                                  x->header_line)))
                return rc;
            continue;
        }
        rc = x->layout == OP_BILLING ? billing_row(x)
             : x->layout == OP_DAILY ? daily_row(x)
                                     : interval_row(x);
        if (rc && rc != OP_SKIPPED) return rc;
    }
    for (int i = 0; rc == 0 && i < x->n_s; i++) rc = flush_pending(x, &x->s[i], ESPI_NONE);
    return rc;
}

int tr_opower_read(FILE *in, const char *name, const tr_options *opts, const tr_sink *sink,
                   eg_err *err)
{
    op_ctx *x = NULL;
    int rc;
    if (!in || !opts || !opts->tz || !sink || !sink->reading)
        return eg_errf(err, EG_EUSAGE, name, 0, 0,
                       "tr_opower_read needs an input, a zone (--tz) and a reading sink");
    if (!(x = calloc(1, sizeof *x))) return eg_errf(err, EG_ENOMEM, name, 0, 0, "out of memory");
    x->o = opts;
    x->sink = sink;
    x->err = err;
    if ((rc = tr_csv_init(&x->csv, in, name, err))) goto done;
    if ((rc = read_header(x))) goto done;
    rc = read_rows(x);
done:
    if (x) tr_csv_release(&x->csv);
    free(x);
    return rc < 0 ? rc : 0;
}
