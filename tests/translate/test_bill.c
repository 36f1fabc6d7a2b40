/* test_bill.c -- bill.c and bill_pdf.c on samples/coop-bill: the sample
 * totals (24 bills, 96,764 kWh, $14,180.00 exactly), kWh = (present - prior)
 * x multiplier and items = total for every bill, contiguous billing periods
 * with their DST hour, line items with quantities and rates, the bill text
 * equal to the last CSV row, the PDF equal to the text, item kinds, and bad
 * input (wrong arithmetic, missing total, conflicting fields) as file:line
 * errors or, with --lenient, warnings. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "bill.h"

#define MAX_BILLS 64
#define ZONE "America/Chicago"

typedef struct kept_bill {
    tr_bill b;
    tr_line_item items[TR_MAX_LINE_ITEMS];
} kept_bill;

typedef struct collected {
    tr_channel ch[TR_MAX_CHANNELS];
    int n_ch;
    tr_reading r[MAX_BILLS];
    int n;
    kept_bill bills[MAX_BILLS];
    int n_bills;
    tr_skip skips[64];
    int n_skips;
} collected;

static int on_channel(void *ctx, const tr_channel *c, eg_err *err)
{
    collected *k = ctx;
    (void)err;
    assert_int_equal(c->index, k->n_ch);
    k->ch[k->n_ch++] = *c;
    return 0;
}

static int on_reading(void *ctx, const tr_reading *r, eg_err *err)
{
    collected *k = ctx;
    (void)err;
    assert_true(r->channel < k->n_ch);
    assert_true(k->n < MAX_BILLS);
    k->r[k->n++] = *r;
    return 0;
}

static int on_skip(void *ctx, const tr_skip *s, eg_err *err)
{
    collected *k = ctx;
    (void)err;
    if (k->n_skips < 64) k->skips[k->n_skips++] = *s;
    return 0;
}

static int on_bill(void *ctx, const tr_bill *b, eg_err *err)
{
    collected *k = ctx;
    (void)err;
    assert_true(k->n_bills < MAX_BILLS);
    kept_bill *kb = &k->bills[k->n_bills++];
    kb->b = *b;
    memcpy(kb->items, b->items, (size_t)b->n_items * sizeof *b->items);
    kb->b.items = kb->items;
    return 0;
}

typedef struct fixture {
    tr_tz *tz;
    collected *k;
    tr_sink sink;
    tr_options opts;
    eg_err err;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    eg_err err;
    if (!f) return -1;
    f->tz = tr_tz_load(ZONE, getenv("TZDIR"), &err);
    f->k = calloc(1, sizeof *f->k);
    if (!f->tz || !f->k) return -1;
    f->sink = (tr_sink){f->k, on_channel, on_reading, on_skip, on_bill};
    f->opts.tz = f->tz;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    tr_tz_free(f->tz);
    free(f->k);
    free(f);
    return 0;
}

static void reset(fixture *f)
{
    memset(f->k, 0, sizeof *f->k);
    memset(&f->err, 0, sizeof f->err);
}

typedef int (*reader)(FILE *, const char *, const tr_options *, const tr_sink *, eg_err *);

static void sample_path(const char *file, char *path, size_t size)
{
    const char *src = getenv("ESPIGATE_SRC");
    snprintf(path, size, "%s/samples/coop-bill/%s", src ? src : "../..", file);
}

static int run_sample(fixture *f, reader read, const char *file)
{
    char path[1024];
    sample_path(file, path, sizeof path);
    FILE *in = fopen(path, "rb");
    if (!in) fail_msg("cannot open %s", path);
    int rc = read(in, file, &f->opts, &f->sink, &f->err);
    fclose(in);
    return rc;
}

static int run_text(fixture *f, reader read, const char *name, const char *text)
{
    FILE *in = fmemopen((void *)text, strlen(text), "r");
    assert_non_null(in);
    int rc = read(in, name, &f->opts, &f->sink, &f->err);
    fclose(in);
    return rc;
}

/* The sample file as a malloc'd string (caller frees). */
static char *sample_text(const char *file)
{
    char path[1024];
    sample_path(file, path, sizeof path);
    FILE *in = fopen(path, "rb");
    if (!in) fail_msg("cannot open %s", path);
    char *buf = calloc(1, 65536);
    assert_non_null(buf);
    size_t n = fread(buf, 1, 65535, in);
    assert_true(n > 0 && n < 65535);
    fclose(in);
    return buf;
}

