/* smarthub_csv.c -- SmartHub CSV downloads -> ESPI-ready readings.
 *
 * The "Green Button" CSV (greenButtonCsvDownload) is a report, not a table:
 * banner lines of '=', every line indented by one space, and per block a
 * few labelled lines ("For: <account>", "Type of readings: Electricity,
 * Energy Consumption, Real energy in kilowatt-hours "), the header
 * "Energy consumption time period,Usage(...),Events occurred" and rows
 * " 2024-01-08 00:00 to 2024-01-08 01:00,0.770,,".  The tr_csv reader (libcsv)
 * already trims the blanks and skips the " " lines that end blocks, so we
 * walk rows and look at their first field: '=' banners and free text are
 * skipped, a "Type of readings" line names the unit of the next block
 * (kilowatt-hours = energy, kilowatts = kW demand), a "... time period"
 * header opens a block, and "A to B" rows belong to the open block.
 *
 * Blocks carry no meter or direction and come in a different order from
 * export to export, so all blocks are read first (bounded by
 * TR_SMARTHUB_CSV_MAX_ROWS) and classified at the end:
 *   1. three energy blocks of the same intervals, one of which equals the
 *      sum of the other two row by row: that one is net; of the others the
 *      one with negative values is export, the other forward;
 *   2. otherwise by sign: all >= 0 forward, all <= 0 export, mixed net; a
 *      block of zeros takes the one class no other block has (forward if
 *      several are free) -- noted as a warning;
 *   3. two blocks still in one class: first in the file stays, a later one
 *      is an error (we cannot tell them apart).
 * Export values become absolute (flow 19); net stays signed (flow 4).  A kW
 * block becomes a demand channel (uom W, kind demand).
 *
 * The older "Download Your Data" CSV has a preamble and rows
 * "A to B,kWh,cost" with no block header: rows seen outside any block make
 * one forward block whose third field is the cost in dollars (empty = 0).
 *
 * Times are local wall clock.  A row's start is resolved like smt.c: the
 * candidate (first or second occurrence of a repeated hour) equal to the
 * block's previous end wins, else the earliest not before it; a start that
 * does not exist (spring forward) drops a zero/empty row and is an error
 * for a row with a value.  Duration: under a day, the smaller of the wall
 * span (B - A) and the UTC span (end label converted, first candidate after
 * the start) -- the wall span is right across a fall-back hour ("01:00 to
 * 02:00" in CDT lasts an hour), the UTC span across a spring-forward one
 * ("01:00 to 03:00"); a day or longer, the UTC span (23/25-hour days).
 * Values are exact decimals (decimal.h) at 3 places: Wh, or W for demand. */
#include "smarthub.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "decimal.h"
#include "trcsv.h"

#define SHC_ACCOUNT_MAX 40

enum shc_unit { SHC_ENERGY, SHC_DEMAND };
enum shc_class { SHC_UNKNOWN, SHC_FORWARD, SHC_REVERSE, SHC_NET, SHC_DEMAND_CLASS };

typedef struct shc_row {
    int64_t start, duration, value, cost;
    unsigned flags;
    long line;
} shc_row;

typedef struct shc_block {
    int unit;             /* shc_unit */
    int old_format;       /* "Download Your Data": third field is cost */
    int cls;              /* shc_class */
    int pos, neg;         /* signs seen */
    size_t begin, end;    /* range in ctx.rows */
    int64_t prev_end;     /* UTC end of the previous row, ESPI_NONE */
    long line;            /* where the block starts */
} shc_block;

typedef struct shc_ctx {
    tr_csv csv;
    const tr_options *o;
    const tr_sink *sink;
    eg_err *err;
    char account[SHC_ACCOUNT_MAX];
    int next_unit;        /* from the last "Type of readings" line, -1 none */
    int open;             /* index of the open block, -1 none */
    shc_block blk[TR_MAX_CHANNELS];
    int n_blk;
    shc_row *rows;
    size_t n_rows, cap_rows;
} shc_ctx;

