/* diag.h -- a finding about a feed: where, which rule, how bad, what.
 *
 * The schema checker, the semantic rules and the official-XSD pass all
 * report through one callback type, so `espigate validate` prints them the
 * same way: "file:line:col: RULE-ID: message".  Rule IDs are stable and
 * documented in docs/rules.md; never renumber one. */
#ifndef ESPI_DIAG_H
#define ESPI_DIAG_H

typedef enum espi_severity {
    ESPI_SEV_ERROR = 0,   /* the feed is invalid */
    ESPI_SEV_WARNING = 1, /* valid, but a reader will likely trip on it */
    ESPI_SEV_INFO = 2
} espi_severity;

typedef struct espi_diag {
    const char *rule;     /* "SCHEMA-001", "LINK-002", ... (static string) */
    espi_severity severity;
    const char *file;     /* input name as given */
    long line, col;       /* 1-based; 0 unknown */
    const char *msg;      /* valid during the callback only */
} espi_diag;

typedef void (*espi_diag_cb)(void *ctx, const espi_diag *d);

const char *espi_severity_name(espi_severity s);

#endif
