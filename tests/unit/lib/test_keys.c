/* test_keys.c - an actor's key pairs and their files (lib/keys.c): a
 * generated key survives save and load, the secret file is private and a
 * public twin carries no secret, a file of the older format (no encryption
 * pair) still loads, and every damaged or unsafe file is refused with the
 * struct left zeroed. Each test works in its own mkdtemp directory. */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "tmpdir.h"
#include <sodium.h>

#include "fluxbus/keys.h"

#define S_ACTOR "bailleur:552046955"

typedef struct {
    char dir[64];
    char path[128]; /* dir/actor.key */
    char pub[160];  /* dir/actor.key.pub */
} s_fixture_t;

static int s_setup(void **state)
{
    if (sodium_init() < 0)
        return -1;
    s_fixture_t *fx = calloc(1, sizeof *fx);
    if (!fx)
        return -1;
    if (tmpdir_make(fx->dir, sizeof fx->dir, "keys") != 0) {
        free(fx);
        return -1;
    }
    snprintf(fx->path, sizeof fx->path, "%s/actor.key", fx->dir);
    snprintf(fx->pub, sizeof fx->pub, "%s.pub", fx->path);
    *state = fx;
    return 0;
}

/* Removes the (flat) test directory and everything in it. */
static int s_teardown(void **state)
{
    s_fixture_t *fx = *state;
    tmpdir_remove(fx->dir);
    free(fx);
    return 0;
}

