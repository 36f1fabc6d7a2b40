/* test_err.c -- the error type: formatting and exit-status mapping. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "err.h"

static void test_errf_records_position_and_message(void **state)
{
    (void)state;
    eg_err e;
    eg_err_clear(&e);
    int rc = eg_errf(&e, EG_EDATA, "smt.csv", 98, 0, "USAGE_KWH \"%s\" is not a decimal", "1,2");
    assert_int_equal(rc, EG_EDATA);
    assert_int_equal(e.code, EG_EDATA);
    char buf[1024];
    assert_string_equal(eg_err_format(&e, buf, sizeof buf),
                        "smt.csv:98: USAGE_KWH \"1,2\" is not a decimal");
    e.col = 7;
    assert_string_equal(eg_err_format(&e, buf, sizeof buf),
                        "smt.csv:98:7: USAGE_KWH \"1,2\" is not a decimal");
    e.line = 0;
    assert_string_equal(eg_err_format(&e, buf, sizeof buf), "smt.csv: USAGE_KWH \"1,2\" is not a decimal");
}

static void test_errf_accepts_null_err(void **state)
{
    (void)state;
    assert_int_equal(eg_errf(NULL, EG_EIO, "x", 1, 1, "ignored"), EG_EIO);
}

static void test_long_message_is_truncated_not_overflowed(void **state)
{
    (void)state;
    eg_err e;
    char big[4000];
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    eg_errf(&e, EG_EDATA, big, 1, 1, "%s", big);
    assert_int_equal(strlen(e.msg), EG_ERR_MSG_MAX - 1);
    assert_int_equal(strlen(e.file), EG_ERR_FILE_MAX - 1);
}

static void test_exit_statuses_follow_sysexits(void **state)
{
    (void)state;
    assert_int_equal(eg_exit_status(EG_OK), 0);
    assert_int_equal(eg_exit_status(EG_EUSAGE), 64);
    assert_int_equal(eg_exit_status(EG_EDATA), 65);
    assert_int_equal(eg_exit_status(EG_EINVALID), 65);
    assert_int_equal(eg_exit_status(EG_ELIMIT), 65);
    assert_int_equal(eg_exit_status(EG_ENOINPUT), 66);
    assert_int_equal(eg_exit_status(EG_ESOFTWARE), 70);
    assert_int_equal(eg_exit_status(EG_ENOMEM), 71);
    assert_int_equal(eg_exit_status(EG_ECANTCREAT), 73);
    assert_int_equal(eg_exit_status(EG_EIO), 74);
    assert_int_equal(eg_exit_status(EG_ECONFIG), 78);
    assert_int_equal(eg_exit_status(-999), 70);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_errf_records_position_and_message),
        cmocka_unit_test(test_errf_accepts_null_err),
        cmocka_unit_test(test_long_message_is_truncated_not_overflowed),
        cmocka_unit_test(test_exit_statuses_follow_sysexits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
