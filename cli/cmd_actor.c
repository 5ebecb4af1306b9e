/* cmd_actor.c - `fluxbus actor ...`: local administration of the actor
 * registry, straight on the broker's store file (run on the broker host; the
 * broker sees committed changes at its next lookup).
 *
 * Owns: the accepted forms of actor ids, role names and INSEE codes on the
 * command line, and the checks made before a change (the key file belongs to
 * the actor, nothing is registered twice, mandate parties hold the right
 * roles). A key file gives an actor's signing key and, when it has one, its
 * encryption key; both are registered, listed and revoked together. Does not own: SQL and the
 * registry_log rows (store.c), who may send what (router.c).
 *
 * Each subcommand is a row of s_subs: its options, a check step run before
 * the store is opened (so a bad command line never creates a store file) and
 * an apply step. Every change goes through a store_* call with by = the OS
 * user, which the store records in registry_log, and is also told on stderr. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common.h"

/* The option values, then what the check step derives from them. */
typedef struct {
    const char *store, *id, *roles, *territories, *key_file, *valid_until, *key_id, *overlap;
    const char *reservataire, *bailleur;
    bool json;
    char by[64];
    char role_list[STORE_LIST_MAX];
    char territory_list[STORE_LIST_MAX];
    int64_t valid_until_ms; /* 0 = no end */
    int64_t overlap_ms;     /* key-add --overlap: how long the other keys still verify */
    fb_keys_t key;          /* from --key, public halves only */
} s_args_t;

typedef struct {
    const char *name;
    const char *help;
    const struct option *opts;
    const char *required; /* vals of the options that must be given */
    bool creates_store;   /* may create a missing store file */
    int (*check)(const char *cmd, s_args_t *a);
    int (*apply)(const char *cmd, store_t *store, s_args_t *a);
} s_sub_t;

/* clang-format off */
#define O_ID {"id", required_argument, NULL, 'i'}
#define O_ROLE {"role", required_argument, NULL, 'r'}
#define O_KEY {"key", required_argument, NULL, 'k'}
#define O_TERRITORY {"territory", required_argument, NULL, 't'}
#define O_VALID_UNTIL {"valid-until", required_argument, NULL, 'u'}
#define O_KEY_ID {"key-id", required_argument, NULL, 'K'}
#define O_RESERVATAIRE {"reservataire", required_argument, NULL, 'R'}
#define O_BAILLEUR {"bailleur", required_argument, NULL, 'B'}
#define O_JSON {"json", no_argument, NULL, 'j'}
#define O_OVERLAP {"overlap", required_argument, NULL, 'o'}
/* clang-format on */

/* ---- what an actor id, a role, an INSEE code look like ------------------- */

static bool s_is_digits(const char *s, size_t n)
{
    if (strlen(s) != n)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!isdigit((unsigned char)s[i]))
            return false;
    return true;
}

static bool s_is_siren(const char *s)
{
    return s_is_digits(s, 9);
}

/* INSEE commune code: 5 digits, or 2A/2B then 3 digits in Corsica. */
static bool s_is_insee(const char *s)
{
    if (strlen(s) != 5)
        return false;
    bool corsica = s[0] == '2' && (s[1] == 'A' || s[1] == 'B');
    return (corsica || (isdigit((unsigned char)s[0]) && isdigit((unsigned char)s[1]))) &&
           s_is_digits(s + 2, 3);
}

/* [a-z0-9._-]+ */
static bool s_is_slug(const char *s)
{
    if (!*s)
        return false;
    for (; *s; s++)
        if (!(*s >= 'a' && *s <= 'z') && !(*s >= '0' && *s <= '9') && !strchr("._-", *s))
            return false;
    return true;
}

/* The roles, each with the form of the ids of actors of that kind:
 * "<role>:<rest>" with rest checked by `rest`; "sne" alone is accepted too. */
static const struct {
    const char *role;
    bool (*rest)(const char *);
} s_kinds[] = {
    {"bailleur", s_is_siren}, {"reservataire", s_is_slug}, {"commune", s_is_insee},
    {"sne", s_is_slug},       {"observer", s_is_slug},
};
#define S_KINDS (sizeof s_kinds / sizeof s_kinds[0])

static const char s_id_forms[] = "bailleur:<SIREN, 9 digits>, reservataire:<slug>, "
                                 "commune:<INSEE>, sne, sne:<slug> or observer:<slug>; "
                                 "slug = [a-z0-9._-]+";

static bool s_is_role(const char *s)
{
    for (size_t i = 0; i < S_KINDS; i++)
        if (strcmp(s, s_kinds[i].role) == 0)
            return true;
    return false;
}

/* The role an actor id's form names, or NULL if it has none of the forms. */
static const char *s_id_kind(const char *id)
{
    if (strcmp(id, "sne") == 0)
        return "sne";
    const char *colon = strchr(id, ':');
    for (size_t i = 0; colon && i < S_KINDS; i++) {
        size_t n = strlen(s_kinds[i].role);
        if ((size_t)(colon - id) == n && strncmp(id, s_kinds[i].role, n) == 0)
            return s_kinds[i].rest(colon + 1) ? s_kinds[i].role : NULL;
    }
    return NULL;
}