/* Whole file into a NUL-terminated buffer (caller frees). */
static char *s_read(const char *path)
{
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    char *buf = calloc(1, 8192);
    assert_non_null(buf);
    size_t n = fread(buf, 1, 8191, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

/* Creates path with exactly `mode` and writes text. */
static void s_write(const char *path, mode_t mode, const char *text)
{
    unlink(path);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, mode);
    assert_true(fd >= 0);
    assert_int_equal(fchmod(fd, mode), 0);
    size_t n = strlen(text);
    assert_int_equal(write(fd, text, n), (ssize_t)n);
    close(fd);
}

static mode_t s_mode(const char *path)
{
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    return st.st_mode & 07777;
}

/* Key file text from the halves of (possibly different) key pairs. */
static void s_key_text(char *out, size_t cap, const fb_keys_t *pub, const fb_keys_t *sign_secret,
                       const fb_keys_t *curve_secret)
{
    char sp[2 * FB_SIGN_PK_BYTES + 1], cp[2 * FB_CURVE_KEY_BYTES + 1];
    char ss[2 * FB_SIGN_SK_BYTES + 1], cs[2 * FB_CURVE_KEY_BYTES + 1];
    fb_hex_encode(pub->sign_pk, FB_SIGN_PK_BYTES, sp);
    fb_hex_encode(pub->curve_pk, FB_CURVE_KEY_BYTES, cp);
    fb_hex_encode(sign_secret->sign_sk, FB_SIGN_SK_BYTES, ss);
    fb_hex_encode(curve_secret->curve_sk, FB_CURVE_KEY_BYTES, cs);
    snprintf(out, cap,
             "actor = %s\nsign_public = %s\ncurve_public = %s\nsign_secret = %s\n"
             "curve_secret = %s\n",
             pub->actor, sp, cp, ss, cs);
}

/* Appends the encryption lines: the public key of `pub`, and, unless
 * enc_secret is NULL, the secret key of `enc_secret`. */
static void s_enc_text(char *out, size_t cap, const fb_keys_t *pub, const fb_keys_t *enc_secret)
{
    char ep[2 * FB_ENC_KEY_BYTES + 1], es[2 * FB_ENC_KEY_BYTES + 1];
    fb_hex_encode(pub->enc_pk, FB_ENC_KEY_BYTES, ep);
    size_t n = strlen(out);
    snprintf(out + n, cap - n, "encrypt_public = %s\n", ep);
    if (enc_secret) {
        fb_hex_encode(enc_secret->enc_sk, FB_ENC_KEY_BYTES, es);
        n = strlen(out);
        snprintf(out + n, cap - n, "encrypt_secret = %s\n", es);
    }
}

static void s_assert_zeroed(const fb_keys_t *keys)
{
    static const fb_keys_t zero;
    assert_memory_equal(keys, &zero, sizeof zero);
}

/* The example of use: generate an actor's keys, save them, load them back. */
static void test_keys_generate_save_load_round_trips(void **state)
{
    s_fixture_t *fx = *state;
    fb_keys_t keys, loaded;
    assert_int_equal(fb_keys_generate(&keys, S_ACTOR), FB_OK);
    assert_true(keys.has_secret);
    assert_string_equal(keys.actor, S_ACTOR);
    assert_int_equal(strlen(keys.key_id), FB_KEY_ID_CHARS);
    assert_int_equal(fb_keys_save(&keys, fx->path), FB_OK);

    assert_int_equal(s_mode(fx->path), 0600);
    assert_int_equal(s_mode(fx->pub), 0644);

    assert_int_equal(fb_keys_load(&loaded, fx->path), FB_OK);
    assert_true(loaded.has_secret);
    assert_string_equal(loaded.actor, keys.actor);
    assert_string_equal(loaded.key_id, keys.key_id);
    assert_memory_equal(loaded.sign_pk, keys.sign_pk, FB_SIGN_PK_BYTES);
    assert_memory_equal(loaded.sign_sk, keys.sign_sk, FB_SIGN_SK_BYTES);
    assert_memory_equal(loaded.curve_pk, keys.curve_pk, FB_CURVE_KEY_BYTES);
    assert_memory_equal(loaded.curve_sk, keys.curve_sk, FB_CURVE_KEY_BYTES);
    assert_true(keys.has_enc);
    assert_true(loaded.has_enc);
    assert_string_equal(loaded.enc_key_id, keys.enc_key_id);
    assert_memory_equal(loaded.enc_pk, keys.enc_pk, FB_ENC_KEY_BYTES);
    assert_memory_equal(loaded.enc_sk, keys.enc_sk, FB_ENC_KEY_BYTES);

    /* The loaded secret key signs what the public key verifies. */
    uint8_t sig[FB_SIGNATURE_BYTES];
    crypto_sign_detached(sig, NULL, (const uint8_t *)"m", 1, loaded.sign_sk);
    assert_int_equal(crypto_sign_verify_detached(sig, (const uint8_t *)"m", 1, keys.sign_pk), 0);

    fb_keys_wipe(&keys);
    fb_keys_wipe(&loaded);
    s_assert_zeroed(&keys);
}

static void test_keys_public_file_holds_no_secret(void **state)
{
    s_fixture_t *fx = *state;
    fb_keys_t keys;
    assert_int_equal(fb_keys_generate(&keys, S_ACTOR), FB_OK);
    assert_int_equal(fb_keys_save(&keys, fx->path), FB_OK);

    char *text = s_read(fx->pub);
    assert_null(strstr(text, "secret ="));
    assert_null(strstr(text, "sign_secret"));
    assert_null(strstr(text, "curve_secret"));
    assert_null(strstr(text, "encrypt_secret"));
    char sk_hex[2 * FB_SIGN_SK_BYTES + 1], ck_hex[2 * FB_CURVE_KEY_BYTES + 1];
    char ek_hex[2 * FB_ENC_KEY_BYTES + 1], ep_hex[2 * FB_ENC_KEY_BYTES + 1];
    fb_hex_encode(keys.sign_sk, 32, sk_hex); /* the seed half of the Ed25519 secret */
    fb_hex_encode(keys.curve_sk, FB_CURVE_KEY_BYTES, ck_hex);
    fb_hex_encode(keys.enc_sk, FB_ENC_KEY_BYTES, ek_hex);
    fb_hex_encode(keys.enc_pk, FB_ENC_KEY_BYTES, ep_hex);
    assert_null(strstr(text, sk_hex));
    assert_null(strstr(text, ck_hex));
    assert_null(strstr(text, ek_hex));
    assert_non_null(strstr(text, ep_hex)); /* the encryption public key is published */
    free(text);

    /* The secret file does hold them. */
    text = s_read(fx->path);
    assert_non_null(strstr(text, sk_hex));
    assert_non_null(strstr(text, ck_hex));
    assert_non_null(strstr(text, ek_hex));
    free(text);
    fb_keys_wipe(&keys);
}

static void test_keys_load_public_file_has_no_secret(void **state)
{
    s_fixture_t *fx = *state;
    fb_keys_t keys, pub;
    assert_int_equal(fb_keys_generate(&keys, S_ACTOR), FB_OK);
    assert_int_equal(fb_keys_save(&keys, fx->path), FB_OK);
    assert_int_equal(fb_keys_load(&pub, fx->pub), FB_OK);
    assert_false(pub.has_secret);
    assert_string_equal(pub.actor, S_ACTOR);
    assert_string_equal(pub.key_id, keys.key_id);
    assert_memory_equal(pub.sign_pk, keys.sign_pk, FB_SIGN_PK_BYTES);
    assert_memory_equal(pub.curve_pk, keys.curve_pk, FB_CURVE_KEY_BYTES);
    assert_true(pub.has_enc);
    assert_string_equal(pub.enc_key_id, keys.enc_key_id);
    assert_memory_equal(pub.enc_pk, keys.enc_pk, FB_ENC_KEY_BYTES);
    static const uint8_t zero[FB_SIGN_SK_BYTES];
    assert_memory_equal(pub.sign_sk, zero, FB_SIGN_SK_BYTES);
    assert_memory_equal(pub.curve_sk, zero, FB_CURVE_KEY_BYTES);
    assert_memory_equal(pub.enc_sk, zero, FB_ENC_KEY_BYTES);
    fb_keys_wipe(&keys);
}

/* Files written before the encryption pair existed still load, secret or
 * public, without one. */
static void test_keys_load_older_file_without_encryption_pair(void **state)
{
    s_fixture_t *fx = *state;
    fb_keys_t keys, loaded;
    assert_int_equal(fb_keys_generate(&keys, S_ACTOR), FB_OK);
    char text[1024];
    s_key_text(text, sizeof text, &keys, &keys, &keys);
    s_write(fx->path, 0600, text);
    assert_int_equal(fb_keys_load(&loaded, fx->path), FB_OK);
    assert_true(loaded.has_secret);
    assert_false(loaded.has_enc);
    assert_string_equal(loaded.enc_key_id, "");
    assert_string_equal(loaded.key_id, keys.key_id);
    assert_memory_equal(loaded.sign_sk, keys.sign_sk, FB_SIGN_SK_BYTES);

    *strstr(text, "sign_secret") = '\0'; /* the public twin of the older format */
    s_write(fx->pub, 0644, text);
    assert_int_equal(fb_keys_load(&loaded, fx->pub), FB_OK);
    assert_false(loaded.has_secret);
    assert_false(loaded.has_enc);
    fb_keys_wipe(&loaded);
    fb_keys_wipe(&keys);
}

static void test_keys_encryption_key_id_is_derived_from_its_public_key(void **state)
{
    s_fixture_t *fx = *state;
    fb_keys_t keys, loaded;
    assert_int_equal(fb_keys_generate(&keys, S_ACTOR), FB_OK);
    char id[FB_KEY_ID_CHARS + 1];
    fb_key_id(keys.enc_pk, id);
    assert_string_equal(keys.enc_key_id, id);
    assert_string_not_equal(keys.enc_key_id, keys.key_id);

    /* The file's encrypt_key_id line is for people: a wrong one is ignored. */
    char text[1024];
    s_key_text(text, sizeof text, &keys, &keys, &keys);
    s_enc_text(text, sizeof text, &keys, &keys);
    strcat(text, "encrypt_key_id = 0000000000000000\n");
    s_write(fx->path, 0600, text);
    assert_int_equal(fb_keys_load(&loaded, fx->path), FB_OK);
    assert_true(loaded.has_enc);
    assert_string_equal(loaded.enc_key_id, id);

    /* The loaded pair opens what is sealed for its public key. */
    uint8_t box[crypto_box_SEALBYTES + 1], plain[1];
    assert_int_equal(crypto_box_seal(box, (const uint8_t *)"x", 1, keys.enc_pk), 0);
    assert_int_equal(crypto_box_seal_open(plain, box, sizeof box, loaded.enc_pk, loaded.enc_sk), 0);
    assert_int_equal(plain[0], 'x');
    fb_keys_wipe(&loaded);
    fb_keys_wipe(&keys);
}

static void test_keys_load_rejects_inconsistent_encryption_lines(void **state)
{
    s_fixture_t *fx = *state;
    fb_keys_t a, b, loaded;
    assert_int_equal(fb_keys_generate(&a, S_ACTOR), FB_OK);
    assert_int_equal(fb_keys_generate(&b, S_ACTOR), FB_OK);
    char text[1024];

    /* A secret file naming an encryption key must hold its secret. */
    s_key_text(text, sizeof text, &a, &a, &a);
    s_enc_text(text, sizeof text, &a, NULL);
    s_write(fx->path, 0600, text);
    memset(&loaded, 0xAA, sizeof loaded);
    assert_int_equal(fb_keys_load(&loaded, fx->path), FB_ERR_PARSE);
    s_assert_zeroed(&loaded);

    /* Someone else's encryption secret. */
    s_key_text(text, sizeof text, &a, &a, &a);
    s_enc_text(text, sizeof text, &a, &b);
    s_write(fx->path, 0600, text);
    assert_int_equal(fb_keys_load(&loaded, fx->path), FB_ERR_PARSE);
    s_assert_zeroed(&loaded);

    /* An encryption secret without its public key. */
    s_key_text(text, sizeof text, &a, &a, &a);
    s_enc_text(text, sizeof text, &a, &a);
    char *pub_line = strstr(text, "encrypt_public");
    char *next = strchr(pub_line, '\n') + 1;
    memmove(pub_line, next, strlen(next) + 1);
    s_write(fx->path, 0600, text);
    assert_int_equal(fb_keys_load(&loaded, fx->path), FB_ERR_PARSE);

    /* An encryption secret in a file without the other secrets. */
    s_key_text(text, sizeof text, &a, &a, &a);
    *strstr(text, "sign_secret") = '\0';
    s_enc_text(text, sizeof text, &a, &a);
    s_write(fx->path, 0600, text);
    assert_int_equal(fb_keys_load(&loaded, fx->path), FB_ERR_PARSE);

    /* Readable by others, the encryption secret makes it a refused secret file. */
    s_write(fx->path, 0644, text);
    assert_int_equal(fb_keys_load(&loaded, fx->path), FB_ERR_PARSE);
    s_key_text(text, sizeof text, &a, &a, &a);
    s_enc_text(text, sizeof text, &a, &a);
    s_write(fx->path, 0644, text);
    assert_int_equal(fb_keys_load(&loaded, fx->path), FB_ERR_PERM);
    s_assert_zeroed(&loaded);

    /* The consistent file loads: the failures came from the damage alone. */
    s_write(fx->path, 0600, text);
    assert_int_equal(fb_keys_load(&loaded, fx->path), FB_OK);
    assert_true(loaded.has_enc);
    fb_keys_wipe(&loaded);
    fb_keys_wipe(&a);
    fb_keys_wipe(&b);
}

static void test_keys_load_refuses_secret_file_readable_by_others(void **state)
{
    s_fixture_t *fx = *state;
    fb_keys_t keys, loaded;
    assert_int_equal(fb_keys_generate(&keys, S_ACTOR), FB_OK);
    assert_int_equal(fb_keys_save(&keys, fx->path), FB_OK);
    const mode_t modes[] = {0644, 0640, 0604, 0660};
    for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++) {
        assert_int_equal(chmod(fx->path, modes[i]), 0);
        memset(&loaded, 0xAA, sizeof loaded);
        assert_int_equal(fb_keys_load(&loaded, fx->path), FB_ERR_PERM);
        s_assert_zeroed(&loaded);
    }
    /* Made private again, it loads. */
    assert_int_equal(chmod(fx->path, 0400), 0);
    assert_int_equal(fb_keys_load(&loaded, fx->path), FB_OK);
    fb_keys_wipe(&loaded);
    fb_keys_wipe(&keys);
}

