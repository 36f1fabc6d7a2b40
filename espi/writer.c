/* writer.c -- streaming ESPI Atom writer.
 *
 * Two layers share one libxml2 xmlOutputBuffer:
 *
 *  - The document skeleton (feed, entry, content and each resource's root
 *    element with its own default namespace, `<UsagePoint
 *    xmlns="http://naesb.org/espi">`, as real Green Button files do) goes
 *    through an xmlTextWriter, which keeps the open-element stack honest.
 *  - Everything below a resource root (leaf values, DateTimeIntervals,
 *    IntervalReadings, LineItems) is formatted by hand into a 16 KiB batch
 *    buffer and handed to xmlTextWriterWriteRawLen in large chunks.  The
 *    element names are our own ASCII constants and numbers are formatted by
 *    fmt_i64, so nothing there needs escaping; every caller-supplied string
 *    (titles, notes, URIs, ids) passes through xml_escape, which escapes
 *    markup and replaces bytes that XML 1.0 cannot carry (C0 controls,
 *    invalid UTF-8) with U+FFFD, so hostile input cannot break the document.
 *
 * This keeps the hot path (about 200 bytes per IntervalReading, millions of
 * them in a 1 GB feed) free of per-element libxml2 calls and allocations.
 *
 * Indentation is ours too (the xmlTextWriter indents nothing): two spaces
 * per level, a newline before every start tag and before the end tag of an
 * element that has element children, so the output is identical whichever
 * layer wrote an element.  indent = 0 writes one line.
 *
 * Child order is the ESPI 4.0 xs:sequence of each type; absent fields
 * (ESPI_NONE, "", ESPI_BOOL_NONE, ESPI_DST_RULE_NONE) are skipped.  Entry
 * children are written id, title, published, updated, links, content.
 *
 * Sinks: a path is written atomically through afile.h (a temporary beside
 * it, fsync'd and renamed onto PATH by espi_writer_close(), removed by
 * espi_writer_abort(); the mode of the file it replaces, else 0644).
 * "-" is stdout.  A callback sink gets the bytes as libxml2 flushes them.
 * File and stdout writes go through a stdio buffer of WRITER_FILE_BUF bytes
 * so the kernel sees large writes. */
#include "writer.h"
#include "afile.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/xmlIO.h>
#include <libxml/xmlwriter.h>

#define WRITER_BATCH 65536          /* raw batch buffer */
#define WRITER_SPILL 4096           /* batches this big skip libxml2's buffer */
#define WRITER_FILE_BUF (1u << 20)  /* stdio buffer for file sinks */
#define WRITER_MAX_DEPTH 32

enum writer_state {
    WS_START,     /* nothing written yet */
    WS_FEED,      /* inside <feed>, between entries */
    WS_BLOCK,     /* inside a streamed IntervalBlock */
    WS_BARE_BLOCK,/* same, bare entry document */
    WS_DONE,      /* document complete */
    WS_FAILED     /* a write failed; only close/abort remain */
};

struct espi_writer {
    xmlTextWriterPtr xw;
    FILE *fp;                 /* file or stdout sink; NULL for callbacks */
    int is_stdout;
    int (*writefn)(void *io, const char *buf, int len);
    void *io;
    espi_afile af;            /* file sink: the temporary beside the output (afile.h) */
    int indent;
    int state;
    int depth;                /* open elements */
    char child[WRITER_MAX_DEPTH + 1]; /* element at depth d has children */
    int io_errno;             /* errno of the first failed sink write */
    int discard;              /* aborting: sinks swallow what libxml2 flushes */
    xmlOutputBufferPtr out;   /* owned by xw */
    unsigned long long sunk;  /* bytes handed to the sink */
    size_t n;                 /* bytes pending in buf */
    char buf[WRITER_BATCH];
};

static const char spaces[] = "                                                                ";

/* ---- sinks -------------------------------------------------------------- */

static int sink_file_write(void *ctx, const char *buf, int len)
{
    espi_writer *w = ctx;
    if (len <= 0 || w->discard) return len;
    if (fwrite(buf, 1, (size_t)len, w->fp) != (size_t)len) {
        if (!w->io_errno) w->io_errno = errno ? errno : EIO;
        return -1;
    }
    w->sunk += (unsigned long long)len;
    return len;
}

static int sink_io_write(void *ctx, const char *buf, int len)
{
    espi_writer *w = ctx;
    if (len <= 0 || w->discard) return len;
    int rc = w->writefn(w->io, buf, len);
    if (rc < 0) {
        if (!w->io_errno) w->io_errno = EIO;
        return -1;
    }
    w->sunk += (unsigned long long)len;
    return len;
}

static const char *writer_name(const espi_writer *w)
{
    if (w->af.path) return w->af.path;
    return w->is_stdout ? "<stdout>" : "<output>";
}

/* Record a failed write and poison the writer. */
static int writer_fail(espi_writer *w, eg_err *err)
{
    w->state = WS_FAILED;
    int e = w->io_errno ? w->io_errno : EIO;
    return eg_errf(err, EG_EIO, writer_name(w), 0, 0, "write failed: %s", strerror(e));
}

/* ---- raw batch ---------------------------------------------------------- */

/* A large batch (the bulk of a feed: an IntervalBlock's readings) skips
 * libxml2's buffer: settle the xmlTextWriter's state (a start tag it left
 * open gets its '>'), flush what libxml2 still holds, then hand the batch
 * to the sink directly -- one copy less, and the sink sees large writes.
 * The bytes and their order are the same. */
static int batch_spill(espi_writer *w)
{
    if (w->n == 0) return 0;
    if (xmlTextWriterWriteRawLen(w->xw, (const xmlChar *)"", 0) < 0 || xmlTextWriterFlush(w->xw) < 0)
        return -1;
    int rc = w->fp ? sink_file_write(w, w->buf, (int)w->n) : sink_io_write(w, w->buf, (int)w->n);
    w->n = 0;
    return rc < 0 ? -1 : 0;
}

/* Before a skeleton element: a small batch goes through the xmlTextWriter
 * (which buffers it with its own small writes), a large one is spilled. */
