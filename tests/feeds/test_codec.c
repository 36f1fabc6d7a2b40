/* test_codec.c -- the store's packed encodings (feeds/codec.c).
 *
 * Readings must come back exactly (every field, absent ones included, at
 * int64 extremes), a regular 15-minute day must pack into a few bytes a
 * reading, and any truncation of a blob must be refused, never misread. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "codec.h"

static void day_of_readings(espi_interval_reading *r, int n, int64_t start)
{
    for (int i = 0; i < n; i++) {
        espi_interval_reading_init(&r[i]);
        r[i].time_period.start = start + 900 * i;
        r[i].time_period.duration = 900;
        r[i].value = 300 + (i * 37) % 200;
    }
}

static void assert_same_reading(const espi_interval_reading *a, const espi_interval_reading *b)
{
    assert_int_equal(a->time_period.start, b->time_period.start);
    assert_int_equal(a->time_period.duration, b->time_period.duration);
    assert_int_equal(a->value, b->value);
    assert_int_equal(a->cost, b->cost);
    assert_int_equal(a->consumption_tier, b->consumption_tier);
    assert_int_equal(a->tou, b->tou);
    assert_int_equal(a->cpp, b->cpp);
    assert_int_equal(a->n_qualities, b->n_qualities);
    for (int q = 0; q < a->n_qualities; q++) assert_int_equal(a->qualities[q], b->qualities[q]);
}

/* Encode, decode, compare; returns the encoded size. */
static size_t round_trip(const espi_interval_reading *r, size_t n, int64_t start)
{
    espi_interval_block b = {{86400, start}, r, n};
    store_buf out;
    store_block_dec d;
    espi_interval_reading got;
    uint64_t count;
    store_buf_init(&out);
    assert_int_equal(store_codec_block_encode(&out, &b, NULL), 0);
    assert_int_equal(store_codec_block_begin(&d, out.p, out.len, start, &count, NULL), 0);
    assert_int_equal(count, n);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(store_codec_block_next(&d, &got, NULL), 1);
        assert_same_reading(&r[i], &got);
    }
    assert_int_equal(store_codec_block_next(&d, &got, NULL), 0);
    size_t len = out.len;
    store_buf_release(&out);
    return len;
}

static void test_codec_regular_day_packs_under_3_bytes_a_reading(void **state)
{
    espi_interval_reading r[96];
    (void)state;
    day_of_readings(r, 96, 1704067200);
    size_t len = round_trip(r, 96, 1704067200);
    assert_true(len < 96 * 3);
}

static void test_codec_irregular_times_absent_fields_and_extremes(void **state)
{
    espi_interval_reading r[6];
    (void)state;
    day_of_readings(r, 6, 1000);
    r[1].time_period.start += 17;            /* a gap */
    r[2].time_period.duration = ESPI_NONE;   /* no duration */
    r[3].value = INT64_MAX;
    r[4].value = INT64_MIN + 1;              /* delta overflows int64 */
    r[5].value = ESPI_NONE;
    r[0].cost = 974;
    r[4].cost = -5;
    r[2].n_qualities = 2;
    r[2].qualities[0] = 8;
    r[2].qualities[1] = 17;
    r[3].tou = 2;
    r[5].cpp = 1;
    r[1].consumption_tier = INT64_MIN + 1;
    round_trip(r, 6, 1000);
}

static void test_codec_empty_block(void **state)
{
    (void)state;
    assert_int_equal(round_trip(NULL, 0, 0), 2);
}

static void test_codec_every_truncation_is_refused(void **state)
{
    espi_interval_reading r[10];
    (void)state;
    day_of_readings(r, 10, 5000);
    r[3].cost = 12;
    r[4].n_qualities = 1;
    r[4].qualities[0] = 9;
    espi_interval_block b = {{9000, 5000}, r, 10};
    store_buf out;
    store_buf_init(&out);
    assert_int_equal(store_codec_block_encode(&out, &b, NULL), 0);
    for (size_t cut = 0; cut < out.len; cut++) {
        store_block_dec d;
        espi_interval_reading got;
        uint64_t n;
        eg_err err;
        int rc = store_codec_block_begin(&d, out.p, cut, 5000, &n, &err);
        if (rc == 0) {
            while ((rc = store_codec_block_next(&d, &got, &err)) == 1) {}
        }
        assert_int_equal(rc, EG_EDATA);
    }
    store_buf_release(&out);
}

