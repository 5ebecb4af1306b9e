/* sne_deliver.c - what the SNE adapter does with a delivery (see
 * sne_adapter.h).
 *
 * LogementLibere: its dwelling is remembered (the SNE records need it and
 * later messages do not carry it). CaleolDecision, AttributionNonSuivieDeBail,
 * BailSigne: the record is built (sne_records.c) and submitted. Anything else
 * is logged and acknowledged: the SNE has nothing to do with it.
 *
 * Invariant: a delivery is acknowledged only once its effect is durable -
 * the state row committed and the request file written. A record already
 * submitted (the same message delivered again after a crash) is not
 * submitted twice; one stuck half-way (row written, file not) is
 * submitted again, which the SNE side treats as a replay. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fluxbus/v1/envelope.pb-c.h"
#include "sne_adapter.h"

/* The record's id and NUR, at debug only: the NUR identifies a household's
 * demande, so the lines above debug name the kind, vacancy and message. */
static void s_log_ids(sne_adapter_t *self, const sne_record_t *rec)
{
    adapter_log(self->ad, FB_LOG_DEBUG, "record ids msg_id=%s record=%s nur=%s",
                rec->source_message_id, rec->record_id, rec->nur);
}

/* Submits a built record unless it already was (see the invariant). */
static fb_err_t s_submit(sne_adapter_t *self, const sne_record_t *rec)
{
    sne_record_row_t row;
    fb_err_t rc = sne_state_record(self->state, rec->record_id, &row);
    if (rc == FB_OK) {
        sne_rec_state_t state = row.state;
        sne_state_record_clear(&row);
        if (state != SNE_REC_SUBMITTING) {
            adapter_log(self->ad, FB_LOG_INFO,
                        "record already submitted kind=%s vacancy=%s state=%s msg_id=%s (not sent "
                        "again)",
                        sne_kind_name(rec->kind), rec->vacancy_id, sne_rec_state_name(state),
                        rec->source_message_id);
            s_log_ids(self, rec);
            return FB_OK;
        }
    } else if (rc != FB_ERR_NOT_FOUND) {
        adapter_log(
            self->ad, FB_LOG_ERROR, "state read failed kind=%s vacancy=%s msg_id=%s reason=%s",
            sne_kind_name(rec->kind), rec->vacancy_id, rec->source_message_id, fb_err_name(rc));
        s_log_ids(self, rec);
        return rc;
    }
    json_t *json = sne_record_to_json(rec);
    char *request = json ? json_dumps(json, JSON_COMPACT) : NULL;
    json_decref(json);
    if (!request)
        return FB_ERR_NOMEM;
    rc = sne_state_begin_record(self->state, rec, request);
    free(request);
    char err[512] = "";
    if (rc == FB_OK)
        rc = sne_iface_submit(self->iface, rec, err, sizeof err);
    else
        snprintf(err, sizeof err, "state write failed");
    if (rc == FB_OK)
        rc = sne_state_mark_sent(self->state, rec->record_id);
    if (rc != FB_OK) {
        adapter_log(self->ad, FB_LOG_ERROR,
                    "record not submitted kind=%s vacancy=%s msg_id=%s reason=%s detail=\"%s\" "
                    "(delivery left unacknowledged)",
                    sne_kind_name(rec->kind), rec->vacancy_id, rec->source_message_id,
                    fb_err_name(rc), err);
        s_log_ids(self, rec);
        return rc;
    }
    adapter_log(self->ad, FB_LOG_INFO, "record submitted kind=%s vacancy=%s msg_id=%s peer=%s",
                sne_kind_name(rec->kind), rec->vacancy_id, rec->source_message_id,
                rec->bailleur_actor_id);
    s_log_ids(self, rec);
    return FB_OK;
}

/* The remembered dwelling of a vacancy into *dw (pointing into *row);
 * false (and a warning) when there is none. */
