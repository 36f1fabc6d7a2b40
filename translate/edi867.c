/* edi867.c -- X12 867 usage transactions -> ESPI-ready readings.
 *
 * x12.c delivers segments with the envelopes already checked (counts,
 * control numbers, separators), so this file is a small state machine over
 * the segments of each ST*867 .. SE: header (BPT, REF), then PTD loops.
 * A loop is "monthly" (SU/BB/PL: one quantity for a read-to-read period)
 * or "interval" (BO/BQ/PM: a run of QTY + DTM*582 pairs).
 *
 * Interval time.  DTM*582 carries the END of an interval (the PA/NJ/DE/MD
 * guide: "the date/time of the end of the interval").  A loop's DTM*150
 * is the start of its first interval, and each interval starts where the
 * previous one ended, so a loop is a contiguous run; a gap in the data is a
 * new PTD loop (which is how espigate exports gaps).  Sub-daily intervals
 * must all have the loop's first length; daily or longer ones may differ
 * (23- and 25-hour days).  A wall-clock end time (generic code CT/ET..., or
 * no code) may occur twice on a fall-back day: the earliest reading of it
 * after the previous end wins, which puts the second 01:xx run in standard
 * time by order, as SMT's CSV does.
 *
 * Memory: one record per channel (key, last end); one segment at a time. */
#include "edi867.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "decimal.h"
#include "x12.h"

#define E8_ID_MAX 31          /* X12 4010 REF02 is 1-30 characters */
#define E8_BILLING_INTERVAL 2592000 /* nominal billing period, s (as bill.c) */

enum { LOOP_NONE, LOOP_MONTHLY, LOOP_INTERVAL };

typedef struct e8_chan {
    char key[TR_KEY_MAX];
    int64_t last_end;
} e8_chan;

typedef struct e8_dtm {          /* a DTM kept for later resolution */
    int set;
    char date[16], time[16], code[4];
    long seg;
} e8_dtm;

typedef struct e8_ctx {
    tr_x12 x;
    const tr_options *o;
    const tr_sink *sink;
    eg_err *err;
    e8_chan ch[TR_MAX_CHANNELS];
    int n_ch;
    /* transaction */
    int skip_tx;                 /* not an 867, or a cancellation */
    char sp[E8_ID_MAX];          /* REF*Q5 (or REF*12) */
    int sp_q5;
    /* loop */
    int loop;
    char ptd[4], meter[E8_ID_MAX];
    int64_t flow;
    int64_t start;               /* interval: DTM*150 instant; monthly: ESPI_NONE */
    int sy, smo, sd, ey, emo, ed; /* monthly: read dates (0 = absent) */
    e8_dtm end151;
    long loop_seg;
    /* monthly loop values */
    int64_t m_wh, m_w, m_quality, reads_wh;
    int m_has_wh, m_has_w, m_has_reads, m_rounded;
    /* interval loop */
    int chan;                    /* channel index, -1 before the first reading */
    int64_t prev_end, nominal;
    int resync;                  /* lenient: a reading was skipped */
    int has_qty, qty_rounded;
    int qty_skipped;             /* lenient: the QTY before the next DTM*582 was bad */
    int64_t qty_wh, qty_quality;
} e8_ctx;

/* ---- messages --------------------------------------------------------------- */

#define SEG_ERROR(c, ...) tr_x12_error(&(c)->x, (c)->err, EG_EDATA, __VA_ARGS__)

/* A data problem in one QTY/DTM/MEA: error, or skip in lenient mode.
 * Returns 0 when skipped, negative to stop. */
