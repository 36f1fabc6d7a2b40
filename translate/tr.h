/* tr.h -- the translator interface: how a source parser hands out data.
 *
 * A translator (smt.c, later smarthub.c, opower.c, bill.c ...) reads one
 * source file as a stream and emits, through a tr_sink of callbacks:
 *
 *   channel   once per series, before its first reading: a stable key
 *             ("smt:10443720007382518:consumption"), the usage point it
 *             belongs to, a human name and everything a ReadingType needs
 *             (flow direction, uom, power of ten, interval length, commodity,
 *             kind, currency when readings carry cost);
 *   reading   one per interval: channel index, true UTC start, duration,
 *             exact integer value in the channel's unit, optional cost in
 *             hundred-thousandths of the currency, optional ESPI quality;
 *   skip      a row that produced no reading, with the reason (a spring-
 *             forward row with no value, or a bad row in lenient mode);
 *   bill      one per billing period (bills, billing-history exports): the
 *             period, consumption, demand, amounts and line items, which
 *             the writer glue turns into an ESPI UsageSummary.  A bill
 *             translator also declares a billing-period channel and emits
 *             the period's kWh as one reading on it (the "monthly
 *             MeterReading"), so usage totals survive in interval form too.
 *
 * Translators never write XML and never hold a whole file: a later stage
 * (the writer glue) turns channels into MeterReading/ReadingType and groups
 * readings into IntervalBlocks.  Readings of one channel arrive in strictly
 * increasing start order with no two at the same instant; translators check
 * this (rows out of order are an error) so consumers can rely on it.
 *
 * Errors: a translator returns 0 or a negative EG_E* code and fills eg_err
 * as "file:line: what was found (expected what)".  With opts.lenient a bad
 * row is reported to sink->skip and parsing goes on; structural problems
 * (no header, unknown format) still stop it.  A sink callback returning
 * non-zero stops the translator, which returns that code (EG_ESTOP means
 * "stop, not an error").
 *
 * tr_summary is a ready-made sink wrapper that counts what passes through
 * (per channel: readings, exact totals, gaps, estimated readings, 23/25-hour
 * local days) and keeps the first skipped rows with their reasons: what
 * `espigate translate --summary` prints. */
#ifndef TR_H
#define TR_H

#include <stdint.h>
#include <stdio.h>

#include "err.h"
#include "espi.h"
#include "tz.h"

#define TR_KEY_MAX 96
#define TR_MAX_CHANNELS 16   /* per source file; more is a data error */
#define TR_REASON_MAX 256
#define TR_SUMMARY_SKIPS_KEPT 20

typedef struct tr_channel {
    int index;                     /* 0..TR_MAX_CHANNELS-1, in declaration order */
    char key[TR_KEY_MAX];          /* stable across exports; seeds UUIDv5 ids */
    char usage_point[TR_KEY_MAX];  /* stable key of the meter/service point */
    char name[ESPI_STR256];        /* human, e.g. "SMT 1044... Consumption" */
    int64_t service_kind;          /* espi_service_kind */
    int64_t flow_direction;        /* espi_flow_direction */
    int64_t uom;                   /* espi_uom of value */
    int64_t power_of_ten_multiplier;
    int64_t interval_length;       /* seconds; nominal (DST days differ for daily) */
    int64_t commodity;             /* espi_commodity */
    int64_t kind;                  /* espi_measurement_kind */
    int64_t accumulation;          /* espi_accumulation */
    int64_t measuring_period;      /* espi_time_attribute or ESPI_NONE */
    int64_t currency;              /* ISO 4217 numeric, ESPI_NONE without cost */
    /* ReadingType tariff facets, Int16 codes or ESPI_NONE (the usual case).
     * 0 is a value, so a translator that memsets a tr_channel must set these
     * three to ESPI_NONE afterwards. */
    int64_t tou;                   /* time-of-use period code (smarthub.c numbering) */
    int64_t cpp;                   /* critical peak period code */
    int64_t consumption_tier;      /* consumption tier code */
} tr_channel;

enum tr_reading_flags {
    TR_READING_ROUNDED = 1 << 0    /* the source had more decimals than the unit */
};

typedef struct tr_reading {
    int channel;                   /* tr_channel.index */
    int64_t start;                 /* UTC seconds */
    int64_t duration;              /* seconds */
    int64_t value;                 /* uom x 10^power_of_ten_multiplier */
    int64_t cost;                  /* hundred-thousandths; ESPI_NONE when absent */
    int64_t quality;               /* espi_quality; ESPI_NONE when none given */
    unsigned flags;                /* tr_reading_flags */
    long line;                     /* source line, for diagnostics */
} tr_reading;

typedef enum tr_skip_kind {
    TR_SKIP_BAD_ROW,        /* malformed row dropped in lenient mode */
    TR_SKIP_NONEXISTENT,    /* row for a local time that does not exist (DST gap) */
    TR_SKIP_NO_VALUE,       /* row without a value (a gap in the source) */
    TR_SKIP_WARNING         /* row kept, but something is off (e.g. register mismatch) */
} tr_skip_kind;