static int batch_flush(espi_writer *w)
{
    if (w->n == 0) return 0;
    if (w->n >= WRITER_SPILL) return batch_spill(w);
    int rc = xmlTextWriterWriteRawLen(w->xw, (const xmlChar *)w->buf, (int)w->n);
    w->n = 0;
    return rc < 0 ? -1 : 0;
}

/* Make room for need bytes; need <= WRITER_BATCH. */
static int batch_room(espi_writer *w, size_t need)
{
    if (w->n + need > sizeof w->buf) return batch_spill(w);
    return 0;
}

static int batch_put(espi_writer *w, const char *s, size_t len)
{
    if (len > sizeof w->buf) {
        if (batch_flush(w)) return -1;
        return xmlTextWriterWriteRawLen(w->xw, (const xmlChar *)s, (int)len) < 0 ? -1 : 0;
    }
    if (batch_room(w, len)) return -1;
    memcpy(w->buf + w->n, s, len);
    w->n += len;
    return 0;
}

static int batch_str(espi_writer *w, const char *s)
{
    return batch_put(w, s, strlen(s));
}

/* Newline and indentation for an element at the current depth. */
static int batch_indent(espi_writer *w)
{
    if (!w->indent) return 0;
    size_t n = 2 * (size_t)w->depth;
    if (n > sizeof spaces - 1) n = sizeof spaces - 1;
    if (batch_room(w, n + 1)) return -1;
    w->buf[w->n++] = '\n';
    memcpy(w->buf + w->n, spaces, n);
    w->n += n;
    return 0;
}

/* Decimal text of v into p (>= 20 bytes); returns the length.  Two digits
 * per division: readings are mostly 10-digit timestamps. */
static size_t fmt_i64(char *p, int64_t v)
{
    static const char pairs[] =
        "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
        "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
        "8081828384858687888990919293949596979899";
    uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    size_t digits = 1;
    for (uint64_t t = u; t >= 10; t /= 10) digits++;
    size_t len = (v < 0) + digits;
    char *o = p + len; /* filled backwards, in place */
    while (u >= 100) {
        unsigned d = (unsigned)(u % 100) * 2;
        u /= 100;
        *--o = pairs[d + 1];
        *--o = pairs[d];
    }
    if (u >= 10) {
        *--o = pairs[u * 2 + 1];
        *--o = pairs[u * 2];
    } else {
        *--o = (char)('0' + u);
    }
    if (v < 0) p[0] = '-';
    return len;
}

