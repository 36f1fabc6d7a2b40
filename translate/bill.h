/* bill.h -- co-op bills (billing-history CSV, line-items CSV, bill text, bill
 * PDF) -> translator bills (ESPI UsageSummary) and billing-period readings.
 *
 * There is no standard bill format; what these readers accept is described
 * in ../shared/sources/FORMATS.md section C and samples/coop-bill/.  Every
 * reader emits, per account (usage point "bill:<account>"):
 *
 *   channel  "bill:<account>:billed-kwh": Wh, deltaData, forward, nominal
 *            interval 2592000 s (30 days; each reading carries its own);
 *   reading  one per bill with a billing period: the billed kWh over the
 *            period, [local midnight of the first day, local midnight of
 *            the read day) -- consecutive periods share the read date, so
 *            they touch without overlapping (the "monthly MeterReading");
 *   bill     key "bill:<account>:<bill date YYYY-MM-DD>" (the one date every
 *            form of a bill carries, so the same bill from two files merges
 *            in the emitter), period, statement date, kWh, kW demand, the
 *            current charges and every charge and credit as a line item.
 *
 * The zone of the dates is opts->tz (bills print local calendar days only;
 * the samples are US Central: --tz America/Chicago).  Money is US dollars
 * ("$", ISO 4217 840), read exactly into hundred-thousandths. */
#ifndef TR_BILL_H
#define TR_BILL_H

#include <stddef.h>
#include <stdio.h>

#include "tr.h"

#define TR_BILL_TEXT_MAX (1L << 20)   /* bytes of bill text we read (a bill is ~2 KB) */
#define TR_BILL_PDF_MAX (16L << 20)   /* bytes of PDF we read */
#define TR_BILL_INTERVAL 2592000      /* nominal billing period, s */

/* A billing-history CSV (one row per bill: bill_date, service_from,
 * service_to, readings, multiplier, kwh_used, demand_kw, one column per
 * charge, total_current_charges) or a line-items CSV (bill_date, line_item,
 * quantity, unit, rate, amount), told apart by the header.  Columns are
 * found by name.  Returns 0 or a negative EG_E* code with err as
 * "name:line: ...". */
int tr_bill_csv_read(FILE *in, const char *name, const tr_options *opts, const tr_sink *sink,
                     eg_err *err);

/* A bill as `pdftotext -layout` text (at most TR_BILL_TEXT_MAX bytes). */
int tr_bill_text_read(FILE *in, const char *name, const tr_options *opts, const tr_sink *sink,
                      eg_err *err);

/* The same from text in memory (text[0..len), need not end in NUL). */
int tr_bill_text_parse(const char *text, size_t len, const char *name, const tr_options *opts,
                       const tr_sink *sink, eg_err *err);

/* A bill PDF (at most TR_BILL_PDF_MAX bytes): its text is extracted with
 * poppler-glib, rebuilt into layout lines (bill_pdf.c) and parsed like
 * tr_bill_text_read().  EG_ECONFIG when built without poppler-glib. */
int tr_bill_pdf_read(FILE *in, const char *name, const tr_options *opts, const tr_sink *sink,
                     eg_err *err);

/* The layout text of a PDF in memory: pages' lines in reading order, columns
 * kept apart by runs of blanks.  *out is malloc'd, NUL-terminated, caller
 * frees; *out_len its length.  EG_EDATA for a PDF poppler cannot open. */
int tr_bill_pdf_text(const unsigned char *pdf, size_t len, const char *name, char **out,
                     size_t *out_len, eg_err *err);

#endif
