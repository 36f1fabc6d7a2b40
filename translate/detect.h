/* detect.h -- which source format is this file?  Decided from content.
 *
 * Users get files named "IntervalData (3).csv", "download.csv" or
 * "export.json", so the name says little.  tr_detect() looks at the first
 * bytes instead (TR_DETECT_HEAD is plenty: every marker sits in the first
 * few lines) and answers with a format and a short account of what it saw:
 *
 *   bill-pdf      "%PDF-" in the first KiB
 *   xlsx          a ZIP ("PK\3\4") holding "xl/" parts
 *   smarthub      JSON with SmartHub's "status"/"data" wrapper or an "ELECTRIC" key
 *   smt           a CSV header with ESIID and USAGE_DATE (interval or daily)
 *   smarthub-csv  "Usage Information" / "Interval Blockdata" block layout
 *   opower        a line starting "TYPE," (after Opower's BOM and preamble)
 *   bill-text     pdftotext -layout of a bill: "Billing Period" and "kWh Use"
 *   bill-csv      billing-history table: bill_date with kwh_used or line_item
 *   edi867        an X12 interchange: "ISA" then a non-alphanumeric separator
 *
 * The format table (tr_formats) is also the registry of translators: each
 * format names its reader, NULL while none exists (then translation answers
 * "not implemented yet"), and its default zone.  Adding a translator is one
 * line: its reader in that format's row. */
#ifndef TR_DETECT_H
#define TR_DETECT_H

#include <stddef.h>
#include <stdio.h>

#include "err.h"
#include "tr.h"

#define TR_DETECT_HEAD 65536   /* bytes tr_detect() needs at most */
#define TR_DETECT_WHAT_MAX 160

typedef enum tr_format {
    TR_FORMAT_UNKNOWN = 0,
    TR_FORMAT_SMARTHUB,        /* SmartHub usage poll JSON */
    TR_FORMAT_SMARTHUB_CSV,    /* SmartHub "Green Button" CSV download */
    TR_FORMAT_SMT,             /* Smart Meter Texas interval or daily CSV */
    TR_FORMAT_OPOWER,          /* Opower "Download My Data" CSV */
    TR_FORMAT_BILL_PDF,        /* a bill as PDF */
    TR_FORMAT_BILL_TEXT,       /* a bill as pdftotext -layout text */
    TR_FORMAT_BILL_CSV,        /* billing history table */
    TR_FORMAT_XLSX,            /* a spreadsheet export */
    TR_FORMAT_EDI867,          /* ANSI X12 867 usage interchange */
    TR_FORMAT_COUNT
} tr_format;

/* A translator: read `in` to the end, hand out channels and readings. */
typedef int (*tr_read_fn)(FILE *in, const char *name, const tr_options *opts,
                          const tr_sink *sink, eg_err *err);

typedef struct tr_format_info {
    tr_format format;
    const char *name;          /* the --from value, e.g. "smt" */
    const char *description;   /* "Smart Meter Texas interval or daily CSV" */
    tr_read_fn read;           /* NULL: detected, but no translator yet */
    const char *default_zone;  /* zone of its local times when fixed (SMT: ERCOT), else NULL */
    int has_offsets;           /* times carry UTC offsets, so no zone is needed */
} tr_format_info;

/* Every format, in detection order; *n gets the count. */
const tr_format_info *tr_formats(size_t *n);
/* The row of a format (NULL for TR_FORMAT_UNKNOWN) or of a --from name. */
const tr_format_info *tr_format_get(tr_format f);
const tr_format_info *tr_format_by_name(const char *name);

typedef struct tr_detection {
    tr_format format;
    char what[TR_DETECT_WHAT_MAX]; /* what was seen, e.g. "SMT 15-minute interval CSV header";
                                      for TR_FORMAT_UNKNOWN what the content looks like */
} tr_detection;

/* Detect the format of a file whose first len bytes are buf (len may be
 * anything; only TR_DETECT_HEAD bytes are looked at).  Returns out->format. */
tr_format tr_detect(const unsigned char *buf, size_t len, tr_detection *out);

/* "SmartHub usage poll JSON, SmartHub Green Button CSV, ...": every format
 * tr_detect() tries, for "unknown format" messages.  Static storage. */
const char *tr_detect_tried(void);

#endif
