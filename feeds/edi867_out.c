/* edi867_out.c -- stored usage -> X12 867 interchange (see edi867_out.h).
 *
 * Two passes over store_select.  The first keeps what a transaction needs
 * before its first reading and what may come after the readings in store
 * order: usage points, MeterReading -> ReadingType links, ReadingTypes,
 * the LocalTimeParameters and the UsageSummaries (a few numbers each).
 * The second streams the IntervalBlocks -- the store hands out each
 * MeterReading's blocks together, in time order -- and writes segments as
 * it goes; only SE01 needs a count, and it comes last.  Memory is O(usage
 * points + channels + summaries), never O(readings).
 *
 * Output is a temporary file beside the target, renamed into place after
 * fsync; stdout gets a copy of a complete temporary file. */
#include "edi867_out.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define EO_MAX_UPS 256
#define EO_MAX_CHANNELS 1024
#define EO_SP_MAX 31            /* REF02 in 4010: 1-30 characters */

typedef struct eo_up {
    char self[ESPI_URI_MAX];
    char sp[EO_SP_MAX];
    int done;                   /* its summaries were written */
} eo_up;

typedef struct eo_mr {
    char self[ESPI_URI_MAX];
    char rt[ESPI_URI_MAX];
    int up;
} eo_mr;

typedef struct eo_rt {
    char self[ESPI_URI_MAX];
    espi_reading_type t;
} eo_rt;

typedef struct eo_sum {
    int up;
    int64_t start, end, wh, w, quality;
} eo_sum;

typedef struct eo {
    const edi867_out_opts *o;
    eg_err *err;
    eo_up *ups;
    int n_ups;
    eo_mr *mrs;
    int n_mrs;
    eo_rt *rts;
    int n_rts;
    eo_sum *sums;
    size_t n_sums, cap_sums;
    int have_ltp;
    espi_local_time_parameters ltp;
    int64_t data_end;
    /* writing */
    FILE *f;
    long segs, sets;
    char series[ESPI_URI_MAX];
    int in_tx;
    int64_t loop_end;           /* end of the last reading of the open loop */
    const eo_mr *mr;
    const eo_rt *rt;
    edi867_out_result res;
} eo;

void edi867_out_opts_init(edi867_out_opts *o)
{
    memset(o, 0, sizeof *o);
    snprintf(o->sender, sizeof o->sender, "ESPIGATE");
    snprintf(o->receiver, sizeof o->receiver, "PARTNER");
    o->control_number = 1;
}

int edi867_out_check_id(const char *what, const char *id, eg_err *err)
{
    size_t n = strlen(id);
    int ok = n >= 1 && n <= 15;
    for (size_t i = 0; ok && i < n; i++)
        ok = isalnum((unsigned char)id[i]) || id[i] == ' ' || id[i] == '-' || id[i] == '.';
    return ok ? 0 : eg_errf(err, EG_EUSAGE, NULL, 0, 0, "%s '%s' is not an X12 id (expected "
                            "1-15 letters, digits, spaces, '-' or '.')", what, id);
}

/* ---- pass 1: what transactions need ------------------------------------------ */

static int find_self(const char *href, size_t n, const char *(*get)(const eo *, int), const eo *e,
                     int count)
{
    for (int i = 0; i < count; i++) {
        const char *s = get(e, i);
        if (strlen(s) == n && strncmp(s, href, n) == 0) return i;
    }
    return -1;
}

static const char *up_self(const eo *e, int i) { return e->ups[i].self; }
static const char *mr_self(const eo *e, int i) { return e->mrs[i].self; }
static const char *rt_self(const eo *e, int i) { return e->rts[i].self; }

/* The usage point an href lies under (".../UsagePoint/{id}/..."), or -1. */
static int up_of(const eo *e, const char *href)
{
    const char *p = strstr(href, "/UsagePoint/");
    if (!p) return -1;
    p += strlen("/UsagePoint/");
    size_t n = (size_t)(p - href) + strcspn(p, "/");
    return find_self(href, n, up_self, e, e->n_ups);
}

/* REF*Q5 text for a usage point: the key after "Usage point " in the title
 * (emit.c's titles), after its last ':' ("smt:1044..." -> "1044..."); else
 * the id without dashes.  Only letters, digits, '-', '_', '.' are kept. */
