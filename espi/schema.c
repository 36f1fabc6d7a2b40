/* schema.c -- the streaming checker that runs espigate's schema tables.
 *
 * One frame per open element, in a fixed array (SCH_MAX_DEPTH): the frame
 * knows the element's type and where its content model stands.  A start
 * event asks the parent frame whether the child may come next; an end
 * event asks whether anything required is still missing and, for a simple
 * type, whether the collected text is a valid value.  Nothing is allocated
 * after espi_schema_checker_new(): element names in frames point into the
 * static tables, and text goes to one bounded buffer (only the innermost
 * element collects text, because simple-typed elements have no children).
 *
 * Content models (schema_tab.h): an xs:sequence is matched greedily from
 * the current particle; the XSDs obey Unique Particle Attribution, so the
 * first particle that accepts a name is the only one.  When the name
 * occurs further on, past a required particle, that particle is reported
 * missing (SCHEMA-002) and matching resumes there; when it does not occur
 * at all it is reported not expected (SCHEMA-001) with the list of names
 * that could come next, and its subtree is skipped.  After an error inside
 * an element, its later complaints about missing children are suppressed,
 * so one fault gives one diagnostic.
 *
 * Values follow the lexical rules of libxml2 2.9, which the differential
 * test holds us to: integers derived from xs:long, xs:short, xs:unsignedInt,
 * ... take no surrounding whitespace and, when unsigned, no sign; unions
 * (the numeric code lists), xs:integer, xs:boolean, hexBinary, xs:float
 * and anyURI collapse whitespace first; xs:string keeps it and counts
 * characters, not bytes; atom:dateTimeType takes no whitespace. */
#include "schema.h"

#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schema_tab.h"

#define SCH_MAX_DEPTH 256
#define SCH_TEXT_MAX 16384 /* longest value kept for checking (bytes) */
#define SCH_MSG_MAX 640
#define SCH_EXPECT_MAX 10 /* names listed in "expected one of" */
#define SCH_NO_POS 0xFFFFu
#define SCH_SEEN 512 /* slots remembering which name pointer matched a particle */

enum sch_mode {
    MODE_TYPED, /* validated against frame.type */
    MODE_SKIP,  /* inside an element already reported: ignore the subtree */
    MODE_LAX    /* inside xs:anyType: validate only known global elements */
};

typedef struct sch_frame {
    const char *name;     /* static table string */
    long line, col;       /* where the start tag was */
    unsigned int count;   /* SEQ: occurrences of parts[pos]; CHOICE: run length */
    unsigned short type;  /* index in sch_types */
    unsigned short pos;   /* SEQ: current particle; CHOICE: last particle */
    unsigned char mode;   /* enum sch_mode */
    unsigned char bad;    /* an error was reported about this element */
} sch_frame;

struct espi_schema_checker {
    const char *file;
    espi_diag_cb cb;
    void *ctx;
    long errors;
    int depth;            /* frames in use */
    long overflow;        /* open elements beyond SCH_MAX_DEPTH */
    const char *ns_ptr;   /* last namespace string seen, and its id */
    int ns_id;
    size_t text_len;      /* bytes of text kept in text[] */
    size_t text_bytes;    /* bytes of text seen for the innermost element */
    size_t text_chars;    /* characters of the same */
    int stable;           /* espi_schema_names_stable() */
    struct {
        const sch_particle *p;
        const char *name; /* a caller's pointer equal to p->name */
    } seen[SCH_SEEN];
    sch_frame frames[SCH_MAX_DEPTH];
    char text[SCH_TEXT_MAX + 1];
};

/* ---- diagnostics --------------------------------------------------------- */

#if defined(__GNUC__)
__attribute__((format(printf, 5, 6)))
#endif
static void sch_report(espi_schema_checker *c, const char *rule, long line, long col,
                       const char *fmt, ...)
{
    char msg[SCH_MSG_MAX];
    va_list ap;
    espi_diag d;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    c->errors++;
    if (!c->cb) return;
    d.rule = rule;
    d.severity = ESPI_SEV_ERROR;
    d.file = c->file;
    d.line = line;
    d.col = col;
    d.msg = msg;
    c->cb(c->ctx, &d);
}

/* Copy at most 60 bytes of a value into buf for a message, marking a cut. */
static const char *sch_quote(char *buf, size_t size, const char *s, size_t len)
{
    size_t keep = len > 60 ? 60 : len;
    while (keep < len && keep > 0 && ((unsigned char)s[keep] & 0xC0) == 0x80) keep--;
    snprintf(buf, size, "%.*s%s", (int)keep, s, len > keep ? "..." : "");
    return buf;
}

/* ---- small lexical helpers ----------------------------------------------- */

static int sch_is_ws(unsigned char ch)
{
    return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r';
}

static int sch_is_digit(unsigned char ch) { return ch >= '0' && ch <= '9'; }

static int sch_is_hex(unsigned char ch)
{
    return sch_is_digit(ch) || (ch >= 'a' && ch <= 'f') || (ch >= 'A' && ch <= 'F');
}

static int sch_is_alpha(unsigned char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z');
}

static void sch_trim(const char **s, const char **e)
{
    while (*s < *e && sch_is_ws((unsigned char)**s)) (*s)++;
    while (*e > *s && sch_is_ws((unsigned char)(*e)[-1])) (*e)--;
}

static int sch_only_ws_n(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!sch_is_ws((unsigned char)s[i])) return 0;
    return 1;
}

static int sch_span_is(const char *s, const char *e, const char *lit)
{
    size_t n = strlen(lit);
    return (size_t)(e - s) == n && memcmp(s, lit, n) == 0;
}

