/* sne_records.c - bus messages to SNE records (see sne_records.h).
 *
 * Owns the mapping only: which message makes which record, which fields
 * come from the message and which from the vacancy's earlier messages, the
 * record id and the civil dates (their time zone is the caller's, the
 * conversion localdate.c's). It does no I/O and keeps no state; the
 * adapter remembers the dwellings and attributions and the file exchange
 * writes the records. Invariant: a record's id depends only on its kind,
 * vacancy, NUR (and decision revision), so the same message delivered twice
 * makes the same id. */
#include "sne_records.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fluxbus/fnv.h"
#include "localdate.h"

/* ---- dates ---- */

sne_date_t sne_date_local(int64_t ms, const char *tz)
{
    sne_date_t none = {0, 0, 0};
    localdate_t day;
    if (ms <= 0 || localdate_from_ms(ms, tz, &day) != FB_OK)
        return none;
    return (sne_date_t){day.year, day.month, day.day};
}

bool sne_date_valid(sne_date_t d)
{
    static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (d.year < 1900 || d.year > 9999 || d.month < 1 || d.month > 12 || d.day < 1)
        return false;
    bool leap = (d.year % 4 == 0 && d.year % 100 != 0) || d.year % 400 == 0;
    int max = days[d.month - 1] + (d.month == 2 && leap);
    return d.day <= max;
}

void sne_date_format(sne_date_t d, char buf[11])
{
    if (d.year == 0 && d.month == 0 && d.day == 0) {
        buf[0] = '\0';
        return;
    }
    /* Out-of-range parts are kept as given (so the SNE side can say which
     * date was wrong), clamped only to fit the buffer. */
    unsigned y = d.year < 0 ? 0 : d.year > 9999 ? 9999 : (unsigned)d.year;
    unsigned m = d.month < 0 ? 0 : d.month > 99 ? 99 : (unsigned)d.month;
    unsigned day = d.day < 0 ? 0 : d.day > 99 ? 99 : (unsigned)d.day;
    /* Through a roomy buffer: -Wformat-truncation cannot see the clamps. */
    char tmp[48];
    snprintf(tmp, sizeof tmp, "%04u-%02u-%02u", y, m, day);
    memcpy(buf, tmp, 11);
}

bool sne_date_parse(const char *s, sne_date_t *out)
{
    if (!s || strlen(s) != 10 || s[4] != '-' || s[7] != '-')
        return false;
    for (int i = 0; i < 10; i++)
        if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
            return false;
    sne_date_t d = {atoi(s), atoi(s + 5), atoi(s + 8)};
    if (!sne_date_valid(d))
        return false;
    *out = d;
    return true;
}

static sne_date_t s_date_of(const Fluxbus__V1__Date *d)
{
    sne_date_t out = {0, 0, 0};
    if (d) {
        out.year = d->year;
        out.month = d->month;
        out.day = d->day;
    }
    return out;
}

/* ---- kinds and ids ---- */

const char *sne_kind_name(sne_kind_t kind)
{
    switch (kind) {
    case SNE_KIND_ATTRIBUTION:
        return "attribution";
    case SNE_KIND_NON_SUIVIE:
        return "non_suivie";
    case SNE_KIND_RADIATION:
        return "radiation";
    default:
        return NULL;
    }
}

sne_kind_t sne_kind_from_name(const char *name)
{
    for (sne_kind_t k = SNE_KIND_ATTRIBUTION; k <= SNE_KIND_RADIATION; k++)
        if (name && strcmp(name, sne_kind_name(k)) == 0)
            return k;
    return SNE_KIND_NONE;
}

/* Appends `s` escaped (see sne_record_id) at out[*used]; false when it
 * does not fit in cap. */
static bool s_escape(const char *s, char *out, size_t *used, size_t cap)
{
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        bool keep = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                    (*p >= '0' && *p <= '9') || *p == '-';
        size_t need = keep ? 1 : 3;
        if (*used + need >= cap)
            return false;
        if (keep) {
            out[(*used)++] = (char)*p;
        } else {
            out[(*used)++] = '_';
            out[(*used)++] = hex[*p >> 4];
            out[(*used)++] = hex[*p & 15];
        }
    }
    out[*used] = '\0';
    return true;
}

static bool s_append(const char *s, char *out, size_t *used, size_t cap)
{
    size_t n = strlen(s);
    if (*used + n >= cap)
        return false;
    memcpy(out + *used, s, n + 1);
    *used += n;
    return true;
}

/* FNV-1a, 64 bits, over a string and its terminator. */
static uint64_t s_fnv(uint64_t h, const char *s)
{
    return fb_fnv1a64(h, s, strlen(s) + 1);
}

