/* harness.c - see harness.h. Owns the broker child process, its temp
 * directory, the registry set-up of test actors and the bailleur/réservataire
 * pair most scenarios start from. */
#define _GNU_SOURCE /* memmem */
#include "harness.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "builders.h"
#include "fluxbus/catalog.h"
#include "fluxbus/v1/bail.pb-c.h"
#include "fluxbus/v1/caleol.pb-c.h"
#include "fluxbus/v1/designation.pb-c.h"
#include "fluxbus/v1/ledger.pb-c.h"
#include "fluxbus/v1/logement.pb-c.h"
#include "fluxbus/v1/orientation.pb-c.h"
#include "period.h"
#include "store.h"

void fbt_setup(fbt_broker_t *b)
{
    memset(b, 0, sizeof *b);
    snprintf(b->dir, sizeof b->dir, "/tmp/fluxbus-it-XXXXXX");
    assert_non_null(mkdtemp(b->dir));
    snprintf(b->store, sizeof b->store, "%s/bus.db", b->dir);
    snprintf(b->key, sizeof b->key, "%s/broker.key", b->dir);
    snprintf(b->log, sizeof b->log, "%s/broker.log", b->dir);
    snprintf(b->endpoint, sizeof b->endpoint, "tcp://127.0.0.1:*");
    assert_int_equal(fb_keys_generate(&b->keys, "broker"), FB_OK);
    assert_int_equal(fb_keys_save(&b->keys, b->key), FB_OK);
}

/* Reads the child's stdout until the ready line; fills the bound endpoint. */
static void s_wait_ready(fbt_broker_t *b, int fd)
{
    char buf[512];
    size_t used = 0;
    for (;;) {
        struct pollfd p = {fd, POLLIN, 0};
        int n = poll(&p, 1, 15000);
        assert_true(n > 0); /* broker did not print ready within 15 s */
        ssize_t got = read(fd, buf + used, sizeof buf - 1 - used);
        assert_true(got > 0); /* broker exited before ready: see its log */
        used += (size_t)got;
        buf[used] = '\0';
        char *line = strstr(buf, "ready endpoint=");
        char *nl = line ? strchr(line, '\n') : NULL;
        if (nl) {
            *nl = '\0';
            snprintf(b->endpoint, sizeof b->endpoint, "%s", line + strlen("ready endpoint="));
            return;
        }
    }
}

void fbt_start(fbt_broker_t *b)
{
    int out[2];
    assert_int_equal(pipe(out), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        /* A failed assertion skips the teardown: never leave a broker behind. */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        int log = open(b->log, O_WRONLY | O_CREAT | O_APPEND, 0644);
        if (b->fail_fsync || b->slow_fsync_ms) {
            char trigger[600], slow[16];
            snprintf(trigger, sizeof trigger, "%s/fail-fsync", b->dir);
            snprintf(slow, sizeof slow, "%d", b->slow_fsync_ms);
            setenv("LD_PRELOAD", FB_FSYNC_SHIM, 1);
            setenv("FLUXBUS_FAIL_FSYNC_FILE", trigger, 1);
            if (b->slow_fsync_ms)
                setenv("FLUXBUS_SLOW_FSYNC_MS", slow, 1);
            setenv("ASAN_OPTIONS", "verify_asan_link_order=0", 1);
        }
        dup2(out[1], 1);
        dup2(log, 2);
        close(out[0]);
        const char *argv[32] = {"fluxbus-broker", "--endpoint", b->endpoint,   "--store", b->store,
                                "--key",          b->key,       "--log-level", "debug"};
        size_t argc = 9;
        for (size_t i = 0; b->args[i] && argc < 31; i++)
            argv[argc++] = b->args[i];
        argv[argc] = NULL;
        execv(FB_BROKER_BIN, (char *const *)argv);
        _exit(127);
    }
    close(out[1]);
    b->pid = pid;
    s_wait_ready(b, out[0]);
    close(out[0]); /* the broker prints nothing more on stdout */
}

int fbt_stop(fbt_broker_t *b, int sig)
{
    if (b->pid <= 0)
        return -1;
    kill(b->pid, sig);
    int status = 0;
    while (waitpid(b->pid, &status, 0) < 0 && errno == EINTR)
        ;
    b->pid = 0;
    if (WIFEXITED(status))
        return WEXITSTATUS(status);
    return 128 + WTERMSIG(status);
}

