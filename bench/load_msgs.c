/* load_msgs.c - builds and signs fluxbus-load's envelopes (see
 * load_msgs.h).
 *
 * Owns the realistic content of each message, its padding to the wanted
 * envelope size, and the structure of the bench's message ids. Signing,
 * sealing and encoding are lib's (envelope, seal, codec).
 *
 * Invariants: every message is one the broker accepts as it is (distinct
 * vacancy ids per run, correlation_id = vacancy_id, roles as the router
 * wants them, a Designation round of LOAD_MSGS_RANKS distinct NURs); the
 * padding is plain ASCII, so that any cut of it is valid UTF-8. */
#include "load_msgs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fluxbus/codec.h"
#include "fluxbus/seal.h"
#include "life_msgs.h"
#include "period.h"
#include "fluxbus/v1/designation.pb-c.h"
#include "fluxbus/v1/ledger.pb-c.h"
#include "fluxbus/v1/logement.pb-c.h"
#include "fluxbus/v1/orientation.pb-c.h"

#define T(x) FLUXBUS__V1__MESSAGE_TYPE__MESSAGE_TYPE_##x
#define S_PAD_MAX (200 * 1024)

/* What a bailleur writes in a second address line, or a réservataire in
 * its notes: repeated and cut to the padding wanted. */
static const char s_pad_text[] =
    "Residence Les Marquisats, batiment B, escalier 2, 3e etage, porte 21; "
    "digicode 4512B, interphone au nom du gardien, local velos au sous-sol. ";

static char *s_pad(size_t n)
{
    char *p = malloc(n + 1);
    if (!p)
        return NULL;
    for (size_t i = 0; i < n; i++)
        p[i] = s_pad_text[i % (sizeof s_pad_text - 1)];
    p[n] = '\0';
    return p;
}

void load_msgs_id(const uint8_t run[4], uint32_t sender, uint64_t k,
                  uint8_t id[FB_MESSAGE_ID_BYTES])
{
    memcpy(id, run, 4);
    for (int i = 0; i < 4; i++)
        id[4 + i] = (uint8_t)(sender >> (24 - 8 * i));
    for (int i = 0; i < 8; i++)
        id[8 + i] = (uint8_t)(k >> (56 - 8 * i));
}

bool load_msgs_id_parse(const uint8_t run[4], const uint8_t id[FB_MESSAGE_ID_BYTES],
                        uint32_t *sender, uint64_t *k)
{
    if (memcmp(id, run, 4) != 0)
        return false;
    *sender = 0;
    *k = 0;
    for (int i = 0; i < 4; i++)
        *sender = (*sender << 8) | id[4 + i];
    for (int i = 0; i < 8; i++)
        *k = (*k << 8) | id[8 + i];
    return true;
}

static size_t s_per_vacancy(const load_msgs_spec_t *spec)
{
    return spec->type == LOAD_MSGS_DESIGNATION ? LOAD_MSGS_RANKS : 1;
}

size_t load_msgs_recipient(const load_msgs_spec_t *spec, uint64_t k)
{
    return (size_t)((k / s_per_vacancy(spec)) % spec->n_recipients);
}

static void s_vacancy(const load_msgs_spec_t *spec, uint64_t k, char *out, size_t cap)
{
    snprintf(out, cap, "vac-%02x%02x%02x%02x-%u-%llu", spec->run[0], spec->run[1], spec->run[2],
             spec->run[3], spec->sender_index, (unsigned long long)(k / s_per_vacancy(spec)));
}

/* The id of the bench convention between a bailleur and a réservataire. */
static void s_convention_id(const char *bailleur, const char *resa, char *out, size_t cap)
{
    snprintf(out, cap, "bench:%s:%s", bailleur, resa);
}

/* The convention between message k's bailleur and spec's réservataire. */
static void s_convention(const load_msgs_spec_t *spec, uint64_t k, char *out, size_t cap)
{
    s_convention_id(spec->recipients[load_msgs_recipient(spec, k)].actor, spec->sender->actor, out,
                    cap);
}

/* A NUR (19 digits) unique in the run: département 074, the sender, k. */
static void s_nur(const load_msgs_spec_t *spec, uint64_t k, char *out, size_t cap)
{
    snprintf(out, cap, "074%04u%012llu", spec->sender_index % 10000,
             (unsigned long long)(k % 1000000000000ULL));
}

/* ---- payloads ------------------------------------------------------------- */

