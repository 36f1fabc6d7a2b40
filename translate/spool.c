/* spool.c -- see spool.h.  Records are a one-byte tag followed by the
 * struct as it is in memory (the records never leave this process); a bill
 * is followed by its line items.
 *
 * Records go to memory first, in chunks of SPOOL_CHUNK taken from the
 * caller's budget (shared by every spool of a run, so the total stays
 * bounded however many inputs there are); once the budget is spent, the rest
 * goes to an anonymous temporary file.  Replay reads the memory part, then
 * the file part: the order is the recording order either way. */
#include "spool.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SPOOL_CHUNK ((size_t)256 * 1024)

struct tr_spool {
    unsigned char *mem;    /* records kept in memory */
    size_t mem_len, mem_cap;
    size_t *budget;        /* bytes of memory the spools may still take; NULL = none */
    FILE *f;               /* the overflow, NULL until needed */
    const tr_sink *next;
    int failed;            /* a write failed: replay refuses */
};

enum { SP_CHANNEL = 'C', SP_READING = 'R', SP_SKIP = 'S', SP_BILL = 'B' };

static int write_failed(tr_spool *sp, eg_err *err)
{
    sp->failed = 1;
    return eg_errf(err, EG_EIO, NULL, 0, 0, "cannot write the temporary spool file: %s",
                   strerror(errno));
}

/* Make room for n more bytes in memory while the budget allows; 1 when there is. */
static int reserve(tr_spool *sp, size_t n)
{
    if (sp->f) return 0; /* once spilled, always the file: the order is kept */
    if (sp->mem_cap - sp->mem_len >= n) return 1;
    size_t grow = SPOOL_CHUNK > n ? SPOOL_CHUNK : n;
    if (!sp->budget || *sp->budget < grow) return 0;
    unsigned char *m = realloc(sp->mem, sp->mem_cap + grow);
    if (!m) return 0;
    sp->mem = m;
    sp->mem_cap += grow;
    *sp->budget -= grow;
    return 1;
}

/* One record: tag, p[0..n), then extra[0..extra_n) -- whole, in memory or in
 * the file, never split between them. */
static int record(tr_spool *sp, int tag, const void *p, size_t n, const void *extra,
                  size_t extra_n, eg_err *err)
{
    unsigned char t = (unsigned char)tag;
    if (reserve(sp, 1 + n + extra_n)) {
        unsigned char *m = sp->mem + sp->mem_len;
        m[0] = t;
        memcpy(m + 1, p, n);
        if (extra_n) memcpy(m + 1 + n, extra, extra_n);
        sp->mem_len += 1 + n + extra_n;
        return 0;
    }
    if (!sp->f && !(sp->f = tmpfile())) {
        sp->failed = 1;
        return eg_errf(err, EG_EIO, NULL, 0, 0, "cannot create a temporary spool file: %s",
                       strerror(errno));
    }
    if (putc(t, sp->f) == EOF || fwrite(p, 1, n, sp->f) != n ||
        (extra_n && fwrite(extra, 1, extra_n, sp->f) != extra_n))
        return write_failed(sp, err);
    return 0;
}

static int sp_channel(void *ctx, const tr_channel *ch, eg_err *err)
{
    tr_spool *sp = ctx;
    int rc = record(sp, SP_CHANNEL, ch, sizeof *ch, NULL, 0, err);
    if (rc || !sp->next || !sp->next->channel) return rc;
    return sp->next->channel(sp->next->ctx, ch, err);
}

static int sp_reading(void *ctx, const tr_reading *r, eg_err *err)
{
    tr_spool *sp = ctx;
    int rc = record(sp, SP_READING, r, sizeof *r, NULL, 0, err);
    if (rc || !sp->next || !sp->next->reading) return rc;
    return sp->next->reading(sp->next->ctx, r, err);
}

static int sp_skip(void *ctx, const tr_skip *s, eg_err *err)
{
    tr_spool *sp = ctx;
    int rc = record(sp, SP_SKIP, s, sizeof *s, NULL, 0, err);
    if (rc || !sp->next || !sp->next->skip) return rc;
    return sp->next->skip(sp->next->ctx, s, err);
}

