/* cmd_audit.c -- `espigate audit`: check a Data Custodian's conformance.
 *
 * Parses options into audit_opts, runs audit_run() (feeds/audit.c) with a
 * one-line progress display when stderr is a terminal, writes the report
 * (text, json, junit, html) to stdout or -o, and maps the verdict to the
 * exit status: 0 every rule passed or was skipped, 65 a rule failed, 69 the
 * server could not be reached at all, 64 usage, 73 the report file cannot
 * be created, 74 it cannot be written. */
#include <curl/curl.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audit.h"
#include "cli.h"
#include "cmd_audit.h"
#include "custodian.h"

#define EXIT_UNAVAILABLE 69   /* sysexits EX_UNAVAILABLE */

static const char audit_help[] =
    "Usage: espigate audit --base-url URL [options]\n"
    "\n"
    "Act as a third-party application against a Green Button Connect My Data server (a Data\n"
    "Custodian, ours or any utility's) and check that it conforms: TLS, status codes and\n"
    "WWW-Authenticate for bad tokens, RFC 6749 error bodies, the ESPI token response, scopes,\n"
    "query parameters, links, Batch/Subscription vs single resources, and every Atom body\n"
    "through the `espigate validate` rules. Rules AUD-* are listed in docs/rules.md.\n"
    "\n"
    "With --client-id/--client-secret the auditor gets a client_credentials token and reads\n"
    "ApplicationInformation, the Authorization list, ReadServiceStatus and Bulk; with --token\n"
    "(a customer access token) it walks the Subscription: Batch/Subscription, UsagePoints,\n"
    "MeterReadings, ReadingTypes, IntervalBlocks, UsageSummaries, LocalTimeParameters, following\n"
    "every self/up/related link. Give both for the full audit.\n"
    "\n"
    "Options:\n"
    "  -b, --base-url URL        e.g. https://localhost:8443/DataCustodian (required)\n"
    "      --client-id ID        a registered third party's client id\n"
    "      --client-secret S     its secret (HTTP Basic at {base}/oauth/token)\n"
    "  -t, --token T             a customer access token (authorization_code grant)\n"
    "      --redirect-uri U      get that token here instead: the auditor prints the\n"
    "                            authorization URL (PKCE S256 + state), a member approves it in\n"
    "                            a browser, and the URL the browser lands on (U?code=...) is\n"
    "                            pasted on standard input; the code is traded at the token\n"
    "                            endpoint with --client-id/--client-secret\n"
    "      --scope S             the scope to ask for with --redirect-uri (default: the\n"
    "                            client's registered one)\n"
    "  -r, --resource-uri URI    the token's resourceURI (.../Batch/Subscription/{id}); without\n"
    "                            it the Authorization list is searched (needs --client-id)\n"
    "      --ca-file F           trust the CA certificates in F (PEM) instead of the system's\n"
    "  -k, --insecure            continue when the certificate does not verify (AUD-TLS-002\n"
    "                            still fails); for test servers only\n"
    "  -f, --format FMT          text (default), json, junit or html\n"
    "  -o, --output REPORT       write the report to REPORT instead of standard output\n"
    "      --max-bytes N         cut any response body at N bytes (default 268435456)\n"
    "      --timeout S           seconds per request (default 30)\n"
    "      --max-requests N      stop the walk after N requests (default 500)\n"
    "  -h, --help                this help\n"
    "\n"
    "Exit status: 0 no rule failed, 65 a rule failed, 69 the server could not be reached at\n"
    "all (no HTTP answer), 64 usage error, 73 REPORT cannot be created, 74 it cannot be written.\n"
    "\n"
    "Examples:\n"
    "  espigate audit -b https://localhost:8443/DataCustodian --client-id app1 \\\n"
    "      --client-secret s3cret --token 5f0e... --format html -o audit.html\n"
    "  espigate audit -b https://dc.example/DataCustodian -t TOKEN \\\n"
    "      -r https://dc.example/DataCustodian/espi/1_1/resource/Batch/Subscription/42 -f junit\n";

