/* x12.c -- ANSI X12 tokenizer: separators from the ISA, envelope counts.
 *
 * Why our own: Debian 12 has no C library for X12 (`apt-cache search x12
 * edi` finds only libx12-parser-perl, a Perl module); the grammar we need
 * is small -- fixed-width ISA, delimiter-split segments, three nested
 * envelopes with counts -- and a parser of outside input should be one we
 * can fuzz.  See x12.h for the rules checked. */
#include "x12.h"

#include <ctype.h>
#include <stdarg.h>
#include <string.h>

/* Offsets of the element separators in the fixed-width ISA (ISA01..ISA16
 * have fixed lengths 2,10,2,10,2,15,2,15,6,4,1,5,9,1,1,1). */
static const int isa_seps[16] = {3, 6, 17, 20, 31, 34, 50, 53, 69, 76, 81, 83, 89, 99, 101, 103};

void tr_x12_init(tr_x12 *x, FILE *in, const char *name)
{
    memset(x, 0, sizeof *x);
    x->in = in;
    x->name = name ? name : "-";
    x->el[0] = x->buf;
}

const char *tr_x12_id(const tr_x12 *x)
{
    return x->el[0] ? x->el[0] : "";
}

const char *tr_x12_el(const tr_x12 *x, int i)
{
    return i >= 1 && i <= x->n_el ? x->el[i] : "";
}

int tr_x12_is(const tr_x12 *x, const char *id)
{
    return strcmp(tr_x12_id(x), id) == 0;
}

char *tr_x12_component(const tr_x12 *x, const char *s, int k, char *out, size_t n)
{
    size_t len = 0;
    int at = 1;
    if (n == 0) return out;
    for (; *s && at < k; s++)
        if (*s == x->comp) at++;
    if (at == k)
        while (*s && *s != x->comp && len + 1 < n) out[len++] = *s++;
    out[len] = 0;
    return out;
}

