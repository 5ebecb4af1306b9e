/* intake.c - one delivered message into the feed store (see intake.h).
 * Owns the checks of incoming payloads and the territory filter; the
 * storing itself is feed_store's. */
#include "intake.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "feed_format.h"
#include "fluxbus/catalog.h"
#include "fluxbus/codec.h"
#include "fluxbus/v1/envelope.pb-c.h"

#define T(x) FLUXBUS__V1__MESSAGE_TYPE__MESSAGE_TYPE_##x

/* 9999-12-31T23:59:59.999Z: the last instant a calendar date-time can say. */
#define S_MAX_MS INT64_C(253402300799999)
#define S_MAX_ID_BYTES 200

static void s_note(intake_note_t *note, fb_log_level_t level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void s_note(intake_note_t *note, fb_log_level_t level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    note->level = level;
    vsnprintf(note->text, sizeof note->text, fmt, ap);
    va_end(ap);
}

bool intake_is_insee(const char *code)
{
    if (!code || strlen(code) != 5)
        return false;
    for (int i = 0; i < 5; i++) {
        bool corsica = i == 1 && code[0] == '2' && (code[i] == 'A' || code[i] == 'B');
        if (!isdigit((unsigned char)code[i]) && !corsica)
            return false;
    }
    return true;
}

bool intake_is_ours(const intake_territory_t *t, const char *code)
{
    for (size_t i = 0; code && i < t->n; i++)
        if (strcmp(t->communes[i], code) == 0)
            return true;
    return false;
}

/* ---- checks: each returns NULL when fine, else the field and reason ---- */

/* An id: present, text, not too long. */
static const char *s_id_problem(const char *id)
{
    if (!id || !*id)
        return "missing";
    if (strlen(id) > S_MAX_ID_BYTES)
        return "longer than 200 bytes";
    return feed_format_text_ok(id) ? NULL : "not UTF-8 text";
}

/* True when each of the `n` strings is UTF-8 text. */
static bool s_texts_ok(char **items, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!feed_format_text_ok(items[i]))
            return false;
    return true;
}

static bool s_address_ok(const Fluxbus__V1__Address *a)
{
    return !a || (s_texts_ok(a->lines, a->n_lines) && feed_format_text_ok(a->postal_code) &&
                  feed_format_text_ok(a->city));
}

static bool s_is_web_url(const char *url)
{
    return strncasecmp(url, "https://", 8) == 0 || strncasecmp(url, "http://", 7) == 0;
}

/* Why a session cannot go into a calendar, as "field: reason", or NULL. */
static const char *s_seance_problem(const Fluxbus__V1__CaleolSeance *s, char *buf, size_t cap)
{
    const char *why = s_id_problem(s->seance_id);
    if (why) {
        snprintf(buf, cap, "seance_id: %s", why);
        return buf;
    }
    if (s->start_ms <= 0 || s->start_ms > S_MAX_MS)
        return "start_ms: missing or out of range";
    if (s->end_ms < 0 || s->end_ms > S_MAX_MS || (s->end_ms && s->end_ms < s->start_ms))
        return "end_ms: before start_ms or out of range";
    if (!feed_format_text_ok(s->commission_name) || !feed_format_text_ok(s->bailleur_siren))
        return "commission_name or bailleur_siren: not UTF-8 text";
    if (!s_address_ok(s->place))
        return "place: not UTF-8 text";
    if (!feed_format_text_ok(s->video_url) || (*s->video_url && !s_is_web_url(s->video_url)))
        return "video_url: not an http(s) URL";
    if (!s_texts_ok(s->communes_insee, s->n_communes_insee) ||
        !s_texts_ok(s->vacancy_ids, s->n_vacancy_ids))
        return "communes_insee or vacancy_ids: not UTF-8 text";
    return NULL;
}