/* Replace the first `from` in text by `to` (same buffer, room for growth). */
static void replace(char *text, const char *from, const char *to)
{
    char *p = strstr(text, from);
    if (!p) fail_msg("\"%s\" not in the text", from);
    size_t fl = strlen(from), tl = strlen(to);
    memmove(p + tl, p + fl, strlen(p + fl) + 1);
    memcpy(p, to, tl);
}

static const kept_bill *bill_by_key(const collected *k, const char *key)
{
    for (int i = 0; i < k->n_bills; i++)
        if (strcmp(k->bills[i].b.key, key) == 0) return &k->bills[i];
    return NULL;
}

static int64_t items_sum(const tr_bill *b)
{
    int64_t s = 0;
    for (int i = 0; i < b->n_items; i++) s += b->items[i].amount;
    return s;
}

static const tr_line_item *item_named(const tr_bill *b, const char *note)
{
    for (int i = 0; i < b->n_items; i++)
        if (strcmp(b->items[i].note, note) == 0) return &b->items[i];
    return NULL;
}

/* ---- billing history ------------------------------------------------------------ */

static void test_bill_history_totals_are_24_bills_96764_kwh_14180_dollars(void **state)
{
    fixture *f = *state;
    assert_int_equal(run_sample(f, tr_bill_csv_read, "billing_history_24mo.csv"), 0);
    collected *k = f->k;
    assert_int_equal(k->n_bills, 24);
    assert_int_equal(k->n, 24);
    assert_int_equal(k->n_ch, 1);
    assert_string_equal(k->ch[0].key, "bill:4410078215:billed-kwh");
    int64_t wh = 0, money = 0, readings = 0;
    for (int i = 0; i < k->n_bills; i++) {
        const tr_bill *b = &k->bills[i].b;
        wh += b->consumption;
        money += b->bill_total;
        readings += k->r[i].value;
        assert_int_equal(items_sum(b), b->bill_total);    /* line items = total, per bill */
        assert_int_equal(b->n_items, 6);
        assert_int_equal(k->r[i].value, b->consumption);  /* the monthly reading is the bill */
        assert_int_equal(k->r[i].start, b->start);
        assert_int_equal(k->r[i].duration, b->duration);
        assert_int_equal(b->currency, 840);
        assert_string_equal(b->usage_point, "bill:4410078215");
        if (i) assert_int_equal(b->start, k->bills[i - 1].b.start + k->bills[i - 1].b.duration);
    }
    assert_int_equal(wh, INT64_C(96764000));
    assert_int_equal(readings, INT64_C(96764000));
    assert_int_equal(money, INT64_C(1418000000)); /* $14,180.00 in hundred-thousandths */
    assert_int_equal(k->n_skips, 0);
}

/* Read the sample CSV by hand: kwh_used = (present - previous) x multiplier
 * in every row, and the translator's consumption is kwh_used. */
static void test_bill_history_kwh_is_present_minus_prior_times_multiplier(void **state)
{
    fixture *f = *state;
    assert_int_equal(run_sample(f, tr_bill_csv_read, "billing_history_24mo.csv"), 0);
    char *text = sample_text("billing_history_24mo.csv");
    int row = 0;
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        if (row++ == 0) continue;
        char *fld[24];
        int n = 0;
        for (char *p = line; n < 24;) {
            fld[n++] = p;
            char *c = strchr(p, ',');
            if (!c) break;
            *c = 0;
            p = c + 1;
        }
        assert_int_equal(n, 20);
        long prior = atol(fld[8]), present = atol(fld[9]), mult = atol(fld[10]), kwh = atol(fld[11]);
        assert_int_equal((present - prior) * mult, kwh);
        char key[64];
        snprintf(key, sizeof key, "bill:4410078215:%s", fld[4]);
        const kept_bill *b = bill_by_key(f->k, key);
        assert_non_null(b);
        assert_int_equal(b->b.consumption, (int64_t)kwh * 1000);
    }
    assert_int_equal(row, 25);
    free(text);
}

/* Periods are local days: [service_from 00:00, service_to 00:00) in Chicago,
 * so the one that holds 2023-03-12 is an hour short of its 33 days. */
