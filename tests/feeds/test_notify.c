/* test_notify.c -- the notification queue against a real HTTPS receiver,
 * on BOTH store backends.
 *
 * Each group makes a throw-away certificate for 127.0.0.1 with the openssl
 * command (plus an unrelated "wrong CA" one), starts notify_receiver.py
 * (Python http.server + ssl on 127.0.0.1, an ephemeral port; and a plain
 * HTTP one) and trusts the certificate through notify_opts.ca_file.  The
 * receiver saves each POST as a file, so the tests see exactly what
 * arrived.  Time is the `now` the tests pass in, so retries are tested
 * without waiting.  The PostgreSQL group uses pgtmp.sh and is skipped
 * (said on stderr) when PostgreSQL is not installed.
 *
 * What is checked: the delivered body is a BatchList with exactly the
 * queued URIs (Content-Type, User-Agent); a 500 is retried later with a
 * growing delay, then delivered; an unreachable receiver counts attempts
 * and keeps the row; rows survive closing and reopening the store; a wrong
 * CA records a TLS error and sends nothing; http:// is refused unless
 * allowed; two claimers on one store never send a row twice; max_attempts
 * makes a row 'failed' (and retry revives it); coalescing; a held lease
 * keeps a row from other senders until it runs out; the background worker
 * sends at start and when kicked. */
#include <dirent.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "pgtest.h"

#include "notify.h"
#include "store.h"

typedef struct receiver {
    pid_t pid;
    int port;
    char dir[128];
} receiver;

typedef struct env {
    pgtest_backend b;         /* pgtest.h: the folder, the cluster, this test's store */
    char cert[160], key[160], wrong_ca[160];
    receiver tls, plain;
} env;

/* ---- helpers ----------------------------------------------------------------- */

#define run_cmd pgtest_run

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *p = malloc((size_t)n + 1);
    if (p && fread(p, 1, (size_t)n, f) != (size_t)n) n = 0;
    if (p) p[n] = '\0';
    fclose(f);
    return p;
}

#define src_dir pgtest_src

static int start_receiver(receiver *r, const env *e, const char *name, int plain)
{
    char port_file[200];
    snprintf(r->dir, sizeof r->dir, "%s/%s", e->b.dir, name);
    if (mkdir(r->dir, 0700)) return -1;
    snprintf(port_file, sizeof port_file, "%s/port", r->dir);
    char script[300];
    snprintf(script, sizeof script, "%s/tests/feeds/notify_receiver.py", src_dir());
    r->pid = fork();
    if (r->pid < 0) return -1;
    if (r->pid == 0) {
        if (plain) execl("/usr/bin/python3", "python3", script, r->dir, "--plain", (char *)NULL);
        else execl("/usr/bin/python3", "python3", script, r->dir, e->cert, e->key, (char *)NULL);
        _exit(127);
    }
    for (int i = 0; i < 200; i++) { /* up to 10 s */
        char *p = slurp(port_file);
        if (p) {
            r->port = atoi(p);
            free(p);
            return r->port > 0 ? 0 : -1;
        }
        usleep(50000);
    }
    fprintf(stderr, "the test receiver (python3 %s) did not start\n", script);
    return -1;
}

static void stop_receiver(receiver *r)
{
    if (r->pid > 0) {
        kill(r->pid, SIGTERM);
        waitpid(r->pid, NULL, 0);
        r->pid = 0;
    }
}

/* Forget what a receiver got; answer `status` from now on. */
static void receiver_reset(const receiver *r, int status)
{
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -f %s/req-* %s/status", r->dir, r->dir);
    assert_int_equal(run_cmd(cmd), 0);
    if (status != 200) {
        char path[200];
        snprintf(path, sizeof path, "%s/status", r->dir);
        FILE *f = fopen(path, "w");
        assert_non_null(f);
        fprintf(f, "%d\n", status);
        fclose(f);
    }
}

