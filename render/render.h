/* render.h -- Green Button feeds as pages and tables people can read.
 *
 * Two outputs from one feed:
 *  - HTML: one self-contained page (inline CSS and SVG, no script, no
 *    network resource).  The feed is streamed through the espi reader into
 *    a small *aggregate* (per channel: daily totals, a 24-hour profile,
 *    quality counts; per usage point: billing summaries) which is written
 *    as our own little XML vocabulary and handed to an XSLT 1.0 stylesheet
 *    (render/feed.xsl, compiled into the binary).  The stylesheet never
 *    sees the raw feed.
 *  - CSV: one row per interval reading, written from the reader callback,
 *    so memory does not grow with the feed.
 *
 * Both read the feed twice: a first pass collects the small metadata that
 * Atom lets appear anywhere (LocalTimeParameters, ReadingTypes, which
 * MeterReading uses which ReadingType, titles), the second pass reads the
 * interval data with every fact already known.  Standard input is spooled
 * to a temporary file for that.
 *
 * Times are shown in the feed's local time: LocalTimeParameters tzOffset
 * plus its DST rules (espi_dst_rule_instant; a rule's time is the wall
 * clock just before the change, as espi.h documents).  A feed without one is shown in UTC
 * and the page says so. */
#ifndef RENDER_H
#define RENDER_H

#include <stddef.h>
#include <stdio.h>

#include "err.h"
#include "espi.h"

/* Limits of the aggregate.  A day row is one (channel, local day); 200,000
 * rows is e.g. 50 channels x 11 years.  Above a limit the render stops
 * with EG_ELIMIT and a message naming the limit. */
#define RENDER_MAX_DAY_ROWS 200000
#define RENDER_MAX_CHANNELS 512
#define RENDER_MAX_USAGE_POINTS 256
#define RENDER_MAX_READING_TYPES 512
#define RENDER_MAX_SUMMARIES 2000
#define RENDER_MAX_LINE_ITEMS 20000 /* over all summaries */

typedef struct render_opts {
    const char *title;       /* page title; NULL = the feed's title */
    const char *source_name; /* shown on the page; NULL = the path */
    size_t max_day_rows;     /* 0 = RENDER_MAX_DAY_ROWS */
} render_opts;

void render_opts_init(render_opts *o);

/* Render the feed at path ("-" = stdin) as one HTML page on out.
 * Returns 0, or EG_ENOINPUT (cannot open), EG_EDATA (not XML; err has
 * file:line:col), EG_ELIMIT (aggregate over a limit), EG_ENOMEM, EG_EIO. */
int render_feed_html(const char *path, const render_opts *o, FILE *out, eg_err *err);

/* Write the feed's interval readings as CSV (RFC 4180, header row) on out.
 * Same return codes as render_feed_html (never EG_ELIMIT for data). */
int render_feed_csv(const char *path, const render_opts *o, FILE *out, eg_err *err);

/* ---- The aggregate, for tests and other front ends ------------------- */

typedef struct render_agg render_agg;

/* A new empty aggregate; caller frees with render_agg_free(). NULL = ENOMEM. */
render_agg *render_agg_new(const render_opts *o);
void render_agg_free(render_agg *a);

/* Pass 1: feed header and every resource (only metadata is kept). */
int render_agg_head(render_agg *a, const espi_feed_head *h, eg_err *err);
int render_agg_meta(render_agg *a, const espi_resource *r, eg_err *err);
/* Between the passes: resolve MeterReading -> ReadingType links. */
void render_agg_resolve(render_agg *a);
/* Pass 2: interval data and usage summaries. */
int render_agg_data(render_agg *a, const espi_resource *r, eg_err *err);
/* After pass 2: fill in missing days and net-metering rows. */
int render_agg_finish(render_agg *a, eg_err *err);

/* The aggregate as XML text (our vocabulary, see docs/render.md) in a
 * malloc'd NUL-terminated buffer; caller frees with free(). */
int render_agg_xml(const render_agg *a, char **out, size_t *len, eg_err *err);

/* Apply the built-in stylesheet to aggregate XML text, write HTML to out. */
int render_html_from_xml(const char *xml, size_t len, FILE *out, eg_err *err);

#endif
