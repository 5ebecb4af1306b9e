/* ledger_main.c - fluxbus-ledger-bench: the flux ledger's cost per message
 * on the national-year replay's mix (replay_msgs.h), without the broker:
 * the messages are signed first, then each is decoded and goes through
 * ledger_check and ledger_record on a fresh store, in transactions of
 * --batch messages, as the broker's loop does once a message passed its
 * other checks. Prints, per message type, how many and the mean time of
 * the check and of the record. With --background N, the ledger first holds
 * N vacancy lives of the year written straight into it (decompte_world.h,
 * its bailleurs the replay's, its vacancies in --communes C communes): a
 * ledger whose bailleurs have freed dwellings in many communes.
 *
 * Under valgrind --tool=callgrind --collect-atstart=no, it collects the
 * instructions of ledger_check and ledger_record only (of the messages of
 * one type with --measure TYPE): the figures of docs/PERFORMANCE.md,
 * "The ledger's hot path".
 *
 * Exit codes: 0 done, 1 bad usage, 2 a failure (signing, store, a message
 * the ledger refused). */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fluxbus/catalog.h"
#include "fluxbus/codec.h"
#include "fluxbus/envelope.h"
#include "decompte_world.h"
#include "ledger.h"
#include "period.h"
#include "replay_msgs.h"
#include "stats.h"
#include "store.h"

#if __has_include(<valgrind/callgrind.h>)
#include <valgrind/callgrind.h>
#else
#define CALLGRIND_TOGGLE_COLLECT
#endif

#define S_TYPES 64             /* MessageType values are below this */
#define S_FIRST_SEQ 1000000000 /* the replay's store seqs, above the background's */

static const char s_usage[] =
    "usage: fluxbus-ledger-bench [options]\n"
    "\n"
    "The flux ledger's check and record of each message of the replay's year,\n"
    "on a fresh store, without the broker.\n"
    "\n"
    "  --vacancies N     vacancy lives (default 1000)\n"
    "  --bailleurs B     bailleurs (default 4)\n"
    "  --reservataires R réservataires, one convention each per bailleur (default 4)\n"
    "  --cohort C        vacancies started per wave (default 50)\n"
    "  --batch K         messages per transaction (default 64)\n"
    "  --background N    vacancy lives recorded first, straight into the ledger\n"
    "                    (default 0)\n"
    "  --communes C      communes of the background's vacancies (default 5000)\n"
    "  --measure TYPE    under callgrind, collect this type's messages only\n"
    "                    (LogementLibere, Orientation, ...; default all)\n";

typedef struct {
    size_t vacancies, bailleurs, resas, cohort, batch, background, communes;
    int measure; /* a MessageType, or -1: all */
} s_opts_t;

typedef struct {
    load_msg_t *msgs;
    size_t n, cap;
} s_flux_t;

typedef struct {
    uint64_t n;
    int64_t check_ns, record_ns;
} s_cost_t;

static int s_parse(int argc, char **argv, s_opts_t *o)
{
    *o = (s_opts_t){.vacancies = 1000,
                    .bailleurs = 4,
                    .resas = 4,
                    .cohort = 50,
                    .batch = 64,
                    .communes = 5000,
                    .measure = -1};
    struct {
        const char *name;
        size_t *out;
        double min, max;
    } sizes[] = {{"--vacancies", &o->vacancies, 1, 1e7}, {"--bailleurs", &o->bailleurs, 1, 100},
                 {"--reservataires", &o->resas, 1, 100}, {"--cohort", &o->cohort, 1, 1e6},
                 {"--batch", &o->batch, 1, 1e6},         {"--background", &o->background, 0, 1e7},
                 {"--communes", &o->communes, 1, 99000}};
    for (int i = 1; i < argc; i++) {
        bool known = false;
        for (size_t k = 0; k < sizeof sizes / sizeof sizes[0] && !known; k++) {
            double v;
            if (strcmp(argv[i], sizes[k].name) != 0)
                continue;
            if (i + 1 >= argc || stats_number(argv[++i], sizes[k].min, sizes[k].max, &v) != 0)
                return -1;
            *sizes[k].out = (size_t)v;
            known = true;
        }
        if (!known && strcmp(argv[i], "--measure") == 0 && i + 1 < argc) {
            const fb_catalog_entry_t *e = fb_catalog_by_name(argv[++i]);
            if (!e)
                return -1;
            o->measure = e->type;
            known = true;
        }
        if (!known)
            return -1;
    }
    return 0;
}

/* ---- the flux, signed --------------------------------------------------------------- */

static fb_err_t s_push(s_flux_t *f, load_msg_t m)
{
    if (f->n == f->cap) {
        size_t cap = f->cap ? 2 * f->cap : 1024;
        load_msg_t *more = realloc(f->msgs, cap * sizeof *more);
        if (!more)
            return FB_ERR_NOMEM;
        f->msgs = more;
        f->cap = cap;
    }
    f->msgs[f->n++] = m;
    return FB_OK;
}

/* The conventions, then waves as the replay sends them: each wave starts
 * a cohort and takes every started vacancy one step further. k[a] counts
 * actor a's messages. */
