/* bill_pdf.c -- a bill PDF -> layout text for the bill text parser (bill.c).
 *
 * poppler-glib (Debian libpoppler-glib-dev) opens the PDF.  Its plain
 * poppler_page_get_text() returns text in poppler's "reading order", which
 * on a two-column bill may put a label in one block and its amount in
 * another ("Energy Charge" ... "$448.26" lines apart) -- fatal for a parser
 * that pairs labels with the amount ending their line.  So we take the
 * glyph boxes instead (poppler_page_get_text_layout(): one rectangle per
 * character of the page text) and rebuild what `pdftotext -layout` prints:
 *
 *   1. every non-blank glyph with its box, in page coordinates (y down);
 *   2. glyphs sorted by vertical centre, grouped into lines: a glyph joins
 *      the line when its centre is within half the median glyph height of
 *      the line's first glyph;
 *   3. each line sorted by x; between two glyphs as many blanks as the gap
 *      holds median glyph widths (at least one for a gap over a fifth of a
 *      width), so words keep one blank and columns stay apart by several.
 *
 * The text parser then works on this exactly as on pdftotext's output (its
 * patterns are anchored to labels, and the column gap is any run of two
 * blanks).  Memory: the page's glyphs (bounded by the PDF size limit).
 * Built without poppler-glib, tr_bill_pdf_text() answers EG_ECONFIG.
 *
 * poppler-glib is loaded with dlopen() when a PDF is read, not linked: it
 * drags in some eighty libraries (cairo, X11, NSS, ...) that would cost
 * every espigate process ~15 MB of resident memory and start-up time while
 * only `translate` of a PDF needs them.  The headers still type-check every
 * call; pdf_lib holds the handful of entry points we use. */
#include "bill.h"

#include <stdlib.h>
#include <string.h>

#ifdef ESPIGATE_HAVE_POPPLER
#include <dlfcn.h>
#include <poppler.h>

#define POPPLER_GLIB_SONAME "libpoppler-glib.so.8"

/* The poppler-glib / GLib entry points we call, resolved at run time. */
typedef struct pdf_lib {
    void *handle;
    GBytes *(*bytes_new)(gconstpointer, gsize);
    void (*bytes_unref)(GBytes *);
    void (*error_free)(GError *);
    void (*free)(gpointer);
    void (*object_unref)(gpointer);
    PopplerDocument *(*document_new_from_bytes)(GBytes *, const char *, GError **);
    int (*document_get_n_pages)(PopplerDocument *);
    PopplerPage *(*document_get_page)(PopplerDocument *, int);
    char *(*page_get_text)(PopplerPage *);
    gboolean (*page_get_text_layout)(PopplerPage *, PopplerRectangle **, guint *);
} pdf_lib;

/* Resolve one symbol into a function pointer of any type (POSIX dlsym). */
#define PDF_SYM(lib, field, name) \
    (*(void **)(&(lib)->field) = dlsym((lib)->handle, (name))) != NULL

static int pdf_lib_open(pdf_lib *lib, const char *name, eg_err *err)
{
    memset(lib, 0, sizeof *lib);
    lib->handle = dlopen(POPPLER_GLIB_SONAME, RTLD_NOW | RTLD_LOCAL);
    if (!lib->handle)
        return eg_errf(err, EG_ECONFIG, name, 0, 0,
                       "PDF support needs %s (apt-get install libpoppler-glib8), or give the "
                       "text of `pdftotext -layout` with --from bill-text: %s",
                       POPPLER_GLIB_SONAME, dlerror());
    if (PDF_SYM(lib, bytes_new, "g_bytes_new") && PDF_SYM(lib, bytes_unref, "g_bytes_unref") &&
        PDF_SYM(lib, error_free, "g_error_free") && PDF_SYM(lib, free, "g_free") &&
        PDF_SYM(lib, object_unref, "g_object_unref") &&
        PDF_SYM(lib, document_new_from_bytes, "poppler_document_new_from_bytes") &&
        PDF_SYM(lib, document_get_n_pages, "poppler_document_get_n_pages") &&
        PDF_SYM(lib, document_get_page, "poppler_document_get_page") &&
        PDF_SYM(lib, page_get_text, "poppler_page_get_text") &&
        PDF_SYM(lib, page_get_text_layout, "poppler_page_get_text_layout"))
        return 0;
    eg_errf(err, EG_ECONFIG, name, 0, 0, "%s lacks a function espigate needs: %s",
            POPPLER_GLIB_SONAME, dlerror());
    dlclose(lib->handle);
    lib->handle = NULL;
    return EG_ECONFIG;
}

/* Length of the UTF-8 sequence starting with byte c (1 for invalid bytes). */
static int utf8_len(unsigned char c)
{
    return c >= 0xF0 && c < 0xF8 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
}

typedef struct glyph {
    double x1, y1, x2, y2;
    char utf8[8];
    int len;
} glyph;

typedef struct out_buf {
    char *p;
    size_t n, cap;
} out_buf;

static int put(out_buf *o, const char *s, size_t n)
{
    if (o->n + n + 1 > o->cap) {
        size_t cap = (o->n + n + 1) * 2;
        char *grown = realloc(o->p, cap);
        if (!grown) return -1;
        o->p = grown;
        o->cap = cap;
    }
    memcpy(o->p + o->n, s, n);
    o->n += n;
    o->p[o->n] = 0;
    return 0;
}