#define ROW_PROBLEM(x, ...) \
    tr_row_problem((x)->sink, (x)->o, (x)->csv.name, tr_csv_line(&(x)->csv), (x)->err, __VA_ARGS__)

/* ---- text ---------------------------------------------------------------------------- */

static int starts_with(const char *s, const char *prefix)
{
    return strncasecmp(s, prefix, strlen(prefix)) == 0;
}

/* Unit named anywhere in the current row: energy, demand, or -1. */
static int row_unit(const shc_ctx *x)
{
    int unit = -1;
    for (int i = 0; i < tr_csv_nfields(&x->csv); i++) {
        const char *f = tr_csv_field(&x->csv, i);
        if (strstr(f, "kilowatt-hours") || strstr(f, "kWh")) return SHC_ENERGY;
        if (strstr(f, "kilowatts") || strstr(f, "(kW)")) unit = SHC_DEMAND;
    }
    return unit;
}

static int parse_num(const char **p, int digits, int *out)
{
    int v = 0;
    for (int i = 0; i < digits; i++, (*p)++) {
        if (!isdigit((unsigned char)**p)) return -1;
        v = v * 10 + (**p - '0');
    }
    *out = v;
    return 0;
}

/* "YYYY-MM-DD HH:MM" at *p into f[5]; advances *p. */
static int parse_stamp(const char **p, int f[5])
{
    const char *s = *p;
    if (parse_num(&s, 4, &f[0]) || *s++ != '-' || parse_num(&s, 2, &f[1]) || *s++ != '-' ||
        parse_num(&s, 2, &f[2]) || *s++ != ' ' || parse_num(&s, 2, &f[3]) || *s++ != ':' ||
        parse_num(&s, 2, &f[4]))
        return -1;
    *p = s;
    if (f[1] < 1 || f[1] > 12 || f[2] < 1 || f[2] > tr_days_in_month(f[0], f[1])) return -1;
    return f[3] <= 24 && f[4] <= 59 && (f[3] < 24 || f[4] == 0) ? 0 : -1;
}

/* "A to B": 0 with a[], b[] filled, -1 when the field is not a period. */
static int parse_period(const char *s, int a[5], int b[5])
{
    while (*s == ' ') s++;
    if (parse_stamp(&s, a) || a[3] == 24 || strncmp(s, " to ", 4) != 0) return -1;
    s += 4;
    if (parse_stamp(&s, b)) return -1;
    while (*s == ' ') s++;
    return *s ? -1 : 0;
}

static int64_t wall_seconds(const int f[5])
{
    return tr_days_from_civil(f[0], f[1], f[2]) * 86400 + f[3] * 3600 + f[4] * 60;
}

/* UTC candidates of wall time w (seconds); returns 0..2, *gap when it does not exist. */
static int candidates(const shc_ctx *x, int64_t w, int64_t out[2], int *gap)
{
    int y, mo, d, flags = 0;
    tr_civil_from_days(w / 86400, &y, &mo, &d);
    int h = (int)(w % 86400 / 3600), mi = (int)(w % 3600 / 60);
    *gap = 0;
    if (tr_tz_local_to_utc(x->o->tz, y, mo, d, h, mi, 0, 0, &out[0], &flags)) return 0;
    if (flags & TR_TZ_GAP) return *gap = 1, 0;
    if (!(flags & TR_TZ_AMBIGUOUS)) return 1;
    tr_tz_local_to_utc(x->o->tz, y, mo, d, h, mi, 0, 1, &out[1], NULL);
    return 2;
}

/* ---- blocks and rows -------------------------------------------------------------------- */

static int open_block(shc_ctx *x, int unit, int old_format)
{
    if (x->n_blk >= TR_MAX_CHANNELS)
        return eg_errf(x->err, EG_ELIMIT, x->csv.name, tr_csv_line(&x->csv), 0,
                       "more than %d blocks in one file (expected a few meter channels)",
                       TR_MAX_CHANNELS);
    shc_block *b = &x->blk[x->n_blk];
    memset(b, 0, sizeof *b);
    b->unit = unit;
    b->old_format = old_format;
    b->begin = b->end = x->n_rows;
    b->prev_end = ESPI_NONE;
    b->line = tr_csv_line(&x->csv);
    x->open = x->n_blk++;
    x->next_unit = -1;
    return 0;
}

