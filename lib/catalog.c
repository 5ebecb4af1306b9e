/* catalog.c - the message catalog: which payload message each MessageType
 * value names.
 *
 * Owns: the one static table from MessageType value to message name and
 * protobuf-c descriptor, for the domain messages (1..19, proto files
 * logement, orientation, designation, caleol, bail, sne, ledger) and the
 * bus's own messages that travel as a SignedBody payload (Receipt, Nack,
 * DeliveryAck, KeyCert; envelope.proto).
 *
 * Does not own: packing or unpacking (codec.c), deciding who may send what
 * (the broker's authorization), or the frames that are not SignedBody
 * payloads (Hello, Welcome, Subscribe, SubAck).
 *
 * Invariants: the table is constant and sorted by type, domain types first;
 * every entry's name equals its descriptor's short_name, and its enum value
 * name is "MESSAGE_TYPE_" + the name in UPPER_SNAKE (checked by
 * tests/unit/lib/test_catalog.c). No allocation, no state: thread-safe. */
#include <ctype.h>
#include <stddef.h>
#include <string.h>

#include "fluxbus/catalog.h"
#include "fluxbus/v1/envelope.pb-c.h"
#include "fluxbus/v1/logement.pb-c.h"
#include "fluxbus/v1/orientation.pb-c.h"
#include "fluxbus/v1/designation.pb-c.h"
#include "fluxbus/v1/caleol.pb-c.h"
#include "fluxbus/v1/bail.pb-c.h"
#include "fluxbus/v1/sne.pb-c.h"
#include "fluxbus/v1/ledger.pb-c.h"

/* Shortens the table: T(LOGEMENT_LIBERE, LogementLibere, logement_libere). */
#define T(suffix, name, lower)                                                                     \
    {                                                                                              \
        FLUXBUS__V1__MESSAGE_TYPE__MESSAGE_TYPE_##suffix, #name,                                   \
            &fluxbus__v1__##lower##__descriptor                                                    \
    }

static const fb_catalog_entry_t s_catalog[] = {
    /* Domain messages, in the order of a vacancy's life. */
    T(LOGEMENT_LIBERE, LogementLibere, logement_libere),
    T(ORIENTATION, Orientation, orientation),
    T(ORIENTATION_ACK, OrientationAck, orientation_ack),
    T(ORIENTATION_DECLINE, OrientationDecline, orientation_decline),
    T(DESIGNATION, Designation, designation),
    /* protoc-c lowers "RemiseADisposition" to remise_adisposition. */
    T(REMISE_A_DISPOSITION, RemiseADisposition, remise_adisposition),
    T(DEADLINE_EXPIRED, DeadlineExpired, deadline_expired),
    T(VISITE, Visite, visite),
    T(CALEOL_SEANCE, CaleolSeance, caleol_seance),
    T(CALEOL_DECISION, CaleolDecision, caleol_decision),
    T(PROPOSITION_REPONSE, PropositionReponse, proposition_reponse),
    T(ATTRIBUTION_NON_SUIVIE_DE_BAIL, AttributionNonSuivieDeBail, attribution_non_suivie_de_bail),
    T(BAIL_SIGNE, BailSigne, bail_signe),
    T(SNE_RADIATION_ACK, SneRadiationAck, sne_radiation_ack),
    T(CONVENTION, Convention, convention),
    T(DECOMPTE_DROITS, DecompteDroits, decompte_droits),
    T(BILAN_ANNUEL, BilanAnnuel, bilan_annuel),
    T(LOGEMENT_ISSUE, LogementIssue, logement_issue),
    T(BILAN_REQUEST, BilanRequest, bilan_request),
    /* The bus's own signed payloads. */
    T(RECEIPT, Receipt, receipt),
    T(NACK, Nack, nack),
    T(DELIVERY_ACK, DeliveryAck, delivery_ack),
    T(KEY_CERT, KeyCert, key_cert),
};

#undef T

#define S_COUNT (sizeof s_catalog / sizeof s_catalog[0])

/* The prefix every MessageType value name carries in envelope.proto. */
static const char s_enum_prefix[] = "MESSAGE_TYPE_";

/* ASCII case-insensitive equality; not strcasecmp, which is POSIX, not C11,
 * and depends on the locale. */
static int s_equal_nocase(const char *a, const char *b)
{
    for (; *a && *b; a++, b++) {
        if (tolower((unsigned char)*a) != tolower((unsigned char)*b))
            return 0;
    }
    return *a == *b;
}

/* The enum suffix of an entry ("LOGEMENT_LIBERE"), read from the generated
 * enum descriptor so the spelling has one source: envelope.proto. */
static const char *s_enum_suffix(const fb_catalog_entry_t *entry)
{
    const ProtobufCEnumValue *value =
        protobuf_c_enum_descriptor_get_value(&fluxbus__v1__message_type__descriptor, entry->type);
    if (!value || strncmp(value->name, s_enum_prefix, sizeof s_enum_prefix - 1) != 0)
        return NULL;
    return value->name + sizeof s_enum_prefix - 1;
}

const fb_catalog_entry_t *fb_catalog_by_type(int type)
{
    for (size_t i = 0; i < S_COUNT; i++) {
        if (s_catalog[i].type == type)
            return &s_catalog[i];
    }
    return NULL;
}

const fb_catalog_entry_t *fb_catalog_by_name(const char *name)
{
    if (!name || !*name)
        return NULL;
    for (size_t i = 0; i < S_COUNT; i++) {
        if (s_equal_nocase(name, s_catalog[i].name))
            return &s_catalog[i];
        const char *suffix = s_enum_suffix(&s_catalog[i]);
        if (suffix && s_equal_nocase(name, suffix))
            return &s_catalog[i];
    }
    return NULL;
}

const fb_catalog_entry_t *fb_catalog_all(size_t *count)
{
    if (count)
        *count = S_COUNT;
    return s_catalog;
}
