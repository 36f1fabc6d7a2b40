/* render_int.h -- what the render/ sources share (not installed).
 *
 * The aggregate keeps, per channel (one MeterReading), its ReadingType
 * facts, a 24-slot local-hour profile and a run of day rows; day rows live
 * in one table keyed by (channel, local day) with an open-addressing index,
 * bounded by opts.max_day_rows.  Keys of resources are their hrefs reduced
 * to the path after ".../espi/1_1/resource/" (or after scheme://host), so
 * relative and absolute links to the same resource compare equal. */
#ifndef RENDER_INT_H
#define RENDER_INT_H

#include <stdint.h>

#include "render.h"

/* ---- local time (ltime.c) -------------------------------------------- */

typedef struct render_ltime {
    int valid;               /* a usable LocalTimeParameters was found */
    int has_dst;
    int64_t tz_offset, dst_offset;
    uint32_t dst_start, dst_end;
    char title[ESPI_STR256];
} render_ltime;

/* Fill lt from LocalTimeParameters; returns 0, or -1 (lt stays UTC) when
 * tzOffset is absent or beyond +-14 h.  Unusable DST rules mean "no DST". */
int render_ltime_set(render_ltime *lt, const espi_local_time_parameters *p, const char *title);
/* Seconds to add to a UTC instant to get local wall time at that instant. */
int64_t render_ltime_offset(const render_ltime *lt, int64_t utc);
/* Local day number (days since 1970-01-01 in local time) of a UTC instant. */
int64_t render_local_day(const render_ltime *lt, int64_t utc);
/* UTC instant of the local midnight that starts day `day`. */
int64_t render_local_midnight(const render_ltime *lt, int64_t day);
/* Length in seconds of local day `day` (86400, or 82800/90000 on DST days). */
int64_t render_local_day_length(const render_ltime *lt, int64_t day);
/* "2012-03-11" for a day number; out >= 11 bytes. */
void render_day_format(int64_t day, char *out, size_t size);
/* "Mon".."Sun" for a day number. */
const char *render_day_weekday(int64_t day);
/* "2012-03-11T03:00:00-04:00" (local wall time with its offset); out >= 32. */
void render_local_format(const render_ltime *lt, int64_t utc, char *out, size_t size);
/* "UTC-05:00" for an offset; out >= 16. */
void render_offset_format(int64_t off, char *out, size_t size);
/* "second Sunday of March, 02:00" for a rule; out >= 64. */
void render_dst_rule_words(uint32_t rule, char *out, size_t size);

/* ---- numbers and words (num.c) --------------------------------------- */

/* v x 10^exp10 as an exact decimal with max(0,-exp10) fraction digits.
 * Returns 0, or -1 when it does not fit size. */
int render_decimal(int64_t v, int exp10, char *out, size_t size);
/* num/den rounded half away from zero to `decimals` digits, exact. */
int render_ratio(int64_t num, int64_t den, int exp10, int decimals, char *out, size_t size);
/* Display unit of a ReadingType uom ("kWh" for Wh) and the power of ten
 * that unit sits at relative to the base uom (3 for kWh).  "" when unknown. */
const char *render_unit(int64_t uom, int *unit_exp);
const char *render_kind_word(int64_t kind);
const char *render_flow_word(int64_t flow);
const char *render_commodity_word(int64_t commodity);
const char *render_service_word(int64_t kind);
const char *render_item_kind_word(int64_t kind);
const char *render_currency_code(int64_t currency);
/* "15-minute", "hourly", "daily", "monthly", "3600-second" ... */
void render_interval_words(int64_t seconds, char *out, size_t size);
/* "Energy, kWh, delivered (forward), 15-minute"; out >= 128. */
void render_reading_type_words(const espi_reading_type *rt, char *out, size_t size);
/* Quality class of a reading: 0 valid/unknown, 1 estimated, 2 flagged. */
int render_quality_class(const int64_t *q, int n, int64_t default_quality);
/* "estimated using linear interpolation" ... */
const char *render_quality_word(int64_t q);
/* Reduce an href to its resource path (see top of file). */
void render_href_key(const char *href, char *out, size_t size);

