/* common.h - what every `fluxbus` command shares: exit codes, one-line error
 * reporting, option parsing, help layout, opening the store, loading keys
 * and connecting to the broker.
 *
 * Each command lives in its own cmd_<name>.c and exposes one entry point,
 * int cmd_<name>(int argc, char **argv), where argv[0] is the command's own
 * name. Commands print results on stdout and errors on stderr as one line
 * "fluxbus <command>: <what>: <why>", and return one of the exit codes
 * below. */
#ifndef FLUXBUS_CLI_COMMON_H
#define FLUXBUS_CLI_COMMON_H

#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "fluxbus/fluxbus.h"
#include "store.h"

/* The documented exit codes (printed by every --help). */
enum {
    EXIT_OK = 0,
    EXIT_USAGE = 1,       /* bad command line */
    EXIT_INPUT = 2,       /* bad file, JSON, key, or registry entry; broken audit chain */
    EXIT_REFUSED = 3,     /* the broker refused (Nack, refused subscription) */
    EXIT_UNREACHABLE = 4, /* cannot reach the broker, timeout, transport key refused */
    EXIT_STORE = 5,       /* the store could not be opened, read or written */
};

/* ---- the commands (one file each) ---- */
int cmd_keygen(int argc, char **argv);
int cmd_actor(int argc, char **argv);
int cmd_send(int argc, char **argv);
int cmd_tail(int argc, char **argv);
int cmd_subscribe(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_audit(int argc, char **argv);
int cmd_retention(int argc, char **argv);
int cmd_ledger(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_report_bilan(int argc, char **argv);
int cmd_refdata(int argc, char **argv);

/* A named command of a dispatch table; tables end with a {NULL} entry. */
typedef struct {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} common_command_t;

/* Runs the subcommand named argv[1] from `cmds` with argv shifted by one.
 * `who` names the dispatcher in messages ("actor"; NULL for the top level).
 * No subcommand or an unknown one is a usage error; "--help", "-h" and
 * "help" print `head`, the table and the exit codes. */
int common_dispatch(const char *who, const char *head, const common_command_t *cmds, int argc,
                    char **argv);

/* ---- messages and help ---- */

/* Prints "fluxbus <cmd>: <message>" on stderr (cmd may be NULL) and returns
 * `code`, so callers can write `return common_fail(...)`. */
int common_fail(const char *cmd, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Prints "fluxbus <cmd>: <message>" on stderr: what a command changed. */
void common_note(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Flags of common_help(): which shared option blocks to print. */
#define COMMON_HELP_STORE 1u /* --store */
#define COMMON_HELP_BUS 2u   /* --endpoint, --key, --broker, --timeout, --verbose */

/* Prints `text`, the shared option blocks named by `flags` and the exit
 * codes on stdout. Returns EXIT_OK. */
int common_help(const char *text, unsigned flags);

/* Exit code for a library error met outside a broker answer: transport
 * errors give EXIT_UNREACHABLE, FB_ERR_STORE gives EXIT_STORE, the rest
 * EXIT_INPUT. */
int common_exit_code(fb_err_t err);

/* ---- options ---- */

/* `val` of the shared long options (above any character). */
enum {
    COMMON_OPT_STORE = 0x100,
    COMMON_OPT_ENDPOINT,
    COMMON_OPT_KEY,
    COMMON_OPT_BROKER,
    COMMON_OPT_TIMEOUT,
    COMMON_OPT_VERBOSE,
};

/* Entries of a `struct option` table; clang-format mangles braces in macros. */
/* clang-format off */
#define COMMON_OPTION_HELP {"help", no_argument, NULL, 'h'}
#define COMMON_OPTION_STORE {"store", required_argument, NULL, COMMON_OPT_STORE}
#define COMMON_OPTIONS_BUS                                          \
    {"endpoint", required_argument, NULL, COMMON_OPT_ENDPOINT},     \
    {"key", required_argument, NULL, COMMON_OPT_KEY},               \
    {"broker", required_argument, NULL, COMMON_OPT_BROKER},         \
    {"timeout", required_argument, NULL, COMMON_OPT_TIMEOUT},       \
    {"verbose", no_argument, NULL, COMMON_OPT_VERBOSE}
/* clang-format on */

/* getopt_long() over `opts` (plus -h), reporting an unknown option or a
 * missing value itself as one line. Returns the option's val, -1 at the end
 * of the options, or '?' after such an error (exit with EXIT_USAGE). */
int common_getopt(const char *cmd, int argc, char **argv, const struct option *opts);

/* Parses a decimal integer in [min, max] given to option `opt`; on error
 * prints why and returns false. */
bool common_parse_int(const char *cmd, const char *opt, const char *text, long long min,
                      long long max, long long *out);

/* The value of environment variable `name` if set and not empty, else dflt. */
const char *common_env_or(const char *name, const char *dflt);

/* ---- the store (local administration) ---- */

/* Default store path: $FLUXBUS_STORE, else "fluxbus.db". */
const char *common_store_default(void);

/* Opens the store at `path`; when must_exist, a missing file is an error
 * rather than a new empty store. Returns NULL after printing why. */
store_t *common_store_open(const char *cmd, const char *path, bool must_exist);

/* Who makes a registry change: the OS user name, or the uid in decimal. */
const char *common_os_user(char *buf, size_t len);

/* ---- keys and the bus ---- */

/* Loads the key file at `path`. need_secret: the file must hold the secret
 * halves (own key); otherwise either file will do. Returns EXIT_OK, or an
 * exit code after printing why. */
int common_load_keys(const char *cmd, const char *path, fb_keys_t *keys, bool need_secret);

/* The shared options of the commands that talk to a broker. */
typedef struct {
    const char *endpoint; /* --endpoint, $FLUXBUS_ENDPOINT, tcp://127.0.0.1:5770 */
    const char *key;      /* --key, $FLUXBUS_KEY: own secret key file */
    const char *broker;   /* --broker, $FLUXBUS_BROKER_KEY: broker's public key file */
    const char *timeout;  /* --timeout MS, checked by common_connect */
    bool verbose;         /* --verbose: library log lines on stderr */
} common_bus_t;

/* Fills *bus with the defaults from the environment. */
void common_bus_init(common_bus_t *bus);

/* Applies option `opt` if it is one of COMMON_OPTIONS_BUS; false otherwise. */
bool common_bus_option(common_bus_t *bus, int opt, const char *arg);

/* Loads the own and broker keys of *bus and connects. On success *out is the
 * client (fb_client_destroy it) and EXIT_OK is returned; otherwise an exit
 * code, after printing why. */
int common_connect(const char *cmd, const common_bus_t *bus, fb_client_t **out);

/* ---- output ---- */

/* JSON object of a registered signing key: actor, key_id, public_key_hex,
 * valid_from_ms, valid_until_ms, revoked_at_ms (json_null() for NULL). */
json_t *common_json_key(const store_key_t *key);

/* Writes `json` compactly on one line of `out` and releases it (steals the
 * reference). Returns false if the write failed. */
bool common_print_json(FILE *out, json_t *json);

#endif
