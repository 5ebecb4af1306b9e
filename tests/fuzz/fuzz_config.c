/* fuzz_config - libFuzzer target: any bytes as the broker's config file
 * (broker_config_parse, the reader behind broker_config_load). Invariants,
 * beyond "nothing crashes or reads out of bounds": a refusal says why, and
 * a configuration that was accepted holds only values the broker honours
 * (the ranges broker_config_set checks, NUL-terminated non-empty strings). */
#include <stdint.h>
#include <string.h>

#include "config.h"
#include "fuzz_support.h"

/* A string setting: non-empty and NUL-terminated inside its array. */
static void s_check_string(const char *name, const char *s, size_t cap)
{
    size_t n = strnlen(s, cap);
    if (n == 0 || n == cap)
        fuzz_fail("accepted config has a bad %s", name);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    broker_config_t cfg;
    char why[512] = "";
    broker_config_defaults(&cfg);
    fb_err_t rc = broker_config_parse(&cfg, (const char *)data, size, "fuzz.conf", why, sizeof why);
    if (rc != FB_OK) {
        if (rc != FB_ERR_PARSE || strncmp(why, "fuzz.conf:", 10) != 0)
            fuzz_fail("refusal %s without a line: \"%s\"", fb_err_name(rc), why);
        return 0;
    }
    s_check_string("endpoint", cfg.endpoint, sizeof cfg.endpoint);
    s_check_string("store", cfg.store, sizeof cfg.store);
    s_check_string("key", cfg.key, sizeof cfg.key);
    if (cfg.max_envelope < 1024 || cfg.max_envelope > 64u * 1024 * 1024 || cfg.window < 1 ||
        cfg.window > 1024 || cfg.batch_max < 1 || cfg.batch_max > 65536 ||
        (unsigned)cfg.log_level > FB_LOG_ERROR)
        fuzz_fail("accepted config has a value out of range");
    return 0;
}