#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static int seg_problem(e8_ctx *c, const char *fmt, ...)
{
    char what[TR_REASON_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    if (!c->o->lenient) return SEG_ERROR(c, "%s", what);
    c->resync = 1;
    return tr_report_skip(c->sink, TR_SKIP_BAD_ROW, c->x.seg_no, c->err, "segment %ld (%s): %s",
                          c->x.seg_no, tr_x12_id(&c->x), what);
}

/* ---- time ------------------------------------------------------------------- */

typedef struct time_code {
    const char *code;
    int generic;                 /* wall clock of a zone with DST */
    int hours;                   /* UTC offset (generic: standard offset) */
    const char *name;
} time_code;

static const time_code time_codes[] = {
    {"UT", 0, 0, "UTC"},          {"GM", 0, 0, "GMT"},
    {"ES", 0, -5, "Eastern Standard"},  {"ED", 0, -4, "Eastern Daylight"},
    {"ET", 1, -5, "Eastern"},     {"CS", 0, -6, "Central Standard"},
    {"CD", 0, -5, "Central Daylight"},  {"CT", 1, -6, "Central"},
    {"MS", 0, -7, "Mountain Standard"}, {"MD", 0, -6, "Mountain Daylight"},
    {"MT", 1, -7, "Mountain"},    {"PS", 0, -8, "Pacific Standard"},
    {"PD", 0, -7, "Pacific Daylight"},  {"PT", 1, -8, "Pacific"},
    {"AS", 0, -9, "Alaska Standard"},   {"AD", 0, -8, "Alaska Daylight"},
    {"AT", 1, -9, "Alaska"},      {"HS", 0, -10, "Hawaii-Aleutian Standard"},
    {"HD", 0, -9, "Hawaii-Aleutian Daylight"}, {"HT", 1, -10, "Hawaii-Aleutian"},
    {"LT", 1, 99, "local"},
};

static int digits(const char *s, size_t n, int *out)
{
    int v = 0;
    for (size_t i = 0; i < n; i++) {
        if (!isdigit((unsigned char)s[i])) return -1;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 0;
}

static int parse_date(const char *s, int *y, int *mo, int *d)
{
    if (strlen(s) != 8 || digits(s, 4, y) || digits(s + 4, 2, mo) || digits(s + 6, 2, d))
        return -1;
    return *mo >= 1 && *mo <= 12 && *d >= 1 && *d <= tr_days_in_month(*y, *mo) ? 0 : -1;
}

/* HHMM[SS[D[D]]]; 2400 allowed (= next day 0000). */
static int parse_time(const char *s, int *h, int *mi, int *sec)
{
    size_t n = strlen(s);
    *sec = 0;
    if (!(n == 4 || (n >= 6 && n <= 8)) || digits(s, 2, h) || digits(s + 2, 2, mi) ||
        (n >= 6 && digits(s + 4, 2, sec)) || (n > 6 && digits(s + 6, n - 6, &(int){0})))
        return -1;
    if (*h == 24 && *mi == 0 && *sec == 0) return 0;
    return *h <= 23 && *mi <= 59 && *sec <= 59 ? 0 : -1;
}

/* Resolve date/time/code to UTC: the earliest instant > after (any when
 * after is ESPI_NONE).  0 ok, else an error was reported (negative) or a
 * lenient skip happened (1). */
static int resolve(e8_ctx *c, const char *qual, const char *date, const char *time,
                   const char *code, int64_t after, int64_t *out)
{
    int y, mo, d, h = 0, mi = 0, s = 0, flags = 0, rc;
    const time_code *tc = NULL;
    if (parse_date(date, &y, &mo, &d))
        return (rc = seg_problem(c, "DTM*%s date \"%s\" is not a date (expected CCYYMMDD)",
                                 qual, date)) < 0 ? rc : 1;
    if (*time && parse_time(time, &h, &mi, &s))
        return (rc = seg_problem(c, "DTM*%s time \"%s\" is not a time (expected HHMM, 0000-2359)",
                                 qual, time)) < 0 ? rc : 1;
    if (*code) {
        for (size_t i = 0; i < sizeof time_codes / sizeof time_codes[0]; i++)
            if (strcmp(time_codes[i].code, code) == 0) tc = &time_codes[i];
        if (!tc)
            return (rc = seg_problem(c, "DTM*%s time code \"%s\" is not one we know (expected "
                                        "UT, GM, ES/ED/ET, CS/CD/CT, MS/MD/MT, PS/PD/PT, AS/AD/AT,"
                                        " HS/HD/HT or LT)", qual, code)) < 0 ? rc : 1;
    }
    if (h == 24) {
        tr_civil_from_days(tr_days_from_civil(y, mo, d) + 1, &y, &mo, &d);
        h = 0;
    }
    if (tc && !tc->generic) {
        *out = tr_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s -
               (int64_t)tc->hours * 3600;
        return 0;
    }
    if (tc && tc->hours != 99) {
        int64_t jan = tr_days_from_civil(y, 1, 15) * 86400 + 43200;
        if (tr_tz_utc_offset(c->o->tz, jan) != tc->hours * 3600)
            return SEG_ERROR(c, "DTM*%s time code %s (%s time, UTC%+d in winter) does not "
                             "match the zone %s (UTC%+d in January) (expected --tz of the "
                             "code's zone, e.g. America/Chicago for CT)", qual, code, tc->name,
                             tc->hours, tr_tz_name(c->o->tz),
                             (int)(tr_tz_utc_offset(c->o->tz, jan) / 3600));
    }
    int64_t cand[2];
    if (tr_tz_local_to_utc(c->o->tz, y, mo, d, h, mi, s, 0, &cand[0], &flags))
        return SEG_ERROR(c, "DTM*%s %s %s is out of range", qual, date, time);
    if (flags & TR_TZ_GAP)
        return (rc = seg_problem(c, "DTM*%s %s %s does not exist in %s (clocks spring forward; "
                                    "expected a time that exists, or a CS/CD-style code)",
                                 qual, date, time, tr_tz_name(c->o->tz))) < 0 ? rc : 1;
    cand[1] = cand[0];
    if (flags & TR_TZ_AMBIGUOUS) tr_tz_local_to_utc(c->o->tz, y, mo, d, h, mi, s, 1, &cand[1], NULL);
    *out = after == ESPI_NONE || cand[0] > after ? cand[0] : cand[1];
    return 0;
}

/* ---- channels ------------------------------------------------------------------ */

static const char *flow_word(int64_t flow)
{
    return flow == ESPI_FLOW_REVERSE ? "reverse" : flow == ESPI_FLOW_NET ? "net" : "forward";
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

/* Find or declare the channel of the current loop; interval_length 0 =
 * the billing-period channel. */
static int channel(e8_ctx *c, int64_t interval_length, int *index)
{
    char key[TR_KEY_MAX + 64], len[24];
    if (interval_length) snprintf(len, sizeof len, "%llds", (long long)interval_length);
    else snprintf(len, sizeof len, "billing");
    snprintf(key, sizeof key, "edi867:%s:%s:%s:%s", c->sp, c->meter[0] ? c->meter : "-",
             flow_word(c->flow), len);
    if (strlen(key) >= TR_KEY_MAX)
        return tr_x12_error(&c->x, c->err, EG_ELIMIT, "channel key %s is too long", key);
    for (int i = 0; i < c->n_ch; i++)
        if (strcmp(c->ch[i].key, key) == 0) return *index = i, 0;
    if (c->n_ch >= TR_MAX_CHANNELS)
        return tr_x12_error(&c->x, c->err, EG_ELIMIT, "more than %d channels in one file "
                            "(expected fewer meters)", TR_MAX_CHANNELS);
    tr_channel ch;
    memset(&ch, 0, sizeof ch);
    ch.index = c->n_ch;
    memcpy(ch.key, key, strlen(key) + 1); /* length checked above */
    snprintf(ch.usage_point, sizeof ch.usage_point, "edi867:%s", c->sp);
    snprintf(ch.name, sizeof ch.name, "EDI 867 %s%s%s %s %s", c->sp, c->meter[0] ? " meter " : "",
             c->meter, flow_word(c->flow), interval_length ? len : "billing period");
    ch.service_kind = ESPI_SERVICE_ELECTRICITY;
    ch.flow_direction = c->flow;
    ch.uom = ESPI_UOM_WH;
    ch.power_of_ten_multiplier = 0;
    ch.interval_length = interval_length ? interval_length : E8_BILLING_INTERVAL;
    ch.commodity = ESPI_COMMODITY_ELECTRICITY_SECONDARY;
    ch.kind = ESPI_KIND_ENERGY;
    ch.accumulation = ESPI_ACCUM_DELTA_DATA;
    ch.measuring_period = interval_length ? measuring_period(interval_length) : ESPI_NONE;
    ch.currency = ESPI_NONE;
    ch.tou = ch.cpp = ch.consumption_tier = ESPI_NONE; /* 0 would be a code */
    int rc = c->sink->channel ? c->sink->channel(c->sink->ctx, &ch, c->err) : 0;
    if (rc) return rc;
    memcpy(c->ch[c->n_ch].key, key, strlen(key) + 1);
    c->ch[c->n_ch].last_end = ESPI_NONE;
    *index = c->n_ch++;
    return 0;
}

static int emit(e8_ctx *c, int idx, int64_t start, int64_t end, int64_t wh, int64_t quality,
                int rounded)
{
    e8_chan *ch = &c->ch[idx];
    if (ch->last_end != ESPI_NONE && start < ch->last_end) {
        char a[32], b[32];
        espi_time_format(start, a, sizeof a);
        espi_time_format(ch->last_end, b, sizeof b);
        int rc = seg_problem(c, "a reading starting %s overlaps the previous reading of %s, "
                                "which ends %s (expected each channel's data once, in time order)",
                             a, ch->key, b);
        return rc < 0 ? rc : 0;
    }
    tr_reading r = {idx, start, end - start, wh, ESPI_NONE, quality,
                    rounded ? TR_READING_ROUNDED : 0u, c->x.seg_no};
    ch->last_end = end;
    return c->sink->reading(c->sink->ctx, &r, c->err);
}

/* ---- loops ---------------------------------------------------------------------- */

static void loop_reset(e8_ctx *c)
{
    c->loop = LOOP_NONE;
    c->ptd[0] = c->meter[0] = 0;
    c->flow = ESPI_FLOW_FORWARD;
    c->start = c->prev_end = ESPI_NONE;
    c->sy = c->ey = 0;
    memset(&c->end151, 0, sizeof c->end151);
    c->m_has_wh = c->m_has_w = c->m_has_reads = c->m_rounded = 0;
    c->m_quality = ESPI_NONE;
    c->chan = -1;
    c->nominal = 0;
    c->resync = c->has_qty = c->qty_skipped = 0;
}

static int flush_monthly(e8_ctx *c)
{
    int64_t start, end;
    int rc, idx;
    if (!c->m_has_wh && !c->m_has_w) return 0; /* nothing we read (e.g. only kVArh) */
    if (!c->sy || !c->ey)
        return tr_x12_error(&c->x, c->err, EG_EDATA, "the PTD*%s loop of segment %ld has no "
                            "DTM*%s (expected DTM*150 and DTM*151: the service period)", c->ptd,
                            c->loop_seg, c->sy ? "151" : "150");
    tr_tz_day_bounds(c->o->tz, c->sy, c->smo, c->sd, &start, NULL);
    tr_tz_day_bounds(c->o->tz, c->ey, c->emo, c->ed, &end, NULL);
    if (end <= start)
        return tr_x12_error(&c->x, c->err, EG_EDATA, "the PTD*%s loop of segment %ld ends "
                            "%04d%02d%02d, not after its start %04d%02d%02d (expected DTM*151 "
                            "after DTM*150)", c->ptd, c->loop_seg, c->ey, c->emo, c->ed, c->sy,
                            c->smo, c->sd);
    if (c->m_has_reads && c->m_has_wh && c->reads_wh != c->m_wh) {
        char a[32], b[32];
        tr_dec_format(c->reads_wh, 3, a, sizeof a);
        tr_dec_format(c->m_wh, 3, b, sizeof b);
        if ((rc = tr_report_skip(c->sink, TR_SKIP_WARNING, c->loop_seg, c->err,
                                 "PTD*%s loop: ending minus beginning read is %s kWh but the "
                                 "quantity is %s kWh (multiplier or meter exchange?); kept the "
                                 "quantity", c->ptd, a, b)))
            return rc;
    }
    if (c->m_has_wh) {
        if ((rc = channel(c, 0, &idx))) return rc;
        if ((rc = emit(c, idx, start, end, c->m_wh, c->m_quality, c->m_rounded))) return rc;
    }
    if (strcmp(c->ptd, "SU") != 0 || c->flow != ESPI_FLOW_FORWARD || !c->sink->bill) return 0;
    tr_bill b;
    memset(&b, 0, sizeof b);
    snprintf(b.usage_point, sizeof b.usage_point, "edi867:%s", c->sp);
    snprintf(b.key, sizeof b.key, "edi867:%s:bill:%04d-%02d-%02d", c->sp, c->sy, c->smo, c->sd);
    b.start = start;
    b.duration = end - start;
    b.statement_date = ESPI_NONE;
    b.consumption = c->m_has_wh ? c->m_wh : ESPI_NONE;
    b.peak_demand = c->m_has_w ? c->m_w : ESPI_NONE;
    b.bill_total = ESPI_NONE;
    b.currency = ESPI_NONE;
    b.line = c->loop_seg;
    return c->sink->bill(c->sink->ctx, &b, c->err);
}

static int flush_interval(e8_ctx *c)
{
    int64_t end;
    int rc;
    if (c->has_qty)
        return tr_x12_error(&c->x, c->err, EG_EDATA, "the last QTY of the PTD*%s loop of "
                            "segment %ld has no DTM*582 (expected the interval's end after "
                            "each QTY)", c->ptd, c->loop_seg);
    if (!c->end151.set || c->prev_end == ESPI_NONE) return 0;
    e8_dtm *d = &c->end151;
    long seg = c->x.seg_no;
    c->x.seg_no = d->seg;
    rc = resolve(c, "151", d->date, d->time, d->code, c->prev_end - 1, &end);
    if (rc == 0 && end != c->prev_end && !c->o->lenient) {
        char a[32], b[32];
        espi_time_format(end, a, sizeof a);
        espi_time_format(c->prev_end, b, sizeof b);
        rc = SEG_ERROR(c, "DTM*151 says the loop ends %s but its last interval ends %s "
                          "(expected them equal)", a, b);
    }
    c->x.seg_no = seg;
    return rc < 0 ? rc : 0;
}

static int end_loop(e8_ctx *c)
{
    int rc = 0;
    if (c->loop == LOOP_MONTHLY) rc = flush_monthly(c);
    else if (c->loop == LOOP_INTERVAL) rc = flush_interval(c);
    loop_reset(c);
    return rc;
}

static int on_ptd(e8_ctx *c)
{
    const char *t = tr_x12_el(&c->x, 1), *q = tr_x12_el(&c->x, 4), *v = tr_x12_el(&c->x, 5);
    int rc;
    if ((rc = end_loop(c))) return rc;
    if (!c->sp[0])
        return SEG_ERROR(c, "PTD before the service point id (expected REF*Q5 in the "
                            "transaction header)");
    if (!strcmp(t, "SU") || !strcmp(t, "BB") || !strcmp(t, "PL")) c->loop = LOOP_MONTHLY;
    else if (!strcmp(t, "BO") || !strcmp(t, "BQ") || !strcmp(t, "PM")) c->loop = LOOP_INTERVAL;
    else
        return SEG_ERROR(c, "PTD01 \"%s\" is not a loop we read (expected SU, BB or PL for "
                            "monthly usage, BO, BQ or PM for interval usage)", t);
    snprintf(c->ptd, sizeof c->ptd, "%s", t);
    c->loop_seg = c->x.seg_no;
    if (!strcmp(q, "OZ")) {
        if (!strcmp(v, "FORWARD")) c->flow = ESPI_FLOW_FORWARD;
        else if (!strcmp(v, "REVERSE")) c->flow = ESPI_FLOW_REVERSE;
        else if (!strcmp(v, "NET")) c->flow = ESPI_FLOW_NET;
        else
            return SEG_ERROR(c, "PTD05 \"%s\" is not a flow (expected FORWARD, REVERSE or NET "
                                "after PTD04 OZ)", v);
    }
    return 0;
}

static int on_ref(e8_ctx *c)
{
    const char *q = tr_x12_el(&c->x, 1), *v = tr_x12_el(&c->x, 2);
    char *dst = NULL;
    if (c->loop == LOOP_NONE && (!strcmp(q, "Q5") || (!strcmp(q, "12") && !c->sp_q5))) {
        if (c->sp[0] && strcmp(q, "Q5") == 0 && c->sp_q5 && strcmp(c->sp, v) != 0)
            return SEG_ERROR(c, "a second REF*Q5 \"%s\" (the transaction is for \"%s\"; "
                                "expected one service point per transaction)", v, c->sp);
        c->sp_q5 = c->sp_q5 || !strcmp(q, "Q5");
        dst = c->sp;
    } else if (c->loop != LOOP_NONE && !strcmp(q, "MG")) {
        dst = c->meter;
    }
    if (!dst) return 0;
    size_t n = strlen(v);
    if (n == 0 || n >= E8_ID_MAX)
        return SEG_ERROR(c, "REF*%s id \"%s\" is empty or longer than %d characters", q, v,
                         E8_ID_MAX - 1);
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)v[i]) && !strchr("-_.", v[i]))
            return SEG_ERROR(c, "REF*%s id \"%s\" has a character other than letters, digits, "
                                "'-', '_' and '.'", q, v);
    memcpy(dst, v, n + 1);
    return 0;
}