static void test_keys_save_refuses_to_overwrite(void **state)
{
    s_fixture_t *fx = *state;
    fb_keys_t first, second, loaded;
    assert_int_equal(fb_keys_generate(&first, S_ACTOR), FB_OK);
    assert_int_equal(fb_keys_generate(&second, S_ACTOR), FB_OK);
    assert_int_equal(fb_keys_save(&first, fx->path), FB_OK);
    assert_int_equal(fb_keys_save(&second, fx->path), FB_ERR_EXISTS);

    /* The first key is intact, in both files. */
    assert_int_equal(fb_keys_load(&loaded, fx->path), FB_OK);
    assert_memory_equal(loaded.sign_sk, first.sign_sk, FB_SIGN_SK_BYTES);
    assert_int_equal(fb_keys_load(&loaded, fx->pub), FB_OK);
    assert_memory_equal(loaded.sign_pk, first.sign_pk, FB_SIGN_PK_BYTES);
    fb_keys_wipe(&loaded);
    fb_keys_wipe(&first);
    fb_keys_wipe(&second);
}

static void test_keys_save_refuses_existing_pub_and_leaves_no_secret_file(void **state)
{
    s_fixture_t *fx = *state;
    fb_keys_t keys;
    assert_int_equal(fb_keys_generate(&keys, S_ACTOR), FB_OK);
    s_write(fx->pub, 0644, "someone else's file\n");
    assert_int_equal(fb_keys_save(&keys, fx->path), FB_ERR_EXISTS);
    assert_int_equal(access(fx->path, F_OK), -1);
    char *text = s_read(fx->pub);
    assert_string_equal(text, "someone else's file\n");
    free(text);
    fb_keys_wipe(&keys);
}

