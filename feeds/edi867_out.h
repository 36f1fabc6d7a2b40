/* edi867_out.h -- stored usage -> ANSI X12 867 documents for a trading partner.
 *
 * `espigate export --format edi867` writes the selected part of the store
 * as ONE interchange (ISA/GS .. GE/IEA) of 867 transactions:
 *
 *   one transaction (ST*867 .. SE) per MeterReading whose ReadingType is
 *   energy in Wh (any power of ten): BPT, REF*Q5 (service point id), then a
 *   PTD*PM interval loop per contiguous run of its IntervalReadings (a gap
 *   starts a new loop): DTM*150 (start of the run), then per reading
 *   QTY*QD|KA*<kWh>*KH + DTM*582 (its END: date, time, time code);
 *   PTD04/05 OZ*REVERSE or OZ*NET mark received and net channels;
 *   REF*MG carries a short tag of the MeterReading id (ESPI has no meter
 *   number).  The usage point's UsageSummaries go into its first
 *   transaction as PTD*SU loops (DTM*150/151 local dates, QTY kWh KH and
 *   peakDemand kW K1); a usage point with summaries only gets a transaction
 *   of its own.
 *
 * The layout is exactly what translate/edi867.c reads (docs/edi867.md), so
 * ESPI -> 867 -> ESPI keeps every reading, total and estimated flag.
 * Times are written in the feed's LocalTimeParameters zone with explicit
 * standard/daylight codes (CS/CD, ES/ED, MS/MD, PS/PD, AS/AD, HS/HD), which
 * never repeat on a fall-back day; without LocalTimeParameters, or for an
 * offset no US code names, in UTC (UT).  QTY01 is KA for quality 8 or 9
 * (estimated), QD otherwise: other qualities have no 867 code here.
 *
 * Control numbers are deterministic: ISA13 and GS06 = opts.control_number
 * (default 1), ST02 = 0001, 0002 ...; SE01/GE01/IEA01 count what was
 * written.  ISA09/ISA10 and GS04/GS05 are the end of the exported data
 * (UTC), never the clock, so the same store gives the same bytes.
 *
 * This file uses the store's public API and espi/ types only. */
#ifndef FEEDS_EDI867_OUT_H
#define FEEDS_EDI867_OUT_H

#include "err.h"
#include "store.h"

#define EDI867_ID_MAX 16        /* ISA06/ISA08: 15 characters */

typedef struct edi867_out_opts {
    char sender[EDI867_ID_MAX];   /* ISA06 / GS02; default "ESPIGATE" */
    char receiver[EDI867_ID_MAX]; /* ISA08 / GS03; default "PARTNER" */
    long control_number;          /* ISA13 / GS06, 1..999999999; default 1 */
} edi867_out_opts;

typedef struct edi867_out_result {
    long transactions;            /* ST..SE written */
    long long readings;           /* interval QTYs written */
    long summaries;               /* PTD*SU loops written */
} edi867_out_result;

void edi867_out_opts_init(edi867_out_opts *o);

/* Check an id for ISA06/ISA08 (1-15 letters, digits, spaces, '-', '.');
 * 0 ok, EG_EUSAGE with err filled. */
int edi867_out_check_id(const char *what, const char *id, eg_err *err);

/* Export the entries q selects (NULL = all) to path ("-" = stdout).  The
 * output goes to a temporary file first and is renamed into place (copied
 * to stdout) only when complete: on any error nothing is written.  res may
 * be NULL.  Returns 0, EG_EDATA when the selection has nothing to export
 * or a ReadingType that is not energy in Wh, EG_ECANTCREAT/EG_EIO for the
 * output, or a store error. */
int edi867_export(store *s, const store_query *q, const edi867_out_opts *o, const char *path,
                  edi867_out_result *res, eg_err *err);

#endif
