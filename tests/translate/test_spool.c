/* test_spool.c -- the pass-1 spool replays exactly what it recorded, in
 * order, whether the records stay in memory, spill to the temporary file
 * part way, or go to the file only; memory taken from the shared budget is
 * given back. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "spool.h"

typedef struct seen {
    int channels, readings, skips, bills, items;
    int64_t next_start; /* readings must come back in order */
} seen;

static int on_channel(void *ctx, const tr_channel *ch, eg_err *err)
{
    seen *s = ctx;
    (void)err;
    assert_string_equal(ch->key, "k");
    s->channels++;
    return 0;
}

static int on_reading(void *ctx, const tr_reading *r, eg_err *err)
{
    seen *s = ctx;
    (void)err;
    assert_int_equal(r->start, s->next_start);
    assert_int_equal(r->value, r->start * 3);
    s->next_start += 900;
    s->readings++;
    return 0;
}

static int on_skip(void *ctx, const tr_skip *k, eg_err *err)
{
    seen *s = ctx;
    (void)err;
    assert_string_equal(k->reason, "why");
    s->skips++;
    return 0;
}

static int on_bill(void *ctx, const tr_bill *b, eg_err *err)
{
    seen *s = ctx;
    (void)err;
    assert_int_equal(b->n_items, 3);
    assert_int_equal(b->items[2].amount, 42);
    s->bills++;
    s->items += b->n_items;
    return 0;
}

/* Record a channel, n readings, a skip and a bill with 3 items; replay. */
static void round_trip(size_t *budget, int n)
{
    eg_err err;
    tr_sink tee, to;
    seen s = {0, 0, 0, 0, 0, 0};
    tr_channel ch;
    tr_skip sk;
    tr_line_item items[3];
    tr_bill b;
    memset(&ch, 0, sizeof ch);
    memset(&sk, 0, sizeof sk);
    memset(items, 0, sizeof items);
    memset(&b, 0, sizeof b);
    strcpy(ch.key, "k");
    strcpy(sk.reason, "why");
    items[2].amount = 42;
    b.items = items;
    b.n_items = 3;
    size_t before = budget ? *budget : 0;
    tr_spool *sp = tr_spool_new(NULL, &tee, budget, &err);
    assert_non_null(sp);
    assert_int_equal(tee.channel(tee.ctx, &ch, &err), 0);
    for (int i = 0; i < n; i++) {
        tr_reading r = {0, (int64_t)i * 900, 900, (int64_t)i * 900 * 3, ESPI_NONE, ESPI_NONE, 0, i};
        assert_int_equal(tee.reading(tee.ctx, &r, &err), 0);
    }
    assert_int_equal((tee.skip)(tee.ctx, &sk, &err), 0);
    assert_int_equal(tee.bill(tee.ctx, &b, &err), 0);
    to = (tr_sink){&s, on_channel, on_reading, on_skip, on_bill};
    for (int pass = 0; pass < 2; pass++) { /* replay twice: same events */
        memset(&s, 0, sizeof s);
        assert_int_equal(tr_spool_replay(sp, &to, &err), 0);
        assert_int_equal(s.channels, 1);
        assert_int_equal(s.readings, n);
        assert_int_equal(s.skips, 1);
        assert_int_equal(s.bills, 1);
        assert_int_equal(s.items, 3);
    }
    tr_spool_free(sp);
    if (budget) assert_int_equal(*budget, before);
}

static void test_spool_in_memory(void **state)
{
    size_t budget = (size_t)64 * 1024 * 1024;
    (void)state;
    round_trip(&budget, 10000);
}

static void test_spool_spills_to_the_file_when_the_budget_is_spent(void **state)
{
    size_t budget = (size_t)300 * 1024; /* one chunk: ~4000 readings, then the file */
    (void)state;
    round_trip(&budget, 20000);
}

static void test_spool_without_budget_uses_the_file(void **state)
{
    (void)state;
    round_trip(NULL, 5000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_spool_in_memory),
        cmocka_unit_test(test_spool_spills_to_the_file_when_the_budget_is_spent),
        cmocka_unit_test(test_spool_without_budget_uses_the_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
