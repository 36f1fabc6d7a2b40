/* codec.h -- the store's compact binary encodings.
 *
 * The store keeps every reading of an IntervalBlock in ONE blob, and every
 * other resource (and the Atom envelope around it) in a small tagged blob,
 * so a year of 15-minute readings costs a few bytes per reading on disk
 * instead of a row each.  Three encodings live here, all built from LEB128
 * varints and zigzag-mapped signed deltas:
 *
 *  - Readings (store_codec_block_*): a header (flags, count), then one
 *    column at a time.  Times: when every reading follows the previous one
 *    without gap and with the same duration ("regular", the usual case) the
 *    whole time column is two numbers; otherwise each reading stores its
 *    gap and its duration change.  value, cost, consumptionTier, tou and
 *    cpp are "nullable deltas": 0 means absent (ESPI_NONE), otherwise
 *    zigzag(delta from the previous present value) + 1.  Cost, quality and
 *    tier/tou/cpp columns are written only when some reading has them.
 *    Deltas are computed in uint64_t, so any int64 input round-trips with
 *    no overflow.  The decoder is an iterator (one reading at a time) that
 *    checks every length against the blob: it is fuzzed
 *    (tests/fuzz/fuzz_codec.c) because a damaged database is outside input.
 *
 *  - Resources (store_codec_resource_*): the fields of a UsagePoint,
 *    ReadingType, LocalTimeParameters, UsageSummary (+ line items),
 *    ElectricPowerQualitySummary and the entry envelope (title, links), as
 *    (tag, value) pairs driven by per-struct field tables; absent fields
 *    are not written at all.  Unknown tags, wrong types and over-long
 *    strings are errors, so decoding never writes past a model buffer.
 *
 *  - Ids (store_codec_id_*): "urn:uuid:" ids as 17 bytes (a case tag + the
 *    16 raw bytes), anything else as a 0 tag + the text.
 *
 * Nothing here allocates except the growable output buffer (store_buf). */
#ifndef STORE_CODEC_H
#define STORE_CODEC_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "espi.h"

/* A growable byte buffer.  store_buf_init() makes it empty; the owner
 * calls store_buf_release() once. */
typedef struct store_buf {
    unsigned char *p;
    size_t len, cap;
    int oom;                     /* an append failed: contents are invalid */
} store_buf;

void store_buf_init(store_buf *b);
void store_buf_release(store_buf *b);
void store_buf_reset(store_buf *b);
void store_buf_put(store_buf *b, const void *p, size_t n);
void store_buf_varint(store_buf *b, uint64_t v);
/* zigzag: 0,-1,1,-2 -> 0,1,2,3 */
uint64_t store_zigzag(int64_t v);
int64_t store_unzigzag(uint64_t v);

/* Read one varint from *p (advanced) before end; -1 when truncated or
 * longer than 10 bytes. */
int store_varint_get(const unsigned char **p, const unsigned char *end, uint64_t *v);

/* 64-bit FNV-1a of n bytes, continuing from h (start with STORE_HASH_SEED). */
#define STORE_HASH_SEED 0xcbf29ce484222325ull
uint64_t store_hash(uint64_t h, const void *p, size_t n);

/* ---- IntervalBlock readings --------------------------------------------- */

/* Append the encoding of b's readings to out.  Returns 0 or EG_ENOMEM. */
int store_codec_block_encode(store_buf *out, const espi_interval_block *b, eg_err *err);

/* Decoder state: readings are stored row by row after the header. */
typedef struct store_block_dec {
    const unsigned char *p, *end;
    uint64_t flags, n, i;
    uint64_t first, dur;         /* regular blocks: first start, duration */
    uint64_t prev[7];            /* last present value per nullable column */
} store_block_dec;

/* Start decoding blob (len bytes) of a block whose interval starts at
 * block_start.  *n_out gets the number of readings.  Returns 0 or EG_EDATA
 * when the header is damaged. */
int store_codec_block_begin(store_block_dec *d, const void *blob, size_t len,
                            int64_t block_start, uint64_t *n_out, eg_err *err);
/* Next reading into *r (fully initialised).  Returns 1 with a reading, 0 at
 * the end (after checking that nothing is left over), EG_EDATA when the
 * blob is damaged. */
int store_codec_block_next(store_block_dec *d, espi_interval_reading *r, eg_err *err);

/* ---- Resources and the entry envelope ------------------------------------ */

/* Append the envelope parts of e that are not stored as columns (title,
 * self/up hrefs and types, related links; id, published and updated are
 * columns).  omit leaves out the self and/or up href (callers that store
 * or derive them elsewhere).  Returns 0 or EG_ENOMEM. */
#define STORE_OMIT_SELF 1u
#define STORE_OMIT_UP 2u
int store_codec_entry_encode(store_buf *out, const espi_entry *e, unsigned omit);
/* Decode into e (which the caller initialised with espi_entry_init()). */
int store_codec_entry_decode(const unsigned char **p, const unsigned char *end, espi_entry *e,
                             eg_err *err);

/* The <feed> header (id, title, updated, self, related links). */
int store_codec_head_encode(store_buf *out, const espi_feed_head *h);
/* Decode a whole blob; EG_EDATA when damaged. */
int store_codec_head_decode(const void *blob, size_t len, espi_feed_head *h, eg_err *err);

/* Append the fields of r (type UsagePoint, MeterReading, ReadingType,
 * UsageSummary, ElectricPowerQualitySummary or LocalTimeParameters).
 * Returns 0, EG_EUSAGE for another type, EG_ENOMEM. */
int store_codec_resource_encode(store_buf *out, const espi_resource *r);

/* Line items decoded for a UsageSummary are stored here (owned by the
 * caller, reused between calls, freed with store_line_items_release). */
typedef struct store_line_items {
    espi_line_item *v;
    size_t n, cap;
} store_line_items;
void store_line_items_release(store_line_items *li);

/* Decode fields of a resource of the given type into r->u (initialised
 * here); r->type is set.  Line items land in li (their array is what
 * r->u.usage_summary.line_items borrows).  Returns 0 or EG_EDATA/EG_ENOMEM. */
int store_codec_resource_decode(const unsigned char **p, const unsigned char *end,
                                espi_resource_type type, espi_resource *r,
                                store_line_items *li, eg_err *err);

/* ---- Ids ------------------------------------------------------------------ */

#define STORE_ID_PACKED_MAX (ESPI_ID_MAX + 1)
/* Pack an entry id; returns the packed length (<= STORE_ID_PACKED_MAX). */
size_t store_codec_id_pack(const char *id, unsigned char out[STORE_ID_PACKED_MAX]);
/* Unpack; returns 0 or -1 when p is not a packed id. */
int store_codec_id_unpack(const unsigned char *p, size_t n, char out[ESPI_ID_MAX]);

#endif
