/* test_config.c - broker settings (broker/config.c): the defaults, a file
 * that sets everything, comments and blank lines, and errors that name the
 * offending line. Config files are written to mkstemp files under /tmp. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"

typedef struct {
    char path[64];
    broker_config_t cfg;
    char err[512];
} s_fixture_t;

static int s_setup(void **state)
{
    s_fixture_t *fx = calloc(1, sizeof *fx);
    if (!fx)
        return -1;
    snprintf(fx->path, sizeof fx->path, "/tmp/fluxbus-test-config-XXXXXX");
    int fd = mkstemp(fx->path);
    if (fd < 0) {
        free(fx);
        return -1;
    }
    close(fd);
    broker_config_defaults(&fx->cfg);
    *state = fx;
    return 0;
}

static int s_teardown(void **state)
{
    s_fixture_t *fx = *state;
    unlink(fx->path);
    free(fx);
    return 0;
}

/* Replaces the fixture's config file with text and loads it. */
static fb_err_t s_load(s_fixture_t *fx, const char *text)
{
    FILE *f = fopen(fx->path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    fx->err[0] = '\0';
    return broker_config_load(&fx->cfg, fx->path, fx->err, sizeof fx->err);
}

/* "<path>:<line>:" as config errors begin. */
static void s_assert_error_at_line(const s_fixture_t *fx, int line)
{
    char where[128];
    snprintf(where, sizeof where, "%s:%d:", fx->path, line);
    if (strncmp(fx->err, where, strlen(where)) != 0)
        fail_msg("error \"%s\" does not start with \"%s\"", fx->err, where);
}

/* The example of use: defaults, then a file that sets every setting. */
static void test_config_file_sets_every_setting(void **state)
{
    s_fixture_t *fx = *state;
    assert_int_equal(s_load(fx, "endpoint = tcp://0.0.0.0:6000\n"
                                "store = /var/lib/fluxbus/bus.db\n"
                                "key = /etc/fluxbus/broker.key\n"
                                "max_envelope = 1048576\n"
                                "window = 16\n"
                                "batch_max = 1000\n"
                                "freshness_s = 60\n"
                                "max_recipients = 8\n"
                                "rate = 20\n"
                                "rate_burst = 40\n"
                                "max_backlog = 1000\n"
                                "ack_delay_ms = 250\n"
                                "log_level = debug\n"),
                     FB_OK);
    assert_string_equal(fx->cfg.endpoint, "tcp://0.0.0.0:6000");
    assert_string_equal(fx->cfg.store, "/var/lib/fluxbus/bus.db");
    assert_string_equal(fx->cfg.key, "/etc/fluxbus/broker.key");
    assert_int_equal(fx->cfg.max_envelope, 1048576);
    assert_int_equal(fx->cfg.window, 16);
    assert_int_equal(fx->cfg.batch_max, 1000);
    assert_int_equal(fx->cfg.freshness_s, 60);
    assert_int_equal(fx->cfg.max_recipients, 8);
    assert_int_equal(fx->cfg.rate, 20);
    assert_int_equal(fx->cfg.rate_burst, 40);
    assert_int_equal(fx->cfg.max_backlog, 1000);
    assert_int_equal(fx->cfg.ack_delay_ms, 250);
    assert_int_equal(fx->cfg.log_level, FB_LOG_DEBUG);
}

static void test_config_defaults(void **state)
{
    broker_config_t cfg;
    memset(&cfg, 0xAA, sizeof cfg);
    broker_config_defaults(&cfg);
    assert_string_equal(cfg.endpoint, "tcp://127.0.0.1:5770");
    assert_string_equal(cfg.store, "fluxbus.db");
    assert_string_equal(cfg.key, "broker.key");
    assert_int_equal(cfg.max_envelope, 262144);
    assert_int_equal(cfg.window, 64);
    assert_int_equal(cfg.batch_max, 256);
    assert_int_equal(cfg.freshness_s, 300);
    assert_int_equal(cfg.max_recipients, 64);
    assert_int_equal(cfg.rate, 100);
    assert_int_equal(cfg.rate_burst, 500);
    assert_int_equal(cfg.max_backlog, 100000);
    assert_int_equal(cfg.ack_delay_ms, 10);
    assert_int_equal(cfg.log_level, FB_LOG_INFO);
}

static void test_config_file_keeps_defaults_it_does_not_mention(void **state)
{
    s_fixture_t *fx = *state;
    assert_int_equal(s_load(fx, "window = 8\n"), FB_OK);
    assert_int_equal(fx->cfg.window, 8);
    assert_string_equal(fx->cfg.endpoint, "tcp://127.0.0.1:5770");
    assert_int_equal(fx->cfg.max_envelope, 262144);
    assert_int_equal(fx->cfg.log_level, FB_LOG_INFO);
    /* An empty file changes nothing. */
    assert_int_equal(s_load(fx, ""), FB_OK);
    assert_int_equal(fx->cfg.window, 8);
}

static void test_config_accepts_comments_and_blank_lines(void **state)
{
    s_fixture_t *fx = *state;
    assert_int_equal(s_load(fx, "# fluxbus broker\n"
                                "\n"
                                "   \n"
                                "\t# indented comment\n"
                                "window = 8   # trailing comment\n"
                                "  batch_max=32\t\n"
                                "log_level = warn\r\n"
                                "#window = 999\n"),
                     FB_OK);
    assert_int_equal(fx->cfg.window, 8);
    assert_int_equal(fx->cfg.batch_max, 32);
    assert_int_equal(fx->cfg.log_level, FB_LOG_WARN);
}

static void test_config_unknown_setting_names_its_line(void **state)
{
    s_fixture_t *fx = *state;
    assert_int_equal(s_load(fx, "# comment\n"
                                "window = 8\n"
                                "\n"
                                "colour = blue\n"
                                "batch_max = 10\n"),
                     FB_ERR_PARSE);
    s_assert_error_at_line(fx, 4);
    assert_non_null(strstr(fx->err, "colour"));
    /* Reading stopped at the error. */
    assert_int_equal(fx->cfg.batch_max, 256);
}

static void test_config_bad_number_names_its_line(void **state)
{
    s_fixture_t *fx = *state;
    static const char *const bad[] = {
        "window = 12x\n",
        "window = 0\n",
        "window = 1025\n",
        "window = -1\n",
        "window =\n",
        "window = 1 2\n",
        "batch_max = 0\n",
        "batch_max = 65537\n",
        "max_envelope = 1023\n",
        "max_envelope = 67108865\n",
        "max_envelope = 99999999999999999999999\n",
        "max_envelope = 0x1000\n",
        "freshness_s = 0\n",
        "freshness_s = 604801\n",
        "max_recipients = 0\n",
        "rate = 0\n",
        "rate_burst = 0\n",
        "max_backlog = 0\n",
        "ack_delay_ms = 60001\n",
        "ack_delay_ms = -1\n",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char text[256];
        snprintf(text, sizeof text, "# line 1\nlog_level = info\n%s", bad[i]);
        broker_config_defaults(&fx->cfg);
        fb_err_t rc = s_load(fx, text);
        if (rc != FB_ERR_PARSE)
            fail_msg("\"%.*s\" gave %s", (int)strlen(bad[i]) - 1, bad[i], fb_err_name(rc));
        s_assert_error_at_line(fx, 3);
    }
    /* The limits themselves are accepted. */
    assert_int_equal(s_load(fx, "window = 1\nbatch_max = 65536\nmax_envelope = 1024\n"), FB_OK);
    assert_int_equal(fx->cfg.window, 1);
    assert_int_equal(fx->cfg.batch_max, 65536);
    assert_int_equal(fx->cfg.max_envelope, 1024);
    assert_int_equal(s_load(fx, "window = 1024\nmax_envelope = 67108864\n"), FB_OK);
    /* 0 is a valid delay: each turn commits its own acks. */
    assert_int_equal(s_load(fx, "ack_delay_ms = 0\n"), FB_OK);
    assert_int_equal(fx->cfg.ack_delay_ms, 0);
    assert_int_equal(s_load(fx, "ack_delay_ms = 60000\n"), FB_OK);
    assert_int_equal(fx->cfg.ack_delay_ms, 60000);
    assert_int_equal(fx->cfg.window, 1024);
    assert_int_equal(fx->cfg.max_envelope, 67108864);
}

static void test_config_bad_log_level_or_empty_string_is_parse_error(void **state)
{
    s_fixture_t *fx = *state;
    assert_int_equal(s_load(fx, "log_level = verbose\n"), FB_ERR_PARSE);
    s_assert_error_at_line(fx, 1);
    assert_int_equal(s_load(fx, "\nendpoint =\n"), FB_ERR_PARSE);
    s_assert_error_at_line(fx, 2);
}

static void test_config_line_without_equals_names_its_line(void **state)
{
    s_fixture_t *fx = *state;
    assert_int_equal(s_load(fx, "window = 8\nwindow 9\n"), FB_ERR_PARSE);
    s_assert_error_at_line(fx, 2);
}

static void test_config_missing_file_is_io_error(void **state)
{
    s_fixture_t *fx = *state;
    unlink(fx->path);
    fx->err[0] = '\0';
    assert_int_equal(broker_config_load(&fx->cfg, fx->path, fx->err, sizeof fx->err), FB_ERR_IO);
    assert_non_null(strstr(fx->err, fx->path));
}

/* broker_config_parse reads text as broker_config_load reads a file, naming
 * the given origin in its errors, and reads only len bytes. */
static void test_config_parse_reads_text_like_a_file(void **state)
{
    static const char text[] = "# from memory\nwindow = 8\nlog_level = warn\nbatch_max = 7x";
    broker_config_t cfg;
    char err[256] = "";
    broker_config_defaults(&cfg);
    size_t before_last = (size_t)(strstr(text, "batch_max") - text);
    assert_int_equal(broker_config_parse(&cfg, text, before_last, "mem", err, sizeof err), FB_OK);
    assert_int_equal(cfg.window, 8);
    assert_int_equal(cfg.log_level, FB_LOG_WARN);
    assert_int_equal(cfg.batch_max, 256);
    assert_int_equal(broker_config_parse(&cfg, text, sizeof text - 1, "mem", err, sizeof err),
                     FB_ERR_PARSE);
    assert_string_equal(err, "mem:4: bad value for batch_max: \"7x\"");
    assert_int_equal(broker_config_parse(&cfg, "", 0, "mem", err, sizeof err), FB_OK);
}

static void test_config_set_by_name(void **state)
{
    broker_config_t cfg;
    broker_config_defaults(&cfg);
    assert_int_equal(broker_config_set(&cfg, "window", "32"), FB_OK);
    assert_int_equal(cfg.window, 32);
    assert_int_equal(broker_config_set(&cfg, "log_level", "error"), FB_OK);
    assert_int_equal(cfg.log_level, FB_LOG_ERROR);
    assert_int_equal(broker_config_set(&cfg, "nope", "1"), FB_ERR_INVALID);
    assert_int_equal(broker_config_set(&cfg, "window", "x"), FB_ERR_PARSE);
    assert_int_equal(cfg.window, 32);
}

#define S_TEST(f) cmocka_unit_test_setup_teardown(f, s_setup, s_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        S_TEST(test_config_file_sets_every_setting),
        cmocka_unit_test(test_config_defaults),
        S_TEST(test_config_file_keeps_defaults_it_does_not_mention),
        S_TEST(test_config_accepts_comments_and_blank_lines),
        S_TEST(test_config_unknown_setting_names_its_line),
        S_TEST(test_config_bad_number_names_its_line),
        S_TEST(test_config_bad_log_level_or_empty_string_is_parse_error),
        S_TEST(test_config_line_without_equals_names_its_line),
        S_TEST(test_config_missing_file_is_io_error),
        cmocka_unit_test(test_config_parse_reads_text_like_a_file),
        cmocka_unit_test(test_config_set_by_name),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
