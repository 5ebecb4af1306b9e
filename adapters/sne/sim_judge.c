/* sim_judge.c - the simulator's judgement of one record (see sim_judge.h).
 * The checks are pure and give one precise reason; the demande's fate is
 * read and written through sim_db. */
#include "sim_judge.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "nur.h"

static bool s_answer(sne_answer_t *out, sne_status_t status, const char *field, const char *fmt,
                     ...) __attribute__((format(printf, 4, 5)));

/* Sets the answer's status, field and message; returns false (the record
 * does not pass) for the checks' convenience. */
static bool s_answer(sne_answer_t *out, sne_status_t status, const char *field, const char *fmt,
                     ...)
{
    out->status = status;
    snprintf(out->field, sizeof out->field, "%s", field);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(out->message, sizeof out->message, fmt, ap);
    va_end(ap);
    return false;
}

static bool s_empty(const char *s)
{
    return !s || !*s;
}

static int s_date_cmp(sne_date_t a, sne_date_t b)
{
    if (a.year != b.year)
        return a.year < b.year ? -1 : 1;
    if (a.month != b.month)
        return a.month < b.month ? -1 : 1;
    return a.day < b.day ? -1 : a.day > b.day;
}

static bool s_insee_ok(const char *s)
{
    if (!s || strlen(s) != 5)
        return false;
    bool corsica = s[0] == '2' && (s[1] == 'A' || s[1] == 'B');
    return strspn(s + (corsica ? 2 : 0), "0123456789") == (size_t)(corsica ? 3 : 5);
}

/* The day after d (d a calendar date). */
static sne_date_t s_next_day(sne_date_t d)
{
    sne_date_t next = {d.year, d.month, d.day + 1};
    if (sne_date_valid(next))
        return next;
    next.month++;
    next.day = 1;
    if (next.month <= 12)
        return next;
    next.year++;
    next.month = 1;
    return next;
}

/* The date of the record: present, real, not after tomorrow (a day of
 * leeway: overseas bailleurs live ahead of Paris). */
static bool s_check_date(const sne_record_t *rec, sne_date_t today, sne_answer_t *out)
{
    static const char *const what[] = {"", "the CALEOL decision", "the finding",
                                       "the signature of the lease"};
    char buf[11];
    sne_date_format(rec->date, buf);
    if (rec->date.year == 0 && rec->date.month == 0 && rec->date.day == 0)
        return s_answer(out, SNE_STATUS_REJECTED, "date", "missing: the date of %s is required",
                        what[rec->kind]);
    if (!sne_date_valid(rec->date))
        return s_answer(out, SNE_STATUS_REJECTED, "date", "%s is not a calendar date", buf);
    if (s_date_cmp(rec->date, s_next_day(today)) > 0)
        return s_answer(out, SNE_STATUS_REJECTED, "date", "%s is in the future (%s): %s",
                        what[rec->kind], buf, "an SNE record states what happened");
    return true;
}

static bool s_check_common(const sne_record_t *rec, sne_answer_t *out)
{
    if (s_empty(rec->bailleur_siren))
        return s_answer(out, SNE_STATUS_REJECTED, "bailleur.siren", "missing");
    if (strlen(rec->bailleur_siren) != 9 || strspn(rec->bailleur_siren, "0123456789") != 9)
        return s_answer(out, SNE_STATUS_REJECTED, "bailleur.siren",
                        "\"%s\" is not a SIREN (9 digits)", rec->bailleur_siren);
    if (s_empty(rec->vacancy_id))
        return s_answer(out, SNE_STATUS_REJECTED, "logement.vacancy_id", "missing");
    if (s_empty(rec->commune_insee))
        return s_answer(out, SNE_STATUS_REJECTED, "logement.commune_insee",
                        "missing: the commune of the dwelling is required (was its "
                        "LogementLibere sent to the SNE actor?)");
    if (!s_insee_ok(rec->commune_insee))
        return s_answer(out, SNE_STATUS_REJECTED, "logement.commune_insee",
                        "\"%s\" is not an INSEE commune code (5 digits, or 2A/2B and 3 digits)",
                        rec->commune_insee);
    return true;
}

/* suivie_de_bail must say what the kind says. */
static bool s_check_suivie(const sne_record_t *rec, sne_answer_t *out)
{
    static const sne_suivie_t want[] = {SNE_SUIVIE_NA, SNE_SUIVIE_NA, SNE_SUIVIE_NON,
                                        SNE_SUIVIE_OUI};
    static const char *const said[] = {"absent", "false", "true"};
    if (rec->suivie_de_bail == want[rec->kind])
        return true;
    return s_answer(out, SNE_STATUS_REJECTED, "suivie_de_bail", "is %s, a %s record has it %s",
                    said[rec->suivie_de_bail], sne_kind_name(rec->kind), said[want[rec->kind]]);
}

