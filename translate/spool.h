/* spool.h -- record what a translator emits, replay it later.
 *
 * tr_emit needs every input twice (ids and timestamps depend on the whole
 * input, see emit.h).  Parsing a source twice doubles the cost of the
 * slowest step -- CSV tokenising, JSON parsing, PDF text extraction -- so
 * the first pass records each event (channel, reading, skip, bill) as a
 * fixed-size binary record in an anonymous temporary file and the second
 * pass replays the records instead of translating again.  Records (~65
 * bytes a reading) are kept in memory up to a budget the caller shares
 * between all the spools of a run, the rest in an anonymous temporary file,
 * so memory stays bounded however large or many the inputs are. */
#ifndef TR_SPOOL_H
#define TR_SPOOL_H

#include "err.h"
#include "tr.h"

typedef struct tr_spool tr_spool;

/* A spool that records every event and forwards it to next (may be NULL).
 * *sink receives the tee callbacks; sp must outlive it.  mem_budget (may be
 * NULL: file only) is the number of bytes of memory the spools sharing it may
 * still take; it is decreased as this spool keeps records in memory and given
 * back by tr_spool_free(), so it must outlive the spool.  NULL on error. */
tr_spool *tr_spool_new(const tr_sink *next, tr_sink *sink, size_t *mem_budget, eg_err *err);
/* Send every recorded event, in order, to `to`; the first nonzero return
 * of a callback stops the replay and is returned. */
int tr_spool_replay(tr_spool *sp, const tr_sink *to, eg_err *err);
void tr_spool_free(tr_spool *sp);

#endif
