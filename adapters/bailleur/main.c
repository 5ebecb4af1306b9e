/* main.c - fluxbus-adapter-bailleur: a landlord's information system on the
 * bus through a spool directory (docs/ADAPTERS.md, "Bailleur adapter").
 *
 * Only loads the config, builds the context (bailleur.h) and runs the
 * adapter loop: each tick scans the inbox (inbox.h) and the deadlines
 * (deadlines.h); each delivery goes to the outbox (outbox.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "adapter.h"
#include "bailleur.h"
#include "deadlines.h"
#include "inbox.h"
#include "localdate.h"
#include "outbox.h"
#include "spool.h"

#define S_KIND "bailleur"

static const conf_key_t s_keys[] = {
    CONF_KEYS_BUS,
    {"spool", NULL, true, false, "spool root; inbox/ done/ rejected/ outbox/ are made under it"},
    {"sne_actor", NULL, false, false,
     "actor id of the SNE adapter (decisions, leases, vacancies go to it by default)"},
    {"logements_to", NULL, false, true,
     "extra recipient of every LogementLibere by default, e.g. a réservataire"},
    {"timezone", "Europe/Paris", false, false, "time zone of local dates and times"},
    {"csv_separator", ";", false, false, "CSV field separator: one character, or \"tab\""},
    {"inbox_settle_ms", "500", false, false, "an inbox file is taken once unchanged this long"},
    {"scan_ms", "500", false, false, "period of the inbox scan and of the deadline watcher"},
    {"deadline_watch", "off", false, false,
     "on: send DeadlineExpired when an orientation's deadline passed unanswered, for a broker "
     "that does not; off (the broker sends it)"},
    {"deadline_counting", "counted", false, false,
     "counted or not_counted: the counting a DeadlineExpired states"},
    {NULL, NULL, false, false, NULL},
};

static const char s_usage[] =
    "usage: fluxbus-adapter-bailleur --config FILE\n"
    "\n"
    "Sends the JSON and CSV files a landlord's system drops in <spool>/inbox/\n"
    "(moved to done/ with their signed receipts, or to rejected/ with an\n"
    ".error.json) and writes every message received to <spool>/outbox/ as\n"
    "JSON, the broker's DeadlineExpired included; with deadline_watch = on, it\n"
    "tells réservataires itself when an orientation's deadline passed.\n";

/* The settings that are not paths nor lists, checked. */
static bool s_settings(bailleur_t *b, const conf_t *conf, char *err, size_t errlen)
{
    long long settle = 0, scan = 0;
    if (!conf_get_int(conf, "inbox_settle_ms", 0, 3600000, &settle, err, errlen) ||
        !conf_get_int(conf, "scan_ms", 10, 3600000, &scan, err, errlen))
        return false;
    b->settle_ms = (int)settle;
    const char *sep = conf_get(conf, "csv_separator");
    if (strcasecmp(sep, "tab") == 0)
        b->csv_sep = '\t';
    else if (strlen(sep) == 1 && sep[0] != '"' && sep[0] != '\n' && sep[0] != '\r')
        b->csv_sep = sep[0];
    else {
        snprintf(err, errlen, "csv_separator: \"%s\" is not one character (or \"tab\")", sep);
        return false;
    }
    const char *watch = conf_get(conf, "deadline_watch");
    if (strcasecmp(watch, "on") == 0 || strcasecmp(watch, "true") == 0 ||
        strcasecmp(watch, "yes") == 0)
        b->deadline_watch = true;
    else if (strcasecmp(watch, "off") == 0 || strcasecmp(watch, "false") == 0 ||
             strcasecmp(watch, "no") == 0)
        b->deadline_watch = false;
    else {
        snprintf(err, errlen, "deadline_watch: \"%s\" is not on or off", watch);
        return false;
    }
    const char *counting = conf_get(conf, "deadline_counting");
    if (strcasecmp(counting, "counted") == 0)
        b->deadline_counting = FLUXBUS__V1__DEADLINE_COUNTING__DEADLINE_COUNTING_COUNTED;
    else if (strcasecmp(counting, "not_counted") == 0)
        b->deadline_counting = FLUXBUS__V1__DEADLINE_COUNTING__DEADLINE_COUNTING_NOT_COUNTED;
    else {
        snprintf(err, errlen, "deadline_counting: \"%s\" is not counted or not_counted", counting);
        return false;
    }
    b->tz = conf_get(conf, "timezone");
    if (!localdate_zone_known(b->tz)) {
        snprintf(err, errlen, "timezone: \"%.100s\" is not a known time zone", b->tz);
        return false;
    }
    return true;
}

