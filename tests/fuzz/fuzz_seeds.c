/* fuzz_seeds - writes the binary seed corpora of the fuzz targets, the same
 * bytes on every run (fixed keys, ids, times):
 *   fuzz_seeds <source dir> <corpus dir>
 * reads <source dir>/demo/messages/NN_*.json and docs/examples/ and writes,
 * under <corpus dir>:
 *   envelope/  each demo message sealed by FUZZ_SENDER, one with an attachment
 *   payloads/  type byte + a sample of every message (every field set) and
 *              each demo message as its type
 *   json/      the demo messages and the sample of every message as JSON
 *   broker/    mode byte + a demo message as a sealed envelope (RAW), as a
 *              body to sign (SIGN) and as a body from someone else
 *              (AS_SENDER); inputs at the broker's limits (size, recipients,
 *              revoked key)
 *   keyfile/   FUZZ_SENDER's key files and registry lines (roles, territories,
 *              topic, items)
 *   config/    the example config and a short one
 *   csv/       CSV exports as the adapters read them: dwellings, CALEOL
 *              sessions, quoting and blank lines, and cells that do not fit
 * Run it with `cmake --build <build dir> --target fuzz_seeds_update`. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz_support.h"

#define S_CREATED_AT_MS 1767225600000LL /* 2026-01-01T00:00:00Z */
#define S_MAX_DEMO 64

static const char *s_out; /* the corpus directory */

static void s_write(const char *target, const char *name, int mode, const void *data, size_t len)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", s_out, target);
    if (mkdir(path, 0755) != 0 && errno != EEXIST)
        fuzz_fail("cannot make %s", path);
    snprintf(path, sizeof path, "%s/%s/%s", s_out, target, name);
    FILE *f = fopen(path, "wb");
    if (!f || (mode >= 0 && fputc(mode, f) == EOF) || fwrite(data, 1, len, f) != len ||
        fclose(f) != 0)
        fuzz_fail("cannot write %s", path);
}

/* Whole file (caller frees). */
static char *s_slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *text = malloc(65536);
    if (!f || !text)
        fuzz_fail("cannot read %s", path);
    *len = fread(text, 1, 65536, f);
    if (*len == 65536 || ferror(f))
        fuzz_fail("cannot read %s (64 KiB at most)", path);
    fclose(f);
    return text;
}

static void s_write_json(const char *name, const json_t *json)
{
    char *text = json_dumps(json, JSON_INDENT(2));
    if (!text)
        fuzz_fail("cannot dump %s", name);
    s_write("json", name, -1, text, strlen(text));
    free(text);
}

static uint8_t *s_pack(const ProtobufCMessage *m, size_t *len)
{
    uint8_t *out = NULL;
    if (fb_codec_pack(m, &out, len) != FB_OK)
        fuzz_fail("pack failed");
    return out;
}

/* ---- samples: every field of a message set, from its descriptor ---------- */

static json_t *s_sample(const ProtobufCMessageDescriptor *desc, int depth);

static json_t *s_sample_value(const ProtobufCFieldDescriptor *f, int depth)
{
    switch (f->type) {
    case PROTOBUF_C_TYPE_BOOL:
        return json_true();
    case PROTOBUF_C_TYPE_ENUM: {
        const ProtobufCEnumDescriptor *e = f->descriptor;
        return json_string(e->values[e->n_values - 1].name);
    }
    case PROTOBUF_C_TYPE_STRING:
        return json_string(strstr(f->name, "insee") ? FUZZ_INSEE : f->name);
    case PROTOBUF_C_TYPE_BYTES: /* 16 bytes 00..0f: a message id */
        return json_string("AAECAwQFBgcICQoLDA0ODw==");
    case PROTOBUF_C_TYPE_MESSAGE:
        return depth < 4 ? s_sample(f->descriptor, depth + 1) : json_object();
    case PROTOBUF_C_TYPE_FLOAT:
    case PROTOBUF_C_TYPE_DOUBLE:
        return json_real(1.5);
    default: /* integers */
        return json_integer((json_int_t)f->id);
    }
}

