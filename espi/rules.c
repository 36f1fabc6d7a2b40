/* rules.c -- semantic rules over a stream of ESPI resources.
 *
 * The reader hands us one resource at a time, in document order, and Atom
 * lets entries come in any order: an IntervalBlock may arrive before the
 * MeterReading it hangs under, a MeterReading before its ReadingType.  So
 * every rule is one of two kinds:
 *
 *  - local: it needs only the resource in hand (a reading outside its block,
 *    a tzOffset of 20 hours, a timestamp in milliseconds).  It runs inside
 *    espi_rules_resource() and reports at once, with the entry's line.
 *  - graph: it needs other entries (a related href resolves, blocks of one
 *    MeterReading do not overlap, a deltaData ReadingType has blocks).  The
 *    resource leaves a small record behind and espi_rules_finish() resolves
 *    all records once the document has ended.
 *
 * What a record keeps is bounded by the number of entries, never readings,
 * and IntervalBlocks (>99% of a real feed's entries) cost ~40 bytes each:
 *
 *  - rl_blk (28 bytes): 64-bit FNV-1a hashes of the id and self href, the
 *    start, the entry's line, and in one word the index of its up href,
 *    the index of its "shape" (block duration and the range of its
 *    readings' durations) and flags (negative values seen, cost seen).
 *    Up hrefs (rl_up, with the tail kept for messages) and shapes are
 *    shared: a MeterReading's blocks have one up href and a few shapes.
 *    A block whose values do not fit moves them to a wide side record.
 *  - rl_keys: one open-addressing index of 4-byte slots over both hashes
 *    of every entry (the key is read back from the record), ~12 bytes
 *    per block at its load factor.
 *
 * Other entries (UsagePoint, MeterReading, ReadingType, ...) are few and
 * keep an rl_ent each, their related links (rl_ref) and, for ReadingType
 * and LocalTimeParameters, their facts in side arrays.  Readings
 * themselves are looked at only while the callback runs.  A hash collision
 * between two different hrefs (p ~ n^2 / 2^64) would at worst hide or
 * invent one link finding; we accept that.
 *
 * Href matching follows what real files do: hrefs are compared exactly as
 * written (a trailing '/' ignored), relative ones like the GBA samples'
 * "RetailCustomer/9b6c7063/UsagePoint/01" included.  A collection href
 * ".../MeterReading/01/IntervalBlock" matches either a MeterReading's
 * related link with the same text, or a MeterReading whose self href is the
 * collection with its last segment removed.
 *
 * A feed is "partial" when no feed header was seen (a single-entry GET) or
 * when it holds no UsagePoint (a CMD response for one collection).  In a
 * partial feed a reference that does not resolve is a warning, since its
 * target may live elsewhere; in a whole feed it is an error.
 *
 * Findings of one rule about one IntervalBlock are folded into one
 * diagnostic ("3 readings lie outside ..."), so a broken file of a million
 * readings yields a readable report, not a million lines. */
#include "rules.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define RL_MSG_MAX 768
#define RL_TAIL 64            /* bytes of an href kept for messages */
#define RL_MAX_SUPPRESS 64
#define RL_RULE_ID_MAX 16
#define RL_TIME_MAX INT64_C(4102444800)  /* 2100-01-01T00:00:00Z */
#define RL_EPOCH_2000 INT64_C(946684800)
#define RL_NOT_FOUND UINT32_MAX

/* ---- open-addressing hash map: uint64 key -> uint32 value ------------- */

typedef struct rl_map {
    uint64_t *keys; /* 0 = empty slot; real keys are never 0 */
    uint32_t *vals;
    size_t cap, n;
} rl_map;

/* FNV-1a over n bytes; never returns 0 (0 marks an empty slot). */
static uint64_t rl_hash(const char *s, size_t n)
{
    uint64_t h = UINT64_C(14695981039346656037);
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= UINT64_C(1099511628211);
    }
    return h ? h : 1;
}

static size_t rl_map_slot(const rl_map *m, uint64_t k)
{
    size_t i = (size_t)(k ^ (k >> 29)) & (m->cap - 1);
    while (m->keys[i] && m->keys[i] != k) i = (i + 1) & (m->cap - 1);
    return i;
}

static int rl_map_grow(rl_map *m)
{
    rl_map g = {0};
    int rc = -1;
    g.cap = m->cap ? m->cap * 2 : 64;
    g.keys = calloc(g.cap, sizeof *g.keys);
    g.vals = calloc(g.cap, sizeof *g.vals);
    if (!g.keys || !g.vals) goto done;
    for (size_t i = 0; i < m->cap; i++) {
        if (!m->keys[i]) continue;
        size_t s = rl_map_slot(&g, m->keys[i]);
        g.keys[s] = m->keys[i];
        g.vals[s] = m->vals[i];
    }
    g.n = m->n;
    free(m->keys);
    free(m->vals);
    *m = g;
    g.keys = NULL;
    g.vals = NULL;
    rc = 0;
done:
    free(g.keys);
    free(g.vals);
    return rc;
}

/* Insert k -> v unless k is present.  Returns 1 and sets *old when k was
 * already there (the map is unchanged), 0 when inserted, -1 on OOM. */
static int rl_map_put(rl_map *m, uint64_t k, uint32_t v, uint32_t *old)
{
    if ((m->n + 1) * 2 > m->cap && rl_map_grow(m)) return -1;
    size_t s = rl_map_slot(m, k);
    if (m->keys[s]) {
        if (old) *old = m->vals[s];
        return 1;
    }
    m->keys[s] = k;
    m->vals[s] = v;
    m->n++;
    return 0;
}

/* Value for k, or RL_NOT_FOUND. */
static uint32_t rl_map_get(const rl_map *m, uint64_t k)
{
    if (!m->cap || !k) return RL_NOT_FOUND;
    size_t s = rl_map_slot(m, k);
    return m->keys[s] ? m->vals[s] : RL_NOT_FOUND;
}

static void rl_map_release(rl_map *m)
{
    free(m->keys);
    free(m->vals);
    memset(m, 0, sizeof *m);
}

/* ---- hrefs ------------------------------------------------------------- */

enum rl_style { RL_STYLE_OTHER = 0, RL_STYLE_COLLECTION, RL_STYLE_ENTRY };

/* What the rules need to know about one href. */
typedef struct rl_href {
    uint64_t full;                 /* hash of the href (trailing '/' cut) */
    uint64_t dir;                  /* hash without its last segment; 0 none */
    espi_resource_type last_type;  /* type named by the last segment */
    espi_resource_type seg_type;   /* type named by the segment before it */
    enum rl_style style;
    char tail[RL_TAIL];            /* the href's last RL_TAIL-1 bytes */
} rl_href;

static const char *const rl_customer_names[] = {
    "Customer", "CustomerAccount", "CustomerAgreement", "ServiceLocation",
    "ServiceSupplier", "Meter", "EndDevice", "ProgramDateIdMappings", "Statement",
};

/* The resource type a path segment names (n bytes at s), UNKNOWN if none. */
static espi_resource_type rl_segment_type(const char *s, size_t n)
{
    char seg[48];
    if (n == 0 || n >= sizeof seg) return ESPI_RES_UNKNOWN;
    memcpy(seg, s, n);
    seg[n] = '\0';
    for (size_t i = 0; i < sizeof rl_customer_names / sizeof rl_customer_names[0]; i++)
        if (strcmp(seg, rl_customer_names[i]) == 0) return ESPI_RES_CUSTOMER;
    return espi_resource_from_name(seg);
}

/* Types whose entries a usage feed carries, so an entry-style href to one
 * of them must resolve.  Subscription, RetailCustomer, Authorization,
 * ApplicationInformation and customer data are addressed but usually
 * served elsewhere. */
static int rl_type_must_resolve(espi_resource_type t)
{
    switch (t) {
    case ESPI_RES_USAGE_POINT: case ESPI_RES_METER_READING:
    case ESPI_RES_READING_TYPE: case ESPI_RES_INTERVAL_BLOCK:
    case ESPI_RES_USAGE_SUMMARY: case ESPI_RES_POWER_QUALITY_SUMMARY:
    case ESPI_RES_LOCAL_TIME_PARAMETERS:
        return 1;
    default:
        return 0;
    }
}

static void rl_href_parse(const char *href, rl_href *h)
{
    size_t n = strlen(href);
    memset(h, 0, sizeof *h);
    while (n > 1 && href[n - 1] == '/') n--;
    if (n == 0) return;
    h->full = rl_hash(href, n);
    if (n < RL_TAIL)
        snprintf(h->tail, sizeof h->tail, "%.*s", (int)n, href);
    else
        snprintf(h->tail, sizeof h->tail, "...%.*s", RL_TAIL - 4, href + n - (RL_TAIL - 4));
    const char *last = href + n;
    while (last > href && last[-1] != '/') last--;
    h->last_type = rl_segment_type(last, (size_t)(href + n - last));
    if (last == href) return; /* one segment, no directory */
    size_t dir_len = (size_t)(last - 1 - href);
    h->dir = dir_len ? rl_hash(href, dir_len) : 0;
    const char *seg = last - 1;
    while (seg > href && seg[-1] != '/') seg--;
    h->seg_type = rl_segment_type(seg, (size_t)(last - 1 - seg));
    if (h->last_type != ESPI_RES_UNKNOWN) h->style = RL_STYLE_COLLECTION;
    else if (h->seg_type != ESPI_RES_UNKNOWN) h->style = RL_STYLE_ENTRY;
}

/* ---- records ------------------------------------------------------------ */

/* An entity names one recorded entry in 32 bits: RL_KIND_BLK set for an
 * IntervalBlock record (r->blks), clear for any other entry (r->ents), the
 * low 30 bits its index.  In the key index RL_TAG_SELF also says which of
 * the entity's two hashes (id or self href) a slot stands for. */
#define RL_TAG_SELF UINT32_C(0x80000000)
#define RL_KIND_BLK UINT32_C(0x40000000)
#define RL_INDEX UINT32_C(0x3FFFFFFF)
#define RL_INDEX_MAX (RL_INDEX - 1)      /* so no entity is RL_NOT_FOUND */
#define RL_EMPTY UINT32_MAX              /* an empty key-index slot */

/* An up href, kept once however many entries share it (the 365 daily
 * blocks of a MeterReading share one).  ups[0] stands for "no up link". */