static void receiver_answer(const receiver *r, int status)
{
    char path[200];
    snprintf(path, sizeof path, "%s/status", r->dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fprintf(f, "%d\n", status);
    fclose(f);
}

/* Bodies the receiver got with `status` (0 = any), concatenated with a
 * "\n--\n" between them; *count gets how many.  Caller frees. */
static char *received(const receiver *r, int status, int *count)
{
    DIR *d = opendir(r->dir);
    struct dirent *de;
    size_t cap = 1, len = 0;
    char *all = calloc(1, 1);
    *count = 0;
    assert_non_null(d);
    while ((de = readdir(d))) {
        int n, st;
        char tail[16];
        if (sscanf(de->d_name, "req-%d-%d.%15s", &n, &st, tail) != 3 || strcmp(tail, "xml"))
            continue;
        if (status && st != status) continue;
        char path[400];
        snprintf(path, sizeof path, "%s/%s", r->dir, de->d_name);
        char *b = slurp(path);
        assert_non_null(b);
        size_t bl = strlen(b);
        cap = len + bl + 8;
        all = realloc(all, cap);
        assert_non_null(all);
        memcpy(all + len, b, bl);
        memcpy(all + len + bl, "\n--\n", 5);
        len += bl + 4;
        free(b);
        (*count)++;
    }
    closedir(d);
    return all;
}

static int occurrences(const char *hay, const char *needle)
{
    int n = 0;
    for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle)) n++;
    return n;
}

static store *open_ok(const env *e)
{
    store *s = NULL;
    eg_err err;
    eg_err_clear(&err);
    int rc = store_open(e->b.url, &s, &err);
    if (rc) fprintf(stderr, "store_open: %s\n", err.msg);
    assert_int_equal(rc, 0);
    return s;
}

static void opts_for(const env *e, notify_opts *o)
{
    notify_opts_init(o);
    o->ca_file = e->cert;
    o->connect_timeout_ms = 3000;
    o->timeout_ms = 8000;
}

static void uri_of(const receiver *r, const char *scheme, const char *path, char *out,
                   size_t size)
{
    snprintf(out, size, "%s://127.0.0.1:%d%s", scheme, r->port, path);
}

static void enqueue_ok(store *s, const char *client, const char *uri, const char *const *uris,
                       size_t n, char *id)
{
    eg_err err;
    eg_err_clear(&err);
    int rc = notify_enqueue_id(s, client, uri, uris, n, id, &err);
    if (rc) fprintf(stderr, "notify_enqueue: %s\n", err.msg);
    assert_int_equal(rc, 0);
}

static notify_stats run_ok(store *s, const notify_opts *o, int64_t now)
{
    notify_stats st;
    eg_err err;
    eg_err_clear(&err);
    int rc = notify_run_due(s, o, now, &st, &err);
    if (rc) fprintf(stderr, "notify_run_due: %s\n", err.msg);
    assert_int_equal(rc, 0);
    return st;
}

/* A copy of the queue, as notify_list shows it. */
typedef struct row_copy {
    char id[40], state[16], uri[300], last_error[NOTIFY_ERROR_MAX + 1];
    long attempts, n_resources;
    int64_t next_try, sent_at;
} row_copy;

typedef struct rows {
    row_copy r[64];
    int n;
} rows;

static int copy_row(void *ctx, const notify_row *r)
{
    rows *rs = ctx;
    if (rs->n >= 64) return 0;
    row_copy *c = &rs->r[rs->n++];
    snprintf(c->id, sizeof c->id, "%s", r->id);
    snprintf(c->state, sizeof c->state, "%s", r->state);
    snprintf(c->uri, sizeof c->uri, "%s", r->uri);
    snprintf(c->last_error, sizeof c->last_error, "%s", r->last_error);
    c->attempts = r->attempts;
    c->n_resources = r->n_resources;
    c->next_try = r->next_try;
    c->sent_at = r->sent_at;
    return 0;
}

