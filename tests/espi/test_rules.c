/* test_rules.c -- the semantic rules, one trigger and one clean case each.
 *
 * Every test starts from the same small, valid feed shaped like the GBA
 * reference sample (relative hrefs "RetailCustomer/1/UsagePoint/01", one
 * UsagePoint, LocalTimeParameters, MeterReading, ReadingType, two
 * IntervalBlocks in one entry, a UsageSummary), breaks one thing, runs the
 * rules and asserts the rule id, its severity and that nothing else fired.
 * The clean feed itself must produce no finding at all, in document order
 * and reversed (Atom order is free). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rules.h"

/* ---- capture of diagnostics ------------------------------------------- */

#define CAP_MAX 64

typedef struct cap {
    int n;
    char rule[CAP_MAX][16];
    espi_severity sev[CAP_MAX];
    long line[CAP_MAX];
    char msg[CAP_MAX][256];
} cap;

static void on_diag(void *ctx, const espi_diag *d)
{
    cap *c = ctx;
    if (c->n >= CAP_MAX) return;
    snprintf(c->rule[c->n], sizeof c->rule[0], "%s", d->rule);
    snprintf(c->msg[c->n], sizeof c->msg[0], "%s", d->msg);
    c->sev[c->n] = d->severity;
    c->line[c->n] = d->line;
    c->n++;
}

static int count(const cap *c, const char *rule)
{
    int k = 0;
    for (int i = 0; i < c->n; i++)
        if (strcmp(c->rule[i], rule) == 0) k++;
    return k;
}

static int index_of(const cap *c, const char *rule)
{
    for (int i = 0; i < c->n; i++)
        if (strcmp(c->rule[i], rule) == 0) return i;
    return -1;
}

static void print_all(const cap *c)
{
    for (int i = 0; i < c->n; i++)
        print_message("  line %ld %s %s: %s\n", c->line[i], c->rule[i],
                      c->sev[i] == ESPI_SEV_ERROR ? "error" : "warning", c->msg[i]);
}

/* Exactly the findings of `rule` (n of them, severity sev), nothing else. */
static void expect_only(const cap *c, const char *rule, int n, espi_severity sev)
{
    if (count(c, rule) != n || c->n != n) print_all(c);
    assert_int_equal(count(c, rule), n);
    assert_int_equal(c->n, n);
    for (int i = 0; i < c->n; i++) assert_int_equal(c->sev[i], sev);
}

static void expect_clean(const cap *c)
{
    if (c->n) print_all(c);
    assert_int_equal(c->n, 0);
}

/* ---- the fixture feed ----------------------------------------------------- */

enum { E_UP, E_LTP, E_MR, E_RT, E_IB, E_US, E_EXTRA, N_ENTRIES };
enum { R_UP, R_LTP, R_MR, R_RT, R_IB1, R_IB2, R_US, R_EXTRA, N_RES };
#define N_READ 4

typedef struct fx {
    espi_feed_head head;
    int with_head;
    espi_entry e[N_ENTRIES];
    espi_resource res[N_RES];
    int use[N_RES];                       /* 1: resource is fed */
    espi_interval_reading rd1[N_READ], rd2[N_READ];
    espi_line_item items[3];
} fx;

#define T0 INT64_C(1330578000) /* 2012-03-01T05:00:00Z, as in the GBA sample */
#define UP_SELF "RetailCustomer/1/UsagePoint/01"
#define MR_SELF UP_SELF "/MeterReading/01"

static void link_set(espi_link *l, const char *rel, const char *href)
{
    snprintf(l->rel, sizeof l->rel, "%s", rel);
    snprintf(l->href, sizeof l->href, "%s", href);
}

static void add_related(espi_entry *e, const char *href)
{
    link_set(&e->related[e->n_related++], "related", href);
}

static void entry_set(espi_entry *e, int n, const char *self, const char *up, long line)
{
    espi_entry_init(e);
    snprintf(e->id, sizeof e->id, "urn:uuid:00000000-0000-5000-8000-0000000000%02d", n);
    snprintf(e->title, sizeof e->title, "entry %d", n);
    e->published = e->updated = T0 + 86400 * 30;
    link_set(&e->self, "self", self);
    link_set(&e->up, "up", up);
    e->line = line;
}

static void readings_set(espi_interval_reading *rd, int64_t start)
{
    for (int i = 0; i < N_READ; i++) {
        espi_interval_reading_init(&rd[i]);
        rd[i].time_period.start = start + 900 * i;
        rd[i].time_period.duration = 900;
        rd[i].value = 300 + i;
        rd[i].cost = 900 + i;
    }
}

static void block_set(espi_resource *res, const espi_entry *e, int64_t start,
                      const espi_interval_reading *rd)
{
    res->type = ESPI_RES_INTERVAL_BLOCK;
    res->entry = e;
    res->u.interval_block.interval.start = start;
    res->u.interval_block.interval.duration = 3600;
    res->u.interval_block.readings = rd;
    res->u.interval_block.n_readings = N_READ;
}