typedef struct rl_up {
    uint64_t full, dir;             /* as in rl_href */
    espi_resource_type last;
    uint32_t blk_mr;                /* finish: MeterReading of the blocks under it */
    char tail[RL_TAIL];
} rl_up;

/* One Atom entry other than an IntervalBlock.  There are few of them (a
 * handful per MeterReading), so they keep plain fields; the facts of
 * ReadingType and LocalTimeParameters live in side arrays. */
typedef struct rl_ent {
    uint64_t id, self;              /* hashes; 0 when absent */
    long line;
    espi_resource_type type;
    uint32_t up;                    /* index in r->ups */
    uint32_t first_ref, n_refs;     /* its related links in r->refs */
    uint32_t facts;                 /* index in r->rts or r->ltps, or RL_NOT_FOUND */
    uint32_t n_blocks;              /* MeterReading: blocks resolved to it */
    uint32_t rt;                    /* MeterReading: its ReadingType entry (finish) */
    int referenced;                 /* LocalTimeParameters: a UsagePoint points here */
} rl_ent;

typedef struct rl_rt {              /* ReadingType facts the block checks need */
    int64_t accum, flow, ilen, uom, currency;
} rl_rt;

typedef struct rl_ltp {             /* LocalTimeParameters facts for LTP-005 */
    uint32_t start, end;
    int64_t tz, updated;
} rl_ltp;

typedef struct rl_ref {
    uint32_t owner;                 /* entity */
    rl_href h;
} rl_ref;

/* An IntervalBlock's durations: its interval and the range of its
 * readings' positive durations (ESPI_NONE if none).  A feed has a few
 * distinct shapes (24 hourly readings a day; 23 and 25 on DST days), so a
 * block names its shape by index. */
typedef struct rl_shape {
    int64_t duration, min_dur, max_dur;
} rl_shape;

/* One IntervalBlock in 28 bytes: blocks are >99% of the entries of a real
 * feed, so this record is what a feed's size costs.  Hashes are kept as
 * 32-bit halves so the record needs only 4-byte alignment.  start and line
 * are exact when they fit 32 bits, up and shape when they fit their bits;
 * otherwise RL_BF_WIDE is set and start holds an index in r->wides, which
 * then keeps start, line, up and shape. */
typedef struct rl_blk {
    uint32_t id_lo, id_hi;          /* 0 in a block after the first of its entry */
    uint32_t self_lo, self_hi;
    uint32_t start;                 /* seconds since 1970 */
    uint32_t line;
    uint32_t bits;                  /* up | shape << 16 | RL_BF_ flags */
} rl_blk;

#define RL_BLK_UP_MAX UINT32_C(0xFFFF)
#define RL_BLK_SHAPE_SHIFT 16
#define RL_BLK_SHAPE_MAX UINT32_C(0xFFF)
#define RL_BF_NEGATIVE UINT32_C(0x10000000) /* some reading had value < 0 */
#define RL_BF_COST UINT32_C(0x20000000)     /* some reading carried a cost */
#define RL_BF_CONT UINT32_C(0x40000000)     /* not the first block of its entry */
#define RL_BF_WIDE UINT32_C(0x80000000)     /* fields live in r->wides[start] */
#define RL_BF_FLAGS UINT32_C(0xF0000000)

typedef struct rl_wide {            /* a block whose fields do not fit rl_blk */
    int64_t start;
    long line;
    rl_shape shape;
    uint32_t up;
} rl_wide;

/* Entities by id hash and by self-href hash, in one open-addressing table
 * with linear probing.  A slot is only the tagged entity (4 bytes): the
 * key is read back from the record, which holds it anyway, so an index
 * entry costs 4 bytes / load instead of 12.  Any capacity works (the hash
 * is mapped onto it by multiplication), so the table grows by a quarter
 * and its load stays between 0.64 and 0.8. */
typedef struct rl_keys {
    uint32_t *slots;
    uint32_t cap, n;
} rl_keys;

struct espi_rules {
    const char *file;
    espi_diag_cb cb;
    void *ctx;
    long errors, warnings;
    int oom;                        /* an allocation failed: graph rules off */
    int have_head;
    long n_usage_points;
    char suppressed[RL_MAX_SUPPRESS][RL_RULE_ID_MAX];
    int n_suppressed;

    rl_keys keys;                   /* id / self hash -> entity */
    rl_map colls;                   /* related collection href -> owner entity (finish) */
    rl_map up_index;                /* up href hash -> index in ups */
    rl_map shape_index;             /* hash of an rl_shape -> index in shapes */
    rl_ent *ents;
    uint32_t n_ents, cap_ents;
    rl_blk *blks;
    uint32_t n_blks, cap_blks;
    rl_wide *wides;
    uint32_t n_wides, cap_wides;
    rl_ref *refs;
    uint32_t n_refs, cap_refs;
    rl_up *ups;
    uint32_t n_ups, cap_ups;
    rl_shape *shapes;
    uint32_t n_shapes, cap_shapes;
    rl_rt *rts;
    uint32_t n_rts, cap_rts;
    rl_ltp *ltps;
    uint32_t n_ltps, cap_ltps;
    int64_t data_start;             /* earliest block start, ESPI_NONE */
    int blks_sorted;                /* finish sorted blks: the key index is stale */

    /* The entry the previous resource came in: several IntervalBlocks in one
     * entry arrive as several resources with the same envelope. */
    uint64_t prev_id, prev_self;
    long prev_line;
    uint32_t prev_ent;              /* entity */
};

/* ---- reporting ----------------------------------------------------------- */

static int rl_is_suppressed(const espi_rules *r, const char *rule)
{
    for (int i = 0; i < r->n_suppressed; i++)
        if (strcmp(r->suppressed[i], rule) == 0) return 1;
    return 0;
}

#if defined(__GNUC__)
__attribute__((format(printf, 5, 6)))
#endif
static void rl_report(espi_rules *r, const char *rule, espi_severity sev, long line,
                      const char *fmt, ...)
{
    char msg[RL_MSG_MAX];
    va_list ap;
    if (rl_is_suppressed(r, rule)) return;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (sev == ESPI_SEV_ERROR) r->errors++;
    else if (sev == ESPI_SEV_WARNING) r->warnings++;
    if (!r->cb) return;
    espi_diag d = {rule, sev, r->file, line, 0, msg};
    r->cb(r->ctx, &d);
}

/* Severity of a reference that does not resolve (see "partial" above). */
static espi_severity rl_unresolved_sev(const espi_rules *r)
{
    return (!r->have_head || r->n_usage_points == 0) ? ESPI_SEV_WARNING : ESPI_SEV_ERROR;
}

static const char *rl_type_name(espi_resource_type t)
{
    const char *n = espi_resource_name(t);
    return n ? n : "resource";
}

/* ---- growable arrays ------------------------------------------------------ */

/* Make room for need elements, growing the capacity by cap >> shift
 * (shift 0 doubles); -1 on OOM or when the count would pass uint32. */
static int rl_reserve_by(void **arr, uint32_t *cap, uint32_t need, size_t elem, unsigned shift)
{
    if (need <= *cap) return 0;
    uint64_t c = *cap ? *cap : 32;
    while (c < need) c += c >> shift > 32 ? c >> shift : 32;
    if (c > UINT32_MAX) return -1;
    void *p = realloc(*arr, (size_t)c * elem);
    if (!p) return -1;
    *arr = p;
    *cap = (uint32_t)c;
    return 0;
}

static int rl_reserve(void **arr, uint32_t *cap, uint32_t need, size_t elem)
{
    return rl_reserve_by(arr, cap, need, elem, 0);
}

/* ---- blocks and entities ----------------------------------------------------- */

static uint64_t rl_u64(uint32_t lo, uint32_t hi) { return (uint64_t)hi << 32 | lo; }

static const rl_wide *rl_blk_wide(const espi_rules *r, const rl_blk *k)
{
    return (k->bits & RL_BF_WIDE) ? &r->wides[k->start] : NULL;
}

static int64_t rl_blk_start(const espi_rules *r, const rl_blk *k)
{
    const rl_wide *w = rl_blk_wide(r, k);
    return w ? w->start : (int64_t)k->start;
}

static long rl_blk_line(const espi_rules *r, const rl_blk *k)
{
    const rl_wide *w = rl_blk_wide(r, k);
    return w ? w->line : (long)k->line;
}

static uint32_t rl_blk_up(const espi_rules *r, const rl_blk *k)
{
    const rl_wide *w = rl_blk_wide(r, k);
    return w ? w->up : k->bits & RL_BLK_UP_MAX;
}

static const rl_shape *rl_blk_shape(const espi_rules *r, const rl_blk *k)
{
    const rl_wide *w = rl_blk_wide(r, k);
    return w ? &w->shape : &r->shapes[(k->bits >> RL_BLK_SHAPE_SHIFT) & RL_BLK_SHAPE_MAX];
}

/* The MeterReading (ent index) block k belongs to, once finish resolved it. */
static uint32_t rl_blk_mr(const espi_rules *r, const rl_blk *k)
{
    return r->ups[rl_blk_up(r, k)].blk_mr;
}

static espi_resource_type rl_entity_type(const espi_rules *r, uint32_t e)
{
    return (e & RL_KIND_BLK) ? ESPI_RES_INTERVAL_BLOCK : r->ents[e & RL_INDEX].type;
}

static long rl_entity_line(const espi_rules *r, uint32_t e)
{
    return (e & RL_KIND_BLK) ? rl_blk_line(r, &r->blks[e & RL_INDEX]) : r->ents[e & RL_INDEX].line;
}

/* ---- the key index ------------------------------------------------------------ */

/* The hash a key-index slot stands for, read from its record. */
static uint64_t rl_slot_key(const espi_rules *r, uint32_t s)
{
    uint32_t i = s & RL_INDEX;
    int self = (s & RL_TAG_SELF) != 0;
    if (s & RL_KIND_BLK) {
        const rl_blk *k = &r->blks[i];
        return self ? rl_u64(k->self_lo, k->self_hi) : rl_u64(k->id_lo, k->id_hi);
    }
    return self ? r->ents[i].self : r->ents[i].id;
}

static uint32_t rl_keys_home(uint64_t k, uint32_t cap)
{
    k ^= k >> 32;
    k *= UINT64_C(0x9E3779B97F4A7C15);
    return (uint32_t)(((k >> 32) * cap) >> 32);
}