/* Checks the comma-separated list given to `opt`, every item accepted by
 * `valid` (`what` says what it must be), and writes it without duplicates to
 * out (STORE_LIST_MAX bytes). */
static int s_check_list(const char *cmd, const char *opt, const char *text,
                        bool (*valid)(const char *), const char *what, char *out)
{
    char buf[STORE_LIST_MAX];
    out[0] = '\0';
    if (strlen(text) >= sizeof buf)
        return common_fail(cmd, EXIT_USAGE, "%s: list too long", opt);
    memcpy(buf, text, strlen(text) + 1);
    for (char *save = NULL, *item = strtok_r(buf, ",", &save); item;
         item = strtok_r(NULL, ",", &save)) {
        if (!valid(item))
            return common_fail(cmd, EXIT_USAGE, "%s: \"%s\" is not %s", opt, item, what);
        size_t n = strlen(out);
        if (!store_list_has(out, item)) /* out never outgrows text, so it fits */
            snprintf(out + n, STORE_LIST_MAX - n, "%s%s", n ? "," : "", item);
    }
    if (!out[0])
        return common_fail(cmd, EXIT_USAGE, "%s: empty list", opt);
    return EXIT_OK;
}

/* ---- times: ms since the epoch, or ISO 8601 -------------------------------- */

/* Reads exactly n digits at *p (after the character `sep`, unless 0). */
static bool s_digits(const char **p, char sep, int n, int *out)
{
    if (sep && *(*p)++ != sep)
        return false;
    int v = 0;
    for (int i = 0; i < n; i++, (*p)++) {
        if (!isdigit((unsigned char)**p))
            return false;
        v = v * 10 + (**p - '0');
    }
    *out = v;
    return true;
}

/* "1767225599000", "2026-12-31" (00:00 UTC), "2026-12-31T23:59[:59]" (UTC)
 * with an optional "Z" or "+01:00" offset. */
static bool s_parse_time(const char *text, int64_t *out_ms)
{
    char *end = NULL;
    long long ms = strtoll(text, &end, 10);
    if (isdigit((unsigned char)text[0]) && *end == '\0') {
        *out_ms = ms;
        return ms > 0;
    }
    const char *p = text;
    int y, mo, d, h = 0, mi = 0, s = 0, oh = 0, om = 0, sign = 0;
    if (!s_digits(&p, 0, 4, &y) || !s_digits(&p, '-', 2, &mo) || !s_digits(&p, '-', 2, &d))
        return false;
    if (*p == 'T' && (!s_digits(&p, 'T', 2, &h) || !s_digits(&p, ':', 2, &mi) ||
                      (*p == ':' && !s_digits(&p, ':', 2, &s))))
        return false;
    if (*p == 'Z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        sign = *p++ == '-' ? -1 : 1;
        if (!s_digits(&p, 0, 2, &oh) || !s_digits(&p, ':', 2, &om))
            return false;
    }
    struct tm tm = {.tm_year = y - 1900,
                    .tm_mon = mo - 1,
                    .tm_mday = d,
                    .tm_hour = h,
                    .tm_min = mi,
                    .tm_sec = s};
    time_t t = timegm(&tm);
    /* timegm normalises out-of-range fields: a changed field was not a date. */
    if (*p || t == (time_t)-1 || tm.tm_mday != d || tm.tm_mon != mo - 1 || tm.tm_hour != h ||
        tm.tm_min != mi || tm.tm_sec != s || oh > 23 || om > 59)
        return false;
    *out_ms = ((int64_t)t - sign * (oh * 3600 + om * 60)) * 1000;
    return true;
}

/* "2026-12-31T23:59:59Z", or "none" for 0. */
static const char *s_format_time(int64_t ms, char *buf, size_t len)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    if (ms == 0 || !gmtime_r(&t, &tm) || strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        snprintf(buf, len, "none");
    return buf;
}

/* ---- checks before the store is opened ----------------------------------- */

/* Parses --valid-until and loads the public key file of actor a->id. */
/* A duration: digits and a unit s, m, h or d ("7d", "12h", "90s"). */
static bool s_parse_duration(const char *text, int64_t *out_ms)
{
    char *end = NULL;
    long long n = strtoll(text, &end, 10);
    static const struct {
        char unit;
        int64_t ms;
    } units[] = {{'s', 1000}, {'m', 60000}, {'h', 3600000}, {'d', 86400000}};
    if (end == text || n < 0 || n > 3650LL * 24 * 3600 || !end[0] || end[1])
        return false;
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
        if (*end == units[i].unit) {
            *out_ms = n * units[i].ms;
            return true;
        }
    return false;
}

