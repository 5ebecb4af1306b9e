/* main.c - fluxbus-adapter-sne: the SNE actor on the bus. Loads the config,
 * opens the adapter link, its state tables and the SNE file exchange, then
 * runs the adapter loop with the two actions of sne_adapter.h. Nothing
 * else lives here. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "adapter.h"
#include "localdate.h"
#include "sne_adapter.h"
#include "sne_files.h"

static const char s_usage[] =
    "usage: fluxbus-adapter-sne --config FILE\n"
    "\n"
    "The SNE (national registry of social-housing demandes) on the bus: turns the\n"
    "CaleolDecision, AttributionNonSuivieDeBail and BailSigne that bailleurs send to\n"
    "this actor into SNE records, exchanged as files in exchange_dir (see\n"
    "docs/SNE-FILES.md), and sends each radiation's answer back to the bailleur as a\n"
    "SneRadiationAck. Prints \"ready sne actor=... dir=...\" once running.\n";

/* clang-format off */
static const conf_key_t s_keys[] = {
    CONF_KEYS_BUS,
    {"exchange_dir", NULL, true, false, "the SNE file exchange directory (docs/SNE-FILES.md)"},
    {"tick_ms", "200", false, false, "how often answers are looked for, in milliseconds"},
    {"timezone", "Europe/Paris", false, false, "time zone of the records' dates"},
    {NULL, NULL, false, false, NULL},
};
/* clang-format on */

/* The file exchange's log lines go to the adapter's log. */
static void s_log(void *ctx, fb_log_level_t level, const char *line)
{
    adapter_log(ctx, level, "%s", line);
}

int main(int argc, char **argv)
{
    int rc = 0;
    conf_t *conf = adapter_main_config("sne", argc, argv, s_usage, s_keys, &rc);
    if (!conf)
        return rc;
    char err[512] = "";
    long long tick_ms = 0;
    char *dir = conf_path(conf, "exchange_dir");
    adapter_t *ad = NULL;
    sne_adapter_t sne = {0};
    if (!conf_get_int(conf, "tick_ms", 10, 60000, &tick_ms, err, sizeof err) || !dir) {
        rc = 2;
        goto done;
    }
    sne.tz = conf_get(conf, "timezone");
    if (!localdate_zone_known(sne.tz)) {
        snprintf(err, sizeof err, "timezone: \"%.100s\" is not a known time zone", sne.tz);
        rc = 2;
        goto done;
    }
    ad = adapter_open("sne", conf, err, sizeof err);
    if (!ad) {
        rc = adapter_open_exit_code();
        goto done;
    }
    sne.ad = ad;
    sne.state = sne_state_open(adapter_db(ad), err, sizeof err);
    sne.iface = sne.state ? sne_files_open(dir, s_log, ad, err, sizeof err) : NULL;
    if (!sne.iface) {
        rc = 3;
        goto done;
    }
    int64_t waiting = 0;
    if (sne_state_count(sne.state, SNE_REC_SENT, &waiting) != FB_OK)
        waiting = -1;
    adapter_log(ad, FB_LOG_INFO,
                "started actor=%s exchange=%s dir=%s timezone=%s awaiting_answers=%lld",
                adapter_actor(ad), sne_iface_name(sne.iface), dir, sne.tz, (long long)waiting);
    adapter_ready("sne actor=%s dir=%s", adapter_actor(ad), dir);
    rc = adapter_run(ad, (int)tick_ms, sne_deliver, sne_collect, &sne);
done:
    if (*err)
        fprintf(stderr, "fluxbus-adapter-sne: %s\n", err);
    sne_iface_destroy(&sne.iface);
    sne_state_close(&sne.state);
    adapter_close(&ad);
    free(dir);
    conf_free(&conf);
    return rc;
}