static void list_ok(store *s, rows *rs)
{
    eg_err err;
    eg_err_clear(&err);
    memset(rs, 0, sizeof *rs);
    assert_int_equal(notify_list(s, copy_row, rs, &err), 0);
}

static const row_copy *find_row(const rows *rs, const char *id)
{
    for (int i = 0; i < rs->n; i++)
        if (strcmp(rs->r[i].id, id) == 0) return &rs->r[i];
    fail_msg("row %s is not in the queue", id);
    return NULL;
}

/* ---- fixtures ---------------------------------------------------------------------- */

static int group_setup(void **state, int pg)
{
    env *e = calloc(1, sizeof *e);
    char cmd[1200];
    if (!e) return -1;
    *state = e;
    if (pgtest_backend_open(&e->b, "notify", pg)) return -1;
    if (e->b.skip) return 0;
    snprintf(e->cert, sizeof e->cert, "%s/cert.pem", e->b.dir);
    snprintf(e->key, sizeof e->key, "%s/key.pem", e->b.dir);
    snprintf(e->wrong_ca, sizeof e->wrong_ca, "%s/wrong-ca.pem", e->b.dir);
    snprintf(cmd, sizeof cmd,
             "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
             "-keyout %s -out %s -days 2 -subj /CN=127.0.0.1 "
             "-addext subjectAltName=IP:127.0.0.1 2>/dev/null && "
             "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
             "-keyout %s/wrong-key.pem -out %s -days 2 -subj /CN=127.0.0.1 "
             "-addext subjectAltName=IP:127.0.0.1 2>/dev/null",
             e->key, e->cert, e->b.dir, e->wrong_ca);
    if (run_cmd(cmd)) {
        fprintf(stderr, "openssl could not make the test certificate\n");
        return -1;
    }
    if (start_receiver(&e->tls, e, "tls", 0) || start_receiver(&e->plain, e, "plain", 1))
        return -1;
    return 0;
}

static int sqlite_group_setup(void **state) { return group_setup(state, 0); }
static int pg_group_setup(void **state) { return group_setup(state, 1); }

static int group_teardown(void **state)
{
    env *e = *state;
    stop_receiver(&e->tls);
    stop_receiver(&e->plain);
    pgtest_backend_close(&e->b);
    free(e);
    return 0;
}

/* A fresh store per test and receivers that have seen nothing. */
static int test_setup(void **state)
{
    env *e = *state;
    if (!e->b.skip) {
        receiver_reset(&e->tls, 200);
        receiver_reset(&e->plain, 200);
    }
    return pgtest_backend_next(&e->b);
}

#define NEED_BACKEND(e)                                                                        \
    do {                                                                                       \
        if ((e)->b.skip) skip();                                                                 \
    } while (0)

/* ---- tests ------------------------------------------------------------------------------ */

static void test_notify_delivers_a_batch_list_with_exactly_the_uris(void **state)
{
    env *e = *state;
    NEED_BACKEND(e);
    store *s = open_ok(e);
    notify_opts o;
    char uri[200], id[40];
    const char *res[] = {"https://dc.example/DataCustodian/espi/1_1/resource/Batch/Subscription/s1",
                         "https://dc.example/DataCustodian/espi/1_1/resource/Batch/Subscription/s2",
                         "https://dc.example/DataCustodian/espi/1_1/resource/Batch/Subscription/s1"};
    opts_for(e, &o);
    uri_of(&e->tls, "https", "/notify", uri, sizeof uri);
    enqueue_ok(s, "client-a", uri, res, 3, id);
    notify_stats st = run_ok(s, &o, (int64_t)time(NULL));
    assert_int_equal(st.claimed, 1);
    assert_int_equal(st.sent, 1);

    int count;
    char *got = received(&e->tls, 200, &count);
    assert_int_equal(count, 1);
    assert_non_null(strstr(got, "<BatchList xmlns=\"http://naesb.org/espi\">"));
    assert_int_equal(occurrences(got, "<resources>"), 2); /* the duplicate went */
    assert_int_equal(occurrences(got, "<resources>https://dc.example/DataCustodian/espi/1_1/"
                                      "resource/Batch/Subscription/s1</resources>"), 1);
    assert_int_equal(occurrences(got, "<resources>https://dc.example/DataCustodian/espi/1_1/"
                                      "resource/Batch/Subscription/s2</resources>"), 1);
    free(got);

    char meta_cmd[400];
    snprintf(meta_cmd, sizeof meta_cmd,
             "cat %s/req-1-200.meta | tr '\\n' ' ' | grep -q "
             "'^/notify application/atom+xml espigate/'",
             e->tls.dir);
    assert_int_equal(run_cmd(meta_cmd), 0);

    rows rs;
    list_ok(s, &rs);
    assert_int_equal(rs.n, 1);
    assert_string_equal(find_row(&rs, id)->state, "sent");
    assert_int_equal(find_row(&rs, id)->attempts, 1);
    assert_true(find_row(&rs, id)->sent_at > 0);
    /* nothing is sent twice */
    st = run_ok(s, &o, (int64_t)time(NULL) + 3600);
    assert_int_equal(st.claimed, 0);
    store_close(s);
}

