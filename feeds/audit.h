/* audit.h -- the conformance auditor: check any Data Custodian as a third party would.
 *
 * `espigate audit` plays a third-party application against a Data Custodian
 * over HTTPS (libcurl) and checks what the Green Button Connect My Data
 * certification checks: TLS, status codes and WWW-Authenticate for bad
 * tokens, RFC 6749 error bodies, the ESPI token response fields, scopes
 * (a token reaches only what it was granted), query parameters, links,
 * Batch/Subscription vs single GETs, and every Atom body through the same
 * validator as `espigate validate` (reader + schema + rules).
 *
 * The walk.  With a client id and secret the auditor asks the token
 * endpoint for a client_credentials token and reads ApplicationInformation,
 * the Authorization list (whose entries name each subscription's
 * resourceURI), ReadServiceStatus and the Bulk feed.  With a customer
 * access token (--token) it reads Batch/Subscription/{sid} and the
 * Subscription tree, following every self/up/related link breadth first,
 * so UsagePoints, MeterReadings, ReadingTypes, IntervalBlocks,
 * UsageSummaries and LocalTimeParameters are all reached the way a third
 * party reaches them.  Only links on the audited origin are followed.
 *
 * Limits, so a hostile or broken server cannot hurt the auditor: every body
 * goes to an unlinked temporary file and the transfer is cut at max_bytes;
 * each request has a timeout; the walk stops after max_requests requests
 * and after AUDIT_MAX_TRANSPORT_FAILURES consecutive requests that got no
 * HTTP answer (hang, reset, TLS failure).  Memory is bounded by these caps
 * and a per-rule evidence cap, never by what the server sends.
 *
 * Rules have stable ids (AUD-TLS-001 ...) in the one catalog docs/rules.md;
 * audit_rules() lists them.  Each rule ends pass (checked, never failed),
 * fail (at least one check failed) or skip (nothing to check it on, with
 * the reason); evidence keeps the request, status and a body or header
 * excerpt.  audit_report.c writes the result as text, JSON, JUnit or a
 * self-contained HTML page. */
#ifndef FEEDS_AUDIT_H
#define FEEDS_AUDIT_H

#include <stdio.h>

#include "err.h"

#define AUDIT_DEFAULT_MAX_BYTES (256ULL << 20)
#define AUDIT_DEFAULT_TIMEOUT 30
#define AUDIT_DEFAULT_MAX_REQUESTS 500
#define AUDIT_MAX_TRANSPORT_FAILURES 4
#define AUDIT_MAX_EVIDENCE 8
#define AUDIT_URL_MAX 1024

typedef struct audit_opts {
    const char *base_url;       /* "https://host:port/DataCustodian" (required) */
    const char *client_id;      /* with client_secret: client_credentials discovery */
    const char *client_secret;
    const char *token;          /* a customer access token (authorization_code grant) */
    const char *resource_uri;   /* its Batch/Subscription/{sid} URI; discovered when NULL */
    const char *ca_file;        /* trust anchors instead of the system store, or NULL */
    int insecure;               /* go on when the certificate does not verify */
    unsigned long long max_bytes;
    long timeout;               /* seconds per request */
    long max_requests;
    /* Called before each request (may be NULL), for a progress line. */
    void (*progress)(void *ctx, long requests, const char *method, const char *url);
    void *progress_ctx;
} audit_opts;

/* libcurl's process-wide setup: call once before audit_run (0 = ok) and
 * audit_global_cleanup() once after the last audit_free(). */
int audit_global_init(void);
void audit_global_cleanup(void);

/* Defaults: limits as above, everything else NULL/0. */
void audit_opts_init(audit_opts *o);

typedef enum audit_status { AUDIT_SKIP = 0, AUDIT_PASS = 1, AUDIT_FAIL = 2 } audit_status;

/* One catalog row (static). */
typedef struct audit_rule {
    const char *id;          /* "AUD-TLS-001" */
    const char *statement;   /* one line */
    const char *mirrors;     /* standard section or GBA test */
    const char *severity;    /* "error" */
} audit_rule;

/* What one check saw. */
typedef struct audit_evidence {
    int failed;
    char method[8];           /* "GET", "POST", "TLS" */
    char url[AUDIT_URL_MAX];
    int status;               /* HTTP status, 0 = no HTTP answer */
    char excerpt[320];        /* header or body excerpt, control characters replaced */
    char note[512];           /* what was expected / found */
} audit_evidence;

typedef struct audit_rule_result {
    const audit_rule *rule;
    audit_status status;
    long passed, failed;      /* checks */
    audit_evidence ev[AUDIT_MAX_EVIDENCE];
    int n_ev;
    long ev_dropped;          /* evidence not kept (cap) */
    char skip_reason[256];
} audit_rule_result;

typedef struct audit audit;

/* The catalog, in report order; *n gets the count. */
const audit_rule *audit_rules(int *n);

/* Run the audit.  Returns 0 when the audit ran (see audit_failed() and
 * audit_unreachable() for the verdict) or EG_EUSAGE for unusable options
 * (no base URL, a secret without an id, a token with neither a resource
 * URI nor client credentials to discover it), EG_ENOMEM.  *out is set on 0
 * only; caller frees with audit_free(). */
int audit_run(const audit_opts *o, audit **out, eg_err *err);
void audit_free(audit *a);

/* Results (borrowed from a). */
int audit_rule_count(const audit *a);
const audit_rule_result *audit_rule_at(const audit *a, int i);
int audit_failed(const audit *a);        /* any rule failed */
int audit_unreachable(const audit *a);   /* no request ever got an HTTP answer */
long audit_requests(const audit *a);
unsigned long long audit_bytes(const audit *a);
double audit_seconds(const audit *a);
const char *audit_base_url(const audit *a);
const char *audit_started(const audit *a);   /* "2024-03-12T05:00:00Z" */
/* Notes about the run as a whole ("--insecure: ...", "walk stopped: ..."). */
int audit_note_count(const audit *a);
const char *audit_note_at(const audit *a, int i);

typedef enum audit_format {
    AUDIT_FMT_TEXT, AUDIT_FMT_JSON, AUDIT_FMT_JUNIT, AUDIT_FMT_HTML
} audit_format;

/* Write the report to out.  Returns 0 or EG_EIO when writing failed. */
int audit_report_write(const audit *a, audit_format f, FILE *out, eg_err *err);

#endif