static fx *fx_new(void)
{
    fx *f = calloc(1, sizeof *f);
    assert_non_null(f);
    f->with_head = 1;
    snprintf(f->head.id, sizeof f->head.id, "urn:uuid:00000000-0000-5000-8000-000000000099");
    snprintf(f->head.title, sizeof f->head.title, "Batch Feed");
    f->head.updated = T0 + 86400 * 30;

    entry_set(&f->e[E_UP], 1, UP_SELF, "RetailCustomer/1/UsagePoint", 10);
    add_related(&f->e[E_UP], UP_SELF "/MeterReading");
    add_related(&f->e[E_UP], UP_SELF "/ElectricPowerUsageSummary");
    add_related(&f->e[E_UP], "LocalTimeParameters/01");
    f->res[R_UP].type = ESPI_RES_USAGE_POINT;
    espi_usage_point_init(&f->res[R_UP].u.usage_point);
    f->res[R_UP].u.usage_point.service_kind = ESPI_SERVICE_ELECTRICITY;

    entry_set(&f->e[E_LTP], 2, "LocalTimeParameters/01", "LocalTimeParameters", 20);
    f->res[R_LTP].type = ESPI_RES_LOCAL_TIME_PARAMETERS;
    espi_local_time_parameters *ltp = &f->res[R_LTP].u.local_time_parameters;
    espi_local_time_parameters_init(ltp);
    ltp->dst_start_rule = 0x360E2000u;
    ltp->dst_end_rule = 0xB40E2000u;
    ltp->dst_offset = 3600;
    ltp->tz_offset = -18000;

    entry_set(&f->e[E_MR], 3, MR_SELF, UP_SELF "/MeterReading", 30);
    add_related(&f->e[E_MR], MR_SELF "/IntervalBlock");
    add_related(&f->e[E_MR], "ReadingType/07");
    f->res[R_MR].type = ESPI_RES_METER_READING;

    entry_set(&f->e[E_RT], 4, "ReadingType/07", "ReadingType", 40);
    f->res[R_RT].type = ESPI_RES_READING_TYPE;
    espi_reading_type *rt = &f->res[R_RT].u.reading_type;
    espi_reading_type_init(rt);
    rt->accumulation_behaviour = ESPI_ACCUM_DELTA_DATA;
    rt->commodity = ESPI_COMMODITY_ELECTRICITY_SECONDARY;
    rt->currency = ESPI_CURRENCY_USD;
    rt->flow_direction = ESPI_FLOW_FORWARD;
    rt->interval_length = 900;
    rt->kind = ESPI_KIND_ENERGY;
    rt->power_of_ten_multiplier = 0;
    rt->uom = ESPI_UOM_WH;

    /* Two blocks in one entry, as the GBA sample has them. */
    entry_set(&f->e[E_IB], 5, MR_SELF "/IntervalBlock/0173", MR_SELF "/IntervalBlock", 50);
    readings_set(f->rd1, T0);
    readings_set(f->rd2, T0 + 3600);
    block_set(&f->res[R_IB1], &f->e[E_IB], T0, f->rd1);
    block_set(&f->res[R_IB2], &f->e[E_IB], T0 + 3600, f->rd2);

    entry_set(&f->e[E_US], 6, "RetailCustomer/1/ElectricPowerUsageSummary/01",
              UP_SELF "/ElectricPowerUsageSummary", 60);
    f->res[R_US].type = ESPI_RES_USAGE_SUMMARY;
    espi_usage_summary *us = &f->res[R_US].u.usage_summary;
    espi_usage_summary_init(us);
    us->legacy_name = 1;
    us->billing_period.start = T0;
    us->billing_period.duration = 86400 * 30;
    us->bill_last_period = 15303000;
    us->cost_additional_last_period = 1346000;
    us->currency = ESPI_CURRENCY_USD;
    us->status_time_stamp = T0 + 86400 * 14;

    for (int i = 0; i < N_RES; i++) f->use[i] = i != R_EXTRA;
    const int owner[N_RES] = {E_UP, E_LTP, E_MR, E_RT, E_IB, E_IB, E_US, E_EXTRA};
    for (int i = 0; i < N_RES; i++)
        if (!f->res[i].entry) f->res[i].entry = &f->e[owner[i]];
    return f;
}

/* Feed the fixture through the rules; reversed = 1 feeds entries backwards. */
static void fx_run_opts(fx *f, cap *c, int reversed, const char *suppress)
{
    memset(c, 0, sizeof *c);
    espi_rules *r = espi_rules_new("t.xml", on_diag, c);
    assert_non_null(r);
    if (suppress) assert_int_equal(espi_rules_suppress(r, suppress), 0);
    if (f->with_head) espi_rules_feed_head(r, &f->head, 2);
    for (int k = 0; k < N_RES; k++) {
        int i = k;
        if (reversed) { /* keep the two blocks of one entry adjacent */
            i = N_RES - 1 - k;
            if (i == R_IB2) i = R_IB1;
            else if (i == R_IB1) i = R_IB2;
        }
        if (f->use[i]) espi_rules_resource(r, &f->res[i]);
    }
    espi_rules_finish(r);
    long errors = 0, warnings = 0;
    for (int i = 0; i < c->n; i++) {
        if (c->sev[i] == ESPI_SEV_ERROR) errors++;
        if (c->sev[i] == ESPI_SEV_WARNING) warnings++;
    }
    assert_int_equal(espi_rules_error_count(r), errors);
    assert_int_equal(espi_rules_warning_count(r), warnings);
    espi_rules_free(r);
}

static void fx_run(fx *f, cap *c)
{
    fx_run_opts(f, c, 0, NULL);
}

/* ---- clean feeds ---------------------------------------------------------- */

static void test_rules_clean_feed_has_no_findings(void **state)
{
    (void)state;
    fx *f = fx_new();
    cap c;
    fx_run(f, &c);
    expect_clean(&c);
    free(f);
}

static void test_rules_clean_feed_reversed_has_no_findings(void **state)
{
    (void)state;
    fx *f = fx_new();
    cap c;
    fx_run_opts(f, &c, 1, NULL);
    expect_clean(&c);
    free(f);
}

static void test_rules_absolute_hrefs_resolve_by_parent_self(void **state)
{
    (void)state;
    fx *f = fx_new();
    cap c;
    /* The MeterReading's related collection is written absolute, the
     * blocks' up href relative: they still meet through MR self + segment. */
    link_set(&f->e[E_MR].related[0], "related", "https://dc.example/espi/1_1/resource/x/IntervalBlock");
    fx_run(f, &c);
    expect_clean(&c);
    link_set(&f->e[E_IB].up, "up", MR_SELF "/Other");
    fx_run(f, &c);
    assert_int_equal(count(&c, "LINK-006"), 1);
    assert_int_equal(count(&c, "RT-005"), 1); /* deltaData without blocks now */
    assert_int_equal(c.n, 2);
    free(f);
}

