/* amendments.c - the countersignature of a convention's amendments (see
 * amendments.h): who signs one, and whether a proposal agrees with the
 * proposals of the same revision stored already.
 *
 * Owns: reading ledger_convention_proposals, comparing two revisions field
 * by field. Does not own the tables (facts.c writes a proposal and puts a
 * revision in force once both signers sent it) nor the checks every
 * revision passes (conventions.c). Invariant: a revision is in force only
 * when its bailleur and its réservataire sent the same packed payload. */
#include "amendments.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fluxbus/codec.h"

#define S_MAX_PAYLOAD (1024u * 1024u)

static fb_err_t s_refuse(char *detail, size_t dlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static fb_err_t s_refuse(char *detail, size_t dlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (dlen)
        vsnprintf(detail, dlen, fmt, ap);
    va_end(ap);
    return FB_ERR_INVALID_TRANSITION;
}

bool amendments_is_amendment(const conventions_rev_t *c)
{
    return c->revision >= 2;
}

unsigned amendments_next_revision(sqlite3 *db, const char *convention_id)
{
    sqlite3_stmt *st = NULL;
    unsigned next = 0;
    if (sqlite3_prepare_v2(db,
                           "SELECT max(revision) FROM (SELECT revision FROM ledger_conventions"
                           " WHERE convention_id = ?1 UNION ALL SELECT revision"
                           " FROM ledger_convention_proposals WHERE convention_id = ?1)",
                           -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_text(st, 1, convention_id, -1, SQLITE_TRANSIENT);
        if (sqlite3_step(st) == SQLITE_ROW)
            next = (unsigned)sqlite3_column_int64(st, 0) + 1; /* NULL reads 0: none yet */
    }
    sqlite3_finalize(st);
    return next;
}

/* ---- comparing two revisions ---------------------------------------------------------- */

/* The bytes a singular field of this type takes in the generated struct. */
static size_t s_member_size(const ProtobufCFieldDescriptor *f)
{
    switch (f->type) {
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
        return sizeof(int64_t);
    case PROTOBUF_C_TYPE_DOUBLE:
        return sizeof(double);
    case PROTOBUF_C_TYPE_BOOL:
        return sizeof(protobuf_c_boolean);
    case PROTOBUF_C_TYPE_STRING:
        return sizeof(char *);
    case PROTOBUF_C_TYPE_BYTES:
        return sizeof(ProtobufCBinaryData);
    case PROTOBUF_C_TYPE_MESSAGE:
        return sizeof(ProtobufCMessage *);
    default: /* the 32-bit integers, float, enum */
        return sizeof(int32_t);
    }
}

/* Field f of c alone, packed (a Convention with every other field unset);
 * NULL on out of memory. */
static uint8_t *s_pack_field(const conventions_rev_t *c, const ProtobufCFieldDescriptor *f,
                             size_t *len)
{
    conventions_rev_t one = FLUXBUS__V1__CONVENTION__INIT;
    const char *from = (const char *)c;
    char *to = (char *)&one;
    if (f->label == PROTOBUF_C_LABEL_REPEATED) {
        memcpy(to + f->quantifier_offset, from + f->quantifier_offset, sizeof(size_t));
        memcpy(to + f->offset, from + f->offset, sizeof(void *));
    } else {
        if (f->quantifier_offset) /* a field with a has_ flag */
            memcpy(to + f->quantifier_offset, from + f->quantifier_offset,
                   sizeof(protobuf_c_boolean));
        memcpy(to + f->offset, from + f->offset, s_member_size(f));
    }
    uint8_t *buf = NULL;
    return fb_codec_pack(&one.base, &buf, len) == FB_OK ? buf : NULL;
}

const char *amendments_difference(const conventions_rev_t *a, const conventions_rev_t *b)
{
    const ProtobufCMessageDescriptor *d = a->base.descriptor;
    const char *differs = NULL;
    for (unsigned i = 0; !differs && i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &d->fields[i];
        size_t la = 0, lb = 0;
        uint8_t *pa = s_pack_field(a, f, &la), *pb = s_pack_field(b, f, &lb);
        if (!pa || !pb || la != lb || memcmp(pa, pb, la) != 0)
            differs = f->name; /* out of memory: say the field, not "the same" */
        free(pa);
        free(pb);
    }
    return differs;
}

/* ---- the check of an amendment ----------------------------------------------------------- */

/* The stored proposal `blob` compared with c packed (`mine`): refused when
 * its terms differ, naming the first field that does. */
static fb_err_t s_check_against(sqlite3 *db, const conventions_rev_t *c, const char *sender,
                                const char *proposer, const void *blob, size_t len,
                                const uint8_t *mine, size_t mine_len, char *detail, size_t dlen)
{
    if (len == mine_len && memcmp(blob, mine, len) == 0)
        return FB_OK; /* a duplicate, or the countersignature */
    ProtobufCMessage *stored = NULL;
    const char *field = "its payload";
    if (fb_codec_unpack(&fluxbus__v1__convention__descriptor, blob, len, S_MAX_PAYLOAD, &stored) ==
        FB_OK) {
        const char *f = amendments_difference(c, (const conventions_rev_t *)stored);
        field = f ? f : field; /* the same fields, other bytes: unknown fields */
    }
    unsigned next = amendments_next_revision(db, c->convention_id);
    fb_err_t rc;
    if (strcmp(proposer, sender) == 0)
        rc = s_refuse(detail, dlen,
                      "Convention %s revision %u was proposed by %s already with other terms"
                      " (%s): a proposal stands, an amendment is a new revision (%u)",
                      c->convention_id, c->revision, sender, field, next);
    else
        rc = s_refuse(detail, dlen,
                      "Convention %s revision %u differs from the one %s proposed (%s): send "
                      "the same terms to countersign it, or propose revision %u",
                      c->convention_id, c->revision, proposer, field, next);
    fb_codec_free(stored);
    return rc;
}

/* The proposals of c's revision stored already agree with c. */
static fb_err_t s_check_proposals(sqlite3 *db, const conventions_rev_t *c, const char *sender,
                                  char *detail, size_t dlen)
{
    uint8_t *mine = NULL;
    size_t mine_len = 0;
    if (fb_codec_pack(&c->base, &mine, &mine_len) != FB_OK)
        return FB_ERR_STORE;
    sqlite3_stmt *st = NULL;
    fb_err_t rc = FB_ERR_STORE;
    if (sqlite3_prepare_v2(db,
                           "SELECT sender, payload FROM ledger_convention_proposals"
                           " WHERE convention_id = ?1 AND revision = ?2 ORDER BY seq",
                           -1, &st, NULL) != SQLITE_OK)
        goto done;
    sqlite3_bind_text(st, 1, c->convention_id, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 2, c->revision);
    int step = SQLITE_DONE;
    rc = FB_OK;
    while (rc == FB_OK && (step = sqlite3_step(st)) == SQLITE_ROW) {
        const char *proposer = (const char *)sqlite3_column_text(st, 0);
        const void *blob = sqlite3_column_blob(st, 1);
        size_t len = (size_t)sqlite3_column_bytes(st, 1);
        rc = s_check_against(db, c, sender, proposer ? proposer : "", blob ? blob : "", len, mine,
                             mine_len, detail, dlen);
    }
    if (rc == FB_OK && step != SQLITE_DONE)
        rc = FB_ERR_STORE;
done:
    sqlite3_finalize(st);
    free(mine);
    return rc;
}

fb_err_t amendments_check(sqlite3 *db, const conventions_rev_t *c, const char *sender, char *detail,
                          size_t dlen)
{
    const char *bailleur = c->bailleur_actor_id, *resa = c->reservataire_actor_id;
    if (!*bailleur || !*resa || strcmp(bailleur, resa) == 0)
        return s_refuse(detail, dlen,
                        "Convention %s revision %u is an amendment, which takes effect once its "
                        "bailleur and its réservataire both sent it: it must name both",
                        c->convention_id, c->revision);
    if (strcmp(sender, bailleur) != 0 && strcmp(sender, resa) != 0)
        return s_refuse(detail, dlen,
                        "Convention %s revision %u sent by %s: an amendment is signed by the "
                        "bailleur %s and the réservataire %s only",
                        c->convention_id, c->revision, sender, bailleur, resa);
    return s_check_proposals(db, c, sender, detail, dlen);
}