static json_t *s_sample(const ProtobufCMessageDescriptor *desc, int depth)
{
    json_t *obj = json_object();
    for (unsigned i = 0; i < desc->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &desc->fields[i];
        json_t *v = s_sample_value(f, depth);
        if (f->label == PROTOBUF_C_LABEL_REPEATED) {
            json_t *list = json_array();
            json_array_append_new(list, v);
            v = list;
        }
        json_object_set_new(obj, f->name, v);
    }
    return obj;
}

static ProtobufCMessage *s_from_json(const fuzz_type_t *t, const json_t *json)
{
    ProtobufCMessage *m = NULL;
    char why[256];
    if (fb_json_to_message(t->desc, json, &m, why, sizeof why) != FB_OK)
        return NULL;
    return m;
}

static void s_samples(void)
{
    size_t n = 0;
    const fuzz_type_t *types = fuzz_types(&n);
    for (size_t i = 0; i < n; i++) {
        char name[128];
        size_t len = 0;
        json_t *json = s_sample(types[i].desc, 0);
        ProtobufCMessage *m = s_from_json(&types[i], json);
        if (!m)
            fuzz_fail("sample of %s does not convert", types[i].name);
        uint8_t *bytes = s_pack(m, &len);
        snprintf(name, sizeof name, "sample_%s.bin", types[i].name);
        s_write("payloads", name, (int)i, bytes, len);
        snprintf(name, sizeof name, "sample_%s.json", types[i].name);
        s_write_json(name, json);
        free(bytes);
        fb_json_free_message(m);
        json_decref(json);
    }
}

/* ---- demo messages: as payloads, envelopes and broker inputs -------------- */

typedef struct {
    char stem[128];       /* "01_logement_libere" */
    size_t type;          /* index in fuzz_types() */
    const fuzz_type_t *t; /* its type: the first domain type that accepts the JSON */
    uint8_t *payload;
    size_t len;
} s_demo_t;

/* The SignedBody of a demo message from `sender` to FUZZ_RECIPIENT (and to
 * the topic of its kind for the two published types). Strings borrowed. */
static void s_body(const s_demo_t *d, const fb_keys_t *sender, Fluxbus__V1__SignedBody *b,
                   uint8_t id[FB_MESSAGE_ID_BYTES])
{
    static char *s_to[1] = {FUZZ_RECIPIENT};
    static char *s_logements[1] = {"logements/" FUZZ_INSEE};
    static char *s_caleol[1] = {"caleol/" FUZZ_INSEE};
    uint8_t digest[FB_DIGEST_BYTES];
    const fb_catalog_entry_t *e = fb_catalog_by_name(d->t->name);
    fb_blake2b256((const uint8_t *)d->stem, strlen(d->stem), digest);
    memcpy(id, digest, FB_MESSAGE_ID_BYTES);
    *b = (Fluxbus__V1__SignedBody)FLUXBUS__V1__SIGNED_BODY__INIT;
    b->version = FB_PROTOCOL_VERSION;
    b->message_id.data = id;
    b->message_id.len = FB_MESSAGE_ID_BYTES;
    b->sender = (char *)sender->actor;
    b->key_id = (char *)sender->key_id;
    b->recipients = s_to;
    b->n_recipients = 1;
    if (strcmp(d->t->name, "LogementLibere") == 0)
        b->topics = s_logements;
    else if (strcmp(d->t->name, "CaleolSeance") == 0)
        b->topics = s_caleol;
    b->n_topics = b->topics ? 1 : 0;
    b->sequence = 1;
    b->created_at_ms = S_CREATED_AT_MS;
    b->type = (Fluxbus__V1__MessageType)e->type;
    b->correlation_id = "vac-2026-0042";
    b->payload.data = d->payload;
    b->payload.len = d->len;
}

