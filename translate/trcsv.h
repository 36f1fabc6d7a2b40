/* trcsv.h -- a pull-style, line-numbered, bounded CSV row reader.
 *
 * Why libcsv and not a hand-written splitter: the sources we read are
 * RFC 4180 files written by spreadsheet-minded exporters; Opower quotes
 * addresses that contain commas, SmartHub puts leading spaces everywhere,
 * and a real file may one day carry a quoted line break.  libcsv (Debian
 * libcsv-dev, used for decades) gets quoting right, trims unquoted blanks,
 * skips empty lines, and is a *push* parser, so it never needs the whole
 * file in memory.  What it lacks we add here: a pull API (one row per call,
 * which keeps translators simple loops), the line number each row starts
 * on (for "file:line:" messages), a UTF-8 BOM skip, hard limits (a field
 * may not grow past TR_CSV_FIELD_MAX, a row past TR_CSV_ROW_MAX bytes or
 * TR_CSV_MAX_FIELDS fields), and column lookup by header name.
 *
 * Memory is fixed: the row buffer lives in the struct; libcsv's own field
 * buffer is capped through its realloc hook.  Input is fed to libcsv one
 * byte at a time so that a row is handed out as soon as it ends and line
 * numbers stay exact (a few ns per byte; CSV exports are megabytes). */
#ifndef TR_TRCSV_H
#define TR_TRCSV_H

#include <csv.h>
#include <stddef.h>
#include <stdio.h>

#include "err.h"

#define TR_CSV_MAX_FIELDS 64
#define TR_CSV_ROW_MAX 8192
#define TR_CSV_FIELD_MAX 4096

typedef struct tr_csv {
    struct csv_parser parser;
    FILE *in;                      /* borrowed */
    char name[EG_ERR_FILE_MAX];    /* for messages */
    unsigned char buf[65536];      /* large reads: one syscall per 64 KiB */
    size_t buf_len, buf_pos;
    int started, eof, bom_checked;
    long line;                     /* line of the next byte */
    long row_line;                 /* line the current row starts on */
    int in_row;                    /* a row's first non-blank byte was seen */
    int row_ready, too_big;
    char row[TR_CSV_ROW_MAX];
    size_t row_used;
    size_t off[TR_CSV_MAX_FIELDS], len[TR_CSV_MAX_FIELDS];
    int nfields;
    char head[TR_CSV_ROW_MAX];     /* header names, NUL-separated */
    size_t head_off[TR_CSV_MAX_FIELDS];
    int nhead;
} tr_csv;

/* Start reading `in` (borrowed; the caller closes it).  name is used in
 * messages.  Returns 0 or EG_ENOMEM.  Release with tr_csv_release(). */
int tr_csv_init(tr_csv *c, FILE *in, const char *name, eg_err *err);

/* Read the next row.  Returns 1 with a row, 0 at end of input, or a
 * negative EG_E* code (malformed quoting, NUL byte, row over the limits,
 * read error) with err naming the line. */
int tr_csv_next(tr_csv *c, eg_err *err);

/* Read the first row as the header (names trimmed, compared without case).
 * Returns 0, or EG_EDATA when the input is empty. */
int tr_csv_read_header(tr_csv *c, eg_err *err);

/* Index of header column `name` (case-insensitive), or -1. */
int tr_csv_column(const tr_csv *c, const char *name);

/* Fields of the current row: count, text (NUL-terminated, "" when i is out
 * of range) and length.  Valid until the next tr_csv_next(). */
int tr_csv_nfields(const tr_csv *c);
const char *tr_csv_field(const tr_csv *c, int i);
size_t tr_csv_field_len(const tr_csv *c, int i);

/* Line (1-based) on which the current row starts. */
long tr_csv_line(const tr_csv *c);

/* Free libcsv's buffers.  Safe on a struct tr_csv_init() failed on. */
void tr_csv_release(tr_csv *c);

#endif
