/* smarthub.h -- NISC SmartHub usage data -> translator readings.
 *
 * Two inputs:
 *  - the JSON answer of POST /services/secured/utility-usage/poll, either
 *    wrapped ({"status":"COMPLETE","data":{"ELECTRIC":[...]}}) or the bare
 *    data object ({"ELECTRIC":[...]}) -- tr_smarthub_read*();
 *  - the "Green Button" CSV download (blocks of " A to B,kWh,," rows under
 *    banner lines) and the older "Download Your Data" CSV (rows
 *    "A to B,kWh,cost") -- tr_smarthub_csv_read().
 * Channels are one per (meter, flow direction): key
 * "smarthub:<meter>:forward|reverse|net" (JSON; DAILY and MONTHLY answers
 * add ":daily" / ":monthly", a TIME_OF_USE period ":tou-<period>" and sets
 * tr_channel.tou) or
 * "smarthub-csv:<account>:forward|reverse|net|demand" (CSV); values in Wh
 * (W for demand), costs in hundred-thousandths of USD.
 *
 * SmartHub times are the co-op's local wall clock (the JSON writes them as
 * "wall-clock-as-UTC" epoch ms): pass the co-op's IANA zone in opts->tz --
 * it is per utility configuration; the shared samples are TR_SMARTHUB_SAMPLE_ZONE. */
#ifndef TR_SMARTHUB_H
#define TR_SMARTHUB_H

#include <stddef.h>
#include <stdio.h>

#include "tr.h"

#define TR_SMARTHUB_SAMPLE_ZONE "America/Chicago"
#define TR_SMARTHUB_MAX_BYTES ((size_t)256 * 1024 * 1024) /* one poll answer */
#define TR_SMARTHUB_MAX_POINTS 2000000  /* all series of one answer together */
#define TR_SMARTHUB_MAX_SERIES 64       /* USAGE + COST series of one answer */
#define TR_SMARTHUB_CSV_MAX_ROWS 2000000 /* data rows of one CSV file */

/* Translate one poll answer read from `in` (borrowed, read to the end, at
 * most TR_SMARTHUB_MAX_BYTES) into sink.  name is used in messages.
 * Returns 0 or a negative EG_E* code with err filled:
 *   EG_EDATA  not JSON (message has line:column), an HTML page,
 *             status PENDING/FAILED/ERROR, no usage, bad points (strict);
 *   EG_ELIMIT input over the size or point limits;
 *   EG_EIO, EG_ENOMEM, EG_EUSAGE (no zone or sink), or a sink's own code. */
int tr_smarthub_read(FILE *in, const char *name, const tr_options *opts, const tr_sink *sink,
                     eg_err *err);

/* Same with an explicit input limit in bytes (tests; callers with a lower cap). */
int tr_smarthub_read_max(FILE *in, size_t max_bytes, const char *name, const tr_options *opts,
                         const tr_sink *sink, eg_err *err);

/* Same for an answer already in memory (buf[0..len), borrowed, need not be
 * NUL-terminated; the fuzz target's entry point). */
int tr_smarthub_read_mem(const char *buf, size_t len, const char *name, const tr_options *opts,
                         const tr_sink *sink, eg_err *err);

/* Translate a SmartHub CSV download (Green Button block layout or the older
 * "Download Your Data" rows) from `in` (borrowed) into sink.  Same error
 * contract; err carries the line number. */
int tr_smarthub_csv_read(FILE *in, const char *name, const tr_options *opts, const tr_sink *sink,
                         eg_err *err);

#endif