static int sp_bill(void *ctx, const tr_bill *b, eg_err *err)
{
    tr_spool *sp = ctx;
    size_t items = b->n_items > 0 ? sizeof *b->items * (size_t)b->n_items : 0;
    int rc = record(sp, SP_BILL, b, sizeof *b, b->items, items, err);
    if (rc || !sp->next || !sp->next->bill) return rc;
    return sp->next->bill(sp->next->ctx, b, err);
}

tr_spool *tr_spool_new(const tr_sink *next, tr_sink *sink, size_t *mem_budget, eg_err *err)
{
    tr_spool *sp = calloc(1, sizeof *sp);
    if (!sp) {
        eg_errf(err, EG_ENOMEM, NULL, 0, 0, "out of memory");
        return NULL;
    }
    sp->budget = mem_budget;
    sp->next = next;
    *sink = (tr_sink){sp, sp_channel, sp_reading, sp_skip, sp_bill};
    return sp;
}

/* Replay's reader: the memory part, then the file part. */
typedef struct sp_cursor {
    tr_spool *sp;
    size_t pos;            /* in sp->mem */
} sp_cursor;

/* n bytes into p: 1 done, 0 at the end, < 0 short (err filled). */
static int take(sp_cursor *c, void *p, size_t n, int first, eg_err *err)
{
    tr_spool *sp = c->sp;
    if (c->pos < sp->mem_len) {
        if (sp->mem_len - c->pos < n) goto short_read; /* a record never straddles the parts */
        memcpy(p, sp->mem + c->pos, n);
        c->pos += n;
        return 1;
    }
    if (!sp->f) {
        if (first) return 0;
        goto short_read;
    }
    size_t got = fread(p, 1, n, sp->f);
    if (got == n) return 1;
    if (got == 0 && first && !ferror(sp->f)) return 0;
short_read:
    return eg_errf(err, EG_EIO, NULL, 0, 0, "the temporary spool file is short (disk error?)");
}

int tr_spool_replay(tr_spool *sp, const tr_sink *to, eg_err *err)
{
    tr_line_item items[TR_MAX_LINE_ITEMS];
    sp_cursor cur = {sp, 0};
    unsigned char tag;
    int rc = 0, more = 0;
    if (sp->failed || (sp->f && (fflush(sp->f) != 0 || fseek(sp->f, 0, SEEK_SET) != 0)))
        return eg_errf(err, EG_EIO, NULL, 0, 0, "the temporary spool file cannot be read back");
    while (!rc && (more = take(&cur, &tag, 1, 1, err)) == 1) {
        switch (tag) {
        case SP_CHANNEL: {
            tr_channel ch;
            if ((rc = take(&cur, &ch, sizeof ch, 0, err)) == 1)
                rc = to->channel ? to->channel(to->ctx, &ch, err) : 0;
            break;
        }
        case SP_READING: {
            tr_reading r;
            if ((rc = take(&cur, &r, sizeof r, 0, err)) == 1)
                rc = to->reading ? to->reading(to->ctx, &r, err) : 0;
            break;
        }
        case SP_SKIP: {
            tr_skip s;
            if ((rc = take(&cur, &s, sizeof s, 0, err)) == 1)
                rc = to->skip ? to->skip(to->ctx, &s, err) : 0;
            break;
        }
        case SP_BILL: {
            tr_bill b;
            if ((rc = take(&cur, &b, sizeof b, 0, err)) != 1) break;
            if (b.n_items < 0 || b.n_items > TR_MAX_LINE_ITEMS)
                return eg_errf(err, EG_ESOFTWARE, NULL, 0, 0, "spool: bill with %d items", b.n_items);
            if (b.n_items &&
                (rc = take(&cur, items, sizeof *items * (size_t)b.n_items, 0, err)) != 1)
                break;
            b.items = items;
            rc = to->bill ? to->bill(to->ctx, &b, err) : 0;
            break;
        }
        default:
            return eg_errf(err, EG_ESOFTWARE, NULL, 0, 0, "spool: unknown record tag %d", tag);
        }
    }
    if (rc == 0 && more < 0) rc = more;
    return rc;
}

void tr_spool_free(tr_spool *sp)
{
    if (!sp) return;
    if (sp->f) fclose(sp->f);
    if (sp->budget) *sp->budget += sp->mem_cap; /* give the memory back to the run */
    free(sp->mem);
    free(sp);
}
