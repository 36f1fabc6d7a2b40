/* opower.h -- Opower "Download My Data" CSV exports -> translator output.
 *
 * Utilities on Opower (PG&E, PECO, ComEd, BGE ...) export three layouts
 * behind a UTF-8 BOM and a preamble (Name, Address, Account Number,
 * Service, a blank line); columns are found by header text:
 *
 *   interval  TYPE,DATE,START TIME,END TIME,USAGE,UNITS,COST,NOTES
 *             (or USAGE (kWh) without UNITS/COST; IMPORT (kWh),EXPORT (kWh)
 *             with or without END TIME; the newer per-row layout
 *             Name,Address,Account Number,Service,Type,Date,Start Time,
 *             End Time,Usage,Units,Costs,Weather with offset timestamps)
 *             -> readings on a forward (1) and, for export, a reverse (19)
 *                channel per account and service;
 *   daily     TYPE,DATE,USAGE,UNITS,COST (PG&E gas: "Natural gas usage",
 *             therms) -> one reading per real local day (82800/86400/90000 s);
 *   billing   TYPE,START DATE,END DATE,USAGE,UNITS,COST,NOTES
 *             -> one tr_bill per row through sink->bill, and the same
 *                period as one reading of a billing-period channel.
 *
 * Local wall-clock times need opts->tz (Opower utilities are everywhere:
 * there is no default zone).  Energy is Wh (uom 72); gas is thousandths of
 * a therm (uom 169, powerOfTenMultiplier -3); cost is hundred-thousandths
 * of a US dollar. */
#ifndef TR_OPOWER_H
#define TR_OPOWER_H

#include <stdio.h>

#include "tr.h"

/* Translate one Opower CSV from `in` (borrowed, read to the end) into sink.
 * name is the file name used in messages.  Returns 0, or a negative EG_E*
 * code with err as "name:line: ..." (EG_EDATA for bad content or no TYPE
 * header, EG_ELIMIT for rows over the size limits or too many channels,
 * EG_EUSAGE without a zone or reading sink, a sink's own code when it
 * stopped us).  With opts->lenient bad rows go to sink->skip instead. */
int tr_opower_read(FILE *in, const char *name, const tr_options *opts, const tr_sink *sink,
                   eg_err *err);

#endif
