/* fuzz_bus.c - see fuzz_bus.h. Owns the broker thread, the registry set-up
 * of the fuzzing actors and the sender's client. Everything is released at
 * exit (client, then broker, then the scratch directory), so that
 * LeakSanitizer sees no leak and /tmp keeps nothing. */
#include "fuzz_bus.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker.h"
#include "fuzz_support.h"
#include "store.h"

static fb_keys_t s_sender, s_revoked;
static fb_client_t *s_client;
static broker_t *s_broker;
static pthread_t s_thread;
static volatile sig_atomic_t s_stop;

/* Blocks libFuzzer's signals in the calling thread; *old gets the mask to
 * restore. */
static void s_block_signals(sigset_t *old)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGALRM);
    sigaddset(&set, SIGUSR1);
    sigaddset(&set, SIGUSR2);
    pthread_sigmask(SIG_BLOCK, &set, old);
}

static void *s_run(void *arg)
{
    fb_err_t rc = broker_run(arg, &s_stop);
    if (rc != FB_OK)
        fuzz_fail("broker stopped: %s", fb_err_name(rc));
    return NULL;
}

/* Registers actor `keys` with its signing key valid from the epoch. */
static void s_register(store_t *store, const fb_keys_t *keys, const char *roles)
{
    store_actor_t a;
    store_key_t k;
    memset(&a, 0, sizeof a);
    memset(&k, 0, sizeof k);
    snprintf(a.id, sizeof a.id, "%s", keys->actor);
    snprintf(a.roles, sizeof a.roles, "%s", roles);
    snprintf(a.territories, sizeof a.territories, "%s", FUZZ_INSEE);
    memcpy(a.transport_key, keys->curve_pk, sizeof a.transport_key);
    snprintf(k.actor, sizeof k.actor, "%s", keys->actor);
    snprintf(k.key_id, sizeof k.key_id, "%s", keys->key_id);
    memcpy(k.public_key, keys->sign_pk, sizeof k.public_key);
    if (store_actor_add(store, &a, "fuzz") != FB_OK || store_key_add(store, &k, "fuzz") != FB_OK)
        fuzz_fail("cannot register %s", keys->actor);
}

/* A second, revoked signing key of the sender. */
static void s_register_revoked(store_t *store)
{
    store_key_t k;
    memset(&k, 0, sizeof k);
    fuzz_keys_fixed(&s_revoked, FUZZ_SENDER " revoked");
    snprintf(s_revoked.actor, sizeof s_revoked.actor, "%s", FUZZ_SENDER);
    snprintf(k.actor, sizeof k.actor, "%s", FUZZ_SENDER);
    snprintf(k.key_id, sizeof k.key_id, "%s", s_revoked.key_id);
    memcpy(k.public_key, s_revoked.sign_pk, sizeof k.public_key);
    if (store_key_add(store, &k, "fuzz") != FB_OK ||
        store_key_revoke(store, k.key_id, 1, "fuzz") != FB_OK)
        fuzz_fail("cannot register the revoked key");
}

/* The store: both actors, and the recipient subscribed to both topics. */
static void s_make_store(const char *path)
{
    char why[256];
    fb_keys_t recipient;
    store_t *store = store_open(path, why, sizeof why);
    if (!store)
        fuzz_fail("store: %s", why);
    fuzz_keys_fixed(&recipient, FUZZ_RECIPIENT);
    s_register(store, &s_sender, "bailleur");
    s_register(store, &recipient, "reservataire");
    s_register_revoked(store);
    if (store_subscribe(store, FUZZ_RECIPIENT, "logements/" FUZZ_INSEE) != FB_OK ||
        store_subscribe(store, FUZZ_RECIPIENT, "caleol/" FUZZ_INSEE) != FB_OK)
        fuzz_fail("cannot subscribe %s", FUZZ_RECIPIENT);
    store_destroy(&store);
    fb_keys_wipe(&recipient);
}

static void s_stop_bus(void)
{
    fb_client_destroy(&s_client);
    s_stop = 1; /* broker_run sees it within its 1 s poll */
    pthread_join(s_thread, NULL);
    broker_destroy(&s_broker);
    fb_keys_wipe(&s_sender);
    fb_keys_wipe(&s_revoked);
}

static void s_start(void)
{
    const char *dir = fuzz_scratch_dir();
    const char *level = getenv("FLUXBUS_FUZZ_LOG");
    broker_config_t cfg;
    fb_keys_t broker_keys;
    fb_err_t err = FB_OK;
    broker_config_defaults(&cfg);
    snprintf(cfg.endpoint, sizeof cfg.endpoint, "tcp://127.0.0.1:*");
    snprintf(cfg.store, sizeof cfg.store, "%s/bus.db", dir);
    snprintf(cfg.key, sizeof cfg.key, "%s/broker.key", dir);
    cfg.max_envelope = FUZZ_MAX_ENVELOPE;
    if (broker_config_set(&cfg, "log_level", level ? level : "error") != FB_OK)
        fuzz_fail("FLUXBUS_FUZZ_LOG must be debug, info, warn or error");
    fuzz_keys_fixed(&broker_keys, FUZZ_BROKER);
    fuzz_keys_fixed(&s_sender, FUZZ_SENDER);
    if (fb_keys_save(&broker_keys, cfg.key) != FB_OK)
        fuzz_fail("cannot write %s", cfg.key);
    s_make_store(cfg.store);

    s_broker = broker_new(&cfg, &err);
    if (!s_broker)
        fuzz_fail("broker_new: %s", fb_err_name(err));
    /* The broker thread never takes libFuzzer's signals: they must reach the
     * fuzzing thread (libFuzzer checks timeouts only there). */
    sigset_t old;
    s_block_signals(&old);
    int started = pthread_create(&s_thread, NULL, s_run, s_broker) == 0;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (!started)
        fuzz_fail("cannot start the broker thread");
    atexit(s_stop_bus); /* runs before the scratch directory's removal */

    fb_client_config_t ccfg = {
        .endpoint = broker_endpoint(s_broker),
        .keys = &s_sender,
        .broker = &broker_keys,
        .timeout_ms = 10000,
    };
    s_client = fb_client_new(&ccfg, &err);
    if (!s_client)
        fuzz_fail("cannot connect as %s: %s", FUZZ_SENDER, fb_err_name(err));
    fb_keys_wipe(&broker_keys);
}

const fb_keys_t *fuzz_bus_sender(void)
{
    if (!s_client)
        s_start();
    return &s_sender;
}

const fb_keys_t *fuzz_bus_sender_revoked(void)
{
    if (!s_client)
        s_start();
    return &s_revoked;
}

fb_err_t fuzz_bus_send(const uint8_t *env, size_t len, const uint8_t id[FB_MESSAGE_ID_BYTES],
                       fb_receipt_t *receipt)
{
    sigset_t old;
    if (!s_client)
        s_start();
    s_block_signals(&old);
    fb_err_t rc = fb_client_send_raw(s_client, env, len, id, receipt);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return rc;
}
