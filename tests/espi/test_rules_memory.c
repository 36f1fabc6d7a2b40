/* test_rules_memory.c -- the rules engine's memory per IntervalBlock entry.
 *
 * `espigate validate` and `import` must run in memory that barely grows
 * with a feed: blocks are >99% of a real feed's entries, so the engine may
 * keep at most a few dozen bytes per block entry.  These tests feed a large
 * synthetic feed (one UsagePoint, MeterReading and ReadingType, then
 * 200,000 one-reading IntervalBlock entries) and hold the engine's own
 * accounting (espi_rules_memory) to that, then check that what the compact
 * records keep still gives exact findings: a duplicate id and an overlap
 * among the 200,000, and block fields too large for the compact record. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rules.h"

#define N_BLOCKS 200000
#define MAX_BYTES_PER_BLOCK 48
#define T0 INT64_C(1330578000) /* 2012-03-01T05:00:00Z */
#define UP_SELF "RetailCustomer/1/UsagePoint/01"
#define MR_SELF UP_SELF "/MeterReading/01"

typedef struct cap {
    int n;
    char rule[16][16];
    long line[16];
    char msg[16][256];
} cap;

static void on_diag(void *ctx, const espi_diag *d)
{
    cap *c = ctx;
    if (c->n >= 16) return;
    snprintf(c->rule[c->n], sizeof c->rule[0], "%s", d->rule);
    snprintf(c->msg[c->n], sizeof c->msg[0], "%s", d->msg);
    c->line[c->n] = d->line;
    c->n++;
}

static void print_all(const cap *c)
{
    for (int i = 0; i < c->n; i++)
        print_message("  line %ld %s: %s\n", c->line[i], c->rule[i], c->msg[i]);
}

static void link_set(espi_link *l, const char *rel, const char *href)
{
    snprintf(l->rel, sizeof l->rel, "%s", rel);
    snprintf(l->href, sizeof l->href, "%s", href);
}

static void entry_set(espi_entry *e, long n, const char *self, const char *up, long line)
{
    espi_entry_init(e);
    snprintf(e->id, sizeof e->id, "urn:uuid:00000000-0000-5000-8000-%012ld", n);
    e->published = e->updated = T0;
    link_set(&e->self, "self", self);
    link_set(&e->up, "up", up);
    e->line = line;
}

/* UsagePoint, LocalTimeParameters, MeterReading and ReadingType, clean. */
static void feed_head_entries(espi_rules *r)
{
    espi_feed_head h;
    memset(&h, 0, sizeof h);
    snprintf(h.id, sizeof h.id, "urn:uuid:00000000-0000-5000-8000-999999999999");
    snprintf(h.title, sizeof h.title, "Batch Feed");
    h.updated = T0;
    espi_rules_feed_head(r, &h, 2);

    espi_entry e;
    espi_resource res;
    memset(&res, 0, sizeof res);
    res.entry = &e;
    entry_set(&e, 999999000001, UP_SELF, "RetailCustomer/1/UsagePoint", 10);
    link_set(&e.related[e.n_related++], "related", UP_SELF "/MeterReading");
    link_set(&e.related[e.n_related++], "related", "LocalTimeParameters/01");
    res.type = ESPI_RES_USAGE_POINT;
    espi_usage_point_init(&res.u.usage_point);
    espi_rules_resource(r, &res);

    entry_set(&e, 999999000002, "LocalTimeParameters/01", "LocalTimeParameters", 20);
    res.type = ESPI_RES_LOCAL_TIME_PARAMETERS;
    espi_local_time_parameters_init(&res.u.local_time_parameters);
    res.u.local_time_parameters.dst_start_rule = 0x360E2000u;
    res.u.local_time_parameters.dst_end_rule = 0xB40E2000u;
    res.u.local_time_parameters.dst_offset = 3600;
    res.u.local_time_parameters.tz_offset = -18000;
    espi_rules_resource(r, &res);

    entry_set(&e, 999999000003, MR_SELF, UP_SELF "/MeterReading", 30);
    link_set(&e.related[e.n_related++], "related", MR_SELF "/IntervalBlock");
    link_set(&e.related[e.n_related++], "related", "ReadingType/07");
    res.type = ESPI_RES_METER_READING;
    espi_rules_resource(r, &res);

    entry_set(&e, 999999000004, "ReadingType/07", "ReadingType", 40);
    res.type = ESPI_RES_READING_TYPE;
    espi_reading_type *rt = &res.u.reading_type;
    espi_reading_type_init(rt);
    rt->accumulation_behaviour = ESPI_ACCUM_DELTA_DATA;
    rt->flow_direction = ESPI_FLOW_FORWARD;
    rt->interval_length = 3600;
    rt->kind = ESPI_KIND_ENERGY;
    rt->power_of_ten_multiplier = 0;
    rt->uom = ESPI_UOM_WH;
    espi_rules_resource(r, &res);
}