/* ---- FEED ----------------------------------------------------------------- */

static void test_rules_feed_head_missing_id_title_updated(void **state)
{
    (void)state;
    fx *f = fx_new();
    cap c;
    f->head.id[0] = '\0';
    fx_run(f, &c);
    expect_only(&c, "FEED-001", 1, ESPI_SEV_ERROR);
    assert_int_equal(c.line[0], 2);
    free(f);

    f = fx_new();
    f->head.title[0] = '\0';
    fx_run(f, &c);
    expect_only(&c, "FEED-002", 1, ESPI_SEV_ERROR);
    free(f);

    f = fx_new();
    f->head.updated = ESPI_NONE;
    fx_run(f, &c);
    expect_only(&c, "FEED-003", 1, ESPI_SEV_ERROR);
    free(f);
}

static void test_rules_entry_without_id_self_or_up(void **state)
{
    (void)state;
    fx *f = fx_new();
    cap c;
    f->e[E_US].id[0] = '\0';
    fx_run(f, &c);
    expect_only(&c, "FEED-004", 1, ESPI_SEV_ERROR);
    assert_int_equal(c.line[0], 60);
    free(f);

    f = fx_new();
    f->e[E_US].self.href[0] = '\0';
    fx_run(f, &c);
    expect_only(&c, "FEED-005", 1, ESPI_SEV_ERROR);
    free(f);

    f = fx_new();
    f->e[E_US].up.href[0] = '\0';
    fx_run(f, &c);
    expect_only(&c, "FEED-006", 1, ESPI_SEV_ERROR);
    free(f);
}

static void test_rules_id_not_urn_uuid_is_warning(void **state)
{
    (void)state;
    fx *f = fx_new();
    cap c;
    snprintf(f->e[E_RT].id, sizeof f->e[E_RT].id, "urn:uuid:not-a-uuid");
    fx_run(f, &c);
    expect_only(&c, "FEED-007", 1, ESPI_SEV_WARNING);
    free(f);

    f = fx_new(); /* upper-case hex, as GBA writes them, is fine */
    snprintf(f->e[E_RT].id, sizeof f->e[E_RT].id, "urn:uuid:82B3E74B-DFC0-4DD4-8651-91A67B40374D");
    fx_run(f, &c);
    expect_clean(&c);
    free(f);
}

static void test_rules_published_after_updated_is_warning(void **state)
{
    (void)state;
    fx *f = fx_new();
    cap c;
    f->e[E_MR].published = f->e[E_MR].updated + 60;
    fx_run(f, &c);
    expect_only(&c, "FEED-008", 1, ESPI_SEV_WARNING);
    free(f);
}

static void test_rules_entry_dates_missing(void **state)
{
    (void)state;
    fx *f = fx_new();
    cap c;
    f->e[E_MR].updated = ESPI_NONE;
    fx_run(f, &c);
    expect_only(&c, "FEED-009", 1, ESPI_SEV_ERROR);
    free(f);

    f = fx_new();
    f->e[E_MR].published = ESPI_NONE;
    fx_run(f, &c);
    expect_only(&c, "FEED-010", 1, ESPI_SEV_WARNING);
    free(f);
}

/* ---- ID --------------------------------------------------------------------- */

static void test_rules_duplicate_entry_id(void **state)
{
    (void)state;
    fx *f = fx_new();
    cap c;
    snprintf(f->e[E_US].id, sizeof f->e[E_US].id, "%s", f->e[E_UP].id);
    fx_run(f, &c);
    expect_only(&c, "ID-001", 1, ESPI_SEV_ERROR);
    assert_int_equal(c.line[0], 60);
    assert_non_null(strstr(c.msg[0], "line 10"));
    free(f);
}

static void test_rules_duplicate_self_href(void **state)
{
    (void)state;
    fx *f = fx_new();
    cap c;
    /* A second LocalTimeParameters entry with the first one's self href. */
    entry_set(&f->e[E_EXTRA], 7, "LocalTimeParameters/01", "LocalTimeParameters", 70);
    f->res[R_EXTRA] = f->res[R_LTP];
    f->res[R_EXTRA].entry = &f->e[E_EXTRA];
    f->use[R_EXTRA] = 1;
    fx_run(f, &c);
    expect_only(&c, "ID-002", 1, ESPI_SEV_ERROR);
    assert_int_equal(c.line[0], 70);
    free(f);
}

static void test_rules_blocks_of_one_entry_are_one_entry(void **state)
{
    (void)state;
    fx *f = fx_new();
    cap c;
    /* The same envelope at another line is another entry: duplicates. */
    entry_set(&f->e[E_EXTRA], 5, MR_SELF "/IntervalBlock/0173", MR_SELF "/IntervalBlock", 80);
    f->res[R_IB2].entry = &f->e[E_EXTRA];
    fx_run(f, &c);
    assert_int_equal(count(&c, "ID-001"), 1);
    assert_int_equal(count(&c, "ID-002"), 1);
    free(f);
}

/* ---- LINK ------------------------------------------------------------------- */

static void test_rules_usage_point_without_meter_reading_collection(void **state)
{
    (void)state;
    fx *f = fx_new();
    cap c;
    link_set(&f->e[E_UP].related[0], "related", UP_SELF "/Nothing");
    fx_run(f, &c);
    /* The MeterReading's up link then has no UsagePoint either. */
    assert_int_equal(count(&c, "LINK-001"), 1);
    assert_int_equal(c.sev[index_of(&c, "LINK-001")], ESPI_SEV_ERROR);
    assert_int_equal(count(&c, "LINK-008"), 0); /* still found by UsagePoint self */
    assert_int_equal(c.n, 1);
    free(f);
}

