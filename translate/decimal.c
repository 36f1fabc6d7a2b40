/* decimal.c -- exact decimal parsing; see decimal.h for the grammar and the
 * rounding policy.
 *
 * Two passes over the text.  The first checks the grammar and finds the
 * digits: how many there are (n), how many stand before the decimal point
 * (ip) and the exponent (e).  The second walks the digits again: the first
 * k = ip + e + scale of them form the integer result, digit k decides the
 * rounding and any non-zero digit after it only marks the value inexact.
 * No digit buffer is kept, so a 10,000-digit "0.000...1" costs nothing but
 * time, and the accumulator is checked against INT64_MAX before every step. */
#include "decimal.h"

#include <stdio.h>
#include <string.h>

#define EXP_CLAMP 1000000 /* exponents beyond this are all "huge" */

/* The digits of a number: text span of integer part (may hold ','), span of
 * the fraction, and the exponent. */
typedef struct dec_shape {
    const char *ip_s;
    size_t ip_len;   /* text length of the integer part, ',' included */
    const char *fp_s;
    size_t fp_len;
    int64_t n_int;   /* integer digits (',' excluded) */
    int64_t exp;
    int neg;
} dec_shape;

static int is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* Integer part with optional thousands groups: "1", "1234", "1,234,567". */
static int scan_int_part(const char *s, size_t len, size_t *pos, unsigned flags, dec_shape *sh)
{
    size_t i = *pos, group = 0, ngroups = 0;
    sh->ip_s = s + i;
    while (i < len && (is_digit(s[i]) || s[i] == ',')) {
        if (s[i] == ',') {
            if (!(flags & TR_DEC_THOUSANDS)) return TR_DEC_ESYNTAX;
            if (group == 0 || (ngroups == 0 && group > 3) || (ngroups > 0 && group != 3))
                return TR_DEC_ESYNTAX;
            ngroups++;
            group = 0;
        } else {
            group++;
            sh->n_int++;
        }
        i++;
    }
    if (ngroups > 0 && group != 3) return TR_DEC_ESYNTAX; /* "1,2" or "1," */
    sh->ip_len = (size_t)(s + i - sh->ip_s);
    *pos = i;
    return TR_DEC_OK;
}

static int scan_exponent(const char *s, size_t len, size_t *pos, dec_shape *sh)
{
    size_t i = *pos + 1; /* past 'e' */
    int neg = 0;
    int64_t e = 0;
    if (i < len && (s[i] == '+' || s[i] == '-')) neg = s[i++] == '-';
    if (i >= len || !is_digit(s[i])) return TR_DEC_ESYNTAX;
    while (i < len && is_digit(s[i])) {
        if (e < EXP_CLAMP) e = e * 10 + (s[i] - '0');
        i++;
    }
    sh->exp = neg ? -e : e;
    *pos = i;
    return TR_DEC_OK;
}

/* First pass: grammar check and digit spans. */
static int scan(const char *s, size_t len, unsigned flags, dec_shape *sh)
{
    size_t i = 0;
    int dollar = 0, rc;
    memset(sh, 0, sizeof *sh);
    if ((flags & TR_DEC_CURRENCY) && i < len && s[i] == '$') { dollar = 1; i++; }
    if (i < len && (s[i] == '+' || s[i] == '-')) sh->neg = s[i++] == '-';
    if ((flags & TR_DEC_CURRENCY) && !dollar && i < len && s[i] == '$') i++;
    if (i < len && s[i] == ',') return TR_DEC_ESYNTAX;
    if ((rc = scan_int_part(s, len, &i, flags, sh))) return rc;
    if (i < len && s[i] == '.') {
        sh->fp_s = s + ++i;
        while (i < len && is_digit(s[i])) i++;
        sh->fp_len = (size_t)(s + i - sh->fp_s);
    }
    if (sh->n_int == 0 && sh->fp_len == 0) return TR_DEC_ESYNTAX; /* no digit */
    if ((flags & TR_DEC_EXPONENT) && i < len && (s[i] == 'e' || s[i] == 'E'))
        if ((rc = scan_exponent(s, len, &i, sh))) return rc;
    return i == len ? TR_DEC_OK : TR_DEC_ESYNTAX;
}

/* The idx-th digit (0-based over integer then fraction digits), commas skipped.
 * Called in increasing idx order through a cursor to stay linear. */
typedef struct dec_cursor {
    const dec_shape *sh;
    size_t at;       /* text offset within the current span */
    int in_frac;
} dec_cursor;

static int next_digit(dec_cursor *c)
{
    const dec_shape *sh = c->sh;
    if (!c->in_frac) {
        while (c->at < sh->ip_len && sh->ip_s[c->at] == ',') c->at++;
        if (c->at < sh->ip_len) return sh->ip_s[c->at++] - '0';
        c->in_frac = 1;
        c->at = 0;
    }
    if (c->at < sh->fp_len) return sh->fp_s[c->at++] - '0';
    return -1;
}

