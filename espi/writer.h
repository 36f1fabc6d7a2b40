/* writer.h -- streaming ESPI Atom writer (libxml2 xmlTextWriter).
 *
 * Writes one resource at a time, in the exact child order the ESPI 4.0
 * schema requires, so memory stays flat however large the feed.  Output
 * goes to a file (written to a temporary name beside it and renamed into
 * place by espi_writer_close(), so a failed run never leaves a half-written
 * feed), to stdout, or to a caller's write callback (the HTTP server).
 *
 * Typical use:
 *     espi_writer *w = espi_writer_open_path("out.xml", NULL, &err);
 *     espi_writer_begin_feed(w, &head, &err);
 *     espi_writer_usage_point(w, &entry, &up, &err);
 *     ...
 *     espi_writer_end_feed(w, &err);
 *     espi_writer_close(w, &err);     (espi_writer_abort(w) on failure)
 * Without begin_feed, the first resource is written as a bare <entry>
 * document (what GET .../UsagePoint/{id} returns). */
#ifndef ESPI_WRITER_H
#define ESPI_WRITER_H

#include <stdio.h>

#include "err.h"
#include "espi.h"

typedef struct espi_writer espi_writer;

typedef struct espi_writer_opts {
    int indent;          /* pretty-print (default 1) */
} espi_writer_opts;

/* Open a writer on path ("-" = stdout).  The file appears only when
 * espi_writer_close() succeeds.  NULL opts = defaults. */
espi_writer *espi_writer_open_path(const char *path, const espi_writer_opts *o, eg_err *err);
/* Open a writer on a callback (returns bytes written or -1). */
espi_writer *espi_writer_open_io(int (*writefn)(void *io, const char *buf, int len),
                                 void *io, const espi_writer_opts *o, eg_err *err);
/* Flush, and for a path rename the temporary file into place. Frees w. */
int espi_writer_close(espi_writer *w, eg_err *err);
/* Drop everything written (unlink the temporary file).  Frees w.  NULL ok. */
void espi_writer_abort(espi_writer *w);

int espi_writer_begin_feed(espi_writer *w, const espi_feed_head *h, eg_err *err);
int espi_writer_end_feed(espi_writer *w, eg_err *err);

/* One resource in its entry.  e supplies id, title, published/updated and
 * links (build them with uri.h). */
int espi_writer_usage_point(espi_writer *w, const espi_entry *e, const espi_usage_point *p, eg_err *err);
int espi_writer_meter_reading(espi_writer *w, const espi_entry *e, eg_err *err);
int espi_writer_reading_type(espi_writer *w, const espi_entry *e, const espi_reading_type *rt, eg_err *err);
int espi_writer_interval_block(espi_writer *w, const espi_entry *e, const espi_interval_block *b, eg_err *err);
int espi_writer_usage_summary(espi_writer *w, const espi_entry *e, const espi_usage_summary *s, eg_err *err);
int espi_writer_power_quality_summary(espi_writer *w, const espi_entry *e, const espi_power_quality_summary *q, eg_err *err);
int espi_writer_local_time_parameters(espi_writer *w, const espi_entry *e, const espi_local_time_parameters *t, eg_err *err);
int espi_writer_application_information(espi_writer *w, const espi_entry *e, const espi_application_information *a, eg_err *err);
int espi_writer_authorization(espi_writer *w, const espi_entry *e, const espi_authorization *a, eg_err *err);
/* BatchList and ServiceStatus are written as bare documents (no Atom). */
int espi_writer_batch_list(espi_writer *w, const espi_batch_list *b, eg_err *err);
int espi_writer_service_status(espi_writer *w, const espi_service_status_res *s, eg_err *err);

/* An IntervalBlock too large for one array: begin, readings, end. */
int espi_writer_begin_interval_block(espi_writer *w, const espi_entry *e, const espi_interval *iv, eg_err *err);
int espi_writer_interval_reading(espi_writer *w, const espi_interval_reading *r, eg_err *err);
int espi_writer_end_interval_block(espi_writer *w, eg_err *err);

/* Dispatch on r->type (for re-writing what the reader or store produced). */
int espi_writer_resource(espi_writer *w, const espi_resource *r, eg_err *err);

/* Bytes written so far. */
unsigned long long espi_writer_bytes(const espi_writer *w);

#endif