static void test_rules_usage_point_without_local_time_parameters(void **state)
{
    (void)state;
    fx *f = fx_new();
    cap c;
    f->e[E_UP].n_related = 2; /* drop LocalTimeParameters/01 */
    f->use[R_LTP] = 0;
    fx_run(f, &c);
    expect_only(&c, "LINK-002", 1, ESPI_SEV_ERROR);
    assert_int_equal(c.line[0], 10);
    free(f);
}

static void test_rules_meter_reading_needs_exactly_one_reading_type(void **state)
{
    (void)state;
    fx *f = fx_new();
    cap c;
    add_related(&f->e[E_MR], "ReadingType/07");
    fx_run(f, &c);
    expect_only(&c, "LINK-003", 1, ESPI_SEV_ERROR);
    free(f);

    f = fx_new();
    f->e[E_MR].n_related = 1; /* no ReadingType link */
    fx_run(f, &c);
    expect_only(&c, "LINK-003", 1, ESPI_SEV_ERROR);
    assert_non_null(strstr(c.msg[0], "0 related"));
    free(f);
}

static void test_rules_reading_type_link_unresolved(void **state)
{
    (void)state;
    fx *f = fx_new();
    cap c;
    link_set(&f->e[E_MR].related[1], "related", "ReadingType/08");
    fx_run(f, &c);
    expect_only(&c, "LINK-004", 1, ESPI_SEV_ERROR);
    assert_int_equal(c.line[0], 30);
    free(f);

    /* A single MeterReading entry (partial document): a warning. */
    f = fx_new();
    f->with_head = 0;
    for (int i = 0; i < N_RES; i++) f->use[i] = i == R_MR;
    fx_run(f, &c);
    assert_int_equal(count(&c, "LINK-004"), 1);
    assert_int_equal(c.sev[index_of(&c, "LINK-004")], ESPI_SEV_WARNING);
    assert_int_equal(count(&c, "LINK-008"), 1);
    assert_int_equal(c.sev[index_of(&c, "LINK-008")], ESPI_SEV_WARNING);
    free(f);
}

static void test_rules_meter_reading_without_block_collection(void **state)
{
    (void)state;
    fx *f = fx_new();
    cap c;
    link_set(&f->e[E_MR].related[0], "related", "ReadingType/07");
    f->e[E_MR].n_related = 1;
    f->use[R_IB1] = f->use[R_IB2] = 0;
    f->res[R_RT].u.reading_type.accumulation_behaviour = ESPI_ACCUM_BULK_QUANTITY;
    fx_run(f, &c);
    expect_only(&c, "LINK-005", 1, ESPI_SEV_ERROR);
    free(f);
}

static void test_rules_block_up_link_unresolved(void **state)
{
    (void)state;
    fx *f = fx_new();
    cap c;
    link_set(&f->e[E_IB].up, "up", UP_SELF "/MeterReading/02/IntervalBlock");
    fx_run(f, &c);
    /* one finding for the entry (not one per block), and the deltaData
     * MeterReading now has no blocks */
    assert_int_equal(count(&c, "LINK-006"), 1);
    assert_int_equal(c.sev[index_of(&c, "LINK-006")], ESPI_SEV_ERROR);
    assert_int_equal(count(&c, "RT-005"), 1);
    assert_int_equal(c.n, 2);
    free(f);
}

static void test_rules_related_entry_href_unresolved(void **state)
{
    (void)state;
    fx *f = fx_new();
    cap c;
    link_set(&f->e[E_UP].related[2], "related", "LocalTimeParameters/99");
    fx_run(f, &c);
    assert_int_equal(count(&c, "LINK-007"), 1);
    assert_int_equal(c.sev[index_of(&c, "LINK-007")], ESPI_SEV_ERROR);
    assert_int_equal(count(&c, "LINK-011"), 1); /* LocalTimeParameters/01 now unreferenced */
    assert_int_equal(count(&c, "LINK-002"), 0); /* a LocalTimeParameters link exists */
    assert_int_equal(c.n, 2);
    free(f);
}

static void test_rules_meter_reading_up_link_unresolved(void **state)
{
    (void)state;
    fx *f = fx_new();
    cap c;
    link_set(&f->e[E_MR].up, "up", "RetailCustomer/1/UsagePoint/02/MeterReading");
    fx_run(f, &c);
    expect_only(&c, "LINK-008", 1, ESPI_SEV_ERROR);
    free(f);
}

static void test_rules_related_href_resolves_to_wrong_type(void **state)
{
    (void)state;
    fx *f = fx_new();
    cap c;
    /* The ReadingType entry sits at a LocalTimeParameters URI. */
    link_set(&f->e[E_UP].related[2], "related", "LocalTimeParameters/02");
    link_set(&f->e[E_RT].self, "self", "LocalTimeParameters/02");
    link_set(&f->e[E_MR].related[1], "related", "LocalTimeParameters/02");
    f->use[R_LTP] = 0;
    fx_run(f, &c);
    assert_int_equal(count(&c, "LINK-009"), 2);
    assert_int_equal(c.sev[index_of(&c, "LINK-009")], ESPI_SEV_ERROR);
    assert_int_equal(c.n, 2);
    free(f);
}

static void test_rules_summary_up_link_unresolved(void **state)
{
    (void)state;
    fx *f = fx_new();
    cap c;
    link_set(&f->e[E_US].up, "up", "RetailCustomer/1/UsagePoint/09/ElectricPowerUsageSummary");
    fx_run(f, &c);
    expect_only(&c, "LINK-010", 1, ESPI_SEV_ERROR);
    free(f);
}

static void test_rules_unreferenced_local_time_parameters(void **state)
{
    (void)state;
    fx *f = fx_new();
    cap c;
    entry_set(&f->e[E_EXTRA], 7, "LocalTimeParameters/02", "LocalTimeParameters", 70);
    f->res[R_EXTRA] = f->res[R_LTP];
    f->res[R_EXTRA].entry = &f->e[E_EXTRA];
    f->use[R_EXTRA] = 1;
    fx_run(f, &c);
    expect_only(&c, "LINK-011", 1, ESPI_SEV_WARNING);
    assert_int_equal(c.line[0], 70);
    free(f);
}