static bool s_check_kind(const sne_record_t *rec, sne_answer_t *out)
{
    bool needs_designataire = rec->kind != SNE_KIND_NON_SUIVIE;
    if (needs_designataire && s_empty(rec->designataire_actor_id))
        return s_answer(out, SNE_STATUS_REJECTED, "designataire_actor_id",
                        "missing: the réservataire désignataire is required");
    if (rec->kind == SNE_KIND_ATTRIBUTION) {
        const char *d = rec->decision ? rec->decision : "";
        bool conditional = strcmp(d, "SOUS_CONDITION_SUSPENSIVE") == 0;
        if (strcmp(d, "ATTRIBUTION") != 0 && strcmp(d, "ATTRIBUTION_PAR_RANG") != 0 && !conditional)
            return s_answer(out, SNE_STATUS_REJECTED, "decision",
                            "\"%s\" is not an attribution (ATTRIBUTION, ATTRIBUTION_PAR_RANG, "
                            "SOUS_CONDITION_SUSPENSIVE)",
                            d);
        const char *c = rec->condition_state ? rec->condition_state : "";
        if (conditional && strcmp(c, "PENDING") != 0 && strcmp(c, "LIFTED") != 0)
            return s_answer(out, SNE_STATUS_REJECTED, "condition_state",
                            "\"%s\": a SOUS_CONDITION_SUSPENSIVE attribution is PENDING or LIFTED",
                            c);
    }
    if (rec->kind == SNE_KIND_RADIATION && rec->effective_on.year) {
        char buf[11], signed_on[11];
        sne_date_format(rec->effective_on, buf);
        sne_date_format(rec->date, signed_on);
        if (!sne_date_valid(rec->effective_on))
            return s_answer(out, SNE_STATUS_REJECTED, "effective_on", "%s is not a calendar date",
                            buf);
        if (s_date_cmp(rec->effective_on, rec->date) < 0)
            return s_answer(out, SNE_STATUS_REJECTED, "effective_on",
                            "the lease takes effect on %s, before it was signed on %s", buf,
                            signed_on);
    }
    return true;
}

bool sim_judge_check(const sne_record_t *rec, sne_date_t today, sne_answer_t *out)
{
    memset(out, 0, sizeof *out);
    snprintf(out->record_id, sizeof out->record_id, "%s", rec->record_id);
    out->kind = rec->kind;
    snprintf(out->nur, sizeof out->nur, "%s", rec->nur ? rec->nur : "");
    char why[160];
    if (!nur_check(rec->nur, why, sizeof why))
        return s_answer(out, SNE_STATUS_INVALID_NUR, "nur", "\"%.40s\" is not a NUR: %s",
                        rec->nur ? rec->nur : "", why);
    if (rec->kind < SNE_KIND_ATTRIBUTION || rec->kind > SNE_KIND_RADIATION)
        return s_answer(out, SNE_STATUS_REJECTED, "kind", "unknown kind of record");
    return s_check_date(rec, today, out) && s_check_common(rec, out) && s_check_suivie(rec, out) &&
           s_check_kind(rec, out);
}

/* Step 5 for a radiation. */
static fb_err_t s_radiate(sim_db_t *db, const sne_record_t *rec, sne_answer_t *out)
{
    fb_err_t rc = sim_db_radiate(db, rec->nur, rec->date, rec->record_id);
    if (rc == FB_OK)
        rc = sim_db_put_attribution(db, rec);
    char on[11];
    sne_date_format(rec->date, on);
    out->radiated_on = rec->date;
    s_answer(out, SNE_STATUS_RADIEE, "",
             "demande %s radiée: attribution suivie d'un bail signé le %s (logement %s, "
             "bailleur %s, désignataire %s)",
             rec->nur, on, rec->vacancy_id, rec->bailleur_siren, rec->designataire_actor_id);
    return rc;
}

/* Step 5 for an attribution or its end without a lease. */
static fb_err_t s_record(sim_db_t *db, const sne_record_t *rec, sne_answer_t *out)
{
    bool known = true;
    fb_err_t rc = FB_OK;
    if (rec->kind == SNE_KIND_NON_SUIVIE)
        rc = sim_db_has_attribution(db, rec->nur, rec->vacancy_id, &known);
    if (rc == FB_OK)
        rc = sim_db_put_attribution(db, rec);
    char on[11];
    sne_date_format(rec->date, on);
    if (rec->kind == SNE_KIND_ATTRIBUTION)
        s_answer(out, SNE_STATUS_RECORDED, "",
                 "attribution enregistrée le %s: demande %s, logement %s, désignataire %s%s", on,
                 rec->nur, rec->vacancy_id, rec->designataire_actor_id,
                 rec->condition_state && *rec->condition_state ? " (sous condition suspensive)"
                                                               : "");
    else
        s_answer(out, SNE_STATUS_RECORDED, "",
                 "attribution non suivie de bail enregistrée le %s: demande %s, logement %s%s", on,
                 rec->nur, rec->vacancy_id,
                 known ? ""
                       : " (no attribution of this demande on this dwelling was recorded "
                         "before)");
    return rc;
}

fb_err_t sim_judge(sim_db_t *db, const sim_policy_t *policy, const sne_record_t *rec,
                   sne_date_t today, sne_answer_t *out)
{
    if (!sim_judge_check(rec, today, out))
        return FB_OK;
    sim_demande_t d;
    fb_err_t rc = sim_db_demande(db, rec->nur, &d);
    if (rc == FB_ERR_NOT_FOUND && policy->accept_any) {
        rc = sim_db_add_demande(db, rec->nur, "first_seen");
        memset(&d, 0, sizeof d);
    } else if (rc == FB_ERR_NOT_FOUND) {
        s_answer(out, SNE_STATUS_UNKNOWN_NUR, "nur", "no demande %s in the registry", rec->nur);
        return FB_OK;
    }
    if (rc != FB_OK)
        return rc;
    if (d.radiee) {
        char on[11];
        sne_date_format(d.radiated_on, on);
        out->radiated_on = d.radiated_on;
        s_answer(out, SNE_STATUS_ALREADY_RADIEE, "nur",
                 "demande %s was already radiée on %s (record %s)", rec->nur, on, d.radiated_by);
        return FB_OK;
    }
    return rec->kind == SNE_KIND_RADIATION ? s_radiate(db, rec, out) : s_record(db, rec, out);
}
