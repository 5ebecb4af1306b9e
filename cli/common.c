/* common.c - the helpers every command shares (see common.h): subcommand
 * dispatch, one-line errors, the help layout and exit-code table, option
 * parsing, opening the store, loading key files and connecting to the
 * broker.
 *
 * Does not own: what any single command does. Invariant: nothing here exits
 * the process; every helper reports once on stderr and hands an exit code
 * back, so each command has one path out that frees what it holds. */
#include "common.h"

#include <errno.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#define S_DEFAULT_ENDPOINT "tcp://127.0.0.1:5770"
#define S_DEFAULT_TIMEOUT_MS 5000 /* what fb_client_new uses for 0 */

static const char s_exit_codes[] =
    "\nexit codes:\n"
    "  0  ok\n"
    "  1  usage error (bad command line)\n"
    "  2  input error (bad file, JSON or key; unknown or duplicate registry entry;\n"
    "     audit verify: the store's audit chain is broken)\n"
    "  3  refused by the broker (Nack: its reason name and detail are printed)\n"
    "  4  cannot reach the broker, timeout, or the broker refused our transport key\n"
    "  5  store error\n";

static const char s_store_options[] =
    "\nstore option:\n"
    "  --store FILE      the broker's store file (default: $FLUXBUS_STORE,\n"
    "                    else fluxbus.db)\n";

static const char s_bus_options[] =
    "\nconnection options:\n"
    "  --endpoint EP     broker endpoint (default: $FLUXBUS_ENDPOINT,\n"
    "                    else " S_DEFAULT_ENDPOINT ")\n"
    "  --key FILE        own secret key file (default: $FLUXBUS_KEY)\n"
    "  --broker FILE     the broker's public key file, broker.key.pub\n"
    "                    (default: $FLUXBUS_BROKER_KEY)\n"
    "  --timeout MS      wait at most MS for the broker, at connect and for each\n"
    "                    answer (default 5000)\n"
    "  --verbose         show the library's log lines on stderr\n";

/* ---- dispatch, messages, help ------------------------------------------- */

static void __attribute__((format(printf, 2, 0)))
s_vsay(const char *cmd, const char *fmt, va_list ap)
{
    fprintf(stderr, "fluxbus%s%s: ", cmd ? " " : "", cmd ? cmd : "");
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
}

int common_fail(const char *cmd, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    s_vsay(cmd, fmt, ap);
    va_end(ap);
    return code;
}

void common_note(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    s_vsay(cmd, fmt, ap);
    va_end(ap);
}

int common_help(const char *text, unsigned flags)
{
    fputs(text, stdout);
    if (flags & COMMON_HELP_STORE)
        fputs(s_store_options, stdout);
    if (flags & COMMON_HELP_BUS)
        fputs(s_bus_options, stdout);
    fputs(s_exit_codes, stdout);
    return EXIT_OK;
}

int common_dispatch(const char *who, const char *head, const common_command_t *cmds, int argc,
                    char **argv)
{
    const char *name = argc > 1 ? argv[1] : NULL;
    const char *sp = who ? " " : "", *self = who ? who : "";
    if (!name)
        return common_fail(who, EXIT_USAGE, "missing command (see fluxbus%s%s --help)", sp, self);
    if (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0 || strcmp(name, "help") == 0) {
        fputs(head, stdout);
        fputs("\ncommands:\n", stdout);
        for (const common_command_t *c = cmds; c->name; c++)
            printf("  %-12s %s\n", c->name, c->summary);
        printf("\nRun \"fluxbus%s%s COMMAND --help\" for a command's options.\n", sp, self);
        return common_help("", 0);
    }
    for (const common_command_t *c = cmds; c->name; c++)
        if (strcmp(c->name, name) == 0)
            return c->run(argc - 1, argv + 1);
    return common_fail(who, EXIT_USAGE, "unknown command \"%s\" (see fluxbus%s%s --help)", name, sp,
                       self);
}