static void s_demo_seeds(const s_demo_t *d, const fb_keys_t *sender, const fb_keys_t *other)
{
    char name[256];
    uint8_t id[FB_MESSAGE_ID_BYTES], *env = NULL, *body_bytes = NULL;
    size_t env_len = 0, body_len = 0;
    Fluxbus__V1__SignedBody body;

    snprintf(name, sizeof name, "%s.bin", d->stem);
    s_write("payloads", name, (int)d->type, d->payload, d->len);

    s_body(d, sender, &body, id);
    if (fb_envelope_seal(&body, sender, &env, &env_len) != FB_OK)
        fuzz_fail("cannot seal %s", d->stem);
    s_write("envelope", name, -1, env, env_len);
    snprintf(name, sizeof name, "raw_%s.bin", d->stem);
    s_write("broker", name, FUZZ_BROKER_RAW, env, env_len);
    body_bytes = s_pack(&body.base, &body_len);
    snprintf(name, sizeof name, "sign_%s.bin", d->stem);
    s_write("broker", name, FUZZ_BROKER_SIGN, body_bytes, body_len);
    free(body_bytes);

    /* Written by another actor: AS_SENDER makes it the sender's again. */
    s_body(d, other, &body, id);
    body_bytes = s_pack(&body.base, &body_len);
    snprintf(name, sizeof name, "as_sender_%s.bin", d->stem);
    s_write("broker", name, FUZZ_BROKER_AS_SENDER, body_bytes, body_len);
    free(body_bytes);
    free(env);
}

/* A Designation carrying a (fake) sealed household as an attachment. */
static void s_attached_seed(const s_demo_t *d, const fb_keys_t *sender)
{
    static uint8_t s_household[] = "sealed household (not really sealed)";
    ProtobufCBinaryData att = {sizeof s_household - 1, s_household};
    uint8_t id[FB_MESSAGE_ID_BYTES], *env = NULL;
    size_t env_len = 0;
    Fluxbus__V1__SignedBody body;
    s_body(d, sender, &body, id);
    if (fb_envelope_seal_attached(&body, &att, 1, sender, &env, &env_len) != FB_OK)
        fuzz_fail("cannot seal %s with an attachment", d->stem);
    s_write("envelope", "attached_designation.bin", -1, env, env_len);
    s_write("broker", "raw_attached_designation.bin", FUZZ_BROKER_RAW, env, env_len);
    free(env);
}

/* The broker's limits, from a demo message: an envelope over
 * FUZZ_MAX_ENVELOPE, more recipients than the router takes (its
 * ROUTER_MAX_TARGETS, 1024), and a body for the revoked key. */
static void s_limit_seeds(const s_demo_t *d, const fb_keys_t *sender)
{
    static uint8_t s_big[FUZZ_MAX_ENVELOPE + 1000];
    static char *s_many[1025];
    ProtobufCBinaryData att = {sizeof s_big, s_big};
    uint8_t id[FB_MESSAGE_ID_BYTES], *bytes = NULL;
    size_t len = 0;
    Fluxbus__V1__SignedBody body;
    s_body(d, sender, &body, id);
    /* Ids of their own, so that the broker's dedup lets each reach its limit. */
    id[0] ^= 1;
    if (fb_envelope_seal_attached(&body, &att, 1, sender, &bytes, &len) != FB_OK)
        fuzz_fail("cannot seal %s with a big attachment", d->stem);
    s_write("broker", "raw_too_large.bin", FUZZ_BROKER_RAW, bytes, len);
    free(bytes);

    id[0] ^= 2;
    bytes = s_pack(&body.base, &len);
    s_write("broker", "old_key.bin", FUZZ_BROKER_OLD_KEY, bytes, len);
    free(bytes);

    for (size_t i = 0; i < sizeof s_many / sizeof s_many[0]; i++)
        s_many[i] = "x";
    id[0] ^= 4;
    body.recipients = s_many;
    body.n_recipients = sizeof s_many / sizeof s_many[0];
    bytes = s_pack(&body.base, &len);
    s_write("broker", "sign_too_many_recipients.bin", FUZZ_BROKER_SIGN, bytes, len);
    free(bytes);
}

static int s_by_stem(const void *a, const void *b)
{
    return strcmp(((const s_demo_t *)a)->stem, ((const s_demo_t *)b)->stem);
}

