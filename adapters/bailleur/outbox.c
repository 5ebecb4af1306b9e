/* outbox.c - received messages written for the bailleur's system (see
 * outbox.h).
 *
 * Owns the outbox file names and the order "write, record, then
 * acknowledge". Does not own the JSON of a delivery (libfluxbus's
 * fb_delivery_json, called by the adapter link) nor the acknowledgement
 * itself (adapter_receive sends it when this returns FB_OK). */
#include "outbox.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "spool.h"
#include "track.h"

void outbox_name(uint64_t store_seq, int type, const char *id_hex, char *out, size_t cap)
{
    const fb_catalog_entry_t *e = fb_catalog_by_type(type);
    char unknown[32];
    snprintf(unknown, sizeof unknown, "Type%d", type);
    snprintf(out, cap, "%012llu-%s-%.8s.json", (unsigned long long)store_seq, e ? e->name : unknown,
             id_hex);
}

fb_err_t outbox_write(bailleur_t *b, const char *name, const json_t *doc)
{
    fb_err_t rc = spool_write_json(b->outbox, name, doc);
    if (rc != FB_OK)
        adapter_log(b->adapter, FB_LOG_ERROR, "outbox/%s: cannot write it: %s (%s)", name,
                    fb_err_str(rc), strerror(errno));
    return rc;
}

/* What the delivery changes in the state (its payload decoded again from
 * the verified body: the event's JSON is for people). */
static fb_err_t s_record(bailleur_t *b, const fb_delivery_t *d)
{
    const fb_catalog_entry_t *e = fb_catalog_by_type((int)d->body->type);
    if (!e)
        return FB_OK;
    ProtobufCMessage *payload = NULL;
    if (fb_codec_unpack(e->desc, d->body->payload.data, d->body->payload.len,
                        FB_DEFAULT_MAX_ENVELOPE, &payload) != FB_OK)
        return FB_OK; /* written as payload_error for a person to look at */
    fb_err_t rc =
        track_received(b->state, d->body->sender, (const char *const *)d->body->recipients,
                       d->body->n_recipients, e->type, payload);
    fb_codec_free(payload);
    return rc;
}

fb_err_t outbox_on_delivery(void *ctx, const fb_delivery_t *d, const json_t *event)
{
    bailleur_t *b = ctx;
    char id_hex[2 * FB_MESSAGE_ID_BYTES + 1] = "";
    if (d->body->message_id.len == FB_MESSAGE_ID_BYTES)
        fb_hex_encode(d->body->message_id.data, FB_MESSAGE_ID_BYTES, id_hex);
    char name[128];
    outbox_name(d->store_seq, (int)d->body->type, id_hex, name, sizeof name);
    fb_err_t rc = outbox_write(b, name, event);
    if (rc != FB_OK)
        return rc;
    rc = s_record(b, d);
    if (rc != FB_OK) {
        adapter_log(b->adapter, FB_LOG_ERROR, "store_seq=%llu %s: state not recorded (%s)",
                    (unsigned long long)d->store_seq, name, fb_err_str(rc));
        return rc;
    }
    adapter_log(b->adapter, FB_LOG_INFO, "store_seq=%llu msg_id=%s from %s -> outbox/%s",
                (unsigned long long)d->store_seq, id_hex, d->body->sender, name);
    return FB_OK;
}