/* QTY01 -> quality; 0 ok, -1 unknown. */
static int qty_quality(const char *q, int64_t *quality)
{
    if (!strcmp(q, "QD")) return *quality = ESPI_NONE, 0;
    if (!strcmp(q, "KA")) return *quality = ESPI_QUALITY_ESTIMATED_REFERENCE_DAY, 0;
    return -1;
}

static int on_qty(e8_ctx *c)
{
    const char *q = tr_x12_el(&c->x, 1), *v = tr_x12_el(&c->x, 2);
    char uom[8];
    int64_t quality, val;
    int rounded, rc;
    tr_x12_component(&c->x, tr_x12_el(&c->x, 3), 1, uom, sizeof uom);
    if (c->loop == LOOP_NONE) return 0;
    if (qty_quality(q, &quality))
        return (rc = seg_problem(c, "QTY01 \"%s\" is not a quantity qualifier we read (expected "
                                    "QD actual or KA estimated)", q)) < 0 ? rc : 0;
    if (strcmp(uom, "KH") != 0 && strcmp(uom, "K1") != 0)
        return tr_report_skip(c->sink, TR_SKIP_WARNING, c->x.seg_no, c->err,
                              "segment %ld (QTY): unit \"%s\" ignored (espigate reads KH kWh "
                              "and K1 kW)", c->x.seg_no, uom);
    rc = tr_dec_parse_str(v, 3, 0, &val, &rounded);
    if (rc == 0 && val < 0 && c->flow != ESPI_FLOW_NET) rc = TR_DEC_ESYNTAX;
    if (rc) {
        rc = seg_problem(c, "QTY02 \"%s\" %s (expected a quantity like 0.145%s)", v,
                         *v == '-' ? "is negative" : tr_dec_strerror(rc),
                         c->flow == ESPI_FLOW_NET ? "" : ", not negative");
        c->qty_skipped = c->loop == LOOP_INTERVAL;
        return rc < 0 ? rc : 0;
    }
    if (c->loop == LOOP_MONTHLY) {
        if (!strcmp(uom, "K1")) {
            c->m_w = val, c->m_has_w = 1;
        } else {
            if (c->m_has_wh)
                return SEG_ERROR(c, "a second kWh QTY in the PTD*%s loop of segment %ld "
                                    "(expected one per loop)", c->ptd, c->loop_seg);
            c->m_wh = val, c->m_has_wh = 1, c->m_quality = quality, c->m_rounded = rounded;
        }
        return 0;
    }
    if (!strcmp(uom, "K1"))
        return tr_report_skip(c->sink, TR_SKIP_WARNING, c->x.seg_no, c->err,
                              "segment %ld (QTY): interval kW ignored (espigate reads interval "
                              "kWh)", c->x.seg_no);
    if (c->has_qty)
        return SEG_ERROR(c, "QTY follows a QTY without its DTM*582 (expected the interval's "
                            "end date and time after each QTY)");
    c->has_qty = 1;
    c->qty_wh = val, c->qty_quality = quality, c->qty_rounded = rounded;
    return 0;
}

