/* tz.c -- TZif reader and local time <-> UTC conversion (see tz.h).
 *
 * A zone is three things:
 *  - the transition table: sorted UTC instants and, for each, the index of
 *    the local time type in force from then on;
 *  - the time types: UTC offset and DST flag;
 *  - the POSIX TZ footer of v2+ files, the rule for every instant after the
 *    last transition (fat files list transitions to 2037, slim files stop at
 *    the last rule change, e.g. 2007 for the US, so the footer matters).
 * The offset in force at an instant is a binary search in the table, or the
 * footer rule past its end.  Local -> UTC is solved the other way round: for
 * every offset the zone ever uses, t = local - offset is a solution when the
 * offset in force at t is that offset.  No solution means a gap, two mean an
 * ambiguous (repeated) time; that needs no special cases per zone.
 *
 * Everything read from the file is bounds-checked: counts against the file
 * size, type indexes against the type count, offsets against +-26 hours,
 * transitions for order.  Leap-second ("right/") zones are refused. */
#include "tz.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TZ_MAX_TYPES 256
#define TZ_MAX_OFFSET (26 * 3600)
#define TZ_HEADER 44

typedef struct tz_type {
    int32_t utoff;
    int isdst;
} tz_type;

/* One POSIX date rule: Jn (1..365, no Feb 29), n (0..365) or Mm.w.d. */
typedef enum { RULE_JULIAN1, RULE_JULIAN0, RULE_MWD } tz_rule_kind;

typedef struct tz_rule {
    tz_rule_kind kind;
    int day;          /* Jn / n */
    int mon, week, wday; /* Mm.w.d; wday 0 = Sunday */
    int32_t time;     /* seconds after local midnight; may be < 0 or > 24 h (v3) */
} tz_rule;

typedef struct tz_posix {
    int32_t std_off, dst_off; /* seconds east of UTC */
    int has_dst;
    tz_rule start, end;
} tz_posix;

struct tr_tz {
    char name[TR_TZ_NAME_MAX];
    int64_t *trans;
    unsigned char *trans_type;
    size_t n_trans;
    tz_type types[TZ_MAX_TYPES];
    int n_types;
    int has_footer;
    tz_posix posix;
};

/* ---- civil calendar (H. Hinnant's algorithms) -------------------------- */