static void test_keys_load_rejects_corrupt_hex(void **state)
{
    s_fixture_t *fx = *state;
    fb_keys_t keys, loaded;
    assert_int_equal(fb_keys_generate(&keys, S_ACTOR), FB_OK);
    static const char *const fields[] = {
        "sign_public = ",  "curve_public = ",   "sign_secret = ",
        "curve_secret = ", "encrypt_public = ", "encrypt_secret = "};
    char text[1024];
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        /* A non-hex digit in the middle of the value. */
        s_key_text(text, sizeof text, &keys, &keys, &keys);
        s_enc_text(text, sizeof text, &keys, &keys);
        char *v = strstr(text, fields[i]);
        assert_non_null(v);
        v[strlen(fields[i]) + 5] = 'g';
        s_write(fx->path, 0600, text);
        memset(&loaded, 0xAA, sizeof loaded);
        assert_int_equal(fb_keys_load(&loaded, fx->path), FB_ERR_PARSE);
        s_assert_zeroed(&loaded);

        /* One hex digit missing. */
        s_key_text(text, sizeof text, &keys, &keys, &keys);
        s_enc_text(text, sizeof text, &keys, &keys);
        v = strstr(text, fields[i]) + strlen(fields[i]);
        memmove(v, v + 1, strlen(v + 1) + 1);
        s_write(fx->path, 0600, text);
        assert_int_equal(fb_keys_load(&loaded, fx->path), FB_ERR_PARSE);
        s_assert_zeroed(&loaded);
    }
    /* The untouched text loads: the failures came from the damage alone. */
    s_key_text(text, sizeof text, &keys, &keys, &keys);
    s_enc_text(text, sizeof text, &keys, &keys);
    s_write(fx->path, 0600, text);
    assert_int_equal(fb_keys_load(&loaded, fx->path), FB_OK);
    fb_keys_wipe(&loaded);
    fb_keys_wipe(&keys);
}