int common_exit_code(fb_err_t err)
{
    switch (err) {
    case FB_OK:
        return EXIT_OK;
    case FB_ERR_TIMEOUT:
    case FB_ERR_TRANSPORT:
    case FB_ERR_AUTH:
    case FB_ERR_PROTOCOL:
        return EXIT_UNREACHABLE;
    case FB_ERR_STORE:
        return EXIT_STORE;
    default:
        return EXIT_INPUT;
    }
}

/* ---- options ------------------------------------------------------------- */

int common_getopt(const char *cmd, int argc, char **argv, const struct option *opts)
{
    opterr = 0; /* we report, in our own format */
    int c = getopt_long(argc, argv, ":h", opts, NULL);
    if (c == ':') {
        common_fail(cmd, EXIT_USAGE, "option %s needs a value (see fluxbus %s --help)",
                    argv[optind - 1], cmd);
        return '?';
    }
    if (c == '?') {
        /* A short option is named by optopt; a long one is the last argument read. */
        if (optopt > 0 && optopt < 0x100)
            common_fail(cmd, EXIT_USAGE, "unknown option -%c (see fluxbus %s --help)", optopt, cmd);
        else
            common_fail(cmd, EXIT_USAGE, "unknown option %s (see fluxbus %s --help)",
                        argv[optind - 1], cmd);
    }
    return c;
}

bool common_parse_int(const char *cmd, const char *opt, const char *text, long long min,
                      long long max, long long *out)
{
    char *end = NULL;
    errno = 0;
    long long v = strtoll(text, &end, 10);
    if (errno || end == text || *end != '\0' || v < min || v > max) {
        common_fail(cmd, EXIT_USAGE, "%s: \"%s\" is not a number from %lld to %lld", opt, text, min,
                    max);
        return false;
    }
    *out = v;
    return true;
}

const char *common_env_or(const char *name, const char *dflt)
{
    const char *v = getenv(name);
    return v && *v ? v : dflt;
}

/* ---- the store ----------------------------------------------------------- */

const char *common_store_default(void)
{
    return common_env_or("FLUXBUS_STORE", "fluxbus.db");
}

store_t *common_store_open(const char *cmd, const char *path, bool must_exist)
{
    /* store_open() creates a missing file: reading commands must not leave an
     * empty store behind a mistyped path. */
    if (must_exist && access(path, F_OK) != 0) {
        common_fail(cmd, EXIT_STORE, "%s: %s", path, strerror(errno));
        return NULL;
    }
    char why[1024];
    store_t *store = store_open(path, why, sizeof why);
    if (!store)
        common_fail(cmd, EXIT_STORE, "%s", why);
    return store;
}

const char *common_os_user(char *buf, size_t len)
{
    const struct passwd *pw = getpwuid(geteuid());
    if (pw && pw->pw_name && *pw->pw_name)
        snprintf(buf, len, "%s", pw->pw_name);
    else
        snprintf(buf, len, "%lu", (unsigned long)geteuid());
    return buf;
}

/* ---- keys and the bus ---------------------------------------------------- */

int common_load_keys(const char *cmd, const char *path, fb_keys_t *keys, bool need_secret)
{
    fb_err_t err = fb_keys_load(keys, path);
    const char *why = NULL;
    switch (err) {
    case FB_OK:
        if (need_secret && !keys->has_secret)
            why = "holds no secret key (give the secret key file, not the .pub)";
        break;
    case FB_ERR_NOT_FOUND:
        why = "no such key file";
        break;
    case FB_ERR_PARSE:
        why = "not a valid fluxbus key file";
        break;
    case FB_ERR_PERM:
        why = "secret key file is readable by group or others (chmod 600 it)";
        break;
    default:
        why = fb_err_str(err);
        break;
    }
    if (!why)
        return EXIT_OK;
    fb_keys_wipe(keys);
    return common_fail(cmd, EXIT_INPUT, "%s: %s", path, why);
}

void common_bus_init(common_bus_t *bus)
{
    bus->endpoint = common_env_or("FLUXBUS_ENDPOINT", S_DEFAULT_ENDPOINT);
    bus->key = common_env_or("FLUXBUS_KEY", NULL);
    bus->broker = common_env_or("FLUXBUS_BROKER_KEY", NULL);
    bus->timeout = NULL;
    bus->verbose = false;
}