/* ---- IB ---------------------------------------------------------------------- */

static void test_rules_reading_outside_block(void **state)
{
    (void)state;
    fx *f = fx_new();
    cap c;
    f->rd1[3].time_period.duration = 1800; /* ends 15 min after the block */
    f->res[R_RT].u.reading_type.interval_length = ESPI_NONE;
    fx_run(f, &c);
    expect_only(&c, "IB-001", 1, ESPI_SEV_ERROR);
    assert_int_equal(c.line[0], 50);
    free(f);
}

static void test_rules_duplicate_reading_start(void **state)
{
    (void)state;
    fx *f = fx_new();
    cap c;
    f->rd2[2].time_period.start = f->rd2[1].time_period.start; /* sorted, repeated */
    f->rd2[3].time_period.start = f->rd2[1].time_period.start + 900;
    fx_run(f, &c);
    expect_only(&c, "IB-002", 1, ESPI_SEV_ERROR);
    free(f);

    f = fx_new(); /* unsorted, repeated: found through the sorted copy */
    f->rd2[3].time_period.start = f->rd2[0].time_period.start;
    fx_run(f, &c);
    assert_int_equal(count(&c, "IB-002"), 1);
    assert_int_equal(count(&c, "IB-003"), 1);
    assert_int_equal(c.n, 2);
    free(f);
}

static void test_rules_unsorted_readings_warning(void **state)
{
    (void)state;
    fx *f = fx_new();
    cap c;
    espi_interval_reading t = f->rd1[1];
    f->rd1[1] = f->rd1[2];
    f->rd1[2] = t;
    fx_run(f, &c);
    expect_only(&c, "IB-003", 1, ESPI_SEV_WARNING);
    free(f);
}

static void test_rules_overlapping_blocks(void **state)
{
    (void)state;
    fx *f = fx_new();
    cap c;
    /* Second block repeats the first one's hour: GBA EU_FB04 D146. */
    f->res[R_IB2].u.interval_block.interval.start = T0;
    f->res[R_IB2].u.interval_block.readings = f->rd1;
    fx_run(f, &c);
    expect_only(&c, "IB-004", 1, ESPI_SEV_ERROR);
    assert_non_null(strstr(c.msg[0], "repeats"));
    free(f);

    f = fx_new(); /* in a separate entry, overlapping by 30 min */
    entry_set(&f->e[E_EXTRA], 8, MR_SELF "/IntervalBlock/0174", MR_SELF "/IntervalBlock", 90);
    f->res[R_IB2].entry = &f->e[E_EXTRA];
    f->res[R_IB2].u.interval_block.interval.start = T0 + 1800;
    readings_set(f->rd2, T0 + 1800);
    fx_run(f, &c);
    expect_only(&c, "IB-004", 1, ESPI_SEV_ERROR);
    assert_non_null(strstr(c.msg[0], "overlaps"));
    free(f);
}

static void test_rules_reading_duration_differs_from_interval_length(void **state)
{
    (void)state;
    fx *f = fx_new();
    cap c;
    f->res[R_RT].u.reading_type.interval_length = 3600;
    fx_run(f, &c);
    expect_only(&c, "IB-005", 1, ESPI_SEV_WARNING); /* one per MeterReading */
    assert_non_null(strstr(c.msg[0], "2 IntervalBlock"));
    free(f);

    /* Daily data on a DST day (23 h) is within tolerance. */
    f = fx_new();
    f->res[R_RT].u.reading_type.interval_length = 86400;
    f->res[R_IB1].u.interval_block.n_readings = 1;
    f->rd1[0].time_period.duration = 82800;
    f->res[R_IB1].u.interval_block.interval.duration = 82800;
    f->use[R_IB2] = 0;
    fx_run(f, &c);
    expect_clean(&c);
    free(f);
}

static void test_rules_block_start_without_reading(void **state)
{
    (void)state;
    fx *f = fx_new();
    cap c;
    f->res[R_IB1].u.interval_block.readings = f->rd1 + 1;
    f->res[R_IB1].u.interval_block.n_readings = N_READ - 1;
    fx_run(f, &c);
    expect_only(&c, "IB-006", 1, ESPI_SEV_WARNING);
    free(f);
}

static void test_rules_reading_without_time_period(void **state)
{
    (void)state;
    fx *f = fx_new();
    cap c;
    f->rd1[2].time_period.duration = ESPI_NONE;
    f->rd1[2].time_period.start = ESPI_NONE;
    fx_run(f, &c);
    expect_only(&c, "IB-007", 1, ESPI_SEV_WARNING);
    free(f);
}

/* ---- TIME ------------------------------------------------------------------- */

static void test_rules_non_positive_durations(void **state)
{
    (void)state;
    fx *f = fx_new();
    cap c;
    f->res[R_IB2].u.interval_block.interval.duration = 0;
    fx_run(f, &c);
    assert_int_equal(count(&c, "TIME-001"), 1);
    assert_int_equal(c.sev[index_of(&c, "TIME-001")], ESPI_SEV_ERROR);
    free(f);

    f = fx_new();
    f->rd1[0].time_period.duration = -900;
    f->res[R_RT].u.reading_type.interval_length = ESPI_NONE;
    fx_run(f, &c);
    expect_only(&c, "TIME-001", 1, ESPI_SEV_ERROR);
    free(f);
}