static void service_point(const espi_entry *en, char out[EO_SP_MAX])
{
    const char *t = en->title, *src;
    size_t n = 0;
    if (strncmp(t, "Usage point ", 12) == 0 && t[12]) {
        src = strrchr(t, ':') ? strrchr(t, ':') + 1 : t + 12;
    } else {
        src = strrchr(en->id, ':') ? strrchr(en->id, ':') + 1 : en->id;
    }
    for (; *src && n + 1 < EO_SP_MAX; src++)
        if (isalnum((unsigned char)*src) || *src == '_' || *src == '.' ||
            (*src == '-' && src == t))
            out[n++] = *src;
    if (n == 0) out[n++] = '0';
    out[n] = 0;
}

static int64_t pow10_scale(int64_t v, int64_t p, int *exact)
{
    *exact = 1;
    for (; p > 0; p--) {
        if (v > INT64_MAX / 10 || v < INT64_MIN / 10) return *exact = 0, v;
        v *= 10;
    }
    for (; p < 0; p++) {
        if (v % 10) *exact = 0;
        v /= 10;
    }
    return v;
}

/* A summary measurement in Wh or W (uom), ESPI_NONE when absent/other. */
static int64_t measurement(const espi_summary_measurement *m, int64_t uom)
{
    int exact;
    if (m->value == ESPI_NONE || m->uom != uom) return ESPI_NONE;
    int64_t v = pow10_scale(m->value, m->power_of_ten_multiplier == ESPI_NONE
                                          ? 0 : m->power_of_ten_multiplier, &exact);
    return exact ? v : ESPI_NONE;
}

static int scan(void *ctx, const espi_resource *r, eg_err *err)
{
    eo *e = ctx;
    const espi_entry *en = r->entry;
    if (!en) return 0;
    switch (r->type) {
    case ESPI_RES_USAGE_POINT:
        if (e->n_ups >= EO_MAX_UPS)
            return eg_errf(err, EG_ELIMIT, NULL, 0, 0, "more than %d usage points (export fewer "
                           "with --usage-point or --customer)", EO_MAX_UPS);
        snprintf(e->ups[e->n_ups].self, ESPI_URI_MAX, "%s", en->self.href);
        service_point(en, e->ups[e->n_ups].sp);
        e->n_ups++;
        break;
    case ESPI_RES_METER_READING:
        if (e->n_mrs >= EO_MAX_CHANNELS)
            return eg_errf(err, EG_ELIMIT, NULL, 0, 0, "more than %d meter readings",
                           EO_MAX_CHANNELS);
        snprintf(e->mrs[e->n_mrs].self, ESPI_URI_MAX, "%s", en->self.href);
        e->mrs[e->n_mrs].rt[0] = 0;
        for (int i = 0; i < en->n_related; i++)
            if (strstr(en->related[i].href, "/ReadingType/"))
                snprintf(e->mrs[e->n_mrs].rt, ESPI_URI_MAX, "%s", en->related[i].href);
        e->mrs[e->n_mrs].up = up_of(e, en->self.href);
        e->n_mrs++;
        break;
    case ESPI_RES_READING_TYPE:
        if (e->n_rts >= EO_MAX_CHANNELS)
            return eg_errf(err, EG_ELIMIT, NULL, 0, 0, "more than %d reading types",
                           EO_MAX_CHANNELS);
        snprintf(e->rts[e->n_rts].self, ESPI_URI_MAX, "%s", en->self.href);
        e->rts[e->n_rts++].t = r->u.reading_type;
        break;
    case ESPI_RES_LOCAL_TIME_PARAMETERS:
        if (!e->have_ltp) e->ltp = r->u.local_time_parameters, e->have_ltp = 1;
        break;
    case ESPI_RES_USAGE_SUMMARY: {
        const espi_usage_summary *u = &r->u.usage_summary;
        if (u->billing_period.start == ESPI_NONE || u->billing_period.duration == ESPI_NONE)
            break;
        if (e->n_sums == e->cap_sums) {
            size_t cap = e->cap_sums ? e->cap_sums * 2 : 64;
            eo_sum *v = realloc(e->sums, cap * sizeof *v);
            if (!v) return eg_errf(err, EG_ENOMEM, NULL, 0, 0, "out of memory");
            e->sums = v, e->cap_sums = cap;
        }
        eo_sum *s = &e->sums[e->n_sums];
        s->up = up_of(e, en->self.href[0] ? en->self.href : en->up.href);
        s->start = u->billing_period.start;
        s->end = u->billing_period.start + u->billing_period.duration;
        s->wh = measurement(&u->overall_consumption_last_period, ESPI_UOM_WH);
        s->w = measurement(&u->peak_demand, ESPI_UOM_W);
        s->quality = u->quality_of_reading;
        if (s->up >= 0 && s->wh != ESPI_NONE) {
            e->n_sums++;
            if (s->end > e->data_end) e->data_end = s->end;
        }
        break;
    }
    case ESPI_RES_INTERVAL_BLOCK: {
        const espi_interval_block *b = &r->u.interval_block;
        for (size_t i = 0; i < b->n_readings; i++) {
            const espi_interval *t = &b->readings[i].time_period;
            if (t->start != ESPI_NONE && t->duration != ESPI_NONE && t->start + t->duration > e->data_end)
                e->data_end = t->start + t->duration;
        }
        break;
    }
    default: break;
    }
    return 0;
}

