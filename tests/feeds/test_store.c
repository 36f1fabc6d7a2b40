/* test_store.c -- the feed store, one suite run against BOTH backends.
 *
 * Every test takes the database URL from its group's state: the first
 * group uses a fresh SQLite file per test, the second a throw-away
 * PostgreSQL 15 cluster started by pgtmp.sh (initdb/pg_ctl in a temp dir,
 * unix socket only), with a fresh database per test.  When PostgreSQL is
 * not installed the PostgreSQL tests are skipped and say why on stderr.
 *
 * Test data comes from the writer's synthetic generator (espi_synth_write),
 * so ids and bytes are deterministic.  What is checked:
 *   - round trip: import -> export is byte-identical (ids preserved), and
 *     feedcmp.py (an independent Python parser) agrees the data is equal;
 *   - idempotence: a second import changes nothing, bytes included;
 *   - a newer block replaces the older one and bumps updated, a stale one
 *     does not; an invalid feed is rejected whole, the store unchanged;
 *   - queries by usage point / customer / time range / paging;
 *   - db check finds a damaged block;
 *   - crash safety: importers killed with SIGKILL at random moments leave
 *     every feed stored whole or not at all, and db check finds no damage;
 *   - a reader running while an import writes sees whole feeds only. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "pgtest.h"

#include "codec.h"
#include "reader.h"
#include "store.h"
#include "synth.h"
#include "writer.h"

typedef pgtest_backend env; /* pgtest.h: the folder, the cluster, this test's store */

/* ---- helpers ---------------------------------------------------------------- */

static void synth_file(const char *path, int ups, int days, uint64_t seed, int64_t updated)
{
    espi_synth_opts o;
    eg_err err;
    espi_synth_opts_init(&o);
    o.usage_points = ups;
    o.days = days;
    o.seed = seed;
    o.with_cost = o.with_quality = o.net_metering = 1;
    o.updated = updated;
    espi_writer *w = espi_writer_open_path(path, NULL, &err);
    assert_non_null(w);
    assert_int_equal(espi_synth_write(w, &o, &err), 0);
    assert_int_equal(espi_writer_close(w, &err), 0);
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *p = malloc((size_t)n + 1);
    assert_non_null(p);
    assert_int_equal(fread(p, 1, (size_t)n, f), (size_t)n);
    p[n] = '\0';
    fclose(f);
    if (len) *len = (size_t)n;
    return p;
}

static void spit(const char *path, const char *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}

static int files_equal(const char *a, const char *b)
{
    size_t la, lb;
    char *pa = slurp(a, &la), *pb = slurp(b, &lb);
    int same = la == lb && memcmp(pa, pb, la) == 0;
    free(pa);
    free(pb);
    return same;
}

static void path_in(const env *e, const char *name, char *out, size_t size)
{
    snprintf(out, size, "%s/%s", e->dir, name);
}

static store *open_ok(const env *e)
{
    store *s = NULL;
    eg_err err;
    eg_err_clear(&err);
    int rc = store_open(e->url, &s, &err);
    if (rc) fprintf(stderr, "store_open(%s): %s\n", e->url, err.msg);
    assert_int_equal(rc, 0);
    return s;
}

static void import_ok(store *s, const char *path, store_import_result *r)
{
    eg_err err;
    eg_err_clear(&err);
    int rc = store_import_file(s, path, NULL, r, &err);
    if (rc) fprintf(stderr, "import %s: %s\n", path, err.msg);
    assert_int_equal(rc, 0);
}

static void export_to(store *s, const store_query *q, const char *path)
{
    eg_err err;
    eg_err_clear(&err);
    espi_writer *w = espi_writer_open_path(path, NULL, &err);
    assert_non_null(w);
    int rc = store_export(s, q, w, NULL, &err);
    if (rc) fprintf(stderr, "export: %s\n", err.msg);
    assert_int_equal(rc, 0);
    assert_int_equal(espi_writer_close(w, &err), 0);
}