static int push_row(shc_ctx *x, const shc_row *r)
{
    if (x->n_rows >= TR_SMARTHUB_CSV_MAX_ROWS)
        return eg_errf(x->err, EG_ELIMIT, x->csv.name, r->line, 0,
                       "more than %d rows (export fewer days per file)", TR_SMARTHUB_CSV_MAX_ROWS);
    if (x->n_rows == x->cap_rows) {
        size_t cap = x->cap_rows ? x->cap_rows * 2 : 256;
        shc_row *p = realloc(x->rows, cap * sizeof *p);
        if (!p) return eg_errf(x->err, EG_ENOMEM, x->csv.name, r->line, 0, "out of memory");
        x->rows = p;
        x->cap_rows = cap;
    }
    x->rows[x->n_rows++] = *r;
    x->blk[x->open].end = x->n_rows;
    return 0;
}

/* Choose the UTC start among the candidates of the start label (file
 * comment).  0 ok, 1 nonexistent, 2 goes back in time. */
static int resolve_start(const shc_ctx *x, const shc_block *b, int64_t wall, int64_t *start)
{
    int64_t c[2];
    int gap, n = candidates(x, wall, c, &gap);
    if (n == 0) return 1;
    for (int i = 0; i < n; i++)
        if (b->prev_end != ESPI_NONE && c[i] == b->prev_end) return *start = c[i], 0;
    for (int i = 0; i < n; i++)
        if (b->prev_end == ESPI_NONE || c[i] >= b->prev_end) return *start = c[i], 0;
    return 2;
}

static int64_t row_duration(const shc_ctx *x, int64_t start, int64_t wa, int64_t wb)
{
    int64_t c[2], span = wb - wa, utc_span = 0;
    int gap, n = candidates(x, wb, c, &gap);
    for (int i = 0; i < n; i++)
        if (c[i] > start) {
            utc_span = c[i] - start;
            break;
        }
    if (span >= 86400 || span <= 0) return utc_span;
    return utc_span > 0 && utc_span < span ? utc_span : span;
}

/* Parse the value (and cost) fields.  0 ok, 1 empty value (a gap), <0 stop,
 * -1000 skipped in lenient mode. */
static int row_values(shc_ctx *x, const shc_block *b, shc_row *r)
{
    const char *v = tr_csv_field(&x->csv, 1), *c = tr_csv_field(&x->csv, 2);
    int rounded = 0, rc = tr_dec_parse_str(v, 3, TR_DEC_THOUSANDS, &r->value, &rounded);
    r->cost = ESPI_NONE;
    if (rc == TR_DEC_EEMPTY && !b->old_format) return 1;
    if (rc == TR_DEC_EEMPTY) r->value = 0, rc = 0; /* "empty numbers mean 0" */
    if (rc)
        return (rc = ROW_PROBLEM(x, "usage \"%s\" %s (expected kWh like 0.770)", v,
                                 tr_dec_strerror(rc))) < 0 ? rc : -1000;
    r->flags = rounded ? TR_READING_ROUNDED : 0u;
    if (!b->old_format) return 0;
    rc = tr_dec_parse_str(c, 5, TR_DEC_THOUSANDS | TR_DEC_CURRENCY, &r->cost, &rounded);
    if (rc == TR_DEC_EEMPTY) r->cost = 0, rc = 0;
    if (rc)
        return (rc = ROW_PROBLEM(x, "cost \"%s\" %s (expected dollars like 0.13)", c,
                                 tr_dec_strerror(rc))) < 0 ? rc : -1000;
    if (rounded) r->flags |= TR_READING_ROUNDED;
    return 0;
}