static void test_keys_load_rejects_mismatched_secret_and_public(void **state)
{
    s_fixture_t *fx = *state;
    fb_keys_t a, b, loaded;
    assert_int_equal(fb_keys_generate(&a, S_ACTOR), FB_OK);
    assert_int_equal(fb_keys_generate(&b, S_ACTOR), FB_OK);
    char text[1024];

    s_key_text(text, sizeof text, &a, &b, &a); /* someone else's signing secret */
    s_write(fx->path, 0600, text);
    memset(&loaded, 0xAA, sizeof loaded);
    assert_int_equal(fb_keys_load(&loaded, fx->path), FB_ERR_PARSE);
    s_assert_zeroed(&loaded);

    s_key_text(text, sizeof text, &a, &a, &b); /* someone else's transport secret */
    s_write(fx->path, 0600, text);
    memset(&loaded, 0xAA, sizeof loaded);
    assert_int_equal(fb_keys_load(&loaded, fx->path), FB_ERR_PARSE);
    s_assert_zeroed(&loaded);

    fb_keys_wipe(&a);
    fb_keys_wipe(&b);
}

/* An Ed25519 secret key is seed || public key: a file whose seed belongs to
 * another key, though followed by the right public key, would sign with
 * signatures nobody can verify (found by tests/fuzz/fuzz_keyfile). */
