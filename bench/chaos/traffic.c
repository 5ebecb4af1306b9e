/* traffic.c - the messages of bench/chaos: a bailleur's Convention with
 * each réservataire it orients to (the ledger wants one in force before an
 * orientation en flux), then what it sends when a dwelling is freed
 * (LogementLibere, then its Orientation to a réservataire); who gets each;
 * and message ids that say which sender and which message they are, so a
 * recipient can check completeness and order without any table shared with
 * the sender. Owns no state. */
#include "chaos.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fluxbus/v1/ledger.pb-c.h"
#include "fluxbus/v1/logement.pb-c.h"
#include "fluxbus/v1/orientation.pb-c.h"
#include "period.h"

#define S_DAY_MS 86400000LL

/* A dwelling as a bailleur's export describes it; the numbers vary with the
 * vacancy so that envelopes are not all alike (about 400 bytes signed). */
static fb_err_t s_logement(const char *siren, const char *vacancy, uint64_t v, uint8_t **out,
                           size_t *len)
{
    char rpls[16], line[64];
    snprintf(rpls, sizeof rpls, "074%010llu", (unsigned long long)(v % 10000000000ULL));
    snprintf(line, sizeof line, "%u rue des Tilleuls, bâtiment %c", (unsigned)(v % 180) + 1,
             'A' + (int)(v % 6));
    char *lines[2] = {line, "escalier 2"};
    Fluxbus__V1__Address addr = FLUXBUS__V1__ADDRESS__INIT;
    addr.lines = lines;
    addr.n_lines = 2;
    addr.postal_code = "74000";
    addr.city = "ANNECY";
    Fluxbus__V1__Date available = FLUXBUS__V1__DATE__INIT;
    available.year = 2026;
    available.month = (uint32_t)(v % 12) + 1;
    available.day = (uint32_t)(v % 28) + 1;
    Fluxbus__V1__LogementLibere l = FLUXBUS__V1__LOGEMENT_LIBERE__INIT;
    l.vacancy_id = (char *)vacancy;
    l.rpls_id = rpls;
    l.residence_id = "RES-LES-TILLEULS";
    l.bailleur_siren = (char *)siren;
    l.commune_insee = "74010";
    l.address = &addr;
    l.qpv = v % 4 ? FLUXBUS__V1__QPV_STATUS__QPV_STATUS_OUTSIDE_QPV
                  : FLUXBUS__V1__QPV_STATUS__QPV_STATUS_IN_QPV;
    l.qpv_map_year = 2024;
    l.typologie = (Fluxbus__V1__Typologie)(v % 5 + 1);
    l.surface_m2_x100 = 2800 + (uint32_t)(v % 9000);
    l.loyer_cents = 28000 + (int64_t)(v % 40000);
    l.charges_cents = 6000 + (int64_t)(v % 9000);
    l.financement = FLUXBUS__V1__FINANCEMENT__FINANCEMENT_PLUS;
    l.floor = (int32_t)(v % 9);
    l.lift = v % 3 != 0;
    l.available_on = &available;
    l.mode_gestion = FLUXBUS__V1__MODE_GESTION__MODE_GESTION_FLUX;
    l.epci_siren = "200066793";
    return fb_codec_pack(&l.base, out, len);
}

/* The id of the convention between bailleur `sender` and réservataire `to`. */
static void s_convention_id(unsigned sender, const char *to, char out[64])
{
    snprintf(out, 64, "chaos-%u-%s", sender, to);
}

/* The smallest convention the ledger takes: this year, no objective, no
 * territory (every commune), no délai (docs/LEDGER.md, "Conventions"). */
