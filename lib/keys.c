/* keys.c - key pairs of an actor and their text files.
 *
 * Owns: generation (libsodium), key ids, the key file format, and the rule
 * that a file holding secrets is private (mode 0600, refused otherwise).
 * Invariant: secrets never outlive an error path: buffers that held them are
 * wiped with sodium_memzero before returning. */
#include "fluxbus/keys.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

void fb_hex_encode(const uint8_t *in, size_t n, char *out)
{
    sodium_bin2hex(out, 2 * n + 1, in, n);
}

fb_err_t fb_hex_decode(const char *hex, uint8_t *out, size_t n)
{
    size_t got = 0;
    const char *end = NULL;
    if (strlen(hex) != 2 * n)
        return FB_ERR_PARSE;
    if (sodium_hex2bin(out, n, hex, 2 * n, NULL, &got, &end) != 0 || got != n || *end != '\0')
        return FB_ERR_PARSE;
    return FB_OK;
}

void fb_key_id(const uint8_t pk[FB_SIGN_PK_BYTES], char out[FB_KEY_ID_CHARS + 1])
{
    uint8_t digest[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(digest, pk, FB_SIGN_PK_BYTES);
    fb_hex_encode(digest, FB_KEY_ID_CHARS / 2, out);
}

void fb_keys_wipe(fb_keys_t *keys)
{
    if (keys)
        sodium_memzero(keys, sizeof *keys);
}

static fb_err_t s_set_actor(fb_keys_t *keys, const char *actor)
{
    size_t n = actor ? strlen(actor) : 0;
    if (n == 0 || n >= FB_ACTOR_MAX)
        return FB_ERR_INVALID;
    memcpy(keys->actor, actor, n + 1);
    return FB_OK;
}

fb_err_t fb_keys_generate(fb_keys_t *keys, const char *actor)
{
    memset(keys, 0, sizeof *keys);
    if (sodium_init() < 0)
        return FB_ERR_IO;
    fb_err_t rc = s_set_actor(keys, actor);
    if (rc != FB_OK)
        return rc;
    crypto_sign_keypair(keys->sign_pk, keys->sign_sk);
    crypto_box_keypair(keys->curve_pk, keys->curve_sk);
    fb_key_id(keys->sign_pk, keys->key_id);
    keys->has_secret = true;
    return FB_OK;
}

/* Writes the lines of a key file to f; secrets only if with_secret. */
static void s_write_lines(FILE *f, const fb_keys_t *keys, int with_secret)
{
    char hex[2 * FB_SIGN_SK_BYTES + 1];
    fprintf(f, "# fluxbus key file%s\n",
            with_secret ? " - SECRET: keep it mode 0600" : " (public)");
    fprintf(f, "actor = %s\n", keys->actor);
    fprintf(f, "key_id = %s\n", keys->key_id);
    fb_hex_encode(keys->sign_pk, FB_SIGN_PK_BYTES, hex);
    fprintf(f, "sign_public = %s\n", hex);
    fb_hex_encode(keys->curve_pk, FB_CURVE_KEY_BYTES, hex);
    fprintf(f, "curve_public = %s\n", hex);
    if (with_secret) {
        fb_hex_encode(keys->sign_sk, FB_SIGN_SK_BYTES, hex);
        fprintf(f, "sign_secret = %s\n", hex);
        fb_hex_encode(keys->curve_sk, FB_CURVE_KEY_BYTES, hex);
        fprintf(f, "curve_secret = %s\n", hex);
    }
    sodium_memzero(hex, sizeof hex);
}

static fb_err_t s_write_file(const char *path, mode_t mode, const fb_keys_t *keys, int with_secret)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
    if (fd < 0)
        return errno == EEXIST ? FB_ERR_EXISTS : FB_ERR_IO;
    /* The umask may have removed bits, never added any; set them exactly. */
    if (fchmod(fd, mode) != 0) {
        close(fd);
        unlink(path);
        return FB_ERR_IO;
    }
    FILE *f = fdopen(fd, "w");
    if (!f) {
        close(fd);
        unlink(path);
        return FB_ERR_IO;
    }
    s_write_lines(f, keys, with_secret);
    int failed = fflush(f) != 0 || fsync(fileno(f)) != 0;
    failed |= fclose(f) != 0;
    if (failed) {
        unlink(path);
        return FB_ERR_IO;
    }
    return FB_OK;
}

fb_err_t fb_keys_save(const fb_keys_t *keys, const char *path)
{
    if (!keys || !path || !keys->has_secret)
        return FB_ERR_INVALID;
    char pub[4096];
    if ((size_t)snprintf(pub, sizeof pub, "%s.pub", path) >= sizeof pub)
        return FB_ERR_INVALID;
    fb_err_t rc = s_write_file(path, 0600, keys, 1);
    if (rc != FB_OK)
        return rc;
    rc = s_write_file(pub, 0644, keys, 0);
    if (rc != FB_OK)
        unlink(path);
    return rc;
}

/* Strips leading and trailing blanks in place. */
static char *s_trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\n' || s[n - 1] == '\r'))
        s[--n] = '\0';
    return s;
}