static const char *s_logement_problem(const Fluxbus__V1__LogementLibere *l, char *buf, size_t cap)
{
    const char *why = s_id_problem(l->vacancy_id);
    if (why) {
        snprintf(buf, cap, "vacancy_id: %s", why);
        return buf;
    }
    if (!intake_is_insee(l->commune_insee))
        return "commune_insee: not an INSEE code";
    if (!feed_format_text_ok(l->rpls_id) || !s_address_ok(l->address))
        return "rpls_id or address: not UTF-8 text";
    return NULL;
}

static const char *s_issue_problem(const Fluxbus__V1__LogementIssue *i, char *buf, size_t cap)
{
    const char *why = s_id_problem(i->vacancy_id);
    if (why) {
        snprintf(buf, cap, "vacancy_id: %s", why);
        return buf;
    }
    if (!intake_is_insee(i->commune_insee))
        return "commune_insee: not an INSEE code";
    if (i->issue == FLUXBUS__V1__LOGEMENT_ISSUE_KIND__LOGEMENT_ISSUE_KIND_UNSPECIFIED)
        return "issue: not set";
    if (!feed_format_text_ok(i->rpls_id))
        return "rpls_id: not UTF-8 text";
    return NULL;
}

/* ---- per type ---- */

static fb_err_t s_take_seance(feed_store_t *store, const intake_territory_t *t,
                              const Fluxbus__V1__CaleolSeance *s, int64_t now_ms,
                              intake_note_t *note)
{
    char buf[128];
    const char *problem = s_seance_problem(s, buf, sizeof buf);
    if (problem) {
        s_note(note, FB_LOG_WARN, "seance rejected reason=\"%s\"", problem);
        return FB_OK;
    }
    /* Our communes only: the list points into s, so it lives as long. */
    char **ours = calloc(s->n_communes_insee + 1, sizeof *ours);
    if (!ours)
        return FB_ERR_NOMEM;
    size_t n = 0;
    for (size_t i = 0; i < s->n_communes_insee; i++)
        if (intake_is_ours(t, s->communes_insee[i]))
            ours[n++] = s->communes_insee[i];
    if (n == 0 && !feed_store_has_seance(store, s->seance_id)) {
        free(ours);
        s_note(note, FB_LOG_INFO, "seance seance_id=%s left out: none of our communes",
               s->seance_id);
        return FB_OK;
    }
    Fluxbus__V1__CaleolSeance kept = *s;
    kept.communes_insee = ours;
    kept.n_communes_insee = n;
    feed_put_t put;
    uint32_t sequence = 0;
    fb_err_t err = feed_store_put_seance(store, &kept, now_ms, &put, &sequence);
    free(ours);
    if (err != FB_OK) {
        s_note(note, FB_LOG_ERROR, "seance seance_id=%s not stored reason=%s", s->seance_id,
               fb_err_name(err));
        return err;
    }
    s_note(note, put == FEED_PUT_CONFLICT ? FB_LOG_WARN : FB_LOG_INFO,
           "seance seance_id=%s revision=%u sequence=%u %s", s->seance_id, (unsigned)s->revision,
           (unsigned)sequence,
           put == FEED_PUT_NEW       ? "stored (new)"
           : put == FEED_PUT_CHANGED ? "stored (changed)"
           : put == FEED_PUT_SAME    ? "already stored"
           : put == FEED_PUT_OLDER   ? "ignored: older than the stored revision"
                                     : "ignored: same revision as stored with other content");
    return FB_OK;
}

static fb_err_t s_take_logement(feed_store_t *store, const intake_territory_t *t,
                                const Fluxbus__V1__LogementLibere *l, int64_t now_ms,
                                intake_note_t *note)
{
    char buf[128];
    const char *problem = s_logement_problem(l, buf, sizeof buf);
    if (problem) {
        s_note(note, FB_LOG_WARN, "logement rejected reason=\"%s\"", problem);
        return FB_OK;
    }
    if (!intake_is_ours(t, l->commune_insee)) {
        s_note(note, FB_LOG_INFO, "logement vacancy_id=%s left out: commune %s is not ours",
               l->vacancy_id, l->commune_insee);
        return FB_OK;
    }
    feed_put_t put;
    fb_err_t err = feed_store_put_logement(store, l, now_ms, &put);
    if (err != FB_OK) {
        s_note(note, FB_LOG_ERROR, "logement vacancy_id=%s not stored reason=%s", l->vacancy_id,
               fb_err_name(err));
        return err;
    }
    s_note(note, FB_LOG_INFO, "logement vacancy_id=%s commune=%s %s", l->vacancy_id,
           l->commune_insee, put == FEED_PUT_SAME ? "already stored" : "stored");
    return FB_OK;
}

