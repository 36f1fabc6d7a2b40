/* util.c -- helpers shared by the commands; see cli.h. */
#include "cli.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "store.h"

int cli_parse_format(const char *s, unsigned allowed)
{
    static const char *const names[] = {"text", "json", "junit"};
    for (int i = 0; i < 3; i++)
        if ((allowed & (1u << i)) && strcmp(s, names[i]) == 0) return i;
    return -1;
}

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "espigate %s: ", cmd);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nTry 'espigate %s --help'.\n", cmd);
    return EG_EXIT_USAGE;
}

int cli_report(const eg_err *err)
{
    char buf[EG_ERR_MSG_MAX + EG_ERR_FILE_MAX + 64];
    fprintf(stderr, "espigate: %s\n", eg_err_format(err, buf, sizeof buf));
    return eg_exit_status(err->code);
}

void cli_print_position(FILE *f, const char *file, long line, long col)
{
    if (line > 0 && col > 0) fprintf(f, "%s:%ld:%ld:", file, line, col);
    else if (line > 0) fprintf(f, "%s:%ld:", file, line);
    else fprintf(f, "%s:", file);
}

static int progress_shown;

void cli_progress(const char *label, unsigned long long bytes, unsigned long long total)
{
    static struct timespec last;
    struct timespec now;
    if (!isatty(STDERR_FILENO)) return;
    clock_gettime(CLOCK_MONOTONIC, &now);
    long ms = (now.tv_sec - last.tv_sec) * 1000 + (now.tv_nsec - last.tv_nsec) / 1000000;
    if (progress_shown && ms < 100) return;
    last = now;
    if (total)
        fprintf(stderr, "\r\033[K%s: %.1f / %.1f MB (%.0f%%)", label, bytes / 1e6, total / 1e6,
                100.0 * (double)bytes / (double)total);
    else
        fprintf(stderr, "\r\033[K%s: %.1f MB", label, bytes / 1e6);
    progress_shown = 1;
}

void cli_progress_done(void)
{
    if (progress_shown) fputs("\r\033[K", stderr);
    progress_shown = 0;
}

const char *cli_db_url(void)
{
    const char *env = getenv("ESPIGATE_DB");
    return env && *env ? env : STORE_DEFAULT_URL;
}

int cli_store_open(const char *url, store **s)
{
    eg_err err;
    eg_err_clear(&err);
    int rc = store_open(url, s, &err);
    return rc ? cli_report(&err) : 0;
}