static int on_interval_end(e8_ctx *c)
{
    int64_t end, start;
    int rc;
    if (!c->has_qty && c->qty_skipped && c->start != ESPI_NONE) {
        /* lenient: the interval of a skipped QTY becomes a gap */
        c->qty_skipped = 0;
        rc = resolve(c, "582", tr_x12_el(&c->x, 2), tr_x12_el(&c->x, 3), tr_x12_el(&c->x, 4),
                     c->prev_end == ESPI_NONE ? c->start : c->prev_end, &end);
        if (rc == 0) c->prev_end = end;
        return rc < 0 ? rc : 0;
    }
    if (!c->has_qty) return SEG_ERROR(c, "DTM*582 without a QTY before it (expected QTY, then "
                                         "DTM*582 with that interval's end)");
    c->has_qty = 0;
    if (c->start == ESPI_NONE)
        return SEG_ERROR(c, "the PTD*%s loop of segment %ld has no DTM*150 (expected the start "
                            "of its first interval before the QTYs)", c->ptd, c->loop_seg);
    if (!*tr_x12_el(&c->x, 3))
        return (rc = seg_problem(c, "DTM*582 has no time (expected DTM*582*CCYYMMDD*HHMM*code)"))
                       < 0 ? rc : 0;
    int64_t after = c->prev_end == ESPI_NONE ? c->start : c->prev_end;
    if ((rc = resolve(c, "582", tr_x12_el(&c->x, 2), tr_x12_el(&c->x, 3), tr_x12_el(&c->x, 4),
                      after, &end)))
        return rc < 0 ? rc : 0;
    start = after;
    if (c->resync && c->nominal) start = end - c->nominal;
    if (end <= start || start < after) {
        char a[32], b[32];
        espi_time_format(end, a, sizeof a);
        espi_time_format(after, b, sizeof b);
        return (rc = seg_problem(c, "interval end %s is not after the previous end %s "
                                    "(expected intervals in time order)", a, b)) < 0 ? rc : 0;
    }
    int64_t dur = end - start;
    if (!c->nominal) c->nominal = dur;
    if (c->nominal < 82800 && dur != c->nominal)
        return (rc = seg_problem(c, "this interval is %lld minutes long, the loop's first %lld "
                                    "(expected equal intervals; a gap in the data starts a new "
                                    "PTD loop)", (long long)dur / 60,
                                 (long long)c->nominal / 60)) < 0 ? rc : 0;
    if (c->chan < 0 && (rc = channel(c, c->nominal, &c->chan))) return rc;
    c->resync = 0;
    c->prev_end = end;
    return emit(c, c->chan, start, end, c->qty_wh, c->qty_quality, c->qty_rounded);
}