static void show_progress(void *ctx, long n, const char *method, const char *url)
{
    (void)ctx;
    if (!isatty(STDERR_FILENO)) return;
    fprintf(stderr, "\r\033[Kaudit: request %ld: %s %.100s", n, method, url);
}

static int parse_number(const char *opt, const char *s, unsigned long long *out)
{
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (*s == '-' || *end || end == s || v == 0)
        return cli_usage_error("audit", "%s wants a number > 0, not '%s'", opt, s);
    *out = v;
    return 0;
}

/* ---- --redirect-uri: the authorization code flow, with a person ---------- */

static size_t grow(char *p, size_t size, size_t nmemb, void *ctx)
{
    char *buf = ctx;
    size_t n = size * nmemb, have = strlen(buf);
    if (have + n >= 16384) return 0; /* a token response is small */
    memcpy(buf + have, p, n);
    buf[have + n] = '\0';
    return n;
}

/* The value of query parameter name in url (decoded by curl) into out. */
static int query_param(CURL *c, const char *url, const char *name, char *out, size_t size)
{
    const char *q = strchr(url, '?');
    size_t nl = strlen(name);
    out[0] = '\0';
    for (const char *p = q ? q + 1 : NULL; p && *p;) {
        const char *amp = strchr(p, '&');
        size_t len = amp ? (size_t)(amp - p) : strlen(p);
        if (len > nl && strncmp(p, name, nl) == 0 && p[nl] == '=') {
            int dl;
            char *d = curl_easy_unescape(c, p + nl + 1, (int)(len - nl - 1), &dl);
            if (!d) return -1;
            snprintf(out, size, "%s", d);
            curl_free(d);
            return 0;
        }
        p = amp ? amp + 1 : NULL;
    }
    return -1;
}

/* Print the authorization URL, read where the browser landed, trade the
 * code (PKCE) for a token.  token/resource get the answer's access_token
 * and resourceURI. */
static int interactive_grant(const audit_opts *o, const char *redirect, const char *scope,
                             char *token, size_t tsize, char *resource, size_t rsize)
{
    char verifier[64], challenge[48], state[64], line[4096], code[1024], got_state[64];
    int rc = EG_EXIT_USAGE;
    if (cd_random_token(verifier, sizeof verifier, NULL) ||
        cd_random_token(state, sizeof state, NULL))
        return EG_EXIT_SOFTWARE;
    cd_pkce_s256(verifier, challenge);
    CURL *c = curl_easy_init();
    if (!c) return EG_EXIT_SOFTWARE;
    char *e_cid = curl_easy_escape(c, o->client_id, 0), *e_red = curl_easy_escape(c, redirect, 0),
         *e_scope = scope ? curl_easy_escape(c, scope, 0) : NULL;
    fprintf(stderr,
            "espigate audit: open this URL in a browser, log in as a member and approve:\n\n"
            "  %s/oauth/authorize?response_type=code&client_id=%s&redirect_uri=%s%s%s"
            "&state=%s&code_challenge=%s&code_challenge_method=S256\n\n"
            "then paste here the whole URL the browser was sent to (%s?code=...):\n",
            o->base_url, e_cid, e_red, e_scope ? "&scope=" : "", e_scope ? e_scope : "", state,
            challenge, redirect);
    curl_free(e_cid);
    curl_free(e_red);
    curl_free(e_scope);
    if (!fgets(line, sizeof line, stdin)) {
        fprintf(stderr, "espigate audit: no redirect URL on standard input\n");
        goto done;
    }
    line[strcspn(line, "\r\n")] = '\0';
    if (query_param(c, line, "code", code, sizeof code) ||
        query_param(c, line, "state", got_state, sizeof got_state)) {
        fprintf(stderr, "espigate audit: '%.200s' has no code and state (did the member deny?)\n",
                line);
        goto done;
    }
    if (strcmp(got_state, state) != 0) {
        fprintf(stderr, "espigate audit: the state in the URL is not ours: refusing the code\n");
        goto done;
    }
    char url[2048], body[4096], resp[16384] = "";
    char *e_code = curl_easy_escape(c, code, 0), *e_r = curl_easy_escape(c, redirect, 0);
    snprintf(url, sizeof url, "%s/oauth/token", o->base_url);
    snprintf(body, sizeof body,
             "grant_type=authorization_code&code=%s&redirect_uri=%s&code_verifier=%s", e_code,
             e_r, verifier);
    curl_free(e_code);
    curl_free(e_r);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(c, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
    curl_easy_setopt(c, CURLOPT_USERNAME, o->client_id);
    curl_easy_setopt(c, CURLOPT_PASSWORD, o->client_secret);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, grow);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, (void *)resp);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, o->timeout > 0 ? o->timeout : 30L);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "https");
    if (o->ca_file) curl_easy_setopt(c, CURLOPT_CAINFO, o->ca_file);
    if (o->insecure) {
        curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
        curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
    }
    CURLcode cc = curl_easy_perform(c);
    json_error_t je;
    json_t *j = cc == CURLE_OK ? json_loads(resp, 0, &je) : NULL;
    const char *at = j ? json_string_value(json_object_get(j, "access_token")) : NULL;
    const char *ru = j ? json_string_value(json_object_get(j, "resourceURI")) : NULL;
    if (!at) {
        fprintf(stderr, "espigate audit: the token endpoint did not give a token: %s\n",
                cc != CURLE_OK ? curl_easy_strerror(cc) : resp);
        rc = EG_EXIT_DATAERR;
    } else {
        snprintf(token, tsize, "%s", at);
        snprintf(resource, rsize, "%s", ru ? ru : "");
        rc = 0;
    }
    json_decref(j);