static int s_check_key(const char *cmd, s_args_t *a)
{
    if (a->overlap && !s_parse_duration(a->overlap, &a->overlap_ms))
        return common_fail(cmd, EXIT_USAGE,
                           "--overlap: \"%s\" is not a duration (a number and s, m, h or d: "
                           "7d, 12h)",
                           a->overlap);
    if (a->valid_until && !s_parse_time(a->valid_until, &a->valid_until_ms))
        return common_fail(cmd, EXIT_USAGE,
                           "--valid-until: \"%s\" is neither ms since the epoch nor an ISO 8601 "
                           "date (2026-12-31, 2026-12-31T23:59:59Z)",
                           a->valid_until);
    if (a->valid_until && a->valid_until_ms <= fb_now_ms())
        return common_fail(cmd, EXIT_USAGE, "--valid-until: %s is in the past", a->valid_until);
    int rc = common_load_keys(cmd, a->key_file, &a->key, false);
    if (rc != EXIT_OK)
        return rc;
    if (a->key.has_secret)
        return common_fail(cmd, EXIT_INPUT,
                           "%s: holds secret keys; the registry needs only the .pub file",
                           a->key_file);
    if (strcmp(a->key.actor, a->id) != 0)
        return common_fail(cmd, EXIT_INPUT, "%s: is the key of %s, not of %s", a->key_file,
                           a->key.actor, a->id);
    return EXIT_OK;
}

static int s_check_add(const char *cmd, s_args_t *a)
{
    const char *kind = s_id_kind(a->id);
    if (!kind)
        return common_fail(cmd, EXIT_USAGE, "--id: \"%s\" is not an actor id (%s)", a->id,
                           s_id_forms);
    int rc = s_check_list(cmd, "--role", a->roles, s_is_role,
                          "a role (bailleur, reservataire, commune, sne, observer)", a->role_list);
    if (rc != EXIT_OK)
        return rc;
    if (!store_list_has(a->role_list, kind))
        return common_fail(cmd, EXIT_USAGE, "--role: %s must have the role %s", a->id, kind);
    if (a->territories)
        rc = s_check_list(cmd, "--territory", a->territories, s_is_insee, "an INSEE commune code",
                          a->territory_list);
    else if (strcmp(kind, "commune") == 0) /* a commune's territory is itself */
        snprintf(a->territory_list, sizeof a->territory_list, "%s", strchr(a->id, ':') + 1);
    return rc != EXIT_OK ? rc : s_check_key(cmd, a);
}

/* ---- store helpers --------------------------------------------------------- */

static int s_store_failed(const char *cmd, const char *subject, fb_err_t err)
{
    return common_fail(cmd, common_exit_code(err), "%s: %s", subject, fb_err_str(err));
}

/* Looks key_id up among the signing keys, then the encryption keys; *kind
 * says where it was found ("signing" or "encryption"). */
static fb_err_t s_find_key(store_t *store, const char *key_id, store_key_t *out, const char **kind)
{
    *kind = "signing";
    fb_err_t err = store_key_get(store, key_id, out);
    if (err == FB_ERR_NOT_FOUND) {
        *kind = "encryption";
        err = store_enc_key_get(store, key_id, out);
    }
    return err;
}

/* Fails unless a->key's signing key, and its encryption key if it has one,
 * are new to the registry (a key id names one key, whatever its kind). */
static int s_check_key_is_new(const char *cmd, store_t *store, const s_args_t *a)
{
    const char *ids[2] = {a->key.key_id, a->key.has_enc ? a->key.enc_key_id : NULL};
    for (size_t i = 0; i < 2 && ids[i]; i++) {
        store_key_t old;
        const char *kind = NULL;
        fb_err_t err = s_find_key(store, ids[i], &old, &kind);
        if (err == FB_OK)
            return common_fail(cmd, EXIT_INPUT, "%s: %s key %s is already registered to %s",
                               a->key_file, kind, old.key_id, old.actor);
        if (err != FB_ERR_NOT_FOUND)
            return s_store_failed(cmd, ids[i], err);
    }
    return EXIT_OK;
}

/* Registers one public key of a->key (key_id, pk) with `add`, valid from
 * now; with --overlap through `rotate`, which ends the actor's other keys of
 * that kind when the overlap does. */
static fb_err_t
s_register_key(store_t *store, const s_args_t *a, const char *key_id, const uint8_t pk[32],
               fb_err_t (*add)(store_t *, const store_key_t *, const char *),
               fb_err_t (*rotate)(store_t *, const store_key_t *, int64_t, const char *))
{
    int64_t now = fb_now_ms();
    store_key_t key = {.valid_from_ms = now, .valid_until_ms = a->valid_until_ms};
    snprintf(key.actor, sizeof key.actor, "%s", a->key.actor);
    snprintf(key.key_id, sizeof key.key_id, "%s", key_id);
    memcpy(key.public_key, pk, sizeof key.public_key);
    return a->overlap ? rotate(store, &key, now + a->overlap_ms, a->by) : add(store, &key, a->by);
}

static fb_err_t s_add_signing_key(store_t *store, const s_args_t *a)
{
    return s_register_key(store, a, a->key.key_id, a->key.sign_pk, store_key_add, store_key_rotate);
}

/* Nothing to do for a key file without an encryption pair. */
static fb_err_t s_add_encryption_key(store_t *store, const s_args_t *a)
{
    if (!a->key.has_enc)
        return FB_OK;
    return s_register_key(store, a, a->key.enc_key_id, a->key.enc_pk, store_enc_key_add,
                          store_enc_key_rotate);
}