/* One IntervalBlock entry number n (its own id and self href) at line,
 * holding one hourly reading from start. */
static void feed_block(espi_rules *r, long n, int64_t start, long line)
{
    espi_entry e;
    espi_resource res;
    espi_interval_reading rd;
    char self[128];
    snprintf(self, sizeof self, MR_SELF "/IntervalBlock/%ld", n);
    entry_set(&e, n, self, MR_SELF "/IntervalBlock", line);
    espi_interval_reading_init(&rd);
    rd.time_period.start = start;
    rd.time_period.duration = 3600;
    rd.value = 500;
    memset(&res, 0, sizeof res);
    res.type = ESPI_RES_INTERVAL_BLOCK;
    res.entry = &e;
    res.u.interval_block.interval.start = start;
    res.u.interval_block.interval.duration = 3600;
    res.u.interval_block.readings = &rd;
    res.u.interval_block.n_readings = 1;
    espi_rules_resource(r, &res);
}

static espi_rules *feed_many_blocks(cap *c, size_t *after_head)
{
    memset(c, 0, sizeof *c);
    espi_rules *r = espi_rules_new("big.xml", on_diag, c);
    assert_non_null(r);
    feed_head_entries(r);
    *after_head = espi_rules_memory(r);
    for (long i = 0; i < N_BLOCKS; i++) feed_block(r, i, T0 + 3600 * i, 100 + 12 * i);
    return r;
}

static void test_rules_memory_per_block_entry_is_small(void **state)
{
    (void)state;
    cap c;
    size_t base;
    espi_rules *r = feed_many_blocks(&c, &base);
    size_t held = espi_rules_memory(r);
    double per_block = (double)(held - base) / N_BLOCKS;
    print_message("  %d blocks: %zu bytes held (%zu before them), %.1f bytes per block\n",
                  N_BLOCKS, held, base, per_block);
    assert_true(held > base);
    assert_true(per_block < MAX_BYTES_PER_BLOCK);
    espi_rules_finish(r);
    if (c.n) print_all(&c);
    assert_int_equal(c.n, 0); /* all 200,000 blocks attached, no overlap */
    espi_rules_free(r);
}

static void test_rules_memory_does_not_grow_with_readings(void **state)
{
    (void)state;
    /* Same entries, 96 readings a block instead of 1: same memory. */
    espi_rules *a = espi_rules_new("a.xml", NULL, NULL), *b = espi_rules_new("b.xml", NULL, NULL);
    assert_non_null(a);
    assert_non_null(b);
    static espi_interval_reading rd[96];
    for (long i = 0; i < 2000; i++) {
        feed_block(a, i, T0 + 86400 * i, 100 + 12 * i);
        espi_entry e;
        espi_resource res;
        char self[128];
        snprintf(self, sizeof self, MR_SELF "/IntervalBlock/%ld", i);
        entry_set(&e, i, self, MR_SELF "/IntervalBlock", 100 + 12 * i);
        for (int j = 0; j < 96; j++) {
            espi_interval_reading_init(&rd[j]);
            rd[j].time_period.start = T0 + 86400 * i + 900 * j;
            rd[j].time_period.duration = 900;
            rd[j].value = j;
        }
        memset(&res, 0, sizeof res);
        res.type = ESPI_RES_INTERVAL_BLOCK;
        res.entry = &e;
        res.u.interval_block.interval.start = T0 + 86400 * i;
        res.u.interval_block.interval.duration = 86400;
        res.u.interval_block.readings = rd;
        res.u.interval_block.n_readings = 96;
        espi_rules_resource(b, &res);
    }
    assert_int_equal(espi_rules_memory(a), espi_rules_memory(b));
    espi_rules_free(a);
    espi_rules_free(b);
}