uint8_t *load_msgs_pack(const ProtobufCMessage *msg, size_t *len)
{
    uint8_t *buf = NULL;
    return fb_codec_pack(msg, &buf, len) == FB_OK ? buf : NULL;
}

const char *load_msgs_siren(const char *actor)
{
    const char *colon = strchr(actor, ':');
    return colon ? colon + 1 : actor;
}

uint8_t *load_msgs_logement(const char *bailleur, const char *vacancy, const char *pad, size_t *len)
{
    Fluxbus__V1__Address addr = FLUXBUS__V1__ADDRESS__INIT;
    char *lines[2] = {"12 avenue de Geneve", (char *)pad};
    addr.lines = lines;
    addr.n_lines = pad[0] ? 2 : 1;
    addr.postal_code = "74000";
    addr.city = "Annecy";
    Fluxbus__V1__Date on = FLUXBUS__V1__DATE__INIT;
    on.year = 2026;
    on.month = 3;
    on.day = 1;
    Fluxbus__V1__LogementLibere l = FLUXBUS__V1__LOGEMENT_LIBERE__INIT;
    l.vacancy_id = (char *)vacancy;
    l.rpls_id = "0740123456789";
    l.residence_id = "RES-ANNECY-0042";
    l.bailleur_siren = (char *)load_msgs_siren(bailleur);
    l.commune_insee = "74010";
    l.address = &addr;
    l.qpv = FLUXBUS__V1__QPV_STATUS__QPV_STATUS_OUTSIDE_QPV;
    l.qpv_map_year = 2024;
    l.typologie = FLUXBUS__V1__TYPOLOGIE__TYPOLOGIE_T3;
    l.surface_m2_x100 = 6450;
    l.loyer_cents = 41230;
    l.charges_cents = 9800;
    l.financement = FLUXBUS__V1__FINANCEMENT__FINANCEMENT_PLUS;
    l.floor = 3;
    l.lift = 1;
    l.accessibility = FLUXBUS__V1__PMR_ACCESSIBILITY__PMR_ACCESSIBILITY_ADAPTABLE;
    l.construction_period = FLUXBUS__V1__CONSTRUCTION_PERIOD__CONSTRUCTION_PERIOD_1975_1999;
    l.available_on = &on;
    l.mode_gestion = FLUXBUS__V1__MODE_GESTION__MODE_GESTION_FLUX;
    l.epci_siren = "200066793";
    return load_msgs_pack(&l.base, len);
}

/* The household behind a designation, its notes padded. */
static void s_household(Fluxbus__V1__HouseholdDetails *h, Fluxbus__V1__HouseholdMember *m,
                        Fluxbus__V1__HouseholdMember **mp, Fluxbus__V1__Address *addr, char **lines,
                        const char *nur, const char *pad)
{
    fluxbus__v1__household_details__init(h);
    fluxbus__v1__household_member__init(m);
    fluxbus__v1__address__init(addr);
    m->role = FLUXBUS__V1__HOUSEHOLD_ROLE__HOUSEHOLD_ROLE_DEMANDEUR;
    m->given_name = "Camille";
    m->family_name = "Martin";
    m->annual_resources_cents = 1850000;
    mp[0] = m;
    lines[0] = "8 rue des Jardins";
    addr->lines = lines;
    addr->n_lines = 1;
    addr->postal_code = "74960";
    addr->city = "Cran-Gevrier";
    h->nur = (char *)nur;
    h->members = mp;
    h->n_members = 1;
    h->revenu_fiscal_reference_cents = 2210000;
    h->resources_year = 2024;
    h->monthly_resources_cents = 182000;
    h->email = "camille.martin@example.org";
    h->phone = "+33450000000";
    h->current_address = addr;
    h->notes = (char *)pad;
}

uint8_t *load_msgs_designation(const char *vacancy, const char *convention, uint32_t rank,
                               const char *nur, const char *resa, const fb_sealed_t *sealed,
                               size_t *len)
{
    Fluxbus__V1__Designation d = life_msgs_designation(vacancy, nur, rank, LOAD_MSGS_RANKS);
    d.convention_id = (char *)convention;
    d.quartile = FLUXBUS__V1__QUARTILE__QUARTILE_Q2;
    d.household_size = 3;
    d.designating_actor_id = (char *)resa;
    d.credited_reservataire_actor_id = (char *)resa;
    fb_sealed_bind(sealed, &d);
    return load_msgs_pack(&d.base, len);
}