/* Both keys of a->key (see s_add_signing_key, s_add_encryption_key), in two
 * transactions. `added` says what was done before (NULL: nothing); on
 * failure the message says precisely what is missing. */
static int s_add_keys(const char *cmd, store_t *store, const s_args_t *a, const char *added)
{
    const char *enc = a->key.has_enc ? a->key.enc_key_id : "-";
    fb_err_t err = s_add_signing_key(store, a);
    if (err != FB_OK && !added)
        return s_store_failed(cmd, a->key.key_id, err);
    if (err != FB_OK)
        return common_fail(cmd, common_exit_code(err),
                           "%s, but not its signing key %s nor its encryption key %s: %s (add "
                           "them with fluxbus actor key-add)",
                           added, a->key.key_id, enc, fb_err_str(err));
    err = s_add_encryption_key(store, a);
    if (err != FB_OK)
        return common_fail(cmd, common_exit_code(err),
                           "signing key %s of %s was added, but not its encryption key %s: %s "
                           "(make a new key file with fluxbus keygen --rotate and key-add it)",
                           a->key.key_id, a->id, enc, fb_err_str(err));
    return EXIT_OK;
}

/* Gets an active actor that holds `role`. */
static int s_get_active(const char *cmd, store_t *store, const char *id, const char *role,
                        store_actor_t *out)
{
    fb_err_t err = store_actor_get(store, id, out);
    if (err != FB_OK)
        return s_store_failed(cmd, id, err);
    if (out->revoked_at_ms)
        return common_fail(cmd, EXIT_INPUT, "%s is revoked", id);
    if (role && !store_list_has(out->roles, role))
        return common_fail(cmd, EXIT_INPUT, "%s does not have the role %s (roles: %s)", id, role,
                           out->roles);
    return EXIT_OK;
}

/* ---- add ----------------------------------------------------------------- */

static const char s_add_help[] =
    "usage: fluxbus actor add --store DB --id ACTOR --role R[,R...] --key FILE.pub\n"
    "                         [--territory INSEE[,INSEE...]] [--valid-until TIME]\n"
    "\n"
    "Registers an actor: its roles, territories and transport (CURVE) key, its\n"
    "signing key and, when the key file has one, its encryption key (X25519, for\n"
    "household data sealed for it), both valid from now. All come from the\n"
    "actor's public key file, whose actor must be ACTOR.\n"
    "\n"
    "options:\n"
    "  --id ACTOR        bailleur:<SIREN>, reservataire:<slug>, commune:<INSEE>, sne,\n"
    "                    sne:<slug> or observer:<slug> (slug = [a-z0-9._-]+)\n"
    "  --role R,...      among bailleur, reservataire, commune, sne, observer; must\n"
    "                    include the kind of the id (a commune may also be\n"
    "                    reservataire)\n"
    "  --key FILE.pub    the actor's public key file (from fluxbus keygen)\n"
    "  --territory LIST  INSEE codes of its territory (default for commune:<INSEE>:\n"
    "                    that INSEE code)\n"
    "  --valid-until T   end of the keys' validity: ms since the epoch, or ISO 8601,\n"
    "                    UTC unless an offset is given (2026-12-31 is 00:00 UTC;\n"
    "                    2026-12-31T18:00:00+01:00)\n"
    "  -h, --help        this help\n";

static int s_add(const char *cmd, store_t *store, s_args_t *a)
{
    store_actor_t actor;
    fb_err_t err = store_actor_get(store, a->id, &actor);
    if (err == FB_OK)
        return common_fail(cmd, EXIT_INPUT, "%s is already registered", a->id);
    if (err == FB_ERR_NOT_FOUND)
        err = store_actor_by_transport_key(store, a->key.curve_pk, &actor);
    if (err == FB_OK)
        return common_fail(cmd, EXIT_INPUT, "%s: its transport key is already registered to %s",
                           a->key_file, actor.id);
    if (err != FB_ERR_NOT_FOUND)
        return s_store_failed(cmd, a->id, err);
    int rc = s_check_key_is_new(cmd, store, a);
    if (rc != EXIT_OK)
        return rc;

    memset(&actor, 0, sizeof actor);
    snprintf(actor.id, sizeof actor.id, "%s", a->id);
    snprintf(actor.roles, sizeof actor.roles, "%s", a->role_list);
    snprintf(actor.territories, sizeof actor.territories, "%s", a->territory_list);
    memcpy(actor.transport_key, a->key.curve_pk, sizeof actor.transport_key);
    actor.created_at_ms = fb_now_ms();
    err = store_actor_add(store, &actor, a->by);
    if (err != FB_OK)
        return s_store_failed(cmd, a->id, err);
    /* Separate store transactions: say precisely what is left if one fails. */
    char done[FB_ACTOR_MAX + 32];
    snprintf(done, sizeof done, "%s was added", a->id);
    rc = s_add_keys(cmd, store, a, done);
    if (rc != EXIT_OK)
        return rc;
    char until[32];
    common_note(cmd,
                "added %s roles=%s territories=%s key_id=%s encrypt_key_id=%s valid_until=%s by=%s",
                a->id, a->role_list, a->territory_list[0] ? a->territory_list : "-", a->key.key_id,
                a->key.has_enc ? a->key.enc_key_id : "-",
                s_format_time(a->valid_until_ms, until, sizeof until), a->by);
    return EXIT_OK;
}