/* Reads demo/messages: each file as the first domain type that accepts it. */
static size_t s_read_demo(const char *src, s_demo_t *demo)
{
    char dir[1024], path[1280];
    size_t n = 0, ntypes = 0;
    const fuzz_type_t *types = fuzz_types(&ntypes);
    snprintf(dir, sizeof dir, "%s/demo/messages", src);
    DIR *d = opendir(dir);
    if (!d)
        fuzz_fail("cannot read %s", dir);
    for (struct dirent *e; (e = readdir(d)) != NULL && n < S_MAX_DEMO;) {
        size_t len = strlen(e->d_name);
        if (len < 6 || strcmp(e->d_name + len - 5, ".json") != 0)
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        size_t text_len = 0;
        char *text = s_slurp(path, &text_len);
        json_error_t jerr;
        json_t *json = json_loadb(text, text_len, 0, &jerr);
        if (!json)
            fuzz_fail("%s: %s", path, jerr.text);
        s_write("json", e->d_name, -1, text, text_len);
        free(text);
        /* A Designation's "household" is sealed by fluxbus send, not a field. */
        json_object_del(json, "household");
        s_demo_t *m = &demo[n];
        memset(m, 0, sizeof *m);
        snprintf(m->stem, sizeof m->stem, "%.*s", (int)(len - 5), e->d_name);
        for (size_t i = 0; i < ntypes && !m->t; i++) {
            const fb_catalog_entry_t *entry = fb_catalog_by_name(types[i].name);
            int domain = entry && entry->type < FLUXBUS__V1__MESSAGE_TYPE__MESSAGE_TYPE_RECEIPT;
            ProtobufCMessage *msg = domain ? s_from_json(&types[i], json) : NULL;
            if (msg) {
                m->t = &types[i];
                m->type = i;
                m->payload = s_pack(msg, &m->len);
                fb_json_free_message(msg);
            }
        }
        if (!m->t)
            fuzz_fail("%s is no domain message", path);
        json_decref(json);
        n++;
    }
    closedir(d);
    qsort(demo, n, sizeof *demo, s_by_stem);
    return n;
}

/* ---- key files, registry lines, config ----------------------------------- */

static void s_keyfile_seeds(const fb_keys_t *sender)
{
    static const char *const s_registry[][2] = {
        {"registry_commune.txt", "commune,observer\n74010,74011,2A004\ncaleol/74010\ncommune\n"},
        {"registry_observer.txt", "observer\n2B033\nlogements/2B033\nobserver\nbailleur\n"},
        {"registry_bailleur.txt", "bailleur,reservataire\n74010\nlogements/74010\n,\n"},
    };
    char path[1024];
    snprintf(path, sizeof path, "%s/keyfile", s_out);
    if (mkdir(path, 0755) != 0 && errno != EEXIST)
        fuzz_fail("cannot make %s", path);
    snprintf(path, sizeof path, "%s/keyfile/sender.key", s_out);
    unlink(path);
    strcat(path, ".pub");
    unlink(path);
    path[strlen(path) - 4] = '\0';
    if (fb_keys_save(sender, path) != FB_OK)
        fuzz_fail("cannot write %s", path);
    for (size_t i = 0; i < sizeof s_registry / sizeof s_registry[0]; i++)
        s_write("keyfile", s_registry[i][0], -1, s_registry[i][1], strlen(s_registry[i][1]));
}

static void s_config_seeds(const char *src)
{
    static const char s_short[] = "# short\nendpoint = tcp://127.0.0.1:*\nmax_envelope=1024\n"
                                  "window = 1\nbatch_max =65536\nlog_level = debug\n";
    char path[1024];
    size_t n = 0;
    snprintf(path, sizeof path, "%s/docs/examples/fluxbus-broker.conf", src);
    char *text = s_slurp(path, &n);
    s_write("config", "fluxbus-broker.conf", -1, text, n);
    free(text);
    s_write("config", "short.conf", -1, s_short, sizeof s_short - 1);
}

/* ---- CSV files of the adapters ------------------------------------------- */