/* ---- the aggregate (agg.c) ------------------------------------------- */

typedef struct render_hour {
    int64_t sum, secs;
    long n;
} render_hour;

typedef struct render_day {
    int ch;
    int64_t day;
    int64_t sum, cost, secs;
    long n, est, flagged, nodata, missing;
    int has_cost;
} render_day;

typedef struct render_rt {
    char key[ESPI_URI_MAX];
    char title[ESPI_STR256];
    espi_reading_type rt;
} render_rt;

typedef struct render_channel {
    char key[ESPI_URI_MAX];      /* MeterReading path */
    char title[ESPI_STR256];
    char rt_key[ESPI_URI_MAX];
    int up, rt;                  /* indexes, -1 when unknown */
    long n_readings, n_est, n_flagged, n_nodata, n_missing;
    int64_t total, cost_total, secs;
    int has_cost;
    int64_t first, last_end;     /* UTC, ESPI_NONE before any reading */
    int64_t min_day, max_day;
    int64_t min_duration, max_duration;
    render_hour hours[24];
} render_channel;

typedef struct render_item {
    int64_t amount, date_time, kind;
    char note[ESPI_STR256];
} render_item;

typedef struct render_summary {
    int up;
    char title[ESPI_STR256];
    espi_usage_summary s;        /* line_items pointer cleared */
    size_t first_item, n_items;  /* into render_agg.items */
} render_summary;

typedef struct render_up {
    char key[ESPI_URI_MAX];
    char title[ESPI_STR256];
    int64_t service_kind;
    int in_feed;                 /* 0: only referenced by a MeterReading */
} render_up;

struct render_agg {
    render_opts o;
    char feed_title[ESPI_STR256], feed_id[ESPI_ID_MAX];
    int64_t feed_updated;
    render_ltime lt;
    int n_ltp;                   /* LocalTimeParameters seen */
    int ltp_differ;              /* some disagree with the one used */
    espi_local_time_parameters ltp0;
    render_up *ups; int n_ups;
    render_channel *chs; int n_chs;
    render_rt *rts; int n_rts;
    render_summary *sums; int n_sums;
    render_item *items; size_t n_items;
    render_day *days; size_t n_days, cap_days;
    uint32_t *index; size_t index_cap;   /* day-row index + 1, 0 empty */
    int finished;                /* days sorted by (channel, day), index freed */
    int last_ch;                 /* cache for render_agg_channel */
    long blocks_unlinked;        /* IntervalBlocks whose MeterReading is unknown */
};

/* Channel of an IntervalBlock entry, created on first use; -1 with err
 * set when over RENDER_MAX_CHANNELS. */
int render_agg_channel(render_agg *a, const espi_entry *e, eg_err *err);
/* The ReadingType of channel ch, or NULL. */
const espi_reading_type *render_agg_rt(const render_agg *a, int ch);

/* ---- driving the reader (pipeline.c, csv.c) ---------------------------- */

/* Read path twice ("-": stdin, spooled to a temporary file): pass 1 feeds
 * render_agg_head/meta, then render_agg_resolve; pass 2 calls data(ctx, r,
 * err) for every resource.  Returns 0 or the first error. */
int render_read_passes(const char *path, render_agg *a,
                       int (*data)(void *ctx, const espi_resource *r, eg_err *err), void *ctx,
                       eg_err *err);
/* CSV rows of one IntervalBlock resource; the header row. */
int render_csv_block(render_agg *a, FILE *out, const espi_resource *r, eg_err *err);
void render_csv_header(FILE *out);

/* ---- stylesheet (generated render_xsl.c) ----------------------------- */

extern const char render_feed_xsl[];
extern const size_t render_feed_xsl_len;

#endif
