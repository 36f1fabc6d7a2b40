/* smt.c -- Smart Meter Texas interval and daily CSV -> ESPI-ready readings.
 *
 * SMT writes one row per 15-minute interval in US Central wall-clock time,
 * labelled by USAGE_DATE plus start and end "HH:MM".  Wall clock is not
 * unique, so a row's UTC start is chosen, not computed:
 *   - candidates are the start label read both ways (first and second
 *     occurrence when the hour repeats), and the end label minus 15 minutes
 *     read both ways (the real fall-back export labels the first repeated
 *     row "02:00,01:15": only its end is right);
 *   - the candidate equal to the channel's previous end wins (contiguous
 *     data, the normal case: this is how the second 01:xx block becomes CST
 *     -- by order within the day and channel); else the earliest start-label
 *     candidate not before the previous end (a gap, counted downstream);
 *   - a row that would go back in time is a duplicate or out of order and
 *     is refused.
 * Spring-forward rows (02:00-02:45 with no kWh and no A/E) do not exist in
 * local time and are dropped with a TR_SKIP_NONEXISTENT note; a row with a
 * value at a nonexistent time is an error.  The state is one small record
 * per channel (last end, day, row count), so memory does not grow with the
 * file.
 *
 * Values: kWh text (".145") is parsed exactly at 3 decimals, i.e. in Wh.
 * More decimals are rounded half away from zero and the reading is flagged.
 * Quality: A -> none (valid is ESPI's default); E -> 8 "estimated using
 * reference day".  SMT does not say how a TDSP estimated; ESPI has no plain
 * "estimated", and 8 is the code Green Button consumers recognise as
 * estimated data (9 would claim linear interpolation, which is rarer). */
#include "smt.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "decimal.h"
#include "trcsv.h"

#define SMT_INTERVAL 900
#define ESIID_MAX 40

typedef struct smt_chan {
    char esiid[ESIID_MAX];
    int surplus;          /* 0 consumption / daily, 1 surplus generation */
    int64_t last_end;     /* UTC end of the previous reading, ESPI_NONE */
    int64_t last_value_end; /* daily: previous END_READING (Wh), ESPI_NONE */
} smt_chan;

typedef struct smt_cols {
    int esiid, date, start, end, kwh, est, kind;  /* interval */
    int start_reading, end_reading;                /* daily */
} smt_cols;

typedef struct smt_ctx {
    tr_csv csv;
    const tr_options *o;
    const tr_sink *sink;
    eg_err *err;
    smt_cols col;
    smt_chan ch[TR_MAX_CHANNELS];
    int n_ch;
    tr_tz_cache *tzc;       /* local -> UTC of o->tz, cached (points into this struct) */
    tr_tz_cache tzc_store;
} smt_ctx;

/* One parsed row, before time resolution. */
typedef struct smt_row {
    char esiid[ESIID_MAX];
    int y, mo, d;
    int sh, sm, eh, em;   /* start/end labels */
    int surplus;
    int has_value;
    int64_t wh;
    int rounded;
    int64_t quality;
} smt_row;

/* ---- field parsing -------------------------------------------------------- */

static const char *field(const smt_ctx *x, int col)
{
    return tr_csv_field(&x->csv, col);
}

static long line(const smt_ctx *x)
{
    return tr_csv_line(&x->csv);
}

/* Report a bad row (error, or skip in lenient mode); returns 0 to skip,
 * negative to stop.  Callers return 1 from parse functions when skipped. */
#define ROW_PROBLEM(x, ...) \
    tr_row_problem((x)->sink, (x)->o, (x)->csv.name, line(x), (x)->err, __VA_ARGS__)

static int parse_esiid(const char *s, char out[ESIID_MAX])
{
    size_t n = 0;
    if (*s == '\'') s++;
    for (; *s; s++) {
        if (!isdigit((unsigned char)*s) || n + 1 >= ESIID_MAX) return -1;
        out[n++] = *s;
    }
    out[n] = 0;
    return n >= 10 ? 0 : -1;
}

static int parse_uint(const char **p, int min_digits, int max_digits, int *out)
{
    int v = 0, n = 0;
    while (isdigit((unsigned char)**p) && n < max_digits) v = v * 10 + (*(*p)++ - '0'), n++;
    if (n < min_digits) return -1;
    *out = v;
    return 0;
}