/* Second pass: scale, round, check range. */
static int evaluate(const dec_shape *sh, int scale, uint64_t *mag, int *inexact)
{
    const uint64_t max = (uint64_t)INT64_MAX;
    int64_t n = sh->n_int + (int64_t)sh->fp_len;
    int64_t k = sh->n_int + sh->exp + scale; /* digits kept */
    uint64_t acc = 0;
    int round_digit = 0, sticky = 0, d;
    dec_cursor c = {sh, 0, 0};
    for (int64_t i = 0; (d = next_digit(&c)) >= 0; i++) {
        if (i < k) {
            if (acc > (max - (uint64_t)d) / 10) return TR_DEC_EOVERFLOW;
            acc = acc * 10 + (uint64_t)d;
        } else if (i == k) {
            round_digit = d;
        } else if (d) {
            sticky = 1;
        }
    }
    for (int64_t i = n; i < k && acc; i++) {
        if (acc > max / 10) return TR_DEC_EOVERFLOW;
        acc *= 10;
    }
    if (round_digit >= 5) {
        if (acc == max) return TR_DEC_EOVERFLOW;
        acc++;
    }
    *inexact = round_digit != 0 || sticky;
    *mag = acc;
    return TR_DEC_OK;
}

/* The common case in one pass: "[-]ddd[.ddd]" with no more fraction digits
 * than scale and at most 18 digits once scaled -- exact, so no rounding and
 * no range check are needed.  1 with *out; 0 for anything else (the general
 * path then decides, with the same result for these inputs). */
static int fast_plain(const char *s, size_t len, int scale, int64_t *out)
{
    static const uint64_t pow10[] = {1, 10, 100, 1000, 10000, 100000, 1000000, 10000000,
                                     100000000, 1000000000, 10000000000, 100000000000,
                                     1000000000000, 10000000000000, 100000000000000,
                                     1000000000000000, 10000000000000000, 100000000000000000,
                                     1000000000000000000};
    size_t i = len > 0 && s[0] == '-';
    int neg = (int)i, n_int = 0, n_frac = 0;
    uint64_t v = 0;
    for (; i < len && is_digit(s[i]); i++, n_int++) v = v * 10 + (uint64_t)(s[i] - '0');
    if (n_int + scale > 18) return 0;
    if (i < len && s[i] == '.')
        for (i++; i < len && is_digit(s[i]) && n_frac < scale; i++, n_frac++)
            v = v * 10 + (uint64_t)(s[i] - '0');
    if (i != len || n_int + n_frac == 0) return 0;
    v *= pow10[scale - n_frac];
    *out = neg ? -(int64_t)v : (int64_t)v;
    return 1;
}

int tr_dec_parse(const char *s, size_t len, int scale, unsigned flags,
                 int64_t *out, int *rounded)
{
    dec_shape sh;
    uint64_t mag = 0;
    int inexact = 0, rc;
    if (rounded) *rounded = 0;
    if (scale < 0 || scale > TR_DEC_MAX_SCALE) return TR_DEC_ESCALE;
    if (fast_plain(s, len, scale, out)) return TR_DEC_OK;
    while (len > 0 && is_blank(s[0])) { s++; len--; }
    while (len > 0 && is_blank(s[len - 1])) len--;
    if (len == 0) return TR_DEC_EEMPTY;
    if ((rc = scan(s, len, flags, &sh))) return rc;
    if ((rc = evaluate(&sh, scale, &mag, &inexact))) return rc;
    if (inexact && (flags & TR_DEC_EXACT)) return TR_DEC_EINEXACT;
    if (rounded) *rounded = inexact;
    *out = sh.neg ? -(int64_t)mag : (int64_t)mag;
    return TR_DEC_OK;
}

int tr_dec_parse_str(const char *s, int scale, unsigned flags, int64_t *out, int *rounded)
{
    return tr_dec_parse(s, strlen(s), scale, flags, out, rounded);
}

const char *tr_dec_strerror(int status)
{
    switch (status) {
    case TR_DEC_OK: return "is a decimal number";
    case TR_DEC_EEMPTY: return "is empty";
    case TR_DEC_ESYNTAX: return "is not a decimal number";
    case TR_DEC_EOVERFLOW: return "is too large";
    case TR_DEC_EINEXACT: return "has more decimals than allowed";
    case TR_DEC_ESCALE: return "cannot be parsed at this scale (internal error)";
    default: return "is not a decimal number";
    }
}

char *tr_dec_format(int64_t v, int scale, char *out, size_t size)
{
    uint64_t mag = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    uint64_t div = 1;
    if (scale > TR_DEC_MAX_SCALE) scale = TR_DEC_MAX_SCALE;
    for (int i = 0; i < scale; i++) div *= 10;
    if (scale <= 0)
        snprintf(out, size, "%s%llu", v < 0 ? "-" : "", (unsigned long long)mag);
    else
        snprintf(out, size, "%s%llu.%0*llu", v < 0 ? "-" : "", (unsigned long long)(mag / div),
                 scale, (unsigned long long)(mag % div));
    return out;
}