/* ---- time labels --------------------------------------------------------------- */

static int in_dst(const eo *e, int64_t t)
{
    const espi_local_time_parameters *l = &e->ltp;
    int64_t a, b, days = (t + l->tz_offset) / 86400 - ((t + l->tz_offset) % 86400 < 0);
    /* civil year of the local standard date (Howard Hinnant's algorithm) */
    int64_t z = days + 719468, era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097, yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100), mp = (5 * doy + 2) / 153;
    int y = (int)(yoe + era * 400 + (mp >= 10));
    if (l->dst_start_rule == ESPI_DST_RULE_NONE || l->dst_offset == ESPI_NONE || !l->dst_offset ||
        espi_dst_rule_instant(l->dst_start_rule, y, l->tz_offset, &a) ||
        espi_dst_rule_instant(l->dst_end_rule, y, l->tz_offset + l->dst_offset, &b))
        return 0;
    return a < b ? t >= a && t < b : t >= a || t < b;
}

/* "CCYYMMDD", "HHMM" and the time code of instant t. */
static void label(const eo *e, int64_t t, char date[16], char hhmm[8], char code[4])
{
    static const struct { int64_t off; char letter; } us[] = {
        {-18000, 'E'}, {-21600, 'C'}, {-25200, 'M'}, {-28800, 'P'}, {-32400, 'A'}, {-36000, 'H'}};
    char letter = 0;
    int64_t local = t;
    for (size_t i = 0; e->have_ltp && i < sizeof us / sizeof us[0]; i++)
        if (e->ltp.tz_offset == us[i].off) letter = us[i].letter;
    if (letter) {
        int dst = in_dst(e, t);
        local = t + e->ltp.tz_offset + (dst ? e->ltp.dst_offset : 0);
        snprintf(code, 4, "%c%c", letter, dst ? 'D' : 'S');
    } else {
        snprintf(code, 4, "UT");
    }
    int64_t days = local / 86400 - (local % 86400 < 0), secs = local - days * 86400;
    int64_t z = days + 719468, era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097, yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100), mp = (5 * doy + 2) / 153;
    int d = (int)(doy - (153 * mp + 2) / 5 + 1), m = (int)(mp < 10 ? mp + 3 : mp - 9);
    int y = (int)(yoe + era * 400 + (m <= 2));
    snprintf(date, 16, "%04d%02d%02d", y % 10000, m, d);
    snprintf(hhmm, 8, "%02d%02d", (int)(secs / 3600), (int)(secs % 3600 / 60));
}

/* ---- writing ---------------------------------------------------------------------- */

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static int seg(eo *e, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vfprintf(e->f, fmt, ap);
    va_end(ap);
    if (n < 0 || fputs("~\n", e->f) == EOF)
        return eg_errf(e->err, EG_EIO, NULL, 0, 0, "writing the 867 output failed: %s",
                       strerror(errno));
    e->segs++;
    return 0;
}

/* Exact kWh text of v Wh x 10^p ("0.145", "12", "-1.5"). */
static void kwh_text(int64_t v, int64_t p, char *out, size_t n)
{
    int scale = (int)(3 - p), exact;
    if (scale <= 0) {
        snprintf(out, n, "%" PRId64, pow10_scale(v, -scale, &exact));
        return;
    }
    if (scale > 19) scale = 19; /* |int64| < 10^19: all digits are fraction */
    uint64_t a = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    char frac[24];
    int k = scale, last = -1;
    frac[k] = 0;
    while (k-- > 0) {
        frac[k] = (char)('0' + a % 10);
        a /= 10;
        if (frac[k] != '0' && last < 0) last = k;
    }
    frac[last + 1] = 0; /* trim trailing zeros ("" when all zero) */
    snprintf(out, n, "%s%" PRIu64 "%s%s", v < 0 ? "-" : "", a, frac[0] ? "." : "", frac);
}