int fbt_wait_exit(fbt_broker_t *b, int timeout_ms)
{
    for (int waited = 0; b->pid > 0 && waited <= timeout_ms; waited += 10) {
        int status = 0;
        if (waitpid(b->pid, &status, WNOHANG) == b->pid) {
            b->pid = 0;
            return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        }
        usleep(10000); /* polling a child's exit: there is no event to wait on */
    }
    return -1;
}

void fbt_fail_fsync(fbt_broker_t *b, int on)
{
    char trigger[600];
    snprintf(trigger, sizeof trigger, "%s/fail-fsync", b->dir);
    if (on) {
        FILE *f = fopen(trigger, "w");
        assert_non_null(f);
        fclose(f);
    } else {
        unlink(trigger);
    }
}

void fbt_teardown(fbt_broker_t *b)
{
    fbt_stop(b, SIGKILL);
    if (getenv("FLUXBUS_KEEP_TEST_DIR"))
        return;
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", b->dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", b->dir);
}

/* The registry of b's store, opened as the CLI opens it. */
static store_t *s_registry(fbt_broker_t *b)
{
    char why[256];
    store_t *store = store_open(b->store, why, sizeof why);
    if (!store)
        fail_msg("cannot open %s: %s", b->store, why);
    return store;
}

void fbt_actor(fbt_broker_t *b, const char *id, const char *roles, const char *territories,
               fb_keys_t *out)
{
    assert_int_equal(fb_keys_generate(out, id), FB_OK);
    store_t *store = s_registry(b);
    store_actor_t a;
    memset(&a, 0, sizeof a);
    snprintf(a.id, sizeof a.id, "%s", id);
    snprintf(a.roles, sizeof a.roles, "%s", roles);
    snprintf(a.territories, sizeof a.territories, "%s", territories ? territories : "");
    memcpy(a.transport_key, out->curve_pk, sizeof a.transport_key);
    assert_int_equal(store_actor_add(store, &a, "test"), FB_OK);
    store_destroy(&store);
    fbt_add_key(b, out, 0);
}