static int parse_date(const char *s, int *y, int *mo, int *d)
{
    if (parse_uint(&s, 1, 2, mo) || *s++ != '/' || parse_uint(&s, 1, 2, d) || *s++ != '/' ||
        parse_uint(&s, 4, 4, y) || *s)
        return -1;
    return *mo >= 1 && *mo <= 12 && *d >= 1 && *d <= tr_days_in_month(*y, *mo) ? 0 : -1;
}

static int parse_hhmm(const char *s, int *h, int *m)
{
    if (parse_uint(&s, 1, 2, h) || *s++ != ':' || parse_uint(&s, 2, 2, m) || *s) return -1;
    return (*h <= 23 || (*h == 24 && *m == 0)) && *m <= 59 ? 0 : -1;
}

/* USAGE_KWH-like field at 3 decimals (Wh). 0 ok, 1 empty, <0 bad (reported). */
static int parse_kwh(smt_ctx *x, int col, const char *what, int64_t *wh, int *rounded)
{
    const char *s = field(x, col);
    int rc = tr_dec_parse_str(s, 3, 0, wh, rounded);
    if (rc == TR_DEC_EEMPTY) return 1;
    if (rc == 0 && *wh < 0) rc = TR_DEC_ESYNTAX;
    if (rc == 0) return 0;
    rc = ROW_PROBLEM(x, "%s \"%s\" %s (expected e.g. 0.145)", what, s,
                     *s == '-' ? "is negative" : tr_dec_strerror(rc));
    return rc < 0 ? rc : -1000; /* -1000: skipped in lenient mode */
}

/* ---- channels --------------------------------------------------------------- */

static int find_channel(smt_ctx *x, const char *esiid, int surplus, int daily, int *index)
{
    for (int i = 0; i < x->n_ch; i++)
        if (x->ch[i].surplus == surplus && strcmp(x->ch[i].esiid, esiid) == 0) {
            *index = i;
            return 0;
        }
    if (x->n_ch >= TR_MAX_CHANNELS)
        return eg_errf(x->err, EG_ELIMIT, x->csv.name, line(x), 0,
                       "more than %d ESIID channels in one file (expected one or two meters)",
                       TR_MAX_CHANNELS);
    tr_channel c;
    memset(&c, 0, sizeof c);
    c.tou = c.cpp = c.consumption_tier = ESPI_NONE; /* 0 would be a code */
    int i = x->n_ch;
    const char *tag = daily ? "daily" : surplus ? "surplus" : "consumption";
    c.index = i;
    snprintf(c.key, sizeof c.key, "smt:%s:%s", esiid, tag);
    snprintf(c.usage_point, sizeof c.usage_point, "smt:%s", esiid);
    snprintf(c.name, sizeof c.name, "SMT %s %s", esiid,
             daily ? "Daily Consumption" : surplus ? "Surplus Generation" : "Consumption");
    c.service_kind = ESPI_SERVICE_ELECTRICITY;
    c.flow_direction = surplus ? ESPI_FLOW_REVERSE : ESPI_FLOW_FORWARD;
    c.uom = ESPI_UOM_WH;
    c.power_of_ten_multiplier = 0;
    c.interval_length = daily ? 86400 : SMT_INTERVAL;
    c.commodity = ESPI_COMMODITY_ELECTRICITY_SECONDARY;
    c.kind = ESPI_KIND_ENERGY;
    c.accumulation = ESPI_ACCUM_DELTA_DATA;
    c.measuring_period = daily ? ESPI_TIMEATTR_24_HOUR : ESPI_TIMEATTR_15_MINUTE;
    c.currency = ESPI_NONE;
    int rc = x->sink->channel ? x->sink->channel(x->sink->ctx, &c, x->err) : 0;
    if (rc) return rc;
    smt_chan *sc = &x->ch[i];
    snprintf(sc->esiid, sizeof sc->esiid, "%s", esiid);
    sc->surplus = surplus;
    sc->last_end = sc->last_value_end = ESPI_NONE;
    x->n_ch++;
    *index = i;
    return 0;
}

static int emit(smt_ctx *x, int index, int64_t start, int64_t duration, int64_t value,
                int64_t quality, int rounded)
{
    tr_reading r = {index, start, duration, value, ESPI_NONE, quality,
                    rounded ? TR_READING_ROUNDED : 0u, line(x)};
    x->ch[index].last_end = start + duration;
    return x->sink->reading(x->sink->ctx, &r, x->err);
}

/* ---- interval rows ----------------------------------------------------------- */

