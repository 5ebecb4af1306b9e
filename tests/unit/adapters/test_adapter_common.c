/* test_adapter_common.c - the adapters' shared plumbing without a broker:
 * config files, spool directories, local dates, the NUR check, the JSON
 * message form and the local HTTP server (a real socket on 127.0.0.1). */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "adapter.h"
#include "conf.h"
#include "http.h"
#include "localdate.h"
#include "nur.h"
#include "spool.h"
#include "tmpdir.h"

static const conf_key_t s_keys[] = {
    CONF_KEYS_BUS,
    {"commune", NULL, false, true, "INSEE code"},
    {"port", "8080", false, false, "port"},
    {NULL},
};

static const char s_base[] = "key = a.key\nbroker_key = /etc/b.pub\nstate = s.db\n";

static conf_t *s_parse(const char *extra, char *err)
{
    char text[1024];
    snprintf(text, sizeof text, "%s%s", s_base, extra);
    return conf_parse(text, strlen(text), "t.conf", "/srv/fx", s_keys, err, 256);
}

static void test_conf_reads_values_defaults_lists_and_paths(void **state)
{
    char err[256] = "";
    conf_t *c = s_parse("# a comment\n\n  commune = 74010  \ncommune=74011\r\n", err);
    assert_non_null(c);
    assert_string_equal(conf_get(c, "endpoint"), "tcp://127.0.0.1:5770");
    assert_int_equal(conf_count(c, "commune"), 2);
    assert_string_equal(conf_get_at(c, "commune", 1), "74011");
    long long port = 0;
    assert_true(conf_get_int(c, "port", 1, 65535, &port, err, sizeof err));
    assert_int_equal(port, 8080);
    char *key = conf_path(c, "key"), *broker = conf_path(c, "broker_key");
    assert_string_equal(key, "/srv/fx/a.key");
    assert_string_equal(broker, "/etc/b.pub");
    free(key);
    free(broker);
    conf_free(&c);
    assert_null(c);
}

static void test_conf_errors_name_the_line(void **state)
{
    char err[256];
    assert_null(s_parse("colour = blue\n", err));
    assert_string_equal(err, "t.conf:4: unknown setting \"colour\"");
    assert_null(s_parse("port = 1\nport = 2\n", err));
    assert_string_equal(err, "t.conf:5: port is set twice");
    assert_null(s_parse("no equals sign\n", err));
    assert_string_equal(err, "t.conf:4: expected \"name = value\"");
    assert_null(s_parse("port =\n", err));
    assert_string_equal(err, "t.conf:4: port: empty value");
    assert_null(conf_parse("key = k\n", 8, "t.conf", NULL, s_keys, err, sizeof err));
    assert_non_null(strstr(err, "missing setting \"broker_key\""));
    conf_t *c = s_parse("port = 80x\n", err);
    long long v;
    assert_false(conf_get_int(c, "port", 1, 65535, &v, err, sizeof err));
    assert_non_null(strstr(err, "port: \"80x\""));
    conf_free(&c);
}

