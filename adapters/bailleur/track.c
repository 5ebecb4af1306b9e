/* track.c - the state changes of sent and received messages (see track.h).
 *
 * Owns the mapping from message fields to state rows, and the check of a
 * message against the rows of what was sent before (CaleolSeance
 * revisions); holds no SQL (state.c does) and makes no decision about when
 * to record (the callers do). */
#include "track.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fluxbus/fluxbus.h"
#include "fluxbus/v1/caleol.pb-c.h"
#include "fluxbus/v1/designation.pb-c.h"
#include "fluxbus/v1/envelope.pb-c.h"
#include "fluxbus/v1/logement.pb-c.h"
#include "fluxbus/v1/orientation.pb-c.h"

#define T(x) FLUXBUS__V1__MESSAGE_TYPE__MESSAGE_TYPE_##x

static fb_err_t s_sent_logement(state_t *state, const Fluxbus__V1__LogementLibere *m)
{
    if (!*m->vacancy_id)
        return FB_OK;
    return state_vacancy_put(state, m->vacancy_id, m->commune_insee, m->rpls_id);
}

static fb_err_t s_sent_orientation(state_t *state, const Fluxbus__V1__Orientation *m)
{
    if (!*m->vacancy_id || !*m->reservataire_actor_id)
        return FB_OK;
    state_orientation_t o = {.vacancy_id = m->vacancy_id,
                             .reservataire = m->reservataire_actor_id,
                             .convention_id = m->convention_id,
                             .deadline_ms = m->deadline_ms,
                             .candidates_expected = m->candidates_expected,
                             .contingent = m->contingent};
    return state_orientation_put(state, &o);
}

/* Gestion déléguée: the bailleur designated for the credited réservataire,
 * whose orientation is thereby answered. */
static fb_err_t s_sent_designation(state_t *state, const Fluxbus__V1__Designation *m)
{
    const char *who = m->credited_reservataire_actor_id;
    if (!*m->vacancy_id || !*who)
        return FB_OK;
    fb_err_t rc = *m->nur ? state_designation_put(state, m->vacancy_id, m->nur, who, m->rank,
                                                  STATE_SOURCE_SENT)
                          : FB_OK;
    return rc == FB_OK ? state_orientation_close(state, m->vacancy_id, who, m->convention_id) : rc;
}

static fb_err_t s_sent_decision(state_t *state, const Fluxbus__V1__CaleolDecision *m)
{
    bool attribution =
        m->decision == FLUXBUS__V1__CALEOL_DECISION_CODE__CALEOL_DECISION_CODE_ATTRIBUTION ||
        m->decision ==
            FLUXBUS__V1__CALEOL_DECISION_CODE__CALEOL_DECISION_CODE_ATTRIBUTION_PAR_RANG ||
        m->decision ==
            FLUXBUS__V1__CALEOL_DECISION_CODE__CALEOL_DECISION_CODE_SOUS_CONDITION_SUSPENSIVE;
    if (!attribution || !*m->vacancy_id || !*m->nur || !*m->designataire_actor_id)
        return FB_OK;
    return state_designation_put(state, m->vacancy_id, m->nur, m->designataire_actor_id, m->rank,
                                 STATE_SOURCE_DECISION);
}

/* The hex SHA-256 of the packed seance: its content, whatever the file's
 * form (JSON keys in any order, CSV) that gave it. */
static fb_err_t s_seance_digest(const Fluxbus__V1__CaleolSeance *m, char hex[65])
{
    uint8_t *bytes = NULL;
    size_t len = 0;
    fb_err_t rc = fb_codec_pack(&m->base, &bytes, &len);
    if (rc != FB_OK)
        return rc;
    uint8_t digest[32];
    fb_sha256(bytes, len, digest);
    free(bytes);
    fb_hex_encode(digest, sizeof digest, hex);
    return FB_OK;
}

static fb_err_t s_sent_seance(state_t *state, const Fluxbus__V1__CaleolSeance *m)
{
    if (!*m->seance_id)
        return FB_OK;
    char digest[65];
    fb_err_t rc = s_seance_digest(m, digest);
    return rc == FB_OK ? state_seance_put(state, m->seance_id, m->revision, digest) : rc;
}