/* Parse the text of an interval row.  0 ok, -1000 skipped, <0 stop. */
static int parse_interval_row(smt_ctx *x, smt_row *r)
{
    const smt_cols *c = &x->col;
    const char *s;
    int rc;
    memset(r, 0, sizeof *r);
    if (parse_esiid((s = field(x, c->esiid)), r->esiid))
        rc = ROW_PROBLEM(x, "ESIID \"%s\" is not an ESIID (expected 17 or 22 digits, "
                            "optionally after an apostrophe)", s);
    else if (parse_date((s = field(x, c->date)), &r->y, &r->mo, &r->d))
        rc = ROW_PROBLEM(x, "USAGE_DATE \"%s\" is not a date (expected MM/DD/YYYY)", s);
    else if (parse_hhmm((s = field(x, c->start)), &r->sh, &r->sm) || r->sh == 24)
        rc = ROW_PROBLEM(x, "USAGE_START_TIME \"%s\" is not a time (expected HH:MM)", s);
    else if (parse_hhmm((s = field(x, c->end)), &r->eh, &r->em))
        rc = ROW_PROBLEM(x, "USAGE_END_TIME \"%s\" is not a time (expected HH:MM)", s);
    else if (strcasecmp((s = field(x, c->kind)), "Consumption") != 0 &&
             strcasecmp(s, "Surplus Generation") != 0)
        rc = ROW_PROBLEM(x, "CONSUMPTION_SURPLUSGENERATION \"%s\" is not a known channel "
                            "(expected Consumption or Surplus Generation)", s);
    else {
        r->surplus = strcasecmp(s, "Consumption") != 0;
        s = field(x, c->est);
        if (!*s) r->quality = ESPI_NONE;
        else if (strcasecmp(s, "A") == 0) r->quality = ESPI_NONE;
        else if (strcasecmp(s, "E") == 0) r->quality = ESPI_QUALITY_ESTIMATED_REFERENCE_DAY;
        else
            return (rc = ROW_PROBLEM(x, "ESTIMATED_ACTUAL \"%s\" is not a quality flag "
                                        "(expected A or E)", s)) < 0 ? rc : -1000;
        rc = parse_kwh(x, c->kwh, "USAGE_KWH", &r->wh, &r->rounded);
        if (rc == 1) {
            r->has_value = 0;
            if (r->quality != ESPI_NONE)
                return (rc = ROW_PROBLEM(x, "USAGE_KWH is empty but ESTIMATED_ACTUAL is \"%s\" "
                                            "(expected a kWh value)", s)) < 0 ? rc : -1000;
            return 0;
        }
        if (rc == 0) r->has_value = 1;
        return rc;
    }
    return rc < 0 ? rc : -1000;
}

/* UTC candidates of a local label on the row's date (day_offset 1 = next
 * day).  Returns the count (0..2); *gap set when the time does not exist. */
static int label_candidates(const smt_ctx *x, const smt_row *r, int day_offset, int h, int m,
                            int64_t out[2], int *gap)
{
    int y = r->y, mo = r->mo, d = r->d, flags;
    if (day_offset) tr_civil_from_days(tr_days_from_civil(y, mo, d) + day_offset, &y, &mo, &d);
    if (tr_tz_cache_local_to_utc(x->tzc, y, mo, d, h, m, 0, 0, &out[0], &flags)) return 0;
    *gap = (flags & TR_TZ_GAP) != 0;
    if (*gap) return 0;
    if (!(flags & TR_TZ_AMBIGUOUS)) return 1;
    tr_tz_cache_local_to_utc(x->tzc, y, mo, d, h, m, 0, 1, &out[1], &flags);
    return 2;
}

/* Choose the row's UTC start (see the file comment).  0 ok, 1 nonexistent
 * local time, 2 goes back in time. */
static int resolve_start(const smt_ctx *x, const smt_row *r, int64_t prev_end, int64_t *start)
{
    int64_t sc[2], ec[2];
    int sgap = 0, egap = 0;
    int ns = label_candidates(x, r, 0, r->sh, r->sm, sc, &sgap);
    int end_next_day = r->eh == 24 || (r->eh == 0 && r->em == 0);
    int ne = label_candidates(x, r, end_next_day, r->eh % 24, r->em, ec, &egap);
    for (int i = 0; i < ne; i++) ec[i] -= SMT_INTERVAL;
    if (prev_end != ESPI_NONE) {
        for (int i = 0; i < ns; i++)
            if (sc[i] == prev_end) return *start = sc[i], 0;
        for (int i = 0; i < ne; i++)
            if (ec[i] == prev_end) return *start = ec[i], 0;
    }
    if (ns == 0) return 1;
    for (int i = 0; i < ns; i++)
        if (prev_end == ESPI_NONE || sc[i] >= prev_end) return *start = sc[i], 0;
    return 2;
}