static void test_keys_load_rejects_signing_seed_of_another_key(void **state)
{
    s_fixture_t *fx = *state;
    fb_keys_t a, b, loaded;
    assert_int_equal(fb_keys_generate(&a, S_ACTOR), FB_OK);
    assert_int_equal(fb_keys_generate(&b, S_ACTOR), FB_OK);
    memcpy(a.sign_sk, b.sign_sk, 32); /* b's seed, still followed by a's public key */
    char text[1024];
    s_key_text(text, sizeof text, &a, &a, &a);
    s_write(fx->path, 0600, text);
    memset(&loaded, 0xAA, sizeof loaded);
    assert_int_equal(fb_keys_load(&loaded, fx->path), FB_ERR_PARSE);
    s_assert_zeroed(&loaded);
    assert_int_equal(fb_keys_parse(&loaded, text, strlen(text)), FB_ERR_PARSE);
    fb_keys_wipe(&a);
    fb_keys_wipe(&b);
}

/* fb_keys_parse reads the text of a key file as fb_keys_load reads the file,
 * without a file mode to check. */
static void test_keys_parse_reads_the_text_of_a_key_file(void **state)
{
    s_fixture_t *fx = *state;
    fb_keys_t keys, from_file, from_text;
    assert_int_equal(fb_keys_generate(&keys, S_ACTOR), FB_OK);
    assert_int_equal(fb_keys_save(&keys, fx->path), FB_OK);
    char *secret = s_read(fx->path), *pub = s_read(fx->pub);
    assert_int_equal(fb_keys_load(&from_file, fx->path), FB_OK);
    assert_int_equal(fb_keys_parse(&from_text, secret, strlen(secret)), FB_OK);
    assert_memory_equal(&from_file, &from_text, sizeof from_file);
    assert_true(from_text.has_secret);
    assert_int_equal(fb_keys_parse(&from_text, pub, strlen(pub)), FB_OK);
    assert_false(from_text.has_secret);
    assert_memory_equal(from_text.sign_pk, keys.sign_pk, FB_SIGN_PK_BYTES);
    /* Not NUL-terminated: only len bytes are read. */
    assert_int_equal(fb_keys_parse(&from_text, pub, strlen(pub) / 2), FB_ERR_PARSE);
    s_assert_zeroed(&from_text);
    assert_int_equal(fb_keys_parse(&from_text, "", 0), FB_ERR_PARSE);
    free(secret);
    free(pub);
    fb_keys_wipe(&keys);
    fb_keys_wipe(&from_file);
    fb_keys_wipe(&from_text);
}