int64_t tr_days_from_civil(int y, int mo, int d)
{
    int64_t yy = (int64_t)y - (mo <= 2);
    int64_t era = (yy >= 0 ? yy : yy - 399) / 400;
    int64_t yoe = yy - era * 400;
    int64_t doy = (153 * (mo + (mo > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

void tr_civil_from_days(int64_t z, int *y, int *mo, int *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    int m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = (int)(yoe + era * 400 + (m <= 2));
    *mo = m;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
}

static int is_leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

int tr_days_in_month(int y, int mo)
{
    static const int dim[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (mo < 1 || mo > 12) return 0;
    return dim[mo - 1] + (mo == 2 && is_leap(y));
}

static int weekday_of_days(int64_t days) /* 0 = Sunday */
{
    return (int)((days % 7 + 11) % 7); /* 1970-01-01 was a Thursday */
}

static int64_t floor_div(int64_t a, int64_t b)
{
    return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

/* ---- POSIX TZ footer ---------------------------------------------------- */

static int parse_posix_name(const char **p)
{
    const char *s = *p;
    if (*s == '<') {
        s++;
        while (*s && *s != '>') s++;
        if (*s != '>' || s - *p < 4) return -1;
        *p = s + 1;
        return 0;
    }
    while ((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z')) s++;
    if (s - *p < 3) return -1;
    *p = s;
    return 0;
}

/* [+-]hh[:mm[:ss]] with hh <= max_h; result in seconds. */
static int parse_posix_time(const char **p, int max_h, int32_t *out)
{
    const char *s = *p;
    int sign = 1, part[3] = {0, 0, 0};
    if (*s == '+' || *s == '-') sign = *s++ == '-' ? -1 : 1;
    for (int i = 0; i < 3; i++) {
        if (i > 0) {
            if (*s != ':') break;
            s++;
        }
        if (*s < '0' || *s > '9') return -1;
        int v = 0, nd = 0;
        while (*s >= '0' && *s <= '9' && nd < 3) v = v * 10 + (*s++ - '0'), nd++;
        part[i] = v;
    }
    if (part[0] > max_h || part[1] > 59 || part[2] > 59) return -1;
    *out = sign * (part[0] * 3600 + part[1] * 60 + part[2]);
    *p = s;
    return 0;
}

static int parse_posix_int(const char **p, int lo, int hi, int *out)
{
    const char *s = *p;
    int v = 0, nd = 0;
    while (*s >= '0' && *s <= '9' && nd < 4) v = v * 10 + (*s++ - '0'), nd++;
    if (nd == 0 || v < lo || v > hi) return -1;
    *out = v;
    *p = s;
    return 0;
}

static int parse_posix_rule(const char **p, tz_rule *r)
{
    const char *s = *p;
    memset(r, 0, sizeof *r);
    if (*s == 'M') {
        s++;
        r->kind = RULE_MWD;
        if (parse_posix_int(&s, 1, 12, &r->mon) || *s++ != '.') return -1;
        if (parse_posix_int(&s, 1, 5, &r->week) || *s++ != '.') return -1;
        if (parse_posix_int(&s, 0, 6, &r->wday)) return -1;
    } else if (*s == 'J') {
        s++;
        r->kind = RULE_JULIAN1;
        if (parse_posix_int(&s, 1, 365, &r->day)) return -1;
    } else {
        r->kind = RULE_JULIAN0;
        if (parse_posix_int(&s, 0, 365, &r->day)) return -1;
    }
    r->time = 2 * 3600;
    if (*s == '/') {
        s++;
        if (parse_posix_time(&s, 167, &r->time)) return -1; /* RFC 8536 v3 */
    }
    *p = s;
    return 0;
}

/* "CST6CDT,M3.2.0,M11.1.0" -> tz_posix.  Offsets in the string are west of
 * UTC; we store east.  Returns 0 or -1. */
static int parse_posix(const char *s, tz_posix *tp)
{
    int32_t off;
    memset(tp, 0, sizeof *tp);
    if (parse_posix_name(&s) || parse_posix_time(&s, 24, &off)) return -1;
    tp->std_off = -off;
    tp->dst_off = tp->std_off;
    if (!*s) return 0;
    if (parse_posix_name(&s)) return -1;
    tp->has_dst = 1;
    tp->dst_off = tp->std_off + 3600;
    if (*s && *s != ',') {
        if (parse_posix_time(&s, 24, &off)) return -1;
        tp->dst_off = -off;
    }
    if (!*s) { /* no rules: POSIX leaves it open; use the US rules like glibc */
        const char *us = "M3.2.0,M11.1.0";
        parse_posix_rule(&us, &tp->start);
        us++;
        return parse_posix_rule(&us, &tp->end);
    }
    if (*s++ != ',' || parse_posix_rule(&s, &tp->start)) return -1;
    if (*s++ != ',' || parse_posix_rule(&s, &tp->end)) return -1;
    return *s ? -1 : 0;
}

/* Day number of a rule's date in year y. */
static int64_t rule_days(const tz_rule *r, int y)
{
    int64_t jan1 = tr_days_from_civil(y, 1, 1);
    if (r->kind == RULE_JULIAN1) return jan1 + r->day - 1 + (is_leap(y) && r->day >= 60);
    if (r->kind == RULE_JULIAN0) return jan1 + r->day;
    int64_t first = tr_days_from_civil(y, r->mon, 1);
    int dim = tr_days_in_month(y, r->mon);
    int day = 1 + (r->wday - weekday_of_days(first) + 7) % 7 + 7 * (r->week - 1);
    while (day > dim) day -= 7;
    return first + day - 1;
}

/* UTC instant of a rule in year y; the rule time is wall time at offset off. */
static int64_t rule_utc(const tz_rule *r, int y, int32_t off)
{
    return rule_days(r, y) * 86400 + r->time - off;
}

static tz_type posix_type_at(const tz_posix *tp, int64_t t)
{
    tz_type std = {tp->std_off, 0}, dst = {tp->dst_off, 1};
    if (!tp->has_dst) return std;
    int y, mo, d;
    tr_civil_from_days(floor_div(t + tp->std_off, 86400), &y, &mo, &d);
    int64_t s = rule_utc(&tp->start, y, tp->std_off);
    int64_t e = rule_utc(&tp->end, y, tp->dst_off);
    int in_dst = s < e ? (t >= s && t < e) : !(t >= e && t < s);
    return in_dst ? dst : std;
}

/* ---- offsets ------------------------------------------------------------ */

static tz_type type_at(const tr_tz *z, int64_t t)
{
    if (z->n_trans == 0)
        return z->has_footer ? posix_type_at(&z->posix, t) : z->types[0];
    if (t < z->trans[0]) return z->types[0]; /* RFC 8536 3.2 */
    if (t >= z->trans[z->n_trans - 1] && z->has_footer) return posix_type_at(&z->posix, t);
    size_t lo = 0, hi = z->n_trans; /* last i with trans[i] <= t */
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (z->trans[mid] <= t) lo = mid;
        else hi = mid;
    }
    return z->types[z->trans_type[lo]];
}

int32_t tr_tz_utc_offset(const tr_tz *z, int64_t utc)
{
    return type_at(z, utc).utoff;
}

const char *tr_tz_name(const tr_tz *z)
{
    return z->name;
}

void tr_tz_local(const tr_tz *z, int64_t utc, tr_tm *out)
{
    tz_type ty = type_at(z, utc);
    int64_t l = utc + ty.utoff, days = floor_div(l, 86400), secs = l - days * 86400;
    tr_civil_from_days(days, &out->year, &out->mon, &out->mday);
    out->hour = (int)(secs / 3600);
    out->min = (int)(secs / 60 % 60);
    out->sec = (int)(secs % 60);
    out->wday = weekday_of_days(days);
    out->utoff = ty.utoff;
    out->isdst = ty.isdst;
}

void tr_tz_local_date(const tr_tz *z, int64_t utc, int *y, int *mo, int *d)
{
    tr_tm tm;
    tr_tz_local(z, utc, &tm);
    *y = tm.year;
    *mo = tm.mon;
    *d = tm.mday;
}

/* Every distinct offset the zone uses, for the local -> UTC search. */
static int zone_offsets(const tr_tz *z, int32_t *offs)
{
    int n = 0;
    for (int i = 0; i < z->n_types + 2; i++) {
        int32_t o;
        if (i < z->n_types) o = z->types[i].utoff;
        else if (!z->has_footer) break;
        else o = i == z->n_types ? z->posix.std_off : z->posix.dst_off;
        int seen = 0;
        for (int j = 0; j < n && !seen; j++) seen = offs[j] == o;
        if (!seen) offs[n++] = o;
    }
    return n;
}

/* First instant in (lo, hi] whose offset differs from the offset at lo. */
static int64_t find_change(const tr_tz *z, int64_t lo, int64_t hi)
{
    int32_t a = tr_tz_utc_offset(z, lo);
    while (hi - lo > 1) {
        int64_t mid = lo + (hi - lo) / 2;
        if (tr_tz_utc_offset(z, mid) == a) lo = mid;
        else hi = mid;
    }
    return hi;
}

/* Solve local = t + offset(t).  Sets *first and *last to the solutions (count returned),
 * or for a gap the UTC instants just before (*lo) and after (*hi) it. */
static int solve_local(const tr_tz *z, int64_t local, int64_t *first, int64_t *last,
                       int64_t *lo, int64_t *hi)
{
    int32_t offs[TZ_MAX_TYPES + 2];
    int n = zone_offsets(z, offs), count = 0, have_lo = 0, have_hi = 0;
    for (int i = 0; i < n; i++) {
        int64_t t = local - offs[i], f = t + tr_tz_utc_offset(z, t);
        if (f == local) {
            if (count == 0 || t < *first) *first = t;
            if (count == 0 || t > *last) *last = t;
            count++;
        } else if (f < local) {
            if (!have_lo || t > *lo) *lo = t;
            have_lo = 1;
        } else {
            if (!have_hi || t < *hi) *hi = t;
            have_hi = 1;
        }
    }
    if (count == 0 && !(have_lo && have_hi)) return -1;
    return count;
}

static int fields_valid(int y, int mo, int d, int h, int mi, int s)
{
    return y > -100000 && y < 100000 && mo >= 1 && mo <= 12 && d >= 1 &&
           d <= tr_days_in_month(y, mo) && h >= 0 && h <= 23 && mi >= 0 && mi <= 59 &&
           s >= 0 && s <= 59;
}

int tr_tz_local_to_utc(const tr_tz *z, int y, int mo, int d, int h, int mi, int s,
                       int fold, int64_t *utc, int *flags)
{
    int64_t first = 0, last = 0, lo = 0, hi = 0;
    if (flags) *flags = 0;
    if (!fields_valid(y, mo, d, h, mi, s)) return EG_EUSAGE;
    int64_t local = tr_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s;
    int n = solve_local(z, local, &first, &last, &lo, &hi);
    if (n < 0) return EG_ESOFTWARE;
    if (n > 0) {
        if (n > 1 && flags) *flags = TR_TZ_AMBIGUOUS;
        *utc = fold && n > 1 ? last : first;
        return 0;
    }
    if (flags) *flags = TR_TZ_GAP;
    *utc = local - (fold ? tr_tz_utc_offset(z, hi) : tr_tz_utc_offset(z, lo));
    return 0;
}

/* ---- cache ------------------------------------------------------------------ */

#define TZ_FOREVER (INT64_MAX / 4)

/* The type in force at t and the UTC span [*from, *to) around t in which it
 * stays in force (+-TZ_FOREVER when unbounded). */
static tz_type span_at(const tr_tz *z, int64_t t, int64_t *from, int64_t *to)
{
    size_t n = z->n_trans;
    *from = -TZ_FOREVER;
    *to = TZ_FOREVER;
    if (n > 0 && t < z->trans[0]) {
        *to = z->trans[0];
        return z->types[0];
    }
    if (n == 0 || (t >= z->trans[n - 1] && z->has_footer)) {
        if (n > 0) *from = z->trans[n - 1];
        if (!z->has_footer) return z->types[0];
        const tz_posix *tp = &z->posix;
        if (tp->has_dst) { /* the rule's changes in the years around t */
            int y, mo, d;
            tr_civil_from_days(floor_div(t + tp->std_off, 86400), &y, &mo, &d);
            for (int k = y - 1; k <= y + 1; k++) {
                int64_t c[2] = {rule_utc(&tp->start, k, tp->std_off),
                                rule_utc(&tp->end, k, tp->dst_off)};
                for (int i = 0; i < 2; i++) {
                    if (c[i] <= t && c[i] > *from) *from = c[i];
                    if (c[i] > t && c[i] < *to) *to = c[i];
                }
            }
        }
        return posix_type_at(tp, t);
    }
    size_t lo = 0, hi = n; /* last i with trans[i] <= t */
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (z->trans[mid] <= t) lo = mid;
        else hi = mid;
    }
    *from = z->trans[lo];
    if (lo + 1 < n) *to = z->trans[lo + 1];
    return z->types[z->trans_type[lo]];
}

void tr_tz_cache_init(tr_tz_cache *c, const tr_tz *z)
{
    c->z = z;
    c->from = 1;
    c->to = 0;
    c->utoff = 0;
}

static void cache_fill(tr_tz_cache *c, int64_t t)
{
    int64_t from, to;
    tz_type ty = span_at(c->z, t, &from, &to);
    /* belt and braces: the ends of the span must agree with type_at */
    tz_type a = type_at(c->z, from > -TZ_FOREVER ? from : t);
    tz_type b = type_at(c->z, to < TZ_FOREVER ? to - 1 : t);
    if (a.utoff != ty.utoff || b.utoff != ty.utoff) from = t, to = t + 1;
    c->from = from;
    c->to = to;
    c->utoff = ty.utoff;
}

int32_t tr_tz_cache_offset(tr_tz_cache *c, int64_t utc)
{
    if (!(utc >= c->from && utc < c->to)) cache_fill(c, utc);
    return c->utoff;
}

void tr_tz_cache_local_date(tr_tz_cache *c, int64_t utc, int *y, int *mo, int *d)
{
    tr_civil_from_days(floor_div(utc + tr_tz_cache_offset(c, utc), 86400), y, mo, d);
}

int tr_tz_cache_local_to_utc(tr_tz_cache *c, int y, int mo, int d, int h, int mi, int s, int fold,
                             int64_t *utc, int *flags)
{
    if (!fields_valid(y, mo, d, h, mi, s)) {
        if (flags) *flags = 0;
        return EG_EUSAGE;
    }
    int64_t t = tr_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s - c->utoff;
    if (c->from < c->to && t >= c->from + TR_TZ_CACHE_MARGIN && t < c->to - TR_TZ_CACHE_MARGIN) {
        if (flags) *flags = 0;
        *utc = t;
        return 0;
    }
    int rc = tr_tz_local_to_utc(c->z, y, mo, d, h, mi, s, fold, utc, flags);
    if (rc == 0) cache_fill(c, *utc);
    return rc;
}

/* First instant of a local day: local midnight (first occurrence), or, when
 * midnight falls in a gap, the transition that ends the gap. */
static int day_start(const tr_tz *z, int y, int mo, int d, int64_t *out)
{
    int64_t first = 0, last = 0, lo = 0, hi = 0;
    if (!fields_valid(y, mo, d, 0, 0, 0)) return EG_EUSAGE;
    int64_t local = tr_days_from_civil(y, mo, d) * 86400;
    int n = solve_local(z, local, &first, &last, &lo, &hi);
    if (n < 0) return EG_ESOFTWARE;
    *out = n > 0 ? first : find_change(z, lo, hi);
    return 0;
}

int tr_tz_day_bounds(const tr_tz *z, int y, int mo, int d, int64_t *start, int64_t *end)
{
    int ny, nm, nd, rc;
    if ((rc = day_start(z, y, mo, d, start))) return rc;
    if (!end) return 0;
    tr_civil_from_days(tr_days_from_civil(y, mo, d) + 1, &ny, &nm, &nd);
    return day_start(z, ny, nm, nd, end);
}

/* ---- LocalTimeParameters ------------------------------------------------ */

/* Transitions (DST flag or offset changes) inside [from, to): found by
 * stepping a day at a time and bisecting each change (a zone never changes
 * twice within a day in practice; two changes in one day would be seen as
 * one or none, which the caller reports as irregular). */
typedef struct tz_change {
    int64_t at;
    tz_type before, after;
} tz_change;

static int year_changes(const tr_tz *z, int64_t from, int64_t to, tz_change *out, int max)
{
    int n = 0;
    tz_type prev = type_at(z, from);
    for (int64_t t = from + 86400; t < to + 86400; t += 86400) {
        int64_t at = t < to ? t : to;
        tz_type cur = type_at(z, at);
        if (cur.utoff == prev.utoff && cur.isdst == prev.isdst) continue;
        int64_t c = find_change(z, at - 86400, at);
        if (n < max) out[n] = (tz_change){c, type_at(z, c - 1), type_at(z, c)};
        n++;
        prev = cur;
    }
    return n;
}

/* DstRuleType bits: 0-11 seconds, 12-16 hours, 17-19 weekday (1 = Monday),
 * 20-24 day of month, 25-27 operator, 28-31 month. */
static uint32_t rule_bits(int mon, int op, int mday, int wday, int32_t time)
{
    return (uint32_t)mon << 28 | (uint32_t)op << 25 | (uint32_t)mday << 20 |
           (uint32_t)wday << 17 | (uint32_t)(time / 3600) << 12 | (uint32_t)(time % 3600);
}

/* Fixed-date rule (operator 0) for an actual transition: the wall time just
 * before it. */
static uint32_t rule_from_change(const tz_change *c)
{
    int64_t l = c->at + c->before.utoff, days = floor_div(l, 86400);
    int y, mo, d;
    tr_civil_from_days(days, &y, &mo, &d);
    return rule_bits(mo, 0, d, 0, (int32_t)(l - days * 86400));
}

/* Rule from the footer when it reproduces the actual instant, else 0. */
static uint32_t rule_from_posix(const tz_rule *r, int year, int32_t off, int64_t actual)
{
    if (rule_utc(r, year, off) != actual || r->time < 0 || r->time >= 86400) return 0;
    if (r->kind == RULE_MWD) {
        int op = r->week == 5 ? 7 : r->week + 1;
        return rule_bits(r->mon, op, 0, r->wday == 0 ? 7 : r->wday, r->time);
    }
    int y, mo, d;
    tr_civil_from_days(rule_days(r, year), &y, &mo, &d);
    return rule_bits(mo, 0, d, 0, r->time);
}

int tr_tz_local_time_parameters(const tr_tz *z, int year, espi_local_time_parameters *out,
                                eg_err *err)
{
    tz_change ch[8];
    int64_t from = tr_days_from_civil(year, 1, 1) * 86400 - TZ_MAX_OFFSET;
    int64_t to = tr_days_from_civil(year + 1, 1, 1) * 86400 + TZ_MAX_OFFSET;
    int n = year_changes(z, from, to, ch, 8), n_start = 0, n_end = 0;
    const tz_change *start = NULL, *end = NULL;
    for (int i = 0; i < n && i < 8; i++) {
        tr_tm tm;
        tr_tz_local(z, ch[i].at - 1, &tm);
        if (tm.year != year) continue; /* belongs to the year before/after */
        if (!ch[i].before.isdst && ch[i].after.isdst) start = &ch[i], n_start++;
        else if (ch[i].before.isdst && !ch[i].after.isdst) end = &ch[i], n_end++;
    }
    espi_local_time_parameters_init(out);
    if (n_start == 0 && n_end == 0) {
        int64_t mid = tr_days_from_civil(year, 7, 1) * 86400;
        out->tz_offset = type_at(z, mid).utoff;
        out->dst_offset = 0;
        return 0;
    }
    if (n_start != 1 || n_end != 1)
        return eg_errf(err, EG_EDATA, NULL, 0, 0,
                       "zone %s has %d DST starts and %d DST ends in %d (expected one of each); "
                       "its LocalTimeParameters cannot be expressed as ESPI rules",
                       z->name, n_start, n_end, year);
    out->tz_offset = start->before.utoff;
    out->dst_offset = start->after.utoff - start->before.utoff;
    uint32_t rs = 0, re = 0;
    if (z->has_footer && z->posix.has_dst) {
        rs = rule_from_posix(&z->posix.start, year, z->posix.std_off, start->at);
        re = rule_from_posix(&z->posix.end, year, z->posix.dst_off, end->at);
    }
    out->dst_start_rule = rs ? rs : rule_from_change(start);
    out->dst_end_rule = re ? re : rule_from_change(end);
    return 0;
}

/* ---- TZif parsing -------------------------------------------------------- */

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int64_t be64(const unsigned char *p)
{
    return (int64_t)((uint64_t)be32(p) << 32 | be32(p + 4));
}

typedef struct tzif_counts {
    uint32_t isut, isstd, leap, time, type, chars;
} tzif_counts;

static int read_header(const unsigned char *p, size_t avail, tzif_counts *c, int *version)
{
    if (avail < TZ_HEADER || memcmp(p, "TZif", 4) != 0) return -1;
    *version = p[4] == 0 ? 1 : p[4] - '0';
    c->isut = be32(p + 20);
    c->isstd = be32(p + 24);
    c->leap = be32(p + 28);
    c->time = be32(p + 32);
    c->type = be32(p + 36);
    c->chars = be32(p + 40);
    return 0;
}

/* Size of a data block with tsize-byte times, or 0 when counts are absurd. */
static uint64_t block_size(const tzif_counts *c, unsigned tsize)
{
    if (c->time > 1000000 || c->type > 1000 || c->chars > 100000 || c->leap > 100000 ||
        c->isstd > 1000 || c->isut > 1000)
        return 0;
    return (uint64_t)c->time * (tsize + 1) + (uint64_t)c->type * 6 + c->chars +
           (uint64_t)c->leap * (tsize + 4) + c->isstd + c->isut;
}

static const char *load_block(tr_tz *z, const unsigned char *p, const tzif_counts *c,
                              unsigned tsize)
{
    if (c->type < 1 || c->type > TZ_MAX_TYPES) return "it has no valid local time types";
    if (c->leap > 0) return "it has leap seconds (\"right/\" zones are not supported)";
    if ((c->isstd && c->isstd != c->type) || (c->isut && c->isut != c->type))
        return "its indicator counts do not match its type count";
    if (c->time > 0) {
        z->trans = malloc(c->time * sizeof *z->trans);
        z->trans_type = malloc(c->time);
        if (!z->trans || !z->trans_type) return "out of memory";
    }
    z->n_trans = c->time;
    for (uint32_t i = 0; i < c->time; i++) {
        z->trans[i] = tsize == 8 ? be64(p + 8 * i) : (int32_t)be32(p + 4 * i);
        if (i > 0 && z->trans[i] <= z->trans[i - 1]) return "its transitions are not in order";
    }
    p += (size_t)c->time * tsize;
    for (uint32_t i = 0; i < c->time; i++) {
        if (p[i] >= c->type) return "a transition names a type that does not exist";
        z->trans_type[i] = p[i];
    }
    p += c->time;
    z->n_types = (int)c->type;
    for (uint32_t i = 0; i < c->type; i++, p += 6) {
        int32_t off = (int32_t)be32(p);
        if (off < -TZ_MAX_OFFSET || off > TZ_MAX_OFFSET || p[4] > 1)
            return "a local time type has an impossible offset";
        z->types[i].utoff = off;
        z->types[i].isdst = p[4];
    }
    return NULL;
}

/* The footer: "\n<POSIX TZ>\n" right after the v2+ block. */
static const char *load_footer(tr_tz *z, const unsigned char *p, size_t avail)
{
    char tzs[128];
    if (avail < 2 || p[0] != '\n') return "its POSIX TZ footer is missing";
    const unsigned char *nl = memchr(p + 1, '\n', avail - 1);
    if (!nl) return "its POSIX TZ footer is not terminated";
    size_t len = (size_t)(nl - p - 1);
    if (len == 0) return NULL; /* empty footer: no rule after the table */
    if (len >= sizeof tzs) return "its POSIX TZ footer is too long";
    memcpy(tzs, p + 1, len);
    tzs[len] = 0;
    if (parse_posix(tzs, &z->posix)) return "its POSIX TZ footer is not a valid TZ string";
    z->has_footer = 1;
    return NULL;
}

tr_tz *tr_tz_from_bytes(const char *name, const unsigned char *buf, size_t len, eg_err *err)
{
    tzif_counts c;
    int version;
    uint64_t size1, size2;
    const char *why = NULL;
    tr_tz *z = calloc(1, sizeof *z);
    if (!z) {
        eg_errf(err, EG_ENOMEM, name, 0, 0, "out of memory loading time zone");
        return NULL;
    }
    snprintf(z->name, sizeof z->name, "%s", name ? name : "");
    if (read_header(buf, len, &c, &version)) { why = "it does not start with a TZif header"; goto done; }
    if (!(size1 = block_size(&c, 4)) || TZ_HEADER + size1 > len) {
        why = "it is truncated or its counts are impossible";
        goto done;
    }
    if (version < 2) {
        why = load_block(z, buf + TZ_HEADER, &c, 4);
        goto done;
    }
    const unsigned char *h2 = buf + TZ_HEADER + size1;
    size_t avail = len - TZ_HEADER - size1;
    if (read_header(h2, avail, &c, &version) || !(size2 = block_size(&c, 8)) ||
        TZ_HEADER + size2 > avail) {
        why = "its 64-bit section is truncated or its counts are impossible";
        goto done;
    }
    if ((why = load_block(z, h2 + TZ_HEADER, &c, 8))) goto done;
    why = load_footer(z, h2 + TZ_HEADER + size2, avail - TZ_HEADER - size2);
done:
    if (why) {
        eg_errf(err, EG_EDATA, name, 0, 0, "time zone file is not usable: %s", why);
        tr_tz_free(z);
        return NULL;
    }
    return z;
}

static int name_ok(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n >= TR_TZ_NAME_MAX || name[0] == '/' || strstr(name, "..")) return 0;
    for (size_t i = 0; i < n; i++) {
        char ch = name[i];
        if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
              ch == '/' || ch == '_' || ch == '-' || ch == '+'))
            return 0;
    }
    return 1;
}

tr_tz *tr_tz_load(const char *name, const char *dir, eg_err *err)
{
    char path[4096];
    unsigned char *buf = NULL;
    size_t len = 0;
    tr_tz *z = NULL;
    FILE *f = NULL;
    if (!name || !name_ok(name)) {
        eg_errf(err, EG_EUSAGE, NULL, 0, 0,
                "time zone name \"%s\" is not valid (expected an IANA name like America/Chicago)",
                name ? name : "(null)");
        goto done;
    }
    if (!dir || !*dir) dir = TR_TZ_DEFAULT_DIR;
    if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, name) >= sizeof path) {
        eg_errf(err, EG_EUSAGE, NULL, 0, 0, "time zone directory path is too long");
        goto done;
    }
    if (!(f = fopen(path, "rb"))) {
        eg_errf(err, EG_ENOINPUT, path, 0, 0, "cannot open time zone %s: %s (is tzdata installed?)",
                name, strerror(errno));
        goto done;
    }
    if (!(buf = malloc(TR_TZ_FILE_MAX))) {
        eg_errf(err, EG_ENOMEM, path, 0, 0, "out of memory reading time zone");
        goto done;
    }
    len = fread(buf, 1, TR_TZ_FILE_MAX, f);
    if (ferror(f) || len == TR_TZ_FILE_MAX) {
        eg_errf(err, EG_EDATA, path, 0, 0, "time zone file unreadable or larger than %d bytes",
                TR_TZ_FILE_MAX);
        goto done;
    }
    z = tr_tz_from_bytes(name, buf, len, err);
done:
    if (f) fclose(f);
    free(buf);
    return z;
}

void tr_tz_free(tr_tz *z)
{
    if (!z) return;
    free(z->trans);
    free(z->trans_type);
    free(z);
}
