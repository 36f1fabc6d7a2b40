/* notify.h -- ESPI notifications (FB_39 PUSH): a durable outbound queue.
 *
 * When new data is stored for a subscription, the Data Custodian tells the
 * third party by POSTing a BatchList (espi namespace, one <resources> URI
 * per ready resource, typically .../Batch/Subscription/{sid}) to the
 * application's thirdPartyNotifyUri.  The third party then GETs those URIs
 * with its token.  A notification is a hint, so sending one twice is
 * harmless; losing one is not (the third party would never fetch the data).
 *
 * Hence a queue in the store itself (table notify_queue, created on first
 * use, SQL valid for SQLite and PostgreSQL):
 *   - notify_enqueue() commits one row with its body already built, so the
 *     notification survives a crash or restart the moment it returns.  A
 *     pending row for the same client and URI that is not being sent right
 *     now absorbs the new URIs instead (coalescing, duplicates removed), so
 *     ten imports in a minute make one POST, not ten.
 *   - notify_run_due() claims due rows ONE AT A TIME in a short write
 *     transaction (UPDATE ... WHERE state = 'pending' AND next_try <= now AND
 *     lease_until <= now, stamping a random claim token and a lease), POSTs
 *     outside any transaction, then records the outcome in another short
 *     transaction -- only if the claim token is still ours.  Two processes
 *     (or threads) on one database therefore never send the same row twice
 *     while a lease holds, and a sender that dies mid-POST only delays its
 *     row until the lease runs out.
 *   - A 2xx answer marks the row 'sent' (kept, with sent_at).  Anything else
 *     (curl error, TLS failure, non-2xx status, redirect) is recorded in
 *     last_error and the row is retried at now + min(base * 2^attempts, max)
 *     plus up to 10 % random jitter; after max_attempts it becomes 'failed'
 *     and stays for inspection (`espigate notify list`) until
 *     notify_retry() puts it back.  A URI the policy refuses (http:// without
 *     allow_http, not a URL at all) fails at once: retrying cannot help.
 *
 * Transport (libcurl): HTTPS only unless opts allow http for development
 * (CURLOPT_PROTOCOLS_STR limited accordingly), peer and host verified (the
 * system trust store, or opts->ca_file for a development CA), TLS 1.2 at
 * least, connect timeout 5 s, total 15 s, redirects never followed, the
 * response body read up to 64 KiB and discarded, Content-Type
 * application/atom+xml, User-Agent espigate/VERSION.
 *
 * Threads: every function here takes the store it should use and does not
 * keep it.  notify_run_due() BLOCKS for as long as its POSTs take (up to
 * ~20 s per unreachable receiver), so the server must NOT call it on the
 * event loop thread.  Run it on a background thread that owns its own store
 * connection (store_open() in that thread; store handles are not shared
 * between threads) -- notify_worker_start() below does exactly that, and
 * the loop's periodic timer only calls notify_worker_kick().  Call
 * notify_global_init() once at program start, before any thread exists. */
#ifndef FEEDS_NOTIFY_H
#define FEEDS_NOTIFY_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "store.h"

#define NOTIFY_URI_MAX 2048          /* notify URI and each resource URI */
#define NOTIFY_MAX_RESOURCES 1000    /* URIs in one BatchList (one row) */
#define NOTIFY_ERROR_MAX 400         /* last_error is cut to this length */

typedef struct notify_opts {
    const char *ca_file;         /* PEM trust anchors (dev CA); NULL = system store */
    int64_t base_delay;          /* seconds before the 1st retry (default 30) */
    int64_t max_delay;           /* cap of the retry delay (default 6 h) */
    long max_attempts;           /* then 'failed' (default 10) */
    int allow_http;              /* 1: also POST to http:// (tests, dev only) */
    long batch;                  /* rows per notify_run_due call (default 20) */
    int64_t lease;               /* seconds a claimed row is reserved (default 120) */
    const char *user_agent;      /* default "espigate/" ESPIGATE_VERSION */
    long connect_timeout_ms;     /* default 5000 */
    long timeout_ms;             /* whole request, default 15000 */
    int64_t keep_sent;           /* the worker deletes rows sent longer ago than
                                  * this many seconds, checking hourly (default
                                  * 30 days); failed/pending rows always stay */
    /* One line per delivery outcome ("sent ID to URI", "retry ID in 60 s:
     * HTTP 500 ..."), for the server log or the CLI; may be NULL.  Called
     * on the thread running notify_run_due. */
    void (*log)(void *ctx, const char *line);
    void *log_ctx;
} notify_opts;