/* ---- value checks: 0 valid, SCH_BAD_LEX not of the type, SCH_BAD_RANGE
 * outside its bounds, SCH_BAD_LEN longer than maxLength ------------------- */

enum { SCH_OK = 0, SCH_BAD_LEX, SCH_BAD_RANGE, SCH_BAD_LEN };

/* Integers: sign per .lex, up to 24 significant digits (libxml2's limit),
 * then the bounds. */
static int sch_check_int(const sch_type *t, const char *s, const char *e)
{
    int neg = 0, big = 0;
    unsigned long long mag = 0;
    size_t sig = 0;

    if (t->lex & SCH_LEX_TRIM) sch_trim(&s, &e);
    if (s == e) return SCH_BAD_LEX;
    if (*s == '-' || *s == '+') {
        unsigned need = *s == '-' ? SCH_LEX_MINUS : SCH_LEX_PLUS;
        if (!(t->lex & need)) return SCH_BAD_LEX;
        neg = *s == '-';
        s++;
    }
    if (s == e) return SCH_BAD_LEX;
    while (s < e && *s == '0') s++;
    for (; s < e; s++) {
        unsigned d;
        if (!sch_is_digit((unsigned char)*s)) return SCH_BAD_LEX;
        d = (unsigned)(*s - '0');
        if (++sig > 24) return SCH_BAD_LEX;
        if (mag > (ULLONG_MAX - d) / 10) big = 1;
        else mag = mag * 10 + d;
    }
    if (neg && !big && mag == 0) neg = 0; /* -0 is 0 */
    if (neg) {
        if (big || mag > (unsigned long long)LLONG_MAX + 1ULL)
            return (t->flags & SCH_F_NOMIN) ? SCH_OK : SCH_BAD_RANGE;
        if (t->flags & SCH_F_NOMIN) return SCH_OK;
        if (t->min >= 0) return SCH_BAD_RANGE;
        /* -mag >= min  <=>  mag - 1 <= -(min + 1), computed without overflow */
        return mag - 1ULL <= (unsigned long long)(-(t->min + 1)) ? SCH_OK : SCH_BAD_RANGE;
    }
    if (big || mag > (unsigned long long)LLONG_MAX)
        return (t->flags & SCH_F_NOMAX) ? SCH_OK : SCH_BAD_RANGE;
    if (!(t->flags & SCH_F_NOMIN) && (long long)mag < t->min) return SCH_BAD_RANGE;
    if (!(t->flags & SCH_F_NOMAX) && (long long)mag > t->max) return SCH_BAD_RANGE;
    return SCH_OK;
}

static int sch_check_bool(const char *s, const char *e)
{
    sch_trim(&s, &e);
    return sch_span_is(s, e, "true") || sch_span_is(s, e, "false") || sch_span_is(s, e, "1") ||
                   sch_span_is(s, e, "0")
               ? SCH_OK
               : SCH_BAD_LEX;
}

static int sch_check_hex(const sch_type *t, const char *s, const char *e)
{
    const char *p;
    sch_trim(&s, &e);
    for (p = s; p < e; p++)
        if (!sch_is_hex((unsigned char)*p)) return SCH_BAD_LEX;
    if ((e - s) % 2) return SCH_BAD_LEX;
    if (t->maxlen && (size_t)(e - s) / 2 > t->maxlen) return SCH_BAD_LEN;
    return SCH_OK;
}

/* xs:float as libxml2 reads it: NaN, INF, -INF, or [sign] digits [. digits]
 * (at least one digit) [e|E [sign] digits*]. */
static int sch_check_float(const char *s, const char *e)
{
    size_t before = 0, after = 0;
    static const char *const special[] = {"NaN", "INF", "-INF"};
    unsigned i;
    while (s < e && sch_is_ws((unsigned char)*s)) s++;
    for (i = 0; i < 3; i++) { /* libxml2 takes no trailing space after these */
        size_t n = strlen(special[i]);
        if ((size_t)(e - s) >= n && !memcmp(s, special[i], n)) return s + n == e ? SCH_OK : SCH_BAD_LEX;
    }
    sch_trim(&s, &e);
    if (s < e && (*s == '-' || *s == '+')) s++;
    while (s < e && sch_is_digit((unsigned char)*s)) s++, before++;
    if (s < e && *s == '.') {
        s++;
        while (s < e && sch_is_digit((unsigned char)*s)) s++, after++;
    }
    if (before == 0 && after == 0) return SCH_BAD_LEX;
    if (s < e && (*s == 'e' || *s == 'E')) {
        s++;
        if (s < e && (*s == '-' || *s == '+')) s++;
        while (s < e && sch_is_digit((unsigned char)*s)) s++;
    }
    return s == e ? SCH_OK : SCH_BAD_LEX;
}

/* Read exactly two digits. */
static int sch_two(const char **p, const char *e, int *v)
{
    if (e - *p < 2 || !sch_is_digit((unsigned char)(*p)[0]) || !sch_is_digit((unsigned char)(*p)[1]))
        return -1;
    *v = ((*p)[0] - '0') * 10 + ((*p)[1] - '0');
    *p += 2;
    return 0;
}