static void test_notify_500_is_retried_with_growing_delay_then_delivered(void **state)
{
    env *e = *state;
    NEED_BACKEND(e);
    store *s = open_ok(e);
    notify_opts o;
    char uri[200], id[40];
    const char *res[] = {"https://dc.example/r/Batch/Subscription/s1"};
    rows rs;
    opts_for(e, &o);
    receiver_answer(&e->tls, 500);
    uri_of(&e->tls, "https", "/n", uri, sizeof uri);
    enqueue_ok(s, "client-a", uri, res, 1, id);
    int64_t t = (int64_t)time(NULL);

    notify_stats st = run_ok(s, &o, t);
    assert_int_equal(st.retry, 1);
    list_ok(s, &rs);
    const row_copy *r = find_row(&rs, id);
    assert_string_equal(r->state, "pending");
    assert_int_equal(r->attempts, 1);
    assert_non_null(strstr(r->last_error, "HTTP 500"));
    int64_t d1 = r->next_try - t;
    assert_true(d1 >= 30 && d1 <= 30 + 3 + 2);

    st = run_ok(s, &o, t + 10); /* not due yet */
    assert_int_equal(st.claimed, 0);

    int64_t t2 = r->next_try;
    st = run_ok(s, &o, t2);
    assert_int_equal(st.retry, 1);
    list_ok(s, &rs);
    r = find_row(&rs, id);
    assert_int_equal(r->attempts, 2);
    int64_t d2 = r->next_try - t2;
    assert_true(d2 >= 60 && d2 <= 60 + 6 + 2);
    assert_true(d2 > d1);

    receiver_answer(&e->tls, 200);
    st = run_ok(s, &o, r->next_try);
    assert_int_equal(st.sent, 1);
    int n500, n200;
    free(received(&e->tls, 500, &n500));
    free(received(&e->tls, 200, &n200));
    assert_int_equal(n500, 2);
    assert_int_equal(n200, 1);
    list_ok(s, &rs);
    assert_string_equal(find_row(&rs, id)->state, "sent");
    assert_int_equal(find_row(&rs, id)->attempts, 3);
    store_close(s);
}

static int closed_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a;
    socklen_t len = sizeof a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_true(fd >= 0);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    close(fd); /* nobody listens there now */
    return ntohs(a.sin_port);
}

