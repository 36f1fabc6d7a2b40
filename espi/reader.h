/* reader.h -- streaming ESPI feed reader (libxml2 SAX2 push parser).
 *
 * Reads an Atom feed, a single Atom entry, or a bare ESPI element, and calls
 * back once per resource with the model filled in (espi.h).  Memory does
 * not grow with the feed: only the current entry is held, and an
 * IntervalBlock's readings live in a buffer reused from block to block
 * (capped by opts.max_block_readings).
 *
 * Parsing is hardened: no network, no DTD loading, no entity expansion, a
 * DOCTYPE is refused outright (XML-002), nesting depth and text size are
 * limited.  Malformed XML ends the read with an XML-001 diagnostic and
 * EG_EDATA.  With opts.check_schema the schema checker (schema.h) runs in
 * the same pass and reports SCHEMA-nnn diagnostics; with opts.xsd_file the
 * document is also validated by libxml2 against that XSD (XSD-001).
 *
 * A large file (espi_read_file, 4 MiB or more) is parsed by libxml2 on a
 * second thread; the callbacks still run on the calling thread, in
 * document order, one at a time.  Nothing else changes for the caller. */
#ifndef ESPI_READER_H
#define ESPI_READER_H

#include <stddef.h>

#include "diag.h"
#include "err.h"
#include "espi.h"

typedef struct espi_reader_opts {
    int check_schema;            /* run our schema checker (default 1) */
    const char *xsd_file;        /* also validate against this XSD, or NULL */
    int max_depth;               /* default 64 */
    size_t max_text;             /* longest text node, default 1 MiB */
    size_t max_block_readings;   /* per IntervalBlock, default 1,000,000; also caps
                                  * all the blocks sharing one entry's content */
    size_t max_line_items;       /* per UsageSummary, default 10,000 */
} espi_reader_opts;

typedef struct espi_reader_cbs {
    void *ctx;
    /* Feed header, once, before the first resource (not called for an
     * entry or bare-resource document).  May be NULL. */
    int (*feed_head)(void *ctx, const espi_feed_head *h, eg_err *err);
    /* Each resource.  Return nonzero (an EG_E* code) to stop: the read
     * returns that code.  Return EG_ESTOP to stop quietly. */
    int (*resource)(void *ctx, const espi_resource *r, eg_err *err);
    /* Diagnostics (XML-, SCHEMA-, XSD-).  May be NULL. */
    espi_diag_cb diag;
    /* Progress: bytes consumed so far.  May be NULL. */
    void (*progress)(void *ctx, unsigned long long bytes);
} espi_reader_cbs;

typedef struct espi_read_stats {
    unsigned long long bytes;
    long entries, resources, interval_readings;
    long errors;                 /* XML + SCHEMA + XSD errors reported */
} espi_read_stats;

void espi_reader_opts_init(espi_reader_opts *o);

/* Read a file ("-" = stdin).  Returns 0 when the document was read to the
 * end (schema errors are reported through diag and counted in stats, they
 * do not stop the read), EG_ENOINPUT when it cannot be opened, EG_EDATA
 * when it is not well-formed XML (read stops at the first such error), or
 * the callback's code.  stats may be NULL.  XML-003/XML-004 (depth, text
 * or count limits) end the read with EG_ELIMIT; a failing read (callback
 * returning -1, a file read error) with EG_EIO. */
int espi_read_file(const char *path, const espi_reader_opts *o,
                   const espi_reader_cbs *cbs, espi_read_stats *stats, eg_err *err);

/* The same from memory; name is used in diagnostics. */
int espi_read_memory(const char *buf, size_t len, const char *name,
                     const espi_reader_opts *o, const espi_reader_cbs *cbs,
                     espi_read_stats *stats, eg_err *err);

/* The same from a read callback (returns bytes read, 0 at end, -1 error),
 * used to validate an HTTP body while it downloads. */
int espi_read_io(int (*readfn)(void *io, char *buf, int len), void *io, const char *name,
                 const espi_reader_opts *o, const espi_reader_cbs *cbs,
                 espi_read_stats *stats, eg_err *err);

#endif
