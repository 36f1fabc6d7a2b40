/* fuzz_smarthub_csv.c -- libFuzzer target for the SmartHub CSV translator.
 *
 * Each input is translated twice, strict and lenient, into a sink that
 * checks the translator's promises: channels declared before their
 * readings, each channel's starts strictly increasing, positive durations.
 * A broken promise traps.  The zone is loaded once (configuration read at
 * start, as the server does); the per-run state lives on the stack. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "smarthub.h"

typedef struct check {
    int n_ch;
    int64_t last[TR_MAX_CHANNELS];
} check;

static const tr_tz *zone;

static int on_channel(void *ctx, const tr_channel *c, eg_err *err)
{
    check *k = ctx;
    (void)err;
    if (c->index != k->n_ch || k->n_ch >= TR_MAX_CHANNELS) __builtin_trap();
    k->last[k->n_ch++] = INT64_MIN;
    return 0;
}

static int on_reading(void *ctx, const tr_reading *r, eg_err *err)
{
    check *k = ctx;
    (void)err;
    if (r->channel < 0 || r->channel >= k->n_ch || r->start <= k->last[r->channel] ||
        r->duration <= 0)
        __builtin_trap();
    k->last[r->channel] = r->start;
    return 0;
}

static int on_skip(void *ctx, const tr_skip *s, eg_err *err)
{
    (void)ctx; (void)s; (void)err;
    return 0;
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    eg_err err;
    (void)argc; (void)argv;
    zone = tr_tz_load(TR_SMARTHUB_SAMPLE_ZONE, NULL, &err);
    if (!zone) abort();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    for (int lenient = 0; lenient <= 1; lenient++) {
        check k = {0, {0}};
        tr_sink sink = {&k, on_channel, on_reading, on_skip, NULL};
        tr_options o = {zone, lenient};
        eg_err err;
        FILE *in = fmemopen((void *)data, size, "r");
        if (!in) return 0;
        tr_smarthub_csv_read(in, "fuzz.csv", &o, &sink, &err);
        fclose(in);
    }
    return 0;
}