/* ---- list ---------------------------------------------------------------- */

static const char s_list_help[] =
    "usage: fluxbus actor list --store DB [--json]\n"
    "\n"
    "Lists the registered actors: id, roles, territories, state (active or revoked),\n"
    "signing key ids and encryption key ids, each followed by its state when it is\n"
    "not active (revoked, expired, or future).\n"
    "\n"
    "options:\n"
    "  --json            one JSON object per actor and line instead of the table\n"
    "  -h, --help        this help\n";

/* The signing or the encryption keys of one actor, as listed. */
typedef struct {
    char text[1024]; /* "kid,kid(revoked)" */
    json_t *json;
} s_key_col_t;

typedef struct {
    store_actor_t actor;
    s_key_col_t keys, enc_keys;
} s_row_t;

typedef struct {
    s_row_t *rows;
    size_t n, cap;
    bool nomem;
} s_rows_t;

static void s_on_actor(void *ctx, const store_actor_t *actor)
{
    s_rows_t *t = ctx;
    if (t->n == t->cap) {
        size_t cap = t->cap ? 2 * t->cap : 16;
        s_row_t *rows = realloc(t->rows, cap * sizeof *rows);
        if (!rows) {
            t->nomem = true;
            return;
        }
        t->rows = rows;
        t->cap = cap;
    }
    s_row_t *row = &t->rows[t->n++];
    row->actor = *actor;
    row->keys.text[0] = row->enc_keys.text[0] = '\0';
    row->keys.json = json_array();
    row->enc_keys.json = json_array();
}

static const char *s_key_state(const store_key_t *k, int64_t now)
{
    if (k->revoked_at_ms)
        return "revoked";
    if (k->valid_until_ms && k->valid_until_ms <= now)
        return "expired";
    return k->valid_from_ms > now ? "future" : "active";
}

static void s_on_key(void *ctx, const store_key_t *k)
{
    s_key_col_t *col = ctx;
    const char *state = s_key_state(k, fb_now_ms());
    bool active = strcmp(state, "active") == 0;
    size_t n = strlen(col->text);
    snprintf(col->text + n, sizeof col->text - n, "%s%s%s%s%s", n ? "," : "", k->key_id,
             active ? "" : "(", active ? "" : state, active ? "" : ")");
    json_t *json = common_json_key(k);
    json_object_set_new(json, "state", json_string(state));
    json_array_append_new(col->json, json);
}

/* JSON array of the items of a comma-separated list. */
static json_t *s_json_list(const char *list)
{
    json_t *array = json_array();
    for (const char *p = list; p && *p;) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        json_array_append_new(array, json_stringn(p, len));
        p = end ? end + 1 : NULL;
    }
    return array;
}

static bool s_print_row_json(const s_row_t *row)
{
    const store_actor_t *ac = &row->actor;
    return common_print_json(
        stdout,
        json_pack("{s:s, s:o, s:o, s:s, s:o, s:I, s:I, s:O, s:O}", "id", ac->id, "roles",
                  s_json_list(ac->roles), "territories", s_json_list(ac->territories), "state",
                  ac->revoked_at_ms ? "revoked" : "active", "transport_key_hex",
                  fb_json_hex(ac->transport_key, sizeof ac->transport_key), "created_at_ms",
                  (json_int_t)ac->created_at_ms, "revoked_at_ms", (json_int_t)ac->revoked_at_ms,
                  "keys", row->keys.json, "encryption_keys", row->enc_keys.json));
}

static void s_print_table(const s_rows_t *t)
{
    int w_id = 2, w_roles = 5, w_terr = 11;
    for (size_t i = 0; i < t->n; i++) {
        const store_actor_t *ac = &t->rows[i].actor;
        w_id = (int)strlen(ac->id) > w_id ? (int)strlen(ac->id) : w_id;
        w_roles = (int)strlen(ac->roles) > w_roles ? (int)strlen(ac->roles) : w_roles;
        w_terr = (int)strlen(ac->territories) > w_terr ? (int)strlen(ac->territories) : w_terr;
    }
    int w_keys = 4;
    for (size_t i = 0; i < t->n; i++)
        if ((int)strlen(t->rows[i].keys.text) > w_keys)
            w_keys = (int)strlen(t->rows[i].keys.text);
    printf("%-*s  %-*s  %-*s  %-7s  %-*s  %s\n", w_id, "ID", w_roles, "ROLES", w_terr,
           "TERRITORIES", "STATE", w_keys, "KEYS", "ENCRYPTION KEYS");
    for (size_t i = 0; i < t->n; i++) {
        const s_row_t *row = &t->rows[i];
        printf("%-*s  %-*s  %-*s  %-7s  %-*s  %s\n", w_id, row->actor.id, w_roles, row->actor.roles,
               w_terr, row->actor.territories[0] ? row->actor.territories : "-",
               row->actor.revoked_at_ms ? "revoked" : "active", w_keys,
               row->keys.text[0] ? row->keys.text : "-",
               row->enc_keys.text[0] ? row->enc_keys.text : "-");
    }
}