static void test_codec_ids_pack_to_17_bytes_and_back(void **state)
{
    static const char *const ids[] = {"urn:uuid:0071c5a7-91cf-434e-8bce-c38ac8af215d",
                                      "urn:uuid:0071C5A7-91CF-434E-8BCE-C38AC8AF215D",
                                      "urn:uuid:0071C5A7-91cf-434E-8BCE-C38AC8AF215D",
                                      "tag:example.com,2024:up/1", ""};
    unsigned char p[STORE_ID_PACKED_MAX];
    char back[ESPI_ID_MAX];
    (void)state;
    for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++) {
        size_t n = store_codec_id_pack(ids[i], p);
        if (i < 2) assert_int_equal(n, 17);
        assert_int_equal(store_codec_id_unpack(p, n, back), 0);
        assert_string_equal(back, ids[i]);
    }
}

static void test_codec_usage_summary_with_line_items_round_trips(void **state)
{
    espi_resource r, got;
    espi_line_item li[2];
    store_buf out;
    store_line_items items = {0};
    (void)state;
    memset(&r, 0, sizeof r);
    r.type = ESPI_RES_USAGE_SUMMARY;
    espi_usage_summary_init(&r.u.usage_summary);
    r.u.usage_summary.billing_period.start = 1704067200;
    r.u.usage_summary.billing_period.duration = 31 * 86400;
    r.u.usage_summary.status_time_stamp = 1706745600;
    r.u.usage_summary.overall_consumption_last_period.value = 123456;
    r.u.usage_summary.overall_consumption_last_period.uom = 72;
    snprintf(r.u.usage_summary.tariff_profile, ESPI_STR256, "E-1 <residential>");
    for (int i = 0; i < 2; i++) {
        espi_line_item_init(&li[i]);
        li[i].amount = 1000 * (i + 1);
        snprintf(li[i].note, sizeof li[i].note, "item %d", i);
    }
    r.u.usage_summary.line_items = li;
    r.u.usage_summary.n_line_items = 2;
    store_buf_init(&out);
    assert_int_equal(store_codec_resource_encode(&out, &r), 0);
    const unsigned char *p = out.p;
    assert_int_equal(store_codec_resource_decode(&p, out.p + out.len, ESPI_RES_USAGE_SUMMARY, &got,
                                                 &items, NULL), 0);
    assert_ptr_equal(p, out.p + out.len);
    const espi_usage_summary *s = &got.u.usage_summary;
    assert_int_equal(s->billing_period.duration, 31 * 86400);
    assert_int_equal(s->overall_consumption_last_period.value, 123456);
    assert_int_equal(s->peak_demand.value, ESPI_NONE);
    assert_string_equal(s->tariff_profile, "E-1 <residential>");
    assert_int_equal(s->n_line_items, 2);
    assert_int_equal(s->line_items[1].amount, 2000);
    assert_string_equal(s->line_items[1].note, "item 1");
    /* a cut blob is refused */
    p = out.p;
    assert_int_equal(store_codec_resource_decode(&p, out.p + out.len - 1, ESPI_RES_USAGE_SUMMARY,
                                                 &got, &items, NULL), EG_EDATA);
    store_line_items_release(&items);
    store_buf_release(&out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_codec_regular_day_packs_under_3_bytes_a_reading),
        cmocka_unit_test(test_codec_irregular_times_absent_fields_and_extremes),
        cmocka_unit_test(test_codec_empty_block),
        cmocka_unit_test(test_codec_every_truncation_is_refused),
        cmocka_unit_test(test_codec_ids_pack_to_17_bytes_and_back),
        cmocka_unit_test(test_codec_usage_summary_with_line_items_round_trips),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