static void test_notify_receiver_down_counts_attempts_and_keeps_the_row(void **state)
{
    env *e = *state;
    NEED_BACKEND(e);
    store *s = open_ok(e);
    notify_opts o;
    char uri[200], id[40];
    const char *res[] = {"https://dc.example/r/Batch/Subscription/s1"};
    rows rs;
    opts_for(e, &o);
    snprintf(uri, sizeof uri, "https://127.0.0.1:%d/n", closed_port());
    enqueue_ok(s, "client-a", uri, res, 1, id);
    int64_t t = (int64_t)time(NULL);
    assert_int_equal(run_ok(s, &o, t).retry, 1);
    assert_int_equal(run_ok(s, &o, t + 100).retry, 1);
    list_ok(s, &rs);
    const row_copy *r = find_row(&rs, id);
    assert_string_equal(r->state, "pending");
    assert_int_equal(r->attempts, 2);
    assert_non_null(strstr(r->last_error, "curl error 7"));
    store_close(s);
}

static void test_notify_pending_rows_survive_reopening_the_store(void **state)
{
    env *e = *state;
    NEED_BACKEND(e);
    store *s = open_ok(e);
    notify_opts o;
    char uri[200], id[40];
    const char *res[] = {"https://dc.example/r/Batch/Subscription/s1"};
    rows rs;
    opts_for(e, &o);
    uri_of(&e->tls, "https", "/n", uri, sizeof uri);
    enqueue_ok(s, "client-a", uri, res, 1, id);
    store_close(s);

    s = open_ok(e);
    list_ok(s, &rs);
    assert_int_equal(rs.n, 1);
    assert_string_equal(find_row(&rs, id)->state, "pending");
    assert_int_equal(run_ok(s, &o, (int64_t)time(NULL)).sent, 1);
    int n;
    free(received(&e->tls, 200, &n));
    assert_int_equal(n, 1);
    store_close(s);
}

static void test_notify_wrong_ca_records_a_tls_error_and_sends_nothing(void **state)
{
    env *e = *state;
    NEED_BACKEND(e);
    store *s = open_ok(e);
    notify_opts o;
    char uri[200], id[40];
    const char *res[] = {"https://dc.example/r/Batch/Subscription/s1"};
    rows rs;
    opts_for(e, &o);
    o.ca_file = e->wrong_ca;
    uri_of(&e->tls, "https", "/n", uri, sizeof uri);
    enqueue_ok(s, "client-a", uri, res, 1, id);
    assert_int_equal(run_ok(s, &o, (int64_t)time(NULL)).retry, 1);
    list_ok(s, &rs);
    const row_copy *r = find_row(&rs, id);
    assert_string_equal(r->state, "pending");
    assert_non_null(strstr(r->last_error, "curl error 60")); /* peer verification failed */
    int n;
    free(received(&e->tls, 0, &n));
    assert_int_equal(n, 0);
    store_close(s);
}

static void test_notify_http_is_refused_unless_allowed(void **state)
{
    env *e = *state;
    NEED_BACKEND(e);
    store *s = open_ok(e);
    notify_opts o;
    char uri[200], id[40];
    const char *res[] = {"https://dc.example/r/Batch/Subscription/s1"};
    rows rs;
    eg_err err;
    opts_for(e, &o);
    uri_of(&e->plain, "http", "/n", uri, sizeof uri);
    enqueue_ok(s, "client-a", uri, res, 1, id);
    notify_stats st = run_ok(s, &o, (int64_t)time(NULL));
    assert_int_equal(st.failed, 1); /* policy: retrying cannot help */
    list_ok(s, &rs);
    assert_string_equal(find_row(&rs, id)->state, "failed");
    assert_non_null(strstr(find_row(&rs, id)->last_error, "refused"));
    int n;
    free(received(&e->plain, 0, &n));
    assert_int_equal(n, 0);

    /* the operator allows http (development) and puts the row back */
    assert_int_equal(notify_retry(s, id, &err), 0);
    o.allow_http = 1;
    assert_int_equal(run_ok(s, &o, (int64_t)time(NULL)).sent, 1);
    free(received(&e->plain, 200, &n));
    assert_int_equal(n, 1);
    /* an https-only client (the default) also refuses http when curl is asked
     * directly: CURLOPT_PROTOCOLS_STR is "https" -- covered by the policy
     * check above, which never lets the transfer start */
    store_close(s);
}