/* The spool root and its directories. */
static bool s_spool(bailleur_t *b, const conf_t *conf, char *err, size_t errlen)
{
    b->spool = conf_path(conf, "spool");
    if (!b->spool || spool_init(b->spool, err, errlen) != FB_OK) {
        if (!b->spool)
            snprintf(err, errlen, "spool: out of memory");
        return false;
    }
    b->inbox = spool_path(b->spool, "inbox");
    b->done = spool_path(b->spool, "done");
    b->rejected = spool_path(b->spool, "rejected");
    b->outbox = spool_path(b->spool, "outbox");
    if (!b->inbox || !b->done || !b->rejected || !b->outbox) {
        snprintf(err, errlen, "spool: out of memory");
        return false;
    }
    return true;
}

static bool s_routing(bailleur_t *b, const conf_t *conf, const char ***list)
{
    size_t n = conf_count(conf, "logements_to");
    *list = calloc(n + 1, sizeof **list);
    if (!*list)
        return false;
    for (size_t i = 0; i < n; i++)
        (*list)[i] = conf_get_at(conf, "logements_to", i);
    b->routing.self_actor = adapter_actor(b->adapter);
    b->routing.sne_actor = conf_get(conf, "sne_actor");
    b->routing.logements_to = *list;
    b->routing.n_logements_to = n;
    return true;
}

static void s_tick(void *ctx)
{
    bailleur_t *b = ctx;
    inbox_scan(b);
    if (b->deadline_watch)
        deadlines_scan(b, fb_now_ms());
}

static void s_free(bailleur_t *b)
{
    state_destroy(&b->state);
    adapter_close(&b->adapter);
    free(b->spool);
    free(b->inbox);
    free(b->done);
    free(b->rejected);
    free(b->outbox);
}

int main(int argc, char **argv)
{
    int rc = 0;
    conf_t *conf = adapter_main_config(S_KIND, argc, argv, s_usage, s_keys, &rc);
    if (!conf)
        return rc;
    bailleur_t b;
    memset(&b, 0, sizeof b);
    const char **logements_to = NULL;
    char err[512] = "";
    long long scan_ms = 500;
    /* Exit 2: the config or a key file is wrong; 3: the spool or the state
     * file cannot be used (OPERATIONS.md). */
    if (!s_settings(&b, conf, err, sizeof err) ||
        !conf_get_int(conf, "scan_ms", 10, 3600000, &scan_ms, err, sizeof err)) {
        rc = 2;
        goto done;
    }
    if (!(b.adapter = adapter_open(S_KIND, conf, err, sizeof err))) {
        rc = adapter_open_exit_code();
        goto done;
    }
    if (!s_routing(&b, conf, &logements_to)) {
        rc = 2;
        goto done;
    }
    if (!s_spool(&b, conf, err, sizeof err) ||
        !(b.state = state_new(adapter_db(b.adapter), err, sizeof err))) {
        rc = 3;
        goto done;
    }
    adapter_log(b.adapter, FB_LOG_INFO, "started actor=%s spool=%s deadline_watch=%s",
                adapter_actor(b.adapter), b.spool, b.deadline_watch ? "on" : "off");
    adapter_ready("spool=%s", b.spool);
    rc = adapter_run(b.adapter, (int)scan_ms, outbox_on_delivery, s_tick, &b);
done:
    if (rc)
        fprintf(stderr, "fluxbus-adapter-%s: %s\n", S_KIND, err[0] ? err : "out of memory");
    s_free(&b);
    free(logements_to);
    conf_free(&conf);
    return rc;
}