static void test_keys_load_rejects_incomplete_or_unknown_lines(void **state)
{
    s_fixture_t *fx = *state;
    fb_keys_t keys, loaded;
    assert_int_equal(fb_keys_generate(&keys, S_ACTOR), FB_OK);
    char text[1024];

    /* Only one of the two secrets. */
    s_key_text(text, sizeof text, &keys, &keys, &keys);
    *strstr(text, "curve_secret") = '\0';
    s_write(fx->path, 0600, text);
    assert_int_equal(fb_keys_load(&loaded, fx->path), FB_ERR_PARSE);

    /* No actor line. */
    s_key_text(text, sizeof text, &keys, &keys, &keys);
    char *nl = strchr(text, '\n');
    s_write(fx->path, 0600, nl + 1);
    assert_int_equal(fb_keys_load(&loaded, fx->path), FB_ERR_PARSE);

    /* A line that is not "name = value", and an unknown name. */
    s_key_text(text, sizeof text, &keys, &keys, &keys);
    strcat(text, "garbage\n");
    s_write(fx->path, 0600, text);
    assert_int_equal(fb_keys_load(&loaded, fx->path), FB_ERR_PARSE);
    s_key_text(text, sizeof text, &keys, &keys, &keys);
    strcat(text, "colour = blue\n");
    s_write(fx->path, 0600, text);
    assert_int_equal(fb_keys_load(&loaded, fx->path), FB_ERR_PARSE);
    s_assert_zeroed(&loaded);
    fb_keys_wipe(&keys);
}

