/* afile.h -- an output file that appears whole or not at all.
 *
 * Everything espigate writes to a named file goes to a temporary file
 * beside it ("PATH.XXXXXX", mkstemp), which is fsync'd and renamed onto
 * PATH only when complete; a failed or abandoned write unlinks it.  So a
 * reader of PATH sees the old file or the new one, never half of one, even
 * after a crash.  The new file gets the mode of the file it replaces, else
 * 0644.  The feed writer (writer.h) uses this for its path sink; `translate
 * -O` uses it directly to commit many files in one round: espi_afile_flush
 * as each completes (starting its writeback), espi_afile_commit for all of
 * them later, so the disk waits overlap. */
#ifndef ESPI_AFILE_H
#define ESPI_AFILE_H

#include <stddef.h>
#include <stdio.h>

#include "err.h"

typedef struct espi_afile {
    FILE *fp;      /* write here; NULL when not open */
    char *path;    /* the final name */
    char *tmp;     /* the temporary beside it */
} espi_afile;

/* Create the temporary file for path, buffered with bufsize bytes (0 = stdio's
 * default).  On failure f is left closed and nothing exists on disk
 * (EG_ENOMEM, EG_ECANTCREAT with a message naming path). */
int espi_afile_open(espi_afile *f, const char *path, size_t bufsize, eg_err *err);

/* Push what is buffered to the kernel and start writing it to disk without
 * waiting (a hint where the system has one).  EG_EIO when the write fails
 * (the file stays open: commit or abort it). */
int espi_afile_flush(espi_afile *f, eg_err *err);

/* Flush, fsync, close and rename onto path.  On failure (EG_EIO,
 * EG_ECANTCREAT) the temporary file is removed.  f is closed either way. */
int espi_afile_commit(espi_afile *f, eg_err *err);

/* Close and remove the temporary file.  Safe on a closed or zeroed f. */
void espi_afile_abort(espi_afile *f);

#endif
