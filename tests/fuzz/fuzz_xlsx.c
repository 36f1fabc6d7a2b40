/* fuzz_xlsx.c -- libFuzzer target for the xlsx translator, strict and lenient.
 *
 * An input starting "PK" is a whole workbook and goes to libzip as it is.
 * Any other input is "sheet XML NUL sharedStrings XML": the target wraps it
 * in a stored zip with a fixed workbook and relationships, so mutations hit
 * the XML and the row logic instead of dying at the zip's CRC.  The sink
 * checks the translator's promises: channels declared before use, readings
 * of a channel strictly increasing, never sharing an instant, positive
 * durations.  Seeds: tests/translate/make-xlsx.py --fuzz-seeds. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xlsx.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct check {
    int n_ch;
    int64_t last_end[TR_MAX_CHANNELS];
} check;

static int on_channel(void *ctx, const tr_channel *c, eg_err *err)
{
    check *k = ctx;
    (void)err;
    if (c->index != k->n_ch || k->n_ch >= TR_MAX_CHANNELS || c->interval_length <= 0) abort();
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

/* ---- a stored zip around the parts ---------------------------------------------- */

typedef struct buf {
    unsigned char *p;
    size_t n, cap;
} buf;

static void put(buf *b, const void *d, size_t n)
{
    if (b->n + n > b->cap) {
        b->cap = (b->n + n) * 2 + 256;
        if (!(b->p = realloc(b->p, b->cap))) abort();
    }
    memcpy(b->p + b->n, d, n);
    b->n += n;
}

static void put16(buf *b, uint32_t v)
{
    unsigned char c[2] = {(unsigned char)v, (unsigned char)(v >> 8)};
    put(b, c, 2);
}

static void put32(buf *b, uint32_t v)
{
    put16(b, v & 0xffff);
    put16(b, v >> 16);
}

static uint32_t crc32_of(const unsigned char *p, size_t n)
{
    uint32_t c = 0xffffffffu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++) c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1u)));
    }
    return ~c;
}

static void zip_add(buf *z, buf *cd, int *n, const char *name, const void *d, size_t len)
{
    uint32_t crc = crc32_of(d, len), off = (uint32_t)z->n, nl = (uint32_t)strlen(name);
    put32(z, 0x04034b50), put16(z, 20), put16(z, 0), put16(z, 0), put16(z, 0), put16(z, 0x21);
    put32(z, crc), put32(z, (uint32_t)len), put32(z, (uint32_t)len), put16(z, nl), put16(z, 0);
    put(z, name, nl), put(z, d, len);
    put32(cd, 0x02014b50), put16(cd, 20), put16(cd, 20), put16(cd, 0), put16(cd, 0), put16(cd, 0);
    put16(cd, 0x21), put32(cd, crc), put32(cd, (uint32_t)len), put32(cd, (uint32_t)len);
    put16(cd, nl), put16(cd, 0), put16(cd, 0), put16(cd, 0), put16(cd, 0), put32(cd, 0);
    put32(cd, off), put(cd, name, nl);
    (*n)++;
}

static const char workbook[] =
    "<workbook xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\" "
    "xmlns:r=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships\"><sheets>"
    "<sheet name=\"S\" sheetId=\"1\" r:id=\"rId1\"/></sheets></workbook>";
static const char rels[] =
    "<Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">"
    "<Relationship Id=\"rId1\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/"
    "relationships/worksheet\" Target=\"worksheets/sheet1.xml\"/></Relationships>";

static buf wrap(const uint8_t *data, size_t size)
{
    buf z = {0}, cd = {0};
    int n = 0;
    const uint8_t *nul = memchr(data, 0, size);
    size_t sheet_len = nul ? (size_t)(nul - data) : size;
    zip_add(&z, &cd, &n, "xl/workbook.xml", workbook, sizeof workbook - 1);
    zip_add(&z, &cd, &n, "xl/_rels/workbook.xml.rels", rels, sizeof rels - 1);
    zip_add(&z, &cd, &n, "xl/worksheets/sheet1.xml", data, sheet_len);
    if (nul) zip_add(&z, &cd, &n, "xl/sharedStrings.xml", nul + 1, size - sheet_len - 1);
    uint32_t cd_off = (uint32_t)z.n;
    put(&z, cd.p, cd.n);
    put32(&z, 0x06054b50), put16(&z, 0), put16(&z, 0), put16(&z, (uint32_t)n), put16(&z, (uint32_t)n);
    put32(&z, (uint32_t)cd.n), put32(&z, cd_off), put16(&z, 0);
    free(cd.p);
    return z;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    buf z = {0};
    const void *in = data;
    size_t len = size;
    if (size < 2 || memcmp(data, "PK", 2) != 0) {
        z = wrap(data, size);
        in = z.p;
        len = z.n;
    }
    for (int lenient = 0; lenient < 2; lenient++) {
        check k;
        tr_summary sum;
        tr_sink inner = {&k, on_channel, on_reading, NULL, NULL}, sink;
        tr_options opts = {zone(), lenient};
        eg_err err;
        memset(&k, 0, sizeof k);
        tr_summary_init(&sum, opts.tz, &inner, &sink);
        tr_xlsx_read_mem(in, len, "fuzz.xlsx", &opts, &sink, &err);
    }
    free(z.p);
    return 0;
}