/* Applies one "name = value" line to keys; tracks which fields were seen. */
static fb_err_t s_parse_line(fb_keys_t *keys, char *line, unsigned *seen)
{
    char *eq = strchr(line, '=');
    if (!eq)
        return FB_ERR_PARSE;
    *eq = '\0';
    char *name = s_trim(line), *value = s_trim(eq + 1);
    if (strcmp(name, "actor") == 0) {
        *seen |= 1;
        return s_set_actor(keys, value) == FB_OK ? FB_OK : FB_ERR_PARSE;
    }
    if (strcmp(name, "key_id") == 0)
        return FB_OK; /* derived from sign_public; kept in the file for people */
    if (strcmp(name, "sign_public") == 0) {
        *seen |= 2;
        return fb_hex_decode(value, keys->sign_pk, FB_SIGN_PK_BYTES);
    }
    if (strcmp(name, "curve_public") == 0) {
        *seen |= 4;
        return fb_hex_decode(value, keys->curve_pk, FB_CURVE_KEY_BYTES);
    }
    if (strcmp(name, "sign_secret") == 0) {
        *seen |= 8;
        return fb_hex_decode(value, keys->sign_sk, FB_SIGN_SK_BYTES);
    }
    if (strcmp(name, "curve_secret") == 0) {
        *seen |= 16;
        return fb_hex_decode(value, keys->curve_sk, FB_CURVE_KEY_BYTES);
    }
    return FB_ERR_PARSE;
}

/* Checks that the secret halves match the public ones. An Ed25519 secret
 * key is seed || public key and signing uses both: the seed must give that
 * public key, not merely be followed by it, or every signature made with the
 * file would fail to verify (found by tests/fuzz/fuzz_keyfile). */
static fb_err_t s_check_pairs(const fb_keys_t *keys)
{
    uint8_t sign_pk[FB_SIGN_PK_BYTES], sign_sk[FB_SIGN_SK_BYTES], curve_pk[FB_CURVE_KEY_BYTES];
    crypto_sign_seed_keypair(sign_pk, sign_sk, keys->sign_sk); /* the first 32 bytes: the seed */
    int ok = sodium_memcmp(sign_sk, keys->sign_sk, FB_SIGN_SK_BYTES) == 0 &&
             memcmp(sign_pk, keys->sign_pk, FB_SIGN_PK_BYTES) == 0;
    sodium_memzero(sign_sk, sizeof sign_sk);
    crypto_scalarmult_base(curve_pk, keys->curve_sk);
    ok = ok && memcmp(curve_pk, keys->curve_pk, sizeof curve_pk) == 0;
    return ok ? FB_OK : FB_ERR_PARSE;
}

/* Reads the lines of a key file from f into keys (zeroed by the caller).
 * `private_file` says whether the file may hold secrets (its mode is the
 * caller's business): a file with secrets that is not private gives
 * FB_ERR_PERM. On error keys is wiped. */
static fb_err_t s_read(fb_keys_t *keys, FILE *f, bool private_file)
{
    char line[512];
    unsigned seen = 0;
    fb_err_t rc = FB_OK;
    while (rc == FB_OK && fgets(line, sizeof line, f)) {
        char *s = s_trim(line);
        if (*s && *s != '#')
            rc = s_parse_line(keys, s, &seen);
    }
    sodium_memzero(line, sizeof line);
    if (rc == FB_OK && (seen & 7) != 7)
        rc = FB_ERR_PARSE; /* actor and both public keys are required */
    if (rc == FB_OK && (seen & 24)) {
        if ((seen & 24) != 24)
            rc = FB_ERR_PARSE;
        else if (!private_file)
            rc = FB_ERR_PERM;
        else
            rc = s_check_pairs(keys);
        keys->has_secret = true;
    }
    if (rc != FB_OK) {
        fb_keys_wipe(keys);
        return rc;
    }
    fb_key_id(keys->sign_pk, keys->key_id);
    return FB_OK;
}

fb_err_t fb_keys_parse(fb_keys_t *keys, const char *text, size_t len)
{
    memset(keys, 0, sizeof *keys);
    if (sodium_init() < 0)
        return FB_ERR_IO;
    if (!text || len == 0)
        return FB_ERR_PARSE;
    /* A read-only stream over the caller's bytes: the same line reader as
     * for a file, so both parse alike. */
    FILE *f = fmemopen((void *)text, len, "r");
    if (!f)
        return FB_ERR_NOMEM;
    fb_err_t rc = s_read(keys, f, true);
    fclose(f);
    return rc;
}

fb_err_t fb_keys_load(fb_keys_t *keys, const char *path)
{
    memset(keys, 0, sizeof *keys);
    if (sodium_init() < 0)
        return FB_ERR_IO;
    FILE *f = fopen(path, "re");
    if (!f)
        return errno == ENOENT ? FB_ERR_NOT_FOUND : FB_ERR_IO;
    struct stat st;
    if (fstat(fileno(f), &st) != 0) {
        fclose(f);
        return FB_ERR_IO;
    }
    fb_err_t rc = s_read(keys, f, (st.st_mode & 077) == 0);
    fclose(f);
    return rc;
}
