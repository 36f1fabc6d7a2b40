/* codec.c -- varints, packed IntervalBlock readings, tagged resource blobs.
 *
 * See codec.h for the formats.  The block format in one picture:
 *
 *   varint flags      REGULAR | COST | QUALITY | TIERS
 *   varint n          number of readings
 *   [REGULAR]         zigzag(first start - block start), zigzag(duration)
 *   n times:
 *     [!REGULAR]      ndelta(start), ndelta(duration)
 *     ndelta(value)
 *     [COST]          ndelta(cost)
 *     [QUALITY]       varint count, count x zigzag(quality)
 *     [TIERS]         ndelta(consumptionTier), ndelta(tou), ndelta(cpp)
 *
 * ndelta(x) ("nullable delta") is 0 when x is ESPI_NONE, 1 followed by the
 * raw 64-bit value when the delta does not fit, else zigzag(x - previous
 * present x) + 2.  A 15-minute block of household Wh values therefore costs
 * about 1-2 bytes per reading.
 *
 * Resource blobs are (tag, value) pairs closed by tag 0; tag = index in
 * the struct's field table + 1, so a table may only ever be appended to
 * (a stored blob must keep decoding). */
#include "codec.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { BLK_REGULAR = 1, BLK_COST = 2, BLK_QUALITY = 4, BLK_TIERS = 8, BLK_ALL = 15 };
enum { COL_START, COL_DUR, COL_VALUE, COL_COST, COL_TIER, COL_TOU, COL_CPP };

/* ---- buffer and varints -------------------------------------------------- */

void store_buf_init(store_buf *b)
{
    memset(b, 0, sizeof *b);
}

void store_buf_release(store_buf *b)
{
    free(b->p);
    store_buf_init(b);
}

void store_buf_reset(store_buf *b)
{
    b->len = 0;
    b->oom = 0;
}

static int buf_reserve(store_buf *b, size_t n)
{
    if (b->oom) return -1;
    if (b->cap - b->len >= n) return 0;
    size_t cap = b->cap ? b->cap : 256;
    while (cap - b->len < n) {
        if (cap > SIZE_MAX / 2) goto fail;
        cap *= 2;
    }
    unsigned char *p = realloc(b->p, cap);
    if (!p) goto fail;
    b->p = p;
    b->cap = cap;
    return 0;
fail:
    b->oom = 1;
    return -1;
}

void store_buf_put(store_buf *b, const void *p, size_t n)
{
    if (n == 0 || buf_reserve(b, n)) return;
    memcpy(b->p + b->len, p, n);
    b->len += n;
}

void store_buf_varint(store_buf *b, uint64_t v)
{
    if (buf_reserve(b, 10)) return;
    while (v >= 0x80) {
        b->p[b->len++] = (unsigned char)(v | 0x80);
        v >>= 7;
    }
    b->p[b->len++] = (unsigned char)v;
}

uint64_t store_zigzag(int64_t v)
{
    return ((uint64_t)v << 1) ^ (uint64_t)(v < 0 ? -1 : 0);
}

int64_t store_unzigzag(uint64_t v)
{
    uint64_t u = (v >> 1) ^ (0 - (v & 1));
    int64_t s;
    memcpy(&s, &u, sizeof s);
    return s;
}

int store_varint_get(const unsigned char **pp, const unsigned char *end, uint64_t *v)
{
    const unsigned char *p = *pp;
    uint64_t r = 0;
    for (int shift = 0; shift < 70; shift += 7) {
        if (p >= end) return -1;
        unsigned char c = *p++;
        if (shift == 63 && c > 1) return -1; /* would overflow 64 bits */
        r |= (uint64_t)(c & 0x7f) << shift;
        if (!(c & 0x80)) {
            *pp = p;
            *v = r;
            return 0;
        }
    }
    return -1;
}