static void test_rules_memory_compact_records_keep_exact_findings(void **state)
{
    (void)state;
    cap c;
    size_t base;
    espi_rules *r = feed_many_blocks(&c, &base);
    long line = 100 + 12 * (long)N_BLOCKS;
    /* Block 123's id again, under a new self href: ID-001 names its line. */
    espi_entry e;
    espi_resource res;
    espi_interval_reading rd;
    entry_set(&e, 123, MR_SELF "/IntervalBlock/x", MR_SELF "/IntervalBlock", line);
    espi_interval_reading_init(&rd);
    rd.time_period.start = T0 + 3600 * (int64_t)N_BLOCKS;
    rd.time_period.duration = 3600;
    memset(&res, 0, sizeof res);
    res.type = ESPI_RES_INTERVAL_BLOCK;
    res.entry = &e;
    res.u.interval_block.interval.start = rd.time_period.start;
    res.u.interval_block.interval.duration = 3600;
    res.u.interval_block.readings = &rd;
    res.u.interval_block.n_readings = 1;
    espi_rules_resource(r, &res);
    assert_int_equal(c.n, 1);
    assert_string_equal(c.rule[0], "ID-001");
    assert_int_equal(c.line[0], line);
    assert_non_null(strstr(c.msg[0], "line 1576")); /* 100 + 12 * 123 */
    espi_rules_finish(r);
    espi_rules_free(r);

    /* An hour from the middle of block 500 overlaps blocks 500 and 501. */
    r = feed_many_blocks(&c, &base);
    feed_block(r, N_BLOCKS + 1, T0 + 3600 * 500 + 1800, line);
    espi_rules_finish(r);
    if (c.n != 2) print_all(&c);
    assert_int_equal(c.n, 2);
    assert_string_equal(c.rule[0], "IB-004");
    assert_int_equal(c.line[0], line);
    assert_non_null(strstr(c.msg[0], "(entry line 6100)")); /* 100 + 12 * 500 */
    assert_string_equal(c.rule[1], "IB-004");
    assert_int_equal(c.line[1], 6112);
    espi_rules_free(r);
}

static void test_rules_memory_wide_block_fields_stay_exact(void **state)
{
    (void)state;
    cap c;
    memset(&c, 0, sizeof c);
    espi_rules *r = espi_rules_new("wide.xml", on_diag, &c);
    assert_non_null(r);
    feed_head_entries(r);
    /* Starts past 32 bits (milliseconds) and a line past 32 bits: the
     * overlap message quotes both exactly. */
    int64_t ms = (T0 + 7200) * 1000;
    long far = (long)INT64_C(5000000000);
    feed_block(r, 1, ms, far);
    feed_block(r, 2, ms, far + 40);
    espi_rules_finish(r);
    int ib004 = -1;
    for (int i = 0; i < c.n; i++)
        if (strcmp(c.rule[i], "IB-004") == 0) ib004 = i;
    if (ib004 < 0) print_all(&c);
    assert_true(ib004 >= 0);
    assert_int_equal(c.line[ib004], far + 40);
    char want[160];
    snprintf(want, sizeof want, "starting %lld repeats the block starting %lld (entry line %ld)",
             (long long)ms, (long long)ms, far);
    assert_non_null(strstr(c.msg[ib004], want));
    espi_rules_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rules_memory_per_block_entry_is_small),
        cmocka_unit_test(test_rules_memory_does_not_grow_with_readings),
        cmocka_unit_test(test_rules_memory_compact_records_keep_exact_findings),
        cmocka_unit_test(test_rules_memory_wide_block_fields_stay_exact),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