/* The entity whose id (tag 0) or self (RL_TAG_SELF) hash is k, or
 * RL_NOT_FOUND.  Not after finish sorted the blocks. */
static uint32_t rl_keys_find(const espi_rules *r, uint64_t k, uint32_t tag)
{
    const rl_keys *x = &r->keys;
    if (!x->cap || !k || r->blks_sorted) return RL_NOT_FOUND;
    for (uint32_t i = rl_keys_home(k, x->cap);; i = i + 1 == x->cap ? 0 : i + 1) {
        uint32_t s = x->slots[i];
        if (s == RL_EMPTY) return RL_NOT_FOUND;
        if ((s & RL_TAG_SELF) == tag && rl_slot_key(r, s) == k) return s & ~RL_TAG_SELF;
    }
}

static void rl_keys_place(const espi_rules *r, uint32_t *slots, uint32_t cap, uint32_t s)
{
    uint32_t i = rl_keys_home(rl_slot_key(r, s), cap);
    while (slots[i] != RL_EMPTY) i = i + 1 == cap ? 0 : i + 1;
    slots[i] = s;
}

static int rl_keys_grow(espi_rules *r)
{
    rl_keys *x = &r->keys;
    uint64_t cap = x->cap ? (uint64_t)x->cap + x->cap / 4 : 64;
    if (cap >= UINT32_MAX) return -1;
    uint32_t *slots = malloc((size_t)cap * sizeof *slots);
    if (!slots) return -1;
    memset(slots, 0xFF, (size_t)cap * sizeof *slots); /* RL_EMPTY */
    for (uint32_t i = 0; i < x->cap; i++)
        if (x->slots[i] != RL_EMPTY) rl_keys_place(r, slots, (uint32_t)cap, x->slots[i]);
    free(x->slots);
    x->slots = slots;
    x->cap = (uint32_t)cap;
    return 0;
}

/* Index slot s (a tagged entity) under the hash its record holds; the
 * caller checked the hash is not there yet.  -1 on OOM. */
static int rl_keys_add(espi_rules *r, uint32_t s)
{
    if (((uint64_t)r->keys.n + 1) * 5 > (uint64_t)r->keys.cap * 4 && rl_keys_grow(r)) return -1;
    rl_keys_place(r, r->keys.slots, r->keys.cap, s);
    r->keys.n++;
    return 0;
}

/* ---- public: lifetime ------------------------------------------------------ */

espi_rules *espi_rules_new(const char *file, espi_diag_cb cb, void *ctx)
{
    espi_rules *r = calloc(1, sizeof *r);
    if (!r) return NULL;
    r->file = file ? file : "";
    r->cb = cb;
    r->ctx = ctx;
    r->data_start = ESPI_NONE;
    r->prev_ent = RL_NOT_FOUND;
    return r;
}

void espi_rules_free(espi_rules *r)
{
    if (!r) return;
    free(r->keys.slots);
    rl_map_release(&r->colls);
    rl_map_release(&r->up_index);
    rl_map_release(&r->shape_index);
    free(r->ents);
    free(r->blks);
    free(r->wides);
    free(r->refs);
    free(r->ups);
    free(r->shapes);
    free(r->rts);
    free(r->ltps);
    free(r);
}

static size_t rl_map_bytes(const rl_map *m)
{
    return m->cap * (sizeof *m->keys + sizeof *m->vals);
}

size_t espi_rules_memory(const espi_rules *r)
{
    if (!r) return 0;
    return sizeof *r + (size_t)r->keys.cap * sizeof *r->keys.slots +
           rl_map_bytes(&r->colls) + rl_map_bytes(&r->up_index) + rl_map_bytes(&r->shape_index) +
           (size_t)r->cap_ents * sizeof *r->ents + (size_t)r->cap_blks * sizeof *r->blks +
           (size_t)r->cap_wides * sizeof *r->wides + (size_t)r->cap_refs * sizeof *r->refs +
           (size_t)r->cap_ups * sizeof *r->ups + (size_t)r->cap_shapes * sizeof *r->shapes +
           (size_t)r->cap_rts * sizeof *r->rts + (size_t)r->cap_ltps * sizeof *r->ltps;
}

int espi_rules_suppress(espi_rules *r, const char *rule)
{
    if (!r || !rule || strlen(rule) >= RL_RULE_ID_MAX || r->n_suppressed >= RL_MAX_SUPPRESS)
        return -1;
    snprintf(r->suppressed[r->n_suppressed++], RL_RULE_ID_MAX, "%s", rule);
    return 0;
}

long espi_rules_error_count(const espi_rules *r) { return r ? r->errors : 0; }
long espi_rules_warning_count(const espi_rules *r) { return r ? r->warnings : 0; }

/* ---- local checks: ids and times ------------------------------------------ */

static int rl_is_hex(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* "urn:uuid:" + 8-4-4-4-12 hex digits (case-insensitive prefix). */
static int rl_is_urn_uuid(const char *id)
{
    static const char prefix[] = "urn:uuid:";
    if (strncasecmp(id, prefix, sizeof prefix - 1) != 0) return 0;
    const char *u = id + sizeof prefix - 1;
    if (strlen(u) != 36) return 0;
    for (int i = 0; i < 36; i++) {
        int dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash ? u[i] != '-' : !rl_is_hex(u[i])) return 0;
    }
    return 1;
}

static void rl_check_id_form(espi_rules *r, const char *what, const char *id, long line)
{
    if (!rl_is_urn_uuid(id))
        rl_report(r, "FEED-007", ESPI_SEV_WARNING, line,
                  "%s id \"%.80s\" is not a urn:uuid (expected \"urn:uuid:\" and 36 characters "
                  "8-4-4-4-12 hex, e.g. a name-based UUIDv5 of the resource URI)", what, id);
}

/* TIME-002: a TimeType after 2100 is almost always milliseconds. */
static void rl_check_time(espi_rules *r, long line, const char *what, int64_t t)
{
    if (t == ESPI_NONE || t <= RL_TIME_MAX) return;
    rl_report(r, "TIME-002", ESPI_SEV_ERROR, line,
              "%s %lld is after the year 2100; TimeType is seconds since 1970 UTC, this looks "
              "like milliseconds (divide by 1000: %lld)", what, (long long)t, (long long)(t / 1000));
}

/* TIME-001 (durations) and TIME-002 on one DateTimeInterval, if present. */
static void rl_check_interval(espi_rules *r, long line, const char *what, const espi_interval *iv)
{
    if (iv->duration != ESPI_NONE && iv->duration <= 0)
        rl_report(r, "TIME-001", ESPI_SEV_ERROR, line,
                  "%s duration is %lld; a DateTimeInterval duration must be a positive number "
                  "of seconds", what, (long long)iv->duration);
    char start_what[96];
    snprintf(start_what, sizeof start_what, "%s start", what);
    rl_check_time(r, line, start_what, iv->start);
}

/* ---- envelope: FEED-, ID- ---------------------------------------------------- */

void espi_rules_feed_head(espi_rules *r, const espi_feed_head *h, long line)
{
    if (!r || !h) return;
    r->have_head = 1;
    if (!h->id[0])
        rl_report(r, "FEED-001", ESPI_SEV_ERROR, line,
                  "feed has no <id>; add <id>urn:uuid:...</id> as a child of <feed>");
    else
        rl_check_id_form(r, "feed", h->id, line);
    if (!h->title[0])
        rl_report(r, "FEED-002", ESPI_SEV_ERROR, line,
                  "feed has no (or an empty) <title>; add e.g. <title>Green Button Usage Feed</title>");
    if (h->updated == ESPI_NONE)
        rl_report(r, "FEED-003", ESPI_SEV_ERROR, line,
                  "feed has no valid <updated>; add an xs:dateTime such as 2024-03-10T07:00:00Z");
}

/* Store the related links of entity ent; returns -1 on OOM. */
static int rl_add_refs(espi_rules *r, uint32_t ent, const espi_entry *e)
{
    int n = e->n_related < ESPI_MAX_RELATED ? e->n_related : ESPI_MAX_RELATED;
    uint32_t first = r->n_refs;
    if (rl_reserve((void **)&r->refs, &r->cap_refs, r->n_refs + (uint32_t)n, sizeof *r->refs))
        return -1;
    for (int i = 0; i < n; i++) {
        if (!e->related[i].href[0]) continue;
        rl_ref *ref = &r->refs[r->n_refs++];
        ref->owner = ent;
        rl_href_parse(e->related[i].href, &ref->h);
    }
    if (!(ent & RL_KIND_BLK)) {
        r->ents[ent].first_ref = first;
        r->ents[ent].n_refs = r->n_refs - first;
    }
    return 0;
}

/* Does e have a related link whose last segment names type t? */
static int rl_has_collection(const espi_entry *e, espi_resource_type t)
{
    for (int i = 0; i < e->n_related && i < ESPI_MAX_RELATED; i++) {
        rl_href h;
        rl_href_parse(e->related[i].href, &h);
        if (h.style == RL_STYLE_COLLECTION && h.last_type == t) return 1;
    }
    return 0;
}