static int data_row(shc_ctx *x, const int a[5], const int bb[5])
{
    int rc;
    if (x->open < 0 && (rc = open_block(x, SHC_ENERGY, 1))) return rc;
    shc_block *b = &x->blk[x->open];
    shc_row r;
    memset(&r, 0, sizeof r);
    r.line = tr_csv_line(&x->csv);
    const char *text = tr_csv_field(&x->csv, 0);
    if ((rc = row_values(x, b, &r)) < 0) return rc == -1000 ? 0 : rc;
    int empty = rc == 1;
    int64_t wa = wall_seconds(a), wb = wall_seconds(bb);
    rc = resolve_start(x, b, wa, &r.start);
    if (rc == 1 && (empty || r.value == 0))
        return tr_report_skip(x->sink, TR_SKIP_NONEXISTENT, r.line, x->err,
                              "%.16s does not exist in %s (clocks spring forward); row dropped",
                              text, tr_tz_name(x->o->tz));
    if (rc == 1)
        return (rc = ROW_PROBLEM(x, "%.16s does not exist in %s (clocks spring forward) but the "
                                    "row has a value", text, tr_tz_name(x->o->tz))) < 0 ? rc : 0;
    if (rc == 2)
        return (rc = ROW_PROBLEM(x, "\"%s\" comes before the previous row's end (expected rows "
                                    "in time order, no duplicates)", text)) < 0 ? rc : 0;
    if ((r.duration = row_duration(x, r.start, wa, wb)) <= 0)
        return (rc = ROW_PROBLEM(x, "\"%s\" does not end after it starts", text)) < 0 ? rc : 0;
    b->prev_end = r.start + r.duration;
    if (empty)
        return tr_report_skip(x->sink, TR_SKIP_NO_VALUE, r.line, x->err,
                              "\"%s\" has no usage value (a gap in SmartHub's data)", text);
    b->pos |= r.value > 0;
    b->neg |= r.value < 0;
    return push_row(x, &r);
}

/* One CSV row of any kind (file comment). */
static int handle_row(shc_ctx *x)
{
    const char *f0 = tr_csv_field(&x->csv, 0);
    int a[5], b[5], unit;
    if (*f0 == '=' || *f0 == 0) return 0;
    if (parse_period(f0, a, b) == 0) return data_row(x, a, b);
    if (starts_with(f0, "For:")) {
        const char *s = f0 + 4;
        while (*s == ' ') s++;
        size_t n = 0;
        for (; *s && n + 1 < sizeof x->account; s++)
            if (isalnum((unsigned char)*s) || *s == '-') x->account[n++] = *s;
        x->account[n] = 0;
        return 0;
    }
    if (starts_with(f0, "Type of readings")) {
        x->open = -1;
        x->next_unit = row_unit(x);
        if (x->next_unit < 0)
            return ROW_PROBLEM(x, "unknown type of readings (expected \"... Real energy in "
                                  "kilowatt-hours\" or \"... in kilowatts\")");
        return 0;
    }
    if (strstr(f0, "time period")) {
        int cost = 0;
        for (int i = 1; i < tr_csv_nfields(&x->csv); i++)
            cost |= strstr(tr_csv_field(&x->csv, i), "ost") != NULL; /* "Cost", "cost" */
        unit = row_unit(x);
        return open_block(x, unit >= 0 ? unit : x->next_unit >= 0 ? x->next_unit : SHC_ENERGY, cost);
    }
    return 0; /* banner text: Usage Information, Start date:, ... */
}

/* ---- classification ----------------------------------------------------------------------- */

static int sign_class(const shc_block *b)
{
    if (b->unit == SHC_DEMAND) return SHC_DEMAND_CLASS;
    if (b->pos && b->neg) return SHC_NET;
    if (b->neg) return SHC_REVERSE;
    if (b->pos) return SHC_FORWARD;
    return SHC_UNKNOWN;
}

/* Is energy block n the row-by-row sum of blocks p and q? */
static int is_sum(const shc_ctx *x, const shc_block *n, const shc_block *p, const shc_block *q)
{
    size_t len = n->end - n->begin;
    if (p->end - p->begin != len || q->end - q->begin != len || len == 0) return 0;
    for (size_t i = 0; i < len; i++) {
        const shc_row *a = &x->rows[n->begin + i], *b = &x->rows[p->begin + i],
                      *c = &x->rows[q->begin + i];
        if (a->start != b->start || a->start != c->start || a->value != b->value + c->value)
            return 0;
    }
    return 1;
}