static fb_err_t s_convention(const char *bailleur, const char *siren, const char *id,
                             const char *to, uint8_t **out, size_t *len)
{
    Fluxbus__V1__Convention c = FLUXBUS__V1__CONVENTION__INIT;
    c.convention_id = (char *)id;
    c.revision = 1;
    c.bailleur_siren = (char *)siren;
    c.bailleur_actor_id = (char *)bailleur;
    c.reservataire_actor_id = (char *)to;
    c.year = period_year_of(fb_now_ms());
    c.contingent = FLUXBUS__V1__CONTINGENT_TYPE__CONTINGENT_TYPE_ACTION_LOGEMENT;
    return fb_codec_pack(&c.base, out, len);
}

/* The bailleur orients the vacancy to `to` under their convention, three
 * candidates expected within ten days (no deadline passes during a run). */
static fb_err_t s_orientation(const char *vacancy, const char *convention, const char *to,
                              uint8_t **out, size_t *len)
{
    Fluxbus__V1__Orientation o = FLUXBUS__V1__ORIENTATION__INIT;
    o.vacancy_id = (char *)vacancy;
    o.convention_id = (char *)convention;
    o.reservataire_actor_id = (char *)to;
    o.deadline_ms = fb_now_ms() + 10 * S_DAY_MS;
    o.candidates_expected = 3;
    o.contingent = FLUXBUS__V1__CONTINGENT_TYPE__CONTINGENT_TYPE_ACTION_LOGEMENT;
    o.round = 1;
    return fb_codec_pack(&o.base, out, len);
}

unsigned chaos_traffic_conventions(unsigned recipients, chaos_route_t route)
{
    return route == CHAOS_ROUTE_FIRST ? 1 : recipients;
}

unsigned chaos_traffic_recipient(unsigned recipients, chaos_route_t route, unsigned sender,
                                 uint64_t n)
{
    unsigned conventions = chaos_traffic_conventions(recipients, route);
    if (route == CHAOS_ROUTE_FIRST)
        return 0;
    if (n < conventions)
        return (unsigned)n;
    return (unsigned)((sender + (n - conventions) / 2) % recipients);
}

fb_err_t chaos_traffic_payload(const char *bailleur, const char *siren, unsigned sender, uint64_t n,
                               unsigned conventions, const char *to, int *type, uint8_t **payload,
                               size_t *len, char correlation[64])
{
    char convention[64];
    s_convention_id(sender, to, convention);
    if (n < conventions) {
        snprintf(correlation, 64, "%s", convention);
        *type = FLUXBUS__V1__MESSAGE_TYPE__MESSAGE_TYPE_CONVENTION;
        return s_convention(bailleur, siren, convention, to, payload, len);
    }
    uint64_t v = (n - conventions) / 2;
    snprintf(correlation, 64, "chaos-%u-%llu", sender, (unsigned long long)v);
    if ((n - conventions) % 2 == 0) {
        *type = FLUXBUS__V1__MESSAGE_TYPE__MESSAGE_TYPE_LOGEMENT_LIBERE;
        return s_logement(siren, correlation, v, payload, len);
    }
    *type = FLUXBUS__V1__MESSAGE_TYPE__MESSAGE_TYPE_ORIENTATION;
    return s_orientation(correlation, convention, to, payload, len);
}

void chaos_traffic_id(const uint8_t nonce[4], unsigned sender, uint64_t n,
                      uint8_t id[FB_MESSAGE_ID_BYTES])
{
    memcpy(id, nonce, 4);
    for (int i = 0; i < 4; i++)
        id[4 + i] = (uint8_t)(sender >> (8 * (3 - i)));
    for (int i = 0; i < 8; i++)
        id[8 + i] = (uint8_t)(n >> (8 * (7 - i)));
}

int chaos_traffic_parse_id(const uint8_t nonce[4], const uint8_t *id, size_t len, unsigned *sender,
                           uint64_t *n)
{
    if (len != FB_MESSAGE_ID_BYTES || memcmp(id, nonce, 4) != 0)
        return 0;
    *sender = 0;
    *n = 0;
    for (int i = 0; i < 4; i++)
        *sender = *sender << 8 | id[4 + i];
    for (int i = 0; i < 8; i++)
        *n = *n << 8 | id[8 + i];
    return 1;
}
