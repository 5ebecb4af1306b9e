/* keys.c - key pairs of an actor and their text files.
 *
 * Owns: generation (libsodium), key ids, the key file format (signing,
 * transport and, optional for files of older versions, encryption pairs),
 * and the rule that a file holding secrets is private (mode 0600, refused
 * otherwise) and holds the secret half of every pair it names.
 * Invariant: secrets never outlive an error path: buffers that held them are
 * wiped with sodium_memzero before returning. */
#include "fluxbus/keys.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stddef.h>
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
    crypto_box_keypair(keys->enc_pk, keys->enc_sk);
    fb_key_id(keys->sign_pk, keys->key_id);
    fb_key_id(keys->enc_pk, keys->enc_key_id);
    keys->has_secret = true;
    keys->has_enc = true;
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
    if (keys->has_enc) {
        fprintf(f, "encrypt_key_id = %s\n", keys->enc_key_id);
        fb_hex_encode(keys->enc_pk, FB_ENC_KEY_BYTES, hex);
        fprintf(f, "encrypt_public = %s\n", hex);
    }
    if (with_secret) {
        fb_hex_encode(keys->sign_sk, FB_SIGN_SK_BYTES, hex);
        fprintf(f, "sign_secret = %s\n", hex);
        fb_hex_encode(keys->curve_sk, FB_CURVE_KEY_BYTES, hex);
        fprintf(f, "curve_secret = %s\n", hex);
    }
    if (with_secret && keys->has_enc) {
        fb_hex_encode(keys->enc_sk, FB_ENC_KEY_BYTES, hex);
        fprintf(f, "encrypt_secret = %s\n", hex);
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

/* The lines of a key file, as bits of the set of lines seen. */
enum {
    S_ACTOR = 1,
    S_SIGN_PK = 2,
    S_CURVE_PK = 4,
    S_SIGN_SK = 8,
    S_CURVE_SK = 16,
    S_ENC_PK = 32,
    S_ENC_SK = 64,
};

/* Applies one "name = value" line to keys; tracks which fields were seen. */
static fb_err_t s_parse_line(fb_keys_t *keys, char *line, unsigned *seen)
{
    char *eq = strchr(line, '=');
    if (!eq)
        return FB_ERR_PARSE;
    *eq = '\0';
    char *name = s_trim(line), *value = s_trim(eq + 1);
    if (strcmp(name, "actor") == 0) {
        *seen |= S_ACTOR;
        return s_set_actor(keys, value) == FB_OK ? FB_OK : FB_ERR_PARSE;
    }
    if (strcmp(name, "key_id") == 0 || strcmp(name, "encrypt_key_id") == 0)
        return FB_OK; /* derived from the public keys; kept in the file for people */
    static const struct {
        const char *name;
        unsigned bit;
        size_t offset, len;
    } hex_lines[] = {
        {"sign_public", S_SIGN_PK, offsetof(fb_keys_t, sign_pk), FB_SIGN_PK_BYTES},
        {"curve_public", S_CURVE_PK, offsetof(fb_keys_t, curve_pk), FB_CURVE_KEY_BYTES},
        {"encrypt_public", S_ENC_PK, offsetof(fb_keys_t, enc_pk), FB_ENC_KEY_BYTES},
        {"sign_secret", S_SIGN_SK, offsetof(fb_keys_t, sign_sk), FB_SIGN_SK_BYTES},
        {"curve_secret", S_CURVE_SK, offsetof(fb_keys_t, curve_sk), FB_CURVE_KEY_BYTES},
        {"encrypt_secret", S_ENC_SK, offsetof(fb_keys_t, enc_sk), FB_ENC_KEY_BYTES},
    };
    for (size_t i = 0; i < sizeof hex_lines / sizeof hex_lines[0]; i++)
        if (strcmp(name, hex_lines[i].name) == 0) {
            *seen |= hex_lines[i].bit;
            return fb_hex_decode(value, (uint8_t *)keys + hex_lines[i].offset, hex_lines[i].len);
        }
    return FB_ERR_PARSE;
}

/* True when X25519(sk, base point) is pk. */
static bool s_x25519_pair(const uint8_t sk[32], const uint8_t pk[32])
{
    uint8_t derived[32];
    crypto_scalarmult_base(derived, sk);
    return memcmp(derived, pk, sizeof derived) == 0;
}

/* Checks that the secret halves match the public ones. An Ed25519 secret
 * key is seed || public key and signing uses both: the seed must give that
 * public key, not merely be followed by it, or every signature made with the
 * file would fail to verify (found by tests/fuzz/fuzz_keyfile). */
static fb_err_t s_check_pairs(const fb_keys_t *keys, bool with_enc)
{
    uint8_t sign_pk[FB_SIGN_PK_BYTES], sign_sk[FB_SIGN_SK_BYTES];
    crypto_sign_seed_keypair(sign_pk, sign_sk, keys->sign_sk); /* the first 32 bytes: the seed */
    bool ok = sodium_memcmp(sign_sk, keys->sign_sk, FB_SIGN_SK_BYTES) == 0 &&
              memcmp(sign_pk, keys->sign_pk, FB_SIGN_PK_BYTES) == 0;
    sodium_memzero(sign_sk, sizeof sign_sk);
    ok = ok && s_x25519_pair(keys->curve_sk, keys->curve_pk) &&
         (!with_enc || s_x25519_pair(keys->enc_sk, keys->enc_pk));
    return ok ? FB_OK : FB_ERR_PARSE;
}

/* The rules on which lines a file must hold, once all are read: actor and
 * the public keys of the two mandatory pairs; an encryption secret only
 * beside its public key; secrets all or nothing, for every pair named, and
 * only in a private file (FB_ERR_PERM otherwise). */
static fb_err_t s_check_lines(unsigned seen, bool private_file)
{
    const unsigned required = S_ACTOR | S_SIGN_PK | S_CURVE_PK;
    unsigned secrets = seen & (S_SIGN_SK | S_CURVE_SK | S_ENC_SK);
    unsigned all = S_SIGN_SK | S_CURVE_SK | (seen & S_ENC_PK ? S_ENC_SK : 0);
    if ((seen & required) != required || ((seen & S_ENC_SK) && !(seen & S_ENC_PK)))
        return FB_ERR_PARSE;
    if (secrets && secrets != all)
        return FB_ERR_PARSE;
    if (secrets && !private_file)
        return FB_ERR_PERM;
    return FB_OK;
}

/* Reads the lines of a key file from f into keys (zeroed by the caller).
 * `private_file` says whether the file may hold secrets (its mode is the
 * caller's business). On error keys is wiped. */
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
    if (rc == FB_OK)
        rc = s_check_lines(seen, private_file);
    keys->has_secret = (seen & S_SIGN_SK) != 0;
    keys->has_enc = (seen & S_ENC_PK) != 0;
    if (rc == FB_OK && keys->has_secret)
        rc = s_check_pairs(keys, keys->has_enc);
    if (rc != FB_OK) {
        fb_keys_wipe(keys);
        return rc;
    }
    fb_key_id(keys->sign_pk, keys->key_id);
    if (keys->has_enc)
        fb_key_id(keys->enc_pk, keys->enc_key_id);
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