int fbt_run(const char *fmt, ...)
{
    char cmd[4096];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    assert_true(n > 0 && (size_t)n < sizeof cmd);
    int status = system(cmd);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

fb_client_t *fbt_try_client(fbt_broker_t *b, const fb_keys_t *keys, int timeout_ms, fb_err_t *err)
{
    fb_client_config_t cfg = {
        .endpoint = b->endpoint,
        .keys = keys,
        .broker = &b->keys,
        .timeout_ms = timeout_ms,
        .log = fb_log_stderr,
    };
    return fb_client_new(&cfg, err);
}

fb_client_t *fbt_client(fbt_broker_t *b, const fb_keys_t *keys)
{
    fb_err_t err = FB_OK;
    fb_client_t *c = fbt_try_client(b, keys, 5000, &err);
    if (!c)
        fprintf(stderr, "connect as %s failed: %s\n", keys->actor, fb_err_name(err));
    assert_non_null(c);
    assert_string_equal(fb_client_actor(c), keys->actor);
    return c;
}

static uint8_t *s_pack(const ProtobufCMessage *m, size_t *len)
{
    uint8_t *buf = NULL;
    assert_int_equal(fb_codec_pack(m, &buf, len), FB_OK);
    return buf;
}

uint8_t *fbt_logement(const char *vacancy, const char *insee, size_t *len)
{
    Fluxbus__V1__LogementLibere l = FLUXBUS__V1__LOGEMENT_LIBERE__INIT;
    l.vacancy_id = (char *)vacancy;
    l.rpls_id = "0740123456789";
    l.bailleur_siren = "552046955";
    l.commune_insee = (char *)insee;
    l.typologie = FLUXBUS__V1__TYPOLOGIE__TYPOLOGIE_T3;
    l.surface_m2_x100 = 6450;
    l.loyer_cents = 41230;
    l.charges_cents = 9800;
    l.financement = FLUXBUS__V1__FINANCEMENT__FINANCEMENT_PLUS;
    return s_pack(&l.base, len);
}

uint8_t *fbt_seance(const char *seance, const char *insee, size_t *len)
{
    Fluxbus__V1__CaleolSeance s = FLUXBUS__V1__CALEOL_SEANCE__INIT;
    char *communes[1] = {(char *)insee};
    s.seance_id = (char *)seance;
    s.bailleur_siren = "552046955";
    s.start_ms = fb_now_ms() + 86400000;
    s.end_ms = s.start_ms + 7200000;
    s.timezone = "Europe/Paris";
    s.communes_insee = communes;
    s.n_communes_insee = 1;
    return s_pack(&s.base, len);
}

uint8_t *fbt_designation(const char *vacancy, const char *nur, const fb_sealed_t *sealed,
                         size_t *len)
{
    Fluxbus__V1__Designation d = FLUXBUS__V1__DESIGNATION__INIT;
    d.vacancy_id = (char *)vacancy;
    d.rank = 1;
    d.candidate_count = 1;
    d.nur = (char *)nur;
    d.household_size = 3;
    if (sealed)
        fb_sealed_bind(sealed, &d);
    return s_pack(&d.base, len);
}

uint8_t *fbt_bail_signe(const char *vacancy, const char *nur, size_t *len)
{
    Fluxbus__V1__BailSigne b = FLUXBUS__V1__BAIL_SIGNE__INIT;
    Fluxbus__V1__Date signed_on = FLUXBUS__V1__DATE__INIT;
    signed_on.year = 2026;
    signed_on.month = 3;
    signed_on.day = 2;
    b.vacancy_id = (char *)vacancy;
    b.nur = (char *)nur;
    b.signed_on = &signed_on;
    b.effective_on = &signed_on;
    b.bailleur_siren = "552046955";
    b.commune_insee = "74010";
    return s_pack(&b.base, len);
}

/* Sends packed payload of `type` about `vacancy` from c to `to`, asserts it
 * is accepted, frees payload; cr (not NULL) receives and acks it. Returns
 * its store sequence. */
static uint64_t s_send_about(fb_client_t *c, int type, const char *to, const char *vacancy,
                             uint8_t *payload, size_t len, fb_client_t *cr)
{
    const char *const to_list[1] = {to};
    fb_outgoing_t m = {.type = type,
                       .recipients = to_list,
                       .n_recipients = 1,
                       .correlation_id = vacancy,
                       .payload = payload,
                       .payload_len = len};
    fb_receipt_t rec;
    fb_err_t rc = fb_client_send(c, &m, &rec);
    if (rc != FB_OK)
        fail_msg("type %d about %s refused: %s %s", type, vacancy ? vacancy : "-", fb_err_name(rc),
                 rec.detail);
    uint64_t seq = rec.store_seq;
    fb_receipt_clear(&rec);
    free(payload);
    if (cr) {
        fb_delivery_t *d = fbt_recv_ack(cr, 5000);
        assert_non_null(d);
        assert_int_equal(d->body->type, type);
        fb_delivery_destroy(&d);
    }
    return seq;
}

uint64_t fbt_convention(fb_client_t *cb, const char *id, const char *resa, fb_client_t *cr)
{
    Fluxbus__V1__Convention c =
        builders_convention(id, fb_client_actor(cb), resa, period_year_of(fb_now_ms()));
    size_t len = 0;
    uint8_t *convention = s_pack(&c.base, &len);
    return s_send_about(cb, FLUXBUS__V1__MESSAGE_TYPE__MESSAGE_TYPE_CONVENTION, resa, NULL,
                        convention, len, cr);
}

void fbt_orient(fb_client_t *cb, const char *resa, const char *vacancy, unsigned expected,
                fb_client_t *cr)
{
    size_t len = 0;
    uint8_t *logement = fbt_logement(vacancy, "74010", &len);
    s_send_about(cb, FLUXBUS__V1__MESSAGE_TYPE__MESSAGE_TYPE_LOGEMENT_LIBERE, resa, vacancy,
                 logement, len, cr);
    Fluxbus__V1__Orientation o = life_msgs_orientation(vacancy, FBT_CONV, resa, 1, expected,
                                                       fb_now_ms() + 10 * BUILDERS_DAY_MS);
    uint8_t *orientation = s_pack(&o.base, &len);
    s_send_about(cb, FLUXBUS__V1__MESSAGE_TYPE__MESSAGE_TYPE_ORIENTATION, resa, vacancy,
                 orientation, len, cr);
}

void fbt_attribute(fb_client_t *cb, const char *resa, const char *vacancy, const char *nur,
                   fb_client_t *cr)
{
    Fluxbus__V1__CaleolDecision d =
        builders_decision("seance-test", vacancy, nur, 1, resa,
                          FLUXBUS__V1__CALEOL_DECISION_CODE__CALEOL_DECISION_CODE_ATTRIBUTION);
    size_t len = 0;
    uint8_t *decision = s_pack(&d.base, &len);
    s_send_about(cb, FLUXBUS__V1__MESSAGE_TYPE__MESSAGE_TYPE_CALEOL_DECISION, resa, vacancy,
                 decision, len, cr);
}

void fbt_caleol_agree(fb_client_t *cb, const char *resa, const char *vacancy, const char *nur,
                      bool q1)
{
    char seance[64];
    snprintf(seance, sizeof seance, "S-%s", vacancy);
    builders_seance_t k;
    builders_seance(&k, seance, vacancy, "74010");
    fbt_send_ok(cb, FLUXBUS__V1__MESSAGE_TYPE__MESSAGE_TYPE_CALEOL_SEANCE, resa, vacancy,
                &k.s.base);
    /* Decided now: once the session started. */
    Fluxbus__V1__CaleolDecision c =
        builders_decision(seance, vacancy, nur, 1, resa,
                          FLUXBUS__V1__CALEOL_DECISION_CODE__CALEOL_DECISION_CODE_ATTRIBUTION);
    c.q1 = q1;
    fbt_send_ok(cb, FLUXBUS__V1__MESSAGE_TYPE__MESSAGE_TYPE_CALEOL_DECISION, resa, vacancy,
                &c.base);
}

void fbt_accept_and_lease(fb_client_t *cb, const char *resa, const char *vacancy, const char *nur,
                          const char *convention, bool q1)
{
    Fluxbus__V1__PropositionReponse p = life_msgs_answer(vacancy, nur, false, fb_now_ms());
    fbt_send_ok(cb, FLUXBUS__V1__MESSAGE_TYPE__MESSAGE_TYPE_PROPOSITION_REPONSE, resa, vacancy,
                &p.base);
    Fluxbus__V1__BailSigne b = builders_lease(vacancy, nur, resa);
    b.convention_id = (char *)convention;
    b.bailleur_siren = BUILDERS_SIREN;
    b.q1 = q1;
    fbt_send_ok(cb, FLUXBUS__V1__MESSAGE_TYPE__MESSAGE_TYPE_BAIL_SIGNE, resa, vacancy, &b.base);
}

/* The payload's vacancy_id (into buf), the correlation_id the ledger wants
 * beside it; "vac-test" for a payload without one. */
static const char *s_correlation(int type, const uint8_t *payload, size_t len, char *buf,
                                 size_t cap)
{
    snprintf(buf, cap, "vac-test");
    const fb_catalog_entry_t *e = fb_catalog_by_type(type);
    const ProtobufCFieldDescriptor *f =
        e ? protobuf_c_message_descriptor_get_field_by_name(e->desc, "vacancy_id") : NULL;
    if (!f || f->type != PROTOBUF_C_TYPE_STRING || f->label == PROTOBUF_C_LABEL_REPEATED)
        return buf;
    ProtobufCMessage *m = protobuf_c_message_unpack(e->desc, NULL, len, payload);
    if (!m)
        return buf;
    const char *v = *(const char *const *)((const char *)m + f->offset);
    if (v && *v)
        snprintf(buf, cap, "%s", v);
    protobuf_c_message_free_unpacked(m, NULL);
    return buf;
}

fb_err_t fbt_send_msg(fb_client_t *c, int type, const char *to, const char *corr,
                      const ProtobufCMessage *payload, fb_receipt_t *rec)
{
    uint8_t *bytes = NULL;
    size_t len = 0;
    assert_int_equal(fb_codec_pack(payload, &bytes, &len), FB_OK);
    const char *const to_list[1] = {to};
    fb_outgoing_t m = {.type = type,
                       .recipients = to_list,
                       .n_recipients = 1,
                       .correlation_id = corr,
                       .payload = bytes,
                       .payload_len = len};
    memset(rec, 0, sizeof *rec);
    fb_err_t rc = fb_client_send(c, &m, rec);
    free(bytes);
    return rc;
}

void fbt_seal_msg(fb_client_t *c, int type, const char *to, const ProtobufCMessage *payload,
                  uint8_t **env, size_t *len, uint8_t id[FB_MESSAGE_ID_BYTES])
{
    uint8_t *bytes = NULL;
    size_t blen = 0;
    assert_int_equal(fb_codec_pack(payload, &bytes, &blen), FB_OK);
    const char *const to_list[1] = {to};
    fb_outgoing_t m = {.type = type,
                       .recipients = to_list,
                       .n_recipients = 1,
                       .payload = bytes,
                       .payload_len = blen};
    assert_int_equal(fb_client_seal(c, &m, env, len, id), FB_OK);
    free(bytes);
}

uint64_t fbt_send_ok(fb_client_t *c, int type, const char *to, const char *corr,
                     const ProtobufCMessage *payload)
{
    fb_receipt_t rec;
    fb_err_t rc = fbt_send_msg(c, type, to, corr, payload, &rec);
    if (rc != FB_OK || !rec.accepted)
        fail_msg("type %d about %s refused: %s %s", type, corr ? corr : "-", fb_err_name(rc),
                 rec.detail);
    uint64_t seq = rec.store_seq;
    fb_receipt_clear(&rec);
    return seq;
}

void fbt_expect_nack(fb_err_t rc, const fb_receipt_t *rec, fb_err_t want, const char *detail)
{
    if (rc != want)
        fail_msg("%s (%s), not %s", fb_err_name(rc), rec->detail, fb_err_name(want));
    assert_false(rec->accepted);
    assert_non_null(rec->receipt);
    assert_int_equal(rec->reason, want);
    size_t n = strlen(detail);
    if (n > 3 && strcmp(detail + n - 3, "...") == 0) {
        if (strncmp(rec->detail, detail, n - 3) != 0)
            fail_msg("detail \"%s\" does not start with \"%.*s\"", rec->detail, (int)(n - 3),
                     detail);
    } else {
        assert_string_equal(rec->detail, detail);
    }
}

void fbt_audit_ok(const fbt_broker_t *b, uint64_t messages)
{
    char out[4096];
    assert_int_equal(fbt_sh(out, sizeof out, "'%s' audit verify --store '%s' --broker '%s.pub'",
                            FB_CLI_BIN, b->store, b->key),
                     0);
    char want[64];
    snprintf(want, sizeof want, "ok: %llu messages, chain head ", (unsigned long long)messages);
    if (!strstr(out, want))
        fail_msg("expected \"%s\" in:\n%s", want, out);
}

fb_err_t fbt_send(fb_client_t *c, int type, const char *to, const char *topic,
                  const uint8_t *payload, size_t len, fb_receipt_t *receipt)
{
    char correlation[128];
    const char *const to_list[1] = {to};
    const char *const topic_list[1] = {topic};
    fb_outgoing_t m = {
        .type = type,
        .recipients = to ? to_list : NULL,
        .n_recipients = to ? 1 : 0,
        .topics = topic ? topic_list : NULL,
        .n_topics = topic ? 1 : 0,
        .correlation_id = s_correlation(type, payload, len, correlation, sizeof correlation),
        .payload = payload,
        .payload_len = len,
    };
    return fb_client_send(c, &m, receipt);
}

fb_delivery_t *fbt_recv_ack(fb_client_t *c, int timeout_ms)
{
    fb_delivery_t *d = NULL;
    fb_err_t rc = fb_client_recv(c, &d, timeout_ms);
    if (rc == FB_ERR_TIMEOUT)
        return NULL;
    assert_int_equal(rc, FB_OK);
    assert_int_equal(fb_client_ack(c, d), FB_OK);
    return d;
}

fb_delivery_t *fbt_recv_reply_to(fb_client_t *c, const uint8_t id[FB_MESSAGE_ID_BYTES],
                                 int timeout_ms, int skip_max)
{
    for (int i = 0; i <= skip_max; i++) {
        fb_delivery_t *d = fbt_recv_ack(c, timeout_ms);
        if (!d)
            fail_msg("no delivery in reply to the message sent");
        const Fluxbus__V1__SignedBody *b = d->body;
        if (b->in_reply_to.len == FB_MESSAGE_ID_BYTES &&
            memcmp(b->in_reply_to.data, id, FB_MESSAGE_ID_BYTES) == 0)
            return d;
        fb_delivery_destroy(&d);
    }
    fail_msg("no reply among %d deliveries", skip_max + 1);
    return NULL;
}

void fbt_send_logements(fb_client_t *c, const char *to, const char *prefix, fbt_sent_t *sent,
                        size_t first, size_t n)
{
    for (size_t i = first; i < first + n; i++) {
        char vacancy[64];
        snprintf(vacancy, sizeof vacancy, "%s-%zu", prefix, i);
        size_t len = 0;
        uint8_t *payload = fbt_logement(vacancy, "74010", &len);
        fb_receipt_t rec;
        assert_int_equal(fbt_send(c, FLUXBUS__V1__MESSAGE_TYPE__MESSAGE_TYPE_LOGEMENT_LIBERE, to,
                                  NULL, payload, len, &rec),
                         FB_OK);
        assert_true(rec.accepted);
        assert_false(rec.duplicate);
        if (i > 0)
            assert_true(rec.store_seq > sent[i - 1].seq);
        memcpy(sent[i].id, rec.message_id, FB_MESSAGE_ID_BYTES);
        sent[i].seq = rec.store_seq;
        fb_receipt_clear(&rec);
        free(payload);
    }
}

fb_delivery_t *fbt_expect_sent(fb_client_t *c, const fbt_sent_t *sent, size_t i)
{
    fb_delivery_t *d = NULL;
    fb_err_t rc = fb_client_recv(c, &d, 5000);
    if (rc != FB_OK)
        fail_msg("expected delivery #%zu (seq %llu), got %s", i, (unsigned long long)sent[i].seq,
                 fb_err_name(rc));
    if (d->store_seq != sent[i].seq)
        fail_msg("delivery #%zu: seq %llu, expected %llu", i, (unsigned long long)d->store_seq,
                 (unsigned long long)sent[i].seq);
    assert_int_equal(d->body->message_id.len, FB_MESSAGE_ID_BYTES);
    assert_memory_equal(d->body->message_id.data, sent[i].id, FB_MESSAGE_ID_BYTES);
    assert_int_equal(d->body->type, FLUXBUS__V1__MESSAGE_TYPE__MESSAGE_TYPE_LOGEMENT_LIBERE);
    return d;
}

void fbt_expect_nothing(fb_client_t *c, int quiet_ms)
{
    fb_delivery_t *d = fbt_recv_ack(c, quiet_ms);
    if (d)
        fprintf(stderr, "unexpected delivery seq %llu type %d from %s\n",
                (unsigned long long)d->store_seq, (int)d->body->type, d->body->sender);
    assert_null(d);
}

uint8_t *fbt_forge_attached(const fb_keys_t *keys, const char *to, const uint8_t *payload,
                            size_t len, const ProtobufCBinaryData *att, size_t n_att,
                            fbt_body_fn edit, void *ctx, size_t *env_len,
                            uint8_t id[FB_MESSAGE_ID_BYTES])
{
    char *to_list[1] = {(char *)to};
    fb_message_id_new(id);
    Fluxbus__V1__SignedBody body = FLUXBUS__V1__SIGNED_BODY__INIT;
    body.version = FB_PROTOCOL_VERSION;
    body.message_id.data = id;
    body.message_id.len = FB_MESSAGE_ID_BYTES;
    body.sender = (char *)keys->actor;
    body.key_id = (char *)keys->key_id;
    body.recipients = to_list;
    body.n_recipients = 1;
    body.sequence = 1;
    body.created_at_ms = fb_now_ms();
    body.type = FLUXBUS__V1__MESSAGE_TYPE__MESSAGE_TYPE_LOGEMENT_LIBERE;
    char correlation[128];
    body.correlation_id =
        (char *)s_correlation(body.type, payload, len, correlation, sizeof correlation);
    body.payload.data = (uint8_t *)payload;
    body.payload.len = len;
    if (edit)
        edit(&body, ctx);
    uint8_t *env = NULL;
    assert_int_equal(fb_envelope_seal_attached(&body, att, n_att, keys, &env, env_len), FB_OK);
    return env;
}

uint8_t *fbt_forge_with(const fb_keys_t *keys, const char *to, const uint8_t *payload, size_t len,
                        fbt_body_fn edit, void *ctx, size_t *env_len,
                        uint8_t id[FB_MESSAGE_ID_BYTES])
{
    return fbt_forge_attached(keys, to, payload, len, NULL, 0, edit, ctx, env_len, id);
}

typedef struct {
    const char *sender, *key_id, *correlation;
} s_forge_t;

static void s_forge_edit(Fluxbus__V1__SignedBody *body, void *ctx)
{
    const s_forge_t *f = ctx;
    body->sender = (char *)f->sender;
    body->key_id = (char *)f->key_id;
    body->correlation_id = (char *)f->correlation;
}

uint8_t *fbt_forge(const fb_keys_t *keys, const char *sender, const char *key_id, const char *to,
                   const char *correlation, const uint8_t *payload, size_t len, size_t *env_len,
                   uint8_t id[FB_MESSAGE_ID_BYTES])
{
    s_forge_t f = {sender, key_id, correlation};
    return fbt_forge_with(keys, to, payload, len, s_forge_edit, &f, env_len, id);
}

void fbt_revoke_actor(fbt_broker_t *b, const char *id)
{
    store_t *store = s_registry(b);
    assert_int_equal(store_actor_revoke(store, id, fb_now_ms(), "test"), FB_OK);
    store_destroy(&store);
}

void fbt_revoke_key(fbt_broker_t *b, const char *key_id)
{
    store_t *store = s_registry(b);
    assert_int_equal(store_key_revoke(store, key_id, fb_now_ms(), "test"), FB_OK);
    store_destroy(&store);
}

void fbt_add_key(fbt_broker_t *b, const fb_keys_t *keys, int64_t valid_until_ms)
{
    store_key_t k;
    memset(&k, 0, sizeof k);
    snprintf(k.actor, sizeof k.actor, "%s", keys->actor);
    snprintf(k.key_id, sizeof k.key_id, "%s", keys->key_id);
    memcpy(k.public_key, keys->sign_pk, sizeof k.public_key);
    k.valid_from_ms = fb_now_ms() - 1000;
    k.valid_until_ms = valid_until_ms;
    store_t *store = s_registry(b);
    assert_int_equal(store_key_add(store, &k, "test"), FB_OK);
    if (keys->has_enc) {
        snprintf(k.key_id, sizeof k.key_id, "%s", keys->enc_key_id);
        memcpy(k.public_key, keys->enc_pk, sizeof k.public_key);
        assert_int_equal(store_enc_key_add(store, &k, "test"), FB_OK);
    }
    store_destroy(&store);
}

int fbt_log_contains(const fbt_broker_t *b, const char *needle)
{
    FILE *f = fopen(b->log, "r");
    if (!f)
        return 0;
    char line[2048];
    int found = 0;
    while (!found && fgets(line, sizeof line, f))
        found = strstr(line, needle) != NULL;
    fclose(f);
    return found;
}

int fbt_file_contains(const char *path, const void *needle, size_t len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return 0;
    size_t cap = 1 << 16, used = 0;
    char *buf = malloc(cap);
    assert_non_null(buf);
    size_t got;
    while ((got = fread(buf + used, 1, cap - used, f)) > 0) {
        used += got;
        if (used == cap) {
            cap *= 2;
            buf = realloc(buf, cap);
            assert_non_null(buf);
        }
    }
    fclose(f);
    int found = memmem(buf, used, needle, len) != NULL;
    free(buf);
    return found;
}

int fbt_sh(char *out, size_t cap, const char *fmt, ...)
{
    char cmd[8192];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    assert_true(n > 0 && (size_t)n < sizeof cmd);
    fflush(stdout);
    int status;
    if (!out) {
        status = system(cmd);
    } else {
        FILE *p = popen(cmd, "r");
        assert_non_null(p);
        size_t used = 0, got;
        while (used + 1 < cap && (got = fread(out + used, 1, cap - 1 - used, p)) > 0)
            used += got;
        out[used] = '\0';
        char sink[512];
        while (fread(sink, 1, sizeof sink, p) > 0) /* let it finish writing */
            ;
        status = pclose(p);
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

long long fbt_sql_int(const fbt_broker_t *b, const char *sql)
{
    char out[64] = "";
    /* The broker's threads hold their own connections (a restarted broker
     * recovers the WAL first): wait for their locks as the CLI does. */
    assert_int_equal(
        fbt_sh(out, sizeof out, "sqlite3 -cmd '.timeout 10000' '%s' \"%s\"", b->store, sql), 0);
    return atoll(out);
}

char *fbt_sql_text(const fbt_broker_t *b, const char *sql)
{
    size_t cap = 1 << 16;
    char *out = malloc(cap);
    assert_non_null(out);
    /* Waits for the broker's locks, as fbt_sql_int does. */
    assert_int_equal(fbt_sh(out, cap, "sqlite3 -cmd '.timeout 10000' '%s' '%s'", b->store, sql), 0);
    return out;
}

int fbt_year_now(void)
{
    return period_year_of(fb_now_ms());
}

/* Both actors registered on a broker started with `args`; the bailleur connected. */
static void s_pair_start(fbt_pair_t *w, const char *const *args)
{
    fbt_setup(&w->b);
    for (size_t i = 0; args && args[i] && i + 1 < sizeof w->b.args / sizeof w->b.args[0]; i++)
        w->b.args[i] = args[i];
    fbt_actor(&w->b, FBT_BAILLEUR, "bailleur", NULL, &w->bailleur);
    fbt_actor(&w->b, FBT_RESA, "reservataire", NULL, &w->resa);
    fbt_start(&w->b);
    w->cb = fbt_client(&w->b, &w->bailleur);
    w->cr = NULL;
    w->last_seq = 0;
}

void fbt_pair_open_offline(fbt_pair_t *w)
{
    s_pair_start(w, NULL);
}

void fbt_pair_open_with(fbt_pair_t *w, const char *const *args)
{
    s_pair_start(w, args);
    w->cr = fbt_client(&w->b, &w->resa);
}

void fbt_pair_open(fbt_pair_t *w)
{
    fbt_pair_open_with(w, NULL);
}

/* Destroys the clients still connected and stops the broker cleanly. */
static void s_pair_stop(fbt_pair_t *w)
{
    fb_client_destroy(&w->cb);
    fb_client_destroy(&w->cr);
    assert_int_equal(fbt_stop(&w->b, SIGTERM), 0);
}

void fbt_pair_restart(fbt_pair_t *w)
{
    s_pair_stop(w);
    fbt_start(&w->b);
    w->cb = fbt_client(&w->b, &w->bailleur);
    w->cr = fbt_client(&w->b, &w->resa);
}

void fbt_pair_close(fbt_pair_t *w)
{
    s_pair_stop(w);
    fbt_teardown(&w->b);
}

const char *fbt_chromium(void)
{
    static char path[512];
    if (fbt_sh(path, sizeof path, "command -v chromium || command -v chromium-browser") != 0)
        return NULL;
    path[strcspn(path, "\n")] = '\0';
    return *path ? path : NULL;
}

void fbt_chromium_render(const fbt_broker_t *b, const char *chromium, const char *page, char *dom,
                         size_t cap, const char *png, int width, int height)
{
    char flags[800];
    snprintf(flags, sizeof flags,
             "--headless --no-sandbox --disable-gpu --no-first-run --user-data-dir='%s/chromium'",
             b->dir);
    assert_int_equal(
        fbt_sh(dom, cap, "'%s' %s --dump-dom 'file://%s' 2>/dev/null", chromium, flags, page), 0);
    if (png)
        assert_int_equal(fbt_sh(NULL, 0,
                                "'%s' %s --window-size=%d,%d --screenshot='%s' 'file://%s'"
                                " >/dev/null 2>&1",
                                chromium, flags, width, height, png, page),
                         0);
}

int fbt_html_series_sum(const char *dom, const char *series)
{
    char needle[64];
    int n = snprintf(needle, sizeof needle, "data-series=\"%s\" data-value=\"", series);
    int sum = 0;
    for (const char *p = strstr(dom, needle); p; p = strstr(p + 1, needle))
        sum += atoi(p + n);
    return sum;
}

void fbt_dom_holds(const char *dom, const char *const *figures, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!strstr(dom, figures[i]))
            fail_msg("the DOM does not hold %s", figures[i]);
}

void fbt_png_ok(const char *png)
{
    struct stat st;
    assert_int_equal(stat(png, &st), 0);
    assert_true(st.st_size > 20000);
    assert_true(fbt_file_contains(png, "\x89PNG", 4));
}

json_int_t fbt_json_int(const json_t *obj, const char *path)
{
    char key[128];
    snprintf(key, sizeof key, "%s", path);
    const json_t *cur = obj;
    for (char *save = NULL, *k = strtok_r(key, ".", &save); k; k = strtok_r(NULL, ".", &save))
        cur = json_object_get(cur, k);
    if (!json_is_integer(cur))
        fail_msg("%s is not an integer", path);
    return json_integer_value(cur);
}

fb_err_t fbt_pair_try(fbt_pair_t *w, fb_client_t *c, int type, const char *to, const char *corr,
                      const ProtobufCMessage *payload, fb_receipt_t *rec)
{
    fb_err_t rc = fbt_send_msg(c, type, to, corr, payload, rec);
    if (rc == FB_OK && rec->store_seq > w->last_seq)
        w->last_seq = rec->store_seq;
    return rc;
}

void fbt_pair_ok(fbt_pair_t *w, fb_client_t *c, int type, const char *to, const char *corr,
                 const ProtobufCMessage *payload)
{
    uint64_t seq = fbt_send_ok(c, type, to, corr, payload);
    if (seq > w->last_seq)
        w->last_seq = seq;
}

void fbt_pair_refused(fbt_pair_t *w, const char *sql, fb_client_t *c, int type, const char *to,
                      const char *corr, const ProtobufCMessage *payload, fb_err_t want,
                      const char *detail)
{
    char *before = fbt_sql_text(&w->b, sql);
    uint64_t seq = w->last_seq;
    fb_receipt_t rec;
    fb_err_t rc = fbt_pair_try(w, c, type, to, corr, payload, &rec);
    fbt_expect_nack(rc, &rec, want, detail);
    fb_receipt_clear(&rec);
    assert_int_equal(w->last_seq, seq);
    char *after = fbt_sql_text(&w->b, sql);
    assert_string_equal(before, after);
    free(before);
    free(after);
}

void fbt_csv_tables_even(char *csv)
{
    int header = 0;
    for (char *save = NULL, *l = strtok_r(csv, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
        int fields = 1;
        for (const char *c = l; *c; c++)
            fields += *c == ';';
        if (strncmp(l, "table;", 6) == 0)
            header = fields;
        else if (header)
            assert_int_equal(fields, header);
    }
}
