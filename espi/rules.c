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
 * What a record keeps is bounded by the number of entries, never readings:
 * 64-bit FNV-1a hashes of ids and hrefs (rl_map, an open-addressing table
 * keyed by hash), one rl_ent per entry, one rl_ref per related link (with
 * the href's tail kept for messages), and one rl_blk per IntervalBlock that
 * summarises its readings (duration range, negative values seen, cost seen).
 * Readings themselves are looked at only while the callback runs.  A hash
 * collision between two different hrefs (p ~ n^2 / 2^64) would at worst
 * hide or invent one link finding; we accept that.
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

/* One Atom entry as the graph rules remember it. */
typedef struct rl_ent {
    espi_resource_type type;
    long line;
    uint64_t self, up, up_dir;
    espi_resource_type up_last;     /* type named by up's last segment */
    char up_tail[RL_TAIL];
    uint32_t first_ref, n_refs;     /* its related links in r->refs */
    uint32_t n_blocks;              /* MeterReading: blocks resolved to it */
    int referenced;                 /* LocalTimeParameters: a UsagePoint points here */
    /* ReadingType facts the block checks need. */
    int64_t rt_accum, rt_flow, rt_ilen, rt_uom, rt_currency;
    /* LocalTimeParameters facts for the rule-order check. */
    uint32_t ltp_start, ltp_end;
    int64_t ltp_tz, updated;
} rl_ent;

typedef struct rl_ref {
    uint32_t ent;
    rl_href h;
} rl_ref;

/* One IntervalBlock, its readings folded into a few facts. */
typedef struct rl_blk {
    uint32_t ent, mr;
    int64_t start, duration;
    int64_t min_dur, max_dur;       /* over readings; ESPI_NONE if none */
    int negative, cost;             /* some reading had value < 0 / a cost */
} rl_blk;

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

    rl_map ids, selfs, colls;       /* id hash -> ent; self -> ent; coll -> ent */
    rl_ent *ents;
    uint32_t n_ents, cap_ents;
    rl_ref *refs;
    uint32_t n_refs, cap_refs;
    rl_blk *blks;
    uint32_t n_blks, cap_blks;
    int64_t data_start;             /* earliest block start, ESPI_NONE */

    /* The entry the previous resource came in: several IntervalBlocks in one
     * entry arrive as several resources with the same envelope. */
    uint64_t prev_id, prev_self;
    long prev_line;
    uint32_t prev_ent;
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

static int rl_reserve(void **arr, uint32_t *cap, uint32_t need, size_t elem)
{
    if (need <= *cap) return 0;
    uint32_t c = *cap ? *cap : 32;
    while (c < need) {
        if (c > UINT32_MAX / 2) return -1;
        c *= 2;
    }
    void *p = realloc(*arr, (size_t)c * elem);
    if (!p) return -1;
    *arr = p;
    *cap = c;
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
    rl_map_release(&r->ids);
    rl_map_release(&r->selfs);
    rl_map_release(&r->colls);
    free(r->ents);
    free(r->refs);
    free(r->blks);
    free(r);
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

/* Store the related links of entry index ei; returns -1 on OOM. */
static int rl_add_refs(espi_rules *r, uint32_t ei, const espi_entry *e)
{
    int n = e->n_related < ESPI_MAX_RELATED ? e->n_related : ESPI_MAX_RELATED;
    if (rl_reserve((void **)&r->refs, &r->cap_refs, r->n_refs + (uint32_t)n, sizeof *r->refs))
        return -1;
    r->ents[ei].first_ref = r->n_refs;
    for (int i = 0; i < n; i++) {
        if (!e->related[i].href[0]) continue;
        rl_ref *ref = &r->refs[r->n_refs++];
        ref->ent = ei;
        rl_href_parse(e->related[i].href, &ref->h);
    }
    r->ents[ei].n_refs = r->n_refs - r->ents[ei].first_ref;
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

/* Record a new entry (ID-001/002 at once), return its index or
 * RL_NOT_FOUND on OOM. */
static uint32_t rl_add_entry(espi_rules *r, espi_resource_type type, const espi_entry *e)
{
    if (rl_reserve((void **)&r->ents, &r->cap_ents, r->n_ents + 1, sizeof *r->ents))
        return RL_NOT_FOUND;
    uint32_t ei = r->n_ents++, old;
    rl_ent *x = &r->ents[ei];
    memset(x, 0, sizeof *x);
    x->type = type;
    x->line = e->line;
    x->updated = e->updated;
    x->rt_accum = x->rt_flow = x->rt_ilen = x->rt_uom = x->rt_currency = ESPI_NONE;
    rl_href h;
    rl_href_parse(e->self.href, &h);
    x->self = h.full;
    rl_href_parse(e->up.href, &h);
    x->up = h.full;
    x->up_dir = h.dir;
    x->up_last = h.last_type;
    snprintf(x->up_tail, sizeof x->up_tail, "%s", h.tail);
    if (e->id[0]) {
        int rc = rl_map_put(&r->ids, rl_hash(e->id, strlen(e->id)), ei, &old);
        if (rc < 0) return RL_NOT_FOUND;
        if (rc == 1)
            rl_report(r, "ID-001", ESPI_SEV_ERROR, e->line,
                      "entry id %.80s is already used by the entry at line %ld; every entry "
                      "needs its own id (e.g. a UUIDv5 of its self href)", e->id, r->ents[old].line);
    }
    if (x->self) {
        int rc = rl_map_put(&r->selfs, x->self, ei, &old);
        if (rc < 0) return RL_NOT_FOUND;
        if (rc == 1)
            rl_report(r, "ID-002", ESPI_SEV_ERROR, e->line,
                      "self href %.200s is already the self href of the entry at line %ld; "
                      "give each entry its own URI", e->self.href, r->ents[old].line);
    }
    if (rl_add_refs(r, ei, e)) return RL_NOT_FOUND;
    if (type == ESPI_RES_USAGE_POINT) r->n_usage_points++;
    return ei;
}

/* The record index for res's entry, adding it if this resource starts a
 * new entry; RL_NOT_FOUND when there is no entry or memory ran out. */
static uint32_t rl_entry_for(espi_rules *r, const espi_resource *res)
{
    const espi_entry *e = res->entry;
    uint64_t idh = rl_hash(e->id, strlen(e->id));
    uint64_t selfh = rl_hash(e->self.href, strlen(e->self.href));
    if (r->prev_ent != RL_NOT_FOUND && idh == r->prev_id && selfh == r->prev_self &&
        e->line == r->prev_line && r->ents[r->prev_ent].type == res->type)
        return r->prev_ent; /* another block of the same entry */
    rl_check_entry_local(r, res->type, e);
    uint32_t ei = rl_add_entry(r, res->type, e);
    if (ei == RL_NOT_FOUND) {
        r->oom = 1;
        return ei;
    }
    r->prev_id = idh;
    r->prev_self = selfh;
    r->prev_line = e->line;
    r->prev_ent = ei;
    return ei;
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

static void rl_scan_readings(const espi_interval_block *b, rl_blk *k, rl_scan *sc)
{
    int64_t bstart = b->interval.start, bend = ESPI_NONE, prev = ESPI_NONE;
    if (bstart != ESPI_NONE && b->interval.duration != ESPI_NONE && b->interval.duration > 0)
        bend = bstart + b->interval.duration;
    memset(sc, 0, sizeof *sc);
    sc->max_start = ESPI_NONE;
    for (size_t i = 0; i < b->n_readings; i++) {
        const espi_interval_reading *rd = &b->readings[i];
        int64_t t = rd->time_period.start, d = rd->time_period.duration;
        if (rd->value != ESPI_NONE && rd->value < 0) k->negative = 1;
        if (rd->cost != ESPI_NONE) k->cost = 1;
        if (t == ESPI_NONE || d == ESPI_NONE) {
            sc->no_period++;
            continue;
        }
        if (d <= 0) sc->bad_dur++;
        else {
            if (k->min_dur == ESPI_NONE || d < k->min_dur) k->min_dur = d;
            if (k->max_dur == ESPI_NONE || d > k->max_dur) k->max_dur = d;
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

static void rl_interval_block(espi_rules *r, uint32_t ei, const espi_resource *res)
{
    const espi_interval_block *b = &res->u.interval_block;
    long line = res->entry ? res->entry->line : 0;
    rl_blk k = {ei, RL_NOT_FOUND, b->interval.start, b->interval.duration,
                ESPI_NONE, ESPI_NONE, 0, 0};
    rl_scan sc;

    rl_check_interval(r, line, "IntervalBlock interval", &b->interval);
    if (b->interval.start != ESPI_NONE && b->interval.start < 0)
        rl_report(r, "TIME-003", ESPI_SEV_ERROR, line,
                  "IntervalBlock interval start %lld is negative (before 1970); use seconds "
                  "since 1970-01-01T00:00:00Z", (long long)b->interval.start);
    rl_scan_readings(b, &k, &sc);
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
    if (ei == RL_NOT_FOUND || r->oom) return;
    if (rl_reserve((void **)&r->blks, &r->cap_blks, r->n_blks + 1, sizeof *r->blks)) {
        r->oom = 1;
        return;
    }
    r->blks[r->n_blks++] = k;
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
    if (ei == RL_NOT_FOUND) return;
    rl_ent *x = &r->ents[ei];
    x->rt_accum = t->accumulation_behaviour;
    x->rt_flow = t->flow_direction;
    x->rt_ilen = t->interval_length;
    x->rt_uom = t->uom;
    x->rt_currency = t->currency;
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
    if (ei == RL_NOT_FOUND) return;
    rl_ent *x = &r->ents[ei];
    x->ltp_start = p->dst_start_rule;
    x->ltp_end = p->dst_end_rule;
    x->ltp_tz = p->tz_offset == ESPI_NONE ? 0 : p->tz_offset;
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
    uint32_t ei = RL_NOT_FOUND;
    if (res->entry && !r->oom) ei = rl_entry_for(r, res);
    else if (res->entry) rl_check_entry_local(r, res->type, res->entry);

    switch (res->type) {
    case ESPI_RES_INTERVAL_BLOCK: rl_interval_block(r, ei, res); break;
    case ESPI_RES_READING_TYPE: rl_reading_type(r, ei, res); break;
    case ESPI_RES_LOCAL_TIME_PARAMETERS: rl_local_time_parameters(r, ei, res); break;
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

/* Entry index the ref resolves to by self href, or RL_NOT_FOUND. */
static uint32_t rl_resolve(const espi_rules *r, const rl_ref *ref)
{
    return rl_map_get(&r->selfs, ref->h.full);
}

/* Register every collection href (related links ending in a type name) so
 * up links can find their parent. */
static int rl_index_collections(espi_rules *r)
{
    for (uint32_t i = 0; i < r->n_refs; i++) {
        const rl_ref *ref = &r->refs[i];
        if (ref->h.style == RL_STYLE_COLLECTION &&
            rl_map_put(&r->colls, ref->h.full, ref->ent, NULL) < 0)
            return -1;
    }
    return 0;
}

/* Check one related link (LINK-004/007/009); counts its role for its owner. */
static void rl_check_ref(espi_rules *r, const rl_ref *ref, int *n_rt, int *n_ltp)
{
    const rl_ent *owner = &r->ents[ref->ent];
    uint32_t ti = rl_resolve(r, ref);
    espi_resource_type tt = ti == RL_NOT_FOUND ? ESPI_RES_UNKNOWN : r->ents[ti].type;
    int named_rt = ref->h.style == RL_STYLE_ENTRY && ref->h.seg_type == ESPI_RES_READING_TYPE;
    if (tt == ESPI_RES_READING_TYPE || named_rt) (*n_rt)++;
    if (tt == ESPI_RES_LOCAL_TIME_PARAMETERS ||
        (ref->h.style == RL_STYLE_ENTRY && ref->h.seg_type == ESPI_RES_LOCAL_TIME_PARAMETERS))
        (*n_ltp)++;
    if (ti != RL_NOT_FOUND && tt == ESPI_RES_LOCAL_TIME_PARAMETERS &&
        owner->type == ESPI_RES_USAGE_POINT)
        r->ents[ti].referenced = 1;
    if (ref->h.style != RL_STYLE_ENTRY || !rl_type_must_resolve(ref->h.seg_type)) return;
    if (ti == RL_NOT_FOUND) {
        if (owner->type == ESPI_RES_METER_READING && named_rt)
            rl_report(r, "LINK-004", rl_unresolved_sev(r), owner->line,
                      "MeterReading related ReadingType %s is not the self href of any "
                      "ReadingType entry in this feed; include the ReadingType entry or fix the href",
                      ref->h.tail);
        else
            rl_report(r, "LINK-007", rl_unresolved_sev(r), owner->line,
                      "%s related href %s names a %s entry that is not in this feed; include "
                      "that entry or fix the href", rl_type_name(owner->type), ref->h.tail,
                      rl_type_name(ref->h.seg_type));
        return;
    }
    if (ref->h.seg_type != tt)
        rl_report(r, "LINK-009", ESPI_SEV_ERROR, owner->line,
                  "%s related href %s names a %s but resolves to the %s entry at line %ld; "
                  "point the link at the right entry", rl_type_name(owner->type), ref->h.tail,
                  rl_type_name(ref->h.seg_type), rl_type_name(tt), r->ents[ti].line);
}

static void rl_check_refs(espi_rules *r)
{
    for (uint32_t e = 0; e < r->n_ents; e++) {
        rl_ent *x = &r->ents[e];
        int n_rt = 0, n_ltp = 0;
        for (uint32_t i = x->first_ref; i < x->first_ref + x->n_refs; i++)
            rl_check_ref(r, &r->refs[i], &n_rt, &n_ltp);
        if (x->type == ESPI_RES_USAGE_POINT && n_ltp == 0)
            rl_report(r, "LINK-002", ESPI_SEV_ERROR, x->line,
                      "UsagePoint has no <link rel=\"related\"> to a LocalTimeParameters entry; "
                      "add href=\".../LocalTimeParameters/{id}\" and include that entry");
        if (x->type == ESPI_RES_METER_READING && n_rt != 1)
            rl_report(r, "LINK-003", ESPI_SEV_ERROR, x->line,
                      "MeterReading has %d related ReadingType links (expected exactly 1); "
                      "link it to the one ReadingType that describes its readings", n_rt);
    }
}

/* Parent of entry x through its up link: an entry of type parent_type that
 * lists x's up href as a related collection, or whose self href is x's up
 * href minus its last segment (which must name x's type). */
static uint32_t rl_parent(const espi_rules *r, const rl_ent *x, espi_resource_type parent_type)
{
    uint32_t p = rl_map_get(&r->colls, x->up);
    if (p != RL_NOT_FOUND && r->ents[p].type == parent_type) return p;
    if (x->up_last != x->type) return RL_NOT_FOUND;
    p = rl_map_get(&r->selfs, x->up_dir);
    if (p != RL_NOT_FOUND && r->ents[p].type == parent_type) return p;
    return RL_NOT_FOUND;
}

static void rl_check_up_links(espi_rules *r)
{
    for (uint32_t e = 0; e < r->n_ents; e++) {
        const rl_ent *x = &r->ents[e];
        if (!x->up) continue; /* FEED-006 already said so */
        if (x->type == ESPI_RES_METER_READING &&
            rl_parent(r, x, ESPI_RES_USAGE_POINT) == RL_NOT_FOUND)
            rl_report(r, "LINK-008", rl_unresolved_sev(r), x->line,
                      "MeterReading up href %s is not the MeterReading collection of any "
                      "UsagePoint in this feed; use the UsagePoint's related \".../MeterReading\" href",
                      x->up_tail);
        if ((x->type == ESPI_RES_USAGE_SUMMARY || x->type == ESPI_RES_POWER_QUALITY_SUMMARY) &&
            rl_parent(r, x, ESPI_RES_USAGE_POINT) == RL_NOT_FOUND)
            rl_report(r, "LINK-010", rl_unresolved_sev(r), x->line,
                      "%s up href %s is not a related collection of any UsagePoint in this feed; "
                      "use the UsagePoint's related \".../%s\" href", rl_type_name(x->type),
                      x->up_tail, rl_type_name(x->type));
        /* a duplicate self href (ID-002) counts as referenced with its twin */
        uint32_t twin = rl_map_get(&r->selfs, x->self);
        int referenced = x->referenced || (twin != RL_NOT_FOUND && r->ents[twin].referenced);
        if (x->type == ESPI_RES_LOCAL_TIME_PARAMETERS && !referenced && r->n_usage_points)
            rl_report(r, "LINK-011", ESPI_SEV_WARNING, x->line,
                      "LocalTimeParameters entry is not the related target of any UsagePoint; "
                      "link it from the UsagePoint(s) it applies to");
    }
}

/* The ReadingType entry of MeterReading m, or RL_NOT_FOUND. */
static uint32_t rl_reading_type_of(const espi_rules *r, uint32_t m)
{
    const rl_ent *x = &r->ents[m];
    for (uint32_t i = x->first_ref; i < x->first_ref + x->n_refs; i++) {
        uint32_t t = rl_resolve(r, &r->refs[i]);
        if (t != RL_NOT_FOUND && r->ents[t].type == ESPI_RES_READING_TYPE) return t;
    }
    return RL_NOT_FOUND;
}

static int rl_cmp_blk(const void *a, const void *b)
{
    const rl_blk *x = a, *y = b;
    if (x->mr != y->mr) return x->mr < y->mr ? -1 : 1;
    return (x->start > y->start) - (x->start < y->start);
}

/* LINK-006: attach each block to its MeterReading. */
static void rl_attach_blocks(espi_rules *r)
{
    uint32_t last_reported = RL_NOT_FOUND;
    for (uint32_t i = 0; i < r->n_blks; i++) {
        rl_blk *k = &r->blks[i];
        const rl_ent *x = &r->ents[k->ent];
        if (!x->up) continue;
        k->mr = rl_parent(r, x, ESPI_RES_METER_READING);
        if (k->mr != RL_NOT_FOUND) {
            r->ents[k->mr].n_blocks++;
        } else if (k->ent != last_reported) {
            last_reported = k->ent;
            rl_report(r, "LINK-006", rl_unresolved_sev(r), x->line,
                      "IntervalBlock up href %s is not the IntervalBlock collection of any "
                      "MeterReading in this feed; use the MeterReading's related "
                      "\".../IntervalBlock\" href", x->up_tail);
        }
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

static void rl_group_add(rl_group *g, const rl_blk *k, const rl_ent *rt, long line)
{
    if (!g->n_blocks++) g->first_line = line;
    if (rt->rt_ilen != ESPI_NONE && rt->rt_ilen > 0 && k->min_dur != ESPI_NONE &&
        (!rl_duration_fits(k->min_dur, rt->rt_ilen) || !rl_duration_fits(k->max_dur, rt->rt_ilen))) {
        if (!g->n_len++) {
            g->len_line = line;
            g->min_dur = k->min_dur;
            g->max_dur = k->max_dur;
        }
        if (k->min_dur < g->min_dur) g->min_dur = k->min_dur;
        if (k->max_dur > g->max_dur) g->max_dur = k->max_dur;
    }
    if (k->negative && !g->n_neg++) g->neg_line = line;
    if (k->cost && !g->n_cost++) g->cost_line = line;
}

/* IB-005, RT-001, RT-003, RT-004, RT-006 for one MeterReading's blocks. */
static void rl_report_group(espi_rules *r, const rl_group *g, const rl_ent *rt)
{
    if (g->n_len)
        rl_report(r, "IB-005", ESPI_SEV_WARNING, g->len_line,
                  "%u IntervalBlock(s) hold readings of %lld..%lld s, not the ReadingType "
                  "intervalLength %lld s (line %ld); fix the durations or the intervalLength",
                  g->n_len, (long long)g->min_dur, (long long)g->max_dur, (long long)rt->rt_ilen,
                  rt->line);
    if (g->n_blocks && rt->rt_uom == ESPI_NONE)
        rl_report(r, "RT-001", ESPI_SEV_ERROR, rt->line,
                  "ReadingType used by IntervalBlock data (line %ld) has no <uom>; add the "
                  "unit, e.g. 72 for Wh", g->first_line);
    if (g->n_neg && rt->rt_flow == ESPI_FLOW_REVERSE)
        rl_report(r, "RT-003", ESPI_SEV_WARNING, g->neg_line,
                  "%u IntervalBlock(s) hold negative values under flowDirection 19 (reverse); "
                  "energy received from the customer is written as positive values in a reverse "
                  "ReadingType: drop the sign or use flowDirection 4 (net)", g->n_neg);
    if (g->n_neg && rt->rt_flow == ESPI_FLOW_FORWARD)
        rl_report(r, "RT-004", ESPI_SEV_WARNING, g->neg_line,
                  "%u IntervalBlock(s) hold negative values under flowDirection 1 (forward); "
                  "delivered energy is non-negative: put export in a flowDirection 19 MeterReading "
                  "or use flowDirection 4 (net)", g->n_neg);
    if (g->n_cost && rt->rt_currency == ESPI_NONE)
        rl_report(r, "RT-006", ESPI_SEV_WARNING, g->cost_line,
                  "IntervalReadings carry <cost> but their ReadingType (line %ld) has no "
                  "<currency>; add the ISO 4217 numeric code, e.g. 840", rt->line);
}

static void rl_check_block_group(espi_rules *r, uint32_t from, uint32_t to)
{
    uint32_t m = r->blks[from].mr;
    uint32_t rt = rl_reading_type_of(r, m);
    rl_group g;
    memset(&g, 0, sizeof g);
    for (uint32_t i = from; i < to; i++) {
        const rl_blk *k = &r->blks[i];
        if (i > from) {
            const rl_blk *p = &r->blks[i - 1];
            if (p->start != ESPI_NONE && k->start != ESPI_NONE && p->duration != ESPI_NONE &&
                (k->start == p->start || k->start < p->start + p->duration))
                rl_report(r, "IB-004", ESPI_SEV_ERROR, r->ents[k->ent].line,
                          "IntervalBlock starting %lld %s the block starting %lld (entry line %ld) "
                          "of the same MeterReading (line %ld); blocks of one MeterReading must not "
                          "overlap: merge or drop the repeated data", (long long)k->start,
                          k->start == p->start ? "repeats" : "overlaps", (long long)p->start,
                          r->ents[p->ent].line, r->ents[m].line);
        }
        if (rt != RL_NOT_FOUND) rl_group_add(&g, k, &r->ents[rt], r->ents[k->ent].line);
    }
    if (rt != RL_NOT_FOUND) rl_report_group(r, &g, &r->ents[rt]);
}

static void rl_check_blocks(espi_rules *r)
{
    rl_attach_blocks(r);
    if (r->n_blks) qsort(r->blks, r->n_blks, sizeof *r->blks, rl_cmp_blk);
    uint32_t i = 0;
    while (i < r->n_blks && r->blks[i].mr != RL_NOT_FOUND) {
        uint32_t j = i + 1;
        while (j < r->n_blks && r->blks[j].mr == r->blks[i].mr) j++;
        rl_check_block_group(r, i, j);
        i = j;
    }
    for (uint32_t e = 0; e < r->n_ents; e++) {
        const rl_ent *x = &r->ents[e];
        if (x->type != ESPI_RES_METER_READING || x->n_blocks) continue;
        uint32_t rt = rl_reading_type_of(r, e);
        if (rt != RL_NOT_FOUND && r->ents[rt].rt_accum == ESPI_ACCUM_DELTA_DATA)
            rl_report(r, "RT-005", rl_unresolved_sev(r), x->line,
                      "MeterReading's ReadingType (line %ld) has accumulationBehaviour 4 "
                      "(deltaData) but no IntervalBlock in this feed belongs to it; include its "
                      "IntervalBlocks (up href = its related \".../IntervalBlock\")",
                      r->ents[rt].line);
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
        if (x->type != ESPI_RES_LOCAL_TIME_PARAMETERS) continue;
        int64_t when = r->data_start != ESPI_NONE ? r->data_start : x->updated;
        int year = when != ESPI_NONE && when >= 0 && when <= RL_TIME_MAX ? rl_year_of(when) : 2024;
        int64_t s, t;
        if (espi_dst_rule_instant(x->ltp_start, year, x->ltp_tz, &s) ||
            espi_dst_rule_instant(x->ltp_end, year, x->ltp_tz, &t))
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
