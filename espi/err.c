/* err.c -- see err.h. */
#include "err.h"

#include <stdio.h>
#include <string.h>

void eg_err_clear(eg_err *err)
{
    if (err) memset(err, 0, sizeof *err);
}

int eg_verrf(eg_err *err, int code, const char *file, long line, long col,
             const char *fmt, va_list ap)
{
    if (!err) return code;
    err->code = code;
    err->line = line;
    err->col = col;
    snprintf(err->file, sizeof err->file, "%s", file ? file : "");
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    return code;
}

int eg_errf(eg_err *err, int code, const char *file, long line, long col,
            const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    eg_verrf(err, code, file, line, col, fmt, ap);
    va_end(ap);
    return code;
}

const char *eg_err_format(const eg_err *err, char *buf, unsigned long size)
{
    if (!err->file[0])
        snprintf(buf, size, "%s", err->msg);
    else if (err->line > 0 && err->col > 0)
        snprintf(buf, size, "%s:%ld:%ld: %s", err->file, err->line, err->col, err->msg);
    else if (err->line > 0)
        snprintf(buf, size, "%s:%ld: %s", err->file, err->line, err->msg);
    else
        snprintf(buf, size, "%s: %s", err->file, err->msg);
    return buf;
}

const char *eg_strerror(int code)
{
    switch (code) {
    case EG_OK: return "ok";
    case EG_EUSAGE: return "usage error";
    case EG_EDATA: return "data error";
    case EG_ENOINPUT: return "cannot open input";
    case EG_ESOFTWARE: return "internal error";
    case EG_ENOMEM: return "out of memory";
    case EG_ECANTCREAT: return "cannot create output";
    case EG_EIO: return "I/O error";
    case EG_ELIMIT: return "size limit exceeded";
    case EG_EINVALID: return "invalid";
    case EG_ECONFIG: return "configuration error";
    case EG_ESTOP: return "stopped";
    default: return "unknown error";
    }
}

int eg_exit_status(int code)
{
    switch (code) {
    case EG_OK: case EG_ESTOP: return EG_EXIT_OK;
    case EG_EUSAGE: return EG_EXIT_USAGE;
    case EG_EDATA: case EG_ELIMIT: case EG_EINVALID: return EG_EXIT_DATAERR;
    case EG_ENOINPUT: return EG_EXIT_NOINPUT;
    case EG_ENOMEM: return EG_EXIT_OSERR;
    case EG_ECANTCREAT: return EG_EXIT_CANTCREAT;
    case EG_EIO: return EG_EXIT_IOERR;
    case EG_ECONFIG: return EG_EXIT_CONFIG;
    default: return EG_EXIT_SOFTWARE;
    }
}