typedef struct claimer {
    const env *e;
    const notify_opts *o;
    int64_t now;
    notify_stats st;
    int rc;
} claimer;

static void *claimer_main(void *p)
{
    claimer *c = p;
    store *s = NULL;
    eg_err err;
    eg_err_clear(&err);
    c->rc = store_open(c->e->b.url, &s, &err);
    if (!c->rc) c->rc = notify_run_due(s, c->o, c->now, &c->st, &err);
    if (c->rc) fprintf(stderr, "claimer: %s\n", err.msg);
    store_close(s);
    return NULL;
}

static void test_notify_two_claimers_never_send_a_row_twice(void **state)
{
    env *e = *state;
    NEED_BACKEND(e);
    enum { ROWS = 16 };
    store *s = open_ok(e);
    notify_opts o;
    char uri[200], res_buf[ROWS][80];
    opts_for(e, &o);
    o.batch = 100;
    for (int i = 0; i < ROWS; i++) {
        const char *res[1] = {res_buf[i]};
        char path[32];
        snprintf(res_buf[i], sizeof res_buf[i], "https://dc.example/r/Batch/Subscription/row%02d",
                 i);
        snprintf(path, sizeof path, "/n/%d", i); /* one destination each: no coalescing */
        uri_of(&e->tls, "https", path, uri, sizeof uri);
        enqueue_ok(s, "client-a", uri, res, 1, NULL);
    }
    int64_t t = (int64_t)time(NULL);
    claimer c[2] = {{e, &o, t, {0}, 0}, {e, &o, t, {0}, 0}};
    pthread_t th[2];
    for (int i = 0; i < 2; i++) assert_int_equal(pthread_create(&th[i], NULL, claimer_main, &c[i]), 0);
    for (int i = 0; i < 2; i++) pthread_join(th[i], NULL);
    assert_int_equal(c[0].rc, 0);
    assert_int_equal(c[1].rc, 0);
    assert_int_equal(c[0].st.claimed + c[1].st.claimed, ROWS);
    assert_int_equal(c[0].st.sent + c[1].st.sent, ROWS);

    int n;
    char *got = received(&e->tls, 0, &n);
    assert_int_equal(n, ROWS);
    for (int i = 0; i < ROWS; i++) {
        char el[200];
        snprintf(el, sizeof el, "<resources>%.79s</resources>", res_buf[i]);
        assert_int_equal(occurrences(got, el), 1);
    }
    free(got);
    store_close(s);
}

static void test_notify_max_attempts_makes_the_row_failed(void **state)
{
    env *e = *state;
    NEED_BACKEND(e);
    store *s = open_ok(e);
    notify_opts o;
    char uri[200], id[40];
    const char *res[] = {"https://dc.example/r/Batch/Subscription/s1"};
    rows rs;
    eg_err err;
    opts_for(e, &o);
    o.max_attempts = 3;
    o.base_delay = 1;
    receiver_answer(&e->tls, 503);
    uri_of(&e->tls, "https", "/n", uri, sizeof uri);
    enqueue_ok(s, "client-a", uri, res, 1, id);
    int64_t t = (int64_t)time(NULL);
    assert_int_equal(run_ok(s, &o, t).retry, 1);
    assert_int_equal(run_ok(s, &o, t + 100).retry, 1);
    assert_int_equal(run_ok(s, &o, t + 200).failed, 1);
    assert_int_equal(run_ok(s, &o, t + 100000).claimed, 0); /* kept, not retried */
    list_ok(s, &rs);
    const row_copy *r = find_row(&rs, id);
    assert_string_equal(r->state, "failed");
    assert_int_equal(r->attempts, 3);
    assert_non_null(strstr(r->last_error, "HTTP 503"));

    /* notify retry: back in line, delivered once the receiver is well */
    assert_int_equal(notify_retry(s, "no-such-id", &err), EG_EUSAGE);
    assert_int_equal(notify_retry(s, id, &err), 0);
    receiver_answer(&e->tls, 200);
    assert_int_equal(run_ok(s, &o, (int64_t)time(NULL)).sent, 1);
    assert_int_equal(notify_retry(s, id, &err), EG_EUSAGE); /* sent: nothing to retry */
    store_close(s);
}

