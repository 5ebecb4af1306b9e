/* sne_answer.c - what the SNE adapter does with the SNE's answers (see
 * sne_adapter.h).
 *
 * Every answer is stored with its record. An answer to a radiation goes
 * back to the bailleur that sent the BailSigne as a SneRadiationAck
 * (correlation = vacancy id). Answers to attribution and non_suivie
 * records are only stored and logged (an error loudly).
 *
 * Invariant: an answer is stored, then its acknowledgement is handed to
 * adapter_send (durable, content-addressed), then the record is marked
 * acknowledged, and only then does the answer file leave answers/. A crash
 * anywhere replays the same steps with the same content: adapter_send makes
 * the same message id, so the bailleur gets one acknowledgement. */
#include <stdio.h>
#include <string.h>

#include "fluxbus/v1/envelope.pb-c.h"
#include "fluxbus/v1/sne.pb-c.h"
#include "sne_adapter.h"

/* The proto status of an answer to a radiation; UNSPECIFIED when the
 * status does not belong to a radiation (RECORDED). */
static Fluxbus__V1__SneRadiationStatus s_radiation_status(sne_status_t status)
{
    switch (status) {
    case SNE_STATUS_RADIEE:
        return FLUXBUS__V1__SNE_RADIATION_STATUS__SNE_RADIATION_STATUS_RADIEE;
    case SNE_STATUS_ALREADY_RADIEE:
        return FLUXBUS__V1__SNE_RADIATION_STATUS__SNE_RADIATION_STATUS_ALREADY_RADIEE;
    case SNE_STATUS_UNKNOWN_NUR:
        return FLUXBUS__V1__SNE_RADIATION_STATUS__SNE_RADIATION_STATUS_UNKNOWN_NUR;
    case SNE_STATUS_INVALID_NUR:
        return FLUXBUS__V1__SNE_RADIATION_STATUS__SNE_RADIATION_STATUS_INVALID_NUR;
    case SNE_STATUS_REJECTED:
        return FLUXBUS__V1__SNE_RADIATION_STATUS__SNE_RADIATION_STATUS_REJECTED;
    case SNE_STATUS_RETRY_LATER:
        return FLUXBUS__V1__SNE_RADIATION_STATUS__SNE_RADIATION_STATUS_RETRY_LATER;
    default:
        return FLUXBUS__V1__SNE_RADIATION_STATUS__SNE_RADIATION_STATUS_UNSPECIFIED;
    }
}

/* The SNE's message, or a line saying which field it faulted when it gave
 * none. */
static void s_message(const sne_answer_t *a, char *out, size_t cap)
{
    if (*a->message)
        snprintf(out, cap, "%s", a->message);
    else if (*a->field)
        snprintf(out, cap, "%s (field %s)", sne_status_name(a->status), a->field);
    else
        snprintf(out, cap, "%s", sne_status_name(a->status));
}

/* The record's id and NUR, at debug only (the lines above debug name the
 * kind, vacancy and messages), joined to them by msg_id. */
static void s_log_ids(sne_adapter_t *self, const sne_record_row_t *row, const char *msg_id)
{
    adapter_log(self->ad, FB_LOG_DEBUG, "record ids msg_id=%s record=%s nur=%s", msg_id,
                row->record_id, row->nur);
}

/* Sends the SneRadiationAck of a radiation answer. FB_OK when it is with
 * the broker or queued by adapter_send; final answers mark the record. */
static fb_err_t s_send_ack(sne_adapter_t *self, const sne_record_row_t *row, const sne_answer_t *a)
{
    char text[sizeof a->message + 96];
    s_message(a, text, sizeof text);
    Fluxbus__V1__SneRadiationAck ack = FLUXBUS__V1__SNE_RADIATION_ACK__INIT;
    Fluxbus__V1__Date radiated = FLUXBUS__V1__DATE__INIT;
    ack.vacancy_id = row->vacancy_id;
    ack.nur = row->nur;
    ack.status = s_radiation_status(a->status);
    ack.message = text;
    if (a->radiated_on.year) {
        radiated.year = a->radiated_on.year;
        radiated.month = a->radiated_on.month;
        radiated.day = a->radiated_on.day;
        ack.radiated_on = &radiated;
    }
    const char *to[1] = {row->bailleur_actor_id};
    adapter_msg_t msg = {
        .type = FLUXBUS__V1__MESSAGE_TYPE__MESSAGE_TYPE_SNE_RADIATION_ACK,
        .to = to,
        .n_to = 1,
        .correlation_id = row->vacancy_id,
        .payload = &ack.base,
    };
    adapter_result_t res;
    memset(&res, 0, sizeof res);
    fb_err_t rc = adapter_send(self->ad, &msg, &res);
    bool final = a->status != SNE_STATUS_RETRY_LATER;
    bool queued = adapter_retry_later(rc); /* kept by adapter_send, sent by its flush */
    if (rc == FB_OK && res.accepted) {
        adapter_log(self->ad, FB_LOG_INFO,
                    "radiation ack sent status=%s vacancy=%s to=%s msg_id=%s source_msg_id=%s%s",
                    sne_status_name(a->status), row->vacancy_id, row->bailleur_actor_id,
                    res.message_id_hex, row->source_message_id,
                    res.duplicate ? " duplicate=yes" : "");
    } else if (rc == FB_OK) {
        adapter_log(self->ad, FB_LOG_ERROR,
                    "radiation ack refused by the broker vacancy=%s to=%s msg_id=%s "
                    "source_msg_id=%s reason=%s detail=\"%s\"",
                    row->vacancy_id, row->bailleur_actor_id, res.message_id_hex,
                    row->source_message_id, fb_err_name(res.reason), res.detail);
    } else if (queued) {
        adapter_log(
            self->ad, FB_LOG_WARN,
            "radiation ack queued vacancy=%s to=%s msg_id=%s source_msg_id=%s reason=%s (sent "
            "when the broker takes it)",
            row->vacancy_id, row->bailleur_actor_id, res.message_id_hex, row->source_message_id,
            fb_err_name(rc));
    } else {
        adapter_log(self->ad, FB_LOG_ERROR,
                    "radiation ack not sent vacancy=%s source_msg_id=%s reason=%s detail=\"%s\" "
                    "(tried again later)",
                    row->vacancy_id, row->source_message_id, fb_err_name(rc), res.detail);
        s_log_ids(self, row, row->source_message_id);
        adapter_result_clear(&res);
        return rc;
    }
    s_log_ids(self, row, row->source_message_id);
    if (final)
        rc = sne_state_mark_acked(self->state, row->record_id, rc == FB_OK && !res.accepted,
                                  res.message_id_hex,
                                  rc == FB_OK && !res.accepted ? res.detail
                                  : queued                     ? "queued"
                                                               : "");
    else
        rc = FB_OK;
    adapter_result_clear(&res);
    return rc;
}

