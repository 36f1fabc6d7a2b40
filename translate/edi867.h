/* edi867.h -- ANSI X12 867 (Product Transfer and Resale Report) usage ->
 * translator readings.
 *
 * Utilities and market operators exchange metered usage as 867
 * transactions (Texas SET 867_03, the PA/NJ/DE/MD, NY and other state
 * implementation guides).  We read the subset docs/edi867.md documents:
 *
 *   ST*867  BPT (purpose 00 original / 05 replace; 01 cancel is skipped)
 *           REF*Q5 (service point, e.g. an ESI ID; REF*12 account as fallback)
 *   PTD*SU | PTD*BB | PTD*PL   monthly loop: DTM*150 / DTM*151 (meter read
 *           dates), QTY*QD|KA (kWh KH, kW K1), MEA*AA*PRQ (register reads)
 *   PTD*BO | PTD*BQ | PTD*PM   interval loop: DTM*150 (start of the first
 *           interval), then per interval QTY*QD|KA*kWh*KH + DTM*582 (its END
 *           date, time and time code); optional DTM*151 (end of the loop)
 *   PTD04 OZ / PTD05 FORWARD|REVERSE|NET (espigate's own flow convention),
 *   REF*MG meter number.
 *
 * -> one usage point per service point ("edi867:<id>"); one channel per
 * (service point, meter, flow, interval length); monthly loops become one
 * reading on a billing-period channel, and a forward PTD*SU loop also a
 * tr_bill (UsageSummary: the period's kWh and peak kW, no money).  Values
 * are exact Wh / W; QTY01 KA (estimated) -> quality 8.  Times: DTM04 time
 * codes with a fixed offset (ES, CD, UT ...) are exact; generic codes (CT,
 * ET ...) and no code are wall clock in opts->tz, resolved by order in the
 * repeated hour; a generic code must agree with the zone. */
#ifndef TR_EDI867_H
#define TR_EDI867_H

#include <stdio.h>

#include "tr.h"

/* Translate the 867 interchange(s) in `in` (borrowed, read to the end).
 * Returns 0, or a negative EG_E* code with err as
 * "name:segment N (SEG): what was found (expected what)": EG_EDATA for a
 * malformed interchange (separators, counts, control numbers, truncation)
 * or content, EG_ELIMIT over the limits, or the sink's own code.  With
 * opts->lenient a bad QTY/DTM/MEA is reported to sink->skip and skipped;
 * envelope errors always stop. */
int tr_edi867_read(FILE *in, const char *name, const tr_options *opts, const tr_sink *sink,
                   eg_err *err);

#endif
