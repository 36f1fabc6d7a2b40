/* spool.c -- see spool.h.  Records are a one-byte tag followed by the
 * struct as it is in memory (the file never leaves this process); a bill is
 * followed by its line items. */
#include "spool.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct tr_spool {
    FILE *f;
    const tr_sink *next;
    int failed;            /* a write failed: replay refuses */
};

enum { SP_CHANNEL = 'C', SP_READING = 'R', SP_SKIP = 'S', SP_BILL = 'B' };

static int record(tr_spool *sp, int tag, const void *p, size_t n, eg_err *err)
{
    if (putc(tag, sp->f) == EOF || fwrite(p, 1, n, sp->f) != n) {
        sp->failed = 1;
        return eg_errf(err, EG_EIO, NULL, 0, 0, "cannot write the temporary spool file: %s",
                       strerror(errno));
    }
    return 0;
}

static int sp_channel(void *ctx, const tr_channel *ch, eg_err *err)
{
    tr_spool *sp = ctx;
    int rc = record(sp, SP_CHANNEL, ch, sizeof *ch, err);
    if (rc || !sp->next || !sp->next->channel) return rc;
    return sp->next->channel(sp->next->ctx, ch, err);
}

static int sp_reading(void *ctx, const tr_reading *r, eg_err *err)
{
    tr_spool *sp = ctx;
    int rc = record(sp, SP_READING, r, sizeof *r, err);
    if (rc || !sp->next || !sp->next->reading) return rc;
    return sp->next->reading(sp->next->ctx, r, err);
}

static int sp_skip(void *ctx, const tr_skip *s, eg_err *err)
{
    tr_spool *sp = ctx;
    int rc = record(sp, SP_SKIP, s, sizeof *s, err);
    if (rc || !sp->next || !sp->next->skip) return rc;
    return sp->next->skip(sp->next->ctx, s, err);
}

static int sp_bill(void *ctx, const tr_bill *b, eg_err *err)
{
    tr_spool *sp = ctx;
    int rc = record(sp, SP_BILL, b, sizeof *b, err);
    if (!rc && b->n_items > 0 &&
        fwrite(b->items, sizeof *b->items, (size_t)b->n_items, sp->f) != (size_t)b->n_items) {
        sp->failed = 1;
        rc = eg_errf(err, EG_EIO, NULL, 0, 0, "cannot write the temporary spool file: %s",
                     strerror(errno));
    }
    if (rc || !sp->next || !sp->next->bill) return rc;
    return sp->next->bill(sp->next->ctx, b, err);
}

tr_spool *tr_spool_new(const tr_sink *next, tr_sink *sink, eg_err *err)
{
    tr_spool *sp = calloc(1, sizeof *sp);
    if (!sp) {
        eg_errf(err, EG_ENOMEM, NULL, 0, 0, "out of memory");
        return NULL;
    }
    if (!(sp->f = tmpfile())) {
        eg_errf(err, EG_EIO, NULL, 0, 0, "cannot create a temporary spool file: %s",
                strerror(errno));
        free(sp);
        return NULL;
    }
    sp->next = next;
    *sink = (tr_sink){sp, sp_channel, sp_reading, sp_skip, sp_bill};
    return sp;
}

static int read_exact(tr_spool *sp, void *p, size_t n, eg_err *err)
{
    if (fread(p, 1, n, sp->f) == n) return 0;
    return eg_errf(err, EG_EIO, NULL, 0, 0, "the temporary spool file is short (disk error?)");
}

int tr_spool_replay(tr_spool *sp, const tr_sink *to, eg_err *err)
{
    tr_line_item items[TR_MAX_LINE_ITEMS];
    int rc = 0, tag;
    if (sp->failed || fflush(sp->f) != 0 || fseek(sp->f, 0, SEEK_SET) != 0)
        return eg_errf(err, EG_EIO, NULL, 0, 0, "the temporary spool file cannot be read back");
    while (!rc && (tag = getc(sp->f)) != EOF) {
        switch (tag) {
        case SP_CHANNEL: {
            tr_channel ch;
            if (!(rc = read_exact(sp, &ch, sizeof ch, err)) && to->channel)
                rc = to->channel(to->ctx, &ch, err);
            break;
        }
        case SP_READING: {
            tr_reading r;
            if (!(rc = read_exact(sp, &r, sizeof r, err)) && to->reading)
                rc = to->reading(to->ctx, &r, err);
            break;
        }
        case SP_SKIP: {
            tr_skip s;
            if (!(rc = read_exact(sp, &s, sizeof s, err)) && to->skip) rc = to->skip(to->ctx, &s, err);
            break;
        }
        case SP_BILL: {
            tr_bill b;
            if ((rc = read_exact(sp, &b, sizeof b, err))) break;
            if (b.n_items < 0 || b.n_items > TR_MAX_LINE_ITEMS)
                return eg_errf(err, EG_ESOFTWARE, NULL, 0, 0, "spool: bill with %d items", b.n_items);
            if (b.n_items && (rc = read_exact(sp, items, sizeof *items * (size_t)b.n_items, err)))
                break;
            b.items = items;
            if (to->bill) rc = to->bill(to->ctx, &b, err);
            break;
        }
        default:
            return eg_errf(err, EG_ESOFTWARE, NULL, 0, 0, "spool: unknown record tag %d", tag);
        }
    }
    return rc;
}

void tr_spool_free(tr_spool *sp)
{
    if (!sp) return;
    if (sp->f) fclose(sp->f);
    free(sp);
}