/* Envelope checks that need only this entry (FEED-004..010, LINK-001/005). */
static void rl_check_entry_local(espi_rules *r, espi_resource_type type, const espi_entry *e)
{
    const char *tn = rl_type_name(type);
    long line = e->line;
    if (!e->id[0])
        rl_report(r, "FEED-004", ESPI_SEV_ERROR, line,
                  "%s entry has no <id>; add <id>urn:uuid:...</id> to the entry", tn);
    else
        rl_check_id_form(r, tn, e->id, line);
    if (!e->self.href[0])
        rl_report(r, "FEED-005", ESPI_SEV_ERROR, line,
                  "%s entry has no <link rel=\"self\">; add one with the entry's URI, e.g. "
                  ".../%s/{id}", tn, tn);
    if (!e->up.href[0])
        rl_report(r, "FEED-006", ESPI_SEV_ERROR, line,
                  "%s entry has no <link rel=\"up\">; add one with its collection URI, e.g. "
                  ".../%s", tn, tn);
    if (e->published != ESPI_NONE && e->updated != ESPI_NONE && e->published > e->updated)
        rl_report(r, "FEED-008", ESPI_SEV_WARNING, line,
                  "%s entry <published> is later than <updated> (%lld s); a resource cannot be "
                  "updated before it is published: set updated >= published",
                  tn, (long long)(e->published - e->updated));
    if (e->updated == ESPI_NONE)
        rl_report(r, "FEED-009", ESPI_SEV_ERROR, line,
                  "%s entry has no valid <updated>; Atom requires one, e.g. "
                  "<updated>2024-03-10T07:00:00Z</updated>", tn);
    if (e->published == ESPI_NONE)
        rl_report(r, "FEED-010", ESPI_SEV_WARNING, line,
                  "%s entry has no valid <published>; GBA tests expect one, e.g. "
                  "<published>2024-03-10T07:00:00Z</published>", tn);
    if (type == ESPI_RES_USAGE_POINT && !rl_has_collection(e, ESPI_RES_METER_READING))
        rl_report(r, "LINK-001", ESPI_SEV_ERROR, line,
                  "UsagePoint has no <link rel=\"related\"> to its MeterReading collection; add "
                  "href=\"{self}/MeterReading\"");
    if (type == ESPI_RES_METER_READING && !rl_has_collection(e, ESPI_RES_INTERVAL_BLOCK))
        rl_report(r, "LINK-005", ESPI_SEV_ERROR, line,
                  "MeterReading has no <link rel=\"related\"> to its IntervalBlock collection; "
                  "add href=\"{self}/IntervalBlock\"");
}

/* Index in r->ups of the up href h, adding it; 0 when h is empty,
 * RL_NOT_FOUND on OOM. */
static uint32_t rl_up_intern(espi_rules *r, const rl_href *h)
{
    if (r->n_ups == 0) { /* ups[0]: no up link, belongs to nothing */
        if (rl_reserve((void **)&r->ups, &r->cap_ups, 1, sizeof *r->ups)) return RL_NOT_FOUND;
        memset(&r->ups[0], 0, sizeof r->ups[0]);
        r->ups[0].blk_mr = RL_NOT_FOUND;
        r->n_ups = 1;
    }
    if (!h->full) return 0;
    uint32_t u = rl_map_get(&r->up_index, h->full);
    if (u != RL_NOT_FOUND) return u;
    if (rl_reserve((void **)&r->ups, &r->cap_ups, r->n_ups + 1, sizeof *r->ups) ||
        rl_map_put(&r->up_index, h->full, r->n_ups, NULL) < 0)
        return RL_NOT_FOUND;
    rl_up *x = &r->ups[r->n_ups];
    x->full = h->full;
    x->dir = h->dir;
    x->last = h->last_type;
    x->blk_mr = RL_NOT_FOUND;
    memcpy(x->tail, h->tail, sizeof x->tail);
    return r->n_ups++;
}

/* Index in r->shapes of s, adding it; RL_NOT_FOUND when the block must
 * keep its shape in a wide record instead (table full, hash clash, OOM). */
static uint32_t rl_shape_intern(espi_rules *r, const rl_shape *s)
{
    uint64_t h = rl_hash((const char *)s, sizeof *s);
    uint32_t i = rl_map_get(&r->shape_index, h);
    if (i != RL_NOT_FOUND) return memcmp(&r->shapes[i], s, sizeof *s) == 0 ? i : RL_NOT_FOUND;
    if (r->n_shapes > RL_BLK_SHAPE_MAX ||
        rl_reserve((void **)&r->shapes, &r->cap_shapes, r->n_shapes + 1, sizeof *r->shapes) ||
        rl_map_put(&r->shape_index, h, r->n_shapes, NULL) < 0)
        return RL_NOT_FOUND;
    r->shapes[r->n_shapes] = *s;
    return r->n_shapes++;
}

/* Move block k's fields into a new wide record w; -1 on OOM. */
static int rl_blk_widen(espi_rules *r, rl_blk *k, const rl_wide *w)
{
    if (rl_reserve((void **)&r->wides, &r->cap_wides, r->n_wides + 1, sizeof *r->wides))
        return -1;
    r->wides[r->n_wides] = *w;
    k->start = r->n_wides++;
    k->line = 0;
    k->bits = (k->bits & RL_BF_FLAGS) | RL_BF_WIDE;
    return 0;
}

/* Append the record of a block whose entry starts at line, under up href
 * index up; idh/selfh are 0 for a block after the first of its entry
 * (flags RL_BF_CONT).  start and shape come later (rl_blk_fill).  Returns
 * the entity or RL_NOT_FOUND on OOM.  Blocks grow by 1/16, not doubling,
 * so a large feed does not hold a half-empty array. */
static uint32_t rl_add_block(espi_rules *r, long line, uint64_t idh, uint64_t selfh, uint32_t up,
                             uint32_t flags)
{
    if (r->n_blks > RL_INDEX_MAX ||
        rl_reserve_by((void **)&r->blks, &r->cap_blks, r->n_blks + 1, sizeof *r->blks, 4))
        return RL_NOT_FOUND;
    rl_blk *k = &r->blks[r->n_blks];
    memset(k, 0, sizeof *k);
    k->id_lo = (uint32_t)idh;
    k->id_hi = (uint32_t)(idh >> 32);
    k->self_lo = (uint32_t)selfh;
    k->self_hi = (uint32_t)(selfh >> 32);
    k->bits = flags;
    if (line >= 0 && (int64_t)line <= (int64_t)UINT32_MAX && up <= RL_BLK_UP_MAX) {
        k->line = (uint32_t)line;
        k->bits |= up;
    } else {
        rl_wide w = {ESPI_NONE, line, {ESPI_NONE, ESPI_NONE, ESPI_NONE}, up};
        if (rl_blk_widen(r, k, &w)) return RL_NOT_FOUND;
    }
    return RL_KIND_BLK | r->n_blks++;
}

/* Give block bi what its readings showed; -1 on OOM. */
static int rl_blk_fill(espi_rules *r, uint32_t bi, int64_t start, const rl_shape *s, uint32_t flags)
{
    rl_blk *k = &r->blks[bi];
    k->bits |= flags;
    if (k->bits & RL_BF_WIDE) {
        r->wides[k->start].start = start;
        r->wides[k->start].shape = *s;
        return 0;
    }
    uint32_t si = rl_shape_intern(r, s);
    if (si != RL_NOT_FOUND && start >= 0 && start <= (int64_t)UINT32_MAX) {
        k->start = (uint32_t)start;
        k->bits |= si << RL_BLK_SHAPE_SHIFT;
        return 0;
    }
    rl_wide w = {start, (long)k->line, *s, k->bits & RL_BLK_UP_MAX};
    return rl_blk_widen(r, k, &w);
}

static uint32_t rl_add_ent(espi_rules *r, espi_resource_type type, long line, uint64_t idh,
                           uint64_t selfh, uint32_t up)
{
    if (r->n_ents > RL_INDEX_MAX ||
        rl_reserve((void **)&r->ents, &r->cap_ents, r->n_ents + 1, sizeof *r->ents))
        return RL_NOT_FOUND;
    rl_ent *x = &r->ents[r->n_ents];
    memset(x, 0, sizeof *x);
    x->id = idh;
    x->self = selfh;
    x->line = line;
    x->type = type;
    x->up = up;
    x->facts = RL_NOT_FOUND;
    x->rt = RL_NOT_FOUND;
    return r->n_ents++;
}

/* ID-001/002 for a new entity, then index its id and self hashes unless
 * an earlier entry has them (that one stays the target).  -1 on OOM. */
static int rl_index_entity(espi_rules *r, uint32_t ent, const espi_entry *e, uint64_t idh,
                           uint64_t selfh)
{
    if (idh) {
        uint32_t old = rl_keys_find(r, idh, 0);
        if (old != RL_NOT_FOUND)
            rl_report(r, "ID-001", ESPI_SEV_ERROR, e->line,
                      "entry id %.80s is already used by the entry at line %ld; every entry "
                      "needs its own id (e.g. a UUIDv5 of its self href)", e->id,
                      rl_entity_line(r, old));
        else if (rl_keys_add(r, ent))
            return -1;
    }
    if (selfh) {
        uint32_t old = rl_keys_find(r, selfh, RL_TAG_SELF);
        if (old != RL_NOT_FOUND)
            rl_report(r, "ID-002", ESPI_SEV_ERROR, e->line,
                      "self href %.200s is already the self href of the entry at line %ld; "
                      "give each entry its own URI", e->self.href, rl_entity_line(r, old));
        else if (rl_keys_add(r, ent | RL_TAG_SELF))
            return -1;
    }
    return 0;
}

/* Record a new entry (ID-001/002 at once), return its entity or
 * RL_NOT_FOUND on OOM. */
static uint32_t rl_add_entry(espi_rules *r, espi_resource_type type, const espi_entry *e)
{
    rl_href self, up;
    rl_href_parse(e->self.href, &self);
    rl_href_parse(e->up.href, &up);
    uint64_t idh = e->id[0] ? rl_hash(e->id, strlen(e->id)) : 0;
    uint32_t upi = rl_up_intern(r, &up), ent;
    if (upi == RL_NOT_FOUND) return RL_NOT_FOUND;
    if (type == ESPI_RES_INTERVAL_BLOCK)
        ent = rl_add_block(r, e->line, idh, self.full, upi, 0);
    else
        ent = rl_add_ent(r, type, e->line, idh, self.full, upi);
    if (ent == RL_NOT_FOUND || rl_index_entity(r, ent, e, idh, self.full) ||
        rl_add_refs(r, ent, e))
        return RL_NOT_FOUND;
    if (type == ESPI_RES_USAGE_POINT) r->n_usage_points++;
    return ent;
}

/* Another IntervalBlock of the entry the previous block came in. */
static uint32_t rl_add_next_block(espi_rules *r, const espi_entry *e)
{
    rl_href up;
    rl_href_parse(e->up.href, &up);
    uint32_t upi = rl_up_intern(r, &up);
    if (upi == RL_NOT_FOUND) return RL_NOT_FOUND;
    return rl_add_block(r, e->line, 0, 0, upi, RL_BF_CONT);
}

/* The entity for res's entry: a new one when this resource starts a new
 * entry, and a new block record for every IntervalBlock; RL_NOT_FOUND
 * when memory ran out. */
