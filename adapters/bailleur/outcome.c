/* outcome.c - a freed dwelling's outcome for its commune (see outcome.h).
 *
 * Owns which of the bailleur's messages make a LogementIssue and what goes
 * in it. Never copies a NUR, a name or a household detail into it: the
 * LogementIssue message has no field for them, and only the vacancy's ids,
 * the kind of outcome, the contingent and a date are set here. */
#include "outcome.h"

#include <stdio.h>
#include <string.h>

#include "fluxbus/v1/bail.pb-c.h"
#include "fluxbus/v1/caleol.pb-c.h"
#include "fluxbus/v1/envelope.pb-c.h"
#include "localdate.h"
#include "routing.h"

#define T(x) FLUXBUS__V1__MESSAGE_TYPE__MESSAGE_TYPE_##x
#define S_BAILLEUR FLUXBUS__V1__CONTINGENT_TYPE__CONTINGENT_TYPE_BAILLEUR

/* A copy of a date of a payload, without its unknown fields. */
static void s_set_date(outcome_t *out, const Fluxbus__V1__Date *date)
{
    if (!date)
        return;
    out->date.year = date->year;
    out->date.month = date->month;
    out->date.day = date->day;
    out->issue.date = &out->date;
}

/* First designator of (vacancy, nur), kept by s_first. */
typedef struct {
    char actor[256];
} s_first_t;

static fb_err_t s_first(void *ctx, const char *actor)
{
    s_first_t *f = ctx;
    if (!f->actor[0])
        snprintf(f->actor, sizeof f->actor, "%s", actor);
    return FB_OK;
}

/* The contingent of reservataire's orientation on the vacancy, BAILLEUR
 * when there is none. */
static fb_err_t s_contingent(state_t *state, const char *vacancy_id, const char *reservataire,
                             int *contingent)
{
    *contingent = S_BAILLEUR;
    if (!reservataire || !*reservataire)
        return FB_OK;
    int c = 0;
    fb_err_t rc = state_orientation_contingent(state, vacancy_id, reservataire, &c);
    if (rc == FB_OK && c != 0)
        *contingent = c;
    return rc == FB_ERR_NOT_FOUND ? FB_OK : rc;
}

static bool s_is_attribution(const Fluxbus__V1__CaleolDecision *d)
{
    switch (d->decision) {
    case FLUXBUS__V1__CALEOL_DECISION_CODE__CALEOL_DECISION_CODE_ATTRIBUTION:
    case FLUXBUS__V1__CALEOL_DECISION_CODE__CALEOL_DECISION_CODE_ATTRIBUTION_PAR_RANG:
        return true;
    case FLUXBUS__V1__CALEOL_DECISION_CODE__CALEOL_DECISION_CODE_SOUS_CONDITION_SUSPENSIVE:
        /* A lapsed condition ends the attribution: the AttributionNonSuivieDeBail
         * that follows says so. */
        return d->condition_state != FLUXBUS__V1__CONDITION_STATE__CONDITION_STATE_LAPSED;
    default:
        return false;
    }
}

static fb_err_t s_from_decision(state_t *state, const char *tz,
                                const Fluxbus__V1__CaleolDecision *d, outcome_t *out, bool *has)
{
    if (!s_is_attribution(d))
        return FB_OK;
    int contingent = 0;
    fb_err_t rc = s_contingent(state, d->vacancy_id, d->designataire_actor_id, &contingent);
    if (rc != FB_OK)
        return rc;
    out->issue.vacancy_id = d->vacancy_id;
    out->issue.issue = FLUXBUS__V1__LOGEMENT_ISSUE_KIND__LOGEMENT_ISSUE_KIND_ATTRIBUE;
    out->issue.contingent = (Fluxbus__V1__ContingentType)contingent;
    if (d->decided_ms) {
        localdate_t day;
        rc = localdate_from_ms(d->decided_ms, tz, &day);
        if (rc != FB_OK)
            return rc;
        out->date.year = day.year;
        out->date.month = day.month;
        out->date.day = day.day;
        out->issue.date = &out->date;
    }
    *has = true;
    return FB_OK;
}

