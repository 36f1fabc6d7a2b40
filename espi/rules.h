/* rules.h -- semantic rules over a stream of ESPI resources.
 *
 * What the schema cannot say: the link graph resolves (UsagePoint ->
 * MeterReading -> ReadingType, IntervalBlock up-links), ids are unique,
 * readings lie inside their block, blocks do not overlap, durations are
 * positive, values agree with their ReadingType, LocalTimeParameters are
 * plausible, timestamps are UTC seconds.  Each rule has a stable id
 * (AREA-nnn) documented in docs/rules.md.
 *
 * State kept between resources is per entry, never per reading: about 40
 * bytes per IntervalBlock entry (two hashes, start, line and indices into
 * small shared tables), which are >99% of a real feed's entries, and a few
 * hundred bytes per other entry.  So memory grows with a feed's number of
 * blocks, slowly, and not with its readings. */
#ifndef ESPI_RULES_H
#define ESPI_RULES_H

#include "diag.h"
#include "espi.h"

typedef struct espi_rules espi_rules;

/* file is borrowed for diagnostics.  Returns NULL on out of memory. */
espi_rules *espi_rules_new(const char *file, espi_diag_cb cb, void *ctx);
void espi_rules_free(espi_rules *r);

void espi_rules_feed_head(espi_rules *r, const espi_feed_head *h, long line);
/* r->entry->line gives the position used in diagnostics. */
void espi_rules_resource(espi_rules *r, const espi_resource *res);
/* End of document: whole-feed checks (links resolve, ...). */
void espi_rules_finish(espi_rules *r);

/* Silence one rule id (e.g. "IB-003") for this run: its findings are
 * neither reported nor counted.  rule is copied.  Returns 0, or -1 when
 * rule is longer than 15 characters or 64 ids are already suppressed. */
int espi_rules_suppress(espi_rules *r, const char *rule);

/* Bytes the engine has allocated (capacity, not use), its own struct
 * included: what a caller can expect it to hold for a feed, and what
 * tests/espi/test_rules_memory.c holds it to.  0 for NULL. */
size_t espi_rules_memory(const espi_rules *r);

long espi_rules_error_count(const espi_rules *r);
long espi_rules_warning_count(const espi_rules *r);

#endif
