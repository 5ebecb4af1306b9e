/* 10_store_fsync_failure - when the store cannot make a commit durable (fsync
 * fails with EIO), the broker sends no receipt for it, logs why and exits 3.
 * Restarted on a healthy disk it has every message it acknowledged; the
 * sender resends the unacknowledged one and the receiver gets each once. */
#include "harness.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>

#define T_LOGEMENT FLUXBUS__V1__MESSAGE_TYPE__MESSAGE_TYPE_LOGEMENT_LIBERE
#define N_BEFORE 5

static void test_failed_fsync_means_no_receipt_and_exit_3(void **state)
{
    (void)state;
    fbt_broker_t b;
    fb_keys_t bailleur, resa;
    fbt_setup(&b);
    b.fail_fsync = 1;
    fbt_actor(&b, "bailleur:552046955", "bailleur", NULL, &bailleur);
    fbt_actor(&b, "reservataire:action-logement", "reservataire", NULL, &resa);
    fbt_start(&b);

    fb_err_t err;
    fb_client_t *c = fbt_try_client(&b, &bailleur, 2000, &err);
    assert_non_null(c);
    size_t len = 0;
    uint8_t *payload = fbt_logement("vac-disk", "74010", &len);
    const char *to[1] = {resa.actor};
    fb_outgoing_t m = {.type = T_LOGEMENT,
                       .recipients = to,
                       .n_recipients = 1,
                       .payload = payload,
                       .payload_len = len};
    uint8_t ids[N_BEFORE + 1][FB_MESSAGE_ID_BYTES];
    fb_receipt_t rec;
    for (int i = 0; i < N_BEFORE; i++) {
        m.message_id = NULL;
        uint8_t *env = NULL;
        size_t env_len = 0;
        assert_int_equal(fb_client_seal(c, &m, &env, &env_len, ids[i]), FB_OK);
        assert_int_equal(fb_client_send_raw(c, env, env_len, ids[i], &rec), FB_OK);
        fb_receipt_clear(&rec);
        free(env);
    }

    /* The disk starts failing: the next message gets no receipt. */
    fbt_fail_fsync(&b, 1);
    uint8_t *last = NULL;
    size_t last_len = 0;
    assert_int_equal(fb_client_seal(c, &m, &last, &last_len, ids[N_BEFORE]), FB_OK);
    fb_err_t rc = fb_client_send_raw(c, last, last_len, ids[N_BEFORE], &rec);
    assert_true(rc == FB_ERR_TIMEOUT || rc == FB_ERR_TRANSPORT);
    assert_false(rec.accepted);
    fb_receipt_clear(&rec);
    assert_int_equal(fbt_wait_exit(&b, 10000), 3);
    assert_true(fbt_log_contains(&b, "error broker store-failed"));

    /* Healthy disk again: restart, resend the unacknowledged message. */
    fbt_fail_fsync(&b, 0);
    fbt_start(&b);
    int sent = 0;
    for (int attempt = 0; attempt < 10 && !sent; attempt++) {
        rc = fb_client_send_raw(c, last, last_len, ids[N_BEFORE], &rec);
        sent = rc == FB_OK;
        fb_receipt_clear(&rec);
    }
    assert_true(sent);

    fb_client_t *r = fbt_client(&b, &resa);
    for (int i = 0; i <= N_BEFORE; i++) {
        fb_delivery_t *d = fbt_recv_ack(r, 5000);
        assert_non_null(d);
        assert_memory_equal(d->body->message_id.data, ids[i], FB_MESSAGE_ID_BYTES);
        fb_delivery_destroy(&d);
    }
    assert_null(fbt_recv_ack(r, 400));

    free(last);
    free(payload);
    fb_client_destroy(&c);
    fb_client_destroy(&r);
    fbt_teardown(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_failed_fsync_means_no_receipt_and_exit_3),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