static fb_err_t s_from_non_suivie(state_t *state, const Fluxbus__V1__AttributionNonSuivieDeBail *m,
                                  outcome_t *out, bool *has)
{
    s_first_t who = {{0}};
    fb_err_t rc = *m->nur ? state_designators(state, m->vacancy_id, m->nur, s_first, &who) : FB_OK;
    int contingent = 0;
    if (rc == FB_OK)
        rc = s_contingent(state, m->vacancy_id, who.actor, &contingent);
    if (rc != FB_OK)
        return rc;
    out->issue.vacancy_id = m->vacancy_id;
    out->issue.issue = FLUXBUS__V1__LOGEMENT_ISSUE_KIND__LOGEMENT_ISSUE_KIND_NON_SUIVI;
    out->issue.contingent = (Fluxbus__V1__ContingentType)contingent;
    s_set_date(out, m->date);
    *has = true;
    return FB_OK;
}

static fb_err_t s_from_bail(state_t *state, const Fluxbus__V1__BailSigne *m, outcome_t *out,
                            bool *has)
{
    int contingent = m->contingent;
    fb_err_t rc = contingent
                      ? FB_OK
                      : s_contingent(state, m->vacancy_id, m->designataire_actor_id, &contingent);
    if (rc != FB_OK)
        return rc;
    out->issue.vacancy_id = m->vacancy_id;
    out->issue.issue = FLUXBUS__V1__LOGEMENT_ISSUE_KIND__LOGEMENT_ISSUE_KIND_BAIL_SIGNE;
    out->issue.contingent = (Fluxbus__V1__ContingentType)contingent;
    s_set_date(out, m->signed_on);
    /* The lease names its dwelling itself; the vacancy's record fills gaps. */
    if (*m->commune_insee)
        snprintf(out->vacancy.commune_insee, sizeof out->vacancy.commune_insee, "%s",
                 m->commune_insee);
    if (*m->rpls_id)
        snprintf(out->vacancy.rpls_id, sizeof out->vacancy.rpls_id, "%s", m->rpls_id);
    *has = true;
    return FB_OK;
}

fb_err_t outcome_issue(state_t *state, const char *tz, int type, const ProtobufCMessage *payload,
                       outcome_t *out, bool *has)
{
    memset(out, 0, sizeof *out);
    *has = false;
    Fluxbus__V1__LogementIssue init = FLUXBUS__V1__LOGEMENT_ISSUE__INIT;
    Fluxbus__V1__Date date = FLUXBUS__V1__DATE__INIT;
    out->issue = init;
    out->date = date;
    fb_err_t rc = FB_OK;
    if (type == T(CALEOL_DECISION))
        rc = s_from_decision(state, tz, (const Fluxbus__V1__CaleolDecision *)payload, out, has);
    else if (type == T(ATTRIBUTION_NON_SUIVIE_DE_BAIL))
        rc = s_from_non_suivie(state, (const Fluxbus__V1__AttributionNonSuivieDeBail *)payload, out,
                               has);
    else if (type == T(BAIL_SIGNE))
        rc = s_from_bail(state, (const Fluxbus__V1__BailSigne *)payload, out, has);
    if (rc != FB_OK || !*has)
        return rc;
    *has = false;
    if (!*out->issue.vacancy_id)
        return FB_OK;
    /* The commune (and RPLS number) from the vacancy's LogementLibere. */
    state_vacancy_t known;
    rc = state_vacancy_get(state, out->issue.vacancy_id, &known);
    if (rc != FB_OK && rc != FB_ERR_NOT_FOUND)
        return rc;
    if (!out->vacancy.commune_insee[0])
        memcpy(out->vacancy.commune_insee, known.commune_insee, sizeof known.commune_insee);
    if (!out->vacancy.rpls_id[0])
        memcpy(out->vacancy.rpls_id, known.rpls_id, sizeof known.rpls_id);
    if (!routing_is_insee(out->vacancy.commune_insee))
        return FB_OK;
    out->issue.commune_insee = out->vacancy.commune_insee;
    out->issue.rpls_id = out->vacancy.rpls_id;
    snprintf(out->topic, sizeof out->topic, "logements/%s", out->vacancy.commune_insee);
    *has = true;
    return FB_OK;
}