uint64_t store_hash(uint64_t h, const void *p, size_t n)
{
    const unsigned char *s = p;
    for (size_t i = 0; i < n; i++) {
        h ^= s[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

static uint64_t as_u64(int64_t v)
{
    return (uint64_t)v;
}

static int64_t as_i64(uint64_t u)
{
    int64_t s;
    memcpy(&s, &u, sizeof s);
    return s;
}

/* ---- nullable deltas ----------------------------------------------------- */

static void ndelta_put(store_buf *b, int64_t v, uint64_t *prev)
{
    if (v == ESPI_NONE) {
        store_buf_varint(b, 0);
        return;
    }
    uint64_t z = store_zigzag(as_i64(as_u64(v) - *prev));
    if (z > UINT64_MAX - 2) {
        store_buf_varint(b, 1);
        store_buf_varint(b, as_u64(v));
    } else {
        store_buf_varint(b, z + 2);
    }
    *prev = as_u64(v);
}

static int ndelta_get(store_block_dec *d, int64_t *v, uint64_t *prev)
{
    uint64_t k;
    if (store_varint_get(&d->p, d->end, &k)) return -1;
    if (k == 0) {
        *v = ESPI_NONE;
        return 0;
    }
    if (k == 1) {
        if (store_varint_get(&d->p, d->end, prev)) return -1;
    } else {
        *prev += as_u64(store_unzigzag(k - 2));
    }
    *v = as_i64(*prev);
    return 0;
}

/* ---- IntervalBlock readings ---------------------------------------------- */

static int block_is_regular(const espi_interval_block *b)
{
    if (b->n_readings == 0) return 0;
    const espi_interval *t0 = &b->readings[0].time_period;
    if (t0->start == ESPI_NONE || t0->duration == ESPI_NONE) return 0;
    for (size_t i = 1; i < b->n_readings; i++) {
        const espi_interval *t = &b->readings[i].time_period;
        if (t->duration != t0->duration) return 0;
        if (as_u64(t->start) != as_u64(t0->start) + as_u64(t0->duration) * (uint64_t)i) return 0;
    }
    return 1;
}

static uint64_t block_flags(const espi_interval_block *b)
{
    uint64_t f = block_is_regular(b) ? BLK_REGULAR : 0;
    for (size_t i = 0; i < b->n_readings; i++) {
        const espi_interval_reading *r = &b->readings[i];
        if (r->cost != ESPI_NONE) f |= BLK_COST;
        if (r->n_qualities > 0) f |= BLK_QUALITY;
        if (r->consumption_tier != ESPI_NONE || r->tou != ESPI_NONE || r->cpp != ESPI_NONE)
            f |= BLK_TIERS;
    }
    return f;
}

int store_codec_block_encode(store_buf *out, const espi_interval_block *b, eg_err *err)
{
    uint64_t flags = block_flags(b), prev[7] = {0};
    uint64_t base = b->interval.start == ESPI_NONE ? 0 : as_u64(b->interval.start);

    store_buf_varint(out, flags);
    store_buf_varint(out, (uint64_t)b->n_readings);
    if (flags & BLK_REGULAR) {
        store_buf_varint(out, store_zigzag(as_i64(as_u64(b->readings[0].time_period.start) - base)));
        store_buf_varint(out, store_zigzag(b->readings[0].time_period.duration));
    }
    prev[COL_START] = base;
    for (size_t i = 0; i < b->n_readings; i++) {
        const espi_interval_reading *r = &b->readings[i];
        if (!(flags & BLK_REGULAR)) {
            ndelta_put(out, r->time_period.start, &prev[COL_START]);
            ndelta_put(out, r->time_period.duration, &prev[COL_DUR]);
        }
        ndelta_put(out, r->value, &prev[COL_VALUE]);
        if (flags & BLK_COST) ndelta_put(out, r->cost, &prev[COL_COST]);
        if (flags & BLK_QUALITY) {
            int nq = r->n_qualities < 0 ? 0 : r->n_qualities;
            if (nq > ESPI_MAX_QUALITIES) nq = ESPI_MAX_QUALITIES;
            store_buf_varint(out, (uint64_t)nq);
            for (int q = 0; q < nq; q++) store_buf_varint(out, store_zigzag(r->qualities[q]));
        }
        if (flags & BLK_TIERS) {
            ndelta_put(out, r->consumption_tier, &prev[COL_TIER]);
            ndelta_put(out, r->tou, &prev[COL_TOU]);
            ndelta_put(out, r->cpp, &prev[COL_CPP]);
        }
    }
    if (out->oom) return eg_errf(err, EG_ENOMEM, NULL, 0, 0, "out of memory packing readings");
    return 0;
}

static int damaged(eg_err *err, const char *what)
{
    return eg_errf(err, EG_EDATA, NULL, 0, 0,
                   "stored readings are damaged (%s); run 'espigate db check' and re-import "
                   "the feed", what);
}

int store_codec_block_begin(store_block_dec *d, const void *blob, size_t len,
                            int64_t block_start, uint64_t *n_out, eg_err *err)
{
    memset(d, 0, sizeof *d);
    d->p = blob;
    d->end = d->p + len;
    if (!blob || store_varint_get(&d->p, d->end, &d->flags) ||
        store_varint_get(&d->p, d->end, &d->n))
        return damaged(err, "truncated header");
    if (d->flags & ~(uint64_t)BLK_ALL) return damaged(err, "unknown flags");
    /* every reading takes at least one byte: a cheap bound on n */
    if (d->n > (uint64_t)(d->end - d->p)) return damaged(err, "count larger than the data");
    uint64_t base = block_start == ESPI_NONE ? 0 : as_u64(block_start);
    if (d->flags & BLK_REGULAR) {
        uint64_t off, dur;
        if (store_varint_get(&d->p, d->end, &off) || store_varint_get(&d->p, d->end, &dur))
            return damaged(err, "truncated time header");
        d->first = base + as_u64(store_unzigzag(off));
        d->dur = as_u64(store_unzigzag(dur));
    }
    d->prev[COL_START] = base;
    if (n_out) *n_out = d->n;
    return 0;
}

int store_codec_block_next(store_block_dec *d, espi_interval_reading *r, eg_err *err)
{
    if (d->i >= d->n) {
        if (d->p != d->end) return damaged(err, "bytes left after the last reading");
        return 0;
    }
    espi_interval_reading_init(r);
    if (d->flags & BLK_REGULAR) {
        r->time_period.start = as_i64(d->first + d->dur * d->i);
        r->time_period.duration = as_i64(d->dur);
    } else if (ndelta_get(d, &r->time_period.start, &d->prev[COL_START]) ||
               ndelta_get(d, &r->time_period.duration, &d->prev[COL_DUR])) {
        return damaged(err, "truncated time");
    }
    if (ndelta_get(d, &r->value, &d->prev[COL_VALUE])) return damaged(err, "truncated value");
    if ((d->flags & BLK_COST) && ndelta_get(d, &r->cost, &d->prev[COL_COST]))
        return damaged(err, "truncated cost");
    if (d->flags & BLK_QUALITY) {
        uint64_t nq, q;
        if (store_varint_get(&d->p, d->end, &nq) || nq > ESPI_MAX_QUALITIES)
            return damaged(err, "bad quality count");
        for (uint64_t k = 0; k < nq; k++) {
            if (store_varint_get(&d->p, d->end, &q)) return damaged(err, "truncated quality");
            r->qualities[k] = store_unzigzag(q);
        }
        r->n_qualities = (int)nq;
    }
    if ((d->flags & BLK_TIERS) &&
        (ndelta_get(d, &r->consumption_tier, &d->prev[COL_TIER]) ||
         ndelta_get(d, &r->tou, &d->prev[COL_TOU]) || ndelta_get(d, &r->cpp, &d->prev[COL_CPP])))
        return damaged(err, "truncated tier");
    d->i++;
    return 1;
}

/* ---- tagged field tables ------------------------------------------------- */

typedef enum ftype { F_I64, F_U32, F_INT, F_STR, F_IV, F_RAT, F_SM } ftype;

typedef struct field {
    ftype type;
    size_t off, size;            /* size: char buffer size for F_STR */
} field;

#define FI64(s, m) {F_I64, offsetof(s, m), 0}
#define FU32(s, m) {F_U32, offsetof(s, m), 0}
#define FINT(s, m) {F_INT, offsetof(s, m), 0}
#define FSTR(s, m) {F_STR, offsetof(s, m), sizeof(((s *)0)->m)}
#define FIV(s, m) {F_IV, offsetof(s, m), 0}
#define FRAT(s, m) {F_RAT, offsetof(s, m), 0}
#define FSM(s, m) {F_SM, offsetof(s, m), 0}
#define NFIELDS(t) (sizeof t / sizeof t[0])

/* Append-only tables: a field's position is its tag in stored blobs. */
static const field up_fields[] = {
    FSTR(espi_usage_point, role_flags), FI64(espi_usage_point, service_kind),
    FI64(espi_usage_point, status), FSTR(espi_usage_point, sdp_name),
    FSTR(espi_usage_point, sdp_tariff_profile), FSTR(espi_usage_point, sdp_customer_agreement),
    FSTR(espi_usage_point, ami_billing_ready), FINT(espi_usage_point, check_billing),
    FSTR(espi_usage_point, connection_state), FSM(espi_usage_point, estimated_load),
    FINT(espi_usage_point, grounded), FINT(espi_usage_point, is_sdp),
    FINT(espi_usage_point, is_virtual), FINT(espi_usage_point, minimal_usage_expected),
    FSM(espi_usage_point, nominal_service_voltage), FSTR(espi_usage_point, outage_region),
    FI64(espi_usage_point, phase_code), FSM(espi_usage_point, rated_current),
    FSM(espi_usage_point, rated_power), FSTR(espi_usage_point, read_cycle),
    FSTR(espi_usage_point, read_route), FSTR(espi_usage_point, service_delivery_remark),
    FSTR(espi_usage_point, service_priority),
};

static const field rt_fields[] = {
    FI64(espi_reading_type, accumulation_behaviour), FI64(espi_reading_type, commodity),
    FI64(espi_reading_type, consumption_tier), FI64(espi_reading_type, currency),
    FI64(espi_reading_type, data_qualifier), FI64(espi_reading_type, default_quality),
    FI64(espi_reading_type, flow_direction), FI64(espi_reading_type, interval_length),
    FI64(espi_reading_type, kind), FI64(espi_reading_type, phase),
    FI64(espi_reading_type, power_of_ten_multiplier), FI64(espi_reading_type, time_attribute),
    FI64(espi_reading_type, tou), FI64(espi_reading_type, uom), FI64(espi_reading_type, cpp),
    FRAT(espi_reading_type, interharmonic), FI64(espi_reading_type, measuring_period),
    FRAT(espi_reading_type, argument),
};

static const field li_fields[] = {
    FI64(espi_line_item, amount), FI64(espi_line_item, rounding),
    FI64(espi_line_item, date_time), FSTR(espi_line_item, note),
    FSM(espi_line_item, measurement), FI64(espi_line_item, item_kind),
    FI64(espi_line_item, unit_cost), FIV(espi_line_item, item_period),
};

static const field us_fields[] = {
    FINT(espi_usage_summary, legacy_name), FIV(espi_usage_summary, billing_period),
    FI64(espi_usage_summary, bill_last_period), FI64(espi_usage_summary, bill_to_date),
    FI64(espi_usage_summary, cost_additional_last_period), FI64(espi_usage_summary, currency),
    FSM(espi_usage_summary, overall_consumption_last_period),
    FSM(espi_usage_summary, current_billing_period_overall_consumption),
    FSM(espi_usage_summary, current_day_last_year_net_consumption),
    FSM(espi_usage_summary, current_day_net_consumption),
    FSM(espi_usage_summary, current_day_overall_consumption),
    FSM(espi_usage_summary, peak_demand),
    FSM(espi_usage_summary, previous_day_last_year_overall_consumption),
    FSM(espi_usage_summary, previous_day_net_consumption),
    FSM(espi_usage_summary, previous_day_overall_consumption),
    FI64(espi_usage_summary, quality_of_reading), FSM(espi_usage_summary, ratchet_demand),
    FIV(espi_usage_summary, ratchet_demand_period), FI64(espi_usage_summary, status_time_stamp),
    FI64(espi_usage_summary, commodity), FSTR(espi_usage_summary, tariff_profile),
    FSTR(espi_usage_summary, read_cycle), FSTR(espi_usage_summary, billing_charge_source),
};
#define US_TAG_LINE_ITEM 200

static const field pqs_fields[] = {
    FI64(espi_power_quality_summary, flicker_plt), FI64(espi_power_quality_summary, flicker_pst),
    FI64(espi_power_quality_summary, harmonic_voltage),
    FI64(espi_power_quality_summary, long_interruptions),
    FI64(espi_power_quality_summary, mains_voltage),
    FI64(espi_power_quality_summary, measurement_protocol),
    FI64(espi_power_quality_summary, power_frequency),
    FI64(espi_power_quality_summary, rapid_voltage_changes),
    FI64(espi_power_quality_summary, short_interruptions),
    FIV(espi_power_quality_summary, summary_interval),
    FI64(espi_power_quality_summary, supply_voltage_dips),
    FI64(espi_power_quality_summary, supply_voltage_imbalance),
    FI64(espi_power_quality_summary, supply_voltage_variations),
    FI64(espi_power_quality_summary, temp_overvoltage),
};

static const field ltp_fields[] = {
    FU32(espi_local_time_parameters, dst_end_rule), FI64(espi_local_time_parameters, dst_offset),
    FU32(espi_local_time_parameters, dst_start_rule), FI64(espi_local_time_parameters, tz_offset),
};

/* Envelope: the self href (tag 1) is optional, the rest always allowed. */
static const field entry_fields[] = {
    {F_STR, offsetof(espi_entry, self.href), sizeof(((espi_entry *)0)->self.href)},
    FSTR(espi_entry, title),
    {F_STR, offsetof(espi_entry, self.type), sizeof(((espi_entry *)0)->self.type)},
    {F_STR, offsetof(espi_entry, up.href), sizeof(((espi_entry *)0)->up.href)},
    {F_STR, offsetof(espi_entry, up.type), sizeof(((espi_entry *)0)->up.type)},
};
#define ENTRY_TAG_RELATED 100

static void put_str(store_buf *b, const char *s)
{
    size_t n = strlen(s);
    store_buf_varint(b, n);
    store_buf_put(b, s, n);
}

static void put_sm(store_buf *b, const espi_summary_measurement *m)
{
    store_buf_varint(b, store_zigzag(m->power_of_ten_multiplier));
    store_buf_varint(b, store_zigzag(m->time_stamp));
    store_buf_varint(b, store_zigzag(m->uom));
    store_buf_varint(b, store_zigzag(m->value));
    put_str(b, m->reading_type_ref);
}

static int sm_absent(const espi_summary_measurement *m)
{
    return m->power_of_ten_multiplier == ESPI_NONE && m->time_stamp == ESPI_NONE &&
           m->uom == ESPI_NONE && m->value == ESPI_NONE && !m->reading_type_ref[0];
}

/* Write each present field of the struct at base as (tag, value). */
static void put_fields(store_buf *b, const field *t, uint32_t skip, size_t nt, const void *base)
{
    const char *s = base;
    for (size_t i = 0; i < nt; i++) {
        const void *f = s + t[i].off;
        if (i < 32 && (skip >> i & 1)) continue;
        int64_t v, w;
        switch (t[i].type) {
        case F_I64:
            memcpy(&v, f, sizeof v);
            if (v == ESPI_NONE) continue;
            store_buf_varint(b, i + 1);
            store_buf_varint(b, store_zigzag(v));
            break;
        case F_U32: {
            uint32_t u;
            memcpy(&u, f, sizeof u);
            store_buf_varint(b, i + 1);
            store_buf_varint(b, u);
            break;
        }
        case F_INT: {
            int n;
            memcpy(&n, f, sizeof n);
            store_buf_varint(b, i + 1);
            store_buf_varint(b, store_zigzag(n));
            break;
        }
        case F_STR:
            if (!*(const char *)f) continue;
            store_buf_varint(b, i + 1);
            put_str(b, f);
            break;
        case F_IV:
        case F_RAT:
            memcpy(&v, f, sizeof v);
            memcpy(&w, (const char *)f + sizeof v, sizeof w);
            if (v == ESPI_NONE && w == ESPI_NONE) continue;
            store_buf_varint(b, i + 1);
            store_buf_varint(b, store_zigzag(v));
            store_buf_varint(b, store_zigzag(w));
            break;
        case F_SM:
            if (sm_absent(f)) continue;
            store_buf_varint(b, i + 1);
            put_sm(b, f);
            break;
        }
    }
}

static int get_i64(const unsigned char **p, const unsigned char *end, int64_t *v)
{
    uint64_t u;
    if (store_varint_get(p, end, &u)) return -1;
    *v = store_unzigzag(u);
    return 0;
}

static int get_str(const unsigned char **p, const unsigned char *end, char *dst, size_t size)
{
    uint64_t n;
    if (store_varint_get(p, end, &n) || n >= size || n > (uint64_t)(end - *p)) return -1;
    if (memchr(*p, '\0', (size_t)n)) return -1;
    memcpy(dst, *p, (size_t)n);
    dst[n] = '\0';
    *p += n;
    return 0;
}

static int get_sm(const unsigned char **p, const unsigned char *end, espi_summary_measurement *m)
{
    if (get_i64(p, end, &m->power_of_ten_multiplier) || get_i64(p, end, &m->time_stamp) ||
        get_i64(p, end, &m->uom) || get_i64(p, end, &m->value))
        return -1;
    return get_str(p, end, m->reading_type_ref, sizeof m->reading_type_ref);
}

/* Decode one value of field f into the struct at base. */
static int get_field(const unsigned char **p, const unsigned char *end, const field *f, void *base)
{
    char *dst = (char *)base + f->off;
    int64_t v, w;
    uint64_t u;
    switch (f->type) {
    case F_I64:
        if (get_i64(p, end, &v)) return -1;
        memcpy(dst, &v, sizeof v);
        return 0;
    case F_U32: {
        if (store_varint_get(p, end, &u) || u > UINT32_MAX) return -1;
        uint32_t x = (uint32_t)u;
        memcpy(dst, &x, sizeof x);
        return 0;
    }
    case F_INT: {
        if (get_i64(p, end, &v) || v < -1 || v > 1000000) return -1;
        int n = (int)v;
        memcpy(dst, &n, sizeof n);
        return 0;
    }
    case F_STR: return get_str(p, end, dst, f->size);
    case F_IV:
    case F_RAT:
        if (get_i64(p, end, &v) || get_i64(p, end, &w)) return -1;
        memcpy(dst, &v, sizeof v);
        memcpy(dst + sizeof v, &w, sizeof w);
        return 0;
    case F_SM: return get_sm(p, end, (espi_summary_measurement *)(void *)dst);
    }
    return -1;
}

/* Read (tag, value) pairs until tag 0.  extra (may be NULL) handles tags
 * beyond the table; it returns 0, or -1 for an unknown tag. */
static int get_fields(const unsigned char **p, const unsigned char *end, const field *t, size_t nt,
                      void *base, int (*extra)(const unsigned char **, const unsigned char *,
                                               uint64_t, void *),
                      void *ctx)
{
    for (;;) {
        uint64_t tag;
        if (store_varint_get(p, end, &tag)) return -1;
        if (tag == 0) return 0;
        if (tag <= nt) {
            if (get_field(p, end, &t[tag - 1], base)) return -1;
        } else if (!extra || extra(p, end, tag, ctx)) {
            return -1;
        }
    }
}

static void put_links(store_buf *out, const espi_link *l, int n)
{
    for (int i = 0; i < n && i < ESPI_MAX_RELATED; i++) {
        store_buf_varint(out, ENTRY_TAG_RELATED);
        put_str(out, l[i].rel);
        put_str(out, l[i].href);
        put_str(out, l[i].type);
    }
}

int store_codec_entry_encode(store_buf *out, const espi_entry *e, unsigned omit)
{
    uint32_t skip = ((omit & STORE_OMIT_SELF) ? 1u : 0) | ((omit & STORE_OMIT_UP) ? 8u : 0);
    put_fields(out, entry_fields, skip, NFIELDS(entry_fields), e);
    put_links(out, e->related, e->n_related);
    store_buf_varint(out, 0);
    return out->oom ? EG_ENOMEM : 0;
}

typedef struct links_ctx {
    espi_link *v;
    int *n;
} links_ctx;

static int links_extra(const unsigned char **p, const unsigned char *end, uint64_t tag, void *ctx)
{
    links_ctx *lc = ctx;
    if (tag != ENTRY_TAG_RELATED || *lc->n >= ESPI_MAX_RELATED) return -1;
    espi_link *l = &lc->v[*lc->n];
    if (get_str(p, end, l->rel, sizeof l->rel) || get_str(p, end, l->href, sizeof l->href) ||
        get_str(p, end, l->type, sizeof l->type))
        return -1;
    (*lc->n)++;
    return 0;
}

int store_codec_entry_decode(const unsigned char **p, const unsigned char *end, espi_entry *e,
                             eg_err *err)
{
    links_ctx lc = {e->related, &e->n_related};
    if (get_fields(p, end, entry_fields, NFIELDS(entry_fields), e, links_extra, &lc))
        return damaged(err, "entry envelope");
    if (e->self.href[0]) snprintf(e->self.rel, sizeof e->self.rel, "self");
    if (e->up.href[0]) snprintf(e->up.rel, sizeof e->up.rel, "up");
    return 0;
}

static const field head_fields[] = {
    FSTR(espi_feed_head, id), FSTR(espi_feed_head, title), FI64(espi_feed_head, updated),
    {F_STR, offsetof(espi_feed_head, self.href), sizeof(((espi_feed_head *)0)->self.href)},
    {F_STR, offsetof(espi_feed_head, self.type), sizeof(((espi_feed_head *)0)->self.type)},
};

int store_codec_head_encode(store_buf *out, const espi_feed_head *h)
{
    put_fields(out, head_fields, 0, NFIELDS(head_fields), h);
    put_links(out, h->related, h->n_related);
    store_buf_varint(out, 0);
    return out->oom ? EG_ENOMEM : 0;
}

int store_codec_head_decode(const void *blob, size_t len, espi_feed_head *h, eg_err *err)
{
    const unsigned char *p = blob, *end = p + len;
    memset(h, 0, sizeof *h);
    h->updated = ESPI_NONE;
    links_ctx lc = {h->related, &h->n_related};
    if (!blob || get_fields(&p, end, head_fields, NFIELDS(head_fields), h, links_extra, &lc) ||
        p != end)
        return damaged(err, "feed header");
    if (h->self.href[0]) snprintf(h->self.rel, sizeof h->self.rel, "self");
    return 0;
}

/* ---- resources ------------------------------------------------------------ */

typedef struct res_table {
    const field *t;
    size_t n;
} res_table;

static res_table table_for(espi_resource_type type)
{
    res_table r = {NULL, 0};
    switch (type) {
    case ESPI_RES_USAGE_POINT: r.t = up_fields; r.n = NFIELDS(up_fields); break;
    case ESPI_RES_READING_TYPE: r.t = rt_fields; r.n = NFIELDS(rt_fields); break;
    case ESPI_RES_USAGE_SUMMARY: r.t = us_fields; r.n = NFIELDS(us_fields); break;
    case ESPI_RES_POWER_QUALITY_SUMMARY: r.t = pqs_fields; r.n = NFIELDS(pqs_fields); break;
    case ESPI_RES_LOCAL_TIME_PARAMETERS: r.t = ltp_fields; r.n = NFIELDS(ltp_fields); break;
    default: break;
    }
    return r;
}

int store_codec_resource_encode(store_buf *out, const espi_resource *r)
{
    res_table t = table_for(r->type);
    if (!t.t && r->type != ESPI_RES_METER_READING) return EG_EUSAGE;
    if (t.t) put_fields(out, t.t, 0, t.n, &r->u);
    if (r->type == ESPI_RES_USAGE_SUMMARY) {
        const espi_usage_summary *s = &r->u.usage_summary;
        for (size_t i = 0; i < s->n_line_items; i++) {
            store_buf_varint(out, US_TAG_LINE_ITEM);
            put_fields(out, li_fields, 0, NFIELDS(li_fields), &s->line_items[i]);
            store_buf_varint(out, 0);
        }
    }
    store_buf_varint(out, 0);
    return out->oom ? EG_ENOMEM : 0;
}

void store_line_items_release(store_line_items *li)
{
    free(li->v);
    memset(li, 0, sizeof *li);
}

#define STORE_MAX_LINE_ITEMS 100000

static int us_extra(const unsigned char **p, const unsigned char *end, uint64_t tag, void *ctx)
{
    store_line_items *li = ctx;
    if (tag != US_TAG_LINE_ITEM || li->n >= STORE_MAX_LINE_ITEMS) return -1;
    if (li->n == li->cap) {
        size_t cap = li->cap ? li->cap * 2 : 16;
        espi_line_item *v = realloc(li->v, cap * sizeof *v);
        if (!v) return -1;
        li->v = v;
        li->cap = cap;
    }
    espi_line_item *it = &li->v[li->n];
    espi_line_item_init(it);
    if (get_fields(p, end, li_fields, NFIELDS(li_fields), it, NULL, NULL)) return -1;
    li->n++;
    return 0;
}

int store_codec_resource_decode(const unsigned char **p, const unsigned char *end,
                                espi_resource_type type, espi_resource *r,
                                store_line_items *li, eg_err *err)
{
    res_table t = table_for(type);
    memset(&r->u, 0, sizeof r->u);
    r->type = type;
    switch (type) {
    case ESPI_RES_USAGE_POINT: espi_usage_point_init(&r->u.usage_point); break;
    case ESPI_RES_READING_TYPE: espi_reading_type_init(&r->u.reading_type); break;
    case ESPI_RES_USAGE_SUMMARY: espi_usage_summary_init(&r->u.usage_summary); break;
    case ESPI_RES_POWER_QUALITY_SUMMARY:
        espi_power_quality_summary_init(&r->u.power_quality_summary);
        break;
    case ESPI_RES_LOCAL_TIME_PARAMETERS:
        espi_local_time_parameters_init(&r->u.local_time_parameters);
        break;
    case ESPI_RES_METER_READING: break;
    default: return damaged(err, "unknown resource kind");
    }
    li->n = 0;
    if (get_fields(p, end, t.t, t.n, &r->u, type == ESPI_RES_USAGE_SUMMARY ? us_extra : NULL, li))
        return damaged(err, "resource fields");
    if (type == ESPI_RES_USAGE_SUMMARY) {
        r->u.usage_summary.line_items = li->v;
        r->u.usage_summary.n_line_items = li->n;
    }
    return 0;
}

/* ---- ids ------------------------------------------------------------------- */

enum { ID_TEXT = 0, ID_UUID_LOWER = 1, ID_UUID_UPPER = 2 };
#define UUID_PREFIX "urn:uuid:"

static int hexval(int c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* 1 lower, 2 upper, 0 not a canonical uuid in one case. */
static int uuid_case(const char *u)
{
    int lower = 0, upper = 0;
    for (int i = 0; i < 36; i++) {
        int c = (unsigned char)u[i];
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (c != '-') return 0;
        } else if (hexval(c) < 0) {
            return 0;
        } else if (c >= 'a' && c <= 'f') {
            lower = 1;
        } else if (c >= 'A' && c <= 'F') {
            upper = 1;
        }
    }
    if (u[36] != '\0' || (lower && upper)) return 0;
    return upper ? ID_UUID_UPPER : ID_UUID_LOWER;
}

size_t store_codec_id_pack(const char *id, unsigned char out[STORE_ID_PACKED_MAX])
{
    size_t plen = sizeof UUID_PREFIX - 1;
    if (strncmp(id, UUID_PREFIX, plen) == 0 && strlen(id) == plen + 36) {
        int kind = uuid_case(id + plen);
        if (kind) {
            const char *u = id + plen;
            out[0] = (unsigned char)kind;
            for (int i = 0, o = 1; i < 36; i++) {
                if (u[i] == '-') continue;
                out[o++] = (unsigned char)(hexval(u[i]) << 4 | hexval(u[i + 1]));
                i++;
            }
            return 17;
        }
    }
    size_t n = strnlen(id, ESPI_ID_MAX - 1);
    out[0] = ID_TEXT;
    memcpy(out + 1, id, n);
    return n + 1;
}

int store_codec_id_unpack(const unsigned char *p, size_t n, char out[ESPI_ID_MAX])
{
    static const char lower[] = "0123456789abcdef", upper[] = "0123456789ABCDEF";
    if (n < 1) return -1;
    if (p[0] == ID_TEXT) {
        if (n - 1 >= ESPI_ID_MAX || memchr(p + 1, '\0', n - 1)) return -1;
        memcpy(out, p + 1, n - 1);
        out[n - 1] = '\0';
        return 0;
    }
    if ((p[0] != ID_UUID_LOWER && p[0] != ID_UUID_UPPER) || n != 17) return -1;
    const char *hex = p[0] == ID_UUID_UPPER ? upper : lower;
    char *o = out + snprintf(out, ESPI_ID_MAX, UUID_PREFIX);
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10) *o++ = '-';
        *o++ = hex[p[1 + i] >> 4];
        *o++ = hex[p[1 + i] & 15];
    }
    *o = '\0';
    return 0;
}