static int s_list(const char *cmd, store_t *store, s_args_t *a)
{
    s_rows_t t = {0};
    fb_err_t err = store_actor_each(store, s_on_actor, &t);
    for (size_t i = 0; err == FB_OK && i < t.n; i++) {
        err = store_key_each(store, t.rows[i].actor.id, s_on_key, &t.rows[i].keys);
        if (err == FB_OK)
            err = store_enc_key_each(store, t.rows[i].actor.id, s_on_key, &t.rows[i].enc_keys);
    }
    if (err == FB_OK && t.nomem)
        err = FB_ERR_NOMEM;
    int rc = err == FB_OK ? EXIT_OK : s_store_failed(cmd, a->store, err);
    if (rc == EXIT_OK && !a->json)
        s_print_table(&t);
    for (size_t i = 0; i < t.n; i++) {
        if (rc == EXIT_OK && a->json && !s_print_row_json(&t.rows[i]))
            rc = common_fail(cmd, EXIT_INPUT, "cannot write the output");
        json_decref(t.rows[i].keys.json);
        json_decref(t.rows[i].enc_keys.json);
    }
    free(t.rows);
    return rc;
}

/* ---- revoke -------------------------------------------------------------- */

static const char s_revoke_help[] =
    "usage: fluxbus actor revoke --store DB --id ACTOR\n"
    "\n"
    "Revokes an actor and every signing and encryption key it holds: the broker\n"
    "refuses its connections and its messages from then on, and nothing can be\n"
    "sealed for it any more. Already revoked: nothing changes.\n"
    "\n"
    "options:\n"
    "  --id ACTOR        the actor to revoke\n"
    "  -h, --help        this help\n";

typedef struct {
    char (*ids)[FB_KEY_ID_CHARS + 1];
    size_t n, cap;
    size_t n_signing; /* ids[0..n_signing) are signing keys, the rest encryption keys */
    bool nomem;
} s_key_ids_t;

/* Collects the ids of the keys not revoked yet. */
static void s_on_live_key(void *ctx, const store_key_t *k)
{
    s_key_ids_t *keys = ctx;
    if (k->revoked_at_ms)
        return;
    if (keys->n == keys->cap) {
        size_t cap = keys->cap ? 2 * keys->cap : 8;
        void *ids = realloc(keys->ids, cap * sizeof *keys->ids);
        if (!ids) {
            keys->nomem = true;
            return;
        }
        keys->ids = ids;
        keys->cap = cap;
    }
    snprintf(keys->ids[keys->n++], sizeof keys->ids[0], "%s", k->key_id);
}

static int s_revoke(const char *cmd, store_t *store, s_args_t *a)
{
    store_actor_t actor;
    s_key_ids_t keys = {0};
    int64_t now = fb_now_ms();
    fb_err_t err = store_actor_get(store, a->id, &actor);
    /* Keys are listed before any change: no write under an open read. */
    if (err == FB_OK)
        err = store_key_each(store, a->id, s_on_live_key, &keys);
    keys.n_signing = keys.n;
    if (err == FB_OK)
        err = store_enc_key_each(store, a->id, s_on_live_key, &keys);
    if (err == FB_OK && keys.nomem)
        err = FB_ERR_NOMEM;
    if (err == FB_OK && !actor.revoked_at_ms)
        err = store_actor_revoke(store, a->id, now, a->by);
    char done[1024] = "";
    for (size_t i = 0; err == FB_OK && i < keys.n; i++) {
        err = i < keys.n_signing ? store_key_revoke(store, keys.ids[i], now, a->by)
                                 : store_enc_key_revoke(store, keys.ids[i], now, a->by);
        size_t n = strlen(done);
        snprintf(done + n, sizeof done - n, "%s%s", n ? "," : "", keys.ids[i]);
    }
    free(keys.ids);
    if (err != FB_OK)
        return s_store_failed(cmd, a->id, err);
    if (actor.revoked_at_ms && !done[0])
        common_note(cmd, "%s was already revoked, with all its keys", a->id);
    else
        common_note(cmd, "revoked %s keys=%s by=%s", a->id, done[0] ? done : "-", a->by);
    return EXIT_OK;
}

/* ---- key-add, key-revoke ------------------------------------------------- */

static const char s_key_add_help[] =
    "usage: fluxbus actor key-add --store DB --id ACTOR --key FILE.pub\n"
    "                             [--valid-until TIME] [--overlap DURATION]\n"
    "\n"
    "Adds the signing key and, when the file has one, the encryption key of\n"
    "FILE.pub to an active actor, valid from now. Key rotation:\n"
    "  fluxbus keygen --actor ACTOR --out new.key --rotate old.key   (actor's host)\n"
    "  fluxbus actor key-add --id ACTOR --key new.key.pub --overlap 7d (broker host)\n"
    "then switch the actor to new.key within the overlap: both keys verify during\n"
    "it, after it the old keys (signing and encryption) are refused. Without\n"
    "--overlap the old keys stay valid until you key-revoke them. From then on\n"
    "the broker hands out the newest encryption key to those who seal for ACTOR.\n"
    "The registered transport (CURVE) key does not change, which is why --rotate\n"
    "keeps it in the new file.\n"
    "\n"
    "options:\n"
    "  --id ACTOR        the actor the key is for (the key file's actor)\n"
    "  --key FILE.pub    public key file holding the new keys\n"
    "  --valid-until T   end of validity: ms since the epoch, or ISO 8601 (UTC\n"
    "                    unless an offset is given)\n"
    "  --overlap D       end the actor's other signing and encryption keys after D\n"
    "                    (s, m, h, d: 7d, 12h); keys that end sooner keep their end\n"
    "  -h, --help        this help\n";