typedef struct tr_skip {
    tr_skip_kind kind;
    long line;
    char reason[TR_REASON_MAX];    /* "USAGE_KWH \"1,2\" is not a decimal number ..." */
} tr_skip;

#define TR_MAX_LINE_ITEMS 64

/* One charge or credit on a bill -> ESPI LineItem. */
typedef struct tr_line_item {
    char note[ESPI_STR256];        /* the bill's own label: "Power Cost Adjustment" */
    int64_t amount;                /* hundred-thousandths of the currency; credits < 0 */
    int64_t item_kind;             /* espi_item_kind */
    int64_t quantity;              /* e.g. Wh or W the charge applies to, ESPI_NONE */
    int64_t quantity_uom;          /* espi_uom of quantity, ESPI_NONE */
    int64_t unit_cost;             /* hundred-thousandths per unit of quantity, ESPI_NONE */
} tr_line_item;

/* One billing period -> ESPI UsageSummary. */
typedef struct tr_bill {
    char usage_point[TR_KEY_MAX];  /* same key space as tr_channel.usage_point */
    char key[TR_KEY_MAX];          /* stable: "<account>:bill:<YYYY-MM-DD of period start>" */
    int64_t start, duration;       /* billing period, UTC seconds (local midnights) */
    int64_t statement_date;        /* bill date, UTC seconds, ESPI_NONE */
    int64_t consumption;           /* energy in Wh for the period, ESPI_NONE */
    int64_t peak_demand;           /* W, ESPI_NONE */
    int64_t bill_total;            /* current charges (billLastPeriod), hundred-thousandths */
    int64_t currency;              /* ISO 4217 numeric */
    const tr_line_item *items;     /* borrowed, valid during the callback */
    int n_items;
    long line;                     /* source line, for diagnostics */
} tr_bill;

typedef struct tr_sink {
    void *ctx;
    int (*channel)(void *ctx, const tr_channel *ch, eg_err *err);
    int (*reading)(void *ctx, const tr_reading *r, eg_err *err);
    int (*skip)(void *ctx, const tr_skip *s, eg_err *err);   /* may be NULL */
    int (*bill)(void *ctx, const tr_bill *b, eg_err *err);   /* may be NULL */
} tr_sink;

typedef struct tr_options {
    const tr_tz *tz;   /* zone of the source's local times (required) */
    int lenient;       /* skip and report bad rows instead of failing */
} tr_options;

/* ---- summary ------------------------------------------------------------ */

typedef struct tr_channel_summary {
    tr_channel channel;
    int64_t readings;              /* emitted */
    int64_t total;                 /* exact sum of values */
    int64_t cost_total;            /* exact sum of costs present */
    int64_t estimated;             /* quality 8 or 9 */
    int64_t rounded;               /* TR_READING_ROUNDED */
    int64_t gaps;                  /* places where start != previous end */
    int64_t gap_seconds;
    int64_t first_start, last_end; /* ESPI_NONE before the first reading */
    int64_t local_days;            /* distinct local days with readings */
    int64_t dst_days;              /* of which 23- or 25-hour days */
    int64_t last_day;              /* internal: day number of the last reading */
} tr_channel_summary;

typedef struct tr_summary {
    const tr_tz *tz;               /* for local days; NULL = no day counts */
    const tr_sink *next;           /* downstream sink, may be NULL */
    tr_channel_summary ch[TR_MAX_CHANNELS];
    int n_channels;
    int64_t skipped[TR_SKIP_WARNING + 1]; /* per tr_skip_kind */
    tr_skip kept[TR_SUMMARY_SKIPS_KEPT];  /* the first skips, any kind but DST gaps */
    int n_kept;
    int64_t bills;                 /* billing periods passed through */
    int64_t bill_consumption;      /* exact sum of their consumption (Wh) */
    int64_t bill_total;            /* exact sum of their totals (hundred-thousandths) */
    tr_tz_cache tzc;               /* internal: local dates of tz */
} tr_summary;

/* Set up s to count what passes to `next` (NULL: count only) and fill *sink
 * with callbacks that update s and forward.  tz (may be NULL) names the zone
 * for local-day counts.  s must outlive sink. */
void tr_summary_init(tr_summary *s, const tr_tz *tz, const tr_sink *next, tr_sink *sink);

/* Print a human summary (what `espigate translate --summary` shows). */
void tr_summary_print(const tr_summary *s, FILE *out);

/* Report a row problem: in strict mode fill err and return EG_EDATA; in
 * lenient mode hand a TR_SKIP_BAD_ROW to sink->skip and return 0 (or the
 * sink's error).  For translators. */
int tr_row_problem(const tr_sink *sink, const tr_options *o, const char *file, long line,
                   eg_err *err, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 6, 7)))
#endif
    ;

/* Hand a skip of any kind to the sink (no-op without a skip callback). */
int tr_report_skip(const tr_sink *sink, tr_skip_kind kind, long line, eg_err *err,
                   const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 5, 6)))
#endif
    ;

#endif