static void s_csv_seeds(void)
{
    static const char *const s_csv[][2] = {
        {"logements.csv",
         "\xEF\xBB\xBFtype;to;vacancy_id;rpls_id;bailleur_siren;commune_insee;address.lines;"
         "address.postal_code;address.city;qpv;qpv_map_year;typologie;surface_m2;loyer;"
         "charges_cents;financement;floor;lift;accessibility;construction_period;available_on;"
         "mode_gestion;hors_flux_motif\r\n"
         "LogementLibere;reservataire:action-logement;vac-2026-0042;0740123456789;552046955;"
         "74010;\"12 rue des Fauvettes|B\xC3\xA2timent B; 3e \xC3\xA9tage\";74000;Annecy;in_qpv;"
         "2024;T3;45,5;412,30;9 800;PLUS;3;oui;Adaptable;1975_1999;15/12/2026;flux;\r\n"
         "\r\n"
         "LogementLibere;;vac-2026-0043;;552046955;74011;3 all\xC3\xA9"
         "e des Lilas;74960;Annecy;OUTSIDE_QPV;2024;TYPOLOGIE_T7_PLUS;112.40;1\xC2\xA0"
         "020;0;2;-1;non;;;2026-01-05;HORS_FLUX;relogement_anru\r\n"},
        {"caleol.csv",
         "seance_id;revision;status;bailleur_siren;commission_name;start_ms;end_ms;timezone;"
         "place.lines;place.postal_code;place.city;video_url;communes_insee;vacancy_ids\n"
         "cal-2026-12;1;scheduled;552046955;CALEOL Annecy;2026-12-08 14:00;08/12/2026 16:30:15;"
         "Europe/Paris;1 place de l'H\xC3\xB4tel de Ville;74000;Annecy;;74010|74011;"
         "vac-2026-0042|vac-2026-0043\n"
         "cal-2026-07;2;MODIFIED;552046955;CALEOL Annecy;2026-07-08T14:00;1783519200000;"
         "Europe/Paris;;;;https://visio.example/caleol;74010;vac-2026-0044\n"
         "cal-2026-10;1;3;552046955;;2026-10-25 02:30;2026-03-29 02:30;;;;;;;\n"},
        {"quoting.csv", "vacancy_id;address.lines;address.city\n\n"
                        "\"v;1\";\"say \"\"oui\"\"\";\"line 1\nline 2\"\n"
                        ";;\n"
                        " \t; ;\n"
                        "\"\"\"\";\"crlf\r\ninside\"  ;plain \"quote\"\r\n"
                        "v3;a||b;\n"},
        {"cells.csv", "typologie;available_on;lift;floor;loyer;surface_m2_x100;Type;address\n"
                      "T9;31/02/2026;peut-\xC3\xAAtre;3000000000;412,305;-1;x;y\n"
                      "t3;29/02/2024;X;-2147483648;92233720368547758,07;4294967295;;\n"},
        {"ragged.csv", "a;b;c\n1;2;3\n4;5\n"},
        {"unterminated.csv", "a;b\n1;\"opened\n2;3\n"},
        {"bad_utf8.csv", "a;b\n1;\xC3\x28\n"},
    };
    for (size_t i = 0; i < sizeof s_csv / sizeof s_csv[0]; i++)
        s_write("csv", s_csv[i][0], -1, s_csv[i][1], strlen(s_csv[i][1]));
}

int main(int argc, char **argv)
{
    static s_demo_t demo[S_MAX_DEMO];
    fb_keys_t sender, other;
    if (argc != 3) {
        fprintf(stderr, "usage: fuzz_seeds <source dir> <corpus dir>\n");
        return 2;
    }
    s_out = argv[2];
    if (mkdir(s_out, 0755) != 0 && errno != EEXIST)
        fuzz_fail("cannot make %s", s_out);
    fuzz_keys_fixed(&sender, FUZZ_SENDER);
    fuzz_keys_fixed(&other, FUZZ_RECIPIENT);
    s_csv_seeds();
    s_samples();
    size_t n = s_read_demo(argv[1], demo);
    int attached = 0;
    for (size_t i = 0; i < n; i++) {
        s_demo_seeds(&demo[i], &sender, &other);
        if (!attached && strcmp(demo[i].t->name, "Designation") == 0) {
            s_attached_seed(&demo[i], &sender);
            attached = 1;
        }
        printf("%s: %s\n", demo[i].stem, demo[i].t->name);
    }
    s_limit_seeds(&demo[0], &sender);
    for (size_t i = 0; i < n; i++)
        free(demo[i].payload);
    s_keyfile_seeds(&sender);
    s_config_seeds(argv[1]);
    fb_keys_wipe(&sender);
    fb_keys_wipe(&other);
    return 0;
}