static void test_bill_history_periods_are_local_midnights_with_dst(void **state)
{
    fixture *f = *state;
    int64_t from, to;
    assert_int_equal(run_sample(f, tr_bill_csv_read, "billing_history_24mo.csv"), 0);
    const kept_bill *b = bill_by_key(f->k, "bill:4410078215:2023-04-10");
    assert_non_null(b);
    assert_int_equal(tr_tz_day_bounds(f->tz, 2023, 2, 28, &from, NULL), 0);
    assert_int_equal(tr_tz_day_bounds(f->tz, 2023, 4, 2, &to, NULL), 0);
    assert_int_equal(b->b.start, from);
    assert_int_equal(b->b.duration, 33 * 86400 - 3600);
    assert_int_equal(b->b.start + b->b.duration, to);
    assert_int_equal(from, INT64_C(1677564000)); /* 2023-02-28T06:00Z = CST midnight */
}

static void test_bill_item_kinds_follow_the_labels(void **state)
{
    fixture *f = *state;
    assert_int_equal(run_sample(f, tr_bill_csv_read, "billing_history_24mo.csv"), 0);
    const tr_bill *b = &bill_by_key(f->k, "bill:4410078215:2023-06-14")->b;
    assert_int_equal(item_named(b, "Facility Charge")->item_kind, ESPI_ITEM_DELIVERY_FEE);
    assert_int_equal(item_named(b, "Energy Charge")->item_kind, ESPI_ITEM_USAGE_FEE);
    assert_int_equal(item_named(b, "Demand Charge")->item_kind, ESPI_ITEM_USAGE_FEE);
    assert_int_equal(item_named(b, "Sales Tax")->item_kind, ESPI_ITEM_TAX);
    assert_int_equal(item_named(b, "Operation Round Up")->item_kind, ESPI_ITEM_ADMIN_FEE);
    /* a negative PCA is a generation credit, and keeps its sign */
    assert_int_equal(item_named(b, "Power Cost Adjustment")->item_kind, ESPI_ITEM_GENERATION_CREDIT);
    assert_int_equal(item_named(b, "Power Cost Adjustment")->amount, -356000);
    b = &bill_by_key(f->k, "bill:4410078215:2023-07-16")->b;
    assert_int_equal(item_named(b, "Power Cost Adjustment")->item_kind, ESPI_ITEM_GENERATION_CREDIT);
    b = &bill_by_key(f->k, "bill:4410078215:2023-08-18")->b;
    assert_int_equal(item_named(b, "Power Cost Adjustment")->item_kind, ESPI_ITEM_GENERATION_FEE);
}

static const char history_head[] =
    "account_number,bill_date,service_from,service_to,billing_days,previous_reading,"
    "present_reading,multiplier,kwh_used,demand_kw,energy_charge,facility_charge,"
    "total_current_charges\n";

static void test_bill_history_wrong_arithmetic_names_file_and_line(void **state)
{
    fixture *f = *state;
    char text[1024];
    snprintf(text, sizeof text, "%s%s%s", history_head,
             "77,2024-02-05,2024-01-02,2024-02-01,30,1000,1100,40,4000,10.5,350.00,38.00,388.00\n",
             "77,2024-03-05,2024-02-01,2024-03-02,30,1100,1200,40,4001,10.5,350.09,38.00,388.09\n");
    assert_int_equal(run_text(f, tr_bill_csv_read, "h.csv", text), EG_EDATA);
    assert_non_null(strstr(f->err.msg, "4001"));
    assert_non_null(strstr(f->err.msg, "(1200.000 - 1100.000) x 40.000 = 4000.000"));
    assert_int_equal(f->err.line, 3);
    assert_int_equal(f->k->n_bills, 1); /* the good row went out before */

    /* lenient: a warning, and the bill is kept with its billed kWh */
    reset(f);
    f->opts.lenient = 1;
    assert_int_equal(run_text(f, tr_bill_csv_read, "h.csv", text), 0);
    assert_int_equal(f->k->n_bills, 2);
    assert_int_equal(f->k->bills[1].b.consumption, 4001000);
    assert_int_equal(f->k->n_skips, 1);
    assert_int_equal(f->k->skips[0].kind, TR_SKIP_WARNING);
    assert_int_equal(f->k->skips[0].line, 3);
}