static fb_err_t s_sign(const replay_world_t *w, const s_opts_t *o, uint64_t *k, s_flux_t *f)
{
    fb_err_t rc = FB_OK;
    load_msg_t m;
    for (size_t b = 0; rc == FB_OK && b < w->n_bailleurs; b++)
        for (size_t r = 0; rc == FB_OK && r < w->n_resas; r++)
            if ((rc = replay_sign_convention(w, b, r, k[b]++, &m)) == FB_OK)
                rc = s_push(f, m);
    size_t *step = calloc(o->vacancies, sizeof *step);
    if (!step)
        return FB_ERR_NOMEM;
    for (size_t started = 0, done = 0; rc == FB_OK && done < o->vacancies;) {
        started = started + o->cohort < o->vacancies ? started + o->cohort : o->vacancies;
        for (size_t v = 0; rc == FB_OK && v < started; v++) {
            if (step[v] == replay_steps(v))
                continue;
            size_t from = replay_sender(w, v, step[v]);
            if ((rc = replay_sign_step(w, v, step[v], k[from]++, &m)) == FB_OK)
                rc = s_push(f, m);
            done += ++step[v] == replay_steps(v);
        }
    }
    free(step);
    return rc;
}

/* ---- the ledger ---------------------------------------------------------------------- */

static fb_err_t s_open(const uint8_t *env, size_t len, Fluxbus__V1__SignedBody **body,
                       ProtobufCMessage **payload)
{
    Fluxbus__V1__Envelope *e = NULL;
    fb_err_t rc = fb_envelope_decode(env, len, len, &e);
    if (rc == FB_OK)
        rc = fb_envelope_parse_body(e, body);
    fb_envelope_free(e);
    const fb_catalog_entry_t *entry = rc == FB_OK ? fb_catalog_by_type((int)(*body)->type) : NULL;
    if (rc == FB_OK && !entry)
        rc = FB_ERR_UNKNOWN_TYPE;
    return rc == FB_OK ? fb_codec_unpack(entry->desc, (*body)->payload.data, (*body)->payload.len,
                                         len, payload)
                       : rc;
}

/* Checks and records message i (store seq i + 1, accepted at at_ms). */
static fb_err_t s_one(ledger_t *ledger, const s_opts_t *o, const load_msg_t *m, uint64_t seq,
                      int64_t at_ms, s_cost_t *cost)
{
    Fluxbus__V1__SignedBody *body = NULL;
    ProtobufCMessage *payload = NULL;
    fb_err_t rc = s_open(m->env, m->len, &body, &payload);
    if (rc != FB_OK) {
        fprintf(stderr, "fluxbus-ledger-bench: message %llu does not decode\n",
                (unsigned long long)seq);
        return rc;
    }
    ledger_msg_t lm = ledger_msg_of(body, payload, seq, at_ms);
    bool measured = o->measure < 0 || o->measure == lm.type;
    char detail[512] = "";
    if (measured)
        CALLGRIND_TOGGLE_COLLECT;
    int64_t t0 = stats_now_ns();
    rc = ledger_check(ledger, &lm, detail, sizeof detail);
    int64_t t1 = stats_now_ns();
    if (rc == FB_OK)
        rc = ledger_record(ledger, &lm);
    int64_t t2 = stats_now_ns();
    if (measured)
        CALLGRIND_TOGGLE_COLLECT;
    s_cost_t *c = &cost[lm.type >= 0 && lm.type < S_TYPES ? lm.type : 0];
    *c = (s_cost_t){c->n + 1, c->check_ns + (t1 - t0), c->record_ns + (t2 - t1)};
    if (rc != FB_OK)
        fprintf(stderr, "fluxbus-ledger-bench: message %llu (%s) refused: %s %s\n",
                (unsigned long long)seq, payload->descriptor->short_name, fb_err_name(rc), detail);
    fb_codec_free(payload);
    fb_body_free(body);
    return rc;
}

static fb_err_t s_run(store_t *store, ledger_t *ledger, const s_opts_t *o, const s_flux_t *f,
                      s_cost_t *cost)
{
    int64_t base = fb_now_ms();
    fb_err_t rc = FB_OK;
    for (size_t i = 0; rc == FB_OK && i < f->n; i += o->batch) {
        size_t end = i + o->batch < f->n ? i + o->batch : f->n;
        rc = store_begin(store);
        for (size_t j = i; rc == FB_OK && j < end; j++)
            rc = s_one(ledger, o, &f->msgs[j], S_FIRST_SEQ + j, base + (int64_t)j, cost);
        if (rc == FB_OK)
            rc = store_commit(store);
        else
            store_rollback(store);
    }
    return rc;
}