static bool s_dwelling(sne_adapter_t *self, const sne_source_t *src, const char *vacancy,
                       sne_vacancy_row_t *row, sne_dwelling_t *dw)
{
    fb_err_t rc = sne_state_vacancy(self->state, src->sender, vacancy, row);
    if (rc != FB_OK) {
        adapter_log(self->ad, FB_LOG_WARN,
                    "no dwelling known for vacancy=%s peer=%s msg_id=%s reason=%s (no "
                    "LogementLibere received: the record goes without it)",
                    vacancy, src->sender, src->message_id, fb_err_name(rc));
        return false;
    }
    dw->rpls_id = row->rpls_id;
    dw->commune_insee = row->commune_insee;
    dw->bailleur_siren = row->bailleur_siren;
    return true;
}

static fb_err_t s_built(sne_adapter_t *self, sne_build_t built, sne_record_t *rec,
                        const sne_source_t *src, const char *why)
{
    if (built == SNE_NOT_NEEDED) {
        adapter_log(self->ad, FB_LOG_INFO, "no SNE record msg_id=%s peer=%s reason=\"%s\"",
                    src->message_id, src->sender, why);
        return FB_OK;
    }
    if (built != SNE_BUILT)
        return FB_ERR_NOMEM;
    fb_err_t rc = s_submit(self, rec);
    sne_record_clear(rec);
    return rc;
}

static fb_err_t s_on_logement(sne_adapter_t *self, const sne_source_t *src,
                              const Fluxbus__V1__LogementLibere *l)
{
    fb_err_t rc = sne_state_put_vacancy(self->state, src->sender, l->vacancy_id, l->rpls_id,
                                        l->commune_insee, l->bailleur_siren);
    adapter_log(self->ad, rc == FB_OK ? FB_LOG_INFO : FB_LOG_ERROR,
                "dwelling %s vacancy=%s rpls=%s insee=%s msg_id=%s peer=%s",
                rc == FB_OK ? "remembered" : "NOT remembered (state write failed)", l->vacancy_id,
                l->rpls_id, l->commune_insee, src->message_id, src->sender);
    return rc;
}

static fb_err_t s_on_decision(sne_adapter_t *self, const sne_source_t *src,
                              const Fluxbus__V1__CaleolDecision *d)
{
    sne_vacancy_row_t row;
    sne_dwelling_t dw;
    sne_record_t rec;
    char why[256] = "";
    bool known = s_dwelling(self, src, d->vacancy_id, &row, &dw);
    sne_build_t built =
        sne_record_from_decision(d, src, known ? &dw : NULL, self->tz, &rec, why, sizeof why);
    if (known)
        sne_state_vacancy_clear(&row);
    if (built == SNE_BUILT) {
        /* A later AttributionNonSuivieDeBail needs what only this says. */
        fb_err_t rc =
            sne_state_put_attribution(self->state, src->sender, d->vacancy_id, d->nur,
                                      d->designataire_actor_id, d->q1, d->relogement_anru);
        if (rc != FB_OK) {
            sne_record_clear(&rec);
            adapter_log(self->ad, FB_LOG_ERROR, "attribution not remembered msg_id=%s reason=%s",
                        src->message_id, fb_err_name(rc));
            return rc;
        }
    }
    return s_built(self, built, &rec, src, why);
}

static fb_err_t s_on_non_suivie(sne_adapter_t *self, const sne_source_t *src,
                                const Fluxbus__V1__AttributionNonSuivieDeBail *m)
{
    sne_vacancy_row_t row;
    sne_dwelling_t dw;
    sne_attribution_row_t att_row;
    sne_record_t rec;
    char why[256] = "";
    bool known = s_dwelling(self, src, m->vacancy_id, &row, &dw);
    fb_err_t rc = sne_state_attribution(self->state, src->sender, m->vacancy_id, m->nur, &att_row);
    sne_attribution_t att = {att_row.designataire_actor_id, att_row.q1, att_row.relogement_anru};
    if (rc != FB_OK)
        adapter_log(self->ad, FB_LOG_WARN,
                    "no attribution known vacancy=%s msg_id=%s reason=%s (the record "
                    "goes without designataire, Q1 and ANRU)",
                    m->vacancy_id, src->message_id, fb_err_name(rc));
    sne_build_t built = sne_record_from_non_suivie(
        m, src, known ? &dw : NULL, rc == FB_OK ? &att : NULL, &rec, why, sizeof why);
    if (known)
        sne_state_vacancy_clear(&row);
    if (rc == FB_OK)
        sne_state_attribution_clear(&att_row);
    return s_built(self, built, &rec, src, why);
}

