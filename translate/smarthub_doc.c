/* smarthub_doc.c -- yajl events -> the tables of smarthub_doc.h.
 *
 * A small stack of frames follows the nesting we care about (root, data,
 * ELECTRIC list, entry, series list, series, points, point, meters,
 * xToOrderedInterval, quality lists); anything else -- baseSeries,
 * meterToChartData, baseUsageParameters, unknown keys -- is skipped by
 * counting brackets, without a frame and without storing anything.  Each
 * frame remembers the key it is under and the index of the table row it
 * fills.  Per point there is no allocation (tables grow by doubling) and no
 * number conversion beyond x; y stays a reference to its text. */
#include "smarthub_doc.h"

#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_parse.h>

#include "decimal.h"

#define SH_DOC_MAX_X_MS INT64_C(7258118400000) /* 2200-01-01: a later x is not a date */
#define SH_DOC_DEPTH 16                        /* deeper than our deepest path (10) */
#define SH_DOC_INT_MAX INT64_C(9000000000000000) /* jansson-era bound on integral reals */

enum frame_kind {
    F_ROOT, F_BOX, F_ELIST, F_ENTRY, F_SLIST, F_SERIES, F_POINTS, F_POINT, F_MLIST, F_METER,
    F_XTO, F_XTOV, F_IV, F_QOBJ, F_QARR, F_QEL, F_QLIST, F_QPT
};

enum key_id {
    K_OTHER, K_STATUS, K_DATA, K_ELECTRIC, K_TYPE, K_TIMEFRAME, K_SERIES, K_METERS, K_XTO,
    K_ESTIMATED, K_EDITED, K_NAME, K_METERNUMBER, K_CHANNEL, K_RATENAME, K_RATE, K_SERIESID,
    K_UNIT, K_FLOW, K_X, K_Y, K_INTERVAL, K_START, K_END, K_ORDEREDNAME
};

#define KEY(s, id) {s, sizeof s - 1, id}
static const struct {
    const char *s;
    size_t len;
    int id;
} doc_keys[] = {
    KEY("x", K_X), KEY("y", K_Y), KEY("end", K_END), KEY("start", K_START), KEY("interval", K_INTERVAL),
    KEY("status", K_STATUS), KEY("data", K_DATA), KEY("ELECTRIC", K_ELECTRIC), KEY("type", K_TYPE),
    KEY("timeFrame", K_TIMEFRAME), KEY("series", K_SERIES), KEY("meters", K_METERS),
    KEY("xToOrderedInterval", K_XTO), KEY("estimatedSeries", K_ESTIMATED),
    KEY("editedSeries", K_EDITED), KEY("name", K_NAME), KEY("meterNumber", K_METERNUMBER),
    KEY("channel", K_CHANNEL), KEY("rateName", K_RATENAME), KEY("rate", K_RATE),
    KEY("seriesId", K_SERIESID), KEY("unitOfMeasure", K_UNIT), KEY("flowDirection", K_FLOW),
    KEY("orderedName", K_ORDEREDNAME),
};

typedef struct frame {
    int kind;        /* frame_kind */
    int key;         /* key_id of the member being read (objects) */
    size_t idx;      /* the table row this frame fills (or its owner's) */
    int q;           /* quality frames: SH_Q_EDITED / SH_Q_ESTIMATED */
    uint32_t kname;  /* F_ROOT/F_BOX/F_QOBJ: the key's text in the pool */
    int64_t kx;      /* F_XTO: the key as a number; -1 when not one */
} frame;

typedef struct parser {
    sh_doc *d;
    const char *name;
    eg_err *err;
    size_t max_points;
    frame st[SH_DOC_DEPTH];
    int depth;       /* frames in st */
    long skip;       /* > 0: inside a value we do not read */
    int failed;      /* err is filled */
    int lists;       /* ELECTRIC arrays seen */
    /* the last epoch-ms text read by cached_digits(): an interval's start is
     * usually its own key, and its end the next key and start */
    size_t c_len;
    uint64_t c_a, c_b; /* its first and last 8 bytes */
    int64_t c_v;
} parser;

/* ---- tables and strings ---------------------------------------------------------------- */

static int fail(parser *p, int code, const char *msg)
{
    if (!p->failed) eg_errf(p->err, code, p->name, 0, 0, "%s", msg);
    p->failed = 1;
    return 0; /* yajl: cancel */
}