/* Length of the valid UTF-8 sequence at s (1..4), 0 when invalid. */
static size_t utf8_seq(const unsigned char *s)
{
    unsigned c = s[0];
    if (c < 0x80) return 1;
    if (c >= 0xC2 && c <= 0xDF) return (s[1] & 0xC0) == 0x80 ? 2 : 0;
    if (c >= 0xE0 && c <= 0xEF) {
        if ((s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80) return 0;
        if (c == 0xE0 && s[1] < 0xA0) return 0;           /* overlong */
        if (c == 0xED && s[1] >= 0xA0) return 0;          /* surrogates */
        if (c == 0xEF && s[1] == 0xBF && s[2] >= 0xBE) return 0; /* U+FFFE/F */
        return 3;
    }
    if (c >= 0xF0 && c <= 0xF4) {
        if ((s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80 || (s[3] & 0xC0) != 0x80) return 0;
        if (c == 0xF0 && s[1] < 0x90) return 0;
        if (c == 0xF4 && s[1] >= 0x90) return 0;
        return 4;
    }
    return 0;
}

/* Append s escaped for text and attribute values. */
static int batch_escaped(espi_writer *w, const char *s)
{
    static const char fffd[] = "\xEF\xBF\xBD";
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        /* a run of printable ASCII that needs no escape goes in one copy */
        size_t run = 0;
        while (p[run] >= 0x20 && p[run] < 0x7f && p[run] != '&' && p[run] != '<' && p[run] != '>' &&
               p[run] != '"')
            run++;
        if (run) {
            if (run > sizeof w->buf / 2) run = sizeof w->buf / 2;
            if (batch_room(w, run)) return -1;
            memcpy(w->buf + w->n, p, run);
            w->n += run;
            p += run;
            continue;
        }
        if (batch_room(w, 8)) return -1;
        char *o = w->buf + w->n;
        unsigned c = *p;
        size_t k;
        switch (c) {
        case '&': memcpy(o, "&amp;", 5); w->n += 5; p++; continue;
        case '<': memcpy(o, "&lt;", 4); w->n += 4; p++; continue;
        case '>': memcpy(o, "&gt;", 4); w->n += 4; p++; continue;
        case '"': memcpy(o, "&quot;", 6); w->n += 6; p++; continue;
        case '\r': memcpy(o, "&#13;", 5); w->n += 5; p++; continue;
        case '\t': case '\n': o[0] = (char)c; w->n++; p++; continue;
        default: break;
        }
        if (c < 0x20) {
            memcpy(o, fffd, 3); w->n += 3; p++;
        } else if ((k = utf8_seq(p)) == 0) {
            memcpy(o, fffd, 3); w->n += 3; p++;
        } else {
            memcpy(o, p, k); w->n += k; p += k;
        }
    }
    return 0;
}

/* ---- raw elements --------------------------------------------------------- */

/* "<name>" / "</name>" with indentation; marks the parent as having children. */
static int raw_open(espi_writer *w, const char *name)
{
    w->child[w->depth] = 1;
    if (batch_indent(w) || batch_put(w, "<", 1) || batch_str(w, name) || batch_put(w, ">", 1))
        return -1;
    if (w->depth < WRITER_MAX_DEPTH) w->depth++;
    w->child[w->depth] = 1; /* raw containers always hold elements */
    return 0;
}

static int raw_close(espi_writer *w, const char *name)
{
    w->depth--;
    if (batch_indent(w) || batch_put(w, "</", 2) || batch_str(w, name) || batch_put(w, ">", 1))
        return -1;
    return 0;
}

/* <name>text</name> where text is already safe (digits, hex, true/false). */
static int raw_leaf(espi_writer *w, const char *name, const char *text, size_t len)
{
    size_t nl = strlen(name);
    w->child[w->depth] = 1;
    if (batch_indent(w) || batch_room(w, 2 * nl + len + 5)) return -1;
    char *o = w->buf + w->n;
    *o++ = '<'; memcpy(o, name, nl); o += nl; *o++ = '>';
    memcpy(o, text, len); o += len;
    *o++ = '<'; *o++ = '/'; memcpy(o, name, nl); o += nl; *o++ = '>';
    w->n = (size_t)(o - w->buf);
    return 0;
}

static int el_int(espi_writer *w, const char *name, int64_t v)
{
    if (v == ESPI_NONE) return 0;
    char num[24];
    return raw_leaf(w, name, num, fmt_i64(num, v));
}

static int el_bool(espi_writer *w, const char *name, int v)
{
    if (v == ESPI_BOOL_NONE) return 0;
    return v ? raw_leaf(w, name, "true", 4) : raw_leaf(w, name, "false", 5);
}

static int el_hex32(espi_writer *w, const char *name, uint32_t v)
{
    static const char hex[] = "0123456789ABCDEF";
    if (v == ESPI_DST_RULE_NONE) return 0;
    char t[8];
    for (int i = 0; i < 8; i++) t[i] = hex[(v >> (28 - 4 * i)) & 0xF];
    return raw_leaf(w, name, t, 8);
}

static int el_str(espi_writer *w, const char *name, const char *s)
{
    if (!s || !*s) return 0;
    w->child[w->depth] = 1;
    if (batch_indent(w) || batch_put(w, "<", 1) || batch_str(w, name) || batch_put(w, ">", 1) ||
        batch_escaped(w, s) || batch_put(w, "</", 2) || batch_str(w, name) || batch_put(w, ">", 1))
        return -1;
    return 0;
}

static int el_time_str(espi_writer *w, const char *name, int64_t t)
{
    if (t == ESPI_NONE) return 0;
    char s[40];
    espi_time_format(t, s, sizeof s);
    return raw_leaf(w, name, s, strlen(s));
}

/* DateTimeInterval: duration then start; skipped when both are absent. */
static int el_interval(espi_writer *w, const char *name, const espi_interval *iv)
{
    if (iv->duration == ESPI_NONE && iv->start == ESPI_NONE) return 0;
    if (raw_open(w, name) || el_int(w, "duration", iv->duration) || el_int(w, "start", iv->start))
        return -1;
    return raw_close(w, name);
}

static int el_measurement(espi_writer *w, const char *name, const espi_summary_measurement *m)
{
    if (m->power_of_ten_multiplier == ESPI_NONE && m->time_stamp == ESPI_NONE &&
        m->uom == ESPI_NONE && m->value == ESPI_NONE && !m->reading_type_ref[0])
        return 0;
    if (raw_open(w, name) || el_int(w, "powerOfTenMultiplier", m->power_of_ten_multiplier) ||
        el_int(w, "timeStamp", m->time_stamp) || el_int(w, "uom", m->uom) ||
        el_int(w, "value", m->value) || el_str(w, "readingTypeRef", m->reading_type_ref))
        return -1;
    return raw_close(w, name);
}

static int el_rational(espi_writer *w, const char *name, const espi_rational *r)
{
    if (r->numerator == ESPI_NONE && r->denominator == ESPI_NONE) return 0;
    if (raw_open(w, name) || el_int(w, "numerator", r->numerator) ||
        el_int(w, "denominator", r->denominator))
        return -1;
    return raw_close(w, name);
}

static int el_link(espi_writer *w, const espi_link *l)
{
    if (!l->href[0]) return 0;
    w->child[w->depth] = 1;
    if (batch_indent(w) || batch_str(w, "<link rel=\"") || batch_escaped(w, l->rel[0] ? l->rel : "related") ||
        batch_str(w, "\" href=\"") || batch_escaped(w, l->href))
        return -1;
    if (l->type[0] && (batch_str(w, "\" type=\"") || batch_escaped(w, l->type))) return -1;
    return batch_str(w, "\"/>");
}

/* ---- skeleton elements (xmlTextWriter) ---------------------------------- */

static int tw_open(espi_writer *w, const char *name, const char *ns)
{
    w->child[w->depth] = 1;
    if (batch_indent(w) || batch_flush(w)) return -1;
    if (xmlTextWriterStartElement(w->xw, (const xmlChar *)name) < 0) return -1;
    if (ns && xmlTextWriterWriteAttribute(w->xw, (const xmlChar *)"xmlns", (const xmlChar *)ns) < 0)
        return -1;
    if (w->depth < WRITER_MAX_DEPTH) w->depth++;
    w->child[w->depth] = 0;
    return 0;
}

static int tw_close(espi_writer *w)
{
    int had = w->child[w->depth];
    w->depth--;
    if (had && batch_indent(w)) return -1;
    if (batch_flush(w)) return -1;
    return xmlTextWriterEndElement(w->xw) < 0 ? -1 : 0;
}

/* ---- open / close ------------------------------------------------------- */

static espi_writer *writer_new(const espi_writer_opts *o)
{
    espi_writer *w = calloc(1, sizeof *w);
    if (!w) return NULL;
    w->indent = o ? o->indent : 1;
    w->state = WS_START;
    return w;
}

/* Wrap the sink in an xmlOutputBuffer + xmlTextWriter; write the XML
 * declaration ourselves (no encoder: we emit UTF-8 already). */
static int writer_attach(espi_writer *w, xmlOutputWriteCallback fn, eg_err *err)
{
    xmlOutputBufferPtr out = xmlOutputBufferCreateIO(fn, NULL, w, NULL);
    if (!out) return eg_errf(err, EG_ENOMEM, NULL, 0, 0, "out of memory creating the XML output buffer");
    w->xw = xmlNewTextWriter(out);
    w->out = out;
    if (!w->xw) {
        w->out = NULL;
        xmlOutputBufferClose(out);
        return eg_errf(err, EG_ENOMEM, NULL, 0, 0, "out of memory creating the XML writer");
    }
    if (batch_str(w, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>") || batch_flush(w))
        return writer_fail(w, err);
    return 0;
}

espi_writer *espi_writer_open_io(int (*writefn)(void *io, const char *buf, int len),
                                 void *io, const espi_writer_opts *o, eg_err *err)
{
    espi_writer *w = NULL;
    if (!writefn) {
        eg_errf(err, EG_EUSAGE, NULL, 0, 0, "espi_writer_open_io: writefn is NULL");
        goto fail;
    }
    if (!(w = writer_new(o))) {
        eg_errf(err, EG_ENOMEM, NULL, 0, 0, "out of memory creating a writer");
        goto fail;
    }
    w->writefn = writefn;
    w->io = io;
    if (writer_attach(w, sink_io_write, err)) goto fail;
    return w;
fail:
    espi_writer_abort(w);
    return NULL;
}

espi_writer *espi_writer_open_path(const char *path, const espi_writer_opts *o, eg_err *err)
{
    espi_writer *w = NULL;
    if (!path || !*path) {
        eg_errf(err, EG_EUSAGE, NULL, 0, 0, "no output path given (use - for stdout)");
        goto fail;
    }
    if (!(w = writer_new(o))) {
        eg_errf(err, EG_ENOMEM, path, 0, 0, "out of memory creating a writer");
        goto fail;
    }
    if (strcmp(path, "-") == 0) {
        w->fp = stdout;
        w->is_stdout = 1;
    } else {
        if (espi_afile_open(&w->af, path, WRITER_FILE_BUF, err)) goto fail;
        w->fp = w->af.fp;
    }
    if (writer_attach(w, sink_file_write, err)) goto fail;
    return w;
fail:
    espi_writer_abort(w);
    return NULL;
}

/* Drop everything; a file sink's temporary file is removed (a committed
 * one is closed already, so nothing is left to remove).  The sink is put in
 * discard mode first: freeing the xmlTextWriter flushes libxml2's buffer
 * into it. */
void espi_writer_abort(espi_writer *w)
{
    if (!w) return;
    w->discard = 1;
    w->n = 0;
    if (w->xw) xmlFreeTextWriter(w->xw); /* also closes the output buffer */
    espi_afile_abort(&w->af);
    free(w);
}

/* Flush stdout, or fsync the file sink and rename it into place. */
static int writer_commit_file(espi_writer *w, eg_err *err)
{
    if (!w->is_stdout) {
        w->fp = NULL;
        return espi_afile_commit(&w->af, err);
    }
    if (fflush(w->fp) != 0) {
        w->io_errno = errno;
        return writer_fail(w, err);
    }
    return 0;
}

int espi_writer_close(espi_writer *w, eg_err *err)
{
    int rc = 0;
    if (!w) return 0;
    if (w->state == WS_FAILED) {
        rc = writer_fail(w, err);
        goto done;
    }
    if (w->state != WS_DONE && w->state != WS_START) {
        rc = eg_errf(err, EG_EUSAGE, writer_name(w), 0, 0,
                     "writer closed with an unfinished document (call espi_writer_end_feed "
                     "or espi_writer_end_interval_block first)");
        goto done;
    }
    if ((w->indent && batch_put(w, "\n", 1)) || batch_flush(w) || xmlTextWriterFlush(w->xw) < 0 ||
        w->io_errno) {
        rc = writer_fail(w, err);
        goto done;
    }
    xmlFreeTextWriter(w->xw);
    w->xw = NULL;
    w->out = NULL;
    if (w->io_errno) { rc = writer_fail(w, err); goto done; }
    if (w->fp && (rc = writer_commit_file(w, err))) goto done;
    espi_writer_abort(w); /* frees: the output is in place, nothing left to remove */
    return 0;
done:
    espi_writer_abort(w);
    return rc;
}

unsigned long long espi_writer_bytes(const espi_writer *w)
{
    if (!w) return 0;
    unsigned long long inside = w->out ? (unsigned long long)xmlOutputBufferGetSize(w->out) : 0;
    return w->sunk + inside + w->n;
}

/* ---- feed and entries ----------------------------------------------------- */

static int check_state(espi_writer *w, eg_err *err, const char *what)
{
    if (w->state == WS_FAILED)
        return eg_errf(err, EG_EIO, writer_name(w), 0, 0, "%s after a failed write", what);
    if (w->state == WS_DONE)
        return eg_errf(err, EG_EUSAGE, writer_name(w), 0, 0,
                       "%s after the document was complete (a bare entry document holds "
                       "one resource; call espi_writer_begin_feed for more)", what);
    if (w->state == WS_BLOCK || w->state == WS_BARE_BLOCK)
        return eg_errf(err, EG_EUSAGE, writer_name(w), 0, 0,
                       "%s inside a streamed IntervalBlock (call espi_writer_end_interval_block)", what);
    return 0;
}

int espi_writer_begin_feed(espi_writer *w, const espi_feed_head *h, eg_err *err)
{
    int rc = check_state(w, err, "begin_feed");
    if (rc) return rc;
    if (w->state != WS_START)
        return eg_errf(err, EG_EUSAGE, writer_name(w), 0, 0, "begin_feed called twice");
    if (tw_open(w, "feed", ATOM_NS) || el_str(w, "id", h->id) || el_str(w, "title", h->title) ||
        el_time_str(w, "updated", h->updated) || el_link(w, &h->self))
        return writer_fail(w, err);
    for (int i = 0; i < h->n_related && i < ESPI_MAX_RELATED; i++)
        if (el_link(w, &h->related[i])) return writer_fail(w, err);
    w->state = WS_FEED;
    return 0;
}

int espi_writer_end_feed(espi_writer *w, eg_err *err)
{
    int rc = check_state(w, err, "end_feed");
    if (rc) return rc;
    if (w->state != WS_FEED)
        return eg_errf(err, EG_EUSAGE, writer_name(w), 0, 0, "end_feed without begin_feed");
    if (tw_close(w)) return writer_fail(w, err);
    w->state = WS_DONE;
    return 0;
}

/* <entry> up to and including the resource's start tag. */
static int entry_begin(espi_writer *w, const espi_entry *e, const char *resource, eg_err *err)
{
    int rc = check_state(w, err, resource);
    if (rc) return rc;
    if (tw_open(w, "entry", w->state == WS_START ? ATOM_NS : NULL) || el_str(w, "id", e->id) ||
        el_str(w, "title", e->title) || el_time_str(w, "published", e->published) ||
        el_time_str(w, "updated", e->updated) || el_link(w, &e->self) || el_link(w, &e->up))
        return writer_fail(w, err);
    for (int i = 0; i < e->n_related && i < ESPI_MAX_RELATED; i++)
        if (el_link(w, &e->related[i])) return writer_fail(w, err);
    if (tw_open(w, "content", NULL) || tw_open(w, resource, ESPI_NS)) return writer_fail(w, err);
    return 0;
}

/* Close resource, content and entry; a bare entry completes the document. */
static int entry_end(espi_writer *w, eg_err *err)
{
    if (tw_close(w) || tw_close(w) || tw_close(w)) return writer_fail(w, err);
    if (w->depth == 0) w->state = WS_DONE;
    return 0;
}

/* ---- resources ------------------------------------------------------------ */

static int body_usage_point(espi_writer *w, const espi_usage_point *p)
{
    if (el_str(w, "roleFlags", p->role_flags)) return -1;
    if (p->service_kind != ESPI_NONE &&
        (raw_open(w, "ServiceCategory") || el_int(w, "kind", p->service_kind) ||
         raw_close(w, "ServiceCategory")))
        return -1;
    if (el_int(w, "status", p->status)) return -1;
    if (p->sdp_name[0] || p->sdp_tariff_profile[0] || p->sdp_customer_agreement[0]) {
        if (raw_open(w, "serviceDeliveryPoint") || el_str(w, "name", p->sdp_name) ||
            el_str(w, "tariffProfile", p->sdp_tariff_profile) ||
            el_str(w, "customerAgreement", p->sdp_customer_agreement) ||
            raw_close(w, "serviceDeliveryPoint"))
            return -1;
    }
    if (el_str(w, "amiBillingReady", p->ami_billing_ready) ||
        el_bool(w, "checkBilling", p->check_billing) ||
        el_str(w, "connectionState", p->connection_state) ||
        el_measurement(w, "estimatedLoad", &p->estimated_load) ||
        el_bool(w, "grounded", p->grounded) || el_bool(w, "isSdp", p->is_sdp) ||
        el_bool(w, "isVirtual", p->is_virtual) ||
        el_bool(w, "minimalUsageExpected", p->minimal_usage_expected) ||
        el_measurement(w, "nominalServiceVoltage", &p->nominal_service_voltage) ||
        el_str(w, "outageRegion", p->outage_region) || el_int(w, "phaseCode", p->phase_code) ||
        el_measurement(w, "ratedCurrent", &p->rated_current) ||
        el_measurement(w, "ratedPower", &p->rated_power) || el_str(w, "readCycle", p->read_cycle) ||
        el_str(w, "readRoute", p->read_route) ||
        el_str(w, "serviceDeliveryRemark", p->service_delivery_remark) ||
        el_str(w, "servicePriority", p->service_priority))
        return -1;
    return 0;
}

int espi_writer_usage_point(espi_writer *w, const espi_entry *e, const espi_usage_point *p, eg_err *err)
{
    int rc = entry_begin(w, e, "UsagePoint", err);
    if (rc) return rc;
    if (body_usage_point(w, p)) return writer_fail(w, err);
    return entry_end(w, err);
}

int espi_writer_meter_reading(espi_writer *w, const espi_entry *e, eg_err *err)
{
    int rc = entry_begin(w, e, "MeterReading", err);
    if (rc) return rc;
    return entry_end(w, err);
}

static int body_reading_type(espi_writer *w, const espi_reading_type *r)
{
    return el_int(w, "accumulationBehaviour", r->accumulation_behaviour) ||
           el_int(w, "commodity", r->commodity) ||
           el_int(w, "consumptionTier", r->consumption_tier) ||
           el_int(w, "currency", r->currency) || el_int(w, "dataQualifier", r->data_qualifier) ||
           el_int(w, "defaultQuality", r->default_quality) ||
           el_int(w, "flowDirection", r->flow_direction) ||
           el_int(w, "intervalLength", r->interval_length) || el_int(w, "kind", r->kind) ||
           el_int(w, "phase", r->phase) ||
           el_int(w, "powerOfTenMultiplier", r->power_of_ten_multiplier) ||
           el_int(w, "timeAttribute", r->time_attribute) || el_int(w, "tou", r->tou) ||
           el_int(w, "uom", r->uom) || el_int(w, "cpp", r->cpp) ||
           el_rational(w, "interharmonic", &r->interharmonic) ||
           el_int(w, "measuringPeriod", r->measuring_period) ||
           el_rational(w, "argument", &r->argument)
               ? -1 : 0;
}

int espi_writer_reading_type(espi_writer *w, const espi_entry *e, const espi_reading_type *rt, eg_err *err)
{
    int rc = entry_begin(w, e, "ReadingType", err);
    if (rc) return rc;
    if (body_reading_type(w, rt)) return writer_fail(w, err);
    return entry_end(w, err);
}

int espi_writer_begin_interval_block(espi_writer *w, const espi_entry *e, const espi_interval *iv, eg_err *err)
{
    int bare = w->state == WS_START;
    int rc = entry_begin(w, e, "IntervalBlock", err);
    if (rc) return rc;
    if (el_interval(w, "interval", iv)) return writer_fail(w, err);
    w->state = bare ? WS_BARE_BLOCK : WS_BLOCK;
    return 0;
}

/* The hot path: one IntervalReading, formatted straight into the batch. */
/* ---- IntervalReading, the hot path --------------------------------------
 *
 * A feed is mostly IntervalReadings, so one is formatted here in a single
 * pass straight into the batch: the same bytes raw_open/el_int/raw_close
 * would write (the generic path below stays for depths beyond the indent
 * table), without a call, a strlen and a room check per element.  Every
 * value is an integer, so nothing needs escaping. */

/* Upper bound of one reading's bytes: 9 leaves and 8 qualities at <= 20
 * digits, tags and indentation of at most 2 * WRITER_MAX_DEPTH. */
#define READING_MAX 4096

/* Newline and indentation for depth d (nothing when not indenting).  It
 * copies the whole fixed-size string -- one inlined copy, not a call --
 * and advances by what depth d needs; READING_MAX leaves room for that. */
static char *put_nl(const espi_writer *w, char *o, int d)
{
    static const char nl_spaces[] = "\n                                                                ";
    if (!w->indent) return o;
    memcpy(o, nl_spaces, sizeof nl_spaces - 1);
    return o + 1 + 2 * (size_t)d;
}

#define PUT_LIT(o, lit) (memcpy((o), (lit), sizeof(lit) - 1), (o) += sizeof(lit) - 1)

/* <tag>v</tag> at depth d; skipped when v is absent. */
#define PUT_LEAF(w, o, d, tag, v)                                                                  \
    do {                                                                                           \
        if ((v) != ESPI_NONE) {                                                                    \
            (o) = put_nl((w), (o), (d));                                                           \
            PUT_LIT((o), "<" tag ">");                                                             \
            (o) += fmt_i64((o), (v));                                                              \
            PUT_LIT((o), "</" tag ">");                                                            \
        }                                                                                          \
    } while (0)

static void reading_fast(espi_writer *w, const espi_interval_reading *r, int nq)
{
    int d = w->depth;
    char *o = w->buf + w->n;
    w->child[d] = 1;
    w->child[d + 1] = 1;
    o = put_nl(w, o, d);
    PUT_LIT(o, "<IntervalReading>");
    PUT_LEAF(w, o, d + 1, "cost", r->cost);
    for (int i = 0; i < nq; i++) {
        o = put_nl(w, o, d + 1);
        PUT_LIT(o, "<ReadingQuality>");
        PUT_LEAF(w, o, d + 2, "quality", r->qualities[i]);
        o = put_nl(w, o, d + 1);
        PUT_LIT(o, "</ReadingQuality>");
        w->child[d + 2] = 1;
    }
    const espi_interval *tp = &r->time_period;
    if (tp->duration != ESPI_NONE || tp->start != ESPI_NONE) {
        o = put_nl(w, o, d + 1);
        PUT_LIT(o, "<timePeriod>");
        PUT_LEAF(w, o, d + 2, "duration", tp->duration);
        PUT_LEAF(w, o, d + 2, "start", tp->start);
        o = put_nl(w, o, d + 1);
        PUT_LIT(o, "</timePeriod>");
        w->child[d + 2] = 1;
    }
    PUT_LEAF(w, o, d + 1, "value", r->value);
    PUT_LEAF(w, o, d + 1, "consumptionTier", r->consumption_tier);
    PUT_LEAF(w, o, d + 1, "tou", r->tou);
    PUT_LEAF(w, o, d + 1, "cpp", r->cpp);
    o = put_nl(w, o, d);
    PUT_LIT(o, "</IntervalReading>");
    w->n = (size_t)(o - w->buf);
}

int espi_writer_interval_reading(espi_writer *w, const espi_interval_reading *r, eg_err *err)
{
    if (w->state != WS_BLOCK && w->state != WS_BARE_BLOCK)
        return eg_errf(err, EG_EUSAGE, writer_name(w), 0, 0,
                       "interval_reading outside begin/end_interval_block");
    int n = r->n_qualities < 0 ? 0 : r->n_qualities > ESPI_MAX_QUALITIES ? ESPI_MAX_QUALITIES : r->n_qualities;
    if (w->depth + 3 <= WRITER_MAX_DEPTH && 2 * (size_t)(w->depth + 2) < sizeof spaces) {
        if (batch_room(w, READING_MAX)) return writer_fail(w, err);
        reading_fast(w, r, n);
        return 0;
    }
    if (raw_open(w, "IntervalReading") || el_int(w, "cost", r->cost)) return writer_fail(w, err);
    for (int i = 0; i < n; i++)
        if (raw_open(w, "ReadingQuality") || el_int(w, "quality", r->qualities[i]) ||
            raw_close(w, "ReadingQuality"))
            return writer_fail(w, err);
    if (el_interval(w, "timePeriod", &r->time_period) || el_int(w, "value", r->value) ||
        el_int(w, "consumptionTier", r->consumption_tier) || el_int(w, "tou", r->tou) ||
        el_int(w, "cpp", r->cpp) || raw_close(w, "IntervalReading"))
        return writer_fail(w, err);
    return 0;
}

int espi_writer_end_interval_block(espi_writer *w, eg_err *err)
{
    if (w->state != WS_BLOCK && w->state != WS_BARE_BLOCK)
        return eg_errf(err, EG_EUSAGE, writer_name(w), 0, 0,
                       "end_interval_block without begin_interval_block");
    w->state = w->state == WS_BLOCK ? WS_FEED : WS_START;
    return entry_end(w, err);
}

int espi_writer_interval_block(espi_writer *w, const espi_entry *e, const espi_interval_block *b, eg_err *err)
{
    int rc = espi_writer_begin_interval_block(w, e, &b->interval, err);
    for (size_t i = 0; !rc && i < b->n_readings; i++)
        rc = espi_writer_interval_reading(w, &b->readings[i], err);
    if (!rc) rc = espi_writer_end_interval_block(w, err);
    return rc;
}

static int el_line_item(espi_writer *w, const espi_line_item *li)
{
    return raw_open(w, "costAdditionalDetailLastPeriod") || el_int(w, "amount", li->amount) ||
           el_int(w, "rounding", li->rounding) || el_int(w, "dateTime", li->date_time) ||
           el_str(w, "note", li->note) || el_measurement(w, "measurement", &li->measurement) ||
           el_int(w, "itemKind", li->item_kind) || el_int(w, "unitCost", li->unit_cost) ||
           el_interval(w, "itemPeriod", &li->item_period) ||
           raw_close(w, "costAdditionalDetailLastPeriod")
               ? -1 : 0;
}

static int body_usage_summary(espi_writer *w, const espi_usage_summary *s)
{
    if (el_interval(w, "billingPeriod", &s->billing_period) ||
        el_int(w, "billLastPeriod", s->bill_last_period) || el_int(w, "billToDate", s->bill_to_date) ||
        el_int(w, "costAdditionalLastPeriod", s->cost_additional_last_period))
        return -1;
    for (size_t i = 0; i < s->n_line_items; i++)
        if (el_line_item(w, &s->line_items[i])) return -1;
    if (el_int(w, "currency", s->currency) ||
        el_measurement(w, "overallConsumptionLastPeriod", &s->overall_consumption_last_period) ||
        el_measurement(w, "currentBillingPeriodOverAllConsumption",
                       &s->current_billing_period_overall_consumption) ||
        el_measurement(w, "currentDayLastYearNetConsumption", &s->current_day_last_year_net_consumption) ||
        el_measurement(w, "currentDayNetConsumption", &s->current_day_net_consumption) ||
        el_measurement(w, "currentDayOverallConsumption", &s->current_day_overall_consumption) ||
        el_measurement(w, "peakDemand", &s->peak_demand) ||
        el_measurement(w, "previousDayLastYearOverallConsumption",
                       &s->previous_day_last_year_overall_consumption) ||
        el_measurement(w, "previousDayNetConsumption", &s->previous_day_net_consumption) ||
        el_measurement(w, "previousDayOverallConsumption", &s->previous_day_overall_consumption) ||
        el_int(w, "qualityOfReading", s->quality_of_reading) ||
        el_measurement(w, "ratchetDemand", &s->ratchet_demand) ||
        el_interval(w, "ratchetDemandPeriod", &s->ratchet_demand_period) ||
        el_int(w, "statusTimeStamp", s->status_time_stamp) || el_int(w, "commodity", s->commodity))
        return -1;
    if (s->legacy_name) return 0; /* ElectricPowerUsageSummary ends at commodity */
    if (el_str(w, "tariffProfile", s->tariff_profile) || el_str(w, "readCycle", s->read_cycle))
        return -1;
    if (s->billing_charge_source[0] &&
        (raw_open(w, "billingChargeSource") || el_str(w, "agencyName", s->billing_charge_source) ||
         raw_close(w, "billingChargeSource")))
        return -1;
    return 0;
}

int espi_writer_usage_summary(espi_writer *w, const espi_entry *e, const espi_usage_summary *s, eg_err *err)
{
    int rc = entry_begin(w, e, s->legacy_name ? "ElectricPowerUsageSummary" : "UsageSummary", err);
    if (rc) return rc;
    if (body_usage_summary(w, s)) return writer_fail(w, err);
    return entry_end(w, err);
}

static int body_power_quality(espi_writer *w, const espi_power_quality_summary *q)
{
    return el_int(w, "flickerPlt", q->flicker_plt) || el_int(w, "flickerPst", q->flicker_pst) ||
           el_int(w, "harmonicVoltage", q->harmonic_voltage) ||
           el_int(w, "longInterruptions", q->long_interruptions) ||
           el_int(w, "mainsVoltage", q->mains_voltage) ||
           el_int(w, "measurementProtocol", q->measurement_protocol) ||
           el_int(w, "powerFrequency", q->power_frequency) ||
           el_int(w, "rapidVoltageChanges", q->rapid_voltage_changes) ||
           el_int(w, "shortInterruptions", q->short_interruptions) ||
           el_interval(w, "summaryInterval", &q->summary_interval) ||
           el_int(w, "supplyVoltageDips", q->supply_voltage_dips) ||
           el_int(w, "supplyVoltageImbalance", q->supply_voltage_imbalance) ||
           el_int(w, "supplyVoltageVariations", q->supply_voltage_variations) ||
           el_int(w, "tempOvervoltage", q->temp_overvoltage)
               ? -1 : 0;
}

int espi_writer_power_quality_summary(espi_writer *w, const espi_entry *e, const espi_power_quality_summary *q, eg_err *err)
{
    int rc = entry_begin(w, e, "ElectricPowerQualitySummary", err);
    if (rc) return rc;
    if (body_power_quality(w, q)) return writer_fail(w, err);
    return entry_end(w, err);
}

int espi_writer_local_time_parameters(espi_writer *w, const espi_entry *e, const espi_local_time_parameters *t, eg_err *err)
{
    int rc = entry_begin(w, e, "LocalTimeParameters", err);
    if (rc) return rc;
    if (el_hex32(w, "dstEndRule", t->dst_end_rule) || el_int(w, "dstOffset", t->dst_offset) ||
        el_hex32(w, "dstStartRule", t->dst_start_rule) || el_int(w, "tzOffset", t->tz_offset))
        return writer_fail(w, err);
    return entry_end(w, err);
}

static int el_str_list(espi_writer *w, const char *name, const char *base, size_t stride, int n)
{
    if (n > ESPI_MAX_LIST) n = ESPI_MAX_LIST;
    for (int i = 0; i < n; i++)
        if (el_str(w, name, base + (size_t)i * stride)) return -1;
    return 0;
}

static int body_application_information(espi_writer *w, const espi_application_information *a)
{
    return el_str(w, "dataCustodianId", a->data_custodian_id) ||
           el_int(w, "dataCustodianApplicationStatus", a->data_custodian_application_status) ||
           el_str(w, "thirdPartyApplicationDescription", a->third_party_application_description) ||
           el_int(w, "thirdPartyApplicationStatus", a->third_party_application_status) ||
           el_int(w, "thirdPartyApplicationType", a->third_party_application_type) ||
           el_int(w, "thirdPartyApplicationUse", a->third_party_application_use) ||
           el_str(w, "thirdPartyPhone", a->third_party_phone) ||
           el_str(w, "authorizationServerUri", a->authorization_server_uri) ||
           el_str(w, "thirdPartyNotifyUri", a->third_party_notify_uri) ||
           el_str(w, "authorizationServerAuthorizationEndpoint",
                  a->authorization_server_authorization_endpoint) ||
           el_str(w, "authorizationServerRegistrationEndpoint",
                  a->authorization_server_registration_endpoint) ||
           el_str(w, "authorizationServerTokenEndpoint", a->authorization_server_token_endpoint) ||
           el_str(w, "dataCustodianBulkRequestURI", a->data_custodian_bulk_request_uri) ||
           el_str(w, "dataCustodianResourceEndpoint", a->data_custodian_resource_endpoint) ||
           el_str(w, "thirdPartyScopeSelectionScreenURI", a->third_party_scope_selection_screen_uri) ||
           el_str(w, "thirdPartyUserPortalScreenURI", a->third_party_user_portal_screen_uri) ||
           el_str(w, "client_secret", a->client_secret) || el_str(w, "logo_uri", a->logo_uri) ||
           el_str(w, "client_name", a->client_name) || el_str(w, "client_uri", a->client_uri) ||
           el_str_list(w, "redirect_uri", a->redirect_uri[0], sizeof a->redirect_uri[0],
                       a->n_redirect_uri) ||
           el_str(w, "client_id", a->client_id) || el_str(w, "tos_uri", a->tos_uri) ||
           el_str(w, "policy_uri", a->policy_uri) || el_str(w, "software_id", a->software_id) ||
           el_str(w, "software_version", a->software_version) ||
           el_int(w, "client_id_issued_at", a->client_id_issued_at) ||
           el_int(w, "client_secret_expires_at", a->client_secret_expires_at) ||
           el_str_list(w, "contacts", a->contacts[0], sizeof a->contacts[0], a->n_contacts) ||
           el_str(w, "token_endpoint_auth_method", a->token_endpoint_auth_method) ||
           el_str_list(w, "scope", a->scope[0], sizeof a->scope[0], a->n_scope) ||
           el_str_list(w, "grant_types", a->grant_types[0], sizeof a->grant_types[0],
                       a->n_grant_types) ||
           el_str(w, "response_types", a->response_types) ||
           el_str(w, "registration_client_uri", a->registration_client_uri) ||
           el_str(w, "registration_access_token", a->registration_access_token) ||
           el_str(w, "dataCustodianScopeSelectionScreenURI",
                  a->data_custodian_scope_selection_screen_uri)
               ? -1 : 0;
}

int espi_writer_application_information(espi_writer *w, const espi_entry *e, const espi_application_information *a, eg_err *err)
{
    int rc = entry_begin(w, e, "ApplicationInformation", err);
    if (rc) return rc;
    if (body_application_information(w, a)) return writer_fail(w, err);
    return entry_end(w, err);
}

static int body_authorization(espi_writer *w, const espi_authorization *a)
{
    return el_interval(w, "authorizedPeriod", &a->authorized_period) ||
           el_interval(w, "publishedPeriod", &a->published_period) ||
           el_int(w, "status", a->status) || el_int(w, "expires_at", a->expires_at) ||
           el_str(w, "grant_type", a->grant_type) || el_str(w, "scope", a->scope) ||
           el_str(w, "token_type", a->token_type) || el_str(w, "error", a->error) ||
           el_str(w, "error_description", a->error_description) ||
           el_str(w, "error_uri", a->error_uri) || el_str(w, "resourceURI", a->resource_uri) ||
           el_str(w, "authorizationURI", a->authorization_uri) ||
           el_str(w, "customerResourceURI", a->customer_resource_uri)
               ? -1 : 0;
}

int espi_writer_authorization(espi_writer *w, const espi_entry *e, const espi_authorization *a, eg_err *err)
{
    int rc = entry_begin(w, e, "Authorization", err);
    if (rc) return rc;
    if (body_authorization(w, a)) return writer_fail(w, err);
    return entry_end(w, err);
}

/* A bare ESPI document (no Atom): only as the first thing written. */
static int bare_begin(espi_writer *w, const char *name, eg_err *err)
{
    int rc = check_state(w, err, name);
    if (rc) return rc;
    if (w->state != WS_START)
        return eg_errf(err, EG_EUSAGE, writer_name(w), 0, 0,
                       "%s is a document of its own; it cannot go inside a feed", name);
    return tw_open(w, name, ESPI_NS) ? writer_fail(w, err) : 0;
}

static int bare_end(espi_writer *w, eg_err *err)
{
    if (tw_close(w)) return writer_fail(w, err);
    w->state = WS_DONE;
    return 0;
}

int espi_writer_batch_list(espi_writer *w, const espi_batch_list *b, eg_err *err)
{
    int rc = bare_begin(w, "BatchList", err);
    if (rc) return rc;
    for (size_t i = 0; i < b->n_resources; i++)
        if (el_str(w, "resources", b->resources[i])) return writer_fail(w, err);
    return bare_end(w, err);
}

int espi_writer_service_status(espi_writer *w, const espi_service_status_res *s, eg_err *err)
{
    int rc = bare_begin(w, "ServiceStatus", err);
    if (rc) return rc;
    if (el_int(w, "currentStatus", s->current_status)) return writer_fail(w, err);
    return bare_end(w, err);
}

int espi_writer_resource(espi_writer *w, const espi_resource *r, eg_err *err)
{
    const espi_entry *e = r->entry;
    if (r->type == ESPI_RES_BATCH_LIST) return espi_writer_batch_list(w, &r->u.batch_list, err);
    if (r->type == ESPI_RES_SERVICE_STATUS) return espi_writer_service_status(w, &r->u.service_status, err);
    if (!e)
        return eg_errf(err, EG_EUSAGE, writer_name(w), 0, 0,
                       "%s has no Atom entry to write it in", espi_resource_name(r->type) ?
                       espi_resource_name(r->type) : "resource");
    switch (r->type) {
    case ESPI_RES_USAGE_POINT: return espi_writer_usage_point(w, e, &r->u.usage_point, err);
    case ESPI_RES_METER_READING: return espi_writer_meter_reading(w, e, err);
    case ESPI_RES_READING_TYPE: return espi_writer_reading_type(w, e, &r->u.reading_type, err);
    case ESPI_RES_INTERVAL_BLOCK: return espi_writer_interval_block(w, e, &r->u.interval_block, err);
    case ESPI_RES_USAGE_SUMMARY: return espi_writer_usage_summary(w, e, &r->u.usage_summary, err);
    case ESPI_RES_POWER_QUALITY_SUMMARY:
        return espi_writer_power_quality_summary(w, e, &r->u.power_quality_summary, err);
    case ESPI_RES_LOCAL_TIME_PARAMETERS:
        return espi_writer_local_time_parameters(w, e, &r->u.local_time_parameters, err);
    case ESPI_RES_APPLICATION_INFORMATION:
        return espi_writer_application_information(w, e, &r->u.application_information, err);
    case ESPI_RES_AUTHORIZATION: return espi_writer_authorization(w, e, &r->u.authorization, err);
    default:
        return eg_errf(err, EG_EUSAGE, writer_name(w), 0, 0,
                       "cannot write a %s resource (ESPI 4.0 defines no element for it here)",
                       espi_resource_name(r->type) ? espi_resource_name(r->type) : "unknown");
    }
}
