/* validate.h -- one validation pass: reader + schema + rules.
 *
 * `espigate validate`, the store's import gate and the conformance auditor
 * all validate the same way: stream the document once through the reader
 * with our schema checker on (and the official XSD when asked), feed every
 * resource to the semantic rules, and report each finding through one
 * diagnostic callback.  Memory is bounded by the reader's and the rules'
 * bounds, never by the size of the feed. */
#ifndef ESPI_VALIDATE_H
#define ESPI_VALIDATE_H

#include "diag.h"
#include "err.h"
#include "reader.h"

typedef enum espi_validate_level {
    ESPI_LEVEL_SCHEMA = 0,  /* well-formedness + our schema (+ XSD) */
    ESPI_LEVEL_FULL = 1     /* ... + semantic rules */
} espi_validate_level;

typedef struct espi_validate_opts {
    espi_validate_level level;
    const char *xsd_file;   /* official XSD to run as well, or NULL */
    const char *const *ignore; /* rule ids to drop (not printed, not counted) */
    int n_ignore;
} espi_validate_opts;

typedef struct espi_validate_result {
    long errors, warnings;
    long entries, resources, interval_readings;
    unsigned long long bytes;
    int fatal;              /* reading stopped early (not well-formed, I/O) */
} espi_validate_result;

/* Validate path ("-" = stdin).  Diagnostics go to diag(ctx, ...); progress
 * (may be NULL) gets bytes read.  Returns 0 when the document was read to
 * the end (valid or not: see res->errors), EG_ENOINPUT when it cannot be
 * opened, EG_EDATA when it is not well-formed (a diagnostic was reported
 * too), EG_ENOMEM.  res is always filled. */
int espi_validate_file(const char *path, const espi_validate_opts *o,
                       espi_diag_cb diag, void (*progress)(void *, unsigned long long),
                       void *ctx, espi_validate_result *res, eg_err *err);

/* The same over a read callback (an HTTP body), name used in diagnostics. */
int espi_validate_io(int (*readfn)(void *io, char *buf, int len), void *io, const char *name,
                     const espi_validate_opts *o, espi_diag_cb diag, void *ctx,
                     espi_validate_result *res, eg_err *err);

#endif