static void test_keys_id_is_hex_of_sha256_prefix(void **state)
{
    s_fixture_t *fx = *state;
    fb_keys_t keys, loaded;
    assert_int_equal(fb_keys_generate(&keys, S_ACTOR), FB_OK);

    uint8_t digest[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(digest, keys.sign_pk, FB_SIGN_PK_BYTES);
    char expected[FB_KEY_ID_CHARS + 1];
    for (int i = 0; i < 8; i++)
        snprintf(expected + 2 * i, 3, "%02x", digest[i]);
    assert_string_equal(keys.key_id, expected);

    char id[FB_KEY_ID_CHARS + 1];
    fb_key_id(keys.sign_pk, id);
    assert_string_equal(id, expected);

    /* Derived again on load, whatever the file says. */
    assert_int_equal(fb_keys_save(&keys, fx->path), FB_OK);
    assert_int_equal(fb_keys_load(&loaded, fx->pub), FB_OK);
    assert_string_equal(loaded.key_id, expected);

    /* A fixed vector: the all-zero public key. */
    static const uint8_t zero_pk[FB_SIGN_PK_BYTES];
    crypto_hash_sha256(digest, zero_pk, sizeof zero_pk);
    for (int i = 0; i < 8; i++)
        snprintf(expected + 2 * i, 3, "%02x", digest[i]);
    fb_key_id(zero_pk, id);
    assert_string_equal(id, expected);
    assert_string_equal(id, "66687aadf862bd77"); /* sha256 of 32 zero bytes */
    fb_keys_wipe(&keys);
}

static void test_keys_hex_decode_rejects_wrong_length_or_digit(void **state)
{
    uint8_t out[2];
    assert_int_equal(fb_hex_decode("00ff", out, 2), FB_OK);
    assert_int_equal(out[0], 0x00);
    assert_int_equal(out[1], 0xff);

    assert_int_equal(fb_hex_decode("00f", out, 2), FB_ERR_PARSE);
    assert_int_equal(fb_hex_decode("00ff0", out, 2), FB_ERR_PARSE);
    assert_int_equal(fb_hex_decode("00ff00", out, 2), FB_ERR_PARSE);
    assert_int_equal(fb_hex_decode("", out, 2), FB_ERR_PARSE);
    assert_int_equal(fb_hex_decode("0g11", out, 2), FB_ERR_PARSE);
    assert_int_equal(fb_hex_decode("00f ", out, 2), FB_ERR_PARSE);
    assert_int_equal(fb_hex_decode("0:11", out, 2), FB_ERR_PARSE);
    assert_int_equal(fb_hex_decode("-011", out, 2), FB_ERR_PARSE);

    char hex[2 * 4 + 1];
    const uint8_t bytes[4] = {0xde, 0xad, 0xbe, 0xef};
    fb_hex_encode(bytes, 4, hex);
    assert_string_equal(hex, "deadbeef");
}

static void test_keys_load_missing_file_is_not_found(void **state)
{
    s_fixture_t *fx = *state;
    fb_keys_t loaded;
    memset(&loaded, 0xAA, sizeof loaded);
    assert_int_equal(fb_keys_load(&loaded, fx->path), FB_ERR_NOT_FOUND);
    s_assert_zeroed(&loaded);
}

static void test_keys_generate_rejects_empty_or_long_actor(void **state)
{
    fb_keys_t keys;
    char longer[FB_ACTOR_MAX + 1];
    memset(longer, 'a', FB_ACTOR_MAX);
    longer[FB_ACTOR_MAX] = '\0';
    assert_int_equal(fb_keys_generate(&keys, ""), FB_ERR_INVALID);
    assert_int_equal(fb_keys_generate(&keys, NULL), FB_ERR_INVALID);
    assert_int_equal(fb_keys_generate(&keys, longer), FB_ERR_INVALID);
    longer[FB_ACTOR_MAX - 1] = '\0'; /* the longest that fits */
    assert_int_equal(fb_keys_generate(&keys, longer), FB_OK);
    fb_keys_wipe(&keys);
}

#define S_TEST(f) cmocka_unit_test_setup_teardown(f, s_setup, s_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        S_TEST(test_keys_generate_save_load_round_trips),
        S_TEST(test_keys_public_file_holds_no_secret),
        S_TEST(test_keys_load_public_file_has_no_secret),
        S_TEST(test_keys_load_older_file_without_encryption_pair),
        S_TEST(test_keys_encryption_key_id_is_derived_from_its_public_key),
        S_TEST(test_keys_load_rejects_inconsistent_encryption_lines),
        S_TEST(test_keys_load_refuses_secret_file_readable_by_others),
        S_TEST(test_keys_save_refuses_to_overwrite),
        S_TEST(test_keys_save_refuses_existing_pub_and_leaves_no_secret_file),
        S_TEST(test_keys_load_rejects_corrupt_hex),
        S_TEST(test_keys_load_rejects_mismatched_secret_and_public),
        S_TEST(test_keys_load_rejects_signing_seed_of_another_key),
        S_TEST(test_keys_parse_reads_the_text_of_a_key_file),
        S_TEST(test_keys_load_rejects_incomplete_or_unknown_lines),
        S_TEST(test_keys_id_is_hex_of_sha256_prefix),
        S_TEST(test_keys_hex_decode_rejects_wrong_length_or_digit),
        S_TEST(test_keys_load_missing_file_is_not_found),
        S_TEST(test_keys_generate_rejects_empty_or_long_actor),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
