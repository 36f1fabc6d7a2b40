/* bill.c -- co-op bills from CSV tables and bill text -> tr_bill + readings.
 *
 * Three readers share one record (bill_rec) and one way out (bill_emit):
 *
 *  - billing-history CSV: one row per bill.  Columns are found by header
 *    name; every column whose name says charge, fee, credit, adjustment,
 *    tax, round_up, rider or discount (but not total_*) is a charge, labelled
 *    by its name ("power_cost_adjustment" -> "Power Cost Adjustment").
 *    Checks: kwh_used = (present_reading - previous_reading) x multiplier,
 *    billing_days = service_to - service_from, the charges sum to
 *    total_current_charges.
 *  - line-items CSV: rows `bill_date,line_item,quantity,unit,rate,amount`
 *    grouped by (account, bill_date), consecutive.  kWh and kW quantities
 *    become LineItem measurements with the rate as unitCost (per kWh/kW,
 *    emit.h); amount must be quantity x rate to the cent (else a warning).
 *    It carries no billing period: the emitter merges it with the same bill
 *    from the history CSV (key = account + bill date) and refuses it alone.
 *  - bill text (`pdftotext -layout`, or bill_pdf.c's rebuild of a PDF): two
 *    columns interleave on one line, so fields are found by their labels,
 *    never by position: "Billing Period: MM/DD/YYYY - MM/DD/YYYY for N
 *    Days", "Bill Date:", "Account Number:"/"Account #:", "Meter Number:",
 *    "Prior Reading:", "Present Reading:", "Multiplier:", "kWh Use:",
 *    "Demand (kW):".  A money line is one that ENDS in an amount ("$448.26",
 *    "-$0.50"); its label is the text before it back to a run of two blanks
 *    (the column gap).  Charges are the money lines after "Current Bill
 *    Information" (else after "Account Information") up to the "Current
 *    Charges ..." line, which holds the total; balance lines (Previous
 *    Balance, Payment Received, Balance Forward, Total Amount Due) are never
 *    charges.  A label given twice must agree.
 *
 * ESPI itemKind (LineItem), decided from the label:
 *    tax                                   -> 5 tax
 *    round up (Operation Round Up: a donation to the co-op's charity fund,
 *      not a service charge; ESPI has no "donation")  -> 4 administrative fee
 *    power cost / wholesale power / fuel adjustment (PCA: wholesale energy
 *      cost passed through)                -> 1 generation fee, 6 when negative
 *    credit / discount / rebate (paperless, bank draft, capital credit)
 *                                          -> 8 administrative credit
 *    energy / demand / usage (billed per kWh or kW) -> 3 energy usage fee
 *    facility / grid access / service / customer / basic / delivery /
 *      distribution / transmission (fixed charge for the wires)
 *                                          -> 2 delivery fee, 7 when negative
 *    anything else: 4 (8 when negative), with a warning naming the label.
 * Amounts keep their sign, so the items add up to the current charges.
 *
 * Time: bills name local calendar days.  A period runs from local midnight
 * of service_from to local midnight of service_to (the read date, which is
 * also the next period's first day); days = service_to - service_from.  The
 * statement date is local midnight of the bill date.  State is per file: the
 * accounts seen (their channel and last period end) and, for line items,
 * the bill being grouped -- nothing grows with the file. */
#include "bill.h"

#include <ctype.h>
#include <regex.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "decimal.h"
#include "trcsv.h"

#define ACCOUNT_MAX 40
#define LABEL_MAX 128
#define MONEY_FLAGS (TR_DEC_CURRENCY | TR_DEC_THOUSANDS | TR_DEC_EXACT)
#define SKIPPED 1 /* a parse step reported a bad row in lenient mode */

typedef struct bill_date {
    int y, mo, d;                  /* y == 0: absent */
} bill_date;

/* One bill as read, before times are resolved. */
typedef struct bill_rec {
    char account[ACCOUNT_MAX];
    bill_date billed, from, to;
    long days;                     /* stated length, -1 absent */
    int64_t prior, present;        /* register readings x 1000, ESPI_NONE */
    int64_t multiplier;            /* x 1000, ESPI_NONE = 1 */
    int64_t wh, demand_w, total;   /* ESPI_NONE when absent */
    tr_line_item items[TR_MAX_LINE_ITEMS];
    int n_items;
    long line, total_line, kwh_line;
} bill_rec;

typedef struct bill_account {
    char account[ACCOUNT_MAX];
    int channel;                   /* index, -1 until a reading needs it */
    int64_t last_end;              /* end of the previous period, ESPI_NONE */
} bill_account;

typedef struct bill_ctx {
    const char *name;
    const tr_options *o;
    const tr_sink *sink;
    eg_err *err;
    bill_account acc[TR_MAX_CHANNELS];
    int n_acc, n_ch;
} bill_ctx;

/* ---- small parsers ---------------------------------------------------------- */

static void rec_init(bill_rec *r)
{
    memset(r, 0, sizeof *r);
    r->days = -1;
    r->prior = r->present = r->multiplier = ESPI_NONE;
    r->wh = r->demand_w = r->total = ESPI_NONE;
}

static int parse_uint(const char **p, int min_digits, int max_digits, int *out)
{
    int v = 0, n = 0;
    while (isdigit((unsigned char)**p) && n < max_digits) v = v * 10 + (*(*p)++ - '0'), n++;
    if (n < min_digits) return -1;
    *out = v;
    return 0;
}

static int valid_date(const bill_date *d)
{
    return d->y >= 1900 && d->y <= 9999 && d->mo >= 1 && d->mo <= 12 && d->d >= 1 &&
           d->d <= tr_days_in_month(d->y, d->mo);
}

