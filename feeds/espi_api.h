/* espi_api.h -- the Data Custodian's ESPI REST resource server.
 *
 * One http_handler_fn (http.h) serves GET {prefix}/espi/1_1/resource/...
 * from the store: the Batch feeds, the Subscription/UsagePoint tree,
 * LocalTimeParameters, ReadingType, ApplicationInformation, Authorization,
 * Batch/Bulk and ReadServiceStatus (NOTES.md section 3).  Who may read what
 * comes from the OAuth grant behind the bearer token; the bearer check and
 * the Data Custodian's own records (third-party apps, authorizations, which
 * customers a bulk request covers) are CALLBACKS, so this file knows
 * neither oauth.c nor the custodian tables and is tested with stubs.
 *
 * Access control (fail closed):
 *   - no token, or one the authorize callback refuses: 401 with
 *     WWW-Authenticate: Bearer realm="espigate", error="invalid_token";
 *   - a token of the wrong kind for the route (a customer token on
 *     ApplicationInformation, a client token on a Subscription): 403 with
 *     error="insufficient_scope";
 *   - anything the grant does not cover -- another subscription id,
 *     another customer's UsagePoint, another client's ApplicationInformation
 *     or Authorization, a bulk id that is not the client's -- answers 404
 *     "not found", byte for byte the answer for an id that does not exist,
 *     so a token cannot probe which ids exist.  We chose 404 over 403
 *     because the lookup itself is scoped to the grant: from the grant's
 *     point of view the resource does not exist.
 *   - unknown paths under the resource root: 404; other methods: 405 with
 *     Allow: GET.
 * Order of checks: method, route, token, query parameters, grant kind,
 * scope.
 *
 * Subscription ids in URLs are the grant's (bare UUID).  Resource ids are
 * bare UUIDs (the entry id without "urn:uuid:") or the last segment of
 * the stored self href; both are accepted (case-insensitive).  Entries go
 * out as they were stored: their self/up/related hrefs are the ones in
 * the imported feed (translated feeds link to
 * https://localhost:8443/DataCustodian/espi/1_1/resource/Subscription/{the
 * translator's subscription id}/...), not rewritten to the request's URL.
 *
 * Query parameters (FB_37), on every route, malformed -> 400 text/plain:
 *   published-min/-max, updated-min/-max  xs:dateTime (2024-01-01T00:00:00Z,
 *       or a date = midnight UTC): entries whose published/updated lies in
 *       the closed range;
 *   max-results (>= 1), start-index (>= 1, default 1): paging over the
 *       entries of a feed, in store order (page 1 + page 2 = the whole set);
 *   depth (integer >= 0): accepted and validated, not applied -- every
 *       response already carries the whole requested resource.
 * They select entries of FEEDS; a single-entry GET ignores them.
 *
 * Responses: feeds and entries are application/atom+xml; ServiceStatus (a
 * bare ESPI element, not Atom) is application/xml.  Every feed STREAMS:
 * the handler hands the core a producer and a worker thread opens its own
 * store connection (store_open(store_url)), runs the query into the
 * streaming writer and fills a 256 KiB ring buffer; the producer moves up
 * to 64 KiB per call into the response and answers HTTP_PRODUCE_WAIT when
 * the ring is empty, and the worker calls http_resp_wake() when it adds to
 * an empty ring or finishes.  done() stops the worker (the query ends at
 * its next entry; what it still writes is discarded) and joins it, so a
 * client that goes away mid-feed costs nothing more.  The worker may call
 * http_resp_wake() until done() returns.  A failure after the first byte cannot change the 200 status: the
 * producer returns -1 and the core closes the connection (the feed is
 * visibly truncated).  Single entries are built in memory (one entry; an
 * IntervalBlock entry of a long 1-minute block can pass 1 MiB, so an entry
 * above the buffered-body limit is handed out by a memory producer).
 *
 * Threads: espi_api_handle runs on the server's event-loop thread and
 * uses the api's store connection (s) for lookups; it is not meant to be
 * called from two threads at once.  The callbacks are called on that
 * thread only, never from a stream worker. */
#ifndef FEEDS_ESPI_API_H
#define FEEDS_ESPI_API_H

#include "err.h"
#include "espi.h"
#include "http.h"
#include "oauth.h"
#include "store.h"

typedef struct espi_api espi_api;

typedef struct espi_api_opts {
    const char *prefix;        /* "/DataCustodian" */
    const char *store_url;     /* to open one extra store connection per streaming response */
    /* Bearer check: the whole Authorization header value ("Bearer ...").
     * Fill *g and return 0, or EG_EINVALID (-> 401).  Other codes -> 500. */
    int (*authorize)(void *ctx, const char *authorization_header, oauth_grant *g, eg_err *err);
    /* GET ApplicationInformation/{id}: fill e + out, EG_ENOINPUT when unknown. */
    int (*app_info)(void *ctx, const char *client_id, espi_entry *e,
                    espi_application_information *out, eg_err *err);
    /* GET Authorization[/{id}]: call cb for each of client_id's authorizations
     * (authorization_id NULL), or just the one with that id.  A nonzero
     * return of cb must be returned (EG_ESTOP = stop quietly). */
    int (*authorizations)(void *ctx, const char *client_id, const char *authorization_id,
                          int (*cb)(void *cbctx, const espi_entry *e, const espi_authorization *a,
                                    eg_err *err),
                          void *cbctx, eg_err *err);
    /* Batch/Bulk: the customers whose subscriptions belong to client_id.
     * A nonzero return of cb must be returned. */
    int (*bulk_customers)(void *ctx, const char *client_id,
                          int (*cb)(void *cbctx, const char *customer_id,
                                    const char *subscription_id),
                          void *cbctx, eg_err *err);
    void *ctx;
} espi_api_opts;

/* A resource server over store s (borrowed: it must outlive the api) with
 * the options o (strings copied; callbacks may be NULL, then their routes
 * answer 404, and without authorize every request is 401).  Returns NULL
 * with err filled on bad options or out of memory.  Free with
 * espi_api_free() after every stream it started has ended. */
espi_api *espi_api_new(store *s, const espi_api_opts *o, eg_err *err);
void espi_api_free(espi_api *a);

/* The handler (http_handler_fn): 0 for paths outside
 * {prefix}/espi/1_1/resource, else 1 with the response filled as above. */
int espi_api_handle(void *api, const http_req *r, http_resp *rs);

#endif
