/* spool.h -- record what a translator emits, replay it later.
 *
 * tr_emit needs every input twice (ids and timestamps depend on the whole
 * input, see emit.h).  Parsing a source twice doubles the cost of the
 * slowest step -- CSV tokenising, JSON parsing, PDF text extraction -- so
 * the first pass records each event (channel, reading, skip, bill) as a
 * fixed-size binary record in an anonymous temporary file and the second
 * pass replays the records instead of translating again.  Memory stays
 * constant: the file holds the events (~80 bytes a reading), not RAM. */
#ifndef TR_SPOOL_H
#define TR_SPOOL_H

#include "err.h"
#include "tr.h"

typedef struct tr_spool tr_spool;

/* A spool that records every event and forwards it to next (may be NULL).
 * *sink receives the tee callbacks; sp must outlive it.  NULL on error. */
tr_spool *tr_spool_new(const tr_sink *next, tr_sink *sink, eg_err *err);
/* Send every recorded event, in order, to `to`; the first nonzero return
 * of a callback stops the replay and is returned. */
int tr_spool_replay(tr_spool *sp, const tr_sink *to, eg_err *err);
void tr_spool_free(tr_spool *sp);

#endif