static fb_err_t s_on_bail(sne_adapter_t *self, const sne_source_t *src,
                          const Fluxbus__V1__BailSigne *m)
{
    sne_vacancy_row_t row;
    sne_dwelling_t dw;
    sne_record_t rec;
    char why[256] = "";
    /* The BailSigne carries its dwelling; the LogementLibere fills gaps. */
    bool known = sne_state_vacancy(self->state, src->sender, m->vacancy_id, &row) == FB_OK;
    if (known) {
        dw.rpls_id = row.rpls_id;
        dw.commune_insee = row.commune_insee;
        dw.bailleur_siren = row.bailleur_siren;
    }
    sne_build_t built = sne_record_from_bail(m, src, known ? &dw : NULL, &rec, why, sizeof why);
    if (known)
        sne_state_vacancy_clear(&row);
    return s_built(self, built, &rec, src, why);
}

fb_err_t sne_deliver(void *ctx, const fb_delivery_t *delivery, const json_t *event)
{
    sne_adapter_t *self = ctx;
    const Fluxbus__V1__SignedBody *b = delivery->body;
    char id[2 * FB_MESSAGE_ID_BYTES + 1] = "";
    if (b->message_id.len == FB_MESSAGE_ID_BYTES)
        fb_hex_encode(b->message_id.data, FB_MESSAGE_ID_BYTES, id);
    sne_source_t src = {b->sender, id};
    const fb_catalog_entry_t *entry = fb_catalog_by_type(b->type);
    bool wanted =
        b->type == FLUXBUS__V1__MESSAGE_TYPE__MESSAGE_TYPE_LOGEMENT_LIBERE ||
        b->type == FLUXBUS__V1__MESSAGE_TYPE__MESSAGE_TYPE_CALEOL_DECISION ||
        b->type == FLUXBUS__V1__MESSAGE_TYPE__MESSAGE_TYPE_ATTRIBUTION_NON_SUIVIE_DE_BAIL ||
        b->type == FLUXBUS__V1__MESSAGE_TYPE__MESSAGE_TYPE_BAIL_SIGNE;
    if (!entry || !wanted) {
        adapter_log(self->ad, FB_LOG_INFO, "ignored type=%s msg_id=%s peer=%s (no SNE record)",
                    entry ? entry->name : "?", id, b->sender);
        return FB_OK;
    }
    ProtobufCMessage *msg = NULL;
    fb_err_t rc = fb_codec_unpack(entry->desc, b->payload.data, b->payload.len,
                                  FB_DEFAULT_MAX_ENVELOPE, &msg);
    if (rc != FB_OK) {
        /* Signed by the bailleur yet unreadable: it can never make a record.
         * Said loudly, then acknowledged so it does not block the others. */
        adapter_log(self->ad, FB_LOG_ERROR,
                    "payload does not decode type=%s msg_id=%s peer=%s reason=%s (acknowledged "
                    "without a record)",
                    entry->name, id, b->sender, fb_err_name(rc));
        return FB_OK;
    }
    switch (b->type) {
    case FLUXBUS__V1__MESSAGE_TYPE__MESSAGE_TYPE_LOGEMENT_LIBERE:
        rc = s_on_logement(self, &src, (const Fluxbus__V1__LogementLibere *)msg);
        break;
    case FLUXBUS__V1__MESSAGE_TYPE__MESSAGE_TYPE_CALEOL_DECISION:
        rc = s_on_decision(self, &src, (const Fluxbus__V1__CaleolDecision *)msg);
        break;
    case FLUXBUS__V1__MESSAGE_TYPE__MESSAGE_TYPE_ATTRIBUTION_NON_SUIVIE_DE_BAIL:
        rc = s_on_non_suivie(self, &src, (const Fluxbus__V1__AttributionNonSuivieDeBail *)msg);
        break;
    default:
        rc = s_on_bail(self, &src, (const Fluxbus__V1__BailSigne *)msg);
        break;
    }
    fb_codec_free(msg);
    return rc;
}
