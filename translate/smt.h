/* smt.h -- Smart Meter Texas CSV exports -> translator readings.
 *
 * Two exports, told apart by their header (columns are found by name):
 *  - 15-minute interval data ("IntervalData.csv"):
 *      ESIID,USAGE_DATE,REVISION_DATE,USAGE_START_TIME,USAGE_END_TIME,
 *      USAGE_KWH,ESTIMATED_ACTUAL,CONSUMPTION_SURPLUSGENERATION
 *    -> one channel per (ESIID, Consumption | Surplus Generation), 900 s,
 *       Wh, flow 1 (forward) or 19 (reverse);
 *  - daily meter reads (header assumed, no real sample exists):
 *      ESIID,USAGE_DATE,REVISION_DATE,START_READING,END_READING,USAGE_KWH
 *    -> one channel per ESIID, one reading per local day (82800/86400/90000 s).
 * All SMT times are US Central wall clock: pass the America/Chicago zone
 * (TR_SMT_ZONE) in opts->tz. */
#ifndef TR_SMT_H
#define TR_SMT_H

#include <stdio.h>

#include "tr.h"

#define TR_SMT_ZONE "America/Chicago"

/* Translate one SMT CSV from `in` (borrowed, read to the end) into sink.
 * name is the file name used in messages.  Returns 0, or a negative EG_E*
 * code with err as "name:line: ..." (EG_EDATA for bad content, EG_ELIMIT
 * for rows over the size limits, a sink's own code when it stopped us). */
int tr_smt_read(FILE *in, const char *name, const tr_options *opts, const tr_sink *sink,
                eg_err *err);

#endif