static int interval_row(smt_ctx *x)
{
    smt_row r;
    int idx, rc;
    int64_t start = 0;
    if ((rc = parse_interval_row(x, &r)) != 0) return rc == -1000 ? 0 : rc;
    if ((rc = find_channel(x, r.esiid, r.surplus, 0, &idx))) return rc;
    smt_chan *c = &x->ch[idx];
    rc = resolve_start(x, &r, c->last_end, &start);
    if (rc == 1 && !r.has_value)
        return tr_report_skip(x->sink, TR_SKIP_NONEXISTENT, line(x), x->err,
                              "%02d/%02d/%04d %02d:%02d does not exist in %s (clocks spring "
                              "forward); blank row dropped",
                              r.mo, r.d, r.y, r.sh, r.sm, tr_tz_name(x->o->tz));
    if (rc == 1)
        return (rc = ROW_PROBLEM(x, "%02d/%02d/%04d %02d:%02d does not exist in %s (clocks spring "
                                    "forward) but the row has a value (expected a blank row)",
                                 r.mo, r.d, r.y, r.sh, r.sm, tr_tz_name(x->o->tz))) < 0 ? rc : 0;
    if (rc == 2)
        return (rc = ROW_PROBLEM(x, "%s %02d/%02d/%04d %02d:%02d comes before the previous row's "
                                    "end (expected each channel's rows in time order, no duplicates)",
                                 r.surplus ? "Surplus Generation" : "Consumption",
                                 r.mo, r.d, r.y, r.sh, r.sm)) < 0 ? rc : 0;
    if (!r.has_value)
        return tr_report_skip(x->sink, TR_SKIP_NO_VALUE, line(x), x->err,
                              "%02d/%02d/%04d %02d:%02d has no USAGE_KWH (a gap in SMT's data)",
                              r.mo, r.d, r.y, r.sh, r.sm);
    return emit(x, idx, start, SMT_INTERVAL, r.wh, r.quality, r.rounded);
}

/* ---- daily rows --------------------------------------------------------------- */

static int daily_row(smt_ctx *x)
{
    const smt_cols *c = &x->col;
    char esiid[ESIID_MAX], a[24], b[24], u[24];
    const char *s;
    int y, mo, d, idx, rc, r1 = 0, r2 = 0, r3 = 0;
    int64_t start_wh, end_wh, usage_wh, ds, de;
    if (parse_esiid((s = field(x, c->esiid)), esiid))
        return (rc = ROW_PROBLEM(x, "ESIID \"%s\" is not an ESIID (expected 17 or 22 digits, "
                                    "optionally after an apostrophe)", s)) < 0 ? rc : 0;
    if (parse_date((s = field(x, c->date)), &y, &mo, &d))
        return (rc = ROW_PROBLEM(x, "USAGE_DATE \"%s\" is not a date (expected MM/DD/YYYY)", s)) < 0
                   ? rc : 0;
    if ((rc = parse_kwh(x, c->start_reading, "START_READING", &start_wh, &r1)) < 0 ||
        (rc == 0 && (rc = parse_kwh(x, c->end_reading, "END_READING", &end_wh, &r2)) < 0))
        return rc == -1000 ? 0 : rc;
    int registers = rc == 0;
    if ((rc = parse_kwh(x, c->kwh, "USAGE_KWH", &usage_wh, &r3)) < 0) return rc == -1000 ? 0 : rc;
    if (rc == 1)
        return tr_report_skip(x->sink, TR_SKIP_NO_VALUE, line(x), x->err,
                              "%02d/%02d/%04d has no USAGE_KWH", mo, d, y);
    if ((rc = find_channel(x, esiid, 0, 1, &idx))) return rc;
    smt_chan *ch = &x->ch[idx];
    if (tr_tz_day_bounds(x->o->tz, y, mo, d, &ds, &de))
        return eg_errf(x->err, EG_ESOFTWARE, x->csv.name, line(x), 0, "day bounds failed");
    if (ch->last_end != ESPI_NONE && ds < ch->last_end)
        return (rc = ROW_PROBLEM(x, "USAGE_DATE %02d/%02d/%04d comes before the previous row "
                                    "(expected dates in order, no duplicates)", mo, d, y)) < 0 ? rc : 0;
    if (registers && end_wh - start_wh != usage_wh) {
        tr_dec_format(start_wh, 3, a, sizeof a);
        tr_dec_format(end_wh, 3, b, sizeof b);
        tr_dec_format(end_wh - start_wh, 3, u, sizeof u);
        if (!x->o->lenient)
            return eg_errf(x->err, EG_EDATA, x->csv.name, line(x), 0,
                           "USAGE_KWH \"%s\" differs from END_READING - START_READING = %s - %s = %s "
                           "(expected them equal)", field(x, c->kwh), b, a, u);
        if ((rc = tr_report_skip(x->sink, TR_SKIP_WARNING, line(x), x->err,
                                 "USAGE_KWH \"%s\" differs from END_READING - START_READING = %s "
                                 "(kept USAGE_KWH)", field(x, c->kwh), u)))
            return rc;
    }
    if (registers && ch->last_value_end != ESPI_NONE && start_wh != ch->last_value_end) {
        tr_dec_format(ch->last_value_end, 3, a, sizeof a);
        if ((rc = tr_report_skip(x->sink, TR_SKIP_WARNING, line(x), x->err,
                                 "START_READING %s differs from the previous END_READING %s "
                                 "(meter exchange or missing day?)", field(x, c->start_reading), a)))
            return rc;
    }
    if (registers) ch->last_value_end = end_wh;
    return emit(x, idx, ds, de - ds, usage_wh, ESPI_NONE, r1 || r2 || r3);
}