static fb_err_t s_take_issue(feed_store_t *store, const intake_territory_t *t, const char *msg_id,
                             const Fluxbus__V1__LogementIssue *i, int64_t now_ms,
                             intake_note_t *note)
{
    char buf[128];
    const char *problem = s_issue_problem(i, buf, sizeof buf);
    if (problem) {
        s_note(note, FB_LOG_WARN, "issue rejected reason=\"%s\"", problem);
        return FB_OK;
    }
    if (!intake_is_ours(t, i->commune_insee)) {
        s_note(note, FB_LOG_INFO, "issue vacancy_id=%s left out: commune %s is not ours",
               i->vacancy_id, i->commune_insee);
        return FB_OK;
    }
    feed_put_t put;
    fb_err_t err = feed_store_put_issue(store, msg_id, i, now_ms, &put);
    if (err != FB_OK) {
        s_note(note, FB_LOG_ERROR, "issue vacancy_id=%s not stored reason=%s", i->vacancy_id,
               fb_err_name(err));
        return err;
    }
    char kind[32];
    feed_format_enum(&fluxbus__v1__logement_issue_kind__descriptor, i->issue, true, kind,
                     sizeof kind);
    s_note(note, FB_LOG_INFO, "issue vacancy_id=%s outcome=%s %s", i->vacancy_id,
           *kind ? kind : "?", put == FEED_PUT_SAME ? "already stored" : "stored");
    return FB_OK;
}

fb_err_t intake_payload(feed_store_t *store, const intake_territory_t *t, int type,
                        const char *message_id_hex, const uint8_t *payload, size_t len,
                        int64_t now_ms, intake_note_t *note)
{
    const fb_catalog_entry_t *entry = fb_catalog_by_type(type);
    note->level = FB_LOG_INFO;
    note->text[0] = '\0';
    if (type != T(CALEOL_SEANCE) && type != T(LOGEMENT_LIBERE) && type != T(LOGEMENT_ISSUE)) {
        s_note(note, FB_LOG_INFO, "msg_id=%s type=%s left out: not for the commune feeds",
               message_id_hex, entry ? entry->name : "?");
        return FB_OK;
    }
    ProtobufCMessage *msg = NULL;
    fb_err_t err = fb_codec_unpack(entry->desc, payload, len, FB_DEFAULT_MAX_ENVELOPE, &msg);
    if (err != FB_OK) {
        s_note(note, FB_LOG_WARN, "msg_id=%s type=%s rejected reason=%s", message_id_hex,
               entry->name, fb_err_name(err));
        return FB_OK;
    }
    if (type == T(CALEOL_SEANCE))
        err = s_take_seance(store, t, (const Fluxbus__V1__CaleolSeance *)msg, now_ms, note);
    else if (type == T(LOGEMENT_LIBERE))
        err = s_take_logement(store, t, (const Fluxbus__V1__LogementLibere *)msg, now_ms, note);
    else
        err = s_take_issue(store, t, message_id_hex, (const Fluxbus__V1__LogementIssue *)msg,
                           now_ms, note);
    fb_codec_free(msg);
    if (err != FB_OK && !note->text[0])
        s_note(note, FB_LOG_ERROR, "%s not stored reason=%s", entry->name, fb_err_name(err));
    /* Say which message the note is about. */
    size_t used = strlen(note->text);
    snprintf(note->text + used, sizeof note->text - used, " msg_id=%s", message_id_hex);
    return err;
}