fb_err_t load_msgs_seal_household(const char *nur, const char *pad,
                                  const uint8_t pk[FB_ENC_KEY_BYTES], fb_sealed_t *out)
{
    Fluxbus__V1__HouseholdDetails h;
    Fluxbus__V1__HouseholdMember m, *mp[1];
    Fluxbus__V1__Address addr;
    char *lines[1];
    s_household(&h, &m, mp, &addr, lines, nur, pad);
    return fb_seal_household(&h, pk, out);
}

uint8_t *load_msgs_orientation(const char *vacancy, const char *convention, const char *resa,
                               uint32_t round, size_t *len)
{
    /* Never expires during a run, and longer than the conventions' délai. */
    Fluxbus__V1__Orientation o = life_msgs_orientation(
        vacancy, convention, resa, round, LOAD_MSGS_RANKS, fb_now_ms() + 30LL * 86400000);
    o.contingent = FLUXBUS__V1__CONTINGENT_TYPE__CONTINGENT_TYPE_ACTION_LOGEMENT;
    return load_msgs_pack(&o.base, len);
}

/* ---- envelopes ------------------------------------------------------------- */

/* One message's parts before sealing (owned: payload, att). */
typedef struct {
    int type;
    const char *to;
    char vacancy[64];
    uint8_t id[FB_MESSAGE_ID_BYTES];
    uint64_t sequence;
    uint8_t *payload;
    size_t payload_len;
    ProtobufCBinaryData att; /* the sealed household, or empty */
} s_parts_t;

static void s_body(const fb_keys_t *keys, const load_msgs_parts_t *p, Fluxbus__V1__SignedBody *body)
{
    fluxbus__v1__signed_body__init(body);
    body->version = FB_PROTOCOL_VERSION;
    body->message_id.data = (uint8_t *)p->id;
    body->message_id.len = FB_MESSAGE_ID_BYTES;
    body->sender = (char *)keys->actor;
    body->key_id = (char *)keys->key_id;
    body->recipients = (char **)p->to;
    body->n_recipients = p->n_to;
    body->sequence = p->sequence;
    body->created_at_ms = fb_now_ms();
    body->type = (Fluxbus__V1__MessageType)p->type;
    body->correlation_id = (char *)p->vacancy;
    body->payload.data = (uint8_t *)p->payload;
    body->payload.len = p->payload_len;
}

/* The public view of s's parts (borrowing them and `to`). */
static load_msgs_parts_t s_view(const s_parts_t *s, const char **to)
{
    *to = s->to;
    load_msgs_parts_t p = {.type = s->type,
                           .to = to,
                           .n_to = 1,
                           .vacancy = s->vacancy,
                           .sequence = s->sequence,
                           .payload = s->payload,
                           .payload_len = s->payload_len,
                           .att = s->att.len ? &s->att : NULL};
    memcpy(p.id, s->id, sizeof p.id);
    return p;
}

/* The envelope's size once sealed, computed without signing. */
static size_t s_envelope_size(const fb_keys_t *keys, const s_parts_t *s)
{
    const char *to;
    load_msgs_parts_t p = s_view(s, &to);
    Fluxbus__V1__SignedBody body;
    s_body(keys, &p, &body);
    uint8_t digest[FB_DIGEST_BYTES] = {0};
    ProtobufCBinaryData digests[1] = {{FB_DIGEST_BYTES, digest}};
    if (p.att) {
        body.attachment_digests = digests;
        body.n_attachment_digests = 1;
    }
    static uint8_t sig[64];
    Fluxbus__V1__Envelope env = FLUXBUS__V1__ENVELOPE__INIT;
    env.body.len = protobuf_c_message_get_packed_size(&body.base);
    env.body.data = sig; /* only the length is read */
    env.signature.data = sig;
    env.signature.len = sizeof sig;
    env.key_id = (char *)keys->key_id;
    if (p.att) {
        env.attachments = (ProtobufCBinaryData *)p.att;
        env.n_attachments = 1;
    }
    return protobuf_c_message_get_packed_size(&env.base);
}

fb_err_t load_msgs_seal(const fb_keys_t *keys, const load_msgs_parts_t *p, load_msg_t *out)
{
    Fluxbus__V1__SignedBody body;
    s_body(keys, p, &body);
    return fb_envelope_seal_attached(&body, p->att, p->att ? 1 : 0, keys, &out->env, &out->len);
}