static uint32_t rl_entry_for(espi_rules *r, const espi_resource *res)
{
    const espi_entry *e = res->entry;
    uint64_t idh = rl_hash(e->id, strlen(e->id));
    uint64_t selfh = rl_hash(e->self.href, strlen(e->self.href));
    uint32_t ent;
    if (r->prev_ent != RL_NOT_FOUND && idh == r->prev_id && selfh == r->prev_self &&
        e->line == r->prev_line && rl_entity_type(r, r->prev_ent) == res->type) {
        if (res->type != ESPI_RES_INTERVAL_BLOCK) return r->prev_ent;
        ent = rl_add_next_block(r, e);
    } else {
        rl_check_entry_local(r, res->type, e);
        ent = rl_add_entry(r, res->type, e);
        if (ent != RL_NOT_FOUND) {
            r->prev_id = idh;
            r->prev_self = selfh;
            r->prev_line = e->line;
            r->prev_ent = ent;
        }
    }
    if (ent == RL_NOT_FOUND) r->oom = 1;
    return ent;
}

/* ---- IntervalBlock: IB-, TIME- --------------------------------------------- */

static int rl_cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* Count starts that repeat (IB-002); sorts a scratch copy when needed. */
static size_t rl_count_duplicate_starts(const espi_interval_block *b, int sorted,
                                        int64_t *first_dup)
{
    size_t dups = 0, n = 0;
    int64_t *s = NULL;
    if (sorted) {
        int64_t prev = ESPI_NONE;
        for (size_t i = 0; i < b->n_readings; i++) {
            int64_t t = b->readings[i].time_period.start;
            if (t == ESPI_NONE) continue;
            if (t == prev && !dups++) *first_dup = t;
            prev = t;
        }
        goto done;
    }
    s = malloc(b->n_readings * sizeof *s);
    if (!s) goto done; /* cannot check; the sort warning already fired */
    for (size_t i = 0; i < b->n_readings; i++)
        if (b->readings[i].time_period.start != ESPI_NONE) s[n++] = b->readings[i].time_period.start;
    qsort(s, n, sizeof *s, rl_cmp_i64);
    for (size_t i = 1; i < n; i++)
        if (s[i] == s[i - 1] && !dups++) *first_dup = s[i];
done:
    free(s);
    return dups;
}

typedef struct rl_scan {      /* what one pass over a block's readings found */
    size_t no_period, bad_dur, ms, negative_start, outside, unsorted;
    int64_t first_outside, max_start;
    int starts_at_block;
} rl_scan;

/* One pass over b's readings: the local findings into sc, the duration
 * range into s and RL_BF_NEGATIVE / RL_BF_COST into *flags. */
static void rl_scan_readings(const espi_interval_block *b, rl_shape *s, uint32_t *flags,
                             rl_scan *sc)
{
    int64_t bstart = b->interval.start, bend = ESPI_NONE, prev = ESPI_NONE;
    if (bstart != ESPI_NONE && b->interval.duration != ESPI_NONE && b->interval.duration > 0)
        bend = bstart + b->interval.duration;
    memset(sc, 0, sizeof *sc);
    sc->max_start = ESPI_NONE;
    for (size_t i = 0; i < b->n_readings; i++) {
        const espi_interval_reading *rd = &b->readings[i];
        int64_t t = rd->time_period.start, d = rd->time_period.duration;
        if (rd->value != ESPI_NONE && rd->value < 0) *flags |= RL_BF_NEGATIVE;
        if (rd->cost != ESPI_NONE) *flags |= RL_BF_COST;
        if (t == ESPI_NONE || d == ESPI_NONE) {
            sc->no_period++;
            continue;
        }
        if (d <= 0) sc->bad_dur++;
        else {
            if (s->min_dur == ESPI_NONE || d < s->min_dur) s->min_dur = d;
            if (s->max_dur == ESPI_NONE || d > s->max_dur) s->max_dur = d;
        }
        if (t > RL_TIME_MAX) sc->ms++;
        if (t < 0) sc->negative_start++;
        if (t == bstart) sc->starts_at_block = 1;
        if (bend != ESPI_NONE && (t < bstart || t + (d > 0 ? d : 0) > bend) && !sc->outside++)
            sc->first_outside = t;
        if (prev != ESPI_NONE && t < prev) sc->unsorted++;
        prev = t;
    }
}

static void rl_report_scan(espi_rules *r, long line, const espi_interval_block *b,
                           const rl_scan *sc)
{
    if (sc->no_period)
        rl_report(r, "IB-007", ESPI_SEV_WARNING, line,
                  "%zu IntervalReading(s) lack a complete <timePeriod> (duration and start); "
                  "every reading in a block needs one to be placed in time", sc->no_period);
    if (sc->bad_dur)
        rl_report(r, "TIME-001", ESPI_SEV_ERROR, line,
                  "%zu IntervalReading timePeriod duration(s) are 0 or negative; a duration "
                  "must be a positive number of seconds", sc->bad_dur);
    if (sc->ms)
        rl_report(r, "TIME-002", ESPI_SEV_ERROR, line,
                  "%zu IntervalReading start(s) are after the year 2100; TimeType is seconds "
                  "since 1970 UTC, these look like milliseconds (divide by 1000)", sc->ms);
    if (sc->negative_start)
        rl_report(r, "TIME-003", ESPI_SEV_ERROR, line,
                  "%zu IntervalReading start(s) are negative (before 1970); a reading start "
                  "must be seconds since 1970-01-01T00:00:00Z", sc->negative_start);
    if (sc->outside)
        rl_report(r, "IB-001", ESPI_SEV_ERROR, line,
                  "%zu IntervalReading(s) lie outside the block interval [%lld, %lld) (first "
                  "at start %lld); widen the block interval or move the reading to its block",
                  sc->outside, (long long)b->interval.start,
                  (long long)(b->interval.start + b->interval.duration), (long long)sc->first_outside);
    if (sc->unsorted)
        rl_report(r, "IB-003", ESPI_SEV_WARNING, line,
                  "IntervalReadings are not in ascending start order (%zu step(s) back in time); "
                  "sort readings by timePeriod/start", sc->unsorted);
    if (!sc->starts_at_block && b->n_readings > sc->no_period && b->interval.start != ESPI_NONE)
        rl_report(r, "IB-006", ESPI_SEV_WARNING, line,
                  "no IntervalReading starts at the block start %lld; the first reading should "
                  "start where the block interval starts", (long long)b->interval.start);
}

static void rl_interval_block(espi_rules *r, uint32_t ent, const espi_resource *res)
{
    const espi_interval_block *b = &res->u.interval_block;
    long line = res->entry ? res->entry->line : 0;
    rl_shape s = {b->interval.duration, ESPI_NONE, ESPI_NONE};
    uint32_t flags = 0;
    rl_scan sc;

    rl_check_interval(r, line, "IntervalBlock interval", &b->interval);
    if (b->interval.start != ESPI_NONE && b->interval.start < 0)
        rl_report(r, "TIME-003", ESPI_SEV_ERROR, line,
                  "IntervalBlock interval start %lld is negative (before 1970); use seconds "
                  "since 1970-01-01T00:00:00Z", (long long)b->interval.start);
    rl_scan_readings(b, &s, &flags, &sc);
    rl_report_scan(r, line, b, &sc);
    int64_t dup = 0;
    size_t dups = rl_count_duplicate_starts(b, sc.unsorted == 0, &dup);
    if (dups)
        rl_report(r, "IB-002", ESPI_SEV_ERROR, line,
                  "%zu IntervalReading(s) repeat a start time already used in this block (first "
                  "repeated start %lld); each interval must appear once", dups, (long long)dup);
    if (b->interval.start != ESPI_NONE &&
        (r->data_start == ESPI_NONE || b->interval.start < r->data_start))
        r->data_start = b->interval.start;
    if (ent == RL_NOT_FOUND || !(ent & RL_KIND_BLK) || r->oom) return;
    if (rl_blk_fill(r, ent & RL_INDEX, b->interval.start, &s, flags)) r->oom = 1;
}

/* ---- ReadingType: RT- ------------------------------------------------------- */

static int rl_multiplier_ok(int64_t m)
{
    static const int ok[] = {-12, -9, -6, -3, -2, -1, 0, 1, 2, 3, 6, 9, 12};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
        if (m == ok[i]) return 1;
    return 0;
}

/* RT-007: is uom a plausible unit for kind?  Only energy and demand are
 * judged; other kinds pass. */
static int rl_kind_uom_plausible(int64_t kind, int64_t uom)
{
    if (kind == ESPI_KIND_ENERGY)
        return uom == ESPI_UOM_WH || uom == ESPI_UOM_VARH || uom == ESPI_UOM_VAH ||
               uom == ESPI_UOM_THERM || uom == ESPI_UOM_M3 || uom == ESPI_UOM_M3_COMPENSATED;
    if (kind == ESPI_KIND_DEMAND)
        return uom == ESPI_UOM_W || uom == ESPI_UOM_VA || uom == ESPI_UOM_VAR;
    return 1;
}

static void rl_reading_type(espi_rules *r, uint32_t ei, const espi_resource *res)
{
    const espi_reading_type *t = &res->u.reading_type;
    long line = res->entry ? res->entry->line : 0;
    if (t->power_of_ten_multiplier != ESPI_NONE && !rl_multiplier_ok(t->power_of_ten_multiplier))
        rl_report(r, "RT-002", ESPI_SEV_ERROR, line,
                  "ReadingType powerOfTenMultiplier %lld is not a UnitMultiplierKind (expected "
                  "one of -12 -9 -6 -3 -2 -1 0 1 2 3 6 9 12); rescale value and multiplier",
                  (long long)t->power_of_ten_multiplier);
    if (t->kind != ESPI_NONE && t->uom != ESPI_NONE && !rl_kind_uom_plausible(t->kind, t->uom))
        rl_report(r, "RT-007", ESPI_SEV_WARNING, line,
                  "ReadingType kind %lld with uom %lld is implausible (energy 12 expects Wh 72, "
                  "VArh 73, VAh 71, therm 169 or m3 42; demand 8 expects W 38, VA 61 or VAr 63); "
                  "check kind and uom", (long long)t->kind, (long long)t->uom);
    if (ei == RL_NOT_FOUND || (ei & RL_KIND_BLK)) return;
    rl_ent *x = &r->ents[ei];
    if (x->facts == RL_NOT_FOUND) {
        if (rl_reserve((void **)&r->rts, &r->cap_rts, r->n_rts + 1, sizeof *r->rts)) {
            r->oom = 1;
            return;
        }
        x->facts = r->n_rts++;
    }
    rl_rt *f = &r->rts[x->facts];
    f->accum = t->accumulation_behaviour;
    f->flow = t->flow_direction;
    f->ilen = t->interval_length;
    f->uom = t->uom;
    f->currency = t->currency;
}

