/* fuzz_opower.c -- libFuzzer target for the Opower CSV translator (interval,
 * daily, billing, offset timestamps), strict and lenient, with a sink that
 * checks the translator's promises: channels declared before use, positive
 * durations, readings of a channel strictly increasing and never sharing an
 * instant, bills with positive periods and no line items. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "opower.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct check {
    int n_ch;
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
    if (r->start < k->last_end[r->channel]) abort(); /* overlap or duplicate */
    k->last_end[r->channel] = r->start + r->duration;
    return 0;
}

static int on_bill(void *ctx, const tr_bill *b, eg_err *err)
{
    (void)ctx;
    (void)err;
    if (b->duration <= 0 || b->n_items != 0 || b->items) abort();
    return 0;
}

static tr_tz *zone(void)
{
    static tr_tz *z; /* loaded once per fuzzing process; read-only after */
    if (!z) {
        eg_err err;
        z = tr_tz_load("America/New_York", NULL, &err);
        if (!z) abort();
    }
    return z;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    for (int lenient = 0; lenient < 2; lenient++) {
        check k;
        tr_summary sum;
        tr_sink inner = {&k, on_channel, on_reading, NULL, on_bill}, sink;
        tr_options opts = {zone(), lenient};
        eg_err err;
        memset(&k, 0, sizeof k);
        tr_summary_init(&sum, opts.tz, &inner, &sink);
        FILE *in = fmemopen((void *)data, size ? size : 1, "r");
        if (!in) return 0;
        if (size == 0) fgetc(in); /* fmemopen refuses size 0: read past the byte */
        tr_opower_read(in, "fuzz.csv", &opts, &sink, &err);
        fclose(in);
    }
    return 0;
}
