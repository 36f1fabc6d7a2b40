/* fuzz_reader.c -- libFuzzer target for the streaming ESPI reader.
 *
 * Feeds arbitrary bytes to espi_read_memory() with our schema checker on,
 * so the XML hardening (DOCTYPE refusal, depth/text limits), the model
 * mapping and the checker's event handling all see hostile input.  Limits
 * are lowered so a run explores them instead of spending time on memory.
 * The callbacks touch every field they are given, so ASan sees any read of
 * a borrowed buffer that is out of bounds.  Seeds: corpus/reader/. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "reader.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct fz_sink {
    uint64_t sum; /* keeps the compiler from dropping the reads */
} fz_sink;

static void fz_touch_link(fz_sink *s, const espi_link *l)
{
    s->sum += strlen(l->rel) + strlen(l->href) + strlen(l->type);
}

static int fz_head(void *ctx, const espi_feed_head *h, eg_err *err)
{
    fz_sink *s = ctx;
    (void)err;
    s->sum += strlen(h->id) + strlen(h->title) + (uint64_t)h->updated;
    fz_touch_link(s, &h->self);
    for (int i = 0; i < h->n_related; i++) fz_touch_link(s, &h->related[i]);
    return 0;
}

static int fz_resource(void *ctx, const espi_resource *r, eg_err *err)
{
    fz_sink *s = ctx;
    (void)err;
    if (r->entry) {
        s->sum += strlen(r->entry->id) + strlen(r->entry->title);
        fz_touch_link(s, &r->entry->self);
        fz_touch_link(s, &r->entry->up);
        for (int i = 0; i < r->entry->n_related; i++) fz_touch_link(s, &r->entry->related[i]);
    }
    switch (r->type) {
    case ESPI_RES_INTERVAL_BLOCK:
        for (size_t i = 0; i < r->u.interval_block.n_readings; i++) {
            const espi_interval_reading *ir = &r->u.interval_block.readings[i];
            s->sum += (uint64_t)ir->value + (uint64_t)ir->cost;
            for (int q = 0; q < ir->n_qualities; q++) s->sum += (uint64_t)ir->qualities[q];
        }
        break;
    case ESPI_RES_USAGE_SUMMARY:
        for (size_t i = 0; i < r->u.usage_summary.n_line_items; i++)
            s->sum += strlen(r->u.usage_summary.line_items[i].note);
        break;
    case ESPI_RES_BATCH_LIST:
        for (size_t i = 0; i < r->u.batch_list.n_resources; i++)
            s->sum += strlen(r->u.batch_list.resources[i]);
        break;
    case ESPI_RES_APPLICATION_INFORMATION:
        for (int i = 0; i < r->u.application_information.n_redirect_uri; i++)
            s->sum += strlen(r->u.application_information.redirect_uri[i]);
        break;
    default:
        break;
    }
    return 0;
}

static void fz_diag(void *ctx, const espi_diag *d)
{
    fz_sink *s = ctx;
    s->sum += strlen(d->rule) + strlen(d->msg) + (uint64_t)d->line;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_sink sink = {0};
    espi_reader_opts o;
    espi_reader_opts_init(&o);
    o.check_schema = 1;
    o.max_depth = 48;
    o.max_text = 16 * 1024;
    o.max_block_readings = 4096;
    o.max_line_items = 256;
    espi_reader_cbs cbs = {&sink, fz_head, fz_resource, fz_diag, NULL};
    espi_read_stats st;
    eg_err err;
    espi_read_memory((const char *)data, size, "fuzz.xml", &o, &cbs, &st, &err);
    return 0;
}
