/* xlsx.h -- a co-op's Excel (.xlsx) interval export -> translator readings.
 *
 * What co-ops send when a member asks for interval data "in Excel": one
 * sheet (the first sheet of the workbook is read), maybe a title row or two,
 * then a header row and one row per interval, e.g.
 *
 *     Meter Number | Date | Start Time | End Time | kWh | Estimated
 *     Meter #      | Read Date/Time    | kWh      | Quality
 *
 * Columns are found by header TEXT, never by position (see xlsx.c for the
 * synonym list); dates may be Excel serial numbers or text; kWh numbers or
 * text.  One channel per meter number (Wh, forward flow), interval length
 * from End - Start or from the gap between a meter's first two rows.  All
 * times are local wall clock: pass the co-op's zone in opts->tz.
 *
 * Messages name the workbook part for structural problems
 * ("book.xlsx: xl/workbook.xml: ...") and the sheet row as the line for
 * data problems ("book.xlsx:12: kWh (E12) \"1;2\" is not a decimal number"). */
#ifndef TR_XLSX_H
#define TR_XLSX_H

#include <stddef.h>
#include <stdio.h>

#include "tr.h"

/* Hard limits: a workbook beyond them is refused with EG_ELIMIT, so a zip
 * bomb or a giant strings table cannot exhaust memory or time. */
#define TR_XLSX_FILE_MAX ((size_t)128 << 20)        /* the .xlsx file itself */
#define TR_XLSX_MAX_ENTRIES 10000                   /* zip entries */
#define TR_XLSX_PART_MAX ((unsigned long long)256 << 20) /* uncompressed bytes per part */
#define TR_XLSX_MAX_RATIO 1000                      /* uncompressed / compressed (parts > 1 MiB) */
#define TR_XLSX_MAX_STRINGS 1000000                 /* shared strings */
#define TR_XLSX_STRINGS_BYTES ((size_t)64 << 20)    /* their total text */
#define TR_XLSX_HEADER_ROWS 50                      /* rows searched for the header row */
#define TR_XLSX_MAX_COLS 64                         /* columns looked at (A..BL) */

/* Translate the workbook read from `in` (borrowed, read to the end; it is
 * held in memory, at most TR_XLSX_FILE_MAX bytes, because a zip is read
 * from its end).  name is used in messages.  Returns 0, or a negative EG_E*
 * code with err filled: EG_EDATA for a file that is not a usable workbook
 * or a bad row, EG_ELIMIT past a limit above, a sink's own code when it
 * stopped us. */
int tr_xlsx_read(FILE *in, const char *name, const tr_options *opts, const tr_sink *sink,
                 eg_err *err);

/* The same for a workbook already in memory (buf borrowed, len bytes). */
int tr_xlsx_read_mem(const void *buf, size_t len, const char *name, const tr_options *opts,
                     const tr_sink *sink, eg_err *err);

#endif
