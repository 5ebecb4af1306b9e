/* instants.c - the bounds of the dates a message states (see instants.h).
 *
 * Owns: which payload dates are bounded, by what, and the detail of a
 * refusal. Does not own: the lifecycle (lifecycle.c, asked first), nor what
 * the dates are written as (facts.c). Reads only. */
#include "instants.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <time.h>

#include "fluxbus/v1/bail.pb-c.h"
#include "fluxbus/v1/caleol.pb-c.h"
#include "fluxbus/v1/designation.pb-c.h"
#include "fluxbus/v1/envelope.pb-c.h"

#define T(x) FLUXBUS__V1__MESSAGE_TYPE__MESSAGE_TYPE_##x
#define S_NONE INT64_MIN /* no bound */

void instants_format(int64_t ms, char out[21])
{
    /* Seconds rounded down, without overflow at the ends of int64. */
    time_t t = (time_t)(ms / 1000 - (ms % 1000 < 0 ? 1 : 0));
    struct tm tm;
    if (!gmtime_r(&t, &tm) || strftime(out, 21, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        snprintf(out, 21, "%lld ms", (long long)ms);
}

/* One date and what it is, as a refusal names it. */
typedef struct {
    const char *msg;   /* "CaleolDecision" */
    const char *field; /* "decided_ms" */
    const char *nur, *vacancy;
    int64_t at; /* the date the ledger keeps: the payload's, else acceptance */
    int64_t skew;
    char *detail;
    size_t dlen;
} s_date_t;

static fb_err_t s_refuse(const s_date_t *d, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* "<msg> for NUR <nur> on <vac> dated <when> (<field>), <why>". */
static fb_err_t s_refuse(const s_date_t *d, const char *fmt, ...)
{
    char when[21];
    instants_format(d->at, when);
    int n = snprintf(d->detail, d->dlen, "%s for NUR %s on %s dated %s (%s), ", d->msg, d->nur,
                     d->vacancy, when, d->field);
    if (n >= 0 && (size_t)n < d->dlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(d->detail + n, d->dlen - (size_t)n, fmt, ap);
        va_end(ap);
    }
    return FB_ERR_INVALID_TRANSITION;
}

/* Is `late` at most the allowance after `early`? The dates come from
 * payloads: any int64, so the difference is taken without overflow. */
static bool s_within(const s_date_t *d, int64_t early, int64_t late)
{
    return late <= early || (uint64_t)late - (uint64_t)early <= (uint64_t)d->skew;
}

/* Not later than the acceptance (plus the allowance). */
static fb_err_t s_not_after(const s_date_t *d, int64_t accepted, const char *why)
{
    if (s_within(d, accepted, d->at))
        return FB_OK;
    char when[21];
    instants_format(accepted, when);
    return s_refuse(d, "more than %lld s after its acceptance (%s): %s", (long long)d->skew / 1000,
                    when, why);
}

/* Not earlier than `bound` (minus the allowance); S_NONE: no bound. */
static fb_err_t s_not_before(const s_date_t *d, int64_t bound, const char *what)
{
    if (bound == S_NONE || s_within(d, d->at, bound))
        return FB_OK;
    char when[21];
    instants_format(bound, when);
    return s_refuse(d, "more than %lld s before %s (%s)", (long long)d->skew / 1000, what, when);
}

/* The first column of one row of `sql` (text parameters), or S_NONE when
 * there is none or it is NULL or 0. FB_OK or FB_ERR_STORE. */
static fb_err_t s_instant(stmts_t *q, const char *sql, const char *a, const char *b, int64_t *out)
{
    sqlite3_stmt *st = NULL;
    *out = S_NONE;
    if (!(st = stmts_get(q, sql)))
        return FB_ERR_STORE;
    sqlite3_bind_text(st, 1, a, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, b, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW && sqlite3_column_int64(st, 0) != 0)
        *out = sqlite3_column_int64(st, 0);
    stmts_put(q, st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? FB_OK : FB_ERR_STORE;
}

/* The CALEOL decision of the candidate, as the ledger dates it. */
static fb_err_t s_decided(stmts_t *q, const char *vacancy, const char *nur, int64_t *out)
{
    return s_instant(q,
                     "SELECT decided_ms FROM ledger_candidates WHERE vacancy_id = ?1 AND nur = ?2"
                     " AND decision IS NOT NULL",
                     vacancy, nur, out);
}

static fb_err_t s_visit(const ledger_msg_t *m, s_date_t *d)
{
    const Fluxbus__V1__Visite *v = (const void *)m->payload;
    d->msg = "Visite", d->field = "visit_ms", d->nur = v->nur, d->vacancy = v->vacancy_id;
    d->at = v->visit_ms ? v->visit_ms : m->at_ms;
    /* A visit planned, or a plan called off, may lie ahead. */
    if (v->outcome == FLUXBUS__V1__VISITE_OUTCOME__VISITE_OUTCOME_SCHEDULED ||
        v->outcome == FLUXBUS__V1__VISITE_OUTCOME__VISITE_OUTCOME_CANCELLED)
        return FB_OK;
    return s_not_after(d, m->at_ms,
                       "a visit is reported once it took place (a planned one is "
                       "SCHEDULED)");
}

static fb_err_t s_decision(stmts_t *q, const ledger_msg_t *m, s_date_t *d)
{
    const Fluxbus__V1__CaleolDecision *c = (const void *)m->payload;
    d->msg = "CaleolDecision", d->field = "decided_ms", d->nur = c->nur, d->vacancy = c->vacancy_id;
    d->at = c->decided_ms ? c->decided_ms : m->at_ms;
    fb_err_t rc = s_not_after(d, m->at_ms, "a decision is sent once the CALEOL took it");
    int64_t bound = S_NONE;
    if (rc == FB_OK && *c->seance_id)
        rc = s_instant(q,
                       "SELECT start_ms FROM ledger_seances WHERE seance_id = ?1 AND bailleur = ?2",
                       c->seance_id, m->sender, &bound);
    if (rc == FB_OK)
        rc = s_not_before(d, bound, "the start of its CALEOL session");
    /* Lifting or lapsing a suspensive condition follows the decision. */
    bool settles =
        c->decision ==
            FLUXBUS__V1__CALEOL_DECISION_CODE__CALEOL_DECISION_CODE_SOUS_CONDITION_SUSPENSIVE &&
        (c->condition_state == FLUXBUS__V1__CONDITION_STATE__CONDITION_STATE_LIFTED ||
         c->condition_state == FLUXBUS__V1__CONDITION_STATE__CONDITION_STATE_LAPSED);
    if (rc == FB_OK && settles)
        rc = s_decided(q, c->vacancy_id, c->nur, &bound);
    if (rc == FB_OK && settles)
        rc = s_not_before(d, bound, "the decision whose condition it settles");
    return rc;
}

static fb_err_t s_answer(stmts_t *q, const ledger_msg_t *m, s_date_t *d)
{
    const Fluxbus__V1__PropositionReponse *p = (const void *)m->payload;
    d->msg = "PropositionReponse", d->field = "answered_ms", d->nur = p->nur,
    d->vacancy = p->vacancy_id;
    d->at = p->answered_ms ? p->answered_ms : m->at_ms;
    fb_err_t rc = s_not_after(d, m->at_ms, "an answer is sent once given");
    int64_t decided = S_NONE;
    if (rc == FB_OK)
        rc = s_decided(q, p->vacancy_id, p->nur, &decided);
    return rc == FB_OK ? s_not_before(d, decided, "the CALEOL decision it answers") : rc;
}

fb_err_t instants_check(stmts_t *q, const ledger_msg_t *msg, int64_t skew_ms, char *detail,
                        size_t dlen)
{
    char scratch[8];
    s_date_t d = {
        .skew = skew_ms, .detail = dlen ? detail : scratch, .dlen = dlen ? dlen : sizeof scratch};
    if (!msg->payload)
        return FB_OK;
    switch (msg->type) {
    case T(VISITE):
        return s_visit(msg, &d);
    case T(CALEOL_DECISION):
        return s_decision(q, msg, &d);
    case T(PROPOSITION_REPONSE):
        return s_answer(q, msg, &d);
    default:
        return FB_OK;
    }
}