static void test_rules_milliseconds_timestamp(void **state)
{
    (void)state;
    fx *f = fx_new();
    cap c;
    f->res[R_US].u.usage_summary.status_time_stamp = INT64_C(1331784000000);
    fx_run(f, &c);
    expect_only(&c, "TIME-002", 1, ESPI_SEV_ERROR);
    assert_non_null(strstr(c.msg[0], "1331784000"));
    free(f);

    f = fx_new(); /* a whole block in ms: one finding for its readings */
    for (int i = 0; i < N_READ; i++) f->rd2[i].time_period.start *= 1000;
    fx_run(f, &c);
    assert_int_equal(count(&c, "TIME-002"), 1);
    assert_non_null(strstr(c.msg[index_of(&c, "TIME-002")], "4 IntervalReading"));
    free(f);
}

static void test_rules_negative_reading_start(void **state)
{
    (void)state;
    fx *f = fx_new();
    cap c;
    f->res[R_IB1].u.interval_block.interval.start = -3600;
    readings_set(f->rd1, -3600);
    fx_run(f, &c);
    assert_int_equal(count(&c, "TIME-003"), 2); /* block start, and its readings */
    assert_int_equal(c.sev[index_of(&c, "TIME-003")], ESPI_SEV_ERROR);
    free(f);
}

/* ---- RT ----------------------------------------------------------------------- */

static void test_rules_reading_type_without_uom(void **state)
{
    (void)state;
    fx *f = fx_new();
    cap c;
    f->res[R_RT].u.reading_type.uom = ESPI_NONE;
    fx_run(f, &c);
    expect_only(&c, "RT-001", 1, ESPI_SEV_ERROR);
    assert_int_equal(c.line[0], 40);
    free(f);

    f = fx_new(); /* not used by interval data: no finding */
    f->res[R_RT].u.reading_type.uom = ESPI_NONE;
    f->res[R_RT].u.reading_type.accumulation_behaviour = ESPI_ACCUM_BULK_QUANTITY;
    f->use[R_IB1] = f->use[R_IB2] = 0;
    fx_run(f, &c);
    expect_clean(&c);
    free(f);
}

static void test_rules_power_of_ten_multiplier_not_in_set(void **state)
{
    (void)state;
    fx *f = fx_new();
    cap c;
    f->res[R_RT].u.reading_type.power_of_ten_multiplier = 4;
    fx_run(f, &c);
    expect_only(&c, "RT-002", 1, ESPI_SEV_ERROR);
    free(f);

    f = fx_new();
    f->res[R_RT].u.reading_type.power_of_ten_multiplier = -3;
    fx_run(f, &c);
    expect_clean(&c);
    free(f);
}

static void test_rules_negative_values_by_flow_direction(void **state)
{
    (void)state;
    fx *f = fx_new();
    cap c;
    f->rd2[1].value = -5;
    f->res[R_RT].u.reading_type.flow_direction = ESPI_FLOW_REVERSE;
    fx_run(f, &c);
    expect_only(&c, "RT-003", 1, ESPI_SEV_WARNING);
    free(f);

    f = fx_new();
    f->rd2[1].value = -5;
    fx_run(f, &c);
    expect_only(&c, "RT-004", 1, ESPI_SEV_WARNING);
    free(f);

    f = fx_new(); /* net metering may go negative */
    f->rd2[1].value = -5;
    f->res[R_RT].u.reading_type.flow_direction = ESPI_FLOW_NET;
    fx_run(f, &c);
    expect_clean(&c);
    free(f);
}

static void test_rules_delta_data_without_blocks(void **state)
{
    (void)state;
    fx *f = fx_new();
    cap c;
    f->use[R_IB1] = f->use[R_IB2] = 0;
    fx_run(f, &c);
    expect_only(&c, "RT-005", 1, ESPI_SEV_ERROR);
    assert_int_equal(c.line[0], 30);
    free(f);
}

static void test_rules_cost_without_currency(void **state)
{
    (void)state;
    fx *f = fx_new();
    cap c;
    f->res[R_RT].u.reading_type.currency = ESPI_NONE;
    fx_run(f, &c);
    expect_only(&c, "RT-006", 1, ESPI_SEV_WARNING);
    free(f);

    f = fx_new(); /* no cost in readings: currency not needed */
    f->res[R_RT].u.reading_type.currency = ESPI_NONE;
    for (int i = 0; i < N_READ; i++) f->rd1[i].cost = f->rd2[i].cost = ESPI_NONE;
    fx_run(f, &c);
    expect_clean(&c);
    free(f);
}

static void test_rules_kind_uom_implausible(void **state)
{
    (void)state;
    fx *f = fx_new();
    cap c;
    f->res[R_RT].u.reading_type.uom = ESPI_UOM_W; /* energy in watts */
    fx_run(f, &c);
    expect_only(&c, "RT-007", 1, ESPI_SEV_WARNING);
    free(f);

    f = fx_new();
    f->res[R_RT].u.reading_type.kind = ESPI_KIND_DEMAND;
    f->res[R_RT].u.reading_type.uom = ESPI_UOM_W;
    fx_run(f, &c);
    expect_clean(&c);
    free(f);
}

/* ---- LTP ---------------------------------------------------------------------- */

static espi_local_time_parameters *ltp_of(fx *f)
{
    return &f->res[R_LTP].u.local_time_parameters;
}

static void test_rules_tz_offset_out_of_range(void **state)
{
    (void)state;
    fx *f = fx_new();
    cap c;
    ltp_of(f)->tz_offset = 15 * 3600;
    fx_run(f, &c);
    expect_only(&c, "LTP-001", 1, ESPI_SEV_ERROR);
    free(f);

    f = fx_new();
    ltp_of(f)->tz_offset = -18000 + 60; /* not a quarter hour */
    fx_run(f, &c);
    expect_only(&c, "LTP-001", 1, ESPI_SEV_ERROR);
    free(f);

    f = fx_new(); /* India, +05:30 */
    ltp_of(f)->tz_offset = 19800;
    ltp_of(f)->dst_start_rule = ltp_of(f)->dst_end_rule = ESPI_DST_RULE_NONE;
    ltp_of(f)->dst_offset = 0;
    fx_run(f, &c);
    expect_clean(&c);
    free(f);
}

