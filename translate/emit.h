/* emit.h -- translator output -> a streaming Download-My-Data feed.
 *
 * tr_emit is the glue between translators (tr.h) and the ESPI writer: a
 * tr_sink that turns channels and readings into Atom entries --
 *
 *   feed head      id, title, updated (deterministic, see below), self link
 *                  {base}/Batch/Subscription/{sid};
 *   LocalTimeParameters   one, for the zone of the data, with the rules of
 *                  the local year of the first reading (tr_tz_local_time_parameters);
 *   UsagePoint     one per usage point key (ServiceCategory from the
 *                  channel's service kind, status 1), written when its first
 *                  channel appears;
 *   MeterReading + ReadingType   one each per channel key, every fact from
 *                  tr_channel (phase is 0 "none": no source tells it);
 *   IntervalBlock  one per channel and LOCAL day (tr_tz_day_bounds, so 23-
 *                  and 25-hour days), interval = the day's bounds, holding
 *                  the readings that start that day, in order; a reading of
 *                  whole local days (a billing period) gets a block of its own;
 *   UsageSummary   one per bill key (tr_bill), merged over the inputs that
 *                  carry it, after the IntervalBlocks, in key order:
 *                  billingPeriod, billLastPeriod = the bill's current charges,
 *                  every charge and credit as a costAdditionalDetailLastPeriod
 *                  LineItem and costAdditionalLastPeriod = their sum (the XSD:
 *                  the details "in total add up to costAdditionalLastPeriod";
 *                  no charge is singled out as "not additional", so the sum is
 *                  the current charges when the bill adds up), currency,
 *                  overallConsumptionLastPeriod (Wh), peakDemand (W),
 *                  qualityOfReading 19 "revenue-quality" (billed values),
 *                  statusTimeStamp = the statement date (else the period end),
 *                  commodity from the usage point's service kind.  A LineItem
 *                  quantity in Wh or W is written in kWh / kW when whole, and
 *                  tr_line_item.unit_cost is then read per kWh / kW -- the unit
 *                  bills quote rates in, which keeps $0.0875/kWh exact (8750).
 *
 * Two passes.  Ids, links and timestamps must be known before the first
 * byte is written, and they depend on the whole input (the subscription id
 * comes from every usage point key, `updated` from the end of the data), so
 * the caller feeds every input twice:
 *
 *     tr_emit *e = tr_emit_new(&opts, &err);
 *     for each input: tr_emit_begin_input(e, name); translate into tr_emit_scan_sink(e)
 *     tr_emit_begin(e, writer, &err);                  -- feed head + LocalTimeParameters
 *     for each input: tr_emit_begin_input(e, name); translate into tr_emit_write_sink(e)
 *     tr_emit_end(e, &err);                            -- last day blocks, </feed>
 *     tr_emit_free(e);
 *
 * The scan keeps O(channels + bills) state; the write pass buffers only the current
 * local day of each channel (at most TR_EMIT_MAX_DAY_READINGS readings), so
 * memory does not grow with the input.  Both passes must see the same data:
 * a channel or usage point missing from the scan is an internal error.
 *
 * Determinism.  Ids are espi_uuid5 of keys built from the translators'
 * stable keys: "<usage point>:up", "<channel>:mr", "<channel>:rt",
 * "<channel>:ib:YYYY-MM-DD", "<bill>:us", "ltp:<zone>", and "subscription:<usage point
 * keys, sorted, joined by ','>" for the subscription.  published/updated of
 * every entry and the feed are opts.updated, or the end of the data (the
 * latest reading end).  Nothing reads the clock, so the same input gives
 * byte-identical output.
 *
 * Checks (EG_EDATA, "file:line: ..."): a channel key declared again with
 * different facts; a bill whose inputs disagree (period, total, kWh, item
 * sums) or that no input gives a billing period; a reading at or before the end of the channel's previous
 * reading (two readings at one instant, overlapping inputs -- give inputs
 * in time order); a reading that crosses local midnight.  Gaps stay gaps:
 * nothing is ever invented. */
#ifndef TR_EMIT_H
#define TR_EMIT_H

#include <stdint.h>