static void test_bill_history_charges_must_add_up_and_days_match(void **state)
{
    fixture *f = *state;
    char text[1024];
    snprintf(text, sizeof text, "%s%s", history_head,
             "77,2024-02-05,2024-01-02,2024-02-01,30,1000,1100,40,4000,10.5,350.00,38.00,388.01\n");
    assert_int_equal(run_text(f, tr_bill_csv_read, "h.csv", text), EG_EDATA);
    assert_non_null(strstr(f->err.msg, "sum to 388.00000 but the current charges total is 388.01000"));
    assert_int_equal(f->err.line, 2);
    reset(f);
    snprintf(text, sizeof text, "%s%s", history_head,
             "77,2024-02-05,2024-01-02,2024-02-01,31,1000,1100,40,4000,10.5,350.00,38.00,388.00\n");
    assert_int_equal(run_text(f, tr_bill_csv_read, "h.csv", text), EG_EDATA);
    assert_non_null(strstr(f->err.msg, "is 30 days but the bill says 31"));
}

static void test_bill_history_columns_found_by_name_not_position(void **state)
{
    fixture *f = *state;
    const char *text =
        "total_current_charges,kwh_used,service_to,facility_charge,bill_date,service_from,"
        "account_number,energy_charge\n"
        "\"$1,038.00\",\"11,428\",02/01/2024,38.00,02/05/2024,01/02/2024,77,\"1,000.00\"\n";
    assert_int_equal(run_text(f, tr_bill_csv_read, "h.csv", text), 0);
    assert_int_equal(f->k->n_bills, 1);
    const tr_bill *b = &f->k->bills[0].b;
    assert_string_equal(b->key, "bill:77:2024-02-05");
    assert_int_equal(b->consumption, 11428000);
    assert_int_equal(b->bill_total, 103800000);
    assert_non_null(item_named(b, "Energy Charge"));
}

static void test_bill_history_missing_column_is_reported(void **state)
{
    fixture *f = *state;
    assert_int_equal(run_text(f, tr_bill_csv_read, "h.csv",
                              "account_number,bill_date,service_from,service_to,energy_charge,"
                              "total_current_charges\n"), EG_EDATA);
    assert_non_null(strstr(f->err.msg, "no kwh_used column"));
    assert_int_equal(f->err.line, 1);
}

static void test_bill_history_overlapping_periods_are_refused(void **state)
{
    fixture *f = *state;
    char text[1024];
    snprintf(text, sizeof text, "%s%s%s", history_head,
             "77,2024-02-05,2024-01-02,2024-02-01,,,,,4000,,350.00,38.00,388.00\n",
             "77,2024-03-05,2024-01-20,2024-03-02,,,,,4000,,350.00,38.00,388.00\n");
    assert_int_equal(run_text(f, tr_bill_csv_read, "h.csv", text), EG_EDATA);
    assert_non_null(strstr(f->err.msg, "starts before the previous bill's read date"));
    assert_int_equal(f->err.line, 3);
}

/* ---- line items ------------------------------------------------------------------- */

static void test_bill_line_items_sum_to_the_history_totals(void **state)
{
    fixture *f = *state;
    collected *hist = calloc(1, sizeof *hist);
    assert_non_null(hist);
    assert_int_equal(run_sample(f, tr_bill_csv_read, "billing_history_24mo.csv"), 0);
    memcpy(hist, f->k, sizeof *hist);
    for (int i = 0; i < hist->n_bills; i++) hist->bills[i].b.items = hist->bills[i].items;
    reset(f);
    assert_int_equal(run_sample(f, tr_bill_csv_read, "billing_line_items_24mo.csv"), 0);
    assert_int_equal(f->k->n_bills, 24);
    assert_int_equal(f->k->n, 0);          /* no periods, so no readings */
    assert_int_equal(f->k->n_skips, 0);    /* every amount is quantity x rate to the cent */
    for (int i = 0; i < f->k->n_bills; i++) {
        const tr_bill *li = &f->k->bills[i].b;
        const kept_bill *h = bill_by_key(hist, li->key);
        assert_non_null(h);
        assert_int_equal(li->start, ESPI_NONE);
        assert_int_equal(items_sum(li), h->b.bill_total);
        assert_int_equal(li->n_items, h->b.n_items);
        for (int j = 0; j < li->n_items; j++) {
            const tr_line_item *hi = item_named(&h->b, li->items[j].note);
            assert_non_null(hi);
            assert_int_equal(hi->amount, li->items[j].amount);
            assert_int_equal(hi->item_kind, li->items[j].item_kind);
        }
    }
    const tr_bill *first = &f->k->bills[0].b;
    const tr_line_item *energy = item_named(first, "Energy Charge");
    assert_int_equal(energy->quantity, 5146000);
    assert_int_equal(energy->quantity_uom, ESPI_UOM_WH);
    assert_int_equal(energy->unit_cost, 8750);   /* $0.0875 per kWh */
    const tr_line_item *demand = item_named(first, "Demand Charge");
    assert_int_equal(demand->quantity, 15300);
    assert_int_equal(demand->quantity_uom, ESPI_UOM_W);
    assert_int_equal(demand->unit_cost, 875000); /* $8.75 per kW */
    assert_int_equal(item_named(first, "Sales Tax")->quantity, ESPI_NONE);
    free(hist);
}