static void test_rules_dst_offset_not_a_shift(void **state)
{
    (void)state;
    fx *f = fx_new();
    cap c;
    ltp_of(f)->dst_offset = 2700;
    fx_run(f, &c);
    expect_only(&c, "LTP-002", 1, ESPI_SEV_ERROR);
    free(f);
}

static void test_rules_dst_rule_does_not_decode(void **state)
{
    (void)state;
    fx *f = fx_new();
    cap c;
    ltp_of(f)->dst_end_rule = 0xD40E2000u; /* month 13 */
    fx_run(f, &c);
    expect_only(&c, "LTP-003", 1, ESPI_SEV_ERROR);
    assert_non_null(strstr(c.msg[0], "D40E2000"));
    free(f);
}

static void test_rules_dst_rule_is_epoch_seconds(void **state)
{
    (void)state;
    fx *f = fx_new();
    cap c;
    ltp_of(f)->dst_start_rule = 0x65ED5A70u; /* Enbridge: 2024-03-10T07:00Z */
    ltp_of(f)->dst_end_rule = 0x67271160u;   /* 2024-11-03T06:00Z */
    fx_run(f, &c);
    expect_only(&c, "LTP-004", 2, ESPI_SEV_ERROR);
    assert_non_null(strstr(c.msg[0], "2024-03-10T07:00:00Z"));
    assert_non_null(strstr(c.msg[0], "epoch"));
    free(f);
}

static void test_rules_dst_start_after_end(void **state)
{
    (void)state;
    fx *f = fx_new();
    cap c;
    ltp_of(f)->dst_start_rule = 0xB40E2000u;
    ltp_of(f)->dst_end_rule = 0x360E2000u;
    fx_run(f, &c);
    expect_only(&c, "LTP-005", 1, ESPI_SEV_WARNING);
    assert_non_null(strstr(c.msg[0], "2012")); /* the data's year */
    free(f);
}

/* ---- US ------------------------------------------------------------------------- */

static espi_usage_summary *us_of(fx *f)
{
    return &f->res[R_US].u.usage_summary;
}

static void test_rules_summary_without_status_time_stamp(void **state)
{
    (void)state;
    fx *f = fx_new();
    cap c;
    us_of(f)->status_time_stamp = ESPI_NONE;
    fx_run(f, &c);
    expect_only(&c, "US-001", 1, ESPI_SEV_ERROR);
    free(f);
}

static void test_rules_summary_billing_period_not_positive(void **state)
{
    (void)state;
    fx *f = fx_new();
    cap c;
    us_of(f)->billing_period.duration = 0;
    fx_run(f, &c);
    expect_only(&c, "US-002", 1, ESPI_SEV_ERROR);
    free(f);
}

static void test_rules_line_items_do_not_add_up(void **state)
{
    (void)state;
    fx *f = fx_new();
    cap c;
    for (int i = 0; i < 3; i++) {
        espi_line_item_init(&f->items[i]);
        f->items[i].amount = 400000;
        f->items[i].item_kind = ESPI_ITEM_DELIVERY_FEE;
        snprintf(f->items[i].note, sizeof f->items[i].note, "fee %d", i);
    }
    us_of(f)->line_items = f->items;
    us_of(f)->n_line_items = 3;
    fx_run(f, &c); /* 1200000 != 1346000 */
    expect_only(&c, "US-003", 1, ESPI_SEV_WARNING);
    assert_non_null(strstr(c.msg[0], "1200000"));
    f->items[2].amount = 546000;
    fx_run(f, &c);
    expect_clean(&c);
    free(f);
}

static void test_rules_amounts_without_currency(void **state)
{
    (void)state;
    fx *f = fx_new();
    cap c;
    us_of(f)->currency = ESPI_NONE;
    fx_run(f, &c);
    expect_only(&c, "US-004", 1, ESPI_SEV_WARNING);
    free(f);

    f = fx_new(); /* no amounts, no currency needed */
    us_of(f)->currency = ESPI_NONE;
    us_of(f)->bill_last_period = us_of(f)->cost_additional_last_period = ESPI_NONE;
    fx_run(f, &c);
    expect_clean(&c);
    free(f);
}

/* ---- APP / AUTH (single-entry documents: no feed head) ------------------------------ */

static void run_single(espi_resource *res, cap *c)
{
    memset(c, 0, sizeof *c);
    espi_rules *r = espi_rules_new("t.xml", on_diag, c);
    assert_non_null(r);
    espi_rules_resource(r, res);
    espi_rules_finish(r);
    espi_rules_free(r);
}

static void test_rules_redirect_uri_not_https(void **state)
{
    (void)state;
    espi_entry e;
    espi_resource *res = calloc(1, sizeof *res);
    cap c;
    assert_non_null(res);
    entry_set(&e, 1, "https://dc.example/espi/1_1/resource/ApplicationInformation/1",
              "https://dc.example/espi/1_1/resource/ApplicationInformation", 5);
    res->type = ESPI_RES_APPLICATION_INFORMATION;
    res->entry = &e;
    espi_application_information *a = &res->u.application_information;
    espi_application_information_init(a);
    snprintf(a->redirect_uri[0], ESPI_URI_MAX, "https://tp.example/callback");
    snprintf(a->redirect_uri[1], ESPI_URI_MAX, "http://localhost:8080/cb");
    a->n_redirect_uri = 2;
    run_single(res, &c);
    expect_clean(&c);
    snprintf(a->redirect_uri[2], ESPI_URI_MAX, "http://localhost.evil.example/cb");
    snprintf(a->redirect_uri[3], ESPI_URI_MAX, "http://tp.example/cb");
    a->n_redirect_uri = 4;
    run_single(res, &c);
    expect_only(&c, "APP-001", 2, ESPI_SEV_WARNING);
    free(res);
}