#include "err.h"
#include "espi.h"
#include "tr.h"
#include "tz.h"
#include "writer.h"

#define TR_EMIT_MAX_CHANNELS 64          /* distinct channel keys in one feed */
#define TR_EMIT_MAX_USAGE_POINTS 32      /* distinct usage point keys in one feed */
#define TR_EMIT_MAX_DAY_READINGS 100000  /* readings of one channel in one local day */
#define TR_EMIT_MAX_BILLS 20000          /* distinct bill keys in one feed */

typedef struct tr_emit tr_emit;

typedef struct tr_emit_opts {
    const tr_tz *tz;            /* zone of the local days (required, borrowed) */
    const char *base_url;       /* NULL or "" = ESPI_DEFAULT_BASE */
    int64_t updated;            /* published/updated; ESPI_NONE = end of the data */
    const char *title;          /* feed title; NULL = built from the usage points */
    const char *usage_point;    /* NULL = all; else keep only the usage point whose key
                                   equals it or ends with ":" + it (e.g. an ESIID) */
} tr_emit_opts;

/* Per channel key, what went out (tr_emit_channel_info). */
typedef struct tr_emit_channel_stats {
    tr_channel channel;         /* merged facts; index = position in the table */
    int selected;               /* 0: dropped by opts.usage_point */
    int64_t readings;           /* IntervalReadings written */
    int64_t total;              /* exact sum of their values */
    int64_t cost_total;         /* exact sum of costs written */
    int64_t with_cost, estimated; /* readings with cost / quality 8 or 9 */
    int64_t blocks, dst_blocks; /* IntervalBlocks, of which 23/25-hour days */
    int64_t gaps;               /* places where a reading did not start at the previous end */
    int64_t first_start, last_end; /* from the scan; ESPI_NONE without readings */
} tr_emit_channel_stats;

/* The UsageSummaries that went out (tr_emit_bill_info). */
typedef struct tr_emit_bill_stats {
    int64_t bills;              /* UsageSummary entries written */
    int64_t consumption;        /* exact sum of their consumption, Wh */
    int64_t total;              /* exact sum of billLastPeriod, hundred-thousandths */
} tr_emit_bill_stats;

/* Defaults: no zone, default base, updated from the data, all usage points. */
void tr_emit_opts_init(tr_emit_opts *o);

/* New emitter; opts (and the strings and zone it points to) must outlive it.
 * Caller frees with tr_emit_free().  NULL with err on a missing zone or no memory. */
tr_emit *tr_emit_new(const tr_emit_opts *o, eg_err *err);
void tr_emit_free(tr_emit *e);

/* Start an input (in either pass): channel indices are per input, and name
 * is used in messages.  name is borrowed until the next call. */
void tr_emit_begin_input(tr_emit *e, const char *name);

/* Pass 1: a sink that learns channels, usage points and the data's span. */
void tr_emit_scan_sink(tr_emit *e, tr_sink *out);

/* After the scan: write the feed head and LocalTimeParameters to w
 * (borrowed until tr_emit_end).  EG_EDATA when the scan saw no reading of a
 * selected usage point (the message lists the usage points found). */
int tr_emit_begin(tr_emit *e, espi_writer *w, eg_err *err);

/* Pass 2: a sink that writes entries as channels and local days complete. */
void tr_emit_write_sink(tr_emit *e, tr_sink *out);

/* Flush every channel's last day and close the feed (not the writer). */
int tr_emit_end(tr_emit *e, eg_err *err);

/* Channels (in key order once tr_emit_begin ran, so the order of the
 * inputs does not matter): count, and the stats of channel i (NULL when
 * out of range).  Valid until tr_emit_free(). */
int tr_emit_channel_count(const tr_emit *e);
const tr_emit_channel_stats *tr_emit_channel_info(const tr_emit *e, int i);

/* Number of entries written so far. */
int64_t tr_emit_entries(const tr_emit *e);

/* The instant used for published/updated (valid after tr_emit_begin). */
int64_t tr_emit_updated(const tr_emit *e);

/* Bills written (complete after tr_emit_end).  Valid until tr_emit_free(). */
const tr_emit_bill_stats *tr_emit_bill_info(const tr_emit *e);

#endif