void sne_record_id(sne_kind_t kind, const char *vacancy_id, const char *nur, unsigned revision,
                   char id[SNE_RECORD_ID_MAX])
{
    const char *name = sne_kind_name(kind) ? sne_kind_name(kind) : "none";
    char rev[16] = "";
    if (kind == SNE_KIND_ATTRIBUTION)
        snprintf(rev, sizeof rev, ".r%u", revision ? revision : 1);
    size_t used = 0;
    id[0] = '\0';
    bool fits = s_append(name, id, &used, SNE_RECORD_ID_MAX) &&
                s_append(".", id, &used, SNE_RECORD_ID_MAX) &&
                s_escape(vacancy_id ? vacancy_id : "", id, &used, SNE_RECORD_ID_MAX) &&
                s_append(".", id, &used, SNE_RECORD_ID_MAX) &&
                s_escape(nur ? nur : "", id, &used, SNE_RECORD_ID_MAX) &&
                s_append(rev, id, &used, SNE_RECORD_ID_MAX);
    if (fits)
        return;
    uint64_t h = s_fnv(FB_FNV1A64_START, name);
    h = s_fnv(h, vacancy_id ? vacancy_id : "");
    h = s_fnv(h, nur ? nur : "");
    h = s_fnv(h, rev);
    snprintf(id, SNE_RECORD_ID_MAX, "%s.h%016llx", name, (unsigned long long)h);
}

/* ---- building records ---- */

/* strdup of s, "" for NULL; NULL only when out of memory. */
static char *s_dup(const char *s)
{
    return strdup(s ? s : "");
}

/* The first non-empty of a and b ("" when both are empty or NULL). */
static const char *s_first(const char *a, const char *b)
{
    return a && *a ? a : b ? b : "";
}

/* The SIREN in an actor id "bailleur:<9 digits>", else "". */
static const char *s_siren_of_actor(const char *actor)
{
    const char *colon = actor ? strchr(actor, ':') : NULL;
    if (!colon || strlen(colon + 1) != 9 || strspn(colon + 1, "0123456789") != 9)
        return "";
    return colon + 1;
}

/* An enum value's name without its enum's prefix ("ATTRIBUTION" for
 * CALEOL_DECISION_CODE_ATTRIBUTION); "" for an unknown value. */
static const char *s_enum_name(const ProtobufCEnumDescriptor *desc, const char *prefix, int value)
{
    const ProtobufCEnumValue *v = protobuf_c_enum_descriptor_get_value(desc, value);
    if (!v)
        return "";
    size_t n = strlen(prefix);
    return strncmp(v->name, prefix, n) == 0 ? v->name + n : v->name;
}

/* Fills the parts every record has; false when out of memory. */
static bool s_common(sne_record_t *r, sne_kind_t kind, const char *vacancy, const char *nur,
                     const sne_source_t *src, const char *type, const char *siren, const char *rpls,
                     const char *insee)
{
    r->kind = kind;
    r->nur = s_dup(nur);
    r->vacancy_id = s_dup(vacancy);
    r->bailleur_actor_id = s_dup(src ? src->sender : "");
    r->bailleur_siren = s_dup(s_first(siren, s_siren_of_actor(src ? src->sender : NULL)));
    r->rpls_id = s_dup(rpls);
    r->commune_insee = s_dup(insee);
    r->source_type = s_dup(type);
    r->source_message_id = s_dup(src ? src->message_id : "");
    return r->nur && r->vacancy_id && r->bailleur_actor_id && r->bailleur_siren && r->rpls_id &&
           r->commune_insee && r->source_type && r->source_message_id;
}

/* SNE_NOT_NEEDED, saying why: "decision <code> ...". */
static sne_build_t s_not_needed(char *why, size_t whylen, const char *code, bool lapsed)
{
    if (why && whylen && lapsed)
        snprintf(why, whylen,
                 "decision %s whose condition lapsed: no attribution to record (the "
                 "AttributionNonSuivieDeBail records the lapse)",
                 code);
    else if (why && whylen)
        snprintf(why, whylen, "decision %s needs no SNE record", *code ? code : "(unknown code)");
    return SNE_NOT_NEEDED;
}

static sne_build_t s_built(sne_record_t *r, bool ok, unsigned revision)
{
    if (!ok) {
        sne_record_clear(r);
        return SNE_NO_MEMORY;
    }
    sne_record_id(r->kind, r->vacancy_id, r->nur, revision, r->record_id);
    return SNE_BUILT;
}

