/* test_afile.c -- an output file appears whole on commit, never after abort. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "afile.h"

static char dir[] = "/tmp/espigate-afile.XXXXXX";

static int files_in_dir(void)
{
    int n = 0;
    DIR *d = opendir(dir);
    struct dirent *de;
    while (d && (de = readdir(d)))
        if (de->d_name[0] != '.') n++;
    if (d) closedir(d);
    return n;
}

static void test_commit_renames_into_place(void **state)
{
    (void)state;
    char path[256], buf[16] = "";
    espi_afile f;
    eg_err err;
    snprintf(path, sizeof path, "%s/out.xml", dir);
    assert_int_equal(espi_afile_open(&f, path, 4096, &err), 0);
    fputs("whole", f.fp);
    assert_int_equal(espi_afile_flush(&f, &err), 0);
    assert_int_equal(access(path, F_OK), -1); /* not there until committed */
    assert_int_equal(files_in_dir(), 1);       /* only the temporary */
    assert_int_equal(espi_afile_commit(&f, &err), 0);
    assert_null(f.fp);
    FILE *in = fopen(path, "rb");
    assert_non_null(in);
    assert_non_null(fgets(buf, sizeof buf, in));
    fclose(in);
    assert_string_equal(buf, "whole");
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0644);
    assert_int_equal(files_in_dir(), 1);
    /* replacing keeps the mode of the file it replaces */
    chmod(path, 0600);
    assert_int_equal(espi_afile_open(&f, path, 0, &err), 0);
    fputs("new", f.fp);
    assert_int_equal(espi_afile_commit(&f, &err), 0);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(st.st_size, 3);
    unlink(path);
}

static void test_abort_leaves_nothing(void **state)
{
    (void)state;
    char path[256];
    espi_afile f;
    eg_err err;
    snprintf(path, sizeof path, "%s/gone.xml", dir);
    assert_int_equal(espi_afile_open(&f, path, 0, &err), 0);
    fputs("half", f.fp);
    espi_afile_abort(&f);
    assert_int_equal(files_in_dir(), 0);
    espi_afile_abort(&f); /* twice, or on a closed file: harmless */
}

static void test_open_in_a_missing_directory(void **state)
{
    (void)state;
    char path[256];
    espi_afile f;
    eg_err err;
    eg_err_clear(&err);
    snprintf(path, sizeof path, "%s/no/such/dir/out.xml", dir);
    assert_int_equal(espi_afile_open(&f, path, 0, &err), EG_ECANTCREAT);
    assert_non_null(strstr(err.msg, "cannot create a temporary file beside the output"));
    assert_null(f.fp);
    assert_null(f.tmp);
    espi_afile_abort(&f);
}

int main(void)
{
    if (!mkdtemp(dir)) return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_commit_renames_into_place),
        cmocka_unit_test(test_abort_leaves_nothing),
        cmocka_unit_test(test_open_in_a_missing_directory),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    rmdir(dir);
    return failed;
}
