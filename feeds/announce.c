/* announce.c -- imported data -> notifications (see announce.h).
 *
 * The set of changed usage points is kept as a sorted-on-demand array of
 * strings with a cheap "same as the last one" check, because an import
 * reports its entries usage point by usage point: thousands of blocks of
 * one meter arrive in a row. */
#include "announce.h"

#include <stdlib.h>
#include <string.h>

#include "custodian.h"
#include "notify.h"

struct announce {
    char **up;                   /* distinct usage point self hrefs */
    size_t n, cap;
    int overflow;                /* more than ANNOUNCE_MAX_USAGE_POINTS: everyone */
    char last[ESPI_URI_MAX];
};

announce *announce_new(void)
{
    return calloc(1, sizeof(announce));
}

static void forget(announce *a)
{
    for (size_t i = 0; i < a->n; i++) free(a->up[i]);
    a->n = 0;
    a->overflow = 0;
    a->last[0] = '\0';
}

void announce_free(announce *a)
{
    if (!a) return;
    forget(a);
    free(a->up);
    free(a);
}

void announce_changed(void *ctx, const char *usage_point_self)
{
    announce *a = ctx;
    if (!usage_point_self[0] || a->overflow || strcmp(a->last, usage_point_self) == 0) return;
    snprintf(a->last, sizeof a->last, "%s", usage_point_self);
    for (size_t i = 0; i < a->n; i++)
        if (strcmp(a->up[i], usage_point_self) == 0) return;
    if (a->n == ANNOUNCE_MAX_USAGE_POINTS) {
        a->overflow = 1;
        return;
    }
    if (a->n == a->cap) {
        size_t cap = a->cap ? a->cap * 2 : 16;
        char **v = realloc(a->up, cap * sizeof *v);
        if (!v) {
            a->overflow = 1; /* out of memory: announce to everyone rather than no one */
            return;
        }
        a->up = v;
        a->cap = cap;
    }
    if (!(a->up[a->n] = strdup(usage_point_self))) a->overflow = 1;
    else a->n++;
}

void announce_resource_base(store *s, char *out, size_t size)
{
    char base[ESPI_URI_MAX];
    eg_err ignored;
    if (store_meta_get(s, "base_url", base, sizeof base, &ignored) || !base[0])
        snprintf(base, sizeof base, "https://localhost:8443");
    int n = snprintf(out, size, "%s/DataCustodian/espi/1_1/resource", base);
    if (n < 0 || (size_t)n >= size) out[0] = '\0'; /* too long: no base rather than a wrong one */
}

/* One subscription to tell: collected first, queued after the walk (a
 * store cursor must not be open while notify_enqueue writes). */
typedef struct target {
    char sid[CD_ID_MAX], client[CD_ID_MAX];
} target;

typedef struct walk {
    target *t;
    size_t n, cap;
} walk;

static int collect(void *ctx, const char *subscription_id, const char *client_id,
                   const char *customer_id, const char *authorization_id)
{
    walk *w = ctx;
    (void)customer_id;
    (void)authorization_id;
    for (size_t i = 0; i < w->n; i++)
        if (strcmp(w->t[i].sid, subscription_id) == 0) return 0;
    if (w->n == w->cap) {
        size_t cap = w->cap ? w->cap * 2 : 8;
        target *v = realloc(w->t, cap * sizeof *v);
        if (!v) return EG_ENOMEM;
        w->t = v;
        w->cap = cap;
    }
    snprintf(w->t[w->n].sid, sizeof w->t[w->n].sid, "%s", subscription_id);
    snprintf(w->t[w->n].client, sizeof w->t[w->n].client, "%s", client_id);
    w->n++;
    return 0;
}

/* Every active subscription, for an import too large to track: the client
 * ids first (cd_app_list), then each one's subscriptions -- a store cursor
 * stays closed while the next query runs. */
typedef struct ids {
    char (*v)[CD_ID_MAX];
    size_t n, cap;
} ids;

static int collect_app(void *ctx, const cd_app *a)
{
    ids *l = ctx;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 8;
        char(*v)[CD_ID_MAX] = realloc(l->v, cap * sizeof *v);
        if (!v) return EG_ENOMEM;
        l->v = v;
        l->cap = cap;
    }
    snprintf(l->v[l->n++], CD_ID_MAX, "%s", a->client_id);
    return 0;
}

static int collect_all(store *s, walk *w, eg_err *err)
{
    ids apps = {NULL, 0, 0};
    int rc = cd_app_list(s, collect_app, &apps, err);
    for (size_t i = 0; !rc && i < apps.n; i++)
        rc = cd_subscriptions_of_client(s, apps.v[i], collect, w, err);
    free(apps.v);
    return rc;
}

int announce_send(announce *a, store *s, long *queued, eg_err *err)
{
    walk w = {NULL, 0, 0};
    long count = 0;
    int rc = cd_init(s, err);
    char base[ESPI_URI_MAX];
    if (queued) *queued = 0;
    if (rc) goto done;
    if (a->overflow) {
        rc = collect_all(s, &w, err);
    } else {
        for (size_t i = 0; !rc && i < a->n; i++) {
            char customer[CD_ID_MAX];
            if ((rc = store_usage_point_customer(s, a->up[i], customer, sizeof customer, err)))
                break;
            if (customer[0]) rc = cd_subscriptions_of_customer(s, customer, collect, &w, err);
        }
    }
    if (rc) goto done;
    announce_resource_base(s, base, sizeof base);
    for (size_t i = 0; !rc && i < w.n; i++) {
        cd_app app;
        char uri[ESPI_URI_MAX + CD_ID_MAX + 32];
        const char *uris[1] = {uri};
        if (cd_app_get(s, w.t[i].client, &app, NULL) || !app.notify_uri[0]) continue;
        snprintf(uri, sizeof uri, "%s/Batch/Subscription/%s", base, w.t[i].sid);
        rc = notify_enqueue(s, app.client_id, app.notify_uri, uris, 1, err);
        if (!rc) count++;
    }
done:
    free(w.t);
    forget(a);
    if (queued) *queued = count;
    return rc;
}