/* One integer from SQL run through the backend itself. */
static int64_t sql_i64(store *s, const char *sql)
{
    store_stmt *st = NULL;
    eg_err err;
    assert_int_equal(s->ops->prepare(s, sql, 0, &st, &err), 0);
    assert_int_equal(s->ops->step(st, &err), 1);
    int64_t v = s->ops->col_null(st, 0) ? 0 : s->ops->col_i64(st, 0);
    s->ops->finalize(st);
    return v;
}

typedef struct counter {
    long entries, blocks;
    long long readings;
    const char *must_contain;    /* every block self href must contain this */
    int64_t from, to;
} counter;

static int count_cb(void *p, const espi_resource *r, eg_err *err)
{
    counter *c = p;
    (void)err;
    c->entries++;
    if (r->type == ESPI_RES_INTERVAL_BLOCK) {
        const espi_interval *iv = &r->u.interval_block.interval;
        c->blocks++;
        c->readings += (long long)r->u.interval_block.n_readings;
        if (c->must_contain) assert_non_null(strstr(r->entry->self.href, c->must_contain));
        if (c->to != ESPI_NONE) assert_true(iv->start < c->to);
        if (c->from != ESPI_NONE) assert_true(iv->start + iv->duration > c->from);
    }
    return 0;
}

static counter select_count(store *s, const store_query *q)
{
    counter c;
    eg_err err;
    memset(&c, 0, sizeof c);
    c.from = q ? q->from : ESPI_NONE;
    c.to = q ? q->to : ESPI_NONE;
    int rc = store_select(s, q, NULL, count_cb, &c, &err);
    if (rc) fprintf(stderr, "select: %s\n", err.msg);
    assert_int_equal(rc, 0);
    return c;
}

static int reader_count_cb(void *p, const espi_resource *r, eg_err *err)
{
    (void)err;
    if (r->type == ESPI_RES_INTERVAL_BLOCK) *(long long *)p += (long long)r->u.interval_block.n_readings;
    return 0;
}

static long long readings_in(const char *path)
{
    long long n = 0;
    espi_reader_opts o;
    eg_err err;
    espi_reader_opts_init(&o);
    o.check_schema = 0;
    espi_reader_cbs cbs = {&n, NULL, reader_count_cb, NULL, NULL};
    assert_int_equal(espi_read_file(path, &o, &cbs, NULL, &err), 0);
    return n;
}

/* ---- fixtures ----------------------------------------------------------------- */

#define run_cmd pgtest_run

static int group_setup(void **state, int pg)
{
    env *e = calloc(1, sizeof *e);
    if (!e || pgtest_backend_open(e, "store", pg)) return -1;
    *state = e;
    return 0;
}

static int sqlite_group_setup(void **state) { return group_setup(state, 0); }
static int pg_group_setup(void **state) { return group_setup(state, 1); }

static int group_teardown(void **state)
{
    pgtest_backend_close(*state);
    free(*state);
    return 0;
}

/* A fresh, empty store per test. */
static int test_setup(void **state)
{
    return pgtest_backend_next(*state);
}

#define NEED_BACKEND(e)                                                                        \
    do {                                                                                       \
        if ((e)->skip) skip();                                                                 \
    } while (0)

/* ---- tests -------------------------------------------------------------------- */

static void test_store_round_trip_is_byte_identical(void **state)
{
    env *e = *state;
    char in[300], out[300], cmd[1200];
    NEED_BACKEND(e);
    path_in(e, "rt.xml", in, sizeof in);
    path_in(e, "rt.out.xml", out, sizeof out);
    synth_file(in, 2, 9, 7, ESPI_NONE);
    store *s = open_ok(e);
    store_import_result r;
    import_ok(s, in, &r);
    assert_int_equal(r.rejected, 0);
    assert_true(r.inserted > 0);
    assert_int_equal(r.readings, readings_in(in));
    export_to(s, NULL, out);
    assert_true(files_equal(in, out));
    snprintf(cmd, sizeof cmd, "python3 %s/tests/feeds/feedcmp.py %s %s >/dev/null",
             getenv("ESPIGATE_SRC") ? getenv("ESPIGATE_SRC") : "../..", in, out);
    if (run_cmd("python3 -c 1 2>/dev/null") == 0) assert_int_equal(run_cmd(cmd), 0);
    store_close(s);
}