static void test_spool_writes_atomically_lists_and_moves(void **state)
{
    char root[256], err[256];
    assert_int_equal(tmpdir_make(root, sizeof root, "spool"), 0);
    char *inbox = spool_path(root, "inbox"), *done = spool_path(root, "done");
    assert_int_equal(spool_init(root, err, sizeof err), FB_OK);
    assert_int_equal(spool_write(inbox, "b.csv", "x;y\n", 4), FB_OK);
    assert_int_equal(spool_write(inbox, "a.json", "{}", 2), FB_OK);
    assert_int_equal(spool_write(inbox, ".hidden", "", 0), FB_OK);
    assert_int_equal(spool_write(inbox, "c.tmp", "", 0), FB_OK);
    char **names = NULL;
    size_t n = 0;
    assert_int_equal(spool_list(inbox, 0, &names, &n), FB_OK);
    assert_int_equal(n, 2);
    assert_string_equal(names[0], "a.json");
    assert_string_equal(names[1], "b.csv");
    spool_names_free(names, n);
    /* Just written: not settled yet. */
    assert_int_equal(spool_list(inbox, 60000, &names, &n), FB_OK);
    assert_int_equal(n, 0);
    spool_names_free(names, n);
    assert_int_equal(spool_move(inbox, "b.csv", done), FB_OK);
    uint8_t *data = NULL;
    size_t len = 0;
    char *moved = spool_path(done, "b.csv");
    assert_int_equal(spool_read(moved, 100, &data, &len), FB_OK);
    assert_int_equal(len, 4);
    assert_memory_equal(data, "x;y\n", 4);
    free(data);
    assert_int_equal(spool_read(moved, 3, &data, &len), FB_ERR_TOO_LARGE);
    assert_null(data);
    struct stat st;
    assert_int_equal(stat(inbox, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0700);
    /* Nothing left behind by the atomic writes. */
    assert_int_equal(spool_list(inbox, 0, &names, &n), FB_OK);
    assert_int_equal(n, 1);
    spool_names_free(names, n);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
    assert_int_equal(system(cmd), 0);
    free(moved);
    free(inbox);
    free(done);
}

/* The text of dir/name, or fails the test. */
static char *s_slurp(const char *dir, const char *name)
{
    char *path = spool_path(dir, name);
    uint8_t *data = NULL;
    size_t len = 0;
    if (spool_read(path, 4096, &data, &len) != FB_OK)
        fail_msg("%s cannot be read", path);
    free(path);
    return (char *)data;
}

static void test_spool_set_aside_never_replaces_and_keeps_the_sidecar_beside(void **state)
{
    char root[256], err[256], final[64];
    assert_int_equal(tmpdir_make(root, sizeof root, "aside"), 0);
    assert_int_equal(spool_init(root, err, sizeof err), FB_OK);
    char *inbox = spool_path(root, "inbox"), *done = spool_path(root, "done");
    json_t *first = json_pack("{s:i}", "try", 1), *second = json_pack("{s:i}", "try", 2);

    /* The same name twice: both files and both sidecars are kept. */
    assert_int_equal(spool_write(inbox, "req.json", "one", 3), FB_OK);
    assert_int_equal(
        spool_set_aside(inbox, "req.json", done, ".receipt.json", first, final, sizeof final),
        FB_OK);
    assert_string_equal(final, "req.json");
    assert_int_equal(spool_write(inbox, "req.json", "two", 3), FB_OK);
    assert_int_equal(
        spool_set_aside(inbox, "req.json", done, ".receipt.json", second, final, sizeof final),
        FB_OK);
    assert_string_equal(final, "req-2.json");
    char *text = s_slurp(done, "req.json");
    assert_string_equal(text, "one");
    free(text);
    text = s_slurp(done, "req-2.json");
    assert_string_equal(text, "two");
    free(text);
    text = s_slurp(done, "req.json.receipt.json");
    assert_non_null(strstr(text, "\"try\": 1"));
    free(text);
    text = s_slurp(done, "req-2.json.receipt.json");
    assert_non_null(strstr(text, "\"try\": 2"));
    free(text);

    /* A left-over sidecar (a crash before the move) takes its name too; a
     * name without an extension gets the number at its end. */
    assert_int_equal(spool_write(done, "raw.receipt.json", "{}", 2), FB_OK);
    assert_int_equal(spool_write(inbox, "raw", "three", 5), FB_OK);
    assert_int_equal(
        spool_set_aside(inbox, "raw", done, ".receipt.json", first, final, sizeof final), FB_OK);
    assert_string_equal(final, "raw-2");
    char **names = NULL;
    size_t n = 0;
    assert_int_equal(spool_list(inbox, 0, &names, &n), FB_OK);
    assert_int_equal(n, 0);
    spool_names_free(names, n);

    /* A file that is not there: an error, and no sidecar left behind. */
    assert_int_equal(
        spool_set_aside(inbox, "gone.json", done, ".error.json", first, final, sizeof final),
        FB_ERR_IO);
    char *orphan = spool_path(done, "gone.json.error.json");
    assert_int_equal(access(orphan, F_OK), -1);
    free(orphan);
    /* A final name that does not fit. */
    assert_int_equal(spool_write(inbox, "req.json", "four", 4), FB_OK);
    assert_int_equal(spool_set_aside(inbox, "req.json", done, ".receipt.json", first, final, 9),
                     FB_ERR_TOO_LARGE);

    json_decref(first);
    json_decref(second);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
    assert_int_equal(system(cmd), 0);
    free(inbox);
    free(done);
}

static void s_expect_local(int64_t ms, const char *tz, localdate_t want)
{
    localdate_t got;
    assert_int_equal(localdate_from_ms(ms, tz, &got), FB_OK);
    if (memcmp(&got, &want, sizeof got) != 0)
        fail_msg("%lld in %s: %04d-%02d-%02d %02d:%02d:%02d", (long long)ms, tz, got.year,
                 got.month, got.day, got.hour, got.minute, got.second);
}

static void test_localdate_follows_the_zone_and_its_summer_time(void **state)
{
    /* 2026-01-15 12:00 UTC: 13:00 in Paris (winter, UTC+1). */
    s_expect_local(1768478400000LL, "Europe/Paris", (localdate_t){2026, 1, 15, 13, 0, 0});
    /* 2026-07-15 12:00 UTC: 14:00 in Paris (summer, UTC+2), 16:00 in La
     * Réunion (UTC+4 all year), 08:00 in Martinique (UTC-4 all year). */
    s_expect_local(1784116800000LL, "Europe/Paris", (localdate_t){2026, 7, 15, 14, 0, 0});
    s_expect_local(1784116800000LL, "Indian/Reunion", (localdate_t){2026, 7, 15, 16, 0, 0});
    s_expect_local(1784116800000LL, "America/Martinique", (localdate_t){2026, 7, 15, 8, 0, 0});
    /* 20:30 UTC is already the next day in La Réunion. */
    s_expect_local(1784147400000LL, "Indian/Reunion", (localdate_t){2026, 7, 16, 0, 30, 0});
    /* Before 1970, seconds round down. */
    s_expect_local(-500, "UTC", (localdate_t){1969, 12, 31, 23, 59, 59});

    int64_t ms = 0;
    localdate_t winter = {2026, 1, 15, 13, 0, 0};
    assert_int_equal(localdate_to_ms(&winter, "Europe/Paris", &ms), FB_OK);
    assert_int_equal(ms, 1768478400000LL);
    localdate_t reunion = {2026, 7, 15, 16, 0, 0};
    assert_int_equal(localdate_to_ms(&reunion, "Indian/Reunion", &ms), FB_OK);
    assert_int_equal(ms, 1784116800000LL);
    /* 2026-03-29 02:30 does not exist in Paris (02:00 -> 03:00). */
    localdate_t gap = {2026, 3, 29, 2, 30, 0};
    assert_int_equal(localdate_to_ms(&gap, "Europe/Paris", &ms), FB_ERR_NOT_FOUND);
    gap.hour = 3;
    assert_int_equal(localdate_to_ms(&gap, "Europe/Paris", &ms), FB_OK);
    assert_int_equal(ms, 1774747800000LL); /* 01:30 UTC */
    /* 2026-10-25 02:30 comes twice in Paris: the first (00:30 UTC). */
    localdate_t twice = {2026, 10, 25, 2, 30, 0};
    assert_int_equal(localdate_to_ms(&twice, "Europe/Paris", &ms), FB_OK);
    assert_int_equal(ms, 1792888200000LL);

    localdate_t out = {0};
    assert_int_equal(localdate_from_ms(0, "Europe/Nowhere", &out), FB_ERR_INVALID);
    assert_int_equal(localdate_to_ms(&winter, "../etc/passwd", &ms), FB_ERR_INVALID);
    assert_int_equal(localdate_from_ms(0, NULL, &out), FB_ERR_INVALID);
    assert_false(localdate_zone_known(""));
    assert_true(localdate_zone_known("UTC"));
}

/* The process's TZ is the same after a conversion as before, set or not. */
static void test_localdate_puts_the_process_tz_back(void **state)
{
    char *saved = getenv("TZ") ? strdup(getenv("TZ")) : NULL;
    localdate_t out;
    assert_int_equal(setenv("TZ", "Asia/Tokyo", 1), 0);
    tzset();
    assert_int_equal(localdate_from_ms(0, "Europe/Paris", &out), FB_OK);
    assert_string_equal(getenv("TZ"), "Asia/Tokyo");
    time_t t = 0;
    struct tm tm;
    localtime_r(&t, &tm);
    assert_int_equal(tm.tm_hour, 9); /* tzset() was called again: Tokyo, UTC+9 */
    assert_int_equal(unsetenv("TZ"), 0);
    tzset();
    assert_int_equal(localdate_from_ms(0, "Europe/Paris", &out), FB_OK);
    assert_null(getenv("TZ"));
    if (saved)
        setenv("TZ", saved, 1);
    tzset();
    free(saved);
}

static void test_nur_check_accepts_well_formed_numbers(void **state)
{
    const char *good[] = {"074011925000001", "075121800012345", "02A061999999999",
                          "02B011000000001", "971120512345678", "976010100000001",
                          "001010000000001"};
    for (size_t i = 0; i < sizeof good / sizeof *good; i++) {
        char why[160] = "";
        if (!nur_check(good[i], why, sizeof why))
            fail_msg("%s refused: %s", good[i], why);
    }
}

static void test_nur_check_names_what_is_wrong(void **state)
{
    struct {
        const char *nur, *reason;
    } bad[] = {
        {NULL, "empty"},
        {"", "empty"},
        {"07401192500000", "14 characters, a NUR has 15"},
        {"0740119250000011", "16 characters"},
        {"074 01 19 25000001", "separators are not allowed"},
        {"074-011925000001", "separators are not allowed"},
        {"0740119250000X1", "character 14 'X' is not a digit"},
        {"074011925\n00001", "byte 0x0a"},
        {"02C011925000001", "department"},
        {"7A0011925000001", "department"},
        {"020011925000001", "department 020 does not exist"},
        {"099011925000001", "department 099 does not exist"},
        {"975011925000001", "department 975 does not exist"},
        {"000011925000001", "department 000 does not exist"},
        {"074001925000001", "month of filing 00"},
        {"074131925000001", "month of filing 13"},
        {"074011900000000", "sequence number 00000000 is all zeros"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char why[160] = "";
        assert_false(nur_check(bad[i].nur, why, sizeof why));
        if (!strstr(why, bad[i].reason))
            fail_msg("%s: \"%s\" does not say \"%s\"", bad[i].nur ? bad[i].nur : "(null)", why,
                     bad[i].reason);
    }
    assert_false(nur_check("bad", NULL, 0)); /* no reason wanted */
}

static void s_expect_json_error(const char *text, const char *why_prefix)
{
    json_error_t jerr;
    json_t *j = json_loads(text, 0, &jerr);
    assert_non_null(j);
    adapter_json_msg_t m;
    char why[512] = "";
    assert_int_equal(adapter_json_msg(j, &m, why, sizeof why), FB_ERR_PARSE);
    if (strncmp(why, why_prefix, strlen(why_prefix)) != 0)
        fail_msg("reason \"%s\" does not start with \"%s\"", why, why_prefix);
    adapter_json_msg_free(&m);
    json_decref(j);
}

static void test_json_message_form(void **state)
{
    json_error_t jerr;
    json_t *j = json_loads("{\"type\":\"Orientation\",\"to\":[\"reservataire:x\"],"
                           "\"payload\":{\"vacancy_id\":\"vac-1\",\"candidates_expected\":3}}",
                           0, &jerr);
    adapter_json_msg_t m;
    char why[512];
    assert_int_equal(adapter_json_msg(j, &m, why, sizeof why), FB_OK);
    assert_int_equal(m.msg.type, FLUXBUS__V1__MESSAGE_TYPE__MESSAGE_TYPE_ORIENTATION);
    assert_int_equal(m.msg.n_to, 1);
    assert_string_equal(m.msg.to[0], "reservataire:x");
    assert_int_equal(m.msg.n_topics, 0);
    assert_non_null(m.msg.payload);
    adapter_json_msg_free(&m);
    json_decref(j);
    s_expect_json_error("[1]", "expected a JSON object");
    s_expect_json_error("{\"type\":\"Nope\",\"payload\":{}}", "type: unknown message type");
    s_expect_json_error("{\"type\":\"Receipt\",\"payload\":{}}", "type: unknown message type");
    s_expect_json_error("{\"payload\":{}}", "type: missing");
    s_expect_json_error("{\"type\":\"Orientation\"}", "payload: missing");
    s_expect_json_error("{\"type\":\"Orientation\",\"payload\":{},\"colour\":1}", "colour:");
    s_expect_json_error("{\"type\":\"Orientation\",\"payload\":{\"round\":\"x\"}}",
                        "payload.round");
    s_expect_json_error("{\"type\":\"Orientation\",\"payload\":{},\"to\":\"a\"}", "to:");
    s_expect_json_error("{\"type\":\"Orientation\",\"payload\":{},\"topics\":[\"\"]}", "topics[0]");
    s_expect_json_error("{\"type\":\"Orientation\",\"payload\":{},\"household\":{}}",
                        "household: only a Designation");
    s_expect_json_error("{\"type\":\"Designation\",\"payload\":{},\"household\":{\"x\":1}}",
                        "household.");
}

/* ---- HTTP ---- */

static void s_handler(void *ctx, const http_request_t *req, http_response_t *res)
{
    if (!http_bearer_ok(req, "s3cret")) {
        http_error(res, 401, "unauthorized", NULL, "bearer token required");
        return;
    }
    const char *who = http_query(req, "who");
    http_json(res, 200,
              json_pack("{s:s, s:s, s:s, s:i}", "method", req->method, "path", req->path, "who",
                        who ? who : "", "body_len", (int)req->body_len));
}

/* One request over a plain socket; returns the whole response text. */
static char *s_request(http_server_t *server, const char *text)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)http_port(server))};
    inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
    assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    static char buf[8192];
    size_t used = 0;
    for (int i = 0; i < 200 && used < sizeof buf - 1; i++) {
        http_poll(server, 10);
        ssize_t n = recv(fd, buf + used, sizeof buf - 1 - used, MSG_DONTWAIT);
        if (n > 0)
            used += (size_t)n;
        else if (n == 0)
            break;
    }
    buf[used] = '\0';
    close(fd);
    return buf;
}