static fb_err_t s_seal(const fb_keys_t *keys, const s_parts_t *s, load_msg_t *out)
{
    const char *to;
    load_msgs_parts_t p = s_view(s, &to);
    return load_msgs_seal(keys, &p, out);
}

/* Fills p's payload (and attachment) for message k with `pad` bytes of
 * padding; with `seal` false the household box is a stand-in of the right
 * length (for sizing). */
static fb_err_t s_fill(const load_msgs_spec_t *spec, uint64_t k, size_t pad_len, bool seal,
                       s_parts_t *p)
{
    char *pad = s_pad(pad_len);
    if (!pad)
        return FB_ERR_NOMEM;
    const fb_keys_t *to = &spec->recipients[load_msgs_recipient(spec, k)];
    fb_err_t rc = FB_OK;
    p->to = to->actor;
    if (spec->type == LOAD_MSGS_LOGEMENT) {
        p->type = T(LOGEMENT_LIBERE);
        p->payload = load_msgs_logement(spec->sender->actor, p->vacancy, pad, &p->payload_len);
    } else {
        char nur[32];
        s_nur(spec, k, nur, sizeof nur);
        Fluxbus__V1__HouseholdDetails h;
        Fluxbus__V1__HouseholdMember m, *mp[1];
        Fluxbus__V1__Address addr;
        char *lines[1];
        s_household(&h, &m, mp, &addr, lines, nur, pad);
        fb_sealed_t sealed = {0};
        if (seal) {
            rc = fb_seal_household(&h, to->enc_pk, &sealed);
        } else { /* the same length: plaintext + the box's 48 bytes */
            sealed.box_len = protobuf_c_message_get_packed_size(&h.base) + 48;
            sealed.box = calloc(1, sealed.box_len);
            snprintf(sealed.key_id, sizeof sealed.key_id, "%s", to->enc_key_id);
            rc = sealed.box ? FB_OK : FB_ERR_NOMEM;
        }
        p->type = T(DESIGNATION);
        char conv[2 * FB_ACTOR_MAX + 16];
        s_convention(spec, k, conv, sizeof conv);
        if (rc == FB_OK)
            p->payload =
                load_msgs_designation(p->vacancy, conv, (uint32_t)(k % LOAD_MSGS_RANKS) + 1, nur,
                                      spec->sender->actor, &sealed, &p->payload_len);
        p->att.data = sealed.box; /* moved */
        p->att.len = sealed.box_len;
    }
    free(pad);
    return rc == FB_OK && !p->payload ? FB_ERR_NOMEM : rc;
}

static void s_parts_clear(s_parts_t *p)
{
    free(p->payload);
    free(p->att.data);
    p->payload = NULL;
    p->att.data = NULL;
    p->att.len = 0;
}

/* The padding that brings message k's envelope to spec->size (0 when even
 * the unpadded envelope is larger). Length prefixes grow at varint
 * boundaries, hence a few rounds. */
static fb_err_t s_padding(const load_msgs_spec_t *spec, uint64_t k, s_parts_t *p, size_t *pad)
{
    *pad = 0;
    for (int round = 0; round < 4; round++) {
        fb_err_t rc = s_fill(spec, k, *pad, false, p);
        size_t size = rc == FB_OK ? s_envelope_size(spec->sender, p) : 0;
        s_parts_clear(p);
        if (rc != FB_OK)
            return rc;
        if (size == spec->size)
            return FB_OK;
        if (size > spec->size && *pad == 0)
            return FB_OK; /* cannot be made smaller */
        long next = (long)*pad + (long)spec->size - (long)size;
        *pad = next < 0 ? 0 : next > S_PAD_MAX ? S_PAD_MAX : (size_t)next;
    }
    return FB_OK; /* within a byte or two: as close as varints allow */
}

fb_err_t load_msgs_sign(const load_msgs_spec_t *spec, uint64_t first, size_t count, load_msg_t *out)
{
    memset(out, 0, count * sizeof *out);
    for (size_t i = 0; i < count; i++) {
        uint64_t k = first + i;
        s_parts_t p = {0};
        load_msgs_id(spec->run, spec->sender_index, k, p.id);
        p.sequence = k + 1;
        s_vacancy(spec, k, p.vacancy, sizeof p.vacancy);
        size_t pad = 0;
        fb_err_t rc = s_padding(spec, k, &p, &pad);
        if (rc == FB_OK)
            rc = s_fill(spec, k, pad, true, &p);
        if (rc == FB_OK)
            rc = s_seal(spec->sender, &p, &out[i]);
        s_parts_clear(&p);
        if (rc != FB_OK) {
            load_msgs_free(out, count);
            return rc;
        }
    }
    return FB_OK;
}

