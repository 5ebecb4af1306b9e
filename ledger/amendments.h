/* amendments.h - the countersignature of a convention's amendments: a
 * revision 2 or higher takes effect only once both the bailleur and the
 * réservataire it names (the EPCI of a multipartite convention) have each
 * sent it with the same terms. Until then it is a proposal (table
 * ledger_convention_proposals, facts.h), which nothing reads as terms: the
 * revisions in force are those of ledger_conventions (conventions.h).
 *
 * Terms are compared on the packed payload: the Convention decoded by the
 * broker and packed again (fields in number order, unset ones left out), so
 * two encodings of the same terms compare equal, and every field counts,
 * amendment_note and the order of repeated fields included.
 *
 * The rules are those of docs/LEDGER.md, "Amendments: countersigned". */
#ifndef FLUXBUS_LEDGER_AMENDMENTS_H
#define FLUXBUS_LEDGER_AMENDMENTS_H

#include <stdbool.h>
#include <stddef.h>

#include "conventions.h"

/* Is revision c an amendment, which takes effect only countersigned (its
 * revision is 2 or more)? Revision 1 (or unset) records a signed
 * convention as its sender says it, at once. */
bool amendments_is_amendment(const conventions_rev_t *c);

/* The revision a new amendment of convention `convention_id` would take:
 * one above the highest revision in force or proposed (1 when there is
 * none). 0 on a database error. */
unsigned amendments_next_revision(sqlite3 *db, const char *convention_id);

/* Checks amendment c from `sender` before it is accepted, once the checks
 * of every revision passed (conventions_check_convention): it names both
 * its signers, a bailleur and a réservataire; the sender is one of them (a
 * commune of a multipartite convention is not); a proposal of the same
 * revision stored already, the sender's own (then c is a duplicate) or the
 * other signer's (then c countersigns it), has the same terms. FB_OK,
 * FB_ERR_INVALID_TRANSITION (detail names the revision and the first field
 * that differs) or FB_ERR_STORE. */
fb_err_t amendments_check(sqlite3 *db, const conventions_rev_t *c, const char *sender, char *detail,
                          size_t dlen);

/* The name of the first field, in field-number order, whose value differs
 * between revisions a and b (borrowed from the descriptor), or NULL when
 * their packed forms are the same. */
const char *amendments_difference(const conventions_rev_t *a, const conventions_rev_t *b);

#endif