static void test_notify_coalesces_pending_rows_for_one_destination(void **state)
{
    env *e = *state;
    NEED_BACKEND(e);
    store *s = open_ok(e);
    notify_opts o;
    char uri[200], uri2[200], id1[40], id2[40], id3[40], id4[40];
    const char *ab[] = {"https://dc.example/r/a", "https://dc.example/r/b"};
    const char *bc[] = {"https://dc.example/r/b", "https://dc.example/r/c"};
    rows rs;
    opts_for(e, &o);
    uri_of(&e->tls, "https", "/n", uri, sizeof uri);
    uri_of(&e->tls, "https", "/other", uri2, sizeof uri2);
    enqueue_ok(s, "client-a", uri, ab, 2, id1);
    enqueue_ok(s, "client-a", uri, bc, 2, id2);
    assert_string_equal(id1, id2); /* merged */
    enqueue_ok(s, "client-a", uri2, ab, 2, id3); /* another destination */
    assert_string_not_equal(id1, id3);
    enqueue_ok(s, "client-b", uri, ab, 2, id4);  /* another client */
    assert_string_not_equal(id1, id4);
    list_ok(s, &rs);
    assert_int_equal(rs.n, 3);
    assert_int_equal(find_row(&rs, id1)->n_resources, 3);

    assert_int_equal(run_ok(s, &o, (int64_t)time(NULL)).sent, 3);
    int n;
    char *got = received(&e->tls, 200, &n);
    assert_int_equal(n, 3);
    assert_int_equal(occurrences(got, "<resources>https://dc.example/r/c</resources>"), 1);
    assert_int_equal(occurrences(got, "<resources>https://dc.example/r/a</resources>"), 3);
    free(got);

    /* a sent row takes nothing more: a new notification is a new row */
    char id5[40];
    enqueue_ok(s, "client-a", uri, ab, 1, id5);
    assert_string_not_equal(id1, id5);
    store_close(s);
}

static void test_notify_held_lease_keeps_other_senders_off(void **state)
{
    env *e = *state;
    NEED_BACKEND(e);
    store *s = open_ok(e);
    notify_opts o;
    char uri[200], id[40], sql[200];
    const char *res[] = {"https://dc.example/r/a"};
    eg_err err;
    opts_for(e, &o);
    uri_of(&e->tls, "https", "/n", uri, sizeof uri);
    enqueue_ok(s, "client-a", uri, res, 1, id);
    int64_t t = (int64_t)time(NULL);
    /* as if a sender claimed it and died mid-POST */
    snprintf(sql, sizeof sql,
             "UPDATE notify_queue SET lease_until = %lld, claim = 'dead-sender' WHERE id = '%s'",
             (long long)(t + 100), id);
    assert_int_equal(s->ops->exec(s, sql, &err), 0);
    assert_int_equal(run_ok(s, &o, t).claimed, 0);
    notify_stats st = run_ok(s, &o, t + 101);
    assert_int_equal(st.claimed, 1);
    assert_int_equal(st.sent, 1);
    store_close(s);
}

static void test_notify_enqueue_rejects_bad_arguments(void **state)
{
    env *e = *state;
    NEED_BACKEND(e);
    store *s = open_ok(e);
    eg_err err;
    const char *ok[] = {"https://dc.example/r/a"};
    const char *space[] = {"https://dc.example/r/a b"};
    assert_int_equal(notify_enqueue(s, "c", "ftp://x/n", ok, 1, &err), EG_EUSAGE);
    assert_int_equal(notify_enqueue(s, "c", "https://x/n", space, 1, &err), EG_EUSAGE);
    assert_int_equal(notify_enqueue(s, "", "https://x/n", ok, 1, &err), EG_EUSAGE);
    assert_int_equal(notify_enqueue(s, "c", "https://x/n", ok, 0, &err), EG_EUSAGE);
    rows rs;
    list_ok(s, &rs);
    assert_int_equal(rs.n, 0);
    store_close(s);
}

