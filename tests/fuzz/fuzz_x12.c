/* fuzz_x12.c -- libFuzzer target for the X12 tokenizer (x12.c) and the 867
 * translator on top of it (edi867.c), strict and lenient.  The tokenizer
 * half checks its own promises: every segment it hands out has a 2-3
 * character id and at most X12_MAX_ELEMENTS elements, and the envelope
 * depth stays 0..3; the translator half uses a sink that checks channels
 * are declared before use and a channel's readings never overlap. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "edi867.h"
#include "x12.h"

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
    if (r->start < k->last_end[r->channel]) abort();
    k->last_end[r->channel] = r->start + r->duration;
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

static FILE *open_mem(const uint8_t *data, size_t size)
{
    FILE *in = fmemopen((void *)data, size ? size : 1, "r");
    if (in && size == 0) fgetc(in); /* fmemopen refuses size 0: read past the byte */
    return in;
}

static void tokenize(const uint8_t *data, size_t size)
{
    tr_x12 x;
    eg_err err;
    char comp[16];
    FILE *in = open_mem(data, size);
    if (!in) return;
    tr_x12_init(&x, in, "fuzz.x12");
    while (tr_x12_next(&x, &err) == 1) {
        size_t n = strlen(tr_x12_id(&x));
        if (n < 2 || n > 3 || x.n_el >= X12_MAX_ELEMENTS || x.depth < 0 || x.depth > 3) abort();
        for (int i = 1; i <= x.n_el; i++) tr_x12_component(&x, tr_x12_el(&x, i), 2, comp, sizeof comp);
    }
    fclose(in);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    tokenize(data, size);
    for (int lenient = 0; lenient < 2; lenient++) {
        check k;
        tr_summary sum;
        tr_sink inner = {&k, on_channel, on_reading, NULL, NULL}, sink;
        tr_options opts = {zone(), lenient};
        eg_err err;
        memset(&k, 0, sizeof k);
        tr_summary_init(&sum, opts.tz, &inner, &sink);
        FILE *in = open_mem(data, size);
        if (!in) return 0;
        tr_edi867_read(in, "fuzz.x12", &opts, &sink, &err);
        fclose(in);
    }
    return 0;
}