/* ---- LocalTimeParameters: LTP- ---------------------------------------------- */

/* LTP-004: Enbridge writes epoch seconds in DstRuleType.  Such a value,
 * read as seconds, lands on a quarter hour between 2000 and 2100, and read
 * as a rule either fails to decode or has a seconds field that is not a
 * whole minute (real rules fire on the hour). */
static int rl_rule_looks_like_epoch(uint32_t rule, int decodes)
{
    int64_t t = (int64_t)rule;
    if (t < RL_EPOCH_2000 || t > RL_TIME_MAX || t % 900 != 0) return 0;
    return !decodes || (rule & 0xFFFu) % 60 != 0;
}

static int rl_rule_decodes(uint32_t rule, int64_t tz)
{
    int64_t out;
    for (int y = 2020; y <= 2030; y++) /* a fifth-weekday rule fails in some years */
        if (espi_dst_rule_instant(rule, y, tz, &out) == 0) return 1;
    return 0;
}

static void rl_check_dst_rule(espi_rules *r, long line, const char *what, uint32_t rule, int64_t tz)
{
    if (rule == ESPI_DST_RULE_NONE) return;
    int decodes = rl_rule_decodes(rule, tz == ESPI_NONE ? 0 : tz);
    if (rl_rule_looks_like_epoch(rule, decodes)) {
        char when[32];
        espi_time_format((int64_t)rule, when, sizeof when);
        rl_report(r, "LTP-004", ESPI_SEV_ERROR, line,
                  "%s %08X is an epoch timestamp (%s), not a DstRuleType; encode the rule "
                  "instead, e.g. 360E2000 (2nd Sunday of March 02:00) / B40E2000 (1st Sunday of "
                  "November 02:00), or FFFFFFFF for no DST", what, (unsigned)rule, when);
    } else if (!decodes) {
        rl_report(r, "LTP-003", ESPI_SEV_ERROR, line,
                  "%s %08X does not decode as a DstRuleType (month 1-12 in bits 28-31, hour "
                  "0-23, seconds < 3600, a valid day or weekday for its operator); e.g. 360E2000, "
                  "or FFFFFFFF for no DST", what, (unsigned)rule);
    }
}

static void rl_local_time_parameters(espi_rules *r, uint32_t ei, const espi_resource *res)
{
    const espi_local_time_parameters *p = &res->u.local_time_parameters;
    long line = res->entry ? res->entry->line : 0;
    if (p->tz_offset != ESPI_NONE && (p->tz_offset < -14 * 3600 || p->tz_offset > 14 * 3600 ||
                                      p->tz_offset % 900 != 0))
        rl_report(r, "LTP-001", ESPI_SEV_ERROR, line,
                  "tzOffset %lld s is not a UTC offset (expected -50400..50400 s in steps of "
                  "900 s, e.g. -18000 for US Eastern standard time)", (long long)p->tz_offset);
    if (p->dst_offset != ESPI_NONE && p->dst_offset != 0 && p->dst_offset != 1800 &&
        p->dst_offset != 3600)
        rl_report(r, "LTP-002", ESPI_SEV_ERROR, line,
                  "dstOffset %lld s is not a DST shift (expected 3600, 1800 or 0)",
                  (long long)p->dst_offset);
    rl_check_dst_rule(r, line, "dstStartRule", p->dst_start_rule, p->tz_offset);
    rl_check_dst_rule(r, line, "dstEndRule", p->dst_end_rule, p->tz_offset);
    if (ei == RL_NOT_FOUND || (ei & RL_KIND_BLK)) return;
    rl_ent *x = &r->ents[ei];
    if (x->facts == RL_NOT_FOUND) {
        if (rl_reserve((void **)&r->ltps, &r->cap_ltps, r->n_ltps + 1, sizeof *r->ltps)) {
            r->oom = 1;
            return;
        }
        x->facts = r->n_ltps++;
    }
    rl_ltp *f = &r->ltps[x->facts];
    f->start = p->dst_start_rule;
    f->end = p->dst_end_rule;
    f->tz = p->tz_offset == ESPI_NONE ? 0 : p->tz_offset;
    f->updated = res->entry ? res->entry->updated : ESPI_NONE;
}

/* ---- UsageSummary, PowerQualitySummary: US- ----------------------------------- */

static void rl_usage_summary(espi_rules *r, const espi_resource *res)
{
    const espi_usage_summary *s = &res->u.usage_summary;
    long line = res->entry ? res->entry->line : 0;
    const char *tn = s->legacy_name ? "ElectricPowerUsageSummary" : "UsageSummary";
    if (s->status_time_stamp == ESPI_NONE)
        rl_report(r, "US-001", ESPI_SEV_ERROR, line,
                  "%s has no <statusTimeStamp>; add the time (seconds since 1970 UTC) the "
                  "summary was produced", tn);
    rl_check_time(r, line, "statusTimeStamp", s->status_time_stamp);
    if (s->billing_period.duration != ESPI_NONE && s->billing_period.duration <= 0)
        rl_report(r, "US-002", ESPI_SEV_ERROR, line,
                  "%s billingPeriod duration is %lld; a billing period must last a positive "
                  "number of seconds", tn, (long long)s->billing_period.duration);
    rl_check_time(r, line, "billingPeriod start", s->billing_period.start);
    rl_check_interval(r, line, "ratchetDemandPeriod", &s->ratchet_demand_period);

    int64_t sum = 0;
    size_t with_amount = 0;
    for (size_t i = 0; i < s->n_line_items; i++) {
        const espi_line_item *li = &s->line_items[i];
        if (li->amount != ESPI_NONE) {
            sum += li->amount;
            with_amount++;
        }
        rl_check_interval(r, line, "LineItem itemPeriod", &li->item_period);
        rl_check_time(r, line, "LineItem dateTime", li->date_time);
    }
    if (with_amount && s->cost_additional_last_period != ESPI_NONE &&
        sum != s->cost_additional_last_period)
        rl_report(r, "US-003", ESPI_SEV_WARNING, line,
                  "%s LineItem amounts sum to %lld but costAdditionalLastPeriod is %lld "
                  "(hundred-thousandths of the currency); make the line items add up or correct "
                  "the total", tn, (long long)sum, (long long)s->cost_additional_last_period);
    int has_money = with_amount || s->bill_last_period != ESPI_NONE ||
                    s->bill_to_date != ESPI_NONE || s->cost_additional_last_period != ESPI_NONE;
    if (has_money && s->currency == ESPI_NONE)
        rl_report(r, "US-004", ESPI_SEV_WARNING, line,
                  "%s carries amounts but no <currency>; add the ISO 4217 numeric code, e.g. "
                  "840 for USD", tn);
}

/* ---- ApplicationInformation, Authorization: APP-, AUTH- ---------------------- */

static int rl_uri_is_https_or_local(const char *u)
{
    static const char *const ok[] = {"https://", "http://localhost", "http://127.0.0.1",
                                     "http://[::1]"};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        size_t n = strlen(ok[i]);
        if (strncasecmp(u, ok[i], n) != 0) continue;
        if (i == 0) return 1;
        char c = u[n]; /* "http://localhost.evil.com" is not local */
        return c == '\0' || c == ':' || c == '/';
    }
    return 0;
}

static void rl_application_information(espi_rules *r, const espi_resource *res)
{
    const espi_application_information *a = &res->u.application_information;
    long line = res->entry ? res->entry->line : 0;
    for (int i = 0; i < a->n_redirect_uri && i < ESPI_MAX_LIST; i++)
        if (!rl_uri_is_https_or_local(a->redirect_uri[i]))
            rl_report(r, "APP-001", ESPI_SEV_WARNING, line,
                      "redirect_uri \"%.200s\" is neither https nor localhost; OAuth codes sent "
                      "to it travel in clear: use an https:// URI", a->redirect_uri[i]);
}

static void rl_authorization(espi_rules *r, const espi_resource *res)
{
    const espi_authorization *a = &res->u.authorization;
    long line = res->entry ? res->entry->line : 0;
    if (!a->resource_uri[0])
        rl_report(r, "AUTH-001", ESPI_SEV_ERROR, line,
                  "Authorization has no <resourceURI>; add the Batch/Subscription/{id} (or "
                  "Batch/Bulk/{id}) URI the token grants");
    if (a->expires_at != ESPI_NONE && a->authorized_period.start != ESPI_NONE &&
        a->expires_at < a->authorized_period.start)
        rl_report(r, "AUTH-002", ESPI_SEV_ERROR, line,
                  "Authorization expires_at %lld is before authorizedPeriod start %lld; the "
                  "token cannot expire before the authorization begins",
                  (long long)a->expires_at, (long long)a->authorized_period.start);
    rl_check_interval(r, line, "authorizedPeriod", &a->authorized_period);
    rl_check_interval(r, line, "publishedPeriod", &a->published_period);
    rl_check_time(r, line, "expires_at", a->expires_at);
}

/* ---- public: per resource ----------------------------------------------------- */

void espi_rules_resource(espi_rules *r, const espi_resource *res)
{
    if (!r || !res) return;
    uint32_t ent = RL_NOT_FOUND;
    if (res->entry && !r->oom) ent = rl_entry_for(r, res);
    else if (res->entry) rl_check_entry_local(r, res->type, res->entry);

    switch (res->type) {
    case ESPI_RES_INTERVAL_BLOCK: rl_interval_block(r, ent, res); break;
    case ESPI_RES_READING_TYPE: rl_reading_type(r, ent, res); break;
    case ESPI_RES_LOCAL_TIME_PARAMETERS: rl_local_time_parameters(r, ent, res); break;
    case ESPI_RES_USAGE_SUMMARY: rl_usage_summary(r, res); break;
    case ESPI_RES_POWER_QUALITY_SUMMARY:
        rl_check_interval(r, res->entry ? res->entry->line : 0, "summaryInterval",
                          &res->u.power_quality_summary.summary_interval);
        break;
    case ESPI_RES_APPLICATION_INFORMATION: rl_application_information(r, res); break;
    case ESPI_RES_AUTHORIZATION: rl_authorization(r, res); break;
    default: break;
    }
}