static int begin_tx(eo *e, int up)
{
    char date[16], hhmm[8], code[4];
    int rc;
    e->sets++;
    e->segs = 0;
    e->in_tx = 1;
    e->res.transactions++;
    label(&(eo){.have_ltp = 0}, e->data_end, date, hhmm, code);
    if ((rc = seg(e, "ST*867*%04ld", e->sets)) ||
        (rc = seg(e, "BPT*00*EG%ld-%ld*%s*%s", e->o->control_number, e->sets, date,
                  e->series[0] ? "C1" : "DD")) ||
        (rc = seg(e, "REF*Q5*%s", e->ups[up].sp)))
        return rc;
    if (e->ups[up].done) return 0;
    e->ups[up].done = 1;
    for (size_t i = 0; i < e->n_sums; i++) {
        const eo_sum *s = &e->sums[i];
        char d2[16], kwh[48];
        if (s->up != up) continue;
        label(e, s->start, date, hhmm, code);
        label(e, s->end, d2, hhmm, code);
        kwh_text(s->wh, 0, kwh, sizeof kwh);
        if ((rc = seg(e, "PTD*SU")) || (rc = seg(e, "DTM*150*%s", date)) ||
            (rc = seg(e, "DTM*151*%s", d2)) ||
            (rc = seg(e, "QTY*%s*%s*KH",
                      s->quality == ESPI_QUALITY_ESTIMATED_REFERENCE_DAY ||
                              s->quality == ESPI_QUALITY_ESTIMATED_LINEAR ? "KA" : "QD", kwh)))
            return rc;
        if (s->w != ESPI_NONE) {
            kwh_text(s->w, 0, kwh, sizeof kwh);
            if ((rc = seg(e, "QTY*QD*%s*K1", kwh))) return rc;
        }
        e->res.summaries++;
    }
    return 0;
}

static int end_tx(eo *e)
{
    if (!e->in_tx) return 0;
    e->in_tx = 0;
    return seg(e, "SE*%ld*%04ld", e->segs + 1, e->sets);
}

/* The MeterReading tag for REF*MG: 12 hex digits of its id. */
static void meter_tag(const char *self, char out[16])
{
    const char *id = strrchr(self, '/') ? strrchr(self, '/') + 1 : self;
    size_t n = 0;
    for (; *id && n < 12; id++)
        if (isxdigit((unsigned char)*id)) out[n++] = (char)toupper((unsigned char)*id);
    out[n] = 0;
}

static int start_series(eo *e, const char *series)
{
    size_t n = strlen(series), k = strlen("/IntervalBlock");
    int rc, m = -1, t = -1;
    if ((rc = end_tx(e))) return rc;
    snprintf(e->series, sizeof e->series, "%s", series);
    if (n > k && strcmp(series + n - k, "/IntervalBlock") == 0)
        m = find_self(series, n - k, mr_self, e, e->n_mrs);
    if (m >= 0 && e->mrs[m].rt[0]) t = find_self(e->mrs[m].rt, strlen(e->mrs[m].rt), rt_self, e,
                                                e->n_rts);
    if (m < 0 || t < 0 || e->mrs[m].up < 0)
        return eg_errf(e->err, EG_EDATA, NULL, 0, 0, "IntervalBlocks under %s: their %s is not "
                       "in the selection (expected MeterReading, ReadingType and UsagePoint "
                       "stored with the blocks)", series, m < 0 ? "MeterReading"
                       : t < 0 ? "ReadingType" : "UsagePoint");
    const espi_reading_type *rt = &e->rts[t].t;
    if (rt->uom != ESPI_UOM_WH ||
        (rt->accumulation_behaviour != ESPI_NONE &&
         rt->accumulation_behaviour != ESPI_ACCUM_DELTA_DATA &&
         rt->accumulation_behaviour != ESPI_ACCUM_BULK_QUANTITY))
        return eg_errf(e->err, EG_EDATA, NULL, 0, 0, "MeterReading %s: ReadingType uom %lld, "
                       "accumulation %lld cannot be written as 867 kWh (expected uom 72 Wh "
                       "interval data; select other usage points with --usage-point)",
                       e->mrs[m].self, (long long)rt->uom, (long long)rt->accumulation_behaviour);
    e->mr = &e->mrs[m];
    e->rt = &e->rts[t];
    e->loop_end = ESPI_NONE;
    return begin_tx(e, e->mrs[m].up);
}