static void test_rules_authorization_checks(void **state)
{
    (void)state;
    espi_entry e;
    espi_resource *res = calloc(1, sizeof *res);
    cap c;
    assert_non_null(res);
    entry_set(&e, 1, "https://dc.example/espi/1_1/resource/Authorization/1",
              "https://dc.example/espi/1_1/resource/Authorization", 5);
    res->type = ESPI_RES_AUTHORIZATION;
    res->entry = &e;
    espi_authorization *a = &res->u.authorization;
    espi_authorization_init(a);
    a->authorized_period.start = 1600000000;
    a->authorized_period.duration = 31604340;
    a->expires_at = 1600000000; /* equal to the start, as GBA's fixture has it */
    snprintf(a->resource_uri, sizeof a->resource_uri,
             "https://dc.example/espi/1_1/resource/Batch/Subscription/5");
    run_single(res, &c);
    expect_clean(&c);
    a->resource_uri[0] = '\0';
    run_single(res, &c);
    expect_only(&c, "AUTH-001", 1, ESPI_SEV_ERROR);
    snprintf(a->resource_uri, sizeof a->resource_uri, "https://dc.example/x");
    a->expires_at = 1599999999;
    run_single(res, &c);
    expect_only(&c, "AUTH-002", 1, ESPI_SEV_ERROR);
    free(res);
}

/* ---- API ------------------------------------------------------------------------- */

static void test_rules_suppressed_rule_is_not_reported_or_counted(void **state)
{
    (void)state;
    fx *f = fx_new();
    cap c;
    f->res[R_RT].u.reading_type.interval_length = 3600;
    fx_run_opts(f, &c, 0, "IB-005"); /* counts are checked against c inside */
    expect_clean(&c);
    free(f);
}

static void test_rules_suppress_rejects_long_ids(void **state)
{
    (void)state;
    espi_rules *r = espi_rules_new("t.xml", NULL, NULL);
    assert_non_null(r);
    assert_int_equal(espi_rules_suppress(r, "THIS-IS-FAR-TOO-LONG-001"), -1);
    assert_int_equal(espi_rules_suppress(r, "IB-003"), 0);
    espi_rules_free(r);
    espi_rules_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rules_clean_feed_has_no_findings),
        cmocka_unit_test(test_rules_clean_feed_reversed_has_no_findings),
        cmocka_unit_test(test_rules_absolute_hrefs_resolve_by_parent_self),
        cmocka_unit_test(test_rules_feed_head_missing_id_title_updated),
        cmocka_unit_test(test_rules_entry_without_id_self_or_up),
        cmocka_unit_test(test_rules_id_not_urn_uuid_is_warning),
        cmocka_unit_test(test_rules_published_after_updated_is_warning),
        cmocka_unit_test(test_rules_entry_dates_missing),
        cmocka_unit_test(test_rules_duplicate_entry_id),
        cmocka_unit_test(test_rules_duplicate_self_href),
        cmocka_unit_test(test_rules_blocks_of_one_entry_are_one_entry),
        cmocka_unit_test(test_rules_usage_point_without_meter_reading_collection),
        cmocka_unit_test(test_rules_usage_point_without_local_time_parameters),
        cmocka_unit_test(test_rules_meter_reading_needs_exactly_one_reading_type),
        cmocka_unit_test(test_rules_reading_type_link_unresolved),
        cmocka_unit_test(test_rules_meter_reading_without_block_collection),
        cmocka_unit_test(test_rules_block_up_link_unresolved),
        cmocka_unit_test(test_rules_related_entry_href_unresolved),
        cmocka_unit_test(test_rules_meter_reading_up_link_unresolved),
        cmocka_unit_test(test_rules_related_href_resolves_to_wrong_type),
        cmocka_unit_test(test_rules_summary_up_link_unresolved),
        cmocka_unit_test(test_rules_unreferenced_local_time_parameters),
        cmocka_unit_test(test_rules_reading_outside_block),
        cmocka_unit_test(test_rules_duplicate_reading_start),
        cmocka_unit_test(test_rules_unsorted_readings_warning),
        cmocka_unit_test(test_rules_overlapping_blocks),
        cmocka_unit_test(test_rules_reading_duration_differs_from_interval_length),
        cmocka_unit_test(test_rules_block_start_without_reading),
        cmocka_unit_test(test_rules_reading_without_time_period),
        cmocka_unit_test(test_rules_non_positive_durations),
        cmocka_unit_test(test_rules_milliseconds_timestamp),
        cmocka_unit_test(test_rules_negative_reading_start),
        cmocka_unit_test(test_rules_reading_type_without_uom),
        cmocka_unit_test(test_rules_power_of_ten_multiplier_not_in_set),
        cmocka_unit_test(test_rules_negative_values_by_flow_direction),
        cmocka_unit_test(test_rules_delta_data_without_blocks),
        cmocka_unit_test(test_rules_cost_without_currency),
        cmocka_unit_test(test_rules_kind_uom_implausible),
        cmocka_unit_test(test_rules_tz_offset_out_of_range),
        cmocka_unit_test(test_rules_dst_offset_not_a_shift),
        cmocka_unit_test(test_rules_dst_rule_does_not_decode),
        cmocka_unit_test(test_rules_dst_rule_is_epoch_seconds),
        cmocka_unit_test(test_rules_dst_start_after_end),
        cmocka_unit_test(test_rules_summary_without_status_time_stamp),
        cmocka_unit_test(test_rules_summary_billing_period_not_positive),
        cmocka_unit_test(test_rules_line_items_do_not_add_up),
        cmocka_unit_test(test_rules_amounts_without_currency),
        cmocka_unit_test(test_rules_redirect_uri_not_https),
        cmocka_unit_test(test_rules_authorization_checks),
        cmocka_unit_test(test_rules_suppressed_rule_is_not_reported_or_counted),
        cmocka_unit_test(test_rules_suppress_rejects_long_ids),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