/* Wait up to 10 s for the receiver to hold `want` requests. */
static int wait_for_requests(const receiver *r, int want)
{
    int n = 0;
    for (int i = 0; i < 200; i++) {
        free(received(r, 200, &n));
        if (n >= want) break;
        usleep(50000);
    }
    return n;
}

static void test_notify_worker_sends_at_start_and_when_kicked(void **state)
{
    env *e = *state;
    NEED_BACKEND(e);
    store *s = open_ok(e);
    notify_opts o;
    char uri[200], id1[40], id2[40];
    const char *res[] = {"https://dc.example/r/a"};
    eg_err err;
    rows rs;
    opts_for(e, &o);
    uri_of(&e->tls, "https", "/n", uri, sizeof uri);
    enqueue_ok(s, "client-a", uri, res, 1, id1);
    notify_worker *w = notify_worker_start(e->b.url, &o, 3600, &err);
    assert_non_null(w);
    assert_int_equal(wait_for_requests(&e->tls, 1), 1); /* the first run is at start */
    enqueue_ok(s, "client-b", uri, res, 1, id2);
    notify_worker_kick(w);
    assert_int_equal(wait_for_requests(&e->tls, 2), 2);
    notify_worker_stop(w);
    list_ok(s, &rs);
    assert_string_equal(find_row(&rs, id1)->state, "sent");
    assert_string_equal(find_row(&rs, id2)->state, "sent");
    assert_null(notify_worker_start("bogus://nowhere", &o, 10, &err));
    store_close(s);
}

#define NOTIFY_TESTS                                                                           \
    cmocka_unit_test_setup(test_notify_delivers_a_batch_list_with_exactly_the_uris, test_setup), \
    cmocka_unit_test_setup(test_notify_500_is_retried_with_growing_delay_then_delivered,       \
                           test_setup),                                                        \
    cmocka_unit_test_setup(test_notify_receiver_down_counts_attempts_and_keeps_the_row,        \
                           test_setup),                                                        \
    cmocka_unit_test_setup(test_notify_pending_rows_survive_reopening_the_store, test_setup),  \
    cmocka_unit_test_setup(test_notify_wrong_ca_records_a_tls_error_and_sends_nothing,         \
                           test_setup),                                                        \
    cmocka_unit_test_setup(test_notify_http_is_refused_unless_allowed, test_setup),            \
    cmocka_unit_test_setup(test_notify_two_claimers_never_send_a_row_twice, test_setup),       \
    cmocka_unit_test_setup(test_notify_max_attempts_makes_the_row_failed, test_setup),         \
    cmocka_unit_test_setup(test_notify_coalesces_pending_rows_for_one_destination, test_setup), \
    cmocka_unit_test_setup(test_notify_held_lease_keeps_other_senders_off, test_setup),        \
    cmocka_unit_test_setup(test_notify_enqueue_rejects_bad_arguments, test_setup),             \
    cmocka_unit_test_setup(test_notify_worker_sends_at_start_and_when_kicked, test_setup)

int main(void)
{
    const struct CMUnitTest tests[] = {NOTIFY_TESTS};
    if (access("/usr/bin/python3", X_OK) != 0) {
        fprintf(stderr, "SKIP test_notify: /usr/bin/python3 (the test receiver) is missing\n");
        return 77;
    }
    eg_err err;
    if (notify_global_init(&err)) return 1;
    int failed = cmocka_run_group_tests_name("notify/sqlite", tests, sqlite_group_setup,
                                             group_teardown);
    failed += cmocka_run_group_tests_name("notify/postgresql", tests, pg_group_setup,
                                          group_teardown);
    notify_global_cleanup();
    return failed ? 1 : 0;
}