/* ---- finish: the link graph --------------------------------------------------- */

/* Entity the ref resolves to by self href, or RL_NOT_FOUND. */
static uint32_t rl_resolve(const espi_rules *r, const rl_ref *ref)
{
    return rl_keys_find(r, ref->h.full, RL_TAG_SELF);
}

/* Register every collection href (related links ending in a type name) so
 * up links can find their parent. */
static int rl_index_collections(espi_rules *r)
{
    for (uint32_t i = 0; i < r->n_refs; i++) {
        const rl_ref *ref = &r->refs[i];
        if (ref->h.style == RL_STYLE_COLLECTION &&
            rl_map_put(&r->colls, ref->h.full, ref->owner, NULL) < 0)
            return -1;
    }
    return 0;
}

/* Check one related link (LINK-004/007/009); counts its role for its owner. */
static void rl_check_ref(espi_rules *r, const rl_ref *ref, int *n_rt, int *n_ltp)
{
    espi_resource_type owner_type = rl_entity_type(r, ref->owner);
    long owner_line = rl_entity_line(r, ref->owner);
    uint32_t ti = rl_resolve(r, ref);
    espi_resource_type tt = ti == RL_NOT_FOUND ? ESPI_RES_UNKNOWN : rl_entity_type(r, ti);
    int named_rt = ref->h.style == RL_STYLE_ENTRY && ref->h.seg_type == ESPI_RES_READING_TYPE;
    if (tt == ESPI_RES_READING_TYPE || named_rt) (*n_rt)++;
    if (tt == ESPI_RES_LOCAL_TIME_PARAMETERS ||
        (ref->h.style == RL_STYLE_ENTRY && ref->h.seg_type == ESPI_RES_LOCAL_TIME_PARAMETERS))
        (*n_ltp)++;
    if (ti != RL_NOT_FOUND && tt == ESPI_RES_LOCAL_TIME_PARAMETERS &&
        owner_type == ESPI_RES_USAGE_POINT)
        r->ents[ti & RL_INDEX].referenced = 1;
    if (ref->h.style != RL_STYLE_ENTRY || !rl_type_must_resolve(ref->h.seg_type)) return;
    if (ti == RL_NOT_FOUND) {
        if (owner_type == ESPI_RES_METER_READING && named_rt)
            rl_report(r, "LINK-004", rl_unresolved_sev(r), owner_line,
                      "MeterReading related ReadingType %s is not the self href of any "
                      "ReadingType entry in this feed; include the ReadingType entry or fix the href",
                      ref->h.tail);
        else
            rl_report(r, "LINK-007", rl_unresolved_sev(r), owner_line,
                      "%s related href %s names a %s entry that is not in this feed; include "
                      "that entry or fix the href", rl_type_name(owner_type), ref->h.tail,
                      rl_type_name(ref->h.seg_type));
        return;
    }
    if (ref->h.seg_type != tt)
        rl_report(r, "LINK-009", ESPI_SEV_ERROR, owner_line,
                  "%s related href %s names a %s but resolves to the %s entry at line %ld; "
                  "point the link at the right entry", rl_type_name(owner_type), ref->h.tail,
                  rl_type_name(ref->h.seg_type), rl_type_name(tt), rl_entity_line(r, ti));
}

/* Every related link in document order: the links of IntervalBlocks
 * (rare) lie in r->refs between those of the other entries. */
static void rl_check_refs(espi_rules *r)
{
    uint32_t i = 0;
    int n_rt = 0, n_ltp = 0;
    for (uint32_t e = 0; e < r->n_ents; e++) {
        const rl_ent *x = &r->ents[e];
        for (; i < x->first_ref; i++) rl_check_ref(r, &r->refs[i], &n_rt, &n_ltp);
        n_rt = n_ltp = 0;
        for (; i < x->first_ref + x->n_refs; i++) rl_check_ref(r, &r->refs[i], &n_rt, &n_ltp);
        if (x->type == ESPI_RES_USAGE_POINT && n_ltp == 0)
            rl_report(r, "LINK-002", ESPI_SEV_ERROR, x->line,
                      "UsagePoint has no <link rel=\"related\"> to a LocalTimeParameters entry; "
                      "add href=\".../LocalTimeParameters/{id}\" and include that entry");
        if (x->type == ESPI_RES_METER_READING && n_rt != 1)
            rl_report(r, "LINK-003", ESPI_SEV_ERROR, x->line,
                      "MeterReading has %d related ReadingType links (expected exactly 1); "
                      "link it to the one ReadingType that describes its readings", n_rt);
    }
    for (; i < r->n_refs; i++) rl_check_ref(r, &r->refs[i], &n_rt, &n_ltp);
}

/* Parent (an ent index) of an entry of type `type` through its up href u:
 * an entry of type parent_type that lists u as a related collection, or
 * whose self href is u minus its last segment (which must name `type`). */
static uint32_t rl_parent(const espi_rules *r, const rl_up *u, espi_resource_type type,
                          espi_resource_type parent_type)
{
    uint32_t p = rl_map_get(&r->colls, u->full);
    if (p != RL_NOT_FOUND && rl_entity_type(r, p) == parent_type) return p & RL_INDEX;
    if (u->last != type) return RL_NOT_FOUND;
    p = rl_keys_find(r, u->dir, RL_TAG_SELF);
    if (p != RL_NOT_FOUND && rl_entity_type(r, p) == parent_type) return p & RL_INDEX;
    return RL_NOT_FOUND;
}

static void rl_check_up_links(espi_rules *r)
{
    for (uint32_t e = 0; e < r->n_ents; e++) {
        const rl_ent *x = &r->ents[e];
        const rl_up *u = &r->ups[x->up];
        if (!x->up) continue; /* FEED-006 already said so */
        if (x->type == ESPI_RES_METER_READING &&
            rl_parent(r, u, x->type, ESPI_RES_USAGE_POINT) == RL_NOT_FOUND)
            rl_report(r, "LINK-008", rl_unresolved_sev(r), x->line,
                      "MeterReading up href %s is not the MeterReading collection of any "
                      "UsagePoint in this feed; use the UsagePoint's related \".../MeterReading\" href",
                      u->tail);
        if ((x->type == ESPI_RES_USAGE_SUMMARY || x->type == ESPI_RES_POWER_QUALITY_SUMMARY) &&
            rl_parent(r, u, x->type, ESPI_RES_USAGE_POINT) == RL_NOT_FOUND)
            rl_report(r, "LINK-010", rl_unresolved_sev(r), x->line,
                      "%s up href %s is not a related collection of any UsagePoint in this feed; "
                      "use the UsagePoint's related \".../%s\" href", rl_type_name(x->type),
                      u->tail, rl_type_name(x->type));
        /* a duplicate self href (ID-002) counts as referenced with its twin */
        uint32_t twin = rl_keys_find(r, x->self, RL_TAG_SELF);
        int referenced = x->referenced ||
                         (twin != RL_NOT_FOUND && !(twin & RL_KIND_BLK) && r->ents[twin].referenced);
        if (x->type == ESPI_RES_LOCAL_TIME_PARAMETERS && !referenced && r->n_usage_points)
            rl_report(r, "LINK-011", ESPI_SEV_WARNING, x->line,
                      "LocalTimeParameters entry is not the related target of any UsagePoint; "
                      "link it from the UsagePoint(s) it applies to");
    }
}

/* The ReadingType entry (ent index) of MeterReading m, or RL_NOT_FOUND. */
static uint32_t rl_reading_type_of(const espi_rules *r, uint32_t m)
{
    const rl_ent *x = &r->ents[m];
    for (uint32_t i = x->first_ref; i < x->first_ref + x->n_refs; i++) {
        uint32_t t = rl_resolve(r, &r->refs[i]);
        if (t != RL_NOT_FOUND && rl_entity_type(r, t) == ESPI_RES_READING_TYPE) return t;
    }
    return RL_NOT_FOUND;
}

/* LINK-006: attach each block to its MeterReading, through its up href
 * (resolved once per distinct href), and find each MeterReading's
 * ReadingType, while the key index still matches the block records. */
static void rl_attach_blocks(espi_rules *r)
{
    for (uint32_t u = 1; u < r->n_ups; u++)
        r->ups[u].blk_mr = rl_parent(r, &r->ups[u], ESPI_RES_INTERVAL_BLOCK,
                                     ESPI_RES_METER_READING);
    for (uint32_t i = 0; i < r->n_blks; i++) {
        const rl_blk *k = &r->blks[i];
        uint32_t up = rl_blk_up(r, k), mr = r->ups[up].blk_mr;
        if (!up) continue;
        if (mr != RL_NOT_FOUND)
            r->ents[mr].n_blocks++;
        else if (!(k->bits & RL_BF_CONT)) /* once per entry, not per block */
            rl_report(r, "LINK-006", rl_unresolved_sev(r), rl_blk_line(r, k),
                      "IntervalBlock up href %s is not the IntervalBlock collection of any "
                      "MeterReading in this feed; use the MeterReading's related "
                      "\".../IntervalBlock\" href", r->ups[up].tail);
    }
    for (uint32_t e = 0; e < r->n_ents; e++)
        if (r->ents[e].type == ESPI_RES_METER_READING) r->ents[e].rt = rl_reading_type_of(r, e);
}

/* Order of blocks for the cross-block checks: by MeterReading (unattached
 * last), start, then line. */
static int rl_cmp_blk(const espi_rules *r, const rl_blk *a, const rl_blk *b)
{
    uint32_t ma = rl_blk_mr(r, a), mb = rl_blk_mr(r, b);
    if (ma != mb) return ma < mb ? -1 : 1;
    int64_t sa = rl_blk_start(r, a), sb = rl_blk_start(r, b);
    if (sa != sb) return sa < sb ? -1 : 1;
    long la = rl_blk_line(r, a), lb = rl_blk_line(r, b);
    return (la > lb) - (la < lb);
}