static int s_key_add(const char *cmd, store_t *store, s_args_t *a)
{
    store_actor_t actor;
    int rc = s_get_active(cmd, store, a->id, NULL, &actor);
    if (rc == EXIT_OK)
        rc = s_check_key_is_new(cmd, store, a);
    if (rc != EXIT_OK)
        return rc;
    rc = s_add_keys(cmd, store, a, NULL);
    if (rc != EXIT_OK)
        return rc;
    char until[32];
    common_note(cmd, "added key_id=%s encrypt_key_id=%s to %s valid_until=%s by=%s", a->key.key_id,
                a->key.has_enc ? a->key.enc_key_id : "-", a->id,
                s_format_time(a->valid_until_ms, until, sizeof until), a->by);
    if (a->overlap)
        common_note(cmd, "%s's other keys are valid until %s, then are refused", a->id,
                    s_format_time(fb_now_ms() + a->overlap_ms, until, sizeof until));
    if (memcmp(actor.transport_key, a->key.curve_pk, sizeof actor.transport_key) != 0)
        common_note(cmd,
                    "note: %s has another transport key than the registered one, so %s "
                    "cannot connect with it (make rotated key files with fluxbus keygen --rotate)",
                    a->key_file, a->id);
    return EXIT_OK;
}

static const char s_key_revoke_help[] =
    "usage: fluxbus actor key-revoke --store DB --key-id KID\n"
    "\n"
    "Revokes one key, signing or encryption: messages signed with a revoked\n"
    "signing key are refused from now on; a revoked encryption key is no longer\n"
    "handed out, and Designations sealed for it are refused. Already revoked:\n"
    "nothing changes.\n"
    "\n"
    "options:\n"
    "  --key-id KID      the key id (16 hex digits, see fluxbus actor list)\n"
    "  -h, --help        this help\n";

static int s_key_revoke(const char *cmd, store_t *store, s_args_t *a)
{
    store_key_t key;
    const char *kind = NULL;
    fb_err_t err = s_find_key(store, a->key_id, &key, &kind);
    if (err == FB_OK && key.revoked_at_ms) {
        common_note(cmd, "%s key %s of %s was already revoked", kind, key.key_id, key.actor);
        return EXIT_OK;
    }
    if (err == FB_OK)
        err = strcmp(kind, "signing") == 0
                  ? store_key_revoke(store, a->key_id, fb_now_ms(), a->by)
                  : store_enc_key_revoke(store, a->key_id, fb_now_ms(), a->by);
    if (err != FB_OK)
        return s_store_failed(cmd, a->key_id, err);
    common_note(cmd, "revoked %s key_id=%s of %s by=%s", kind, key.key_id, key.actor, a->by);
    return EXIT_OK;
}

/* ---- mandate ------------------------------------------------------------- */

static const char s_mandate_help[] =
    "usage: fluxbus actor mandate --store DB --reservataire R --bailleur B\n"
    "\n"
    "Records that réservataire R delegates the designation of candidates on its\n"
    "contingent to bailleur B (gestion déléguée): B may then send Designation\n"
    "messages for R.\n"
    "\n"
    "options:\n"
    "  --reservataire R  an active actor with the role reservataire\n"
    "  --bailleur B      an active actor with the role bailleur\n"
    "  -h, --help        this help\n";

static int s_mandate(const char *cmd, store_t *store, s_args_t *a)
{
    store_actor_t actor;
    int rc = s_get_active(cmd, store, a->reservataire, "reservataire", &actor);
    if (rc == EXIT_OK)
        rc = s_get_active(cmd, store, a->bailleur, "bailleur", &actor);
    if (rc != EXIT_OK)
        return rc;
    if (store_mandate_exists(store, a->reservataire, a->bailleur))
        return common_fail(cmd, EXIT_INPUT, "%s already mandates %s", a->reservataire, a->bailleur);
    fb_err_t err = store_mandate_add(store, a->reservataire, a->bailleur, a->by);
    if (err != FB_OK)
        return s_store_failed(cmd, a->reservataire, err);
    common_note(cmd, "%s mandates %s (gestion deleguee) by=%s", a->reservataire, a->bailleur,
                a->by);
    return EXIT_OK;
}

/* ---- the table and its runner ---------------------------------------------- */

static const struct option s_add_opts[] = {
    COMMON_OPTION_STORE, O_ID, O_ROLE, O_KEY, O_TERRITORY, O_VALID_UNTIL, COMMON_OPTION_HELP, {0}};
