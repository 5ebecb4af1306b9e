/* ledger_script.h - scripting facts for the ledger's unit tests: a fresh
 * store (store_open in a mkdtemp directory) with the ledger on its
 * connection, and one helper per domain message that builds the real
 * protobuf payload and records it through ledger_record (as the broker does
 * after accepting it), at a chosen instant. Every message is first checked
 * with ledger_check, like the broker does, and a refusal fails the test:
 * the scripted lives are ones the broker accepts. The payloads a vacancy's
 * life shares with the integration tests and the benches come from
 * tests/support/life_msgs.h.
 *
 * Header-only (static inline) so that each test_*.c program takes what it
 * uses. Instants are 10:00 Paris time on the day given. */
#ifndef FLUXBUS_TEST_LEDGER_SCRIPT_H
#define FLUXBUS_TEST_LEDGER_SCRIPT_H

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fluxbus/v1/bail.pb-c.h"
#include "fluxbus/v1/caleol.pb-c.h"
#include "fluxbus/v1/designation.pb-c.h"
#include "fluxbus/v1/envelope.pb-c.h"
#include "fluxbus/v1/ledger.pb-c.h"
#include "fluxbus/v1/logement.pb-c.h"
#include "fluxbus/v1/orientation.pb-c.h"
#include "ledger.h"
#include "life_msgs.h"
#include "period.h"
#include "store.h"
#include "tmpdir.h"

#define SC_BAILLEUR "bailleur:552046955"
#define SC_AL "reservataire:action-logement"
#define SC_ETAT "reservataire:etat-74"
#define SC_TYPE(x) FLUXBUS__V1__MESSAGE_TYPE__MESSAGE_TYPE_##x

typedef struct {
    char dir[64];
    char path[128];
    store_t *store;
    ledger_t *ledger;
    uint64_t seq;
} script_t;

static inline void script_open(script_t *s)
{
    memset(s, 0, sizeof *s);
    assert_int_equal(tmpdir_make(s->dir, sizeof s->dir, "ledger"), 0);
    snprintf(s->path, sizeof s->path, "%s/store.db", s->dir);
    char err[256] = "";
    s->store = store_open(s->path, err, sizeof err);
    if (!s->store)
        fail_msg("store_open: %s", err);
    s->ledger = ledger_open(store_db(s->store), err, sizeof err);
    if (!s->ledger)
        fail_msg("ledger_open: %s", err);
}

static inline void script_close(script_t *s)
{
    ledger_close(&s->ledger);
    store_destroy(&s->store);
    tmpdir_remove(s->dir);
}

/* The first column of the one row `sql` reads from the store (-1 when it
 * is NULL); the test fails when the query does. */
