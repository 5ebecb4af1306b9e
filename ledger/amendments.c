/* amendments.c - the countersignature of a convention's amendments (see
 * amendments.h): who signs one, and whether a proposal agrees with the
 * proposals of the same revision stored already.
 *
 * Owns: reading ledger_convention_proposals, finding the first field in
 * which two packed revisions differ (walking their wire records). Does not own the tables (facts.c
 * writes a proposal and puts a revision in force once both signers sent it) nor the checks every
 * revision passes (conventions.c). Invariant: a revision is in force only
 * when its bailleur and its réservataire sent the same packed payload. */
#include "amendments.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fluxbus/codec.h"

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

/* Reads a varint at *p (below end); false when the bytes end first. */
static bool s_varint(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
    *v = 0;
    for (unsigned shift = 0; *p < end && shift < 64; shift += 7) {
        uint8_t b = *(*p)++;
        *v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80))
            return true;
    }
    return false;
}

/* The next field of a packed message at *p: its number, and *p moved past
 * its value. 0 at the end, or when the bytes do not parse. */
static uint32_t s_next_field(const uint8_t **p, const uint8_t *end)
{
    uint64_t tag = 0, len = 0;
    if (*p >= end || !s_varint(p, end, &tag))
        return 0;
    switch (tag & 7) {
    case 0: /* varint */
        if (!s_varint(p, end, &len))
            return 0;
        break;
    case 1: /* 64-bit */
        len = 8;
        break;
    case 2: /* length-delimited */
        if (!s_varint(p, end, &len))
            return 0;
        break;
    case 5: /* 32-bit */
        len = 4;
        break;
    default:
        return 0;
    }
    if ((tag & 7) != 0) {
        if (len > (uint64_t)(end - *p))
            return 0;
        *p += len;
    }
    return (uint32_t)(tag >> 3);
}

/* Walks both packed payloads in step: protobuf-c packs fields in number
 * order, a repeated field's elements in a row, and leaves unset fields
 * out, so the first record that differs, or the smaller field number where
 * one payload has a field the other has not, is the first field that
 * differs. */
static uint32_t s_first_difference(const uint8_t *a, size_t la, const uint8_t *b, size_t lb)
{
    const uint8_t *pa = a, *pb = b, *ea = a + la, *eb = b + lb;
    for (;;) {
        const uint8_t *ra = pa, *rb = pb;
        uint32_t fa = s_next_field(&pa, ea), fb = s_next_field(&pb, eb);
        if (fa == 0 && fb == 0)
            return 0;
        if (fa != fb)
            return fa && (fa < fb || fb == 0) ? fa : fb;
        if (pa - ra != pb - rb || memcmp(ra, rb, (size_t)(pa - ra)) != 0)
            return fa;
    }
}

/* The name of field `number` of a Convention, or a placeholder. */
static const char *s_field_name(uint32_t number)
{
    const ProtobufCFieldDescriptor *f =
        protobuf_c_message_descriptor_get_field(&fluxbus__v1__convention__descriptor, number);
    return f ? f->name : "an unknown field";
}

const char *amendments_difference(const conventions_rev_t *a, const conventions_rev_t *b)
{
    uint8_t *pa = NULL, *pb = NULL;
    size_t la = 0, lb = 0;
    const char *differs = NULL;
    if (fb_codec_pack(&a->base, &pa, &la) != FB_OK || fb_codec_pack(&b->base, &pb, &lb) != FB_OK)
        differs = "its payload"; /* out of memory: say it differs, not "the same" */
    else if (la != lb || memcmp(pa, pb, la) != 0)
        differs = s_field_name(s_first_difference(pa, la, pb, lb));
    free(pa);
    free(pb);
    return differs;
}

/* ---- the check of an amendment ----------------------------------------------------------- */

/* The stored proposal `blob` compared with c packed (`mine`): refused when
 * its terms differ, naming the first field that does. */
static fb_err_t s_check_against(sqlite3 *db, const conventions_rev_t *c, const char *sender,
                                const char *proposer, const uint8_t *blob, size_t len,
                                const uint8_t *mine, size_t mine_len, char *detail, size_t dlen)
{
    if (len == mine_len && memcmp(blob, mine, len) == 0)
        return FB_OK; /* a duplicate, or the countersignature */
    const char *field = s_field_name(s_first_difference(mine, mine_len, blob, len));
    unsigned next = amendments_next_revision(db, c->convention_id);
    if (strcmp(proposer, sender) == 0)
        return s_refuse(detail, dlen,
                        "Convention %s revision %u was proposed by %s already with other terms"
                        " (%s): a proposal stands, an amendment is a new revision (%u)",
                        c->convention_id, c->revision, sender, field, next);
    return s_refuse(detail, dlen,
                    "Convention %s revision %u differs from the one %s proposed (%s): send the "
                    "same terms to countersign it, or propose revision %u",
                    c->convention_id, c->revision, proposer, field, next);
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
                           " WHERE convention_id = ?1 AND revision = ?2 AND sender IN (?3, ?4)"
                           " ORDER BY seq",
                           -1, &st, NULL) != SQLITE_OK)
        goto done;
    /* Only the signers' proposals (a store rebuilt from before the rule may
     * hold another party's). */
    sqlite3_bind_text(st, 1, c->convention_id, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 2, c->revision);
    sqlite3_bind_text(st, 3, c->bailleur_actor_id, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 4, c->reservataire_actor_id, -1, SQLITE_TRANSIENT);
    int step = SQLITE_DONE;
    rc = FB_OK;
    while (rc == FB_OK && (step = sqlite3_step(st)) == SQLITE_ROW) {
        const char *proposer = (const char *)sqlite3_column_text(st, 0);
        const uint8_t *blob = sqlite3_column_blob(st, 1); /* NULL when empty: len 0 */
        size_t len = (size_t)sqlite3_column_bytes(st, 1);
        rc = s_check_against(db, c, sender, proposer ? proposer : "", blob ? blob : mine, len, mine,
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