bool common_bus_option(common_bus_t *bus, int opt, const char *arg)
{
    switch (opt) {
    case COMMON_OPT_ENDPOINT:
        bus->endpoint = arg;
        return true;
    case COMMON_OPT_KEY:
        bus->key = arg;
        return true;
    case COMMON_OPT_BROKER:
        bus->broker = arg;
        return true;
    case COMMON_OPT_TIMEOUT:
        bus->timeout = arg;
        return true;
    case COMMON_OPT_VERBOSE:
        bus->verbose = true;
        return true;
    default:
        return false;
    }
}

/* One line saying why fb_client_new() failed, with the likely cause. */
static int s_connect_failed(const char *cmd, const common_bus_t *bus, const char *actor,
                            int timeout_ms, fb_err_t err)
{
    switch (err) {
    case FB_ERR_AUTH:
        return common_fail(cmd, EXIT_UNREACHABLE,
                           "%s: the broker refused the transport key of %s (not registered, or "
                           "revoked?)",
                           bus->endpoint, actor);
    case FB_ERR_TIMEOUT:
        return common_fail(cmd, EXIT_UNREACHABLE,
                           "%s: no answer within %d ms (broker down, or --broker is not its key?)",
                           bus->endpoint, timeout_ms);
    case FB_ERR_INVALID:
        return common_fail(cmd, EXIT_USAGE, "%s: not a valid endpoint", bus->endpoint);
    default:
        return common_fail(cmd, EXIT_UNREACHABLE, "%s: cannot connect: %s", bus->endpoint,
                           fb_err_str(err));
    }
}

int common_connect(const char *cmd, const common_bus_t *bus, fb_client_t **out)
{
    long long timeout = S_DEFAULT_TIMEOUT_MS;
    *out = NULL;
    if (!bus->key)
        return common_fail(cmd, EXIT_USAGE, "no key file: give --key FILE or set FLUXBUS_KEY");
    if (!bus->broker)
        return common_fail(cmd, EXIT_USAGE,
                           "no broker key: give --broker FILE or set FLUXBUS_BROKER_KEY");
    if (bus->timeout && !common_parse_int(cmd, "--timeout", bus->timeout, 1, INT_MAX, &timeout))
        return EXIT_USAGE;

    fb_keys_t keys, broker;
    int rc = common_load_keys(cmd, bus->key, &keys, true);
    if (rc != EXIT_OK)
        return rc;
    rc = common_load_keys(cmd, bus->broker, &broker, false);
    if (rc == EXIT_OK) {
        fb_client_config_t cfg = {
            .endpoint = bus->endpoint,
            .keys = &keys,
            .broker = &broker,
            .timeout_ms = (int)timeout,
            .log = bus->verbose ? fb_log_stderr : NULL,
        };
        fb_err_t err = FB_OK;
        *out = fb_client_new(&cfg, &err);
        if (!*out)
            rc = s_connect_failed(cmd, bus, keys.actor, (int)timeout, err);
    }
    fb_keys_wipe(&keys);
    fb_keys_wipe(&broker);
    return rc;
}

/* ---- output -------------------------------------------------------------- */

json_t *common_json_key(const store_key_t *key)
{
    if (!key)
        return json_null();
    return json_pack("{s:s, s:s, s:o, s:I, s:I, s:I}", "actor", key->actor, "key_id", key->key_id,
                     "public_key_hex", fb_json_hex(key->public_key, sizeof key->public_key),
                     "valid_from_ms", (json_int_t)key->valid_from_ms, "valid_until_ms",
                     (json_int_t)key->valid_until_ms, "revoked_at_ms",
                     (json_int_t)key->revoked_at_ms);
}

bool common_print_json(FILE *out, json_t *json)
{
    int rc = json ? json_dumpf(json, out, JSON_COMPACT) : -1;
    json_decref(json);
    return rc == 0 && fputc('\n', out) != EOF && fflush(out) == 0;
}
