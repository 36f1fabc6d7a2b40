/* pull_smarthub.h -- fetch a member's own usage from a NISC SmartHub portal.
 *
 * A co-op without Green Button still runs SmartHub, whose web pages read
 * JSON services under /services/ (FORMATS.md section A).  tr_pull_smarthub()
 * does what the browser does, with libcurl:
 *
 *   1. GET /ui/ (some portals set an XSRF-TOKEN cookie there, which must
 *      come back as the X-XSRF-TOKEN header of the login; others don't care);
 *   2. POST /services/oauth/auth/v2, form-encoded userId + password (+ the
 *      two-factor code when given) -> authorizationToken;
 *   3. without a service location: GET /services/secured/accounts, falling
 *      back to /services/secured/user-data, and pick the account's only one;
 *   4. per chunk of at most TR_PULL_MAX_CHUNK_DAYS local days: POST
 *      /services/secured/utility-usage/poll (HOURLY, USAGE_EXPLORER,
 *      ELECTRIC, true-UTC epoch ms of the local day bounds) again and again
 *      while it answers PENDING, and hand the COMPLETE answer to a callback.
 *
 * Secured calls carry "Authorization: Bearer <token>" and
 * "X-NISC-SMARTHUB-USERNAME"; a 401 logs in again once and repeats the call
 * (tokens live about five minutes).  The poll answers are not translated
 * here: the caller feeds them to tr_smarthub_read_mem() (smarthub.h).
 *
 * Safety: TLS peer and host are verified (TLS 1.2 or newer) unless
 * opts.insecure; plain http:// is refused unless opts.insecure; redirects
 * are not followed (a redirect is how portals show a login page); every
 * request has connect and total time limits and a body size cap.  The
 * password and the token never appear in messages and are wiped from our
 * buffers after use.  Answers are checked for Content-Type before they are
 * parsed: an HTML page is an error that says so.
 *
 * libcurl has process-wide state: a program calls tr_pull_global_init()
 * once before any pull (while single-threaded) and tr_pull_global_cleanup()
 * at the end. */
#ifndef TR_PULL_SMARTHUB_H
#define TR_PULL_SMARTHUB_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "tz.h"

#define TR_PULL_MAX_CHUNK_DAYS 30                  /* per poll request: safe on every co-op seen */
#define TR_PULL_MAX_DAYS 3660                      /* per pull */
#define TR_PULL_MAX_BODY ((size_t)64 * 1024 * 1024) /* per answer */
#define TR_PULL_MAX_RELOGINS 16                    /* per pull: a token that dies at once is a loop */

/* Outcomes beyond err.h's codes (the CLI maps them to sysexits). */
enum tr_pull_code {
    TR_PULL_EAUTH = -100,    /* credentials refused, two-factor needed, token refused twice -> 77 */
    TR_PULL_EUNAVAIL = -101, /* cannot connect, TLS failure, HTTP 5xx/3xx, an HTML page,
                                poll status FAILED/ERROR -> 69 */
    TR_PULL_EGAVEUP = -102   /* still PENDING after the last try -> 75 */
};

typedef struct tr_pull_opts {
    const char *portal;           /* "https://coop.smarthub.coop", no path (required) */
    const char *user;             /* login e-mail (required) */
    const char *password;         /* borrowed, never copied into messages (required) */
    const char *otp;              /* two-factor code, or NULL */
    const char *account;          /* account number (required) */
    const char *service_location; /* NULL = discover */
    const tr_tz *tz;              /* the co-op's zone: request bounds are its local days */
    int64_t first_day, last_day;  /* local days (tr_days_from_civil), inclusive */
    int chunk_days;               /* 1..TR_PULL_MAX_CHUNK_DAYS */
    const char *ca_file;          /* PEM bundle to trust instead of the system's, or NULL */
    int insecure;                 /* no TLS verification; http:// allowed */
    long connect_timeout_ms, timeout_ms;  /* per request */
    long poll_interval_ms;        /* between PENDING answers */
    int poll_tries;               /* poll requests per chunk before giving up */
    size_t max_body;              /* bytes per answer */
    void (*note)(void *ctx, const char *msg); /* progress, may be NULL; never holds secrets */
    void *note_ctx;
} tr_pull_opts;

/* One COMPLETE poll answer. */
typedef struct tr_pull_chunk {
    int index, count;             /* 0-based chunk number, number of chunks */
    int64_t first_day, last_day;  /* the local days asked for, inclusive */
    int64_t start, end;           /* the same as UTC seconds, [start, end) */
    int polls;                    /* requests it took */
    const char *account, *service_location; /* as used (discovered or given) */
    const char *body;             /* the answer, borrowed during the callback, not NUL-terminated */
    size_t len;
} tr_pull_chunk;

/* Called once per chunk, in time order; non-zero stops the pull with that code. */
typedef int (*tr_pull_chunk_fn)(void *ctx, const tr_pull_chunk *chunk, eg_err *err);

/* curl_global_init / curl_global_cleanup.  0, or EG_ESOFTWARE with err. */
int tr_pull_global_init(eg_err *err);
void tr_pull_global_cleanup(void);

/* Defaults: 30-day chunks, 10 s connect / 120 s request limits, a poll
 * every 2 s up to 20 times, TR_PULL_MAX_BODY; nothing else set. */
void tr_pull_opts_init(tr_pull_opts *o);

/* Log in, find the service location, poll every chunk into fn.  Returns 0
 * or a negative code with err filled: EG_EUSAGE (bad opts; the account is
 * not in the login's account list, or has several service locations --
 * the message lists them), EG_EDATA (an answer that is not the JSON it
 * should be), EG_ELIMIT (an answer over max_body), EG_ENOMEM, the
 * TR_PULL_E* codes above, or fn's own code. */
int tr_pull_smarthub(const tr_pull_opts *o, tr_pull_chunk_fn fn, void *ctx, eg_err *err);

#endif