static int on_dtm(e8_ctx *c)
{
    const char *q = tr_x12_el(&c->x, 1);
    int rc;
    if (c->loop == LOOP_NONE) return 0;
    if (!strcmp(q, "582") && c->loop == LOOP_INTERVAL) return on_interval_end(c);
    if (strcmp(q, "150") != 0 && strcmp(q, "151") != 0) return 0;
    if (c->loop == LOOP_MONTHLY) {
        int *y = q[2] == '0' ? &c->sy : &c->ey, *mo = q[2] == '0' ? &c->smo : &c->emo,
            *d = q[2] == '0' ? &c->sd : &c->ed;
        if (parse_date(tr_x12_el(&c->x, 2), y, mo, d)) {
            *y = 0;
            return SEG_ERROR(c, "DTM*%s date \"%s\" is not a date (expected CCYYMMDD)", q,
                             tr_x12_el(&c->x, 2));
        }
        return 0;
    }
    if (q[2] == '1') {
        e8_dtm *d = &c->end151;
        d->set = 1;
        d->seg = c->x.seg_no;
        snprintf(d->date, sizeof d->date, "%.15s", tr_x12_el(&c->x, 2));
        snprintf(d->time, sizeof d->time, "%.15s", tr_x12_el(&c->x, 3));
        snprintf(d->code, sizeof d->code, "%.3s", tr_x12_el(&c->x, 4));
        return 0;
    }
    if (c->prev_end != ESPI_NONE || c->has_qty)
        return SEG_ERROR(c, "DTM*150 after the loop's first QTY (expected it before the QTYs)");
    rc = resolve(c, "150", tr_x12_el(&c->x, 2), tr_x12_el(&c->x, 3), tr_x12_el(&c->x, 4),
                 ESPI_NONE, &c->start);
    if (rc > 0) return SEG_ERROR(c, "DTM*150 cannot be skipped (the loop needs its start)");
    return rc;
}