static void test_store_second_import_changes_nothing(void **state)
{
    env *e = *state;
    char in[300], out1[300], out2[300];
    NEED_BACKEND(e);
    path_in(e, "idem.xml", in, sizeof in);
    path_in(e, "idem1.xml", out1, sizeof out1);
    path_in(e, "idem2.xml", out2, sizeof out2);
    synth_file(in, 1, 5, 3, ESPI_NONE);
    store *s = open_ok(e);
    store_import_result r1, r2;
    import_ok(s, in, &r1);
    export_to(s, NULL, out1);
    int64_t feeds = sql_i64(s, "SELECT COUNT(*) FROM feed");
    int64_t imported = sql_i64(s, "SELECT MAX(imported) FROM feed");
    sleep(1);
    import_ok(s, in, &r2);
    assert_int_equal(r2.inserted, 0);
    assert_int_equal(r2.replaced, 0);
    assert_int_equal(r2.unchanged, r1.inserted);
    export_to(s, NULL, out2);
    assert_true(files_equal(out1, out2));
    assert_int_equal(sql_i64(s, "SELECT COUNT(*) FROM feed"), feeds);
    assert_int_equal(sql_i64(s, "SELECT MAX(imported) FROM feed"), imported);
    store_close(s);
}

/* Change the first <value>N</value> of the feed to another number. */
static void edit_first_value(const char *in, const char *out, const char *newval)
{
    size_t n;
    char *p = slurp(in, &n), *v = strstr(p, "<value>");
    assert_non_null(v);
    char *end = strstr(v, "</value>");
    assert_non_null(end);
    size_t head = (size_t)(v - p) + 7;
    FILE *f = fopen(out, "wb");
    assert_non_null(f);
    fwrite(p, 1, head, f);
    fputs(newval, f);
    fwrite(end, 1, n - (size_t)(end - p), f);
    fclose(f);
    free(p);
}

static void test_store_newer_block_replaces_and_bumps_updated(void **state)
{
    env *e = *state;
    char a[300], b[300], out[300];
    NEED_BACKEND(e);
    path_in(e, "va.xml", a, sizeof a);
    path_in(e, "vb.xml", b, sizeof b);
    path_in(e, "vout.xml", out, sizeof out);
    synth_file(a, 1, 3, 5, ESPI_NONE);
    edit_first_value(a, b, "987654");
    store *s = open_ok(e);
    store_import_result r;
    import_ok(s, a, &r);
    int64_t before = sql_i64(s, "SELECT MAX(updated) FROM block");
    import_ok(s, b, &r);
    assert_int_equal(r.replaced, 1);
    assert_int_equal(r.inserted, 0);
    assert_true(sql_i64(s, "SELECT MAX(updated) FROM block") > before);
    export_to(s, NULL, out);
    size_t n;
    char *x = slurp(out, &n);
    assert_non_null(strstr(x, "<value>987654</value>"));
    free(x);
    /* the old version is now stale: importing it again changes nothing */
    import_ok(s, a, &r);
    assert_int_equal(r.stale, 1);
    assert_int_equal(r.replaced, 0);
    export_to(s, NULL, out);
    x = slurp(out, &n);
    assert_non_null(strstr(x, "<value>987654</value>"));
    free(x);
    store_close(s);
}

typedef struct diag_count {
    long errors;
} diag_count;

static void count_diag(void *p, const espi_diag *d)
{
    if (d->severity == ESPI_SEV_ERROR) ((diag_count *)p)->errors++;
}

