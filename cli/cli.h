/* cli.h -- shared pieces of the espigate command line.
 *
 * Every command is `int cmd_NAME(int argc, char **argv)` returning a
 * sysexits-style status (err.h EG_EXIT_*), parses its own options with
 * getopt_long, answers --help on stdout with exit 0, and reports usage
 * mistakes on stderr with exit 64 and a hint saying how to fix them. */
#ifndef CLI_H
#define CLI_H

#include <stdio.h>

#include "err.h"
#include "textout.h" /* eg_json_string(), eg_xml_text() */

typedef enum cli_format { CLI_FMT_TEXT, CLI_FMT_JSON, CLI_FMT_JUNIT } cli_format;

/* Parse a --format value; -1 when not one of the allowed set (mask of
 * 1 << CLI_FMT_*). */
int cli_parse_format(const char *s, unsigned allowed);

/* Print a usage error "espigate CMD: MSG\nTry 'espigate CMD --help'." and
 * return EG_EXIT_USAGE. */
int cli_usage_error(const char *cmd, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* Print an eg_err as "espigate: file:line:col: msg" and return its exit status. */
int cli_report(const eg_err *err);

/* "file:line:col:" -- line and col left out when 0 (unknown). */
void cli_print_position(FILE *f, const char *file, long line, long col);

/* Progress on a terminal: cli_progress(label, bytes) redraws one stderr line
 * at most ~10 times a second, and only when stderr is a TTY;
 * cli_progress_done() clears it. */
void cli_progress(const char *label, unsigned long long bytes, unsigned long long total);
void cli_progress_done(void);

/* The store URL commands use without --db: $ESPIGATE_DB, else sqlite:espigate.db. */
const char *cli_db_url(void);
/* store_open() that reports a failure itself: 0, or the exit status. */
struct store;
int cli_store_open(const char *url, struct store **s);

int cmd_validate(int argc, char **argv);
int cmd_demo(int argc, char **argv);
int cmd_synth(int argc, char **argv);
int cmd_translate(int argc, char **argv);

#endif