static int open_loop(eo *e, int64_t start)
{
    char date[16], hhmm[8], code[4], tag[16];
    int64_t flow = e->rt->t.flow_direction;
    int rc;
    meter_tag(e->mr->self, tag);
    label(e, start, date, hhmm, code);
    if ((rc = seg(e, "PTD*PM%s", flow == ESPI_FLOW_REVERSE ? "***OZ*REVERSE"
                                 : flow == ESPI_FLOW_NET ? "***OZ*NET" : "")))
        return rc;
    if (tag[0] && (rc = seg(e, "REF*MG*%s", tag))) return rc;
    return seg(e, "DTM*150*%s*%s*%s", date, hhmm, code);
}

static int write_block(void *ctx, const espi_resource *r, eg_err *err)
{
    eo *e = ctx;
    int rc;
    (void)err;
    if (r->type != ESPI_RES_INTERVAL_BLOCK || !r->entry) return 0;
    const char *series = r->entry->up.href;
    if (strcmp(series, e->series) != 0 && (rc = start_series(e, series))) return rc;
    const espi_interval_block *b = &r->u.interval_block;
    int64_t p = e->rt->t.power_of_ten_multiplier == ESPI_NONE ? 0
                                                               : e->rt->t.power_of_ten_multiplier;
    for (size_t i = 0; i < b->n_readings; i++) {
        const espi_interval_reading *ir = &b->readings[i];
        char date[16], hhmm[8], code[4], kwh[48];
        int64_t start = ir->time_period.start, dur = ir->time_period.duration;
        const char *q = "QD";
        if (start == ESPI_NONE || dur == ESPI_NONE || dur <= 0 || ir->value == ESPI_NONE) continue;
        if (e->loop_end != ESPI_NONE && start < e->loop_end)
            return eg_errf(e->err, EG_EDATA, NULL, 0, 0, "MeterReading %s: a reading at %" PRId64
                           " overlaps the previous one (run 'espigate validate' on the stored "
                           "feed)", e->mr->self, start);
        if (start != e->loop_end && (rc = open_loop(e, start))) return rc;
        for (int k = 0; k < ir->n_qualities; k++)
            if (ir->qualities[k] == ESPI_QUALITY_ESTIMATED_REFERENCE_DAY ||
                ir->qualities[k] == ESPI_QUALITY_ESTIMATED_LINEAR)
                q = "KA";
        kwh_text(ir->value, p, kwh, sizeof kwh);
        label(e, start + dur, date, hhmm, code);
        if ((rc = seg(e, "QTY*%s*%s*KH", q, kwh)) ||
            (rc = seg(e, "DTM*582*%s*%s*%s", date, hhmm, code)))
            return rc;
        e->loop_end = start + dur;
        e->res.readings++;
    }
    return 0;
}

static int write_all(eo *e, store *s, const store_query *q)
{
    char date[16], hhmm[8], code[4], ctrl[16];
    int rc;
    label(&(eo){.have_ltp = 0}, e->data_end, date, hhmm, code);
    snprintf(ctrl, sizeof ctrl, "%09ld", e->o->control_number);
    if ((rc = seg(e, "ISA*00*%10s*00*%10s*ZZ*%-15s*ZZ*%-15s*%s*%s*U*00401*%s*0*P*>", "", "",
                  e->o->sender, e->o->receiver, date + 2, hhmm, ctrl)) ||
        (rc = seg(e, "GS*PT*%s*%s*%s*%s*%ld*X*004010", e->o->sender, e->o->receiver, date, hhmm,
                  e->o->control_number)))
        return rc;
    if ((rc = store_select(s, q, NULL, write_block, e, e->err)) || (rc = end_tx(e))) return rc;
    e->series[0] = 0;
    for (int u = 0; u < e->n_ups; u++) {
        int any = 0;
        for (size_t i = 0; i < e->n_sums && !any; i++) any = e->sums[i].up == u;
        if (!any || e->ups[u].done) continue;
        if ((rc = begin_tx(e, u)) || (rc = end_tx(e))) return rc;
    }
    if (e->sets == 0)
        return eg_errf(e->err, EG_EDATA, NULL, 0, 0, "nothing to export: the selection has no "
                       "interval readings or usage summaries in kWh");
    if ((rc = seg(e, "GE*%ld*%ld", e->sets, e->o->control_number))) return rc;
    return seg(e, "IEA*1*%s", ctrl);
}