fb_err_t load_msgs_sign_setup(const load_msgs_spec_t *spec, uint64_t k, load_msg_t out[2])
{
    const fb_keys_t *bailleur = &spec->recipients[load_msgs_recipient(spec, k)];
    s_parts_t p = {0};
    memset(out, 0, 2 * sizeof *out);
    s_vacancy(spec, k, p.vacancy, sizeof p.vacancy);
    p.to = spec->sender->actor;
    p.sequence = 2 * k + 1;
    fb_message_id_new(p.id);
    p.type = T(LOGEMENT_LIBERE);
    p.payload = load_msgs_logement(bailleur->actor, p.vacancy, "", &p.payload_len);
    fb_err_t rc = p.payload ? s_seal(bailleur, &p, &out[0]) : FB_ERR_NOMEM;
    s_parts_clear(&p);

    p.sequence++;
    fb_message_id_new(p.id);
    p.type = T(ORIENTATION);
    char conv[2 * FB_ACTOR_MAX + 16];
    s_convention(spec, k, conv, sizeof conv);
    if (rc == FB_OK) {
        p.payload = load_msgs_orientation(p.vacancy, conv, spec->sender->actor, 1, &p.payload_len);
        rc = p.payload ? s_seal(bailleur, &p, &out[1]) : FB_ERR_NOMEM;
    }
    s_parts_clear(&p);
    if (rc != FB_OK)
        load_msgs_free(out, 2);
    return rc;
}

uint8_t *load_msgs_convention(const char *id, const char *bailleur, const char *resa, size_t *len)
{
    Fluxbus__V1__ConventionObjective obj = FLUXBUS__V1__CONVENTION_OBJECTIVE__INIT;
    Fluxbus__V1__ConventionObjective *objs[1] = {&obj};
    obj.kind = FLUXBUS__V1__OBJECTIVE_KIND__OBJECTIVE_KIND_PLACEMENTS;
    obj.unit = FLUXBUS__V1__OBJECTIVE_UNIT__OBJECTIVE_UNIT_COUNT;
    obj.value = 100000000; /* no bench reaches it: never a surréservation */
    Fluxbus__V1__Convention c = FLUXBUS__V1__CONVENTION__INIT;
    c.convention_id = (char *)id;
    c.revision = 1;
    c.bailleur_siren = (char *)load_msgs_siren(bailleur);
    c.bailleur_actor_id = (char *)bailleur;
    c.reservataire_actor_id = (char *)resa;
    c.year = (int32_t)period_year_of(fb_now_ms()); /* the year in Paris, as the ledger reads it */
    c.contingent = FLUXBUS__V1__CONTINGENT_TYPE__CONTINGENT_TYPE_ACTION_LOGEMENT;
    c.objectives = objs;
    c.n_objectives = 1;
    c.counting_method = FLUXBUS__V1__COUNTING_METHOD__COUNTING_METHOD_BAIL_SIGNE;
    c.deadline_days = 15;
    return load_msgs_pack(&c.base, len);
}

fb_err_t load_msgs_sign_convention(const fb_keys_t *bailleur, const fb_keys_t *resa,
                                   load_msg_t *out)
{
    s_parts_t p = {.type = T(CONVENTION), .to = resa->actor, .sequence = 1};
    fb_message_id_new(p.id);
    char id[2 * FB_ACTOR_MAX + 16];
    s_convention_id(bailleur->actor, resa->actor, id, sizeof id);
    p.payload = load_msgs_convention(id, bailleur->actor, resa->actor, &p.payload_len);
    memset(out, 0, sizeof *out);
    fb_err_t rc = p.payload ? s_seal(bailleur, &p, out) : FB_ERR_NOMEM;
    s_parts_clear(&p);
    return rc;
}

void load_msgs_free(load_msg_t *msgs, size_t n)
{
    for (size_t i = 0; msgs && i < n; i++) {
        free(msgs[i].env);
        msgs[i].env = NULL;
        msgs[i].len = 0;
    }
}
