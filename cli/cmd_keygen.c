/* cmd_keygen.c - `fluxbus keygen`: creates an actor's key pairs (Ed25519
 * signing, CURVE transport, X25519 encryption) in FILE (secret, mode 0600)
 * and FILE.pub.
 *
 * Owns only the command line and the rotation rule: with --rotate the new
 * file gets fresh signing and encryption pairs but keeps the transport pair
 * of the old file, because the registry binds an actor to one transport key
 * and a client connects with the keys of one file. The key format and the file
 * modes belong to libfluxbus (fb_keys_save). Never overwrites a file. */
#include <string.h>

#include "common.h"

static const char s_help[] =
    "usage: fluxbus keygen --actor ID --out FILE [--rotate OLD]\n"
    "\n"
    "Generates fresh key pairs for actor ID (Ed25519 signing, CURVE transport,\n"
    "X25519 encryption for sealed household data) and writes FILE (secrets, mode\n"
    "0600) and FILE.pub (public halves, to give to the registry administrator).\n"
    "Refuses to overwrite either file. Prints the key ids and the paths.\n"
    "\n"
    "options:\n"
    "  --actor ID        actor id, e.g. bailleur:552046955 (the broker's: any name)\n"
    "  --out FILE        secret key file to create; FILE.pub is created beside it\n"
    "  --rotate OLD      key rotation: keep the transport key pair of the secret\n"
    "                    key file OLD (same actor), new signing and encryption\n"
    "                    pairs; then register them with fluxbus actor key-add\n"
    "  -h, --help        this help\n";

/* Replaces the transport pair of *keys with the one of the file `old`. */
static int s_keep_transport(fb_keys_t *keys, const char *old)
{
    fb_keys_t prev;
    int rc = common_load_keys("keygen", old, &prev, true);
    if (rc != EXIT_OK)
        return rc;
    if (strcmp(prev.actor, keys->actor) != 0)
        rc = common_fail("keygen", EXIT_INPUT, "%s: is the key of %s, not of %s", old, prev.actor,
                         keys->actor);
    memcpy(keys->curve_pk, prev.curve_pk, sizeof keys->curve_pk);
    memcpy(keys->curve_sk, prev.curve_sk, sizeof keys->curve_sk);
    fb_keys_wipe(&prev);
    return rc;
}

int cmd_keygen(int argc, char **argv)
{
    static const struct option opts[] = {
        {"actor", required_argument, NULL, 'a'},
        {"out", required_argument, NULL, 'o'},
        {"rotate", required_argument, NULL, 'r'},
        COMMON_OPTION_HELP,
        {0},
    };
    const char *actor = NULL, *out = NULL, *old = NULL;
    int c;
    while ((c = common_getopt("keygen", argc, argv, opts)) != -1) {
        switch (c) {
        case 'a':
            actor = optarg;
            break;
        case 'o':
            out = optarg;
            break;
        case 'r':
            old = optarg;
            break;
        case 'h':
            return common_help(s_help, 0);
        default:
            return EXIT_USAGE;
        }
    }
    if (!actor || !out || optind < argc)
        return common_fail("keygen", EXIT_USAGE, "needs --actor ID and --out FILE, nothing else");

    fb_keys_t keys;
    fb_err_t err = fb_keys_generate(&keys, actor);
    if (err == FB_ERR_INVALID)
        return common_fail("keygen", EXIT_USAGE, "--actor: \"%s\" is empty or too long", actor);
    int rc = err == FB_OK
                 ? EXIT_OK
                 : common_fail("keygen", EXIT_INPUT, "cannot generate: %s", fb_err_str(err));
    if (rc == EXIT_OK && old)
        rc = s_keep_transport(&keys, old);
    err = rc == EXIT_OK ? fb_keys_save(&keys, out) : FB_OK;
    if (err == FB_ERR_EXISTS)
        rc = common_fail("keygen", EXIT_INPUT,
                         "%s or %s.pub already exists (refusing to overwrite)", out, out);
    else if (err != FB_OK)
        rc = common_fail("keygen", EXIT_INPUT, "%s: cannot write: %s", out, fb_err_str(err));
    if (rc == EXIT_OK)
        printf("generated actor=%s key_id=%s encrypt_key_id=%s secret=%s public=%s.pub%s\n",
               keys.actor, keys.key_id, keys.enc_key_id, out, out, old ? " transport=kept" : "");
    fb_keys_wipe(&keys);
    return rc;
}