/* Rule 1 of the file comment: set the classes of the three energy blocks
 * when one is the sum of the other two; returns 1 when it decided. */
static int classify_by_sum(shc_ctx *x)
{
    int e[3], n = 0;
    for (int i = 0; i < x->n_blk; i++)
        if (x->blk[i].unit == SHC_ENERGY) {
            if (n == 3) return 0;
            e[n++] = i;
        }
    if (n != 3) return 0;
    for (int k = 0; k < 3; k++) {
        shc_block *net = &x->blk[e[k]], *p = &x->blk[e[(k + 1) % 3]], *q = &x->blk[e[(k + 2) % 3]];
        if (!is_sum(x, net, p, q)) continue;
        /* export: the one with negative values, else the one of zeros */
        shc_block *exp = p->neg ? p : q->neg ? q : !p->pos ? p : q;
        shc_block *fwd = exp == p ? q : p;
        if (fwd->neg || exp->pos) return 0; /* not forward + export: rule 2 */
        net->cls = SHC_NET;
        exp->cls = SHC_REVERSE;
        fwd->cls = SHC_FORWARD;
        return 1;
    }
    return 0;
}

static const char *class_name(int c)
{
    switch (c) {
    case SHC_FORWARD: return "forward";
    case SHC_REVERSE: return "reverse";
    case SHC_NET: return "net";
    default: return "demand";
    }
}

static int classify(shc_ctx *x)
{
    int used[SHC_DEMAND_CLASS + 1] = {0}, rc;
    for (int i = 0; i < x->n_blk; i++) x->blk[i].cls = sign_class(&x->blk[i]);
    classify_by_sum(x); /* overrides the sign classes of energy blocks when it decides */
    for (int i = 0; i < x->n_blk; i++) used[x->blk[i].cls]++;
    for (int i = 0; i < x->n_blk; i++) {
        shc_block *b = &x->blk[i];
        if (b->cls != SHC_UNKNOWN) continue;
        int free_cls = !used[SHC_FORWARD] ? SHC_FORWARD : !used[SHC_REVERSE] ? SHC_REVERSE
                       : !used[SHC_NET] ? SHC_NET : SHC_UNKNOWN;
        if (free_cls == SHC_UNKNOWN)
            return eg_errf(x->err, EG_EDATA, x->csv.name, b->line, 0,
                           "block of zeros cannot be told apart from the others (expected at most "
                           "one forward, one export and one net block)");
        b->cls = free_cls;
        used[free_cls]++;
        if ((rc = tr_report_skip(x->sink, TR_SKIP_WARNING, b->line, x->err,
                                 "block holds only zeros: read as %s (the direction no other "
                                 "block has)", class_name(free_cls))))
            return rc;
    }
    for (int i = 0; i < x->n_blk; i++)
        for (int j = 0; j < i; j++)
            if (x->blk[i].cls == x->blk[j].cls)
                return eg_errf(x->err, EG_EDATA, x->csv.name, x->blk[i].line, 0,
                               "two blocks look %s (lines %ld and %ld); cannot tell which meter "
                               "channel each is", class_name(x->blk[i].cls), x->blk[j].line,
                               x->blk[i].line);
    return 0;
}

/* ---- emission ------------------------------------------------------------------------------- */

static int64_t period_of(int64_t len)
{
    return len == 900 ? ESPI_TIMEATTR_15_MINUTE : len == 1800 ? ESPI_TIMEATTR_30_MINUTE
         : len == 3600 ? ESPI_TIMEATTR_60_MINUTE : len == 86400 ? ESPI_TIMEATTR_24_HOUR : ESPI_NONE;
}

