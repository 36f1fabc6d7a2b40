/* afile.c -- see afile.h. */
#define _GNU_SOURCE /* sync_file_range */
#include "afile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Free the names and zero f (the file is closed already). */
static void afile_release(espi_afile *f)
{
    free(f->path);
    free(f->tmp);
    memset(f, 0, sizeof *f);
}

int espi_afile_open(espi_afile *f, const char *path, size_t bufsize, eg_err *err)
{
    size_t n = strlen(path);
    int fd;
    memset(f, 0, sizeof *f);
    f->path = malloc(n + 1);
    f->tmp = malloc(n + 8);
    if (!f->path || !f->tmp) {
        afile_release(f);
        return eg_errf(err, EG_ENOMEM, path, 0, 0, "out of memory opening the output");
    }
    memcpy(f->path, path, n + 1);
    snprintf(f->tmp, n + 8, "%s.XXXXXX", path);
    if ((fd = mkstemp(f->tmp)) < 0) {
        int e = errno;
        afile_release(f);
        return eg_errf(err, EG_ECANTCREAT, path, 0, 0,
                       "cannot create a temporary file beside the output: %s "
                       "(check that the directory exists and is writable)", strerror(e));
    }
    /* mkstemp creates 0600: give the file the mode of the one it replaces,
     * or 0644 (reading the umask would touch global state) */
    struct stat st;
    fchmod(fd, stat(path, &st) == 0 ? (st.st_mode & 07777) : 0644);
    if (!(f->fp = fdopen(fd, "wb"))) {
        int e = errno;
        close(fd);
        unlink(f->tmp);
        afile_release(f);
        return eg_errf(err, EG_ECANTCREAT, path, 0, 0, "cannot open the temporary file: %s",
                       strerror(e));
    }
    if (bufsize) setvbuf(f->fp, NULL, _IOFBF, bufsize);
    return 0;
}

int espi_afile_flush(espi_afile *f, eg_err *err)
{
    if (fflush(f->fp) != 0)
        return eg_errf(err, EG_EIO, f->path, 0, 0, "write failed: %s", strerror(errno));
#ifdef SYNC_FILE_RANGE_WRITE
    (void)sync_file_range(fileno(f->fp), 0, 0, SYNC_FILE_RANGE_WRITE); /* a hint only */
#endif
    return 0;
}

int espi_afile_commit(espi_afile *f, eg_err *err)
{
    int rc = 0, bad = fflush(f->fp) != 0 || fsync(fileno(f->fp)) != 0, e = errno;
    if (fclose(f->fp) != 0 && !bad) bad = 1, e = errno;
    f->fp = NULL;
    if (bad)
        rc = eg_errf(err, EG_EIO, f->path, 0, 0, "write failed: %s", strerror(e));
    else if (rename(f->tmp, f->path) != 0)
        rc = eg_errf(err, EG_ECANTCREAT, f->path, 0, 0, "cannot rename %s into place: %s", f->tmp,
                     strerror(errno));
    if (rc) unlink(f->tmp);
    afile_release(f);
    return rc;
}

void espi_afile_abort(espi_afile *f)
{
    if (f->fp) fclose(f->fp);
    if (f->tmp) unlink(f->tmp);
    afile_release(f);
}
