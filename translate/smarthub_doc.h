/* smarthub_doc.h -- a SmartHub poll answer as compact tables, read in one
 * streaming pass (internal to smarthub.c).
 *
 * The poll answer is JSON of up to TR_SMARTHUB_MAX_BYTES (a month of
 * 15-minute data with cost is ~1 MB: points, plus an xToOrderedInterval
 * object per point).  A DOM (jansson) costs a malloc per value and turns every
 * number into a double; instead yajl (libyajl-dev) hands us parse events and
 * we keep only what smarthub.c reads, in flat arrays:
 *
 *   entries   per ELECTRIC entry: type, timeFrame and ranges into the tables
 *             below (its series, meters, xToOrderedInterval, quality lists);
 *   series    per series: name, meterNumber, channel, rateName, and the range
 *             of its points;
 *   points    per data[] element: x (epoch ms) and y as a reference to its
 *             raw text in the input -- y is parsed later by decimal.h at the
 *             series' scale (kWh or dollars: the entry's type, which JSON key
 *             order may put after the points), so no value goes through a
 *             double;
 *   meters, xto (x -> interval start/end, orderedName), quality groups and
 *             their x values.
 *
 * JSON key order is not guaranteed, so nothing is decided while parsing:
 * the tables are complete before smarthub.c looks at them, and every join
 * (series <-> meter by seriesId, cost <-> usage by name, point <-> interval
 * by x) happens afterwards.  A duplicate key keeps its last value (as
 * jansson did).
 *
 * Strings are copied into one pool (offsets, SH_NO_STR when the value is
 * not a string).  yajl runs with string validation off (it doubles the
 * parse time); every string we keep is checked for UTF-8 here instead, so
 * nothing invalid reaches a channel name or an error message. */
#ifndef TR_SMARTHUB_DOC_H
#define TR_SMARTHUB_DOC_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define SH_NO_STR UINT32_MAX

/* JSON value kinds (SH_ABSENT: the key was not there). */
enum sh_kind { SH_ABSENT, SH_NULL, SH_BOOL, SH_NUMBER, SH_STRING, SH_OBJECT, SH_ARRAY };

typedef struct sh_num {           /* an integer field read like jansson's integer/integral real */
    int64_t v;
    int ok;
} sh_num;

typedef struct sh_dpoint {
    int64_t x_ms;                 /* -1: missing, not a number, or not in 0..2200-01-01 */
    uint32_t y_off, y_len;        /* y's text: a number as written, a string's contents */
    uint8_t y_kind;               /* sh_kind */
    uint8_t y_pooled;             /* y_off is into the pool (else into the input) */
} sh_dpoint;

typedef struct sh_dseries {
    int is_object;
    uint32_t name, meter_number, rate_name;
    sh_num channel;
    int data_kind;                /* kind of "data" */
    size_t p0, p1;                /* its points */
} sh_dseries;

typedef struct sh_dmeter {
    uint32_t series_id, meter_number, unit, flow, rate_name, rate;
    sh_num channel;
} sh_dmeter;

typedef struct sh_dxto {          /* xToOrderedInterval[x] */
    int64_t x_ms;
    int64_t start, end;           /* interval.start/end, -1 when missing */
    uint32_t ordered_name;
    size_t ord;                   /* source order (repeated keys: the last wins) */
} sh_dxto;

typedef struct sh_dgroup {        /* one series' list in estimatedSeries/editedSeries */
    uint32_t name;
    size_t i0, i1;                /* its x values in doc.qx */
} sh_dgroup;

enum { SH_Q_EDITED, SH_Q_ESTIMATED };

typedef struct sh_dentry {
    int list;                     /* id of the ELECTRIC array holding it */
    int is_object;
    uint32_t type, time_frame;
    int series_kind;
    size_t s0, s1, m0, m1, x0, x1;
    int q_kind[2];                /* editedSeries, estimatedSeries */
    size_t g0[2], g1[2];
} sh_dentry;

#define SH_MAX_INDUSTRIES 16

typedef struct sh_dbox {          /* a candidate data object: the root, or root.data */
    int electric_kind;
    int list;                     /* id of its ELECTRIC array, -1 */
    uint32_t industries[SH_MAX_INDUSTRIES]; /* other keys with array values, in order */
    int n_industries;
} sh_dbox;

typedef struct sh_doc {
    const char *buf;              /* the input (borrowed) */
    size_t len;
    char *pool;
    size_t pool_len, pool_cap;
    int root_kind, status_kind, data_kind;
    uint32_t status;
    sh_dbox box[2];               /* 0: the root itself, 1: root.data */
    sh_dentry *ent;   size_t n_ent, cap_ent;
    sh_dseries *ser;  size_t n_ser, cap_ser;
    sh_dpoint *pts;   size_t n_pts, cap_pts;
    sh_dmeter *met;   size_t n_met, cap_met;
    sh_dxto *xto;     size_t n_xto, cap_xto;  /* each entry's range sorted by x (stable) */
    sh_dgroup *qg;    size_t n_qg, cap_qg;
    int64_t *qx;      size_t n_qx, cap_qx;    /* -1 where an element had no usable x */
} sh_doc;

/* Parse buf[0..len) into doc (zeroed by the caller; buf must outlive doc).
 * Returns 0, or EG_EDATA (not JSON; err has file:line:col and yajl's
 * message), EG_ELIMIT (more than max_points points, or tables as large), or
 * EG_ENOMEM.  Free with sh_doc_free() in every case. */
int sh_doc_parse(sh_doc *doc, const char *buf, size_t len, size_t max_points, const char *name,
                 eg_err *err);
void sh_doc_free(sh_doc *doc);

/* The pooled string at off, NULL for SH_NO_STR. */
static inline const char *sh_doc_str(const sh_doc *d, uint32_t off)
{
    return off == SH_NO_STR ? NULL : d->pool + off;
}

/* Point p's y text (not NUL-terminated, p->y_len bytes). */
static inline const char *sh_doc_ytext(const sh_doc *d, const sh_dpoint *p)
{
    return (p->y_pooled ? d->pool : d->buf) + p->y_off;
}

/* The xToOrderedInterval item of x in entry e (the last one when repeated), or NULL. */
const sh_dxto *sh_doc_xto(const sh_doc *d, const sh_dentry *e, int64_t x_ms);

/* An integer as jansson's json_integer/integral-real reading would give it. */
sh_num sh_doc_int(const char *s, size_t len);

#endif
