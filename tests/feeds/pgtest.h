/* pgtest.h -- a throw-away PostgreSQL 15 cluster for the feeds test suites.
 *
 * Every store-backed suite (store, oauth, notify, espi_api) runs its tests
 * twice: on SQLite and on a real PostgreSQL started by tests/feeds/pgtmp.sh
 * in a temporary folder.  These helpers wrap that script once:
 *     pgtest_start(suite, dir, url) cluster up (0), not installed (77, the
 *                               half is skipped with a message), or -1
 *     pgtest_db(dir, name, url) a fresh database per test, its URL
 *     pgtest_stop(dir)          cluster down, folder removed
 * and, on top of them, the fixture every suite shares (pgtest_backend):
 *     pgtest_backend_open(b, suite, pg)   a group: temp folder (+ cluster)
 *     pgtest_backend_next(b)              a fresh empty store in b->url
 *     pgtest_backend_close(b)             everything removed
 * Header-only (static inline): each test program is its own executable. */
#ifndef TESTS_PGTEST_H
#define TESTS_PGTEST_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

static inline const char *pgtest_src(void)
{
    const char *s = getenv("ESPIGATE_SRC");
    return s && *s ? s : "../..";
}

/* Run cmd through the shell: its exit status (-1 when it could not run). */
static inline int pgtest_run(const char *cmd)
{
    int st = system(cmd);
    return st == -1 || !WIFEXITED(st) ? -1 : WEXITSTATUS(st);
}

/* Run cmd and keep the first line it prints in out.  Its exit status. */
static inline int pgtest_line(const char *cmd, char *out, size_t size)
{
    FILE *p = popen(cmd, "r");
    out[0] = '\0';
    if (!p) return -1;
    if (fgets(out, (int)size, p)) out[strcspn(out, "\n")] = '\0';
    while (fgetc(p) != EOF) {}
    int st = pclose(p);
    return st == -1 || !WIFEXITED(st) ? -1 : WEXITSTATUS(st);
}

/* A cluster in a new folder named into dir (size >= 32), which the
 * 'postgres' user can enter; url (may be NULL) gets its first database's
 * URL.  0, 77 (not installed: said on stderr) or -1. */
static inline int pgtest_start(const char *suite, char *dir, size_t size, char *url_out,
                               size_t usize)
{
    char cmd[1200], url[512];
    snprintf(dir, size, "/tmp/espigate-pg.XXXXXX");
    if (!mkdtemp(dir) || chmod(dir, 0755)) return -1;
    snprintf(cmd, sizeof cmd, "bash %s/tests/feeds/pgtmp.sh start %s", pgtest_src(), dir);
    int rc = pgtest_line(cmd, url, sizeof url);
    if (rc == 77) {
        fprintf(stderr, "SKIP the PostgreSQL half of the %s suite: the PostgreSQL server is not "
                        "installed (apt-get install postgresql)\n", suite);
        return 77;
    }
    if (rc) fprintf(stderr, "the throw-away PostgreSQL cluster did not start (see above)\n");
    else if (url_out) snprintf(url_out, usize, "%s", url);
    return rc ? -1 : 0;
}

/* A new database name in the cluster at dir; its URL into url.  0 or -1. */
static inline int pgtest_db(const char *dir, const char *name, char *url, size_t size)
{
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "bash %s/tests/feeds/pgtmp.sh db %s %s", pgtest_src(), dir, name);
    return pgtest_line(cmd, url, size) == 0 && url[0] ? 0 : -1;
}

/* Stop the cluster and remove its folder (pgtmp.sh stop deletes it). */
static inline void pgtest_stop(const char *dir)
{
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "bash %s/tests/feeds/pgtmp.sh stop %s >/dev/null 2>&1; rm -rf %s",
             pgtest_src(), dir, dir);
    pgtest_run(cmd);
}

/* The store one test group runs on: SQLite files in a temporary folder, or
 * databases of a throw-away PostgreSQL cluster (pg = 1). */
typedef struct pgtest_backend {
    int pg;                 /* 1: the PostgreSQL group */
    int skip;               /* PostgreSQL is not installed: the group's tests skip */
    int n;                  /* tests so far, for fresh store names */
    char dir[64];           /* the group's temporary folder */
    char pgdir[64];         /* the cluster's folder (pg) */
    char base_url[512];     /* pg: the cluster's first database */
    char url[600];          /* the current test's store */
} pgtest_backend;

/* Make the folder /tmp/espigate-SUITE.XXXXXX and, for pg, start the cluster
 * (skip = 1 when PostgreSQL is not installed).  0 or -1. */
static inline int pgtest_backend_open(pgtest_backend *b, const char *suite, int pg)
{
    memset(b, 0, sizeof *b);
    b->pg = pg;
    snprintf(b->dir, sizeof b->dir, "/tmp/espigate-%s.XXXXXX", suite);
    if (!mkdtemp(b->dir)) return -1;
    if (!pg) return 0;
    int rc = pgtest_start(suite, b->pgdir, sizeof b->pgdir, b->base_url, sizeof b->base_url);
    if (rc == 77) b->skip = 1;
    return rc == 77 ? 0 : rc;
}

/* A fresh, empty store for the next test: its URL in b->url (SQLite file
 * tN.db, or database tN).  0 (also when skipped) or -1. */
static inline int pgtest_backend_next(pgtest_backend *b)
{
    b->n++;
    if (b->skip) return 0;
    if (!b->pg) {
        snprintf(b->url, sizeof b->url, "sqlite:%s/t%d.db", b->dir, b->n);
        return 0;
    }
    char name[16];
    snprintf(name, sizeof name, "t%d", b->n);
    return pgtest_db(b->pgdir, name, b->url, sizeof b->url);
}

/* Stop the cluster and remove the folder. */
static inline void pgtest_backend_close(pgtest_backend *b)
{
    char cmd[200];
    if (b->pg && b->pgdir[0]) pgtest_stop(b->pgdir);
    snprintf(cmd, sizeof cmd, "rm -rf %s", b->dir);
    pgtest_run(cmd);
}

#endif
