/* x12.h -- ANSI ASC X12 interchange tokenizer with envelope checks.
 *
 * An X12 interchange is a stream of segments: a segment id (2-3 letters or
 * digits), then elements split by the element separator, ended by the
 * segment terminator.  The separators are not fixed: the interchange header
 * ISA is a fixed-width segment of exactly 106 characters, and the sender's
 * choice is read from it -- the element separator is the character at
 * offset 3, the component (sub-element) separator at offset 104 (ISA16),
 * the segment terminator at offset 105.  From version 00501 on, ISA11
 * (offset 82) is the repetition separator; in 004010 it is the letter "U".
 * A line break after each terminator is common and ignored.
 *
 * Envelopes nest ISA > GS > ST, each closed by its trailer, and every
 * trailer repeats its header's control number and counts its contents:
 *
 *   SE01 = segments of the transaction, ST and SE included; SE02 = ST02
 *   GE01 = transaction sets (ST) in the group;             GE02 = GS06
 *   IEA01 = functional groups (GS) in the interchange;     IEA02 = ISA13
 *
 * tr_x12_next() hands out every segment (envelopes included) and checks
 * all of this as it goes, so a caller sees the SE only when the count and
 * control number are right.  Several interchanges may follow each other in
 * one file.  Nothing is buffered beyond one segment (X12_SEG_MAX bytes).
 *
 * Errors name the position as "file:segment N (SEG): what was found
 * (expected what)", N counting segments from 1 at the first ISA: X12 files
 * are often one long line, so a line number would say little.  They are
 * EG_EDATA (EG_ELIMIT for an over-long segment). */
#ifndef TR_X12_H
#define TR_X12_H

#include <stddef.h>
#include <stdio.h>

#include "err.h"

#define X12_SEG_MAX 4096       /* longest segment accepted, terminator excluded */
#define X12_MAX_ELEMENTS 128   /* elements per segment */
#define X12_ISA_LEN 106        /* the fixed ISA segment, terminator included */
#define X12_CTRL_MAX 16

typedef struct tr_x12 {
    FILE *in;                  /* borrowed */
    const char *name;          /* borrowed, for messages */
    char elem, comp, rep, term;/* separators; rep 0 when the version has none */
    long seg_no;               /* ordinal of the current segment, from 1 */
    char buf[X12_SEG_MAX + 1]; /* the current segment, split in place */
    const char *el[X12_MAX_ELEMENTS]; /* el[0] = id, el[1..] = elements */
    int n_el;                  /* elements after the id */
    /* envelope state */
    int depth;                 /* 0 outside, 1 in ISA, 2 in GS, 3 in ST */
    int eof_ok;                /* 1 once an IEA closed an interchange */
    long groups, sets, segs;   /* GS in ISA, ST in GS, segments in ST */
    char isa_ctrl[X12_CTRL_MAX], gs_ctrl[X12_CTRL_MAX], st_ctrl[X12_CTRL_MAX];
} tr_x12;

/* Start reading `in` (borrowed).  Nothing is read yet: the first
 * tr_x12_next() reads the ISA.  name is borrowed for messages. */
void tr_x12_init(tr_x12 *x, FILE *in, const char *name);

/* Read the next segment.  Returns 1 with x->el/x->n_el set, 0 at the end of
 * the file (only after a complete interchange), or a negative EG_E* code
 * with err filled. */
int tr_x12_next(tr_x12 *x, eg_err *err);

/* The segment id ("QTY"), element i (1-based, "" when absent), or 1 when
 * the segment id is `id`. */
const char *tr_x12_id(const tr_x12 *x);
const char *tr_x12_el(const tr_x12 *x, int i);
int tr_x12_is(const tr_x12 *x, const char *id);

/* Component k (1-based) of element text s split by x->comp, copied into
 * out (size n); "" when absent.  Returns out. */
char *tr_x12_component(const tr_x12 *x, const char *s, int k, char *out, size_t n);

/* Fill err with "name:segment N (SEG): <fmt>" and return code. */
int tr_x12_error(const tr_x12 *x, eg_err *err, int code, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;

#endif