static int by_centre(const void *a, const void *b)
{
    const glyph *x = a, *y = b;
    double cx = (x->y1 + x->y2) / 2, cy = (y->y1 + y->y2) / 2;
    if (cx != cy) return cx < cy ? -1 : 1;
    return x->x1 < y->x1 ? -1 : x->x1 > y->x1;
}

static int by_x(const void *a, const void *b)
{
    const glyph *x = a, *y = b;
    return x->x1 < y->x1 ? -1 : x->x1 > y->x1;
}

static int by_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Median of v[0..n) (sorts v). */
static double median(double *v, size_t n)
{
    qsort(v, n, sizeof *v, by_double);
    return n ? v[n / 2] : 1;
}

/* The page's non-blank glyphs; *n gets the count.  NULL on no memory. */
static glyph *page_glyphs(const pdf_lib *lib, PopplerPage *page, size_t *n)
{
    PopplerRectangle *rects = NULL;
    guint n_rects = 0;
    char *text = lib->page_get_text(page);
    glyph *g = NULL;
    *n = 0;
    if (!text || !lib->page_get_text_layout(page, &rects, &n_rects)) goto done;
    if (!(g = calloc(n_rects ? n_rects : 1, sizeof *g))) goto done;
    const char *p = text;
    for (guint i = 0; i < n_rects && *p; i++) {
        unsigned char c = (unsigned char)*p;
        const char *next = p + utf8_len(c);
        for (const char *q = p + 1; q < next; q++)
            if (!*q) next = q; /* truncated sequence at the end */
        if (c > ' ' && next - p < (long)sizeof g->utf8) {
            glyph *x = &g[(*n)++];
            x->x1 = rects[i].x1;
            x->y1 = rects[i].y1;
            x->x2 = rects[i].x2;
            x->y2 = rects[i].y2;
            x->len = (int)(next - p);
            memcpy(x->utf8, p, (size_t)x->len);
        }
        p = next;
    }
done:
    lib->free(rects);
    lib->free(text);
    return g;
}

/* Lines of one page's glyphs (see the file comment) appended to o. */
static int page_lines(glyph *g, size_t n, out_buf *o)
{
    double *v = malloc((n ? n : 1) * sizeof *v);
    if (!v) return -1;
    for (size_t i = 0; i < n; i++) v[i] = g[i].x2 - g[i].x1;
    double w = median(v, n);
    for (size_t i = 0; i < n; i++) v[i] = g[i].y2 - g[i].y1;
    double h = median(v, n);
    free(v);
    if (w <= 0) w = 1;
    qsort(g, n, sizeof *g, by_centre);
    for (size_t i = 0; i < n;) {
        double c0 = (g[i].y1 + g[i].y2) / 2;
        size_t j = i + 1;
        while (j < n && (g[j].y1 + g[j].y2) / 2 - c0 <= h / 2) j++;
        qsort(g + i, j - i, sizeof *g, by_x);
        for (size_t k = i; k < j; k++) {
            if (k > i) {
                double gap = g[k].x1 - g[k - 1].x2;
                long blanks = gap > w / 5 ? (long)(gap / w + 0.5) : 0;
                if (gap > w / 5 && blanks < 1) blanks = 1;
                if (blanks > 200) blanks = 200;
                for (long b = 0; b < blanks; b++)
                    if (put(o, " ", 1)) return -1;
            }
            if (put(o, g[k].utf8, (size_t)g[k].len)) return -1;
        }
        if (put(o, "\n", 1)) return -1;
        i = j;
    }
    return 0;
}

int tr_bill_pdf_text(const unsigned char *pdf, size_t len, const char *name, char **out,
                     size_t *out_len, eg_err *err)
{
    pdf_lib lib;
    int rc = pdf_lib_open(&lib, name, err);
    if (rc) return rc;
    GError *gerr = NULL;
    GBytes *bytes = lib.bytes_new(pdf, len);
    PopplerDocument *doc = lib.document_new_from_bytes(bytes, NULL, &gerr);
    out_buf o = {NULL, 0, 0};
    if (!doc) {
        rc = eg_errf(err, EG_EDATA, name, 0, 0, "not a readable PDF: %s (expected a bill PDF)",
                     gerr && gerr->message ? gerr->message : "poppler cannot open it");
        goto done;
    }
    if (put(&o, "", 0)) goto nomem;
    for (int i = 0; i < lib.document_get_n_pages(doc); i++) {
        PopplerPage *page = lib.document_get_page(doc, i);
        size_t n = 0;
        glyph *g = page ? page_glyphs(&lib, page, &n) : NULL;
        int bad = !g || page_lines(g, n, &o);
        free(g);
        if (page) lib.object_unref(page);
        if (bad) goto nomem;
    }
    *out = o.p;
    *out_len = o.n;
    o.p = NULL;
    goto done;
nomem:
    rc = eg_errf(err, EG_ENOMEM, name, 0, 0, "out of memory");
done:
    free(o.p);
    if (gerr) lib.error_free(gerr);
    if (doc) lib.object_unref(doc);
    lib.bytes_unref(bytes);
    dlclose(lib.handle);
    return rc;
}

#else /* !ESPIGATE_HAVE_POPPLER */

int tr_bill_pdf_text(const unsigned char *pdf, size_t len, const char *name, char **out,
                     size_t *out_len, eg_err *err)
{
    (void)pdf, (void)len, (void)out, (void)out_len;
    return eg_errf(err, EG_ECONFIG, name, 0, 0,
                   "this espigate was built without PDF support (install libpoppler-glib-dev "
                   "and rebuild, or give the text of `pdftotext -layout` with --from bill-text)");
}

#endif
