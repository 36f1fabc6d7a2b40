/* schema.h -- espigate's own ESPI/Atom schema and its streaming checker.
 *
 * The schema is a set of C tables written by us from the facts of the
 * standard (element names, order, cardinality, value types, lengths): the
 * Atom envelope (RFC 4287 as GBA profiles it), the ESPI 4.0 usage resources
 * (namespace http://naesb.org/espi) and the customer resources
 * (http://naesb.org/espi/customer).  It accepts exactly what the official
 * XSDs accept, which tests/espi/differential.sh checks against xmllint.
 *
 * The checker is event driven so it runs in the same streaming pass as the
 * reader, in memory bounded by the nesting depth.  Each violation is
 * reported through the diag callback with a SCHEMA-nnn rule id (see
 * docs/rules.md) and the position of the offending node. */
#ifndef ESPI_SCHEMA_H
#define ESPI_SCHEMA_H

#include <stddef.h>

#include "diag.h"

typedef struct espi_schema_checker espi_schema_checker;

typedef struct espi_schema_attr {
    const char *ns;       /* NULL/"" for no namespace */
    const char *local;
    const char *value;
} espi_schema_attr;

/* Create a checker for one document.  file is used in diagnostics
 * (borrowed; must outlive the checker).  Returns NULL on out of memory. */
espi_schema_checker *espi_schema_checker_new(const char *file, espi_diag_cb cb, void *ctx);
void espi_schema_checker_free(espi_schema_checker *c);

/* The caller promises that every local name it passes keeps its content
 * for the checker's life (libxml2 dictionary strings, literals): the
 * checker may then recognise a name it matched before by its pointer
 * alone.  Off by default (a caller may reuse one buffer for every name). */
void espi_schema_names_stable(espi_schema_checker *c);

/* Events, in document order.  ns is the element's namespace URI ("" for
 * none), local its local name.  Text is the element's character data
 * (may be delivered in several pieces; whitespace-only pieces too).
 * Comments and processing instructions are not passed. */
void espi_schema_start(espi_schema_checker *c, const char *ns, const char *local,
                       const espi_schema_attr *attrs, int n_attrs, long line, long col);
void espi_schema_text(espi_schema_checker *c, const char *text, long line, long col);
/* The same for len bytes of text (need not be NUL terminated). */
void espi_schema_text_n(espi_schema_checker *c, const char *text, size_t len, long line,
                        long col);
void espi_schema_end(espi_schema_checker *c, long line, long col);

/* Number of errors reported so far. */
long espi_schema_error_count(const espi_schema_checker *c);

/* Is (ns, local) a global element our schema knows (a resource that may
 * appear inside atom:content or as a document root)? */
int espi_schema_is_global(const char *ns, const char *local);

#endif