/* ---- output file ------------------------------------------------------------------- */

static int open_temp(const char *path, char *tmp, size_t n, FILE **f, eg_err *err)
{
    if (strcmp(path, "-") == 0) {
        tmp[0] = 0;
        *f = tmpfile();
    } else {
        if ((size_t)snprintf(tmp, n, "%s.XXXXXX", path) >= n)
            return eg_errf(err, EG_ECANTCREAT, path, 0, 0, "output path too long");
        int fd = mkstemp(tmp);
        *f = fd < 0 ? NULL : fdopen(fd, "w");
        if (!*f && fd >= 0) close(fd), unlink(tmp);
    }
    return *f ? 0 : eg_errf(err, EG_ECANTCREAT, path, 0, 0, "cannot create the output: %s",
                            strerror(errno));
}

static int finish_output(FILE *f, const char *tmp, const char *path, eg_err *err)
{
    int rc = 0;
    if (!tmp[0]) {
        char buf[8192];
        size_t n;
        rewind(f);
        while ((n = fread(buf, 1, sizeof buf, f)) > 0)
            if (fwrite(buf, 1, n, stdout) != n) break;
        if (ferror(f) || fflush(stdout) == EOF)
            rc = eg_errf(err, EG_EIO, "-", 0, 0, "writing to stdout failed: %s", strerror(errno));
        fclose(f);
        return rc;
    }
    if (fflush(f) == EOF || fsync(fileno(f)) != 0)
        rc = eg_errf(err, EG_EIO, path, 0, 0, "writing failed: %s", strerror(errno));
    if (fclose(f) != 0 && !rc)
        rc = eg_errf(err, EG_EIO, path, 0, 0, "writing failed: %s", strerror(errno));
    if (!rc && rename(tmp, path) != 0)
        rc = eg_errf(err, EG_ECANTCREAT, path, 0, 0, "cannot rename the output into place: %s",
                     strerror(errno));
    if (rc) unlink(tmp);
    return rc;
}

int edi867_export(store *s, const store_query *q, const edi867_out_opts *o, const char *path,
                  edi867_out_result *res, eg_err *err)
{
    edi867_out_opts dflt;
    eo *e = NULL;
    char tmp[4096];
    int rc;
    if (!o) edi867_out_opts_init(&dflt), o = &dflt;
    if ((rc = edi867_out_check_id("sender", o->sender, err)) ||
        (rc = edi867_out_check_id("receiver", o->receiver, err)))
        return rc;
    if (o->control_number < 1 || o->control_number > 999999999)
        return eg_errf(err, EG_EUSAGE, NULL, 0, 0, "control number %ld is not 1..999999999",
                       o->control_number);
    if (!(e = calloc(1, sizeof *e)) || !(e->ups = calloc(EO_MAX_UPS, sizeof *e->ups)) ||
        !(e->mrs = calloc(EO_MAX_CHANNELS, sizeof *e->mrs)) ||
        !(e->rts = calloc(EO_MAX_CHANNELS, sizeof *e->rts))) {
        rc = eg_errf(err, EG_ENOMEM, NULL, 0, 0, "out of memory");
        goto done;
    }
    e->o = o;
    e->err = err;
    e->data_end = 0;
    if ((rc = store_select(s, q, NULL, scan, e, err))) goto done;
    if ((rc = open_temp(path ? path : "-", tmp, sizeof tmp, &e->f, err))) goto done;
    rc = write_all(e, s, q);
    if (rc) {
        fclose(e->f);
        if (tmp[0]) unlink(tmp);
    } else {
        rc = finish_output(e->f, tmp, path ? path : "-", err);
    }
    if (!rc && res) *res = e->res;
done:
    if (e) {
        free(e->ups);
        free(e->mrs);
        free(e->rts);
        free(e->sums);
    }
    free(e);
    return rc;
}