static void test_store_invalid_feed_is_rejected_whole(void **state)
{
    env *e = *state;
    char good[300], bad[300], out1[300], out2[300];
    NEED_BACKEND(e);
    path_in(e, "good.xml", good, sizeof good);
    path_in(e, "bad.xml", bad, sizeof bad);
    path_in(e, "rej1.xml", out1, sizeof out1);
    path_in(e, "rej2.xml", out2, sizeof out2);
    synth_file(good, 1, 2, 11, ESPI_NONE);
    store *s = open_ok(e);
    store_import_result r;
    import_ok(s, good, &r);
    export_to(s, NULL, out1);
    /* a second feed, valid except one value near its END: rows before it
     * would already be written when the error is seen */
    synth_file(bad, 2, 4, 12, ESPI_NONE);
    size_t n;
    char *p = slurp(bad, &n), *v = NULL, *q = p;
    while ((q = strstr(q, "<value>"))) v = q++;
    assert_non_null(v);
    memcpy(v + 7, "x", 1);
    spit(bad, p, n);
    free(p);
    diag_count dc = {0};
    store_import_opts o = {.diag = count_diag, .ctx = &dc};
    eg_err err;
    assert_int_equal(store_import_file(s, bad, &o, &r, &err), EG_EINVALID);
    assert_int_equal(r.rejected, 1);
    assert_true(dc.errors > 0);
    assert_int_equal(r.errors, dc.errors);
    export_to(s, NULL, out2);
    assert_true(files_equal(out1, out2));
    store_close(s);
}

static void test_store_query_by_usage_point_and_time_range(void **state)
{
    env *e = *state;
    char in[300];
    NEED_BACKEND(e);
    path_in(e, "q.xml", in, sizeof in);
    synth_file(in, 3, 10, 21, ESPI_NONE);
    store *s = open_ok(e);
    store_import_result r;
    import_ok(s, in, &r);
    counter all = select_count(s, NULL);
    assert_int_equal(all.readings, r.readings);

    char upid[37];
    espi_uuid5_bare("synth:21:up:1", upid); /* the second house */
    store_query q;
    store_query_init(&q);
    q.usage_point = upid;
    q.from = 1704067200 + 2 * 86400; /* 2024-01-03 UTC */
    q.to = 1704067200 + 4 * 86400;
    counter c;
    memset(&c, 0, sizeof c);
    c.must_contain = upid;
    c.from = q.from;
    c.to = q.to;
    eg_err err;
    assert_int_equal(store_select(s, &q, NULL, count_cb, &c, &err), 0);
    /* local (US Central) days overlapping two UTC days: 3 per MeterReading,
     * forward and reverse flow */
    assert_int_equal(c.blocks, 6);
    assert_true(c.readings > 0 && c.readings < all.readings / 3);

    /* paging: start-index and max-results over the same selection */
    store_query_init(&q);
    q.start_index = 3;
    q.max_results = 4;
    counter page = select_count(s, &q);
    assert_int_equal(page.entries, 4);

    q.usage_point = "no-such-usage-point";
    assert_int_equal(store_select(s, &q, NULL, count_cb, &c, &err), EG_EUSAGE);
    store_close(s);
}

static void test_store_customer_owns_usage_points(void **state)
{
    env *e = *state;
    char a[300], b[300];
    eg_err err;
    NEED_BACKEND(e);
    path_in(e, "ca.xml", a, sizeof a);
    path_in(e, "cb.xml", b, sizeof b);
    synth_file(a, 2, 2, 31, ESPI_NONE);
    synth_file(b, 1, 2, 32, ESPI_NONE);
    store *s = open_ok(e);
    assert_int_equal(store_customer_add(s, "c-1", "Alice", &err), 0);
    assert_int_equal(store_customer_add(s, "c-1", "Again", &err), EG_EUSAGE);
    store_import_opts o = {.customer = "c-1"};
    store_import_result r;
    assert_int_equal(store_import_file(s, a, &o, &r, &err), 0);
    o.customer = "nobody";
    assert_int_equal(store_import_file(s, b, &o, &r, &err), EG_EUSAGE);
    import_ok(s, b, &r);
    store_query q;
    store_query_init(&q);
    q.customer = "c-1";
    counter c = select_count(s, &q);
    assert_int_equal(c.readings, readings_in(a));
    store_close(s);
}