static int declare(shc_ctx *x, int i)
{
    const shc_block *b = &x->blk[i];
    const char *acct = x->account[0] ? x->account : "account";
    tr_channel c;
    memset(&c, 0, sizeof c);
    c.tou = c.cpp = c.consumption_tier = ESPI_NONE; /* 0 would be a code */
    c.index = i;
    snprintf(c.key, sizeof c.key, "smarthub-csv:%s:%s", acct, class_name(b->cls));
    snprintf(c.usage_point, sizeof c.usage_point, "smarthub-csv:%s", acct);
    snprintf(c.name, sizeof c.name, "SmartHub CSV %s %s", acct,
             b->cls == SHC_FORWARD ? "Consumption" : b->cls == SHC_REVERSE ? "Generation"
             : b->cls == SHC_NET ? "Net" : "Demand");
    c.service_kind = ESPI_SERVICE_ELECTRICITY;
    c.flow_direction = b->cls == SHC_REVERSE ? ESPI_FLOW_REVERSE : b->cls == SHC_NET ? ESPI_FLOW_NET
                                                                                   : ESPI_FLOW_FORWARD;
    c.uom = b->cls == SHC_DEMAND_CLASS ? ESPI_UOM_W : ESPI_UOM_WH;
    c.power_of_ten_multiplier = 0;
    c.interval_length = b->end > b->begin ? x->rows[b->begin].duration : 0;
    c.commodity = ESPI_COMMODITY_ELECTRICITY_SECONDARY;
    c.kind = b->cls == SHC_DEMAND_CLASS ? ESPI_KIND_DEMAND : ESPI_KIND_ENERGY;
    c.accumulation = b->cls == SHC_DEMAND_CLASS ? ESPI_ACCUM_INDICATING : ESPI_ACCUM_DELTA_DATA;
    c.measuring_period = period_of(c.interval_length);
    c.currency = b->old_format ? ESPI_CURRENCY_USD : ESPI_NONE;
    return x->sink->channel ? x->sink->channel(x->sink->ctx, &c, x->err) : 0;
}

static int emit(shc_ctx *x)
{
    int rc = 0;
    for (int i = 0; i < x->n_blk && rc == 0; i++) rc = declare(x, i);
    for (int i = 0; i < x->n_blk && rc == 0; i++) {
        const shc_block *b = &x->blk[i];
        for (size_t k = b->begin; k < b->end && rc == 0; k++) {
            const shc_row *w = &x->rows[k];
            int64_t v = b->cls == SHC_REVERSE && w->value < 0 ? -w->value : w->value;
            tr_reading r = {i, w->start, w->duration, v, w->cost, ESPI_NONE, w->flags, w->line};
            rc = x->sink->reading(x->sink->ctx, &r, x->err);
        }
    }
    return rc;
}

int tr_smarthub_csv_read(FILE *in, const char *name, const tr_options *opts, const tr_sink *sink,
                         eg_err *err)
{
    shc_ctx *x = NULL;
    int rc;
    if (!opts || !opts->tz || !sink || !sink->reading)
        return eg_errf(err, EG_EUSAGE, name, 0, 0, "tr_smarthub_csv_read needs a zone and a reading sink");
    if (!(x = calloc(1, sizeof *x))) return eg_errf(err, EG_ENOMEM, name, 0, 0, "out of memory");
    x->o = opts;
    x->sink = sink;
    x->err = err;
    x->open = x->next_unit = -1;
    if ((rc = tr_csv_init(&x->csv, in, name, err))) goto done;
    while ((rc = tr_csv_next(&x->csv, err)) == 1)
        if ((rc = handle_row(x))) goto done;
    if (rc < 0) goto done;
    if (x->n_rows == 0) {
        rc = eg_errf(err, EG_EDATA, name, 0, 0,
                     "no usage rows (expected lines like \" 2024-01-08 00:00 to 2024-01-08 01:00,"
                     "0.770,,\" -- is this a SmartHub CSV download?)");
        goto done;
    }
    if ((rc = classify(x))) goto done;
    rc = emit(x);
done:
    if (x) {
        tr_csv_release(&x->csv);
        free(x->rows);
    }
    free(x);
    return rc < 0 ? rc : 0;
}