static void test_bill_line_items_out_of_order_and_wrong_product(void **state)
{
    fixture *f = *state;
    const char *head = "account_number,bill_date,line_item,quantity,unit,rate,amount\n";
    char text[1024];
    snprintf(text, sizeof text, "%s%s%s%s", head, "7,2024-03-05,Energy Charge,100,kWh,0.0875,8.75\n",
             "7,2024-02-05,Energy Charge,100,kWh,0.0875,8.75\n",
             "7,2024-03-05,Sales Tax,8.75,USD,0.065,0.57\n");
    assert_int_equal(run_text(f, tr_bill_csv_read, "li.csv", text), EG_EDATA);
    assert_int_equal(f->err.line, 3);
    assert_non_null(strstr(f->err.msg, "comes after a later bill's rows"));
    reset(f);
    snprintf(text, sizeof text, "%s%s", head, "7,2024-03-05,Energy Charge,100,kWh,0.0875,8.77\n");
    assert_int_equal(run_text(f, tr_bill_csv_read, "li.csv", text), 0);
    assert_int_equal(f->k->n_skips, 1);
    assert_non_null(strstr(f->k->skips[0].reason, "not quantity 100 x rate 0.0875"));
}

/* ---- bill text and PDF -------------------------------------------------------------- */

static void assert_same_bill(const tr_bill *a, const tr_bill *b)
{
    assert_string_equal(a->key, b->key);
    assert_string_equal(a->usage_point, b->usage_point);
    assert_int_equal(a->start, b->start);
    assert_int_equal(a->duration, b->duration);
    assert_int_equal(a->statement_date, b->statement_date);
    assert_int_equal(a->consumption, b->consumption);
    assert_int_equal(a->peak_demand, b->peak_demand);
    assert_int_equal(a->bill_total, b->bill_total);
    assert_int_equal(a->currency, b->currency);
    assert_int_equal(a->n_items, b->n_items);
    for (int i = 0; i < a->n_items; i++) {
        assert_string_equal(a->items[i].note, b->items[i].note);
        assert_int_equal(a->items[i].amount, b->items[i].amount);
        assert_int_equal(a->items[i].item_kind, b->items[i].item_kind);
    }
}

static void test_bill_text_equals_the_last_csv_row(void **state)
{
    fixture *f = *state;
    kept_bill *last = calloc(1, sizeof *last);
    assert_non_null(last);
    assert_int_equal(run_sample(f, tr_bill_csv_read, "billing_history_24mo.csv"), 0);
    *last = f->k->bills[23];
    last->b.items = last->items;
    tr_reading last_reading = f->k->r[23];
    reset(f);
    assert_int_equal(run_sample(f, tr_bill_text_read, "bill_2025-01-20.layout.txt"), 0);
    assert_int_equal(f->k->n_bills, 1);
    assert_int_equal(f->k->n, 1);
    assert_same_bill(&f->k->bills[0].b, &last->b);
    assert_int_equal(f->k->r[0].value, last_reading.value);
    assert_int_equal(f->k->r[0].start, last_reading.start);
    assert_int_equal(f->k->r[0].duration, 33 * 86400);
    /* previous balance, payment and balance forward are not charges */
    assert_int_equal(f->k->bills[0].b.n_items, 6);
    assert_null(item_named(&f->k->bills[0].b, "Previous Balance"));
    assert_int_equal(f->k->bills[0].b.bill_total, 66400000);
    assert_int_equal(f->k->bills[0].b.peak_demand, 14300);
    free(last);
}