static const struct option s_list_opts[] = {COMMON_OPTION_STORE, O_JSON, COMMON_OPTION_HELP, {0}};
static const struct option s_revoke_opts[] = {COMMON_OPTION_STORE, O_ID, COMMON_OPTION_HELP, {0}};
static const struct option s_key_add_opts[] = {
    COMMON_OPTION_STORE, O_ID, O_KEY, O_VALID_UNTIL, O_OVERLAP, COMMON_OPTION_HELP, {0}};
static const struct option s_key_revoke_opts[] = {
    COMMON_OPTION_STORE, O_KEY_ID, COMMON_OPTION_HELP, {0}};
static const struct option s_mandate_opts[] = {
    COMMON_OPTION_STORE, O_RESERVATAIRE, O_BAILLEUR, COMMON_OPTION_HELP, {0}};

static const s_sub_t s_subs[] = {
    {"add", s_add_help, s_add_opts, "irk", true, s_check_add, s_add},
    {"list", s_list_help, s_list_opts, "", false, NULL, s_list},
    {"revoke", s_revoke_help, s_revoke_opts, "i", false, NULL, s_revoke},
    {"key-add", s_key_add_help, s_key_add_opts, "ik", false, s_check_key, s_key_add},
    {"key-revoke", s_key_revoke_help, s_key_revoke_opts, "K", false, NULL, s_key_revoke},
    {"mandate", s_mandate_help, s_mandate_opts, "RB", false, NULL, s_mandate},
};

/* Where option `opt` is kept in *a (NULL for a flag or an unknown val). */
static const char **s_slot(s_args_t *a, int opt)
{
    switch (opt) {
    case COMMON_OPT_STORE:
        return &a->store;
    case 'i':
        return &a->id;
    case 'r':
        return &a->roles;
    case 'k':
        return &a->key_file;
    case 't':
        return &a->territories;
    case 'u':
        return &a->valid_until;
    case 'K':
        return &a->key_id;
    case 'o':
        return &a->overlap;
    case 'R':
        return &a->reservataire;
    case 'B':
        return &a->bailleur;
    default:
        return NULL;
    }
}

static const char *s_opt_name(const struct option *opts, int val)
{
    for (; opts->name; opts++)
        if (opts->val == val)
            return opts->name;
    return "?";
}

/* Parses the options of `sub`, checks them, then applies it to the store. */
static int s_run(const s_sub_t *sub, int argc, char **argv)
{
    char cmd[32];
    snprintf(cmd, sizeof cmd, "actor %s", sub->name);
    s_args_t a = {.store = common_store_default()};
    int c;
    while ((c = common_getopt(cmd, argc, argv, sub->opts)) != -1) {
        const char **slot = s_slot(&a, c);
        if (c == 'h')
            return common_help(sub->help, COMMON_HELP_STORE);
        if (c == 'j')
            a.json = true;
        else if (slot)
            *slot = optarg;
        else
            return EXIT_USAGE;
    }
    if (optind < argc)
        return common_fail(cmd, EXIT_USAGE, "unexpected argument \"%s\"", argv[optind]);
    for (const char *r = sub->required; *r; r++)
        if (!*s_slot(&a, *r))
            return common_fail(cmd, EXIT_USAGE, "missing --%s (see fluxbus %s --help)",
                               s_opt_name(sub->opts, *r), cmd);
    common_os_user(a.by, sizeof a.by);
    int rc = sub->check ? sub->check(cmd, &a) : EXIT_OK;
    if (rc == EXIT_OK) {
        store_t *store = common_store_open(cmd, a.store, !sub->creates_store);
        rc = store ? sub->apply(cmd, store, &a) : EXIT_STORE;
        store_destroy(&store);
    }
    fb_keys_wipe(&a.key);
    return rc;
}

/* Runs the subcommand named argv[0], as common_dispatch found it. */
static int s_run_named(int argc, char **argv)
{
    for (size_t i = 0; i < sizeof s_subs / sizeof s_subs[0]; i++)
        if (strcmp(s_subs[i].name, argv[0]) == 0)
            return s_run(&s_subs[i], argc, argv);
    return common_fail("actor", EXIT_USAGE, "unknown command \"%s\"", argv[0]);
}

static const common_command_t s_commands[] = {
    {"add", s_run_named, "register an actor and its first signing and encryption keys"},
    {"list", s_run_named, "list actors, roles, territories, state and keys"},
    {"revoke", s_run_named, "revoke an actor and all its keys"},
    {"key-add", s_run_named, "add signing and encryption keys to an actor (rotation)"},
    {"key-revoke", s_run_named, "revoke one signing or encryption key"},
    {"mandate", s_run_named, "record a gestion deleguee mandate (reservataire -> bailleur)"},
    {NULL, NULL, NULL},
};

static const char s_help[] =
    "usage: fluxbus actor COMMAND --store DB [OPTIONS]\n"
    "\n"
    "Administers the actor registry directly in the broker's store file; run it\n"
    "on the broker host. Each change is recorded in the store's registry_log with\n"
    "the OS user, and told on stderr. --store defaults to $FLUXBUS_STORE, else\n"
    "fluxbus.db.\n";

int cmd_actor(int argc, char **argv)
{
    return common_dispatch("actor", s_help, s_commands, argc, argv);
}
