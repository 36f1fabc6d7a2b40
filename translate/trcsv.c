/* trcsv.c -- libcsv behind a pull API with line numbers and limits (see
 * trcsv.h for why libcsv and why one byte at a time). */
#include "trcsv.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* libcsv grows its field buffer through this hook; refusing makes it fail
 * with CSV_ENOMEM, which we report as "field too long".  Stateless. */
static void *capped_realloc(void *ptr, size_t n)
{
    if (n > TR_CSV_FIELD_MAX + 256) return NULL;
    return realloc(ptr, n);
}

static void on_field(void *data, size_t len, void *ctx)
{
    tr_csv *c = ctx;
    if (c->nfields >= TR_CSV_MAX_FIELDS || c->row_used + len + 1 > sizeof c->row) {
        c->too_big = 1;
        return;
    }
    c->off[c->nfields] = c->row_used;
    c->len[c->nfields] = len;
    if (len) memcpy(c->row + c->row_used, data, len);
    c->row[c->row_used + len] = 0;
    c->row_used += len + 1;
    c->nfields++;
}

static void on_row(int term, void *ctx)
{
    tr_csv *c = ctx;
    (void)term;
    c->row_ready = 1;
}

int tr_csv_init(tr_csv *c, FILE *in, const char *name, eg_err *err)
{
    memset(c, 0, sizeof *c);
    c->in = in;
    c->line = 1;
    snprintf(c->name, sizeof c->name, "%s", name ? name : "");
    if (csv_init(&c->parser, CSV_STRICT | CSV_STRICT_FINI | CSV_APPEND_NULL) != 0)
        return eg_errf(err, EG_ENOMEM, c->name, 0, 0, "out of memory starting the CSV parser");
    csv_set_realloc_func(&c->parser, capped_realloc);
    c->started = 1;
    return 0;
}

void tr_csv_release(tr_csv *c)
{
    if (c->started) csv_free(&c->parser);
    c->started = 0;
}

static void reset_row(tr_csv *c)
{
    c->row_ready = c->too_big = c->in_row = 0;
    c->row_used = 0;
    c->nfields = 0;
}

static int parse_error(tr_csv *c, eg_err *err)
{
    int e = csv_error(&c->parser);
    if (e == CSV_ENOMEM)
        return eg_errf(err, EG_ELIMIT, c->name, c->row_line, 0,
                       "a field is longer than %d bytes (is this the right file?)", TR_CSV_FIELD_MAX);
    return eg_errf(err, EG_EDATA, c->name, c->line, 0,
                   "malformed CSV quoting (expected a quote only around a whole field, "
                   "doubled inside it)");
}

/* Refill buf; returns 1 with data, 0 at EOF, <0 on error. */
static int fill(tr_csv *c, eg_err *err)
{
    c->buf_len = fread(c->buf, 1, sizeof c->buf, c->in);
    c->buf_pos = 0;
    if (c->buf_len == 0) {
        if (ferror(c->in)) return eg_errf(err, EG_EIO, c->name, c->line, 0, "read error");
        return 0;
    }
    return 1;
}

static int finish_row(tr_csv *c, eg_err *err)
{
    if (c->too_big)
        return eg_errf(err, EG_ELIMIT, c->name, c->row_line, 0,
                       "row has more than %d fields or %d bytes (is this the right file?)",
                       TR_CSV_MAX_FIELDS, TR_CSV_ROW_MAX);
    return 1;
}

int tr_csv_next(tr_csv *c, eg_err *err)
{
    int rc;
    reset_row(c);
    while (!c->eof) {
        if (c->buf_pos == c->buf_len) {
            if ((rc = fill(c, err)) < 0) return rc;
            if (rc == 0) {
                c->eof = 1;
                break;
            }
            if (!c->bom_checked && c->buf_len >= 3 && memcmp(c->buf, "\xEF\xBB\xBF", 3) == 0)
                c->buf_pos = 3; /* UTF-8 byte order mark */
            c->bom_checked = 1;
            continue;
        }
        /* Hand libcsv one line at a time (up to and including the first CR
         * or LF), not one byte: a row can end only there, so at most one
         * row completes per call, and the per-call cost is paid per line. */
        const unsigned char *p = c->buf + c->buf_pos;
        size_t avail = c->buf_len - c->buf_pos, n = 0;
        int nl = 0;
        while (n < avail) {
            unsigned char b = p[n++];
            if (b == 0)
                return eg_errf(err, EG_EDATA, c->name, c->line, 0,
                               "NUL byte in input (expected a CSV text file)");
            if (b == '\n' || b == '\r') {
                nl = b == '\n';
                break;
            }
        }
        for (size_t i = 0; !c->in_row && i < n; i++) {
            unsigned char b = p[i];
            if (b != ' ' && b != '\t' && b != '\r' && b != '\n') {
                c->in_row = 1;
                c->row_line = c->line;
            }
        }
        if (csv_parse(&c->parser, p, n, on_field, on_row, c) != n) return parse_error(c, err);
        c->buf_pos += n;
        if (nl) c->line++;
        if (c->row_ready) return finish_row(c, err);
    }
    if (csv_fini(&c->parser, on_field, on_row, c) != 0) return parse_error(c, err);
    if (c->row_ready) return finish_row(c, err);
    return 0;
}

int tr_csv_read_header(tr_csv *c, eg_err *err)
{
    int rc = tr_csv_next(c, err);
    if (rc < 0) return rc;
    if (rc == 0) return eg_errf(err, EG_EDATA, c->name, 1, 0, "empty file (expected a CSV header)");
    memcpy(c->head, c->row, c->row_used);
    for (int i = 0; i < c->nfields; i++) c->head_off[i] = c->off[i];
    c->nhead = c->nfields;
    return 0;
}

int tr_csv_column(const tr_csv *c, const char *name)
{
    for (int i = 0; i < c->nhead; i++)
        if (strcasecmp(c->head + c->head_off[i], name) == 0) return i;
    return -1;
}

int tr_csv_nfields(const tr_csv *c)
{
    return c->nfields;
}

const char *tr_csv_field(const tr_csv *c, int i)
{
    return i >= 0 && i < c->nfields ? c->row + c->off[i] : "";
}

size_t tr_csv_field_len(const tr_csv *c, int i)
{
    return i >= 0 && i < c->nfields ? c->len[i] : 0;
}

long tr_csv_line(const tr_csv *c)
{
    return c->row_line;
}