static void test_store_check_finds_a_damaged_block(void **state)
{
    env *e = *state;
    char in[300];
    eg_err err;
    store_check_result cr;
    NEED_BACKEND(e);
    path_in(e, "dmg.xml", in, sizeof in);
    synth_file(in, 1, 2, 41, ESPI_NONE);
    store *s = open_ok(e);
    store_import_result r;
    import_ok(s, in, &r);
    assert_int_equal(store_check(s, NULL, NULL, &cr, &err), 0);
    assert_int_equal(cr.problems, 0);
    assert_int_equal(cr.readings, r.readings);
    store_stmt *st = NULL;
    assert_int_equal(s->ops->prepare(s, "UPDATE block SET data = ?1 WHERE bid = (SELECT MIN(bid)"
                                        " FROM block)", 0, &st, &err), 0);
    s->ops->bind_blob(st, 1, "\x01\x05\x00", 3);
    assert_int_equal(s->ops->step(st, &err), 0);
    s->ops->finalize(st);
    assert_int_equal(store_check(s, NULL, NULL, &cr, &err), 0);
    assert_true(cr.problems >= 1);
    store_close(s);
}

/* Import feeds[0..n) in a child process; return its pid. */
static pid_t spawn_importer(const env *e, char feeds[][300], int n)
{
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        store *s = NULL;
        eg_err err;
        store_import_result r;
        if (store_open(e->url, &s, &err)) _exit(3);
        for (int i = 0; i < n; i++)
            if (store_import_file(s, feeds[i], NULL, &r, &err)) _exit(4);
        store_close(s);
        _exit(0);
    }
    return pid;
}

static void test_store_sigkill_leaves_whole_feeds(void **state)
{
    env *e = *state;
    enum { FEEDS = 3, ROUNDS = 6 };
    char feeds[FEEDS][300];
    long long per_feed[FEEDS], total_expected = 0;
    struct timespec t0, t1;
    NEED_BACKEND(e);
    for (int i = 0; i < FEEDS; i++) {
        char name[32];
        snprintf(name, sizeof name, "crash%d.xml", i);
        path_in(e, name, feeds[i], sizeof feeds[i]);
        synth_file(feeds[i], 8, 30, 100 + (uint64_t)i, ESPI_NONE);
        per_feed[i] = readings_in(feeds[i]);
        total_expected += per_feed[i];
    }
    /* how long does a whole run take here (sanitizers are slow)? */
    clock_gettime(CLOCK_MONOTONIC, &t0);
    store *s0 = open_ok(e);
    store_close(s0);
    pid_t pid = spawn_importer(e, feeds, FEEDS);
    int st;
    waitpid(pid, &st, 0);
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    long run_ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
    fprintf(stderr, "# crash test: one run of %d feeds takes %ld ms\n", FEEDS, run_ms);

    unsigned seed = (unsigned)time(NULL);
    fprintf(stderr, "# crash test seed %u\n", seed);
    srand(seed);
    /* fresh store per round is not needed: the invariant holds cumulatively,
     * but start empty so partial feeds would show */
    for (int round = 0; round < ROUNDS; round++) {
        store *s = open_ok(e);
        eg_err err;
        store_stmt *del = NULL;
        static const char *const wipe[] = {"DELETE FROM link", "DELETE FROM block",
                                           "DELETE FROM series", "DELETE FROM resource",
                                           "DELETE FROM feed"};
        for (size_t k = 0; k < sizeof wipe / sizeof wipe[0]; k++)
            assert_int_equal(s->ops->exec(s, wipe[k], &err), 0);
        (void)del;
        store_close(s);
        pid = spawn_importer(e, feeds, FEEDS);
        long ms = rand() % (run_ms + 1);
        struct timespec d = {ms / 1000, (ms % 1000) * 1000000L};
        nanosleep(&d, NULL);
        kill(pid, SIGKILL);
        waitpid(pid, &st, 0);

        s = open_ok(e);
        int64_t stored = sql_i64(s, "SELECT CAST(COALESCE(SUM(n), 0) AS BIGINT) FROM block");
        int64_t logged = sql_i64(s, "SELECT CAST(COALESCE(SUM(readings), 0) AS BIGINT) FROM feed");
        int64_t nfeeds = sql_i64(s, "SELECT COUNT(*) FROM feed");
        fprintf(stderr, "# round %d: killed after %ld ms: %lld feeds, %lld readings stored\n",
                round, ms, (long long)nfeeds, (long long)stored);
        /* every stored reading belongs to a feed that committed whole */
        assert_int_equal(stored, logged);
        long long whole = 0;
        for (int i = 0; i < nfeeds; i++) whole += per_feed[i];
        assert_int_equal(stored, whole);
        store_check_result cr;
        assert_int_equal(store_check(s, NULL, NULL, &cr, &err), 0);
        assert_int_equal(cr.problems, 0);
        store_close(s);
    }
    (void)total_expected;
}

