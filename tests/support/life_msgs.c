/* life_msgs.c - see life_msgs.h. Owns the fields the lifecycle messages of
 * the tests and benches have in common; no allocation, no encoding. */
#include "life_msgs.h"

Fluxbus__V1__Orientation life_msgs_orientation(const char *vacancy, const char *convention,
                                               const char *resa, uint32_t round, uint32_t expected,
                                               int64_t deadline_ms)
{
    Fluxbus__V1__Orientation o = FLUXBUS__V1__ORIENTATION__INIT;
    o.vacancy_id = (char *)vacancy;
    o.convention_id = (char *)convention;
    o.reservataire_actor_id = (char *)resa;
    o.round = round;
    o.candidates_expected = expected;
    o.deadline_ms = deadline_ms;
    return o;
}

Fluxbus__V1__OrientationAck life_msgs_ack(const char *vacancy)
{
    Fluxbus__V1__OrientationAck a = FLUXBUS__V1__ORIENTATION_ACK__INIT;
    a.vacancy_id = (char *)vacancy;
    return a;
}

Fluxbus__V1__OrientationDecline life_msgs_decline(const char *vacancy)
{
    Fluxbus__V1__OrientationDecline d = FLUXBUS__V1__ORIENTATION_DECLINE__INIT;
    d.vacancy_id = (char *)vacancy;
    d.reason = FLUXBUS__V1__ORIENTATION_DECLINE_REASON__ORIENTATION_DECLINE_REASON_OTHER;
    return d;
}

Fluxbus__V1__Designation life_msgs_designation(const char *vacancy, const char *nur, uint32_t rank,
                                               uint32_t count)
{
    Fluxbus__V1__Designation d = FLUXBUS__V1__DESIGNATION__INIT;
    d.vacancy_id = (char *)vacancy;
    d.nur = (char *)nur;
    d.rank = rank;
    d.candidate_count = count;
    return d;
}

Fluxbus__V1__CaleolDecision life_msgs_decision(const char *seance, const char *vacancy,
                                               const char *nur, uint32_t rank,
                                               const char *designataire, int code,
                                               int64_t decided_ms)
{
    Fluxbus__V1__CaleolDecision d = FLUXBUS__V1__CALEOL_DECISION__INIT;
    if (seance) /* else the empty default */
        d.seance_id = (char *)seance;
    d.vacancy_id = (char *)vacancy;
    d.nur = (char *)nur;
    d.rank = rank;
    d.designataire_actor_id = (char *)designataire;
    d.decision = code;
    d.decided_ms = decided_ms;
    return d;
}

Fluxbus__V1__PropositionReponse life_msgs_answer(const char *vacancy, const char *nur, bool refused,
                                                 int64_t answered_ms)
{
    Fluxbus__V1__PropositionReponse r = FLUXBUS__V1__PROPOSITION_REPONSE__INIT;
    r.vacancy_id = (char *)vacancy;
    r.nur = (char *)nur;
    r.answer = refused ? FLUXBUS__V1__PROPOSITION_ANSWER__PROPOSITION_ANSWER_REFUSEE
                       : FLUXBUS__V1__PROPOSITION_ANSWER__PROPOSITION_ANSWER_ACCEPTEE;
    if (refused)
        r.refus_motif = FLUXBUS__V1__REFUS_MOTIF__REFUS_MOTIF_LOCALISATION;
    r.answered_ms = answered_ms;
    return r;
}

Fluxbus__V1__AttributionNonSuivieDeBail life_msgs_no_lease(const char *vacancy, const char *nur)
{
    Fluxbus__V1__AttributionNonSuivieDeBail n = FLUXBUS__V1__ATTRIBUTION_NON_SUIVIE_DE_BAIL__INIT;
    n.vacancy_id = (char *)vacancy;
    n.nur = (char *)nur;
    n.reason = FLUXBUS__V1__NON_SUITE_MOTIF__NON_SUITE_MOTIF_REFUS_MENAGE;
    return n;
}

Fluxbus__V1__BailSigne life_msgs_lease(const char *vacancy, const char *nur,
                                       const char *designataire)
{
    Fluxbus__V1__BailSigne b = FLUXBUS__V1__BAIL_SIGNE__INIT;
    b.vacancy_id = (char *)vacancy;
    b.nur = (char *)nur;
    b.designataire_actor_id = (char *)designataire;
    return b;
}