static void test_http_routes_auth_query_body_and_cap(void **state)
{
    char err[256];
    http_server_t *server = http_start("127.0.0.1", 0, 64, s_handler, NULL, err, sizeof err);
    assert_non_null(server);
    assert_true(http_port(server) > 0);
    char *r = s_request(server, "GET /offers HTTP/1.0\r\n\r\n");
    assert_non_null(strstr(r, "401"));
    assert_non_null(strstr(r, "\"unauthorized\""));
    r = s_request(server, "GET /offers HTTP/1.0\r\nAuthorization: Bearer s3cre\r\n\r\n");
    assert_non_null(strstr(r, "401"));
    r = s_request(server,
                  "GET /offers/vac-1?who=me HTTP/1.0\r\nAuthorization: Bearer s3cret\r\n\r\n");
    assert_non_null(strstr(r, "200 OK"));
    assert_non_null(strstr(r, "\"path\": \"/offers/vac-1\""));
    assert_non_null(strstr(r, "\"who\": \"me\""));
    r = s_request(server, "POST /x HTTP/1.0\r\nAuthorization: Bearer s3cret\r\n"
                          "Content-Length: 5\r\n\r\nhello");
    assert_non_null(strstr(r, "\"body_len\": 5"));
    char big[400];
    snprintf(big, sizeof big,
             "POST /x HTTP/1.0\r\nAuthorization: Bearer s3cret\r\nContent-Length: 100\r\n\r\n"
             "%0100d",
             0);
    r = s_request(server, big);
    assert_non_null(strstr(r, "413"));
    http_stop(&server);
    assert_null(server);
    assert_null(http_start("not-an-address", 0, 64, s_handler, NULL, err, sizeof err));
    assert_non_null(strstr(err, "not an IPv4 or IPv6 address"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_conf_reads_values_defaults_lists_and_paths),
        cmocka_unit_test(test_conf_errors_name_the_line),
        cmocka_unit_test(test_spool_writes_atomically_lists_and_moves),
        cmocka_unit_test(test_spool_set_aside_never_replaces_and_keeps_the_sidecar_beside),
        cmocka_unit_test(test_localdate_follows_the_zone_and_its_summer_time),
        cmocka_unit_test(test_localdate_puts_the_process_tz_back),
        cmocka_unit_test(test_nur_check_accepts_well_formed_numbers),
        cmocka_unit_test(test_nur_check_names_what_is_wrong),
        cmocka_unit_test(test_json_message_form),
        cmocka_unit_test(test_http_routes_auth_query_body_and_cap),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
