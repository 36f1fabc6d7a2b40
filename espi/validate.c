/* validate.c -- reader + schema + rules in one pass; see validate.h.
 *
 * The reader reports XML-, SCHEMA- and XSD- findings itself; we forward
 * them and count.  Resources go to the rules engine, which reports its own
 * findings at the entry they concern and, at the end, the whole-feed ones
 * (links that do not resolve). */
#include "validate.h"

#include <string.h>

#include "rules.h"

typedef struct vstate {
    const espi_validate_opts *o;
    espi_diag_cb diag;
    void *ctx;
    void (*progress)(void *, unsigned long long);
    espi_rules *rules;
    espi_validate_result *res;
} vstate;

static int ignored(const espi_validate_opts *o, const char *rule)
{
    for (int i = 0; o && i < o->n_ignore; i++)
        if (strcmp(o->ignore[i], rule) == 0) return 1;
    return 0;
}

static void count_diag(void *p, const espi_diag *d)
{
    vstate *v = p;
    if (ignored(v->o, d->rule)) return;
    if (d->severity == ESPI_SEV_ERROR) v->res->errors++;
    else if (d->severity == ESPI_SEV_WARNING) v->res->warnings++;
    if (v->diag) v->diag(v->ctx, d);
}

static int on_head(void *p, const espi_feed_head *h, eg_err *err)
{
    vstate *v = p;
    (void)err;
    if (v->rules) espi_rules_feed_head(v->rules, h, 1);
    return 0;
}

static int on_resource(void *p, const espi_resource *r, eg_err *err)
{
    vstate *v = p;
    (void)err;
    v->res->resources++;
    if (r->type == ESPI_RES_INTERVAL_BLOCK)
        v->res->interval_readings += (long)r->u.interval_block.n_readings;
    if (v->rules) espi_rules_resource(v->rules, r);
    return 0;
}

static void on_progress(void *p, unsigned long long bytes)
{
    vstate *v = p;
    if (v->progress) v->progress(v->ctx, bytes);
}

typedef int (*read_fn)(const espi_reader_opts *, const espi_reader_cbs *, espi_read_stats *,
                       eg_err *, void *);

static int run(const char *name, const espi_validate_opts *o, espi_diag_cb diag,
               void (*progress)(void *, unsigned long long), void *ctx,
               espi_validate_result *res, eg_err *err, read_fn fn, void *arg)
{
    vstate v = {o, diag, ctx, progress, NULL, res};
    espi_reader_opts ro;
    espi_read_stats st;
    int rc;

    memset(res, 0, sizeof *res);
    memset(&st, 0, sizeof st);
    espi_reader_opts_init(&ro);
    ro.check_schema = 1;
    ro.xsd_file = o ? o->xsd_file : NULL;
    if (!o || o->level == ESPI_LEVEL_FULL) {
        v.rules = espi_rules_new(name, count_diag, &v);
        if (!v.rules) return eg_errf(err, EG_ENOMEM, name, 0, 0, "out of memory");
    }
    espi_reader_cbs cbs = {&v, on_head, on_resource, count_diag, on_progress};
    rc = fn(&ro, &cbs, &st, err, arg);
    if (rc == 0 && v.rules) espi_rules_finish(v.rules);
    res->entries = st.entries;
    res->bytes = st.bytes;
    res->fatal = rc != 0;
    espi_rules_free(v.rules);
    return rc;
}

typedef struct file_arg { const char *path; } file_arg;

static int read_path(const espi_reader_opts *ro, const espi_reader_cbs *cbs,
                     espi_read_stats *st, eg_err *err, void *arg)
{
    return espi_read_file(((file_arg *)arg)->path, ro, cbs, st, err);
}

int espi_validate_file(const char *path, const espi_validate_opts *o,
                       espi_diag_cb diag, void (*progress)(void *, unsigned long long),
                       void *ctx, espi_validate_result *res, eg_err *err)
{
    file_arg a = {path};
    return run(path, o, diag, progress, ctx, res, err, read_path, &a);
}

typedef struct io_arg {
    int (*readfn)(void *, char *, int);
    void *io;
    const char *name;
} io_arg;

static int read_io(const espi_reader_opts *ro, const espi_reader_cbs *cbs,
                   espi_read_stats *st, eg_err *err, void *arg)
{
    io_arg *a = arg;
    return espi_read_io(a->readfn, a->io, a->name, ro, cbs, st, err);
}

int espi_validate_io(int (*readfn)(void *io, char *buf, int len), void *io, const char *name,
                     const espi_validate_opts *o, espi_diag_cb diag, void *ctx,
                     espi_validate_result *res, eg_err *err)
{
    io_arg a = {readfn, io, name};
    return run(name, o, diag, NULL, ctx, res, err, read_io, &a);
}