/* Make room for one more row of a table (elem bytes each); 0 on failure. */
static int grow(parser *p, void **rows, size_t n, size_t *cap, size_t elem, const char *what)
{
    if (n < *cap) return 1;
    if (n >= p->max_points) {
        if (!p->failed)
            eg_errf(p->err, EG_ELIMIT, p->name, 0, 0, "more than %zu %s in one answer (request "
                    "fewer days per poll)", p->max_points, what);
        p->failed = 1;
        return 0;
    }
    size_t nc = *cap ? *cap * 2 : 64;
    void *r = realloc(*rows, nc * elem);
    if (!r) return fail(p, EG_ENOMEM, "out of memory");
    *rows = r;
    *cap = nc;
    return 1;
}

#define PUSH(p, tab, n, cap, what) \
    (grow((p), (void **)&(tab), (n), &(cap), sizeof *(tab), (what)) ? &(tab)[(n)++] : NULL)

static int utf8_ok(const unsigned char *s, size_t len)
{
    size_t i = 0;
    while (i < len) {
        unsigned c = s[i];
        size_t n;
        unsigned min;
        if (c < 0x80) { i++; continue; }
        if (c >= 0xC2 && c <= 0xDF) n = 1, min = 0x80;
        else if (c >= 0xE0 && c <= 0xEF) n = 2, min = 0x800;
        else if (c >= 0xF0 && c <= 0xF4) n = 3, min = 0x10000;
        else return 0;
        if (len - i <= n) return 0;
        unsigned cp = c & (0x3F >> n);
        for (size_t k = 1; k <= n; k++) {
            if ((s[i + k] & 0xC0) != 0x80) return 0;
            cp = cp << 6 | (s[i + k] & 0x3F);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
        i += n + 1;
    }
    return 1;
}

/* Copy s[0..len) into the pool, NUL-terminated; SH_NO_STR (and failed set)
 * on an error.  Strings we keep must be UTF-8 (yajl does not check). */
static uint32_t pool_add(parser *p, const unsigned char *s, size_t len)
{
    sh_doc *d = p->d;
    if (!utf8_ok(s, len)) {
        fail(p, EG_EDATA, "not valid JSON: a string is not valid UTF-8 (expected a complete "
                          "SmartHub poll answer)");
        return SH_NO_STR;
    }
    if (d->pool_cap - d->pool_len < len + 1) {
        size_t nc = d->pool_cap ? d->pool_cap : 4096;
        while (nc - d->pool_len < len + 1) nc *= 2;
        char *np = nc < UINT32_MAX ? realloc(d->pool, nc) : NULL;
        if (!np) {
            fail(p, EG_ENOMEM, "out of memory");
            return SH_NO_STR;
        }
        d->pool = np;
        d->pool_cap = nc;
    }
    uint32_t off = (uint32_t)d->pool_len;
    memcpy(d->pool + off, s, len);
    d->pool[off + len] = 0;
    d->pool_len += len + 1;
    return off;
}

/* Eight ASCII digits at s (little-endian load) -> their value, or -1 when
 * one of them is not a digit.  SWAR: three multiply-shift steps instead of a
 * chain of eight dependent multiply-adds (epoch ms have 13 digits, and every
 * point carries several). */
static int64_t digits8(const char *s)
{
#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
    int64_t r = 0; /* the SWAR steps below assume s[0] lands in the low byte */
    for (int k = 0; k < 8; k++) {
        if (s[k] < '0' || s[k] > '9') return -1;
        r = r * 10 + (s[k] - '0');
    }
    return r;
#else
    uint64_t v;
    memcpy(&v, s, 8);
    if (((v & UINT64_C(0xF0F0F0F0F0F0F0F0)) |
         (((v + UINT64_C(0x0606060606060606)) & UINT64_C(0xF0F0F0F0F0F0F0F0)) >> 4)) !=
        UINT64_C(0x3333333333333333))
        return -1;
    v -= UINT64_C(0x3030303030303030);
    v = (v * 10 + (v >> 8)) & UINT64_C(0x00FF00FF00FF00FF);
    v = (v * 100 + (v >> 16)) & UINT64_C(0x0000FFFF0000FFFF);
    v = (v * 10000 + (v >> 32)) & UINT64_C(0x00000000FFFFFFFF);
    return (int64_t)v;
#endif
}

/* Decimal digits s[0..len), 1 <= len <= 16, as a number; -1 when one is not
 * a digit.  Reads only s[0..len). */
static int64_t digits(const char *s, size_t len)
{
    static const int64_t pow10[] = {1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000};
    if (len < 8) {
        int64_t v = 0;
        for (size_t k = 0; k < len; k++) {
            if (s[k] < '0' || s[k] > '9') return -1;
            v = v * 10 + (s[k] - '0');
        }
        return v;
    }
    int64_t hi = digits8(s);
    if (hi < 0) return -1;
    if (len == 8) return hi;
    /* the last len-8 digits: the 8 bytes ending at s+len with the ones
     * already read replaced by '0' */
    char t[8];
    size_t dup = 16 - len; /* 0..7 bytes of the window that belong to hi */
    memcpy(t, s + len - 8, 8);
    memset(t, '0', dup);
    int64_t lo = digits8(t);
    return lo < 0 ? -1 : hi * pow10[len - 8] + lo;
}

sh_num sh_doc_int(const char *s, size_t len)
{
    sh_num r = {0, 0};
    size_t i = len && s[0] == '-';
    if (len > i && len - i <= 16) { /* the usual case: an epoch ms or a channel number */
        int64_t v = digits(s + i, len - i);
        if (v >= 0) {
            r.v = i ? -v : v;
            r.ok = 1;
            return r;
        }
    } else if (len > i && len - i <= 18) {
        int64_t v = 0;
        size_t k = i;
        for (; k < len && s[k] >= '0' && s[k] <= '9'; k++) v = v * 10 + (s[k] - '0');
        if (k == len) {
            r.v = i ? -v : v;
            r.ok = 1;
            return r;
        }
    }
    int real = memchr(s, '.', len) || memchr(s, 'e', len) || memchr(s, 'E', len);
    if (tr_dec_parse(s, len, 0, TR_DEC_EXPONENT | TR_DEC_EXACT, &r.v, NULL) == TR_DEC_OK &&
        (!real || (r.v >= -SH_DOC_INT_MAX && r.v <= SH_DOC_INT_MAX)))
        r.ok = 1;
    return r;
}

/* s[0..len) when it is 8..16 digits without a leading zero (an epoch ms):
 * its value, from the one-entry cache or parsed and cached; else -1 (the
 * caller then reads it the general way). */
static int64_t cached_digits(parser *p, const char *s, size_t len)
{
    if (len < 8 || len > 16 || s[0] < '1' || s[0] > '9') return -1;
    uint64_t a, b;
    memcpy(&a, s, 8);
    memcpy(&b, s + len - 8, 8); /* with a, covers every byte */
    if (len == p->c_len && a == p->c_a && b == p->c_b) return p->c_v;
    int64_t v = digits(s, len);
    if (v >= 0) {
        p->c_len = len;
        p->c_a = a;
        p->c_b = b;
        p->c_v = v;
    }
    return v;
}

/* x of a point: epoch ms in 0..2200, else -1. */
static int64_t point_x(const char *s, size_t len)
{
    sh_num n = sh_doc_int(s, len);
    return n.ok && n.v >= 0 && n.v <= SH_DOC_MAX_X_MS ? n.v : -1;
}

/* An xToOrderedInterval key: canonical decimal text of an int64 (what
 * snprintf("%lld") of a point's x gives), else -1 (never matches). */
static int64_t key_x(const unsigned char *s, size_t len)
{
    if (len == 0 || len > 18 || (s[0] == '0' && len > 1)) return -1;
    if (len <= 16) return digits((const char *)s, len);
    int64_t v = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9') return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

static int key_id(const unsigned char *s, size_t len)
{
    if (len == 1) return s[0] == 'x' ? K_X : s[0] == 'y' ? K_Y : K_OTHER;
    for (size_t i = 0; i < sizeof doc_keys / sizeof doc_keys[0]; i++)
        if (doc_keys[i].len == len && doc_keys[i].s[0] == (char)s[0] &&
            memcmp(doc_keys[i].s, s, len) == 0)
            return doc_keys[i].id;
    return K_OTHER;
}

/* ---- events -------------------------------------------------------------------------------- */

static frame *top(parser *p)
{
    return &p->st[p->depth - 1];
}

static int push_frame(parser *p, int kind, size_t idx)
{
    if (p->depth >= SH_DOC_DEPTH) { /* cannot happen with our paths; skip rather than fail */
        p->skip = 1;
        return 1;
    }
    frame *f = &p->st[p->depth++];
    f->kind = kind;
    f->key = K_OTHER;
    f->idx = idx;
    f->q = 0;
    f->kname = SH_NO_STR;
    f->kx = -1;
    return 1;
}

/* A string member we keep: the pooled text, or SH_NO_STR for other kinds. */
static uint32_t keep_str(parser *p, int kind, const char *s, size_t len)
{
    return kind == SH_STRING ? pool_add(p, (const unsigned char *)s, len) : SH_NO_STR;
}

static sh_num keep_num(int kind, const char *s, size_t len)
{
    sh_num n = {0, 0};
    return kind == SH_NUMBER ? sh_doc_int(s, len) : n;
}

static void industry(parser *p, sh_dbox *b, uint32_t key)
{
    if (b->n_industries < SH_MAX_INDUSTRIES && key != SH_NO_STR) b->industries[b->n_industries++] = key;
}

static int new_list(parser *p, sh_dbox *b)
{
    b->list = p->lists++;
    return push_frame(p, F_ELIST, (size_t)b->list);
}

/* One value of `kind` (scalar text in s[0..len); for SH_OBJECT/SH_ARRAY the
 * value starts here) under the current frame.  Returns 1 to go on, 0 to cancel. */
static int value(parser *p, int kind, const char *s, size_t len)
{
    sh_doc *d = p->d;
    int container = kind == SH_OBJECT || kind == SH_ARRAY;
    if (p->depth == 0) {
        d->root_kind = kind;
        if (kind == SH_OBJECT) return push_frame(p, F_ROOT, 0);
        if (container) p->skip = 1;
        return 1;
    }
    frame *f = top(p);
    size_t i = f->idx;
    switch (f->kind) {
    case F_ROOT:
        if (f->key == K_STATUS) {
            d->status_kind = kind;
            d->status = keep_str(p, kind, s, len);
        }
        if (kind == SH_ARRAY && f->key != K_ELECTRIC) industry(p, &d->box[0], f->kname);
        if (f->key == K_DATA) {
            d->data_kind = kind;
            if (kind == SH_OBJECT) return push_frame(p, F_BOX, 1);
        }
        if (f->key == K_ELECTRIC) {
            d->box[0].electric_kind = kind;
            if (kind == SH_ARRAY) return new_list(p, &d->box[0]);
        }
        break;
    case F_BOX:
        if (f->key == K_ELECTRIC) {
            d->box[1].electric_kind = kind;
            if (kind == SH_ARRAY) return new_list(p, &d->box[1]);
        } else if (kind == SH_ARRAY) {
            industry(p, &d->box[1], f->kname);
        }
        break;
    case F_ELIST: {
        sh_dentry *e = PUSH(p, d->ent, d->n_ent, d->cap_ent, "ELECTRIC entries");
        if (!e) return 0;
        memset(e, 0, sizeof *e);
        e->list = (int)i;
        e->is_object = kind == SH_OBJECT;
        e->type = e->time_frame = SH_NO_STR;
        if (kind == SH_OBJECT) return push_frame(p, F_ENTRY, d->n_ent - 1);
        break;
    }
    case F_ENTRY: {
        sh_dentry *e = &d->ent[i];
        switch (f->key) {
        case K_TYPE: e->type = keep_str(p, kind, s, len); break;
        case K_TIMEFRAME: e->time_frame = keep_str(p, kind, s, len); break;
        case K_SERIES:
            e->series_kind = kind;
            e->s0 = e->s1 = d->n_ser;
            if (kind == SH_ARRAY) return push_frame(p, F_SLIST, i);
            break;
        case K_METERS:
            e->m0 = e->m1 = d->n_met;
            if (kind == SH_ARRAY) return push_frame(p, F_MLIST, i);
            break;
        case K_XTO:
            e->x0 = e->x1 = d->n_xto;
            if (kind == SH_OBJECT) return push_frame(p, F_XTO, i);
            break;
        case K_EDITED:
        case K_ESTIMATED: {
            int q = f->key == K_EDITED ? SH_Q_EDITED : SH_Q_ESTIMATED;
            e->q_kind[q] = kind;
            e->g0[q] = e->g1[q] = d->n_qg;
            if (container && push_frame(p, kind == SH_OBJECT ? F_QOBJ : F_QARR, i)) top(p)->q = q;
            return !p->failed;
        }
        default: break;
        }
        break;
    }
    case F_SLIST: {
        sh_dseries *sr = PUSH(p, d->ser, d->n_ser, d->cap_ser, "series");
        if (!sr) return 0;
        memset(sr, 0, sizeof *sr);
        sr->is_object = kind == SH_OBJECT;
        sr->name = sr->meter_number = sr->rate_name = SH_NO_STR;
        if (kind == SH_OBJECT) return push_frame(p, F_SERIES, d->n_ser - 1);
        break;
    }
    case F_SERIES: {
        sh_dseries *sr = &d->ser[i];
        switch (f->key) {
        case K_NAME: sr->name = keep_str(p, kind, s, len); break;
        case K_METERNUMBER: sr->meter_number = keep_str(p, kind, s, len); break;
        case K_RATENAME: sr->rate_name = keep_str(p, kind, s, len); break;
        case K_CHANNEL: sr->channel = keep_num(kind, s, len); break;
        case K_DATA:
            sr->data_kind = kind;
            sr->p0 = sr->p1 = d->n_pts;
            if (kind == SH_ARRAY) return push_frame(p, F_POINTS, i);
            break;
        default: break;
        }
        break;
    }
    case F_POINTS: {
        sh_dpoint *pt = PUSH(p, d->pts, d->n_pts, d->cap_pts, "points");
        if (!pt) return 0;
        *pt = (sh_dpoint){.x_ms = -1};
        if (kind == SH_OBJECT) return push_frame(p, F_POINT, d->n_pts - 1);
        break;
    }
    case F_POINT: {
        sh_dpoint *pt = &d->pts[i];
        if (f->key == K_X) {
            pt->x_ms = kind == SH_NUMBER ? point_x(s, len) : -1;
        } else if (f->key == K_Y) {
            pt->y_kind = (uint8_t)kind;
            pt->y_pooled = 0;
            pt->y_off = pt->y_len = 0;
            if (kind == SH_NUMBER || kind == SH_STRING) {
                if (s >= d->buf && s + len <= d->buf + d->len) {
                    pt->y_off = (uint32_t)(s - d->buf);
                } else { /* a string with escapes: yajl's decoded copy */
                    uint32_t off = pool_add(p, (const unsigned char *)s, len);
                    if (off == SH_NO_STR) return 0;
                    pt->y_off = off;
                    pt->y_pooled = 1;
                }
                pt->y_len = (uint32_t)len;
            }
        }
        break;
    }
    case F_MLIST: {
        sh_dmeter *m = PUSH(p, d->met, d->n_met, d->cap_met, "meters");
        if (!m) return 0;
        memset(m, 0, sizeof *m);
        m->series_id = m->meter_number = m->unit = m->flow = m->rate_name = m->rate = SH_NO_STR;
        if (kind == SH_OBJECT) return push_frame(p, F_METER, d->n_met - 1);
        break;
    }
    case F_METER: {
        sh_dmeter *m = &d->met[i];
        switch (f->key) {
        case K_SERIESID: m->series_id = keep_str(p, kind, s, len); break;
        case K_METERNUMBER: m->meter_number = keep_str(p, kind, s, len); break;
        case K_UNIT: m->unit = keep_str(p, kind, s, len); break;
        case K_FLOW: m->flow = keep_str(p, kind, s, len); break;
        case K_RATENAME: m->rate_name = keep_str(p, kind, s, len); break;
        case K_RATE: m->rate = keep_str(p, kind, s, len); break;
        case K_CHANNEL: m->channel = keep_num(kind, s, len); break;
        default: break;
        }
        break;
    }
    case F_XTO: {
        if (f->kx < 0) break; /* a key no point's x can match */
        sh_dxto *xt = PUSH(p, d->xto, d->n_xto, d->cap_xto, "xToOrderedInterval items");
        if (!xt) return 0;
        xt->x_ms = f->kx;
        xt->ord = d->n_xto - 1;
        xt->start = xt->end = -1;
        xt->ordered_name = SH_NO_STR;
        if (kind == SH_OBJECT) return push_frame(p, F_XTOV, d->n_xto - 1);
        break;
    }
    case F_XTOV: {
        sh_dxto *xt = &d->xto[i];
        if (f->key == K_INTERVAL) {
            xt->start = xt->end = -1;
            if (kind == SH_OBJECT) return push_frame(p, F_IV, i);
        } else if (f->key == K_ORDEREDNAME) {
            xt->ordered_name = keep_str(p, kind, s, len);
        }
        break;
    }
    case F_IV: {
        sh_num n = keep_num(kind, s, len);
        if (f->key == K_START) d->xto[i].start = n.ok ? n.v : -1;
        if (f->key == K_END) d->xto[i].end = n.ok ? n.v : -1;
        break;
    }
    case F_QOBJ: /* "<series name>": [points or x] */
        if (kind == SH_ARRAY) {
            sh_dgroup *g = PUSH(p, d->qg, d->n_qg, d->cap_qg, "quality lists");
            if (!g) return 0;
            g->name = f->kname;
            g->i0 = g->i1 = d->n_qx;
            int q = f->q;
            push_frame(p, F_QLIST, d->n_qg - 1);
            top(p)->q = q;
            return 1;
        }
        break;
    case F_QARR: /* [{"name": ..., "data": [points]}] */
        if (kind == SH_OBJECT) {
            sh_dgroup *g = PUSH(p, d->qg, d->n_qg, d->cap_qg, "quality lists");
            if (!g) return 0;
            g->name = SH_NO_STR;
            g->i0 = g->i1 = d->n_qx;
            return push_frame(p, F_QEL, d->n_qg - 1);
        }
        break;
    case F_QEL: {
        sh_dgroup *g = &d->qg[i];
        if (f->key == K_NAME) g->name = keep_str(p, kind, s, len);
        if (f->key == K_DATA) {
            g->i0 = g->i1 = d->n_qx;
            if (kind == SH_ARRAY) return push_frame(p, F_QLIST, i);
        }
        break;
    }
    case F_QLIST: {
        int integer = kind == SH_NUMBER && !memchr(s, '.', len) && !memchr(s, 'e', len) &&
                      !memchr(s, 'E', len);
        if (kind != SH_OBJECT && !integer) break;
        int64_t *q = PUSH(p, d->qx, d->n_qx, d->cap_qx, "quality points");
        if (!q) return 0;
        sh_num n = integer ? sh_doc_int(s, len) : (sh_num){0, 0};
        *q = n.ok ? n.v : -1;
        if (kind == SH_OBJECT) return push_frame(p, F_QPT, d->n_qx - 1);
        break;
    }
    case F_QPT:
        if (f->key == K_X) d->qx[i] = kind == SH_NUMBER ? point_x(s, len) : -1;
        break;
    default: break;
    }
    if (p->failed) return 0;
    if (container) p->skip = 1;
    return 1;
}

/* The end of the frame on top: close the ranges it filled. */
static void close_frame(parser *p)
{
    sh_doc *d = p->d;
    frame *f = top(p);
    switch (f->kind) {
    case F_SLIST: d->ent[f->idx].s1 = d->n_ser; break;
    case F_MLIST: d->ent[f->idx].m1 = d->n_met; break;
    case F_XTO: d->ent[f->idx].x1 = d->n_xto; break;
    case F_POINTS: d->ser[f->idx].p1 = d->n_pts; break;
    case F_QOBJ:
    case F_QARR: d->ent[f->idx].g1[f->q] = d->n_qg; break;
    case F_QLIST: d->qg[f->idx].i1 = d->n_qx; break;
    default: break;
    }
    p->depth--;
}

static int on_null(void *ctx)
{
    parser *p = ctx;
    return p->skip ? 1 : value(p, SH_NULL, "", 0);
}

static int on_bool(void *ctx, int b)
{
    parser *p = ctx;
    (void)b;
    if (p->skip) return 1;
    if (p->depth > 0) { /* enableDrilldown, createTickDrillDownLink: nothing to keep */
        const frame *f = top(p);
        if ((f->kind == F_POINT || f->kind == F_XTOV) && f->key == K_OTHER) return 1;
    }
    return value(p, SH_BOOL, "", 0);
}

/* The hot members -- a point's x, an interval's start and end, the
 * booleans beside them -- are handled here without value()'s general path
 * (same effect: value() does exactly this for them). */
static int on_number(void *ctx, const char *s, size_t len)
{
    parser *p = ctx;
    if (p->skip) return 1;
    if (p->depth > 0) {
        const frame *f = top(p);
        if (f->kind == F_POINT && f->key != K_Y) {
            if (f->key == K_X) p->d->pts[f->idx].x_ms = point_x(s, len);
            return 1;
        }
        if (f->kind == F_IV) {
            if (f->key == K_START || f->key == K_END) {
                int64_t v = cached_digits(p, s, len);
                if (v < 0) {
                    sh_num n = sh_doc_int(s, len);
                    v = n.ok ? n.v : -1;
                }
                sh_dxto *xt = &p->d->xto[f->idx];
                *(f->key == K_START ? &xt->start : &xt->end) = v;
            }
            return 1;
        }
    }
    return value(p, SH_NUMBER, s, len);
}

static int on_string(void *ctx, const unsigned char *s, size_t len)
{
    parser *p = ctx;
    return p->skip ? 1 : value(p, SH_STRING, (const char *)s, len);
}

static int on_start(parser *p, int kind)
{
    if (p->skip) return ++p->skip, 1;
    return value(p, kind, "", 0);
}

static int on_start_map(void *ctx)
{
    parser *p = ctx;
    if (!p->skip && p->depth > 0 && p->depth < SH_DOC_DEPTH) { /* the hot objects, as value() */
        sh_doc *d = p->d;
        frame *f = top(p);
        if (f->kind == F_POINTS) { /* {"x":..,"y":..} */
            sh_dpoint *pt = PUSH(p, d->pts, d->n_pts, d->cap_pts, "points");
            if (!pt) return 0;
            *pt = (sh_dpoint){.x_ms = -1};
            return push_frame(p, F_POINT, d->n_pts - 1);
        }
        if (f->kind == F_XTO && f->kx >= 0) { /* "<x>": {"interval": ..} */
            sh_dxto *xt = PUSH(p, d->xto, d->n_xto, d->cap_xto, "xToOrderedInterval items");
            if (!xt) return 0;
            xt->x_ms = f->kx;
            xt->ord = d->n_xto - 1;
            xt->start = xt->end = -1;
            xt->ordered_name = SH_NO_STR;
            return push_frame(p, F_XTOV, d->n_xto - 1);
        }
        if (f->kind == F_XTOV && f->key == K_INTERVAL) { /* {"start":..,"end":..} */
            d->xto[f->idx].start = d->xto[f->idx].end = -1;
            return push_frame(p, F_IV, f->idx);
        }
    }
    return on_start(ctx, SH_OBJECT);
}

static int on_start_array(void *ctx)
{
    return on_start(ctx, SH_ARRAY);
}

static int on_end(void *ctx)
{
    parser *p = ctx;
    if (p->skip) return --p->skip, 1;
    if (p->depth > 0) close_frame(p);
    return 1;
}

static int on_key_other(parser *p, frame *f, const unsigned char *s, size_t len);

static int on_key(void *ctx, const unsigned char *s, size_t len)
{
    parser *p = ctx;
    if (p->skip) return 1;
    frame *f = top(p);
    /* the hot paths first, nothing to fail there */
    if (f->kind == F_POINT) {
        f->key = len == 1 && s[0] == 'x' ? K_X : len == 1 && s[0] == 'y' ? K_Y : K_OTHER;
        return 1;
    }
    if (f->kind == F_XTO) {
        int64_t v = cached_digits(p, (const char *)s, len);
        f->kx = v >= 0 ? v : key_x(s, len);
        return 1;
    }
    return on_key_other(p, f, s, len);
}

static int on_key_other(parser *p, frame *f, const unsigned char *s, size_t len)
{
    switch (f->kind) {
    case F_XTO: f->kx = key_x(s, len); break;
    case F_QOBJ: f->kname = pool_add(p, s, len); break;
    case F_ROOT:
    case F_BOX:
        f->key = key_id(s, len);
        f->kname = f->key == K_ELECTRIC ? SH_NO_STR : pool_add(p, s, len);
        break;
    case F_POINT:
    case F_QPT: /* the hot paths: only x and y matter there */
        f->key = len == 1 && s[0] == 'x' ? K_X : len == 1 && s[0] == 'y' ? K_Y : K_OTHER;
        break;
    case F_XTOV:
        f->key = len == 8 && memcmp(s, "interval", 8) == 0 ? K_INTERVAL
                 : len == 11 && memcmp(s, "orderedName", 11) == 0 ? K_ORDEREDNAME : K_OTHER;
        break;
    case F_IV:
        f->key = len == 5 && memcmp(s, "start", 5) == 0 ? K_START
                 : len == 3 && memcmp(s, "end", 3) == 0 ? K_END : K_OTHER;
        break;
    default: f->key = key_id(s, len); break;
    }
    return !p->failed;
}

/* ---- entry point ------------------------------------------------------------------------------ */

static int cmp_xto(const void *a, const void *b)
{
    const sh_dxto *p = a, *q = b;
    if (p->x_ms != q->x_ms) return p->x_ms < q->x_ms ? -1 : 1;
    return p->ord < q->ord ? -1 : p->ord > q->ord;
}

/* Sort each entry's xToOrderedInterval by x, repeated keys in source order
 * (so a lookup finds the last, as jansson kept it).  Usually sorted already. */
static void sort_xto(sh_doc *d)
{
    for (size_t e = 0; e < d->n_ent; e++) {
        sh_dxto *a = d->xto + d->ent[e].x0;
        size_t n = d->ent[e].x1 - d->ent[e].x0, i = 1;
        while (i < n && a[i].x_ms >= a[i - 1].x_ms) i++;
        if (i < n) qsort(a, n, sizeof *a, cmp_xto);
    }
}

const sh_dxto *sh_doc_xto(const sh_doc *d, const sh_dentry *e, int64_t x_ms)
{
    size_t lo = e->x0, hi = e->x1;
    if (hi - lo >= 2) { /* evenly spaced keys (the usual case): guess the slot, check it */
        int64_t a = d->xto[lo].x_ms, b = d->xto[hi - 1].x_ms;
        if (x_ms >= a && x_ms <= b && b > a) {
            size_t g = lo + (size_t)((double)(x_ms - a) * (double)(hi - 1 - lo) / (double)(b - a) + 0.5);
            if (g < hi && d->xto[g].x_ms == x_ms && (g + 1 == hi || d->xto[g + 1].x_ms != x_ms))
                return &d->xto[g];
        }
    }
    while (lo < hi) { /* first item with x > x_ms */
        size_t mid = lo + (hi - lo) / 2;
        if (d->xto[mid].x_ms <= x_ms) lo = mid + 1;
        else hi = mid;
    }
    return lo > e->x0 && d->xto[lo - 1].x_ms == x_ms ? &d->xto[lo - 1] : NULL;
}

/* Line and column (1-based) of byte offset off. */
static void position(const char *buf, size_t len, size_t off, long *line, long *col)
{
    size_t start = 0;
    *line = 1;
    if (off > len) off = len;
    for (const char *q = buf; (q = memchr(q, '\n', (size_t)(buf + off - q))); q++) {
        (*line)++;
        start = (size_t)(q - buf) + 1;
    }
    *col = (long)(off - start) + 1;
}

int sh_doc_parse(sh_doc *doc, const char *buf, size_t len, size_t max_points, const char *name,
                 eg_err *err)
{
    static const yajl_callbacks cb = {on_null, on_bool, NULL, NULL, on_number, on_string,
                                      on_start_map, on_key, on_end, on_start_array, on_end};
    parser p;
    memset(&p, 0, sizeof p);
    p.d = doc;
    p.name = name;
    p.err = err;
    p.max_points = max_points;
    doc->buf = buf;
    doc->len = len;
    doc->status = SH_NO_STR;
    doc->box[0].list = doc->box[1].list = -1;
    yajl_handle h = yajl_alloc(&cb, NULL, &p);
    if (!h) return eg_errf(err, EG_ENOMEM, name, 0, 0, "out of memory");
    yajl_config(h, yajl_dont_validate_strings, 1);
    yajl_status st = yajl_parse(h, (const unsigned char *)buf, len);
    int at_end = 0; /* yajl_complete_parse's errors are at the end of the text */
    if (st == yajl_status_ok) st = yajl_complete_parse(h), at_end = 1;
    int rc = 0;
    if (st != yajl_status_ok) {
        long line, col;
        position(buf, len, at_end ? len : yajl_get_bytes_consumed(h), &line, &col);
        if (p.failed) { /* our own error (limit, memory, UTF-8): add the position */
            if (err->code == EG_EDATA) err->line = line, err->col = col;
            rc = err->code;
        } else {
            unsigned char *m = yajl_get_error(h, 0, (const unsigned char *)buf, len);
            size_t ml = m ? strcspn((const char *)m, "\n") : 0;
            while (ml > 0 && (m[ml - 1] == ' ' || m[ml - 1] == '.')) ml--;
            rc = eg_errf(err, EG_EDATA, name, line, col,
                         "not valid JSON: %.*s (expected a complete SmartHub poll answer)",
                         (int)ml, m ? (const char *)m : "syntax error");
            if (m) yajl_free_error(h, m);
        }
    }
    yajl_free(h);
    if (rc == 0) sort_xto(doc);
    return rc;
}

void sh_doc_free(sh_doc *doc)
{
    free(doc->pool);
    free(doc->ent);
    free(doc->ser);
    free(doc->pts);
    free(doc->met);
    free(doc->xto);
    free(doc->qg);
    free(doc->qx);
    memset(doc, 0, sizeof *doc);
}
