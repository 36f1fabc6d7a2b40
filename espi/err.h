/* err.h -- the one error type every fallible espigate call fills.
 *
 * A call returns 0 on success or a negative EG_E* code, and when it is
 * given a non-NULL eg_err it also records where the problem is (file, line,
 * column; 0 when unknown) and a message that says what was found, what was
 * expected and how to fix it.  The CLI maps codes to sysexits(3)-style exit
 * statuses with eg_exit_status(), so scripts can tell a bad feed (65) from a
 * missing file (66) or a usage error (64). */
#ifndef EG_ERR_H
#define EG_ERR_H

#include <stdarg.h>

enum eg_code {
    EG_OK = 0,
    EG_EUSAGE = -1,    /* bad command line or API misuse        -> 64 */
    EG_EDATA = -2,     /* input is not what it claims to be     -> 65 */
    EG_ENOINPUT = -3,  /* input file missing or unreadable      -> 66 */
    EG_ESOFTWARE = -4, /* internal error (a bug)                -> 70 */
    EG_ENOMEM = -5,    /* out of memory                         -> 71 */
    EG_ECANTCREAT = -6,/* cannot create an output file          -> 73 */
    EG_EIO = -7,       /* read or write failed                  -> 74 */
    EG_ELIMIT = -8,    /* input exceeds a configured size limit -> 65 */
    EG_EINVALID = -9,  /* feed parsed but breaks schema/rules   -> 65 */
    EG_ECONFIG = -10,  /* configuration problem                 -> 78 */
    EG_ESTOP = -11     /* a callback asked to stop (not an error to report) */
};

/* Exit statuses, the sysexits(3) values, documented in README. */
enum eg_exit {
    EG_EXIT_OK = 0,
    EG_EXIT_USAGE = 64,
    EG_EXIT_DATAERR = 65,
    EG_EXIT_NOINPUT = 66,
    EG_EXIT_SOFTWARE = 70,
    EG_EXIT_OSERR = 71,
    EG_EXIT_CANTCREAT = 73,
    EG_EXIT_IOERR = 74,
    EG_EXIT_CONFIG = 78
};

#define EG_ERR_MSG_MAX 512
#define EG_ERR_FILE_MAX 256

typedef struct eg_err {
    int code;                    /* an EG_E* value, 0 when clear */
    char file[EG_ERR_FILE_MAX];  /* input name, "" when not about a file */
    long line, col;              /* 1-based; 0 when unknown */
    char msg[EG_ERR_MSG_MAX];
} eg_err;

/* Clear err (NULL is fine). */
void eg_err_clear(eg_err *err);

/* Record an error and return code, so callers can write
 *     return eg_errf(err, EG_EDATA, name, line, 0, "expected %s", what);
 * err may be NULL; then only code is returned.  file may be NULL. */
int eg_errf(eg_err *err, int code, const char *file, long line, long col,
            const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 6, 7)))
#endif
    ;
int eg_verrf(eg_err *err, int code, const char *file, long line, long col,
             const char *fmt, va_list ap)
#if defined(__GNUC__)
    __attribute__((format(printf, 6, 0)))
#endif
    ;

/* "file:line:col: msg" (parts that are unknown are left out) into buf. */
const char *eg_err_format(const eg_err *err, char *buf, unsigned long size);

/* Short name of a code ("data error", ...). */
const char *eg_strerror(int code);

/* The process exit status for a code (EG_EXIT_*). */
int eg_exit_status(int code);

#endif
