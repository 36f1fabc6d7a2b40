/* fuzz_bill.c -- libFuzzer target for the bill readers: the first byte picks
 * the billing CSV reader ('c', history or line items by header) or the bill
 * text reader (anything else); the rest is the input.  Strict and lenient.
 * The sink checks the promises: channels declared before use, a channel's
 * readings never overlapping, bills with 0..TR_MAX_LINE_ITEMS items, a
 * positive period when there is one, and -- in strict mode -- items adding
 * up to the bill's total.  (The PDF path is poppler's parser plus this text
 * parser; fuzzing poppler itself is its project's business.) */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bill.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct check {
    int n_ch, lenient;
    int64_t last_end[TR_MAX_CHANNELS];
} check;

static int on_channel(void *ctx, const tr_channel *c, eg_err *err)
{
    check *k = ctx;
    (void)err;
    if (c->index != k->n_ch || k->n_ch >= TR_MAX_CHANNELS) abort();
    k->last_end[k->n_ch++] = INT64_MIN;
    return 0;
}

static int on_reading(void *ctx, const tr_reading *r, eg_err *err)
{
    check *k = ctx;
    (void)err;
    if (r->channel < 0 || r->channel >= k->n_ch || r->duration <= 0) abort();
    if (r->start < k->last_end[r->channel]) abort();
    k->last_end[r->channel] = r->start + r->duration;
    return 0;
}

static int on_bill(void *ctx, const tr_bill *b, eg_err *err)
{
    check *k = ctx;
    int64_t sum = 0;
    (void)err;
    if (b->n_items < 0 || b->n_items > TR_MAX_LINE_ITEMS || (b->n_items && !b->items)) abort();
    if (b->start != ESPI_NONE && b->duration <= 0) abort();
    if (!b->key[0] || !b->usage_point[0]) abort();
    for (int i = 0; i < b->n_items; i++) sum += b->items[i].amount;
    if (!k->lenient && b->bill_total != ESPI_NONE && sum != b->bill_total) abort();
    return 0;
}

static tr_tz *zone(void)
{
    static tr_tz *z; /* loaded once per fuzzing process; read-only after */
    if (!z) {
        eg_err err;
        z = tr_tz_load("America/Chicago", NULL, &err);
        if (!z) abort();
    }
    return z;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0) return 0;
    int csv = data[0] == 'c';
    data++, size--;
    for (int lenient = 0; lenient < 2; lenient++) {
        check k;
        tr_sink sink = {&k, on_channel, on_reading, NULL, on_bill};
        tr_options opts = {zone(), lenient};
        eg_err err;
        memset(&k, 0, sizeof k);
        k.lenient = lenient;
        if (csv) {
            FILE *in = fmemopen((void *)data, size ? size : 1, "r");
            if (!in) return 0;
            if (size == 0) fgetc(in);
            tr_bill_csv_read(in, "fuzz.csv", &opts, &sink, &err);
            fclose(in);
        } else {
            tr_bill_text_parse((const char *)data, size, "fuzz.txt", &opts, &sink, &err);
        }
    }
    return 0;
}