/* "YYYY-MM-DD" or "MM/DD/YYYY" (the whole of s up to end). */
static int parse_date_n(const char *s, const char *end, bill_date *out)
{
    const char *p = s;
    bill_date d = {0, 0, 0};
    while (p < end && *p == ' ') p++;
    while (end > p && end[-1] == ' ') end--;
    if (end - p == 10 && p[4] == '-') {
        if (parse_uint(&p, 4, 4, &d.y) || *p++ != '-' || parse_uint(&p, 2, 2, &d.mo) ||
            *p++ != '-' || parse_uint(&p, 2, 2, &d.d))
            return -1;
    } else if (parse_uint(&p, 1, 2, &d.mo) || p >= end || *p++ != '/' ||
               parse_uint(&p, 1, 2, &d.d) || p >= end || *p++ != '/' || parse_uint(&p, 4, 4, &d.y)) {
        return -1;
    }
    if (p != end || !valid_date(&d)) return -1;
    *out = d;
    return 0;
}

static int parse_date(const char *s, bill_date *out)
{
    return parse_date_n(s, s + strlen(s), out);
}

static int64_t days_between(const bill_date *a, const bill_date *b)
{
    return tr_days_from_civil(b->y, b->mo, b->d) - tr_days_from_civil(a->y, a->mo, a->d);
}

static void date_iso(const bill_date *d, char out[16])
{
    snprintf(out, 16, "%04d-%02d-%02d", d->y % 10000, d->mo % 100, d->d % 100);
}

static int parse_account(const char *s, char out[ACCOUNT_MAX])
{
    size_t n = 0;
    for (; *s; s++) {
        if (!isalnum((unsigned char)*s) && *s != '-') return -1;
        if (n + 1 >= ACCOUNT_MAX) return -1;
        out[n++] = *s;
    }
    out[n] = 0;
    return n ? 0 : -1;
}

/* Case-insensitive substring test. */
static int has_word(const char *s, const char *w)
{
    size_t n = strlen(w);
    for (; *s; s++)
        if (strncasecmp(s, w, n) == 0) return 1;
    return 0;
}

/* Does text[0..len) contain needle? */
static int contains(const char *text, size_t len, const char *needle)
{
    size_t k = strlen(needle);
    for (size_t i = 0; i + k <= len; i++)
        if (text[i] == needle[0] && memcmp(text + i, needle, k) == 0) return 1;
    return 0;
}

/* ---- item kinds ---------------------------------------------------------------- */

/* ESPI itemKind of a charge label and sign (file comment); *known = 0 when
 * the label matched no rule. */
static int64_t item_kind_of(const char *label, int64_t amount, int *known)
{
    static const char *const generation[] = {"power cost", "wholesale power", "fuel", "pca"};
    static const char *const credit[] = {"credit", "discount", "rebate"};
    static const char *const usage[] = {"energy", "demand", "usage", "kwh"};
    static const char *const delivery[] = {"facility", "grid access", "service", "customer",
                                           "basic", "delivery", "distribution", "transmission"};
    int neg = amount < 0;
    *known = 1;
    if (has_word(label, "tax")) return ESPI_ITEM_TAX;
    if (has_word(label, "round up") || has_word(label, "roundup")) return ESPI_ITEM_ADMIN_FEE;
    for (size_t i = 0; i < sizeof generation / sizeof *generation; i++)
        if (has_word(label, generation[i]))
            return neg ? ESPI_ITEM_GENERATION_CREDIT : ESPI_ITEM_GENERATION_FEE;
    for (size_t i = 0; i < sizeof credit / sizeof *credit; i++)
        if (has_word(label, credit[i])) return ESPI_ITEM_ADMIN_CREDIT;
    for (size_t i = 0; i < sizeof usage / sizeof *usage; i++)
        if (has_word(label, usage[i])) return ESPI_ITEM_USAGE_FEE;
    for (size_t i = 0; i < sizeof delivery / sizeof *delivery; i++)
        if (has_word(label, delivery[i]))
            return neg ? ESPI_ITEM_DELIVERY_CREDIT : ESPI_ITEM_DELIVERY_FEE;
    *known = 0;
    return neg ? ESPI_ITEM_ADMIN_CREDIT : ESPI_ITEM_ADMIN_FEE;
}

/* Append a charge to r.  0, or a negative code (too many items, or the
 * sink stopped us on the unknown-label warning). */
static int add_item(bill_ctx *x, bill_rec *r, const char *label, int64_t amount, long line)
{
    int known;
    if (r->n_items >= TR_MAX_LINE_ITEMS)
        return eg_errf(x->err, EG_ELIMIT, x->name, line, 0,
                       "more than %d charges on one bill (expected a bill's few lines)",
                       TR_MAX_LINE_ITEMS);
    tr_line_item *it = &r->items[r->n_items++];
    memset(it, 0, sizeof *it);
    snprintf(it->note, sizeof it->note, "%s", label);
    it->amount = amount;
    it->item_kind = item_kind_of(label, amount, &known);
    it->quantity = it->quantity_uom = it->unit_cost = ESPI_NONE;
    if (known) return 0;
    return tr_report_skip(x->sink, TR_SKIP_WARNING, line, x->err,
                          "charge \"%s\" is of no known kind; written as an administrative %s "
                          "(ESPI itemKind %lld)", label, amount < 0 ? "credit" : "fee",
                          (long long)it->item_kind);
}

static int64_t items_sum(const bill_rec *r)
{
    int64_t s = 0;
    for (int i = 0; i < r->n_items; i++) s += r->items[i].amount;
    return s;
}

/* ---- checks shared by the readers ------------------------------------------------ */