done:
    curl_easy_cleanup(c);
    return rc;
}

int cmd_audit(int argc, char **argv)
{
    enum { O_CID = 256, O_CSECRET, O_CA, O_MAXB, O_TIMEOUT, O_MAXR, O_REDIRECT, O_SCOPE };
    static const struct option longopts[] = {
        {"base-url", required_argument, NULL, 'b'},
        {"client-id", required_argument, NULL, O_CID},
        {"client-secret", required_argument, NULL, O_CSECRET},
        {"token", required_argument, NULL, 't'},
        {"redirect-uri", required_argument, NULL, O_REDIRECT},
        {"scope", required_argument, NULL, O_SCOPE},
        {"resource-uri", required_argument, NULL, 'r'},
        {"ca-file", required_argument, NULL, O_CA},
        {"insecure", no_argument, NULL, 'k'},
        {"format", required_argument, NULL, 'f'},
        {"output", required_argument, NULL, 'o'},
        {"max-bytes", required_argument, NULL, O_MAXB},
        {"timeout", required_argument, NULL, O_TIMEOUT},
        {"max-requests", required_argument, NULL, O_MAXR},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    audit_opts o;
    audit_opts_init(&o);
    audit_format fmt = AUDIT_FMT_TEXT;
    const char *output = NULL, *redirect = NULL, *scope = NULL;
    char granted[512], granted_resource[2048];
    unsigned long long n = 0;
    int c, status = EG_EXIT_OK, curl_up = 0;
    audit *a = NULL;
    FILE *out = NULL;
    eg_err err;
    eg_err_clear(&err);

    optind = 1;
    while ((c = getopt_long(argc, argv, "b:t:r:kf:o:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'b': o.base_url = optarg; break;
        case O_CID: o.client_id = optarg; break;
        case O_CSECRET: o.client_secret = optarg; break;
        case 't': o.token = optarg; break;
        case O_REDIRECT: redirect = optarg; break;
        case O_SCOPE: scope = optarg; break;
        case 'r': o.resource_uri = optarg; break;
        case O_CA:
            if (access(optarg, R_OK) != 0)
                return cli_usage_error("audit", "--ca-file '%s' cannot be read", optarg);
            o.ca_file = optarg;
            break;
        case 'k': o.insecure = 1; break;
        case 'f':
            if (strcmp(optarg, "text") == 0) fmt = AUDIT_FMT_TEXT;
            else if (strcmp(optarg, "json") == 0) fmt = AUDIT_FMT_JSON;
            else if (strcmp(optarg, "junit") == 0) fmt = AUDIT_FMT_JUNIT;
            else if (strcmp(optarg, "html") == 0) fmt = AUDIT_FMT_HTML;
            else
                return cli_usage_error("audit", "--format '%s' is not text, json, junit or html",
                                       optarg);
            break;
        case 'o': output = optarg; break;
        case O_MAXB:
            if (parse_number("--max-bytes", optarg, &n)) return EG_EXIT_USAGE;
            o.max_bytes = n;
            break;
        case O_TIMEOUT:
            if (parse_number("--timeout", optarg, &n) || n > 86400)
                return cli_usage_error("audit", "--timeout wants 1..86400 seconds");
            o.timeout = (long)n;
            break;
        case O_MAXR:
            if (parse_number("--max-requests", optarg, &n) || n > 1000000)
                return cli_usage_error("audit", "--max-requests wants 1..1000000");
            o.max_requests = (long)n;
            break;
        case 'h': fputs(audit_help, stdout); return EG_EXIT_OK;
        default: return cli_usage_error("audit", "unknown option");
        }
    }
    if (optind < argc) return cli_usage_error("audit", "unexpected argument '%s'", argv[optind]);
    if (!o.base_url) return cli_usage_error("audit", "--base-url is required");
    if (!o.client_id && !o.token)
        return cli_usage_error("audit", "give --client-id/--client-secret, --token, or both");
    if (redirect && (o.token || !o.client_id || !o.client_secret))
        return cli_usage_error("audit", "--redirect-uri needs --client-id and --client-secret, "
                                        "and replaces --token");
    if (o.insecure)
        fprintf(stderr, "espigate audit: WARNING: --insecure: the server's certificate is not "
                        "verified; this audit proves nothing about who answered\n");
    o.progress = show_progress;

    if (output) {
        out = fopen(output, "w");
        if (!out) {
            eg_errf(&err, EG_ECANTCREAT, output, 0, 0, "cannot create the report file");
            status = cli_report(&err);
            goto done;
        }
    }
    if (audit_global_init() != 0) {
        eg_errf(&err, EG_ESOFTWARE, NULL, 0, 0, "libcurl could not be initialised");
        status = cli_report(&err);
        goto done;
    }
    curl_up = 1;
    if (redirect) {
        if ((status = interactive_grant(&o, redirect, scope, granted, sizeof granted,
                                        granted_resource, sizeof granted_resource)))
            goto done;
        o.token = granted;
        if (!o.resource_uri && granted_resource[0]) o.resource_uri = granted_resource;
    }
    int rc = audit_run(&o, &a, &err);
    if (isatty(STDERR_FILENO)) fputs("\r\033[K", stderr);
    if (rc == EG_EUSAGE) {
        status = cli_usage_error("audit", "%s", err.msg);
        goto done;
    }
    if (rc) {
        status = cli_report(&err);
        goto done;
    }
    if (audit_report_write(a, fmt, out ? out : stdout, &err) != 0) {
        status = cli_report(&err);
        goto done;
    }
    status = audit_unreachable(a) ? EXIT_UNAVAILABLE
             : audit_failed(a)    ? EG_EXIT_DATAERR
                                  : EG_EXIT_OK;
    if (output || fmt != AUDIT_FMT_TEXT)
        fprintf(stderr, "espigate audit: %s\n",
                status == EG_EXIT_OK ? "no rule failed"
                : status == EXIT_UNAVAILABLE ? "the server could not be reached"
                                             : "rules failed (see the report)");
done:
    audit_free(a);
    if (curl_up) audit_global_cleanup();
    if (out && fclose(out) != 0 && status == EG_EXIT_OK) {
        eg_errf(&err, EG_EIO, output, 0, 0, "cannot write the report file");
        status = cli_report(&err);
    }
    return status;
}