static int on_mea(e8_ctx *c)
{
    int64_t beg, end;
    int r1, r2, rc;
    char uom[8];
    if (c->loop != LOOP_MONTHLY || strcmp(tr_x12_el(&c->x, 2), "PRQ") != 0) return 0;
    tr_x12_component(&c->x, tr_x12_el(&c->x, 4), 1, uom, sizeof uom);
    if (strcmp(uom, "KH") != 0 || !*tr_x12_el(&c->x, 5) || !*tr_x12_el(&c->x, 6)) return 0;
    if (tr_dec_parse_str(tr_x12_el(&c->x, 5), 3, 0, &beg, &r1) ||
        tr_dec_parse_str(tr_x12_el(&c->x, 6), 3, 0, &end, &r2))
        return (rc = seg_problem(c, "MEA05/MEA06 meter reads \"%s\", \"%s\" are not numbers "
                                    "(expected e.g. 10234 and 11120)", tr_x12_el(&c->x, 5),
                                 tr_x12_el(&c->x, 6))) < 0 ? rc : 0;
    c->reads_wh = end - beg;
    c->m_has_reads = 1;
    return 0;
}

/* ---- transactions ------------------------------------------------------------------- */

static int on_segment(e8_ctx *c)
{
    tr_x12 *x = &c->x;
    int rc;
    if (tr_x12_is(x, "ST")) {
        loop_reset(c);
        c->sp[0] = 0;
        c->sp_q5 = 0;
        c->skip_tx = strcmp(tr_x12_el(x, 1), "867") != 0;
        if (c->skip_tx)
            return tr_report_skip(c->sink, TR_SKIP_WARNING, x->seg_no, c->err, "segment %ld (ST):"
                                  " transaction set %s skipped (not an 867)", x->seg_no,
                                  tr_x12_el(x, 1));
        return 0;
    }
    if (x->depth != 3 && !tr_x12_is(x, "SE")) return 0; /* envelopes */
    if (c->skip_tx) return 0;
    if (tr_x12_is(x, "SE")) {
        if ((rc = end_loop(c))) return rc;
        return 0;
    }
    if (tr_x12_is(x, "BPT")) {
        const char *p = tr_x12_el(x, 1);
        if (!strcmp(p, "01")) {
            c->skip_tx = 1;
            return tr_report_skip(c->sink, TR_SKIP_WARNING, x->seg_no, c->err, "segment %ld (BPT):"
                                  " a cancellation (BPT01 01) skipped: espigate translates usage,"
                                  " it does not undo earlier transactions", x->seg_no);
        }
        if (strcmp(p, "00") != 0 && strcmp(p, "05") != 0)
            return SEG_ERROR(c, "BPT01 \"%s\" is not a purpose we read (expected 00 original, "
                                "05 replace or 01 cancellation)", p);
        return 0;
    }
    if (tr_x12_is(x, "PTD")) return on_ptd(c);
    if (tr_x12_is(x, "REF")) return on_ref(c);
    if (tr_x12_is(x, "QTY")) return on_qty(c);
    if (tr_x12_is(x, "DTM")) return on_dtm(c);
    if (tr_x12_is(x, "MEA")) return on_mea(c);
    return 0;
}

int tr_edi867_read(FILE *in, const char *name, const tr_options *opts, const tr_sink *sink,
                   eg_err *err)
{
    e8_ctx *c = NULL;
    int rc, seen = 0;
    if (!opts || !opts->tz || !sink || !sink->reading)
        return eg_errf(err, EG_EUSAGE, name, 0, 0, "tr_edi867_read needs a zone and a reading sink");
    if (!(c = calloc(1, sizeof *c))) return eg_errf(err, EG_ENOMEM, name, 0, 0, "out of memory");
    c->o = opts;
    c->sink = sink;
    c->err = err;
    tr_x12_init(&c->x, in, name);
    loop_reset(c);
    while ((rc = tr_x12_next(&c->x, err)) == 1) {
        seen += tr_x12_is(&c->x, "ST") && strcmp(tr_x12_el(&c->x, 1), "867") == 0;
        if ((rc = on_segment(c))) goto done;
    }
    if (rc == 0 && !seen)
        rc = eg_errf(err, EG_EDATA, NULL, 0, 0, "%s: the interchange has no 867 transaction "
                     "set (expected ST*867)", name ? name : "-");
done:
    free(c);
    return rc < 0 ? rc : 0;
}