static int sch_leap(long y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

/* xs:dateTime: [-]YYYY[Y*]-MM-DDThh:mm:ss[.s+][Z|(+|-)hh:mm], no whitespace
 * (atom:dateTimeType is simple content, which libxml2 does not collapse). */
static int sch_check_datetime(const char *s, const char *e)
{
    static const int mdays[12] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    const char *y0;
    long year = 0;
    int mon, day, hh, mm, ss;

    if (s < e && *s == '-') s++;
    y0 = s;
    while (s < e && sch_is_digit((unsigned char)*s)) {
        if (year < 100000000L) year = year * 10 + (*s - '0');
        s++;
    }
    if (s - y0 < 4 || (s - y0 > 4 && *y0 == '0') || year == 0) return SCH_BAD_LEX;
    if (s >= e || *s++ != '-' || sch_two(&s, e, &mon) || s >= e || *s++ != '-' ||
        sch_two(&s, e, &day))
        return SCH_BAD_LEX;
    if (mon < 1 || mon > 12 || day < 1 || day > mdays[mon - 1]) return SCH_BAD_LEX;
    if (mon == 2 && day == 29 && !sch_leap(year)) return SCH_BAD_LEX;
    if (s >= e || *s++ != 'T' || sch_two(&s, e, &hh) || s >= e || *s++ != ':' ||
        sch_two(&s, e, &mm) || s >= e || *s++ != ':' || sch_two(&s, e, &ss))
        return SCH_BAD_LEX;
    if (s < e && *s == '.') {
        const char *f = ++s;
        int nonzero = 0;
        while (s < e && sch_is_digit((unsigned char)*s)) nonzero |= *s++ != '0';
        if (s == f) return SCH_BAD_LEX;
        if (hh == 24 && nonzero) return SCH_BAD_LEX;
    }
    if (mm > 59 || ss > 59) return SCH_BAD_LEX;
    if (hh > 24 || (hh == 24 && (mm || ss))) return SCH_BAD_LEX;
    if (s < e && *s == 'Z') s++;
    else if (s < e && (*s == '+' || *s == '-')) {
        int th, tm;
        s++;
        if (sch_two(&s, e, &th) || s >= e || *s++ != ':' || sch_two(&s, e, &tm)) return SCH_BAD_LEX;
        if (th > 14 || tm > 59 || th * 60 + tm > 840) return SCH_BAD_LEX;
    }
    return s == e ? SCH_OK : SCH_BAD_LEX;
}

/* ---- anyURI: libxml2 collapses, turns characters a URI cannot hold
 * (controls, space, non-ASCII, <>"{}|\^`') into '_' and parses the rest as
 * an RFC 3986 URI-reference. ---------------------------------------------- */

typedef struct sch_cur {
    const char *p, *e;
} sch_cur;

static int sch_uri_unreserved(unsigned char ch)
{
    return sch_is_alpha(ch) || sch_is_digit(ch) || ch == '-' || ch == '.' || ch == '_' ||
           ch == '~' || ch < 32 || ch >= 127 || ch == ' ' || ch == '<' || ch == '>' ||
           ch == '"' || ch == '{' || ch == '}' || ch == '|' || ch == '\\' || ch == '^' ||
           ch == '`' || ch == '\'';
}

static int sch_uri_subdelim(unsigned char ch)
{
    return ch == '!' || ch == '$' || ch == '&' || ch == '(' || ch == ')' || ch == '*' ||
           ch == '+' || ch == ',' || ch == ';' || ch == '=';
}

/* Length of one pchar at p (1, or 3 for %XX), 0 when none. extra are more
 * characters allowed here. */
static int sch_uri_char(const sch_cur *c, const char *extra)
{
    unsigned char ch;
    if (c->p >= c->e) return 0;
    ch = (unsigned char)*c->p;
    if (ch == '%') {
        if (c->e - c->p >= 3 && sch_is_hex((unsigned char)c->p[1]) && sch_is_hex((unsigned char)c->p[2]))
            return 3;
        return 0;
    }
    if (sch_uri_unreserved(ch) || sch_uri_subdelim(ch)) return 1;
    return ch && strchr(extra, ch) ? 1 : 0;
}

static void sch_uri_run(sch_cur *c, const char *extra)
{
    int n;
    while ((n = sch_uri_char(c, extra)) > 0) c->p += n;
}

/* authority = [userinfo "@"] host [":" port], then path-abempty */
static int sch_uri_authority(sch_cur *c)
{
    sch_cur t = *c;
    sch_uri_run(&t, ":");
    if (t.p < t.e && *t.p == '@') c->p = t.p + 1;
    if (c->p < c->e && *c->p == '[') {
        while (c->p < c->e && *c->p != ']') c->p++;
        if (c->p >= c->e) return -1;
        c->p++;
    } else {
        sch_uri_run(c, "");
    }
    if (c->p < c->e && *c->p == ':') {
        c->p++;
        if (c->p >= c->e || !sch_is_digit((unsigned char)*c->p)) return -1;
        while (c->p < c->e && sch_is_digit((unsigned char)*c->p)) c->p++;
    }
    while (c->p < c->e && *c->p == '/') {
        c->p++;
        sch_uri_run(c, ":@");
    }
    return 0;
}

/* path and the rest after the scheme (or at the start of a relative ref).
 * first_extra: characters allowed in the first segment. */
static int sch_uri_rest(sch_cur *c, const char *first_extra)
{
    if (c->e - c->p >= 2 && c->p[0] == '/' && c->p[1] == '/') {
        c->p += 2;
        if (sch_uri_authority(c)) return -1;
    } else {
        if (c->p < c->e && *c->p == '/') {
            c->p++;
            first_extra = ":@"; /* path-absolute: any segment */
        }
        sch_uri_run(c, first_extra);
        while (c->p < c->e && *c->p == '/') {
            c->p++;
            sch_uri_run(c, ":@");
        }
    }
    if (c->p < c->e && *c->p == '?') {
        c->p++;
        sch_uri_run(c, ":@/?");
    }
    if (c->p < c->e && *c->p == '#') {
        c->p++;
        sch_uri_run(c, ":@/?[]");
    }
    return c->p == c->e ? 0 : -1;
}

static int sch_check_uri(const char *s, const char *e)
{
    sch_cur c;
    sch_trim(&s, &e);
    c.p = s;
    c.e = e;
    /* absolute: scheme ":" ... */
    if (c.p < c.e && sch_is_alpha((unsigned char)*c.p)) {
        const char *q = c.p;
        while (q < c.e && (sch_is_alpha((unsigned char)*q) || sch_is_digit((unsigned char)*q) ||
                           *q == '+' || *q == '-' || *q == '.'))
            q++;
        if (q < c.e && *q == ':') {
            sch_cur a = {q + 1, e};
            if (sch_uri_rest(&a, ":@") == 0) return SCH_OK;
        }
    }
    /* relative reference: no ':' in the first segment */
    c.p = s;
    return sch_uri_rest(&c, "@") == 0 ? SCH_OK : SCH_BAD_LEX;
}

/* ---- names and the atom pattern types ------------------------------------ */

static int sch_name_char(unsigned char ch, int colon)
{
    return sch_is_alpha(ch) || sch_is_digit(ch) || ch == '.' || ch == '-' || ch == '_' ||
           ch >= 0x80 || (colon && ch == ':');
}

static int sch_check_nmtoken(const char *s, const char *e)
{
    sch_trim(&s, &e);
    if (s == e) return SCH_BAD_LEX;
    for (; s < e; s++)
        if (!sch_name_char((unsigned char)*s, 1)) return SCH_BAD_LEX;
    return SCH_OK;
}

static int sch_check_ncname(const char *s, const char *e)
{
    unsigned char ch;
    sch_trim(&s, &e);
    if (s == e) return SCH_BAD_LEX;
    ch = (unsigned char)*s;
    if (!(sch_is_alpha(ch) || ch == '_' || ch >= 0x80)) return SCH_BAD_LEX;
    for (; s < e; s++)
        if (!sch_name_char((unsigned char)*s, 0)) return SCH_BAD_LEX;
    return SCH_OK;
}

/* [a-zA-Z]{1,8}(-[a-zA-Z0-9]{1,8})* */
static int sch_check_lang(const char *s, const char *e)
{
    int first = 1;
    sch_trim(&s, &e);
    for (;;) {
        const char *p = s;
        while (p < e && (sch_is_alpha((unsigned char)*p) || (!first && sch_is_digit((unsigned char)*p))))
            p++;
        if (p == s || p - s > 8) return SCH_BAD_LEX;
        if (p == e) return SCH_OK;
        if (*p != '-') return SCH_BAD_LEX;
        s = p + 1;
        first = 0;
    }
}

/* \w of XML Schema regular expressions: not punctuation, separator or
 * other; for ASCII that is letters, digits and the symbols $+<=>^`|~. */
static int sch_is_word(unsigned char ch)
{
    return sch_is_alpha(ch) || sch_is_digit(ch) || ch >= 0x80 || (ch && strchr("$+<=>^`|~", ch));
}

/* \w+@(\w+\.)+\w+ over the whole value (normalizedString: no trimming). */
static int sch_check_email(const char *s, const char *e)
{
    const char *p = s;
    int parts = 0;
    while (p < e && sch_is_word((unsigned char)*p)) p++;
    if (p == s || p >= e || *p != '@') return SCH_BAD_LEX;
    for (;;) {
        const char *q = ++p;
        while (p < e && sch_is_word((unsigned char)*p)) p++;
        if (p == q) return SCH_BAD_LEX;
        parts++;
        if (p == e) return parts >= 2 ? SCH_OK : SCH_BAD_LEX;
        if (*p != '.') return SCH_BAD_LEX;
    }
}

static int sch_check_enum(const sch_type *t, const char *s, const char *e)
{
    unsigned i;
    for (i = 0; i < t->n; i++)
        if (sch_span_is(s, e, t->enums[i])) return SCH_OK;
    return SCH_BAD_LEX;
}

static size_t sch_utf8_chars(const char *s, size_t n)
{
    size_t i, chars = 0;
    for (i = 0; i < n; i++) chars += ((unsigned char)s[i] & 0xC0) != 0x80;
    return chars;
}

/* Check a whole value of simple type t. chars is its length in characters
 * (strings count characters, not bytes). */
static int sch_check_value(const sch_type *t, const char *s, size_t len, size_t chars)
{
    const char *e = s + len;
    switch (t->kind) {
    case SCH_STRING:
        if (t->enums && sch_check_enum(t, s, e)) return SCH_BAD_LEX;
        if (t->maxlen && chars > t->maxlen) return SCH_BAD_LEN;
        return SCH_OK;
    case SCH_TOKEN:
        sch_trim(&s, &e);
        return sch_check_enum(t, s, e);
    case SCH_INT: return sch_check_int(t, s, e);
    case SCH_BOOL: return sch_check_bool(s, e);
    case SCH_HEX: return sch_check_hex(t, s, e);
    case SCH_URI: return sch_check_uri(s, e);
    case SCH_FLOAT: return sch_check_float(s, e);
    case SCH_DATETIME: return sch_check_datetime(s, e);
    case SCH_LANG: return sch_check_lang(s, e);
    case SCH_NMTOKEN: return sch_check_nmtoken(s, e);
    case SCH_NCNAME: return sch_check_ncname(s, e);
    case SCH_EMAIL: return sch_check_email(s, e);
    default: return SCH_OK;
    }
}

/* What a value of t looks like, for messages. */
static void sch_describe(const sch_type *t, char *buf, size_t size)
{
    size_t used;
    unsigned i;
    switch (t->kind) {
    case SCH_INT:
        if ((t->flags & SCH_F_NOMIN) && (t->flags & SCH_F_NOMAX))
            snprintf(buf, size, "an integer of at most 24 digits");
        else if (t->flags & SCH_F_NOMAX)
            snprintf(buf, size, "an integer >= %lld", t->min);
        else
            snprintf(buf, size, "an integer %lld..%lld%s", t->min, t->max,
                     (t->lex & SCH_LEX_TRIM) ? "" : ", no spaces or '+'");
        return;
    case SCH_STRING:
    case SCH_TOKEN:
        if (!t->enums) {
            snprintf(buf, size, "text of at most %u characters", t->maxlen);
            return;
        }
        used = (size_t)snprintf(buf, size, "one of:");
        for (i = 0; i < t->n && used < size; i++)
            used += (size_t)snprintf(buf + used, size - used, "%s %s", i ? "," : "", t->enums[i]);
        return;
    case SCH_BOOL: snprintf(buf, size, "true, false, 1 or 0"); return;
    case SCH_HEX: snprintf(buf, size, "an even number of hex digits, at most %u bytes", t->maxlen); return;
    case SCH_URI: snprintf(buf, size, "a URI reference"); return;
    case SCH_FLOAT: snprintf(buf, size, "a float such as 1.5E3, INF or NaN"); return;
    case SCH_DATETIME: snprintf(buf, size, "YYYY-MM-DDThh:mm:ss[.s][Z|+hh:mm], no spaces"); return;
    case SCH_LANG: snprintf(buf, size, "a language tag such as en-US"); return;
    case SCH_NMTOKEN: snprintf(buf, size, "a name token"); return;
    case SCH_NCNAME: snprintf(buf, size, "a name without ':'"); return;
    case SCH_EMAIL: snprintf(buf, size, "an address like name@example.com"); return;
    default: snprintf(buf, size, "a value"); return;
    }
}

/* Report a bad value of t; what says where it is ("element 'x'", ...). */
static void sch_report_value(espi_schema_checker *c, const sch_type *t, int why, const char *what,
                             const char *s, size_t len, size_t chars, long line, long col)
{
    char q[80], desc[400];
    sch_quote(q, sizeof q, s, len);
    if (why == SCH_BAD_LEN) {
        if (t->kind == SCH_HEX)
            sch_report(c, "SCHEMA-004", line, col, "%s: '%s' is %zu bytes, longer than %s allows (%u)",
                       what, q, len / 2, t->name, t->maxlen);
        else
            sch_report(c, "SCHEMA-004", line, col,
                       "%s: value is %zu characters, longer than %s allows (%u); shorten it", what,
                       chars, t->name, t->maxlen);
        return;
    }
    sch_describe(t, desc, sizeof desc);
    sch_report(c, "SCHEMA-003", line, col, "%s: '%s' is not a valid %s (expected %s)", what, q,
               t->name, desc);
}

/* ---- namespaces and globals ---------------------------------------------- */

static int sch_ns_of(espi_schema_checker *c, const char *ns)
{
    int id;
    if (!ns || !*ns) return SCH_NS_NONE;
    if (c && ns == c->ns_ptr) return c->ns_id;
    if (!strcmp(ns, SCH_URI_ESPI)) id = SCH_NS_ESPI;
    else if (!strcmp(ns, SCH_URI_ATOM)) id = SCH_NS_ATOM;
    else if (!strcmp(ns, SCH_URI_CUST)) id = SCH_NS_CUST;
    else if (!strcmp(ns, SCH_URI_XSI)) id = SCH_NS_XSI;
    else if (!strcmp(ns, SCH_URI_XML)) id = SCH_NS_XML;
    else if (!strcmp(ns, SCH_URI_XMLNS)) id = SCH_NS_XMLNS;
    else id = SCH_NS_OTHER;
    if (c) {
        c->ns_ptr = ns;
        c->ns_id = id;
    }
    return id;
}

static const sch_global *sch_find_global(int ns, const char *local)
{
    const sch_global *g;
    unsigned lo = 0, hi;
    if (ns == SCH_NS_ESPI) g = sch_espi_globals, hi = sch_n_espi_globals;
    else if (ns == SCH_NS_CUST) g = sch_cust_globals, hi = sch_n_cust_globals;
    else if (ns == SCH_NS_ATOM) g = sch_atom_globals, hi = sch_n_atom_globals;
    else return NULL;
    while (lo < hi) {
        unsigned mid = lo + (hi - lo) / 2;
        int cmp = strcmp(local, g[mid].name);
        if (cmp == 0) return &g[mid];
        if (cmp < 0) hi = mid;
        else lo = mid + 1;
    }
    return NULL;
}

int espi_schema_is_global(const char *ns, const char *local)
{
    int id;
    if (!ns || !local) return 0;
    id = sch_ns_of(NULL, ns);
    if (id != SCH_NS_ESPI && id != SCH_NS_CUST) return 0;
    return sch_find_global(id, local) != NULL;
}

static const char *sch_ns_prefix(int ns)
{
    switch (ns) {
    case SCH_NS_ATOM: return "atom:";
    case SCH_NS_CUST: return "cust:";
    default: return "";
    }
}

/* ---- lifecycle ------------------------------------------------------------ */

espi_schema_checker *espi_schema_checker_new(const char *file, espi_diag_cb cb, void *ctx)
{
    espi_schema_checker *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    c->file = file;
    c->cb = cb;
    c->ctx = ctx;
    return c;
}

void espi_schema_checker_free(espi_schema_checker *c) { free(c); }

void espi_schema_names_stable(espi_schema_checker *c)
{
    if (c) c->stable = 1;
}

/* Is local particle p's name?  With stable names, a pointer that matched p
 * before matches again without a strcmp (an IntervalReading's five
 * elements are looked up this way a million times in a year of data). */
static int sch_name_is(espi_schema_checker *c, const sch_particle *p, const char *local)
{
    if (p->name[0] != local[0]) return 0;
    if (!c->stable) return !strcmp(p->name, local);
    size_t h = (size_t)(((uintptr_t)p >> 3 ^ (uintptr_t)local >> 4) % SCH_SEEN);
    if (c->seen[h].p == p && c->seen[h].name == local) return 1;
    if (strcmp(p->name, local)) return 0;
    c->seen[h].p = p;
    c->seen[h].name = local;
    return 1;
}

long espi_schema_error_count(const espi_schema_checker *c) { return c ? c->errors : 0; }

/* ---- content models --------------------------------------------------------- */

/* "a, b, c" of the names that may come next in a sequence at (pos, count). */
static void sch_expected(const sch_type *t, unsigned pos, unsigned count, char *buf, size_t size)
{
    size_t used = 0;
    int listed = 0;
    buf[0] = 0;
    while (pos < t->n && used < size) {
        const sch_particle *p = &t->parts[pos];
        if (count < p->max) {
            if (listed == SCH_EXPECT_MAX) {
                snprintf(buf + used, size - used, ", ...");
                return;
            }
            used += (size_t)snprintf(buf + used, size - used, "%s%s", listed ? ", " : "", p->name);
            listed++;
        }
        if (count < p->min) return;
        pos++;
        count = 0;
    }
    if (used < size)
        snprintf(buf + used, size - used, "%s(end of %s)", listed ? ", " : "", t->name);
}

static void sch_push(espi_schema_checker *c, const char *name, unsigned type, int mode, long line,
                     long col)
{
    sch_frame *f = &c->frames[c->depth++];
    f->name = name;
    f->type = (unsigned short)type;
    f->mode = (unsigned char)mode;
    f->bad = 0;
    f->pos = SCH_NO_POS;
    f->count = 0;
    f->line = line;
    f->col = col;
    if (mode == MODE_TYPED && sch_types[type].kind == SCH_SEQ) f->pos = 0;
    if (mode == MODE_TYPED && sch_types[type].kind == SCH_ANY) f->mode = MODE_LAX;
    c->text_len = c->text_bytes = c->text_chars = 0;
}

/* Sequence: place child local in parent f.  Returns the particle, or NULL
 * after reporting. */
static const sch_particle *sch_seq_child(espi_schema_checker *c, sch_frame *f, const sch_type *t,
                                         int ns, const char *local, long line, long col)
{
    unsigned j = f->pos, cnt = f->count;
    int missing = -1;
    char exp[400];

    if (ns == t->ns) {
        for (; j < t->n; j++, cnt = 0) {
            const sch_particle *p = &t->parts[j];
            if (cnt < p->max && sch_name_is(c, p, local)) {
                if (missing >= 0) {
                    sch_report(c, "SCHEMA-002", line, col,
                               "required element '%s' missing in %s before '%s'", t->parts[missing].name,
                               f->name, local);
                    f->bad = 1;
                }
                f->pos = (unsigned short)j;
                f->count = cnt + 1;
                return p;
            }
            if (cnt < p->min && missing < 0) missing = (int)j;
        }
    }
    sch_expected(t, f->pos, f->count, exp, sizeof exp);
    sch_report(c, "SCHEMA-001", line, col, "element '%s%s' not expected in %s; expected one of: %s",
               sch_ns_prefix(ns), local, f->name, exp);
    f->bad = 1;
    return NULL;
}

/* End of a run in an Atom choice: a particle with min 2 (entry/link) needs
 * at least two in a row. */
static int sch_choice_run_short(const sch_type *t, const sch_frame *f)
{
    return f->pos != SCH_NO_POS && f->count < t->parts[f->pos].min;
}

static const sch_particle *sch_choice_child(espi_schema_checker *c, sch_frame *f, const sch_type *t,
                                            int ns, const char *local, long line, long col)
{
    unsigned k;
    if (ns == t->ns) {
        for (k = 0; k < t->n; k++)
            if (sch_name_is(c, &t->parts[k], local)) break;
    } else {
        k = t->n;
    }
    if (k < t->n && k == f->pos) {
        f->count++;
        return &t->parts[k];
    }
    if (sch_choice_run_short(t, f)) {
        sch_report(c, "SCHEMA-001", line, col,
                   "element '%s%s' not expected in %s: '%s' needs at least %u in a row here",
                   sch_ns_prefix(ns), local, f->name, t->parts[f->pos].name, t->parts[f->pos].min);
        f->bad = 1;
    }
    f->pos = k < t->n ? (unsigned short)k : SCH_NO_POS;
    f->count = 1;
    return k < t->n ? &t->parts[k] : NULL;
}

/* ---- attributes ------------------------------------------------------------- */

static void sch_check_attr_value(espi_schema_checker *c, unsigned type, const char *elem,
                                 const char *prefix, const char *attr, const char *value, long line,
                                 long col)
{
    const sch_type *t = &sch_types[type];
    size_t len = strlen(value);
    size_t chars = t->kind == SCH_STRING && t->maxlen ? sch_utf8_chars(value, len) : len;
    int why = sch_check_value(t, value, len, chars);
    if (why) {
        char what[160];
        snprintf(what, sizeof what, "attribute '%s%s' of '%s'", prefix, attr, elem);
        sch_report_value(c, t, why == SCH_BAD_LEN ? SCH_BAD_LEN : SCH_BAD_LEX, what, value, len, chars,
                         line, col);
    }
}

/* xsi:type naming the declared type itself is harmless; anything else
 * would switch types, which our schema does not model. */
static int sch_xsi_type_ok(const sch_type *t, const char *value)
{
    const char *local = strchr(value, ':');
    const char *tname = strchr(t->name, ':');
    local = local ? local + 1 : value;
    tname = tname ? tname + 1 : t->name;
    return !strcmp(local, tname);
}

static void sch_check_attrs(espi_schema_checker *c, const sch_frame *f, const espi_schema_attr *attrs,
                            int n_attrs, long line, long col)
{
    const sch_type *t = &sch_types[f->type];
    const sch_attrset *set = &sch_attrsets[t->attrs];
    unsigned seen = 0, k;
    int i;

    for (i = 0; i < n_attrs; i++) {
        const espi_schema_attr *a = &attrs[i];
        int ns = sch_ns_of(c, a->ns);
        const char *value = a->value ? a->value : "";
        if (!a->local || ns == SCH_NS_XMLNS) continue;
        if (ns == SCH_NS_XSI) {
            if (!strcmp(a->local, "schemaLocation") || !strcmp(a->local, "noNamespaceSchemaLocation"))
                continue;
            if (!strcmp(a->local, "type") && sch_xsi_type_ok(t, value)) continue;
            sch_report(c, "SCHEMA-006", line, col, "attribute 'xsi:%s' not allowed on '%s'%s", a->local,
                       f->name, !strcmp(a->local, "nil") ? " (the element is not nillable)" : "");
            continue;
        }
        if (ns == SCH_NS_NONE && t->attrs != SCH_AS_NONE) {
            for (k = 0; k < set->n; k++)
                if (!strcmp(set->attrs[k].name, a->local)) break;
            if (k < set->n) {
                seen |= 1u << k;
                sch_check_attr_value(c, set->attrs[k].type, f->name, "", a->local, value, line, col);
                continue;
            }
        } else if (ns == SCH_NS_XML && t->attrs != SCH_AS_NONE) {
            for (k = 0; k < sch_n_xml_attrs; k++)
                if (!strcmp(sch_xml_attrs[k].name, a->local)) break;
            if (k < sch_n_xml_attrs) {
                sch_check_attr_value(c, sch_xml_attrs[k].type, f->name, "xml:", a->local, value, line,
                                     col);
                continue;
            }
        }
        if (ns == SCH_NS_NONE)
            sch_report(c, "SCHEMA-006", line, col, "attribute '%s' not allowed on '%s%s'", a->local,
                       sch_ns_prefix(t->ns), f->name);
        else
            sch_report(c, "SCHEMA-006", line, col, "attribute '{%s}%s' not allowed on '%s%s'",
                       a->ns ? a->ns : "", a->local, sch_ns_prefix(t->ns), f->name);
    }
    for (k = 0; k < set->n; k++)
        if (set->attrs[k].required && !(seen & (1u << k)))
            sch_report(c, "SCHEMA-006", line, col, "required attribute '%s' missing on 'atom:%s'",
                       set->attrs[k].name, f->name);
}

/* ---- events ----------------------------------------------------------------- */

/* Decide the type of a new element whose parent is frame f. */
static void sch_start_child(espi_schema_checker *c, sch_frame *f, int ns, const char *local,
                            long line, long col)
{
    const sch_type *t = &sch_types[f->type];
    const sch_particle *p = NULL;
    const sch_global *g;

    if (f->mode == MODE_SKIP) {
        sch_push(c, "", 0, MODE_SKIP, line, col);
        return;
    }
    if (f->mode == MODE_LAX) {
        g = sch_find_global(ns, local);
        if (g) sch_push(c, g->name, g->type, MODE_TYPED, line, col);
        else sch_push(c, "", 0, MODE_LAX, line, col);
        return;
    }
    switch (t->kind) {
    case SCH_SEQ:
        p = sch_seq_child(c, f, t, ns, local, line, col);
        break;
    case SCH_CHOICE:
        p = sch_choice_child(c, f, t, ns, local, line, col);
        if (p) break;
        if ((t->flags & SCH_F_OTHER) && (ns == SCH_NS_ESPI || ns == SCH_NS_CUST)) {
            g = sch_find_global(ns, local);
            if (g) {
                sch_push(c, g->name, g->type, MODE_TYPED, line, col);
                return;
            }
            sch_report(c, "SCHEMA-001", line, col,
                       "element '%s%s' in %s is not a global ESPI element", sch_ns_prefix(ns), local,
                       f->name);
        } else if (ns == t->ns) {
            sch_report(c, "SCHEMA-001", line, col, "element '%s%s' not expected in %s",
                       sch_ns_prefix(ns), local, f->name);
        } else {
            sch_report(c, "SCHEMA-001", line, col,
                       "element '%s' (namespace '%s') not expected in %s: no declaration for it",
                       local, ns == SCH_NS_NONE ? "none" : "other", f->name);
        }
        f->bad = 1;
        break;
    case SCH_WILD:
        g = (ns == SCH_NS_ESPI || ns == SCH_NS_CUST) ? sch_find_global(ns, local) : NULL;
        if (g) {
            sch_push(c, g->name, g->type, MODE_TYPED, line, col);
            return;
        }
        sch_report(c, "SCHEMA-008", line, col,
                   "element '%s%s' inside atom:content is not a global ESPI or customer element "
                   "(namespace '%s')",
                   sch_ns_prefix(ns), local,
                   ns == SCH_NS_ESPI ? SCH_URI_ESPI : ns == SCH_NS_CUST ? SCH_URI_CUST
                   : ns == SCH_NS_ATOM ? SCH_URI_ATOM : ns == SCH_NS_NONE ? "none" : "other");
        f->bad = 1;
        break;
    default: /* simple content or empty: no child elements */
        sch_report(c, "SCHEMA-001", line, col, "element '%s%s' not allowed in '%s': %s has no child elements",
                   sch_ns_prefix(ns), local, f->name, t->name);
        f->bad = 1;
        break;
    }
    if (p) sch_push(c, p->name, p->type, MODE_TYPED, line, col);
    else sch_push(c, "", 0, MODE_SKIP, line, col);
}

void espi_schema_start(espi_schema_checker *c, const char *ns, const char *local,
                       const espi_schema_attr *attrs, int n_attrs, long line, long col)
{
    int nsid;
    sch_frame *f;

    if (!c || !local) return;
    if (c->overflow || c->depth == SCH_MAX_DEPTH) {
        if (c->overflow++ == 0)
            sch_report(c, "SCHEMA-009", line, col,
                       "element '%s' nested deeper than %d levels; its content is not checked", local,
                       SCH_MAX_DEPTH);
        return;
    }
    nsid = sch_ns_of(c, ns);
    if (c->depth == 0) {
        const sch_global *g = sch_find_global(nsid, local);
        if (!g) {
            sch_report(c, "SCHEMA-007", line, col,
                       "root element '%s' is not atom:feed, atom:entry or a global ESPI/customer "
                       "element",
                       local);
            sch_push(c, "", 0, MODE_SKIP, line, col);
            return;
        }
        sch_push(c, g->name, g->type, MODE_TYPED, line, col);
    } else {
        sch_start_child(c, &c->frames[c->depth - 1], nsid, local, line, col);
    }
    f = &c->frames[c->depth - 1];
    if (f->mode == MODE_TYPED) sch_check_attrs(c, f, attrs, n_attrs, line, col);
}

void espi_schema_text(espi_schema_checker *c, const char *text, long line, long col)
{
    if (text) espi_schema_text_n(c, text, strlen(text), line, col);
}

void espi_schema_text_n(espi_schema_checker *c, const char *text, size_t n, long line, long col)
{
    sch_frame *f;
    const sch_type *t;

    if (!c || !text || c->depth == 0 || c->overflow) return;
    f = &c->frames[c->depth - 1];
    if (f->mode != MODE_TYPED) return;
    t = &sch_types[f->type];
    switch (t->kind) {
    case SCH_SEQ:
    case SCH_CHOICE:
    case SCH_EMPTY:
        if ((t->flags & SCH_F_MIXED) || f->bad || sch_only_ws_n(text, n)) return;
        sch_report(c, "SCHEMA-005", line, col, "text not allowed in '%s%s': %s has %s content",
                   sch_ns_prefix(t->ns), f->name, t->name,
                   t->kind == SCH_EMPTY ? "empty" : "element-only");
        f->bad = 1;
        return;
    case SCH_WILD:
    case SCH_ANY:
        return;
    default:
        break;
    }
    /* simple content: keep the value (bounded), count bytes and characters */
    c->text_bytes += n;
    c->text_chars += sch_utf8_chars(text, n);
    if (c->text_len < SCH_TEXT_MAX) {
        size_t room = SCH_TEXT_MAX - c->text_len;
        size_t k = n < room ? n : room;
        memcpy(c->text + c->text_len, text, k);
        c->text_len += k;
    }
}

/* End of a typed element: required children, or the value.  Both are
 * reported at the element's start tag, where a reader looks first. */
static void sch_end_typed(espi_schema_checker *c, sch_frame *f)
{
    const sch_type *t = &sch_types[f->type];
    const sch_type *st = t;
    char exp[400];
    unsigned j;
    int why;

    switch (t->kind) {
    case SCH_SEQ:
        if (f->bad) return;
        for (j = f->pos; j < t->n; j++) {
            unsigned have = j == f->pos ? f->count : 0;
            if (have < t->parts[j].min) {
                sch_expected(t, f->pos, f->count, exp, sizeof exp);
                sch_report(c, "SCHEMA-002", f->line, f->col,
                           "required element '%s' missing in %s (expected one of: %s)",
                           t->parts[j].name, f->name, exp);
                return;
            }
        }
        return;
    case SCH_CHOICE:
        if (!f->bad && sch_choice_run_short(t, f))
            sch_report(c, "SCHEMA-002", f->line, f->col,
                       "required element '%s' missing in %s: needs at least %u in a row",
                       t->parts[f->pos].name, f->name, t->parts[f->pos].min);
        return;
    case SCH_WILD:
    case SCH_EMPTY:
    case SCH_ANY:
        return;
    case SCH_SIMPLE:
        st = &sch_types[t->base];
        break;
    default:
        break;
    }
    if (f->bad) return;
    if (c->text_bytes > SCH_TEXT_MAX) {
        if (st->kind == SCH_STRING && !st->enums && !st->maxlen) return;
        sch_report(c, st->kind == SCH_STRING ? "SCHEMA-004" : "SCHEMA-003", f->line, f->col,
                   "element '%s': value of %zu bytes is longer than the %d this checker reads",
                   f->name, c->text_bytes, SCH_TEXT_MAX);
        return;
    }
    c->text[c->text_len] = 0;
    why = sch_check_value(st, c->text, c->text_len, c->text_chars);
    if (why) {
        char what[120];
        snprintf(what, sizeof what, "element '%s%s'", sch_ns_prefix(t->ns), f->name);
        sch_report_value(c, st, why, what, c->text, c->text_len, c->text_chars, f->line, f->col);
    }
}

void espi_schema_end(espi_schema_checker *c, long line, long col)
{
    sch_frame *f;
    if (!c) return;
    if (c->overflow) {
        c->overflow--;
        return;
    }
    if (c->depth == 0) return;
    f = &c->frames[c->depth - 1];
    if (f->mode == MODE_TYPED) sch_end_typed(c, f);
    c->depth--;
    c->text_len = c->text_bytes = c->text_chars = 0;
}