static void rl_sift_down(espi_rules *r, size_t root, size_t n)
{
    rl_blk *a = r->blks;
    for (;;) {
        size_t c = 2 * root + 1;
        if (c >= n) return;
        if (c + 1 < n && rl_cmp_blk(r, &a[c], &a[c + 1]) < 0) c++;
        if (rl_cmp_blk(r, &a[root], &a[c]) >= 0) return;
        rl_blk t = a[root];
        a[root] = a[c];
        a[c] = t;
        root = c;
    }
}

/* Sort r->blks in place (heapsort: no scratch memory, and the comparison
 * needs r, which qsort cannot pass).  Feeds usually list blocks in order
 * already, which one pass detects.  The key index is stale afterwards. */
static void rl_sort_blocks(espi_rules *r)
{
    size_t n = r->n_blks, i = 1;
    r->blks_sorted = 1;
    while (i < n && rl_cmp_blk(r, &r->blks[i - 1], &r->blks[i]) <= 0) i++;
    if (i >= n) return;
    for (i = n / 2; i-- > 0;) rl_sift_down(r, i, n);
    for (size_t end = n; end-- > 1;) {
        rl_blk t = r->blks[0];
        r->blks[0] = r->blks[end];
        r->blks[end] = t;
        rl_sift_down(r, 0, end);
    }
}

/* IB-005 tolerance: is a reading duration d consistent with the
 * ReadingType intervalLength len?  Daily data may be 23 or 25 hours on DST
 * days; monthly (or longer) data follows calendar months or billing
 * cycles, whose lengths vary, so it is not judged. */
static int rl_duration_fits(int64_t d, int64_t len)
{
    if (len >= 28 * 86400) return 1;
    if (len >= 86400) return d >= len - 3600 && d <= len + 3600;
    return d == len;
}

/* What the blocks of one MeterReading showed, for the ReadingType checks;
 * each rule reports once per MeterReading with its first block's line. */
typedef struct rl_group {
    uint32_t n_len, n_neg, n_cost, n_blocks;
    long len_line, neg_line, cost_line, first_line;
    int64_t min_dur, max_dur;
} rl_group;

static const rl_rt *rl_rt_facts(const espi_rules *r, uint32_t rt)
{
    static const rl_rt none = {ESPI_NONE, ESPI_NONE, ESPI_NONE, ESPI_NONE, ESPI_NONE};
    uint32_t f = r->ents[rt].facts;
    return f == RL_NOT_FOUND ? &none : &r->rts[f];
}

static void rl_group_add(rl_group *g, const rl_shape *s, uint32_t bits, const rl_rt *rt, long line)
{
    if (!g->n_blocks++) g->first_line = line;
    if (rt->ilen != ESPI_NONE && rt->ilen > 0 && s->min_dur != ESPI_NONE &&
        (!rl_duration_fits(s->min_dur, rt->ilen) || !rl_duration_fits(s->max_dur, rt->ilen))) {
        if (!g->n_len++) {
            g->len_line = line;
            g->min_dur = s->min_dur;
            g->max_dur = s->max_dur;
        }
        if (s->min_dur < g->min_dur) g->min_dur = s->min_dur;
        if (s->max_dur > g->max_dur) g->max_dur = s->max_dur;
    }
    if ((bits & RL_BF_NEGATIVE) && !g->n_neg++) g->neg_line = line;
    if ((bits & RL_BF_COST) && !g->n_cost++) g->cost_line = line;
}

/* IB-005, RT-001, RT-003, RT-004, RT-006 for one MeterReading's blocks;
 * rt_line is the line of its ReadingType entry. */
static void rl_report_group(espi_rules *r, const rl_group *g, const rl_rt *rt, long rt_line)
{
    if (g->n_len)
        rl_report(r, "IB-005", ESPI_SEV_WARNING, g->len_line,
                  "%u IntervalBlock(s) hold readings of %lld..%lld s, not the ReadingType "
                  "intervalLength %lld s (line %ld); fix the durations or the intervalLength",
                  g->n_len, (long long)g->min_dur, (long long)g->max_dur, (long long)rt->ilen,
                  rt_line);
    if (g->n_blocks && rt->uom == ESPI_NONE)
        rl_report(r, "RT-001", ESPI_SEV_ERROR, rt_line,
                  "ReadingType used by IntervalBlock data (line %ld) has no <uom>; add the "
                  "unit, e.g. 72 for Wh", g->first_line);
    if (g->n_neg && rt->flow == ESPI_FLOW_REVERSE)
        rl_report(r, "RT-003", ESPI_SEV_WARNING, g->neg_line,
                  "%u IntervalBlock(s) hold negative values under flowDirection 19 (reverse); "
                  "energy received from the customer is written as positive values in a reverse "
                  "ReadingType: drop the sign or use flowDirection 4 (net)", g->n_neg);
    if (g->n_neg && rt->flow == ESPI_FLOW_FORWARD)
        rl_report(r, "RT-004", ESPI_SEV_WARNING, g->neg_line,
                  "%u IntervalBlock(s) hold negative values under flowDirection 1 (forward); "
                  "delivered energy is non-negative: put export in a flowDirection 19 MeterReading "
                  "or use flowDirection 4 (net)", g->n_neg);
    if (g->n_cost && rt->currency == ESPI_NONE)
        rl_report(r, "RT-006", ESPI_SEV_WARNING, g->cost_line,
                  "IntervalReadings carry <cost> but their ReadingType (line %ld) has no "
                  "<currency>; add the ISO 4217 numeric code, e.g. 840", rt_line);
}

static void rl_check_block_group(espi_rules *r, uint32_t from, uint32_t to)
{
    uint32_t m = rl_blk_mr(r, &r->blks[from]);
    uint32_t rt = r->ents[m].rt;
    const rl_rt *facts = rt != RL_NOT_FOUND ? rl_rt_facts(r, rt) : NULL;
    rl_group g;
    memset(&g, 0, sizeof g);
    for (uint32_t i = from; i < to; i++) {
        const rl_blk *k = &r->blks[i];
        int64_t start = rl_blk_start(r, k);
        long line = rl_blk_line(r, k);
        if (i > from) {
            const rl_blk *p = &r->blks[i - 1];
            int64_t pstart = rl_blk_start(r, p), pdur = rl_blk_shape(r, p)->duration;
            if (pstart != ESPI_NONE && start != ESPI_NONE && pdur != ESPI_NONE &&
                (start == pstart || start < pstart + pdur))
                rl_report(r, "IB-004", ESPI_SEV_ERROR, line,
                          "IntervalBlock starting %lld %s the block starting %lld (entry line %ld) "
                          "of the same MeterReading (line %ld); blocks of one MeterReading must not "
                          "overlap: merge or drop the repeated data", (long long)start,
                          start == pstart ? "repeats" : "overlaps", (long long)pstart,
                          rl_blk_line(r, p), r->ents[m].line);
        }
        if (facts) rl_group_add(&g, rl_blk_shape(r, k), k->bits, facts, line);
    }
    if (facts) rl_report_group(r, &g, facts, r->ents[rt].line);
}

static void rl_check_blocks(espi_rules *r)
{
    rl_attach_blocks(r);
    rl_sort_blocks(r);
    uint32_t i = 0;
    while (i < r->n_blks && rl_blk_mr(r, &r->blks[i]) != RL_NOT_FOUND) {
        uint32_t j = i + 1, m = rl_blk_mr(r, &r->blks[i]);
        while (j < r->n_blks && rl_blk_mr(r, &r->blks[j]) == m) j++;
        rl_check_block_group(r, i, j);
        i = j;
    }
    for (uint32_t e = 0; e < r->n_ents; e++) {
        const rl_ent *x = &r->ents[e];
        if (x->type != ESPI_RES_METER_READING || x->n_blocks || x->rt == RL_NOT_FOUND) continue;
        if (rl_rt_facts(r, x->rt)->accum == ESPI_ACCUM_DELTA_DATA)
            rl_report(r, "RT-005", rl_unresolved_sev(r), x->line,
                      "MeterReading's ReadingType (line %ld) has accumulationBehaviour 4 "
                      "(deltaData) but no IntervalBlock in this feed belongs to it; include its "
                      "IntervalBlocks (up href = its related \".../IntervalBlock\")",
                      r->ents[x->rt].line);
    }
}

static int rl_year_of(int64_t t)
{
    time_t tt = (time_t)t;
    struct tm tm;
    if (!gmtime_r(&tt, &tm)) return 2024;
    return tm.tm_year + 1900;
}

/* LTP-005: the start rule fires before the end rule in the data's year. */
static void rl_check_ltp_order(espi_rules *r)
{
    for (uint32_t e = 0; e < r->n_ents; e++) {
        const rl_ent *x = &r->ents[e];
        if (x->type != ESPI_RES_LOCAL_TIME_PARAMETERS || x->facts == RL_NOT_FOUND) continue;
        const rl_ltp *f = &r->ltps[x->facts];
        int64_t when = r->data_start != ESPI_NONE ? r->data_start : f->updated;
        int year = when != ESPI_NONE && when >= 0 && when <= RL_TIME_MAX ? rl_year_of(when) : 2024;
        int64_t s, t;
        if (espi_dst_rule_instant(f->start, year, f->tz, &s) ||
            espi_dst_rule_instant(f->end, year, f->tz, &t))
            continue; /* NONE or undecodable: LTP-003/004 spoke already */
        if (s >= t) {
            char a[32], b[32];
            espi_time_format(s, a, sizeof a);
            espi_time_format(t, b, sizeof b);
            rl_report(r, "LTP-005", ESPI_SEV_WARNING, x->line,
                      "in %d dstStartRule fires at %s, not before dstEndRule at %s; the XSD "
                      "requires end > start (southern-hemisphere zones cannot say so in ESPI): "
                      "check the rules are not swapped", year, a, b);
        }
    }
}

void espi_rules_finish(espi_rules *r)
{
    if (!r) return;
    if (r->oom) {
        rl_report(r, "RULES-001", ESPI_SEV_WARNING, 0,
                  "out of memory while recording the link graph; link and cross-block rules "
                  "were skipped");
        return;
    }
    if (rl_index_collections(r)) {
        r->oom = 1;
        rl_report(r, "RULES-001", ESPI_SEV_WARNING, 0,
                  "out of memory while indexing collections; link rules were skipped");
        return;
    }
    rl_check_refs(r);
    rl_check_up_links(r);
    rl_check_blocks(r);
    rl_check_ltp_order(r);
}