/* ---- driver ------------------------------------------------------------------- */

static int require(smt_ctx *x, int *col, const char *name)
{
    if ((*col = tr_csv_column(&x->csv, name)) >= 0) return 0;
    return eg_errf(x->err, EG_EDATA, x->csv.name, 1, 0,
                   "SMT header has no %s column (expected a header like "
                   "ESIID,USAGE_DATE,REVISION_DATE,USAGE_START_TIME,USAGE_END_TIME,USAGE_KWH,"
                   "ESTIMATED_ACTUAL,CONSUMPTION_SURPLUSGENERATION)", name);
}

static int read_header(smt_ctx *x, int *daily)
{
    smt_cols *c = &x->col;
    int rc;
    if ((rc = tr_csv_read_header(&x->csv, x->err))) return rc;
    *daily = tr_csv_column(&x->csv, "USAGE_START_TIME") < 0 &&
             tr_csv_column(&x->csv, "START_READING") >= 0;
    if ((rc = require(x, &c->esiid, "ESIID")) || (rc = require(x, &c->date, "USAGE_DATE")) ||
        (rc = require(x, &c->kwh, "USAGE_KWH")))
        return rc;
    if (*daily)
        return (rc = require(x, &c->start_reading, "START_READING")) ? rc
               : require(x, &c->end_reading, "END_READING");
    if ((rc = require(x, &c->start, "USAGE_START_TIME")) || (rc = require(x, &c->end, "USAGE_END_TIME")) ||
        (rc = require(x, &c->est, "ESTIMATED_ACTUAL")))
        return rc;
    return require(x, &c->kind, "CONSUMPTION_SURPLUSGENERATION");
}

int tr_smt_read(FILE *in, const char *name, const tr_options *opts, const tr_sink *sink,
                eg_err *err)
{
    smt_ctx *x = NULL;
    int rc, daily = 0;
    if (!opts || !opts->tz || !sink || !sink->reading)
        return eg_errf(err, EG_EUSAGE, name, 0, 0, "tr_smt_read needs a zone and a reading sink");
    if (!(x = calloc(1, sizeof *x))) return eg_errf(err, EG_ENOMEM, name, 0, 0, "out of memory");
    x->o = opts;
    x->sink = sink;
    x->err = err;
    x->tzc = &x->tzc_store;
    tr_tz_cache_init(x->tzc, opts->tz);
    if ((rc = tr_csv_init(&x->csv, in, name, err))) goto done;
    if ((rc = read_header(x, &daily))) goto done;
    while ((rc = tr_csv_next(&x->csv, err)) == 1) {
        if (tr_csv_nfields(&x->csv) < x->csv.nhead) {
            rc = ROW_PROBLEM(x, "row has %d fields (expected %d, like the header)",
                             tr_csv_nfields(&x->csv), x->csv.nhead);
            if (rc) goto done;
            continue;
        }
        if ((rc = daily ? daily_row(x) : interval_row(x))) goto done;
    }
done:
    if (x) tr_csv_release(&x->csv);
    free(x);
    return rc < 0 ? rc : 0;
}
