/* pipeline.c -- feed file -> two reader passes -> aggregate -> HTML.
 *
 * Atom does not order entries: a ReadingType or the LocalTimeParameters
 * may follow the IntervalBlocks that need them (the GBA 15-minute sample
 * puts its ReadingType last).  So the feed is read twice, the first time
 * keeping only metadata.  Standard input cannot be read twice, so it is
 * first copied to a temporary file (TMPDIR, removed at once after use). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "reader.h"
#include "render_int.h"

typedef struct pass_ctx {
    render_agg *a;
    int (*data)(void *ctx, const espi_resource *r, eg_err *err);
    void *data_ctx;
} pass_ctx;

static int on_head(void *p, const espi_feed_head *h, eg_err *err)
{
    pass_ctx *c = p;
    return render_agg_head(c->a, h, err);
}

static int on_meta(void *p, const espi_resource *r, eg_err *err)
{
    pass_ctx *c = p;
    return render_agg_meta(c->a, r, err);
}

static int on_data(void *p, const espi_resource *r, eg_err *err)
{
    pass_ctx *c = p;
    return c->data(c->data_ctx, r, err);
}

/* Copy stdin to a new temporary file; its path goes to tmp (>= 4096). */
static int spool_stdin(char *tmp, size_t size, eg_err *err)
{
    const char *dir = getenv("TMPDIR");
    FILE *f = NULL;
    int fd = -1, rc = 0;
    char buf[65536];
    size_t n;
    snprintf(tmp, size, "%s/espigate-render-XXXXXX", dir && *dir ? dir : "/tmp");
    if ((fd = mkstemp(tmp)) < 0 || !(f = fdopen(fd, "wb"))) {
        rc = eg_errf(err, EG_ECANTCREAT, tmp, 0, 0,
                     "cannot create a temporary file to hold standard input: %s (set TMPDIR)",
                     strerror(errno));
        if (fd >= 0) close(fd);
        *tmp = '\0';
        goto done;
    }
    while ((n = fread(buf, 1, sizeof buf, stdin)) > 0)
        if (fwrite(buf, 1, n, f) != n) break;
    if (ferror(stdin) || ferror(f))
        rc = eg_errf(err, EG_EIO, tmp, 0, 0, "cannot copy standard input: %s", strerror(errno));
done:
    if (f && fclose(f) != 0 && !rc) rc = eg_errf(err, EG_EIO, tmp, 0, 0, "cannot write");
    return rc;
}

int render_read_passes(const char *path, render_agg *a,
                       int (*data)(void *ctx, const espi_resource *r, eg_err *err), void *ctx,
                       eg_err *err)
{
    char tmp[4096] = "";
    espi_reader_opts ro;
    pass_ctx pc = {a, data, ctx};
    espi_reader_cbs meta = {&pc, on_head, on_meta, NULL, NULL};
    espi_reader_cbs rest = {&pc, NULL, on_data, NULL, NULL};
    const char *file = path;
    int rc = 0;

    espi_reader_opts_init(&ro);
    ro.check_schema = 0; /* render what can be read; `validate` judges */
    if (strcmp(path, "-") == 0) {
        if ((rc = spool_stdin(tmp, sizeof tmp, err))) goto done;
        file = tmp;
    }
    if ((rc = espi_read_file(file, &ro, &meta, NULL, err))) goto done;
    render_agg_resolve(a);
    rc = espi_read_file(file, &ro, &rest, NULL, err);
done:
    if (*tmp) unlink(tmp);
    if (rc && err && *tmp && strcmp(err->file, tmp) == 0) snprintf(err->file, sizeof err->file, "-");
    return rc;
}

static int agg_data(void *p, const espi_resource *r, eg_err *err)
{
    return render_agg_data(p, r, err);
}

int render_feed_html(const char *path, const render_opts *o, FILE *out, eg_err *err)
{
    render_opts opts;
    render_agg *a = NULL;
    char *xml = NULL;
    size_t len = 0;
    int rc = 0;

    render_opts_init(&opts);
    if (o) opts = *o;
    if (!opts.source_name) { /* the file name only: pages get shared */
        const char *slash = strrchr(path, '/');
        opts.source_name = strcmp(path, "-") == 0 ? "standard input" : slash ? slash + 1 : path;
    }
    if (!(a = render_agg_new(&opts))) {
        rc = eg_errf(err, EG_ENOMEM, NULL, 0, 0, "out of memory");
        goto done;
    }
    if ((rc = render_read_passes(path, a, agg_data, a, err))) goto done;
    if ((rc = render_agg_finish(a, err))) goto done;
    if ((rc = render_agg_xml(a, &xml, &len, err))) goto done;
    rc = render_html_from_xml(xml, len, out, err);
done:
    if (rc == EG_ELIMIT && err && !*err->file) snprintf(err->file, sizeof err->file, "%s", path);
    free(xml);
    render_agg_free(a);
    return rc;
}

typedef struct csv_pass {
    render_agg *a;
    FILE *out;
} csv_pass;

static int csv_data(void *p, const espi_resource *r, eg_err *err)
{
    csv_pass *c = p;
    return render_csv_block(c->a, c->out, r, err);
}

int render_feed_csv(const char *path, const render_opts *o, FILE *out, eg_err *err)
{
    render_agg *a = render_agg_new(o);
    int rc = 0;
    if (!a) return eg_errf(err, EG_ENOMEM, NULL, 0, 0, "out of memory");
    csv_pass c = {a, out};
    render_csv_header(out);
    rc = render_read_passes(path, a, csv_data, &c, err);
    if (!rc && (fflush(out) != 0 || ferror(out)))
        rc = eg_errf(err, EG_EIO, NULL, 0, 0, "cannot write the CSV output");
    render_agg_free(a);
    return rc;
}
