/* announce.h -- tell third parties that new data was imported.
 *
 * An import (store_import_file) reports every entry it inserted or replaced
 * through store_import_opts.changed with the self href of the UsagePoint it
 * belongs to.  announce collects those usage points (a small set: one entry
 * per usage point, not per reading), and once the import has committed,
 * announce_send() turns them into notifications: usage point -> its retail
 * customer -> the customer's active Subscriptions -> for each, a BatchList
 * with {resource base}/Batch/Subscription/{sid} queued (notify.h, durable)
 * for the application's notify URI.  Applications without a notify URI are
 * skipped.  The server's notification worker delivers them.
 *
 * The resource base is the one `espigate serve` recorded in the store
 * (meta key "base_url"), so notifications carry the URLs third parties
 * reach; https://localhost:8443 before any server ran. */
#ifndef FEEDS_ANNOUNCE_H
#define FEEDS_ANNOUNCE_H

#include <stddef.h>

#include "err.h"
#include "store.h"

#define ANNOUNCE_MAX_USAGE_POINTS 4096

typedef struct announce announce;

/* NULL when out of memory.  Free with announce_free(). */
announce *announce_new(void);
void announce_free(announce *a);

/* The store_import_opts.changed callback (ctx = the announce). */
void announce_changed(void *ctx, const char *usage_point_self);

/* Queue the notifications for what was collected (see above) and forget
 * it.  *queued (may be NULL) gets the number of BatchLists queued.  More
 * than ANNOUNCE_MAX_USAGE_POINTS usage points in one import announce to
 * every active subscription instead.  Returns 0 or a database error. */
int announce_send(announce *a, store *s, long *queued, eg_err *err);

/* The resource base third parties see: the store's recorded base URL +
 * "/DataCustodian/espi/1_1/resource"; empty when it does not fit in SIZE. */
void announce_resource_base(store *s, char *out, size_t size);

#endif