/* A mismatch: an error, or in lenient mode a warning (the bill is kept). */
#if defined(__GNUC__)
__attribute__((format(printf, 4, 5)))
#endif
static int mismatch(bill_ctx *x, long line, const char *kept, const char *fmt, ...)
{
    char msg[TR_REASON_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (!x->o->lenient) return eg_errf(x->err, EG_EDATA, x->name, line, 0, "%s", msg);
    return tr_report_skip(x->sink, TR_SKIP_WARNING, line, x->err, "%s (kept %s)", msg, kept);
}

/* kWh = (present - prior) x multiplier, all at 3 decimals. */
static int check_registers(bill_ctx *x, const bill_rec *r)
{
    char a[32], b[32], m[32], u[32], v[32];
    int64_t diff, prod, mult = r->multiplier == ESPI_NONE ? 1000 : r->multiplier;
    if (r->prior == ESPI_NONE || r->present == ESPI_NONE || r->wh == ESPI_NONE) return 0;
    diff = r->present - r->prior;
    if (!__builtin_mul_overflow(diff, mult, &prod) && prod == r->wh * 1000) return 0;
    tr_dec_format(r->present, 3, a, sizeof a);
    tr_dec_format(r->prior, 3, b, sizeof b);
    tr_dec_format(mult, 3, m, sizeof m);
    tr_dec_format(r->wh, 3, u, sizeof u);
    if (__builtin_mul_overflow(diff, mult, &prod)) snprintf(v, sizeof v, "(too large)");
    else tr_dec_format(prod / 1000, 3, v, sizeof v);
    return mismatch(x, r->kwh_line, "the billed kWh",
                    "billed kWh %s differs from (present - prior reading) x multiplier = "
                    "(%s - %s) x %s = %s (expected them equal; a meter change or rollover?)",
                    u, a, b, m, v);
}

static int check_items_total(bill_ctx *x, const bill_rec *r)
{
    char a[32], b[32];
    int64_t sum = items_sum(r);
    if (r->total == ESPI_NONE || sum == r->total) return 0;
    return mismatch(x, r->total_line, "the stated total",
                    "the charges sum to %s but the current charges total is %s (expected them "
                    "equal)", tr_dec_format(sum, 5, a, sizeof a), tr_dec_format(r->total, 5, b, sizeof b));
}

/* ---- emitting -------------------------------------------------------------------- */

static int find_account(bill_ctx *x, const char *account, long line)
{
    for (int i = 0; i < x->n_acc; i++)
        if (strcmp(x->acc[i].account, account) == 0) return i;
    if (x->n_acc >= TR_MAX_CHANNELS)
        return eg_errf(x->err, EG_ELIMIT, x->name, line, 0,
                       "more than %d accounts in one file (expected one account's bills)",
                       TR_MAX_CHANNELS);
    bill_account *a = &x->acc[x->n_acc];
    snprintf(a->account, sizeof a->account, "%s", account);
    a->channel = -1;
    a->last_end = ESPI_NONE;
    return x->n_acc++;
}

static int declare_channel(bill_ctx *x, bill_account *a)
{
    tr_channel c;
    int rc;
    memset(&c, 0, sizeof c);
    c.tou = c.cpp = c.consumption_tier = ESPI_NONE; /* 0 would be a code */
    c.index = x->n_ch;
    snprintf(c.key, sizeof c.key, "bill:%s:billed-kwh", a->account);
    snprintf(c.usage_point, sizeof c.usage_point, "bill:%s", a->account);
    snprintf(c.name, sizeof c.name, "Account %s billed energy", a->account);
    c.service_kind = ESPI_SERVICE_ELECTRICITY;
    c.flow_direction = ESPI_FLOW_FORWARD;
    c.uom = ESPI_UOM_WH;
    c.power_of_ten_multiplier = 0;
    c.interval_length = TR_BILL_INTERVAL;
    c.commodity = ESPI_COMMODITY_ELECTRICITY_SECONDARY;
    c.kind = ESPI_KIND_ENERGY;
    c.accumulation = ESPI_ACCUM_DELTA_DATA;
    c.measuring_period = ESPI_NONE;
    c.currency = ESPI_NONE;
    if ((rc = x->sink->channel ? x->sink->channel(x->sink->ctx, &c, x->err) : 0)) return rc;
    a->channel = x->n_ch++;
    return 0;
}

static int64_t local_midnight(const bill_ctx *x, const bill_date *d)
{
    int64_t t = ESPI_NONE;
    if (tr_tz_day_bounds(x->o->tz, d->y, d->mo, d->d, &t, NULL)) return ESPI_NONE;
    return t;
}

/* The billing period of r in UTC, checked against its stated days and the
 * account's previous period.  0, SKIPPED, or negative. */
static int resolve_period(bill_ctx *x, const bill_rec *r, const bill_account *a, int64_t *start,
                          int64_t *end)
{
    char f[16], t[16];
    int rc;
    date_iso(&r->from, f);
    date_iso(&r->to, t);
    long days = (long)days_between(&r->from, &r->to);
    if (days <= 0)
        return (rc = tr_row_problem(x->sink, x->o, x->name, r->line, x->err,
                                    "billing period %s to %s does not move forward (expected the "
                                    "read date after the first day)", f, t)) < 0 ? rc : SKIPPED;
    if (r->days >= 0 && r->days != days &&
        (rc = mismatch(x, r->line, "the dates", "billing period %s to %s is %ld days but the bill "
                       "says %ld (expected days = read date - first day)", f, t, days, r->days)))
        return rc;
    *start = local_midnight(x, &r->from);
    *end = local_midnight(x, &r->to);
    if (*start == ESPI_NONE || *end == ESPI_NONE)
        return eg_errf(x->err, EG_EDATA, x->name, r->line, 0, "date %s or %s is out of range", f, t);
    if (a->last_end != ESPI_NONE && *start < a->last_end)
        return (rc = tr_row_problem(x->sink, x->o, x->name, r->line, x->err,
                                    "billing period %s to %s starts before the previous bill's "
                                    "read date (expected bills in date order, no overlaps)",
                                    f, t)) < 0 ? rc : SKIPPED;
    return 0;
}

/* Hand one bill out: its period reading (when it has a period) and the bill. */
static int bill_emit(bill_ctx *x, const bill_rec *r)
{
    char day[16];
    int64_t start = ESPI_NONE, end = ESPI_NONE;
    int i, rc;
    if ((i = find_account(x, r->account, r->line)) < 0) return i;
    bill_account *a = &x->acc[i];
    if (r->from.y) {
        if ((rc = resolve_period(x, r, a, &start, &end))) return rc == SKIPPED ? 0 : rc;
        if (a->channel < 0 && (rc = declare_channel(x, a))) return rc;
        if (r->wh != ESPI_NONE) {
            tr_reading rd = {a->channel, start, end - start, r->wh, ESPI_NONE, ESPI_NONE, 0, r->line};
            if ((rc = x->sink->reading(x->sink->ctx, &rd, x->err))) return rc;
        }
        a->last_end = end;
    }
    if (!x->sink->bill) return 0;
    tr_bill b;
    memset(&b, 0, sizeof b);
    date_iso(&r->billed, day);
    snprintf(b.usage_point, sizeof b.usage_point, "bill:%s", r->account);
    snprintf(b.key, sizeof b.key, "bill:%s:%s", r->account, day);
    b.start = start;
    b.duration = start == ESPI_NONE ? ESPI_NONE : end - start;
    b.statement_date = local_midnight(x, &r->billed);
    b.consumption = r->wh;
    b.peak_demand = r->demand_w;
    b.bill_total = r->total;
    b.currency = ESPI_CURRENCY_USD;
    b.items = r->items;
    b.n_items = r->n_items;
    b.line = r->line;
    return x->sink->bill(x->sink->ctx, &b, x->err);
}

/* ---- CSV: shared ------------------------------------------------------------------- */

typedef struct csv_cols {
    int account, bill_date, from, to, days, prior, present, mult, kwh, demand, total;
    int item, quantity, unit, rate, amount;
    int charge[TR_MAX_LINE_ITEMS];
    int n_charge;
} csv_cols;

typedef struct csv_ctx {
    bill_ctx b;
    tr_csv csv;
    csv_cols col;
    bill_rec rec;                  /* line items: the bill being grouped */
    int open;                      /* rec holds rows */
} csv_ctx;

#define CSV_PROBLEM(x, ...) \
    tr_row_problem((x)->b.sink, (x)->b.o, (x)->b.name, tr_csv_line(&(x)->csv), (x)->b.err, __VA_ARGS__)

static const char *fld(const csv_ctx *x, int col)
{
    return col >= 0 ? tr_csv_field(&x->csv, col) : "";
}

/* Decimal field at scale into *v (ESPI_NONE when empty and optional).
 * 0, SKIPPED, or negative. */
static int csv_decimal(csv_ctx *x, int col, const char *what, int scale, unsigned flags,
                       int required, int64_t *v)
{
    const char *s = fld(x, col);
    int rc = tr_dec_parse_str(s, scale, flags, v, NULL);
    if (rc == TR_DEC_EEMPTY && !required) {
        *v = ESPI_NONE;
        return 0;
    }
    if (rc == 0) return 0;
    rc = CSV_PROBLEM(x, "%s \"%s\" %s (expected a number%s)", what, s, tr_dec_strerror(rc),
                     flags & TR_DEC_CURRENCY ? " of dollars and cents, e.g. 38.00" : "");
    return rc < 0 ? rc : SKIPPED;
}

static int csv_date(csv_ctx *x, int col, const char *what, bill_date *d)
{
    const char *s = fld(x, col);
    if (parse_date(s, d) == 0) return 0;
    int rc = CSV_PROBLEM(x, "%s \"%s\" is not a date (expected YYYY-MM-DD or MM/DD/YYYY)", what, s);
    return rc < 0 ? rc : SKIPPED;
}

static int csv_account(csv_ctx *x, char out[ACCOUNT_MAX])
{
    const char *s = fld(x, x->col.account);
    if (x->col.account < 0) {
        snprintf(out, ACCOUNT_MAX, "unknown");
        return 0;
    }
    if (parse_account(s, out) == 0) return 0;
    int rc = CSV_PROBLEM(x, "account_number \"%s\" is not an account number (expected letters "
                            "and digits)", s);
    return rc < 0 ? rc : SKIPPED;
}

/* "power_cost_adjustment" -> "Power Cost Adjustment". */
static void label_of_column(const char *name, char *out, size_t size)
{
    size_t n = 0;
    int word_start = 1;
    for (; *name && n + 1 < size; name++) {
        char c = *name == '_' ? ' ' : *name;
        out[n++] = word_start ? (char)toupper((unsigned char)c) : (char)tolower((unsigned char)c);
        word_start = c == ' ';
    }
    out[n] = 0;
}

static int is_charge_column(const char *name)
{
    static const char *const words[] = {"charge", "fee", "credit", "adjustment", "tax",
                                        "round_up", "rider", "discount", "surcharge"};
    if (strncasecmp(name, "total", 5) == 0) return 0;
    for (size_t i = 0; i < sizeof words / sizeof *words; i++)
        if (has_word(name, words[i])) return 1;
    return 0;
}

static int require_col(csv_ctx *x, int *col, const char *name, const char *layout)
{
    if ((*col = tr_csv_column(&x->csv, name)) >= 0) return 0;
    return eg_errf(x->b.err, EG_EDATA, x->b.name, 1, 0, "%s header has no %s column (expected %s)",
                   layout, name, layout[0] == 'b'
                       ? "account_number,bill_date,service_from,service_to,...,kwh_used,...,"
                         "total_current_charges"
                       : "account_number,bill_date,line_item,quantity,unit,rate,amount");
}

/* ---- CSV: billing history ------------------------------------------------------------- */

static int history_header(csv_ctx *x)
{
    csv_cols *c = &x->col;
    const char *h = "billing-history CSV";
    int rc;
    if ((rc = require_col(x, &c->bill_date, "bill_date", h)) ||
        (rc = require_col(x, &c->from, "service_from", h)) ||
        (rc = require_col(x, &c->to, "service_to", h)) || (rc = require_col(x, &c->kwh, "kwh_used", h)) ||
        (rc = require_col(x, &c->total, "total_current_charges", h)))
        return rc;
    c->account = tr_csv_column(&x->csv, "account_number");
    c->days = tr_csv_column(&x->csv, "billing_days");
    c->prior = tr_csv_column(&x->csv, "previous_reading");
    c->present = tr_csv_column(&x->csv, "present_reading");
    c->mult = tr_csv_column(&x->csv, "multiplier");
    c->demand = tr_csv_column(&x->csv, "demand_kw");
    c->n_charge = 0;
    for (int i = 0; i < x->csv.nhead; i++) {
        if (!is_charge_column(x->csv.head + x->csv.head_off[i])) continue;
        if (c->n_charge >= TR_MAX_LINE_ITEMS)
            return eg_errf(x->b.err, EG_ELIMIT, x->b.name, 1, 0, "more than %d charge columns",
                           TR_MAX_LINE_ITEMS);
        c->charge[c->n_charge++] = i;
    }
    if (c->n_charge == 0)
        return eg_errf(x->b.err, EG_EDATA, x->b.name, 1, 0,
                       "billing-history CSV header has no charge columns (expected e.g. "
                       "energy_charge, sales_tax)");
    return 0;
}

/* Fill r from the current history row.  0, SKIPPED or negative. */
static int history_row_parse(csv_ctx *x, bill_rec *r)
{
    const csv_cols *c = &x->col;
    const unsigned num = TR_DEC_THOUSANDS | TR_DEC_EXACT;
    int64_t days = ESPI_NONE;
    int rc;
    rec_init(r);
    r->line = r->total_line = r->kwh_line = tr_csv_line(&x->csv);
    if ((rc = csv_account(x, r->account)) || (rc = csv_date(x, c->bill_date, "bill_date", &r->billed)) ||
        (rc = csv_date(x, c->from, "service_from", &r->from)) ||
        (rc = csv_date(x, c->to, "service_to", &r->to)) ||
        (rc = csv_decimal(x, c->days, "billing_days", 0, TR_DEC_EXACT, 0, &days)) ||
        (rc = csv_decimal(x, c->prior, "previous_reading", 3, num, 0, &r->prior)) ||
        (rc = csv_decimal(x, c->present, "present_reading", 3, num, 0, &r->present)) ||
        (rc = csv_decimal(x, c->mult, "multiplier", 3, num, 0, &r->multiplier)) ||
        (rc = csv_decimal(x, c->kwh, "kwh_used", 3, num, 1, &r->wh)) ||
        (rc = csv_decimal(x, c->demand, "demand_kw", 3, num, 0, &r->demand_w)) ||
        (rc = csv_decimal(x, c->total, "total_current_charges", 5, MONEY_FLAGS, 1, &r->total)))
        return rc;
    r->days = days == ESPI_NONE ? -1 : (long)days;
    for (int i = 0; i < c->n_charge; i++) {
        char label[LABEL_MAX];
        int64_t amount;
        int col = c->charge[i];
        label_of_column(x->csv.head + x->csv.head_off[col], label, sizeof label);
        if ((rc = csv_decimal(x, col, label, 5, MONEY_FLAGS, 0, &amount))) return rc;
        if (amount != ESPI_NONE && (rc = add_item(&x->b, r, label, amount, r->line))) return rc;
    }
    return 0;
}

static int history_row(csv_ctx *x)
{
    bill_rec *r = &x->rec;
    int rc = history_row_parse(x, r);
    if (rc) return rc == SKIPPED ? 0 : rc;
    if ((rc = check_registers(&x->b, r)) || (rc = check_items_total(&x->b, r))) return rc;
    return bill_emit(&x->b, r);
}

/* ---- CSV: line items -------------------------------------------------------------------- */

static int items_header(csv_ctx *x)
{
    csv_cols *c = &x->col;
    const char *h = "line-items CSV";
    int rc;
    if ((rc = require_col(x, &c->bill_date, "bill_date", h)) ||
        (rc = require_col(x, &c->item, "line_item", h)) || (rc = require_col(x, &c->amount, "amount", h)))
        return rc;
    c->account = tr_csv_column(&x->csv, "account_number");
    c->quantity = tr_csv_column(&x->csv, "quantity");
    c->unit = tr_csv_column(&x->csv, "unit");
    c->rate = tr_csv_column(&x->csv, "rate");
    return 0;
}

/* amount against quantity x rate: within half a cent, else a warning. */
static int check_item_product(csv_ctx *x, const char *label, int64_t q3, int64_t rate8, int64_t amount5)
{
    int64_t prod, want, diff;
    if (q3 == ESPI_NONE || rate8 == ESPI_NONE) return 0;
    if (__builtin_mul_overflow(q3, rate8, &prod) || __builtin_mul_overflow(amount5, 1000000, &want))
        return 0; /* both at 11 decimals; too large to check */
    diff = prod > want ? prod - want : want - prod;
    if (diff <= 500000000) return 0; /* half a cent at 11 decimals */
    return tr_report_skip(x->b.sink, TR_SKIP_WARNING, tr_csv_line(&x->csv), x->b.err,
                          "%s amount %s is not quantity %s x rate %s to the cent (kept the amount)",
                          label, fld(x, x->col.amount), fld(x, x->col.quantity), fld(x, x->col.rate));
}

/* Measurement and rate of a line item with a kWh or kW quantity. */
static void item_measure(tr_line_item *it, const char *unit, int64_t q3, int64_t rate8)
{
    int kwh = strcasecmp(unit, "kWh") == 0, kw = strcasecmp(unit, "kW") == 0;
    if ((!kwh && !kw) || q3 == ESPI_NONE) return;
    it->quantity = q3; /* Wh or W */
    it->quantity_uom = kwh ? ESPI_UOM_WH : ESPI_UOM_W;
    if (rate8 != ESPI_NONE && rate8 % 1000 == 0) it->unit_cost = rate8 / 1000; /* per kWh / kW */
}

static int items_flush(csv_ctx *x)
{
    if (!x->open) return 0;
    x->open = 0;
    x->rec.total = items_sum(&x->rec);
    return bill_emit(&x->b, &x->rec);
}

static int items_row(csv_ctx *x)
{
    const csv_cols *c = &x->col;
    char account[ACCOUNT_MAX], label[LABEL_MAX];
    bill_date d;
    int64_t q, rate, amount;
    int rc;
    if ((rc = csv_account(x, account)) || (rc = csv_date(x, c->bill_date, "bill_date", &d)) ||
        (rc = csv_decimal(x, c->quantity, "quantity", 3, TR_DEC_THOUSANDS | TR_DEC_EXACT, 0, &q)) ||
        (rc = csv_decimal(x, c->rate, "rate", 8, TR_DEC_CURRENCY | TR_DEC_EXACT, 0, &rate)) ||
        (rc = csv_decimal(x, c->amount, "amount", 5, MONEY_FLAGS, 1, &amount)))
        return rc == SKIPPED ? 0 : rc;
    snprintf(label, sizeof label, "%s", fld(x, c->item));
    if (!label[0])
        return (rc = CSV_PROBLEM(x, "line_item is empty (expected the charge's name)")) < 0 ? rc : 0;
    int same = x->open && strcmp(account, x->rec.account) == 0 && d.y == x->rec.billed.y &&
               d.mo == x->rec.billed.mo && d.d == x->rec.billed.d;
    if (!same) {
        if (x->open && days_between(&x->rec.billed, &d) <= 0 && strcmp(account, x->rec.account) == 0)
            return (rc = CSV_PROBLEM(x, "bill_date %s comes after a later bill's rows (expected "
                                        "each bill's rows together, bills in date order)",
                                     fld(x, c->bill_date))) < 0 ? rc : 0;
        if ((rc = items_flush(x))) return rc;
        rec_init(&x->rec);
        snprintf(x->rec.account, sizeof x->rec.account, "%s", account);
        x->rec.billed = d;
        x->rec.line = tr_csv_line(&x->csv);
        x->open = 1;
    }
    if ((rc = add_item(&x->b, &x->rec, label, amount, tr_csv_line(&x->csv)))) return rc;
    item_measure(&x->rec.items[x->rec.n_items - 1], fld(x, c->unit), q, rate);
    return check_item_product(x, label, q, rate, amount);
}

int tr_bill_csv_read(FILE *in, const char *name, const tr_options *opts, const tr_sink *sink,
                     eg_err *err)
{
    csv_ctx *x = NULL;
    int rc, items;
    if (!opts || !opts->tz || !sink || !sink->reading)
        return eg_errf(err, EG_EUSAGE, name, 0, 0, "tr_bill_csv_read needs a zone and a reading sink");
    if (!(x = calloc(1, sizeof *x))) return eg_errf(err, EG_ENOMEM, name, 0, 0, "out of memory");
    x->b = (bill_ctx){name, opts, sink, err, {{{0}, 0, 0}}, 0, 0};
    if ((rc = tr_csv_init(&x->csv, in, name, err))) goto done;
    if ((rc = tr_csv_read_header(&x->csv, err))) goto done;
    items = tr_csv_column(&x->csv, "line_item") >= 0;
    if ((rc = items ? items_header(x) : history_header(x))) goto done;
    while ((rc = tr_csv_next(&x->csv, err)) == 1) {
        if (tr_csv_nfields(&x->csv) < x->csv.nhead) {
            rc = CSV_PROBLEM(x, "row has %d fields (expected %d, like the header)",
                             tr_csv_nfields(&x->csv), x->csv.nhead);
            if (rc) goto done;
            continue;
        }
        if ((rc = items ? items_row(x) : history_row(x))) goto done;
    }
    if (rc == 0 && items) rc = items_flush(x);
done:
    if (x) tr_csv_release(&x->csv);
    free(x);
    return rc < 0 ? rc : 0;
}

/* ---- bill text ------------------------------------------------------------------------- */

#define TEXT_LINE_MAX 4096

enum text_re {
    RE_ACCOUNT, RE_BILL_DATE, RE_PERIOD, RE_PRIOR, RE_PRESENT, RE_MULT, RE_KWH, RE_DEMAND, RE_COUNT
};

#define RE_DATE "([0-9]{1,2}/[0-9]{1,2}/[0-9]{4})"
#define RE_NUM "([0-9][0-9,]*(\\.[0-9]+)?)"
#define RE_SP "[[:space:]]*"

/* Labelled fields: the label, then its value.  Extended POSIX regexes,
 * searched anywhere in a line (the other column may come first). */
static const char *const text_patterns[RE_COUNT] = {
    "Account (Number|#):" RE_SP "([[:alnum:]-]+)",
    "Bill Date:" RE_SP RE_DATE,
    "Billing Period:" RE_SP RE_DATE RE_SP "-" RE_SP RE_DATE "([[:space:]]+for[[:space:]]+([0-9]+)"
    "[[:space:]]+Days?)?",
    "Prior Reading:" RE_SP RE_NUM,
    "Present Reading:" RE_SP RE_NUM,
    "Multiplier:" RE_SP RE_NUM,
    "kWh Used?:" RE_SP RE_NUM,
    "Demand \\(kW\\):" RE_SP RE_NUM,
};

/* Which submatch holds the value, and the label for messages. */
static const int text_group[RE_COUNT] = {2, 1, 1, 1, 1, 1, 1, 1};
static const char *const text_label[RE_COUNT] = {
    "Account Number:", "Bill Date:", "Billing Period:", "Prior Reading:", "Present Reading:",
    "Multiplier:", "kWh Use:", "Demand (kW):"};

typedef struct text_ctx {
    bill_ctx b;
    bill_rec rec;
    regex_t re[RE_COUNT];
    int n_re;                      /* compiled */
    long seen[RE_COUNT];           /* line a field was first found on, 0 = not yet */
    const char *marker;            /* where the charges start */
    int section;                   /* 0 before the charges, 1 in them, 2 after the total */
    long line;
    char buf[TEXT_LINE_MAX];
} text_ctx;

#define TEXT_PROBLEM(x, ...) eg_errf((x)->b.err, EG_EDATA, (x)->b.name, (x)->line, 0, __VA_ARGS__)

/* A field found again must say the same (a bill repeats Bill Date, Account). */
static int conflict(text_ctx *x, int k, const char *value)
{
    return TEXT_PROBLEM(x, "%s %s differs from line %ld (expected one bill per text)",
                        text_label[k], value, x->seen[k]);
}

static int set_number(text_ctx *x, int k, const char *value, int scale, int64_t *slot)
{
    int64_t v;
    int rc = tr_dec_parse_str(value, scale, TR_DEC_THOUSANDS | TR_DEC_EXACT, &v, NULL);
    if (rc)
        return TEXT_PROBLEM(x, "%s \"%s\" %s (expected e.g. 5123 or 14.3)", text_label[k], value,
                            tr_dec_strerror(rc));
    if (x->seen[k] && *slot != v) return conflict(x, k, value);
    *slot = v;
    return 0;
}

static int set_date(text_ctx *x, int k, const char *value, bill_date *slot)
{
    bill_date d;
    if (parse_date(value, &d))
        return TEXT_PROBLEM(x, "%s \"%s\" is not a date (expected MM/DD/YYYY)", text_label[k], value);
    if (x->seen[k] && (slot->y != d.y || slot->mo != d.mo || slot->d != d.d))
        return conflict(x, k, value);
    *slot = d;
    return 0;
}

/* Submatch g of the last match as a string (bounded). */
static const char *group(const char *line, const regmatch_t *m, int g, char *out, size_t size)
{
    size_t n = m[g].rm_so < 0 ? 0 : (size_t)(m[g].rm_eo - m[g].rm_so);
    if (n >= size) n = size - 1;
    if (n) memcpy(out, line + m[g].rm_so, n);
    out[n] = 0;
    return out;
}

static int period_field(text_ctx *x, const char *line, const regmatch_t *m)
{
    char a[16], b[16], n[16];
    bill_rec *r = &x->rec;
    bill_date from, to;
    if (parse_date(group(line, m, 1, a, sizeof a), &from) || parse_date(group(line, m, 2, b, sizeof b), &to))
        return TEXT_PROBLEM(x, "Billing Period %s - %s is not two dates (expected MM/DD/YYYY - "
                               "MM/DD/YYYY)", a, b);
    long days = m[4].rm_so >= 0 ? atol(group(line, m, 4, n, sizeof n)) : -1;
    if (x->seen[RE_PERIOD] && (days_between(&r->from, &from) || days_between(&r->to, &to)))
        return conflict(x, RE_PERIOD, a);
    r->from = from;
    r->to = to;
    r->days = days;
    r->line = x->line;
    return 0;
}

static int text_field(text_ctx *x, int k, const char *line, const regmatch_t *m)
{
    char v[64];
    bill_rec *r = &x->rec;
    int rc = 0;
    size_t end = (size_t)m[0].rm_eo;
    if (line[end] && line[end] != ' ')
        return TEXT_PROBLEM(x, "%s is followed by \"%.20s\" (expected a value alone)", text_label[k],
                            line + m[text_group[k]].rm_so);
    group(line, m, text_group[k], v, sizeof v);
    switch (k) {
    case RE_ACCOUNT:
        if (strlen(v) >= sizeof r->account)
            return TEXT_PROBLEM(x, "Account Number \"%.20s...\" is longer than %d characters",
                                v, ACCOUNT_MAX - 1);
        if (x->seen[k] && strcmp(r->account, v) != 0) return conflict(x, k, v);
        memcpy(r->account, v, strlen(v) + 1);
        break;
    case RE_BILL_DATE: rc = set_date(x, k, v, &r->billed); break;
    case RE_PERIOD: rc = period_field(x, line, m); break;
    case RE_PRIOR: rc = set_number(x, k, v, 3, &r->prior); break;
    case RE_PRESENT: rc = set_number(x, k, v, 3, &r->present); break;
    case RE_MULT: rc = set_number(x, k, v, 3, &r->multiplier); break;
    case RE_KWH:
        rc = set_number(x, k, v, 3, &r->wh);
        r->kwh_line = x->line;
        break;
    case RE_DEMAND: rc = set_number(x, k, v, 3, &r->demand_w); break;
    default: break;
    }
    if (!rc && !x->seen[k]) x->seen[k] = x->line;
    return rc;
}

/* Does the line END in an amount ("$448.26", "-$0.50", "$1,234.00")?  Then
 * *amount gets it and label the text before it back to the column gap (two
 * blanks) or the line start.  1 yes, 0 no. */
static int money_line(const char *line, char *label, size_t size, int64_t *amount)
{
    size_t n = strlen(line);
    while (n && line[n - 1] == ' ') n--;
    size_t t = n;
    while (t && line[t - 1] != ' ') t--;
    if (t == n || !memchr(line + t, '$', n - t) || n - t < 5 || line[n - 3] != '.') return 0;
    if (tr_dec_parse(line + t, n - t, 5, MONEY_FLAGS, amount, NULL)) return 0;
    size_t e = t;
    while (e && line[e - 1] == ' ') e--;
    size_t s = e;
    while (s && !(line[s - 1] == ' ' && s >= 2 && line[s - 2] == ' ')) s--;
    while (s < e && line[s] == ' ') s++;
    if (s == e || !isalpha((unsigned char)line[s])) return 0;
    snprintf(label, size, "%.*s", (int)(e - s), line + s);
    return 1;
}

static int balance_label(const char *label)
{
    static const char *const words[] = {"previous balance", "payment", "balance forward",
                                        "amount due", "total due", "past due", "balance"};
    for (size_t i = 0; i < sizeof words / sizeof *words; i++)
        if (has_word(label, words[i])) return 1;
    return 0;
}

static int is_total_label(const char *label)
{
    return strncasecmp(label, "Current Charges", 15) == 0 ||
           strncasecmp(label, "Total Current Charges", 21) == 0;
}

static int text_money(text_ctx *x, const char *line)
{
    char label[LABEL_MAX], a[32];
    int64_t amount;
    bill_rec *r = &x->rec;
    if (!money_line(line, label, sizeof label, &amount)) return 0;
    if (is_total_label(label)) {
        if (r->total_line && r->total != amount)
            return TEXT_PROBLEM(x, "%s %s differs from the current charges on line %ld", label,
                                tr_dec_format(amount, 5, a, sizeof a), r->total_line);
        r->total = amount;
        r->total_line = x->line;
        x->section = 2;
        return 0;
    }
    if (x->section != 1 || balance_label(label)) return 0;
    return add_item(&x->b, r, label, amount, x->line);
}

/* One line: fields anywhere in it, then the section marker, then money. */
static int text_line(text_ctx *x, const char *line)
{
    regmatch_t m[8];
    int rc;
    for (int k = 0; k < RE_COUNT; k++)
        if (regexec(&x->re[k], line, 8, m, 0) == 0 && (rc = text_field(x, k, line, m))) return rc;
    if (x->section == 0 && strstr(line, x->marker)) {
        x->section = 1;
        return 0;
    }
    return text_money(x, line);
}

/* Required fields, then the checks; then out. */
static int text_finish(text_ctx *x)
{
    static const int required[] = {RE_ACCOUNT, RE_BILL_DATE, RE_PERIOD, RE_KWH};
    bill_rec *r = &x->rec;
    int rc;
    for (size_t i = 0; i < sizeof required / sizeof *required; i++)
        if (!x->seen[required[i]])
            return TEXT_PROBLEM(x, "no \"%s\" field in the bill (expected it in the account "
                                   "information)", text_label[required[i]]);
    if (!r->total_line)
        return TEXT_PROBLEM(x, "no \"Current Charges\" total in the bill (expected a line like "
                               "\"Current Charges Due By 02/10/2025  $664.00\" after the charges)");
    if (r->n_items == 0)
        return TEXT_PROBLEM(x, "no charges before the \"Current Charges\" total (expected lines "
                               "like \"Energy Charge  $448.26\" after \"%s\")", x->marker);
    if ((rc = check_registers(&x->b, r)) || (rc = check_items_total(&x->b, r))) return rc;
    return bill_emit(&x->b, r);
}

/* Copy line [p, e) into x->buf: tabs to two blanks, other controls to one. */
static int text_copy_line(text_ctx *x, const char *p, const char *e)
{
    size_t n = 0;
    for (; p < e; p++) {
        unsigned char c = (unsigned char)*p;
        if (n + 3 >= sizeof x->buf)
            return TEXT_PROBLEM(x, "line is longer than %d bytes (expected bill text)", TEXT_LINE_MAX);
        if (c == 0) return TEXT_PROBLEM(x, "NUL byte in the text (expected pdftotext output)");
        if (c == '\t') x->buf[n++] = ' ', c = ' ';
        else if (c < 0x20) c = ' ';
        x->buf[n++] = (char)c;
    }
    x->buf[n] = 0;
    return 0;
}

int tr_bill_text_parse(const char *text, size_t len, const char *name, const tr_options *opts,
                       const tr_sink *sink, eg_err *err)
{
    text_ctx *x = NULL;
    int rc = 0;
    if (!opts || !opts->tz || !sink || !sink->reading)
        return eg_errf(err, EG_EUSAGE, name, 0, 0, "tr_bill_text_parse needs a zone and a reading sink");
    if (!(x = calloc(1, sizeof *x))) return eg_errf(err, EG_ENOMEM, name, 0, 0, "out of memory");
    x->b = (bill_ctx){name, opts, sink, err, {{{0}, 0, 0}}, 0, 0};
    rec_init(&x->rec);
    for (; x->n_re < RE_COUNT; x->n_re++)
        if (regcomp(&x->re[x->n_re], text_patterns[x->n_re], REG_EXTENDED)) {
            rc = eg_errf(err, EG_ESOFTWARE, name, 0, 0, "bad pattern %d", x->n_re);
            goto done;
        }
    x->marker = contains(text, len, "Current Bill Information") ? "Current Bill Information"
                                                                : "Account Information";
    for (const char *p = text, *end = text + len; p < end;) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *e = nl ? nl : end;
        x->line++;
        if ((rc = text_copy_line(x, p, e)) || (rc = text_line(x, x->buf))) goto done;
        p = nl ? nl + 1 : end;
    }
    rc = text_finish(x);
done:
    for (int k = 0; x && k < x->n_re; k++) regfree(&x->re[k]);
    free(x);
    return rc < 0 ? rc : 0;
}