static void s_report(const s_cost_t *cost, int64_t sign_ns)
{
    s_cost_t all = {0};
    stats_line("%-28s %9s %12s %12s", "type", "messages", "check us", "record us");
    for (int t = 0; t < S_TYPES; t++) {
        const s_cost_t *c = &cost[t];
        if (!c->n)
            continue;
        const fb_catalog_entry_t *e = fb_catalog_by_type(t);
        stats_line("%-28s %9llu %12.1f %12.1f", e ? e->name : "?", (unsigned long long)c->n,
                   c->check_ns / 1e3 / (double)c->n, c->record_ns / 1e3 / (double)c->n);
        all = (s_cost_t){all.n + c->n, all.check_ns + c->check_ns, all.record_ns + c->record_ns};
    }
    stats_line("%-28s %9llu %12.1f %12.1f", "all", (unsigned long long)all.n,
               all.check_ns / 1e3 / (double)all.n, all.record_ns / 1e3 / (double)all.n);
    stats_line("signing, before: %.1f s", sign_ns / 1e9);
    stats_kv("messages", "%llu", (unsigned long long)all.n);
    stats_kv("check_us_per_msg", "%.2f", all.check_ns / 1e3 / (double)all.n);
    stats_kv("record_us_per_msg", "%.2f", all.record_ns / 1e3 / (double)all.n);
    stats_report_end();
}

/* ---- the world ----------------------------------------------------------------------- */

static fb_err_t s_keys(fb_keys_t *keys, size_t bailleurs, size_t resas)
{
    fb_err_t rc = FB_OK;
    for (size_t i = 0; rc == FB_OK && i < bailleurs + resas + 1; i++) {
        char id[64];
        if (i < bailleurs) /* decompte_world's bailleurs */
            snprintf(id, sizeof id, "bailleur:%09zu", 100000000 + i);
        else if (i < bailleurs + resas)
            snprintf(id, sizeof id, "reservataire:bench-%zu", i - bailleurs);
        else
            snprintf(id, sizeof id, "sne:bench");
        rc = fb_keys_generate(&keys[i], id);
    }
    return rc;
}

/* The background lives, freed on 1 January of this year. */
static fb_err_t s_background(store_t *store, ledger_t *ledger, const s_opts_t *o)
{
    decompte_world_t w = decompte_world_default();
    w.bailleurs = o->bailleurs;
    w.reservataires = o->resas;
    w.communes = o->communes;
    w.year = period_year_of(fb_now_ms());
    fb_err_t rc = store_begin(store);
    if (rc == FB_OK)
        rc = decompte_world_more(&w, ledger, 0, o->background, 1);
    if (rc == FB_OK)
        return store_commit(store);
    store_rollback(store);
    return rc;
}

static int s_bench(const s_opts_t *o, const char *dir)
{
    size_t n_actors = o->bailleurs + o->resas + 1;
    fb_keys_t *keys = calloc(n_actors, sizeof *keys);
    uint64_t *k = calloc(n_actors, sizeof *k);
    s_cost_t *cost = calloc(S_TYPES, sizeof *cost);
    s_flux_t flux = {0};
    replay_world_t w = {.n_bailleurs = o->bailleurs,
                        .n_resas = o->resas,
                        .actors = keys,
                        .run = {0xbe, 0x0c, 0x4e, 0xd6}};
    char path[512], err[256] = "";
    snprintf(path, sizeof path, "%s/store.db", dir);
    store_t *store = NULL;
    ledger_t *ledger = NULL;
    int64_t t0 = stats_now_ns();
    fb_err_t rc = keys && k && cost ? s_keys(keys, o->bailleurs, o->resas) : FB_ERR_NOMEM;
    if (rc == FB_OK)
        rc = s_sign(&w, o, k, &flux);
    int64_t sign_ns = stats_now_ns() - t0;
    if (rc == FB_OK && !(store = store_open(path, err, sizeof err)))
        rc = FB_ERR_STORE;
    if (rc == FB_OK && !(ledger = ledger_open(store_db(store), err, sizeof err)))
        rc = FB_ERR_STORE;
    if (rc == FB_OK && o->background)
        rc = s_background(store, ledger, o);
    if (rc == FB_OK)
        rc = s_run(store, ledger, o, &flux, cost);
    if (rc == FB_OK)
        s_report(cost, sign_ns);
    else
        fprintf(stderr, "fluxbus-ledger-bench: %s %s\n", fb_err_name(rc), err);
    ledger_close(&ledger);
    store_destroy(&store);
    load_msgs_free(flux.msgs, flux.n);
    free(flux.msgs);
    for (size_t i = 0; keys && i < n_actors; i++)
        fb_keys_wipe(&keys[i]);
    free(keys);
    free(k);
    free(cost);
    return rc == FB_OK ? 0 : 2;
}

static void s_remove_dir(const char *dir)
{
    const char *files[] = {"store.db", "store.db-wal", "store.db-shm"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        char path[512];
        snprintf(path, sizeof path, "%s/%s", dir, files[i]);
        unlink(path);
    }
    rmdir(dir);
}

int main(int argc, char **argv)
{
    s_opts_t o;
    if (s_parse(argc, argv, &o) != 0) {
        fputs(s_usage, stderr);
        return 1;
    }
    char dir[] = "/tmp/fluxbus-ledger-bench-XXXXXX";
    if (!mkdtemp(dir)) {
        perror("fluxbus-ledger-bench: mkdtemp");
        return 2;
    }
    int rc = s_bench(&o, dir);
    s_remove_dir(dir);
    return rc;
}