/* Logs the answer to an attribution or non_suivie record. */
static void s_log_record_answer(sne_adapter_t *self, const sne_record_row_t *row,
                                const sne_answer_t *a)
{
    bool ok = a->status == SNE_STATUS_RECORDED;
    bool later = a->status == SNE_STATUS_RETRY_LATER;
    adapter_log(self->ad,
                ok      ? FB_LOG_INFO
                : later ? FB_LOG_WARN
                        : FB_LOG_ERROR,
                "%s kind=%s status=%s vacancy=%s peer=%s msg_id=%s field=%s%s%s%s",
                ok      ? "SNE recorded"
                : later ? "SNE will answer later"
                        : "SNE REFUSED",
                sne_kind_name(row->kind), sne_status_name(a->status), row->vacancy_id,
                row->bailleur_actor_id, row->source_message_id, *a->field ? a->field : "-",
                ok ? "" : " message=\"", ok ? "" : a->message, ok ? "" : "\"");
    /* The SNE's message names the demande: said above only when it is not
     * RECORDED, to be acted upon. */
    s_log_ids(self, row, row->source_message_id);
    if (ok)
        adapter_log(self->ad, FB_LOG_DEBUG, "SNE message msg_id=%s message=\"%s\"",
                    row->source_message_id, a->message);
}

static fb_err_t s_problem(sne_problem_t *why, const char *field, const char *message, fb_err_t rc)
{
    snprintf(why->field, sizeof why->field, "%s", field);
    snprintf(why->message, sizeof why->message, "%s", message);
    return rc;
}

fb_err_t sne_answer(void *ctx, const sne_answer_t *a, sne_problem_t *why)
{
    sne_adapter_t *self = ctx;
    sne_record_row_t row;
    fb_err_t rc = sne_state_record(self->state, a->record_id, &row);
    if (rc == FB_ERR_NOT_FOUND)
        return s_problem(why, "record_id", "no record of this id was submitted by this adapter",
                         rc);
    if (rc != FB_OK)
        return rc;
    if (a->kind != SNE_KIND_NONE && a->kind != row.kind)
        adapter_log(self->ad, FB_LOG_WARN,
                    "answer kind=%s for a record of kind=%s vacancy=%s msg_id=%s (kept)",
                    sne_kind_name(a->kind), sne_kind_name(row.kind), row.vacancy_id,
                    row.source_message_id);
    bool radiation = row.kind == SNE_KIND_RADIATION;
    if (radiation && !s_radiation_status(a->status)) {
        sne_state_record_clear(&row);
        return s_problem(why, "status", "RECORDED does not answer a radiation", FB_ERR_PARSE);
    }
    if (!radiation && a->status == SNE_STATUS_RADIEE) {
        sne_state_record_clear(&row);
        return s_problem(why, "status", "RADIEE only answers a radiation", FB_ERR_PARSE);
    }
    bool final = a->status != SNE_STATUS_RETRY_LATER;
    rc = sne_state_put_answer(self->state, a, final ? SNE_REC_ANSWERED : SNE_REC_SENT);
    if (rc != FB_OK)
        adapter_log(
            self->ad, FB_LOG_ERROR, "answer not stored kind=%s vacancy=%s msg_id=%s reason=%s",
            sne_kind_name(row.kind), row.vacancy_id, row.source_message_id, fb_err_name(rc));
    else if (radiation)
        rc = s_send_ack(self, &row, a);
    else
        s_log_record_answer(self, &row, a);
    sne_state_record_clear(&row);
    return rc;
}

void sne_collect(void *ctx)
{
    sne_adapter_t *self = ctx;
    size_t handled = 0;
    fb_err_t rc = sne_iface_collect(self->iface, sne_answer, self, &handled);
    if (rc != FB_OK && rc != self->last_collect)
        adapter_log(self->ad, FB_LOG_WARN,
                    "answers not all handled reason=%s handled=%zu (tried again at each tick)",
                    fb_err_name(rc), handled);
    else if (rc == FB_OK && self->last_collect != FB_OK)
        adapter_log(self->ad, FB_LOG_INFO, "answers handled again");
    self->last_collect = rc;
}