static void test_bill_pdf_gives_the_same_bill_as_the_text(void **state)
{
    fixture *f = *state;
    char cmd[2200], path[1024], script[1024];
    const char *src = getenv("ESPIGATE_SRC");
    snprintf(script, sizeof script, "%s/tests/translate/text2pdf.py", src ? src : "../..");
    sample_path("bill_2025-01-20.layout.txt", path, sizeof path);
    snprintf(cmd, sizeof cmd, "python3 '%s' '%s'", script, path);
    FILE *p = popen(cmd, "r");
    if (!p) skip();
    unsigned char *pdf = malloc(1 << 20);
    assert_non_null(pdf);
    size_t n = fread(pdf, 1, 1 << 20, p);
    if (pclose(p) != 0 || n < 100) {
        free(pdf);
        skip(); /* no python3 to make the PDF */
    }
    char *text = NULL;
    size_t tlen = 0;
    int rc = tr_bill_pdf_text(pdf, n, "bill.pdf", &text, &tlen, &f->err);
    if (rc == EG_ECONFIG) {
        free(pdf);
        skip(); /* built without poppler-glib */
    }
    assert_int_equal(rc, 0);
    /* columns stay on one line, apart: label and amount together */
    assert_non_null(strstr(text, "Energy Charge"));
    assert_non_null(strstr(text, "Multiplier: 1"));
    FILE *in = fmemopen(pdf, n, "rb");
    assert_int_equal(tr_bill_pdf_read(in, "bill.pdf", &f->opts, &f->sink, &f->err), 0);
    fclose(in);
    kept_bill *from_pdf = calloc(1, sizeof *from_pdf);
    assert_non_null(from_pdf);
    *from_pdf = f->k->bills[0];
    from_pdf->b.items = from_pdf->items;
    reset(f);
    assert_int_equal(run_sample(f, tr_bill_text_read, "bill_2025-01-20.layout.txt"), 0);
    assert_same_bill(&from_pdf->b, &f->k->bills[0].b);
    free(from_pdf);
    free(text);
    free(pdf);
}

static void test_bill_pdf_that_is_not_a_pdf_is_a_data_error(void **state)
{
    fixture *f = *state;
    int rc = run_text(f, tr_bill_pdf_read, "x.pdf", "%PDF-1.4\nnot really\n");
    if (rc == EG_ECONFIG) skip();
    assert_int_equal(rc, EG_EDATA);
    assert_non_null(strstr(f->err.msg, "not a readable PDF"));
}

static void test_bill_text_wrong_arithmetic_names_the_line(void **state)
{
    fixture *f = *state;
    char *text = sample_text("bill_2025-01-20.layout.txt");
    replace(text, "kWh Use: 5123", "kWh Use: 5124");
    assert_int_equal(run_text(f, tr_bill_text_read, "bill.txt", text), EG_EDATA);
    assert_string_equal(f->err.file, "bill.txt");
    assert_int_equal(f->err.line, 23);
    assert_non_null(strstr(f->err.msg, "(168598.000 - 163475.000) x 1.000 = 5123.000"));
    reset(f);
    f->opts.lenient = 1;
    assert_int_equal(run_text(f, tr_bill_text_read, "bill.txt", text), 0);
    assert_int_equal(f->k->n_skips, 1);
    assert_int_equal(f->k->skips[0].line, 23);
    assert_int_equal(f->k->bills[0].b.consumption, 5124000);
    free(text);
}

static void test_bill_text_charges_must_add_up(void **state)
{
    fixture *f = *state;
    char *text = sample_text("bill_2025-01-20.layout.txt");
    replace(text, "$448.26", "$448.62");
    assert_int_equal(run_text(f, tr_bill_text_read, "bill.txt", text), EG_EDATA);
    assert_int_equal(f->err.line, 22); /* the Current Charges line */
    assert_non_null(strstr(f->err.msg, "sum to 664.36000 but the current charges total is 664.00000"));
    free(text);
}