static void test_store_reader_sees_whole_feeds_during_import(void **state)
{
    env *e = *state;
    char feeds[1][300];
    NEED_BACKEND(e);
    path_in(e, "conc.xml", feeds[0], sizeof feeds[0]);
    synth_file(feeds[0], 10, 30, 200, ESPI_NONE);
    long long whole = readings_in(feeds[0]);
    store *s = open_ok(e);
    pid_t pid = spawn_importer(e, feeds, 1);
    int st, reads = 0, saw_empty = 0, saw_full = 0;
    for (;;) {
        int done = waitpid(pid, &st, WNOHANG) == pid;
        counter c = select_count(s, NULL);
        assert_true(c.readings == 0 || c.readings == whole);
        saw_empty |= c.readings == 0;
        saw_full |= c.readings == whole;
        reads++;
        if (done) break;
    }
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    assert_true(saw_full);
    fprintf(stderr, "# %d reads while importing (%s an empty snapshot)\n", reads,
            saw_empty ? "saw" : "never saw");
    store_close(s);
}

#define STORE_TESTS                                                                            \
    cmocka_unit_test_setup(test_store_round_trip_is_byte_identical, test_setup),               \
    cmocka_unit_test_setup(test_store_second_import_changes_nothing, test_setup),              \
    cmocka_unit_test_setup(test_store_newer_block_replaces_and_bumps_updated, test_setup),     \
    cmocka_unit_test_setup(test_store_invalid_feed_is_rejected_whole, test_setup),             \
    cmocka_unit_test_setup(test_store_query_by_usage_point_and_time_range, test_setup),        \
    cmocka_unit_test_setup(test_store_customer_owns_usage_points, test_setup),                 \
    cmocka_unit_test_setup(test_store_check_finds_a_damaged_block, test_setup),                \
    cmocka_unit_test_setup(test_store_reader_sees_whole_feeds_during_import, test_setup),      \
    cmocka_unit_test_setup(test_store_sigkill_leaves_whole_feeds, test_setup)

int main(void)
{
    const struct CMUnitTest tests[] = {STORE_TESTS};
    int failed = cmocka_run_group_tests_name("store/sqlite", tests, sqlite_group_setup,
                                             group_teardown);
    failed += cmocka_run_group_tests_name("store/postgresql", tests, pg_group_setup,
                                          group_teardown);
    return failed ? 1 : 0;
}
