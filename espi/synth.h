/* synth.h -- deterministic synthetic Green Button feeds.
 *
 * espi_synth_write() streams a complete Download-My-Data feed through an
 * espi_writer: one shared LocalTimeParameters (US Central), then per usage
 * point a UsagePoint, a forward MeterReading + ReadingType with one
 * IntervalBlock per local day (23 or 25 hours of readings on DST days), an
 * optional reverse-flow (net metering) MeterReading likewise, and one
 * UsageSummary per local calendar month.  Used by `espigate synth`, the
 * tests (golden files, official-XSD checks) and the benchmarks.
 *
 * Everything is a pure function of the options: ids are espi_uuid5 of keys
 * like "synth:<seed>:up:<n>:mr:forward:ib:<day>", timestamps come from the
 * options (never the clock) and values from a stateless integer hash of
 * (seed, usage point, instant) shaped like a house load, so two runs give
 * byte-identical output on any machine (no floating point, no libm).
 * Memory is constant whatever the size: nothing is buffered. */
#ifndef ESPI_SYNTH_H
#define ESPI_SYNTH_H

#include <stdint.h>

#include "err.h"
#include "espi.h"
#include "writer.h"

#define ESPI_SYNTH_MAX_USAGE_POINTS 100000
#define ESPI_SYNTH_MAX_DAYS 36600

typedef struct espi_synth_opts {
    int usage_points;     /* 1..ESPI_SYNTH_MAX_USAGE_POINTS */
    int64_t start;        /* UTC seconds; its UTC calendar date is the first local day */
    int days;             /* 1..ESPI_SYNTH_MAX_DAYS local days */
    int interval;         /* reading length in seconds; must divide 3600 (900, 3600) */
    int with_cost;        /* IntervalReading cost, ReadingType currency, bills in summaries */
    int with_quality;     /* mark about 1 reading in 97 as estimated (ReadingQuality 8) */
    int net_metering;     /* add a reverse-flow (19) MeterReading: rooftop solar export */
    const char *base_url; /* NULL = ESPI_DEFAULT_BASE */
    uint64_t seed;
    int64_t updated;      /* published/updated of every entry; ESPI_NONE = end of the data */
} espi_synth_opts;

/* Defaults: 1 usage point, 2024-01-01, 7 days, 900 s, no cost/quality/net,
 * default base, seed 1, updated = end of the data (local midnight after the last day). */
void espi_synth_opts_init(espi_synth_opts *o);

/* Write the whole feed (begin_feed .. end_feed) to w; the caller opens and
 * closes w.  Returns 0, EG_EUSAGE for options out of range (message says
 * which), or the writer's error. */
int espi_synth_write(espi_writer *w, const espi_synth_opts *o, eg_err *err);

#endif