static inline int64_t script_int(script_t *s, const char *sql)
{
    sqlite3 *db = store_db(s->store);
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        fail_msg("%s: %s", sql, sqlite3_errmsg(db));
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    int64_t v = sqlite3_column_type(st, 0) == SQLITE_NULL ? -1 : sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

/* 10:00 Paris time on y-m-d. */
static inline int64_t script_at(int y, int m, int d)
{
    return period_day_start_ms((period_date_t){y, m, d}) + 10 * 3600 * 1000LL;
}

static inline ledger_msg_t script_msg(script_t *s, const char *sender, int type,
                                      const char *vacancy, const char *const *to, int64_t at,
                                      const void *payload)
{
    ledger_msg_t m = {.seq = ++s->seq,
                      .sender = sender,
                      .type = type,
                      .correlation_id = vacancy ? vacancy : "",
                      .recipients = to,
                      .n_recipients = to ? 1 : 0,
                      .at_ms = at,
                      .payload = payload};
    return m;
}

/* ledger_check of one message, as the broker asks it before accepting:
 * FB_OK or the refusal, its detail in detail. Nothing is recorded. */
static inline fb_err_t script_check(script_t *s, const char *sender, int type, const char *vacancy,
                                    const char *to, int64_t at, const void *payload, char *detail,
                                    size_t dlen)
{
    const char *const rcpt[] = {to};
    ledger_msg_t m = script_msg(s, sender, type, vacancy, to ? rcpt : NULL, at, payload);
    s->seq--; /* a check is not stored */
    m.seq = 0;
    return ledger_check(s->ledger, &m, detail, dlen);
}

/* Records one message the way the broker accepts it: ledger_check first
 * (the test fails with the refusal's detail), then ledger_record (asserts
 * it was written). */
static inline void script_record(script_t *s, const char *sender, int type, const char *vacancy,
                                 const char *to, int64_t at, const void *payload)
{
    char detail[256] = "";
    fb_err_t rc = script_check(s, sender, type, vacancy, to, at, payload, detail, sizeof detail);
    if (rc != FB_OK)
        fail_msg("message type %d from %s on %s refused by ledger_check: %s", type, sender,
                 vacancy ? vacancy : "-", detail);
    const char *const rcpt[] = {to};
    ledger_msg_t m = script_msg(s, sender, type, vacancy, to ? rcpt : NULL, at, payload);
    assert_int_equal(ledger_record(s->ledger, &m), FB_OK);
}

static inline void script_libere(script_t *s, const char *vacancy, const char *insee, int mode,
                                 int motif, int64_t at)
{
    Fluxbus__V1__LogementLibere l = FLUXBUS__V1__LOGEMENT_LIBERE__INIT;
    l.vacancy_id = (char *)vacancy;
    l.commune_insee = (char *)insee;
    l.bailleur_siren = "552046955";
    l.mode_gestion = mode ? mode : FLUXBUS__V1__MODE_GESTION__MODE_GESTION_FLUX;
    l.hors_flux_motif = motif;
    script_record(s, SC_BAILLEUR, SC_TYPE(LOGEMENT_LIBERE), vacancy, NULL, at, &l);
}

/* The Orientation payload (strings borrowed). */
static inline Fluxbus__V1__Orientation script_orientation(const char *vacancy, const char *resa,
                                                          const char *conv, unsigned round,
                                                          int64_t at)
{
    return life_msgs_orientation(vacancy, conv, resa, round, 1, at + 15 * 86400000LL);
}

/* ledger_check of an Orientation from `bailleur`: FB_OK or the refusal,
 * its detail in detail. Nothing is recorded. */
static inline fb_err_t script_check_orient_from(script_t *s, const char *bailleur,
                                                const char *vacancy, const char *resa,
                                                const char *conv, int64_t at, char *detail,
                                                size_t dlen)
{
    Fluxbus__V1__Orientation o = script_orientation(vacancy, resa, conv, 1, at);
    const char *const rcpt[] = {resa};
    ledger_msg_t m = script_msg(s, bailleur, SC_TYPE(ORIENTATION), vacancy, rcpt, at, &o);
    s->seq--; /* a check is not stored */
    m.seq = 0;
    return ledger_check(s->ledger, &m, detail, dlen);
}

static inline fb_err_t script_check_orient(script_t *s, const char *vacancy, const char *resa,
                                           const char *conv, int64_t at, char *detail, size_t dlen)
{
    return script_check_orient_from(s, SC_BAILLEUR, vacancy, resa, conv, at, detail, dlen);
}

/* Checks (must pass) then records an Orientation, round `round`. */
static inline void script_orient_round(script_t *s, const char *vacancy, const char *resa,
                                       const char *conv, unsigned round, int64_t at)
{
    char detail[256] = "";
    fb_err_t rc = script_check_orient(s, vacancy, resa, conv, at, detail, sizeof detail);
    if (rc != FB_OK)
        fail_msg("orientation of %s to %s refused: %s", vacancy, resa, detail);
    Fluxbus__V1__Orientation o = script_orientation(vacancy, resa, conv, round, at);
    script_record(s, SC_BAILLEUR, SC_TYPE(ORIENTATION), vacancy, resa, at, &o);
}

static inline void script_orient(script_t *s, const char *vacancy, const char *resa,
                                 const char *conv, int64_t at)
{
    script_orient_round(s, vacancy, resa, conv, 1, at);
}

static inline void script_ack(script_t *s, const char *vacancy, const char *resa, int64_t at)
{
    Fluxbus__V1__OrientationAck a = life_msgs_ack(vacancy);
    script_record(s, resa, SC_TYPE(ORIENTATION_ACK), vacancy, SC_BAILLEUR, at, &a);
}

static inline void script_decline(script_t *s, const char *vacancy, const char *resa, int64_t at)
{
    Fluxbus__V1__OrientationDecline d = life_msgs_decline(vacancy);
    script_record(s, resa, SC_TYPE(ORIENTATION_DECLINE), vacancy, SC_BAILLEUR, at, &d);
}

static inline void script_remise(script_t *s, const char *vacancy, const char *resa, int64_t at)
{
    Fluxbus__V1__RemiseADisposition r = FLUXBUS__V1__REMISE_ADISPOSITION__INIT;
    r.vacancy_id = (char *)vacancy;
    r.reason = FLUXBUS__V1__REMISE_REASON__REMISE_REASON_NO_CANDIDATE;
    script_record(s, resa, SC_TYPE(REMISE_A_DISPOSITION), vacancy, SC_BAILLEUR, at, &r);
}

static inline void script_expire(script_t *s, const char *vacancy, const char *resa, int64_t at)
{
    Fluxbus__V1__DeadlineExpired e = FLUXBUS__V1__DEADLINE_EXPIRED__INIT;
    e.vacancy_id = (char *)vacancy;
    e.deadline_ms = at;
    script_record(s, SC_BAILLEUR, SC_TYPE(DEADLINE_EXPIRED), vacancy, resa, at, &e);
}

/* A Designation of `nur`, rank `rank` of a round of `count`, sent by
 * `sender`, credited to `credited`. */
static inline void script_designate_rank(script_t *s, const char *sender, const char *vacancy,
                                         const char *nur, const char *credited, unsigned rank,
                                         unsigned count, int64_t at)
{
    Fluxbus__V1__Designation d = life_msgs_designation(vacancy, nur, rank, count);
    d.credited_reservataire_actor_id = (char *)credited;
    script_record(s, sender, SC_TYPE(DESIGNATION), vacancy, SC_BAILLEUR, at, &d);
}

/* A Designation of `nur` sent by `sender`, credited to `credited`. */
static inline void script_designate_by(script_t *s, const char *sender, const char *vacancy,
                                       const char *nur, const char *credited, bool deleguee,
                                       int64_t at)
{
    Fluxbus__V1__Designation d = life_msgs_designation(vacancy, nur, 1, 1);
    d.credited_reservataire_actor_id = (char *)credited;
    d.gestion_deleguee = deleguee;
    script_record(s, sender, SC_TYPE(DESIGNATION), vacancy, SC_BAILLEUR, at, &d);
}

static inline void script_designate(script_t *s, const char *vacancy, const char *nur,
                                    const char *resa, int64_t at)
{
    script_designate_by(s, resa, vacancy, nur, resa, false, at);
}

/* A Visite of `nur` with `outcome` (VisiteOutcome), dated visit_ms,
 * accepted at `at` (a report may come days after the visit). */
static inline void script_visit_outcome(script_t *s, const char *vacancy, const char *nur,
                                        int outcome, int64_t visit_ms, int64_t at)
{
    Fluxbus__V1__Visite v = FLUXBUS__V1__VISITE__INIT;
    v.vacancy_id = (char *)vacancy;
    v.nur = (char *)nur;
    v.visit_ms = visit_ms;
    v.outcome = outcome;
    script_record(s, SC_BAILLEUR, SC_TYPE(VISITE), vacancy, SC_AL, at, &v);
}

static inline void script_visit(script_t *s, const char *vacancy, const char *nur, int64_t at)
{
    script_visit_outcome(s, vacancy, nur,
                         FLUXBUS__V1__VISITE_OUTCOME__VISITE_OUTCOME_DONE_INTERESTED, at, at);
}

/* A CaleolDecision (ATTRIBUTION when decision is 0) ranking `nur` `rank`. */
static inline void script_decide_rank(script_t *s, const char *vacancy, const char *nur,
                                      const char *resa, int decision, unsigned rank, int64_t at)
{
    Fluxbus__V1__CaleolDecision c = life_msgs_decision(
        "S1", vacancy, nur, rank, resa,
        decision ? decision : FLUXBUS__V1__CALEOL_DECISION_CODE__CALEOL_DECISION_CODE_ATTRIBUTION,
        at);
    script_record(s, SC_BAILLEUR, SC_TYPE(CALEOL_DECISION), vacancy, resa, at, &c);
}

static inline void script_decide(script_t *s, const char *vacancy, const char *nur,
                                 const char *resa, int decision, int64_t at)
{
    script_decide_rank(s, vacancy, nur, resa, decision, 1, at);
}

static inline void script_answer(script_t *s, const char *vacancy, const char *nur, bool refused,
                                 int64_t at)
{
    Fluxbus__V1__PropositionReponse p = life_msgs_answer(vacancy, nur, refused, at);
    script_record(s, SC_BAILLEUR, SC_TYPE(PROPOSITION_REPONSE), vacancy, SC_AL, at, &p);
}

static inline void script_non_suite(script_t *s, const char *vacancy, const char *nur, int64_t at)
{
    Fluxbus__V1__AttributionNonSuivieDeBail a = life_msgs_no_lease(vacancy, nur);
    script_record(s, SC_BAILLEUR, SC_TYPE(ATTRIBUTION_NON_SUIVIE_DE_BAIL), vacancy, SC_AL, at, &a);
}

static inline void script_bail(script_t *s, const char *vacancy, const char *nur, const char *resa,
                               int64_t at)
{
    Fluxbus__V1__BailSigne b = life_msgs_lease(vacancy, nur, resa);
    script_record(s, SC_BAILLEUR, SC_TYPE(BAIL_SIGNE), vacancy, resa, at, &b);
}

/* The smallest Convention payload the ledger takes (strings borrowed):
 * `id`, revision 1, between SC_BAILLEUR and `resa`, for `year`, counted by
 * `method` (CountingMethod); no objective, territory or délai. */
static inline Fluxbus__V1__Convention script_convention_of(const char *id, const char *resa,
                                                           int year, int method)
{
    Fluxbus__V1__Convention c = FLUXBUS__V1__CONVENTION__INIT;
    c.convention_id = (char *)id;
    c.revision = 1;
    c.bailleur_actor_id = SC_BAILLEUR;
    c.reservataire_actor_id = (char *)resa;
    c.year = (uint32_t)year;
    c.counting_method = method;
    return c;
}

/* ledger_check of a Convention from `sender`: FB_OK or the refusal, its
 * detail in detail. Nothing is recorded. */
static inline fb_err_t script_check_convention(script_t *s, const char *sender,
                                               const Fluxbus__V1__Convention *c, int64_t at,
                                               char *detail, size_t dlen)
{
    const char *const rcpt[] = {c->reservataire_actor_id};
    ledger_msg_t m = script_msg(s, sender, SC_TYPE(CONVENTION), NULL, rcpt, at, c);
    s->seq--; /* a check is not stored */
    m.seq = 0;
    return ledger_check(s->ledger, &m, detail, dlen);
}

/* Checks (must pass) then records a Convention sent by `sender` to the
 * convention's other party. */
static inline void script_convention_from(script_t *s, const char *sender,
                                          const Fluxbus__V1__Convention *c, int64_t at)
{
    char detail[512] = "";
    if (script_check_convention(s, sender, c, at, detail, sizeof detail) != FB_OK)
        fail_msg("convention %s revision %u from %s refused: %s", c->convention_id, c->revision,
                 sender, detail);
    const char *to =
        strcmp(sender, c->bailleur_actor_id) == 0 ? c->reservataire_actor_id : c->bailleur_actor_id;
    script_record(s, sender, SC_TYPE(CONVENTION), NULL, to, at, c);
}

/* A Convention sent by the bailleur; an amendment (revision 2 or more) is
 * then countersigned by its réservataire at the same instant, so that it is
 * in force (docs/LEDGER.md, "Amendments: countersigned"). */
static inline void script_convention(script_t *s, const Fluxbus__V1__Convention *c, int64_t at)
{
    script_convention_from(s, SC_BAILLEUR, c, at);
    if (c->revision >= 2)
        script_convention_from(s, c->reservataire_actor_id, c, at);
}

#endif