/* The defaults above. */
void notify_opts_init(notify_opts *o);

typedef struct notify_stats {
    long claimed;                /* rows taken this run */
    long sent;                   /* answered 2xx */
    long retry;                  /* failed, scheduled again */
    long failed;                 /* failed for good this run (max_attempts or policy) */
    long lost_claim;             /* outcome not recorded: the row was re-claimed/merged */
} notify_stats;

/* One queue row as notify_list() shows it; valid during the callback only. */
typedef struct notify_row {
    const char *id;              /* bare UUID */
    const char *client_id;
    const char *uri;             /* where it goes */
    const char *body;            /* the BatchList XML */
    const char *state;           /* "pending", "sent", "failed" */
    const char *last_error;      /* "" when none */
    long n_resources;
    long attempts;
    int64_t created, next_try, lease_until;
    int64_t sent_at;             /* ESPI_NONE until sent */
} notify_row;

/* curl_global_init for the notifier: once, at start, before any thread.
 * Returns 0 or EG_ESOFTWARE. */
int notify_global_init(eg_err *err);
void notify_global_cleanup(void);

/* Queue a BatchList of resource_uris[0..n) for client_id at notify_uri and
 * commit it (durable on return).  Merges into a pending, unclaimed row for
 * the same client and URI when the union still fits NOTIFY_MAX_RESOURCES
 * (URIs already there are not repeated; the merged row keeps its schedule).
 * URIs must be 1..NOTIFY_URI_MAX characters without spaces or control
 * characters; n is 1..NOTIFY_MAX_RESOURCES.  id_out (may be NULL, size
 * >= 37) gets the row's id.  Returns 0, EG_EUSAGE for bad arguments, or a
 * database error. */
int notify_enqueue(store *s, const char *client_id, const char *notify_uri,
                   const char *const *resource_uris, size_t n, eg_err *err);
int notify_enqueue_id(store *s, const char *client_id, const char *notify_uri,
                      const char *const *resource_uris, size_t n, char *id_out,
                      eg_err *err);

/* Send what is due at `now` (UTC seconds; the caller's clock, so tests can
 * move time): claims and POSTs up to o->batch rows, one at a time, and
 * records each outcome (see above).  o may be NULL (defaults); st may be
 * NULL.  Blocks while POSTing: call from a thread that owns s.  Returns 0
 * when the queue was processed (delivery failures are not errors: they are
 * in the rows and in *st), or a database error. */
int notify_run_due(store *s, const notify_opts *o, int64_t now, notify_stats *st, eg_err *err);

/* Every row, newest first, to cb (a non-zero return stops the walk and is
 * returned).  Returns 0, cb's code, or a database error. */
int notify_list(store *s, int (*cb)(void *ctx, const notify_row *r), void *ctx, eg_err *err);

/* Put a failed (or pending) row back in line: state pending, attempts 0,
 * due now, lease released; last_error is kept as history.  Returns 0, or
 * EG_EUSAGE when there is no such row or it was already sent. */
int notify_retry(store *s, const char *id, eg_err *err);

/* Delete rows sent before `before` (UTC seconds); *deleted (may be NULL)
 * gets the count.  Failed and pending rows are never pruned. */
int notify_prune_sent(store *s, int64_t before, long *deleted, eg_err *err);

/* ---- background worker for the server ------------------------------------ */

typedef struct notify_worker notify_worker;

/* Start a thread that opens its OWN store at store_url and runs
 * notify_run_due(now = time(NULL)) every interval seconds and whenever
 * notify_worker_kick() is called; once an hour it also prunes rows sent
 * more than o->keep_sent seconds ago (notify_prune_sent), so the queue of
 * a long-running server does not grow without end.  o is copied (its strings must outlive
 * the worker).  Returns NULL with err filled when the thread cannot start
 * or the store cannot be opened (reported synchronously). */
notify_worker *notify_worker_start(const char *store_url, const notify_opts *o,
                                   int64_t interval, eg_err *err);
/* Wake the worker now (cheap, non-blocking, callable from any thread such
 * as the event loop's timer or the import path after notify_enqueue). */
void notify_worker_kick(notify_worker *w);
/* Ask the worker to stop, wait for its current POST to finish (<= ~20 s),
 * close its store and free it.  NULL ok. */
void notify_worker_stop(notify_worker *w);

#endif