sne_build_t sne_record_from_decision(const Fluxbus__V1__CaleolDecision *d, const sne_source_t *src,
                                     const sne_dwelling_t *dw, const char *tz, sne_record_t *out,
                                     char *why, size_t whylen)
{
    memset(out, 0, sizeof *out);
    const char *code = s_enum_name(&fluxbus__v1__caleol_decision_code__descriptor,
                                   "CALEOL_DECISION_CODE_", (int)d->decision);
    switch (d->decision) {
    case FLUXBUS__V1__CALEOL_DECISION_CODE__CALEOL_DECISION_CODE_ATTRIBUTION:
    case FLUXBUS__V1__CALEOL_DECISION_CODE__CALEOL_DECISION_CODE_ATTRIBUTION_PAR_RANG:
        break;
    case FLUXBUS__V1__CALEOL_DECISION_CODE__CALEOL_DECISION_CODE_SOUS_CONDITION_SUSPENSIVE:
        if (d->condition_state == FLUXBUS__V1__CONDITION_STATE__CONDITION_STATE_LAPSED)
            return s_not_needed(why, whylen, code, true);
        break;
    default:
        return s_not_needed(why, whylen, code, false);
    }
    sne_dwelling_t none = {NULL, NULL, NULL};
    if (!dw)
        dw = &none;
    bool ok = s_common(out, SNE_KIND_ATTRIBUTION, d->vacancy_id, d->nur, src, "CaleolDecision",
                       dw->bailleur_siren, dw->rpls_id, dw->commune_insee);
    out->date = sne_date_local(d->decided_ms, tz);
    out->designataire_actor_id = s_dup(d->designataire_actor_id);
    out->q1 = d->q1;
    out->relogement_anru = d->relogement_anru;
    out->suivie_de_bail = SNE_SUIVIE_NA;
    out->decision = s_dup(code);
    out->rank = d->rank;
    out->revision = d->revision ? d->revision : 1;
    bool conditional =
        d->decision ==
        FLUXBUS__V1__CALEOL_DECISION_CODE__CALEOL_DECISION_CODE_SOUS_CONDITION_SUSPENSIVE;
    out->condition_state =
        s_dup(conditional ? s_enum_name(&fluxbus__v1__condition_state__descriptor,
                                        "CONDITION_STATE_", (int)d->condition_state)
                          : "");
    out->missing_document = s_dup(conditional ? d->missing_document : "");
    ok = ok && out->designataire_actor_id && out->decision && out->condition_state &&
         out->missing_document;
    return s_built(out, ok, out->revision);
}

sne_build_t sne_record_from_non_suivie(const Fluxbus__V1__AttributionNonSuivieDeBail *m,
                                       const sne_source_t *src, const sne_dwelling_t *dw,
                                       const sne_attribution_t *att, sne_record_t *out, char *why,
                                       size_t whylen)
{
    memset(out, 0, sizeof *out);
    sne_dwelling_t none = {NULL, NULL, NULL};
    if (!dw)
        dw = &none;
    bool ok =
        s_common(out, SNE_KIND_NON_SUIVIE, m->vacancy_id, m->nur, src, "AttributionNonSuivieDeBail",
                 dw->bailleur_siren, dw->rpls_id, dw->commune_insee);
    out->date = s_date_of(m->date);
    out->designataire_actor_id = s_dup(att ? att->designataire_actor_id : "");
    out->q1 = att && att->q1;
    out->relogement_anru = att && att->relogement_anru;
    out->suivie_de_bail = SNE_SUIVIE_NON;
    out->non_suite_motif = s_dup(
        s_enum_name(&fluxbus__v1__non_suite_motif__descriptor, "NON_SUITE_MOTIF_", (int)m->reason));
    out->motif_text = s_dup(m->reason_text);
    ok = ok && out->designataire_actor_id && out->non_suite_motif && out->motif_text;
    return s_built(out, ok, 0);
}

sne_build_t sne_record_from_bail(const Fluxbus__V1__BailSigne *m, const sne_source_t *src,
                                 const sne_dwelling_t *dw, sne_record_t *out, char *why,
                                 size_t whylen)
{
    memset(out, 0, sizeof *out);
    sne_dwelling_t none = {NULL, NULL, NULL};
    if (!dw)
        dw = &none;
    bool ok =
        s_common(out, SNE_KIND_RADIATION, m->vacancy_id, m->nur, src, "BailSigne",
                 s_first(m->bailleur_siren, dw->bailleur_siren), s_first(m->rpls_id, dw->rpls_id),
                 s_first(m->commune_insee, dw->commune_insee));
    out->date = s_date_of(m->signed_on);
    out->effective_on = s_date_of(m->effective_on);
    out->designataire_actor_id = s_dup(m->designataire_actor_id);
    out->q1 = m->q1;
    out->relogement_anru = m->relogement_anru;
    out->suivie_de_bail = SNE_SUIVIE_OUI;
    ok = ok && out->designataire_actor_id;
    return s_built(out, ok, 0);
}

void sne_record_clear(sne_record_t *r)
{
    char **strings[] = {&r->nur,
                        &r->bailleur_siren,
                        &r->bailleur_actor_id,
                        &r->vacancy_id,
                        &r->rpls_id,
                        &r->commune_insee,
                        &r->designataire_actor_id,
                        &r->decision,
                        &r->condition_state,
                        &r->missing_document,
                        &r->non_suite_motif,
                        &r->motif_text,
                        &r->source_type,
                        &r->source_message_id};
    for (size_t i = 0; i < sizeof strings / sizeof *strings; i++)
        free(*strings[i]);
    memset(r, 0, sizeof *r);
}