static void test_bill_text_missing_total_is_an_error(void **state)
{
    fixture *f = *state;
    char *text = sample_text("bill_2025-01-20.layout.txt");
    replace(text, "Current Charges Due By", "Other Charges Due By");
    assert_int_equal(run_text(f, tr_bill_text_read, "bill.txt", text), EG_EDATA);
    assert_non_null(strstr(f->err.msg, "no \"Current Charges\" total"));
    assert_true(f->err.line > 0);
    assert_int_equal(f->k->n_bills, 0);
    free(text);
}

static void test_bill_text_missing_or_conflicting_fields(void **state)
{
    fixture *f = *state;
    char *text = sample_text("bill_2025-01-20.layout.txt");
    replace(text, "Bill Date: 01/20/2025                                  Payment",
            "Bill Date: 01/21/2025                                  Payment");
    assert_int_equal(run_text(f, tr_bill_text_read, "bill.txt", text), EG_EDATA);
    assert_int_equal(f->err.line, 13);
    assert_non_null(strstr(f->err.msg, "Bill Date: 01/21/2025 differs from line 6"));
    free(text);
    reset(f);
    text = sample_text("bill_2025-01-20.layout.txt");
    replace(text, "Billing Period:", "Service Period:");
    assert_int_equal(run_text(f, tr_bill_text_read, "bill.txt", text), EG_EDATA);
    assert_non_null(strstr(f->err.msg, "no \"Billing Period:\" field"));
    free(text);
    reset(f);
    text = sample_text("bill_2025-01-20.layout.txt");
    replace(text, "for 33 Days", "for 32 Days");
    assert_int_equal(run_text(f, tr_bill_text_read, "bill.txt", text), EG_EDATA);
    assert_int_equal(f->err.line, 12);
    assert_non_null(strstr(f->err.msg, "is 33 days but the bill says 32"));
    free(text);
}

static void test_bill_text_negative_credit_is_a_line_item(void **state)
{
    fixture *f = *state;
    char *text = sample_text("bill_2025-01-20.layout.txt");
    replace(text, "Operation Round Up       $0.87", "Paperless Credit        -$0.50\n"
                                                  "                                                "
                                                  "               Operation Round Up       $1.37");
    assert_int_equal(run_text(f, tr_bill_text_read, "bill.txt", text), 0);
    const tr_bill *b = &f->k->bills[0].b;
    assert_int_equal(b->n_items, 7);
    assert_int_equal(item_named(b, "Paperless Credit")->amount, -50000);
    assert_int_equal(item_named(b, "Paperless Credit")->item_kind, ESPI_ITEM_ADMIN_CREDIT);
    assert_int_equal(items_sum(b), b->bill_total);
    free(text);
}

static int stop_at_third(void *ctx, const tr_bill *b, eg_err *err)
{
    collected *k = ctx;
    (void)b, (void)err;
    return ++k->n_bills == 3 ? EG_ESTOP : 0;
}

static void test_bill_sink_can_stop_the_translator(void **state)
{
    fixture *f = *state;
    f->sink.bill = stop_at_third;
    assert_int_equal(run_sample(f, tr_bill_csv_read, "billing_history_24mo.csv"), EG_ESTOP);
    assert_int_equal(f->k->n_bills, 3);
    reset(f);
    f->sink.bill = NULL; /* readings still flow without a bill callback */
    assert_int_equal(run_sample(f, tr_bill_csv_read, "billing_history_24mo.csv"), 0);
    assert_int_equal(f->k->n, 24);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_bill_history_totals_are_24_bills_96764_kwh_14180_dollars, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bill_history_kwh_is_present_minus_prior_times_multiplier, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bill_history_periods_are_local_midnights_with_dst, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bill_item_kinds_follow_the_labels, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bill_history_wrong_arithmetic_names_file_and_line, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bill_history_charges_must_add_up_and_days_match, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bill_history_columns_found_by_name_not_position, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bill_history_missing_column_is_reported, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bill_history_overlapping_periods_are_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bill_line_items_sum_to_the_history_totals, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bill_line_items_out_of_order_and_wrong_product, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bill_text_equals_the_last_csv_row, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bill_pdf_gives_the_same_bill_as_the_text, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bill_pdf_that_is_not_a_pdf_is_a_data_error, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bill_text_wrong_arithmetic_names_the_line, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bill_text_charges_must_add_up, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bill_text_missing_total_is_an_error, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bill_text_missing_or_conflicting_fields, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bill_text_negative_credit_is_a_line_item, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bill_sink_can_stop_the_translator, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