/* Read all of `in` (at most max bytes) into a malloc'd buffer. */
static int slurp(FILE *in, const char *name, long max, char **out, size_t *len, eg_err *err)
{
    size_t cap = 8192, n = 0;
    char *buf = malloc(cap);
    if (!buf) return eg_errf(err, EG_ENOMEM, name, 0, 0, "out of memory");
    for (;;) {
        if (n == cap) {
            if ((long)cap > max) {
                free(buf);
                return eg_errf(err, EG_ELIMIT, name, 0, 0, "larger than %ld bytes (expected one "
                               "bill)", max);
            }
            char *grown = realloc(buf, cap * 2);
            if (!grown) {
                free(buf);
                return eg_errf(err, EG_ENOMEM, name, 0, 0, "out of memory");
            }
            buf = grown;
            cap *= 2;
        }
        size_t got = fread(buf + n, 1, cap - n, in);
        n += got;
        if (got == 0) break;
    }
    if (ferror(in)) {
        free(buf);
        return eg_errf(err, EG_EIO, name, 0, 0, "read error");
    }
    if ((long)n > max) {
        free(buf);
        return eg_errf(err, EG_ELIMIT, name, 0, 0, "larger than %ld bytes (expected one bill)", max);
    }
    *out = buf;
    *len = n;
    return 0;
}

int tr_bill_text_read(FILE *in, const char *name, const tr_options *opts, const tr_sink *sink,
                      eg_err *err)
{
    char *text = NULL;
    size_t len = 0;
    int rc = slurp(in, name, TR_BILL_TEXT_MAX, &text, &len, err);
    if (!rc) rc = tr_bill_text_parse(text, len, name, opts, sink, err);
    free(text);
    return rc;
}

int tr_bill_pdf_read(FILE *in, const char *name, const tr_options *opts, const tr_sink *sink,
                     eg_err *err)
{
    char *pdf = NULL, *text = NULL;
    size_t len = 0, tlen = 0;
    int rc = slurp(in, name, TR_BILL_PDF_MAX, &pdf, &len, err);
    if (!rc) rc = tr_bill_pdf_text((const unsigned char *)pdf, len, name, &text, &tlen, err);
    if (!rc) rc = tr_bill_text_parse(text, tlen, name, opts, sink, err);
    free(pdf);
    free(text);
    return rc;
}