int tr_x12_error(const tr_x12 *x, eg_err *err, int code, const char *fmt, ...)
{
    char what[EG_ERR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    return eg_errf(err, code, NULL, 0, 0, "%s:segment %ld (%.3s): %s", x->name, x->seg_no,
                   x->seg_no ? tr_x12_id(x) : "", what);
}

/* A printable rendering of a separator for messages. */
static const char *shown(char c, char out[8])
{
    if (c == '\n') return "\\n";
    if (c == '\r') return "\\r";
    if ((unsigned char)c < 0x20 || (unsigned char)c >= 0x7f)
        snprintf(out, 8, "\\x%02x", (unsigned char)c);
    else snprintf(out, 8, "%c", c);
    return out;
}

/* Skip blanks and line breaks between segments; the next byte or EOF. */
static int skip_space(tr_x12 *x)
{
    int c;
    while ((c = getc(x->in)) != EOF)
        if (!(c == '\r' || c == '\n' || c == ' ' || c == '\t')) break;
    return c;
}

/* Split buf into x->el by the element separator. */
static int split(tr_x12 *x, eg_err *err)
{
    char *p = x->buf;
    x->n_el = 0;
    x->el[0] = p;
    for (; *p; p++) {
        if (*p != x->elem) continue;
        *p = 0;
        if (x->n_el + 1 >= X12_MAX_ELEMENTS)
            return tr_x12_error(x, err, EG_ELIMIT, "more than %d elements (expected fewer)",
                                X12_MAX_ELEMENTS - 1);
        x->el[++x->n_el] = p + 1;
    }
    return 0;
}

static int valid_id(const char *id)
{
    size_t n = strlen(id);
    if (n < 2 || n > 3 || !isupper((unsigned char)id[0])) return 0;
    for (size_t i = 1; i < n; i++)
        if (!isupper((unsigned char)id[i]) && !isdigit((unsigned char)id[i])) return 0;
    return 1;
}

/* Read the fixed-width ISA whose first byte c was already read. */
static int read_isa(tr_x12 *x, int c, eg_err *err)
{
    char s[8], t[8];
    size_t n = 1;
    x->seg_no++;
    x->buf[0] = (char)c;
    while (n < X12_ISA_LEN && (c = getc(x->in)) != EOF) x->buf[n++] = (char)c;
    x->buf[n] = 0;
    x->el[0] = "ISA";
    x->n_el = 0;
    if (n < 4 || memcmp(x->buf, "ISA", 3) != 0) {
        x->el[0] = "";
        return tr_x12_error(x, err, EG_EDATA, "\"%.12s\" does not start an interchange "
                            "(expected an ISA segment)", x->buf);
    }
    if (n < X12_ISA_LEN)
        return tr_x12_error(x, err, EG_EDATA, "truncated: the file ends after %zu characters "
                            "(expected the fixed-width ISA of %d)", n, X12_ISA_LEN);
    x->elem = x->buf[3];
    x->comp = x->buf[104];
    x->term = x->buf[105];
    if (isalnum((unsigned char)x->elem) || x->elem == ' ')
        return tr_x12_error(x, err, EG_EDATA, "element separator '%s' is a letter, digit or "
                            "space (expected e.g. '*' at offset 3)", shown(x->elem, s));
    for (int i = 1; i < 16; i++)
        if (x->buf[isa_seps[i]] != x->elem)
            return tr_x12_error(x, err, EG_EDATA, "found '%s' at offset %d where the element "
                                "separator '%s' belongs (expected ISA%02d of its fixed length: "
                                "the ISA is exactly %d characters)",
                                shown(x->buf[isa_seps[i]], s), isa_seps[i], shown(x->elem, t), i,
                                X12_ISA_LEN);
    if (x->comp == x->elem || x->term == x->elem || x->term == x->comp ||
        isalnum((unsigned char)x->comp) || isalnum((unsigned char)x->term) || x->term == ' ')
        return tr_x12_error(x, err, EG_EDATA, "separators element '%s', component '%s', "
                            "terminator '%s' are not distinct non-alphanumeric characters "
                            "(ISA16 at offset 104, terminator at offset 105)",
                            shown(x->elem, s), shown(x->comp, t), shown(x->term, (char[8]){0}));
    x->buf[105] = 0;
    x->rep = 0;
    if (!isalnum((unsigned char)x->buf[82]) && x->buf[82] != x->elem && x->buf[82] != x->comp)
        x->rep = x->buf[82];
    return split(x, err);
}

/* Read one delimited segment starting with byte c.  1 ok, 0 clean EOF. */
static int read_segment(tr_x12 *x, int c, eg_err *err)
{
    size_t n = 0;
    if (c == EOF) {
        if (x->depth == 0 && x->eof_ok) return 0;
        return tr_x12_error(x, err, EG_EDATA, "the file ends after this segment, inside %s (expected %s)",
                            x->depth == 3 ? "a transaction set" : x->depth == 2 ? "a group"
                                                                                : "an interchange",
                            x->depth == 3 ? "SE" : x->depth == 2 ? "GE" : "IEA");
    }
    x->seg_no++;
    x->el[0] = "";
    x->n_el = 0;
    while (c != EOF && c != (unsigned char)x->term) {
        if (n >= X12_SEG_MAX)
            return tr_x12_error(x, err, EG_ELIMIT, "longer than %d characters (expected a "
                                "segment terminator; is it right?)", X12_SEG_MAX);
        if (c == 0 || ((c == '\n' || c == '\r') && x->term != '\n' && x->term != '\r')) {
            x->buf[n] = 0;
            x->el[0] = x->buf;
            split(x, NULL);
            return tr_x12_error(x, err, EG_EDATA, "%s inside the segment (expected the "
                                "terminator '%c' first; a truncated segment?)",
                                c ? "a line break" : "a NUL byte", x->term);
        }
        x->buf[n++] = (char)c;
        c = getc(x->in);
    }
    if (x->term == '\n' && n > 0 && x->buf[n - 1] == '\r') n--; /* CRLF as terminator */
    x->buf[n] = 0;
    if (split(x, err)) return EG_ELIMIT;
    if (c == EOF)
        return tr_x12_error(x, err, EG_EDATA, "truncated: the file ends before the segment "
                            "terminator '%c'", x->term);
    if (!valid_id(x->el[0])) {
        char s[8];
        return tr_x12_error(x, err, EG_EDATA, "\"%.12s\" is not a segment id (expected 2-3 "
                            "capital letters or digits; the ISA declares element separator '%s'"
                            " and terminator '%c')", x->el[0], shown(x->elem, s), x->term);
    }
    return 1;
}

static int parse_count(const char *s, long *out)
{
    long v = 0;
    size_t n = strlen(s);
    if (n == 0 || n > 9) return -1;
    for (; *s; s++) {
        if (!isdigit((unsigned char)*s)) return -1;
        v = v * 10 + (*s - '0');
    }
    *out = v;
    return 0;
}

/* Trailer check: element 1 counts, element 2 repeats the control number. */
static int check_trailer(tr_x12 *x, long have, const char *what, const char *ctrl,
                         const char *hdr, eg_err *err)
{
    long n;
    const char *c = tr_x12_el(x, 1);
    if (parse_count(c, &n))
        return tr_x12_error(x, err, EG_EDATA, "%s01 \"%s\" is not a count (expected %ld)",
                            tr_x12_id(x), c, have);
    if (n != have)
        return tr_x12_error(x, err, EG_EDATA, "%s01 says %ld %s but there are %ld (expected "
                            "%ld)", tr_x12_id(x), n, what, have, have);
    if (strcmp(tr_x12_el(x, 2), ctrl) != 0)
        return tr_x12_error(x, err, EG_EDATA, "%s02 control number \"%s\" differs from %s "
                            "\"%s\" (expected them equal)", tr_x12_id(x), tr_x12_el(x, 2), hdr,
                            ctrl);
    return 0;
}

static int copy_ctrl(tr_x12 *x, int el, char out[X12_CTRL_MAX], size_t min, size_t max,
                     int digits, eg_err *err)
{
    const char *s = tr_x12_el(x, el);
    size_t n = strlen(s);
    int ok = n >= min && n <= max;
    for (size_t i = 0; ok && digits && i < n; i++) ok = isdigit((unsigned char)s[i]) != 0;
    if (!ok)
        return tr_x12_error(x, err, EG_EDATA, "%s%02d control number \"%s\" is not %zu-%zu "
                            "%s", tr_x12_id(x), el, s, min, max, digits ? "digits" : "characters");
    snprintf(out, X12_CTRL_MAX, "%s", s);
    return 0;
}

/* The envelope state machine (x12.h). */
static int envelope(tr_x12 *x, eg_err *err)
{
    static const char *const expect[] = {"ISA", "GS or IEA", "ST or GE", ""};
    const char *id = tr_x12_id(x);
    int rc;
    if (strcmp(id, "ISA") == 0) {
        if (x->depth != 0)
            return tr_x12_error(x, err, EG_EDATA, "ISA inside an interchange (expected %s)",
                                expect[x->depth]);
        if ((rc = copy_ctrl(x, 13, x->isa_ctrl, 9, 9, 1, err))) return rc;
        x->depth = 1;
        x->groups = 0;
        x->eof_ok = 0;
    } else if (strcmp(id, "GS") == 0) {
        if (x->depth != 1)
            return tr_x12_error(x, err, EG_EDATA, "GS out of place (expected %s)",
                                x->depth == 0 ? "ISA" : expect[x->depth]);
        if ((rc = copy_ctrl(x, 6, x->gs_ctrl, 1, 9, 1, err))) return rc;
        x->depth = 2;
        x->sets = 0;
        x->groups++;
    } else if (strcmp(id, "ST") == 0) {
        if (x->depth != 2)
            return tr_x12_error(x, err, EG_EDATA, "ST out of place (expected %s)",
                                x->depth == 3 ? "SE before the next ST" : expect[x->depth]);
        if ((rc = copy_ctrl(x, 2, x->st_ctrl, 4, 9, 0, err))) return rc;
        x->depth = 3;
        x->segs = 1;
        x->sets++;
    } else if (strcmp(id, "SE") == 0) {
        if (x->depth != 3)
            return tr_x12_error(x, err, EG_EDATA, "SE without an ST (expected %s)",
                                expect[x->depth]);
        x->segs++;
        if ((rc = check_trailer(x, x->segs, "segments", x->st_ctrl, "ST02", err))) return rc;
        x->depth = 2;
    } else if (strcmp(id, "GE") == 0) {
        if (x->depth != 2)
            return tr_x12_error(x, err, EG_EDATA, "GE out of place (expected %s)",
                                x->depth == 3 ? "SE first" : expect[x->depth]);
        if ((rc = check_trailer(x, x->sets, "transaction sets", x->gs_ctrl, "GS06", err)))
            return rc;
        x->depth = 1;
    } else if (strcmp(id, "IEA") == 0) {
        if (x->depth != 1)
            return tr_x12_error(x, err, EG_EDATA, "IEA out of place (expected %s)",
                                x->depth == 3 ? "SE first" : expect[x->depth]);
        if ((rc = check_trailer(x, x->groups, "functional groups", x->isa_ctrl, "ISA13", err)))
            return rc;
        x->depth = 0;
        x->eof_ok = 1;
    } else if (x->depth == 3) {
        x->segs++;
    } else if (!(x->depth == 1 && strcmp(id, "TA1") == 0)) {
        return tr_x12_error(x, err, EG_EDATA, "%s outside a transaction set (expected %s)", id,
                            expect[x->depth]);
    }
    return 0;
}

int tr_x12_next(tr_x12 *x, eg_err *err)
{
    int c, rc;
    if (x->depth == 0) {
        if ((c = skip_space(x)) == EOF) {
            if (x->eof_ok) return 0;
            return tr_x12_error(x, err, EG_EDATA, "the file has no interchange (expected an "
                                "ISA segment)");
        }
        if (c == 0xEF && x->seg_no == 0) { /* a UTF-8 BOM before the first ISA */
            if (getc(x->in) != 0xBB || getc(x->in) != 0xBF)
                return tr_x12_error(x, err, EG_EDATA, "binary data (expected an ISA segment)");
            c = getc(x->in);
        }
        if ((rc = read_isa(x, c, err))) return rc;
    } else {
        c = skip_space(x);
        if ((rc = read_segment(x, c, err)) <= 0) return rc;
    }
    return (rc = envelope(x, err)) ? rc : 1;
}