static fb_err_t s_check_seance(state_t *state, const Fluxbus__V1__CaleolSeance *m,
                               track_error_t *error)
{
    state_seance_t last;
    fb_err_t rc = *m->seance_id ? state_seance_get(state, m->seance_id, &last) : FB_ERR_NOT_FOUND;
    if (rc == FB_ERR_NOT_FOUND || (rc == FB_OK && m->revision > last.revision))
        return FB_OK;
    char digest[65];
    if (rc == FB_OK)
        rc = s_seance_digest(m, digest);
    if (rc != FB_OK)
        return rc;
    if (m->revision == last.revision && strcmp(digest, last.digest) == 0)
        return FB_OK; /* the same again: a duplicate */
    snprintf(error->field, sizeof error->field, "payload.revision");
    if (m->revision == last.revision)
        snprintf(error->reason, sizeof error->reason,
                 "seance %s was sent at revision %u with other content; a change needs "
                 "revision %u",
                 m->seance_id, last.revision, last.revision + 1);
    else
        snprintf(error->reason, sizeof error->reason,
                 "seance %s was sent at revision %u already, this is revision %u; a change "
                 "needs revision %u",
                 m->seance_id, last.revision, m->revision, last.revision + 1);
    return FB_ERR_PARSE;
}

fb_err_t track_check(state_t *state, int type, const ProtobufCMessage *payload,
                     track_error_t *error)
{
    memset(error, 0, sizeof *error);
    if (payload && type == T(CALEOL_SEANCE))
        return s_check_seance(state, (const Fluxbus__V1__CaleolSeance *)payload, error);
    return FB_OK;
}

fb_err_t track_sent(state_t *state, int type, const ProtobufCMessage *payload)
{
    if (!payload)
        return FB_OK;
    switch (type) {
    case T(LOGEMENT_LIBERE):
        return s_sent_logement(state, (const Fluxbus__V1__LogementLibere *)payload);
    case T(ORIENTATION):
        return s_sent_orientation(state, (const Fluxbus__V1__Orientation *)payload);
    case T(DESIGNATION):
        return s_sent_designation(state, (const Fluxbus__V1__Designation *)payload);
    case T(CALEOL_DECISION):
        return s_sent_decision(state, (const Fluxbus__V1__CaleolDecision *)payload);
    case T(CALEOL_SEANCE):
        return s_sent_seance(state, (const Fluxbus__V1__CaleolSeance *)payload);
    default:
        return FB_OK;
    }
}

static fb_err_t s_received_designation(state_t *state, const char *sender,
                                       const Fluxbus__V1__Designation *m)
{
    if (!*m->vacancy_id)
        return FB_OK;
    fb_err_t rc = *m->nur ? state_designation_put(state, m->vacancy_id, m->nur, sender, m->rank,
                                                  STATE_SOURCE_RECEIVED)
                          : FB_OK;
    return rc == FB_OK ? state_orientation_close(state, m->vacancy_id, sender, m->convention_id)
                       : rc;
}

/* The deadline passed (the broker says so, to the bailleur and the
 * réservataire): the orientation to the réservataire among the recipients
 * is closed, so the adapter's own watcher never tells it again. */
static fb_err_t s_received_expiry(state_t *state, const char *const *recipients,
                                  size_t n_recipients, const Fluxbus__V1__DeadlineExpired *m)
{
    fb_err_t rc = FB_OK;
    for (size_t i = 0; rc == FB_OK && *m->vacancy_id && i < n_recipients; i++)
        if (recipients[i] && *recipients[i])
            rc = state_orientation_close(state, m->vacancy_id, recipients[i], m->convention_id);
    return rc;
}

fb_err_t track_received(state_t *state, const char *sender, const char *const *recipients,
                        size_t n_recipients, int type, const ProtobufCMessage *payload)
{
    if (!payload || !sender || !*sender)
        return FB_OK;
    switch (type) {
    case T(DEADLINE_EXPIRED):
        return s_received_expiry(state, recipients, n_recipients,
                                 (const Fluxbus__V1__DeadlineExpired *)payload);
    case T(DESIGNATION):
        return s_received_designation(state, sender, (const Fluxbus__V1__Designation *)payload);
    case T(REMISE_A_DISPOSITION): {
        const Fluxbus__V1__RemiseADisposition *m = (const Fluxbus__V1__RemiseADisposition *)payload;
        return *m->vacancy_id
                   ? state_orientation_close(state, m->vacancy_id, sender, m->convention_id)
                   : FB_OK;
    }
    case T(ORIENTATION_DECLINE): {
        const Fluxbus__V1__OrientationDecline *m = (const Fluxbus__V1__OrientationDecline *)payload;
        return *m->vacancy_id
                   ? state_orientation_close(state, m->vacancy_id, sender, m->convention_id)
                   : FB_OK;
    }
    default:
        return FB_OK;
    }
}
