/* conventions.h - the flux conventions as the ledger knows them: every
 * revision of every Convention in force (table ledger_conventions, one
 * packed payload per revision: revision 1 as sent, an amendment once
 * countersigned, amendments.h), the revision in force on a date, what a
 * revision says once its defaults are applied (counting rule per management
 * mode, remises and expiries, hors-flux exclusions, first lettings,
 * territory, objectives), and the checks an Orientation must pass.
 *
 * The rules are those of docs/LEDGER.md, "Conventions"; this module is the
 * one place that applies the defaults the proto comments promise. */
#ifndef FLUXBUS_LEDGER_CONVENTIONS_H
#define FLUXBUS_LEDGER_CONVENTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fluxbus/v1/ledger.pb-c.h"
#include "ledger.h"
#include "stmts.h"

typedef Fluxbus__V1__Convention conventions_rev_t;

typedef struct conventions conventions_t;

/* Loads every revision of the conventions whose bailleur is `bailleur`
 * (NULL: all of them). NULL with a reason in err (a database error, or a
 * stored payload that does not decode). */
conventions_t *conventions_load(sqlite3 *db, const char *bailleur, char *err, size_t errlen);

/* Loads the revisions of one convention (none is not an error: size 0). */
conventions_t *conventions_load_id(sqlite3 *db, const char *convention_id, char *err,
                                   size_t errlen);

/* The same through q's statements (prepared once: the orientation checks
 * and the running counts load a convention per message). */
conventions_t *conventions_load_id_q(stmts_t *q, const char *convention_id, char *err,
                                     size_t errlen);

/* Frees; safe on NULL and twice. */
void conventions_destroy(conventions_t **self_p);

/* Number of conventions (not revisions) loaded, and the id of the i-th, in
 * id order. */
size_t conventions_size(const conventions_t *self);
const char *conventions_id(const conventions_t *self, size_t i);

/* Index of the convention with that id, or -1. */
long conventions_find(const conventions_t *self, const char *convention_id);

/* The revisions of convention i, in revision order (borrowed). */
size_t conventions_revision_count(const conventions_t *self, size_t i);
const conventions_rev_t *conventions_revision(const conventions_t *self, size_t i, size_t k);

/* The revision of convention i in force at instant at_ms: the highest
 * revision whose effective date is on or before it; before the first
 * effective date, the revision that takes effect first (a fact older than
 * the convention is read with its first terms). Never NULL. */
const conventions_rev_t *conventions_at(const conventions_t *self, size_t i, int64_t at_ms);

/* ---- what a revision says, defaults applied ---- */

/* The instant the revision takes effect: 00:00 Paris on effective_from, else
 * on 1 January of its year, else the beginning of time (INT64_MIN). */
int64_t conventions_effective_ms(const conventions_rev_t *c);

/* How a management mode (ManagementMode) is counted: the CountingRule for
 * that mode, else the one for MANAGEMENT_MODE_UNSPECIFIED, else
 * counting_method with caleol_requires_visit. The method is never
 * UNSPECIFIED (read as BAIL_SIGNE). */
typedef struct {
    int method;          /* CountingMethod */
    bool requires_visit; /* a CALEOL agreement counts only for a visited candidate */
} conventions_rule_t;
conventions_rule_t conventions_rule(const conventions_rev_t *c, int mode);

/* Does a remise à disposition / an expired deadline count against the
 * réservataire? UNSPECIFIED: a remise does not, an expired deadline does (as
 * the broker's DeadlineExpired says, deadlines.h). */
bool conventions_remise_counted(const conventions_rev_t *c);
bool conventions_expiry_counted(const conventions_rev_t *c);

/* Is a vacancy with this LogementLibere mode_gestion and hors_flux_motif
 * outside the convention's flux (neither in the base nor counted)? A
 * HORS_FLUX vacancy is when its motif is one the convention excludes
 * (hors_flux_motifs, or the four defaults); a first letting (STOCK) is
 * unless first_letting is STOCK_DECOMPTE. */
bool conventions_excludes(const conventions_rev_t *c, int mode_gestion, int hors_flux_motif);

/* The délai in days for an existing dwelling or a first letting. */
unsigned conventions_deadline_days(const conventions_rev_t *c, bool first_letting);

/* MULTIPARTITE or BILATERALE (UNSPECIFIED reads as BILATERALE). */
bool conventions_multipartite(const conventions_rev_t *c);

/* The commune sheet of `actor` for `year` (sheet year 0 = the convention's
 * year), or NULL. */
const Fluxbus__V1__CommuneSheet *conventions_sheet(const conventions_rev_t *c, const char *actor,
                                                   int year);

/* Is `actor` a réservataire party of the convention in `year`: its
 * reservataire_actor_id, or the commune of one of the year's sheets? */
bool conventions_is_party(const conventions_rev_t *c, const char *actor, int year);

/* Does the territory of party `party` (NULL: the convention as a whole) in
 * `year` cover commune `insee`? A sheet's territory is its commune; the
 * réservataire's (and the whole convention's) is territory_insee, else the
 * communes of the year's sheets, else unlimited; and always within
 * `departement` when set. An unknown commune (NULL or "") is covered only
 * when the territory is unlimited. */
bool conventions_covers(const conventions_rev_t *c, const char *party, int year, const char *insee);

/* One objective as written (defaults applied: kind PLACEMENTS, unit COUNT). */
typedef struct {
    int kind; /* ObjectiveKind */
    int unit; /* ObjectiveUnit */
    uint32_t value, min, max;
    bool delegated; /* a sheet's right delegated by the EPCI (false: own, or the convention's) */
} conventions_objective_t;

/* The objectives of party `party` (NULL: the convention as a whole) in
 * `year`, at most cap of them written to out; returns how many there are.
 * The convention's own `objectives` (or fields 8-11) belong to the whole
 * convention and, when bilateral, to its réservataire; a commune's are its
 * sheet's (delegated then own); the EPCI of a multipartite convention has
 * none of its own. */
size_t conventions_objectives(const conventions_rev_t *c, const char *party, int year,
                              conventions_objective_t *out, size_t cap);

/* ---- the check at orientation time ---- */

/* May this Orientation (msg->payload; msg->sender the bailleur, msg->at_ms
 * now) be accepted under its convention? An orientation en flux must name a
 * convention the ledger knows; one to the bailleur itself (its own
 * non-reserved dwelling) or of a vacancy freed hors flux or en stock need
 * not, and is checked only against a known convention it names.
 * FB_ERR_INVALID_TRANSITION with the reason in detail when an orientation en
 * flux names no convention or an unknown one; when the revision in force at
 * msg->at_ms is for another year or has not taken effect, does not bind this
 * bailleur and réservataire, or leaves the vacancy outside the
 * réservataire's territory (or its commune is unknown while the territory is
 * limited); when the convention excludes the vacancy from its flux (hors
 * flux); when the orientation would overbook (surréservation,
 * docs/LEDGER.md): the réservataire's or the whole convention's held
 * orientations over the maximum of its objective, or (for a vacancy freed on
 * the bus) the bailleur's held orientations across all its conventions over
 * its dwellings freed en flux; when its deadline falls on a day before the
 * convention's délai ends (conventions_orientation_deadline); when it asks
 * for fewer candidates than the convention states (candidates_expected of
 * the revision in force). FB_OK
 * otherwise; FB_ERR_STORE on a database error. */
fb_err_t conventions_check_orientation(stmts_t *q, const ledger_msg_t *msg, char *detail,
                                       size_t dlen);

/* The deadline of an Orientation accepted at msg->at_ms, the one the ledger
 * stores and the broker's DeadlineExpired watches: its own deadline_ms when
 * set; else, under a convention the ledger knows whose revision in force
 * sets a délai for the vacancy's kind of dwelling (conventions_deadline_days:
 * a first letting is a vacancy freed en stock), the acceptance plus that many
 * days of 24 hours; else 0 (no deadline). A round stored already (the same
 * Orientation again) counts from its first acceptance. FB_OK or
 * FB_ERR_STORE. */
fb_err_t conventions_orientation_deadline(stmts_t *q, const ledger_msg_t *msg,
                                          int64_t *deadline_ms);

/* How many candidates an Orientation's round asks for, the number the
 * ledger stores (candidates_expected) and the lifecycle requires before the
 * CALEOL: its own candidates_expected when set (conventions_check_orientation
 * refuses fewer than its convention's); else, under a convention the ledger
 * knows whose revision in force (at the round's first acceptance) states
 * candidates_expected, that number; else 3. FB_OK or FB_ERR_STORE. */
fb_err_t conventions_orientation_candidates(stmts_t *q, const ledger_msg_t *msg,
                                            unsigned *expected);

/* Checks a Convention before it is accepted: sent by one of its parties
 * (its bailleur_actor_id, its réservataire, or a commune with a sheet of a
 * multipartite one) who is also a party of the last revision in force; a
 * revision in force comes again with the same content only (a duplicate);
 * a new revision is above the last one in force; the bailleur and the
 * réservataire stay. An amendment (revision 2 or more) not yet in force is
 * then checked as amendments_check says: sent by its bailleur or its
 * réservataire, with the terms of any proposal of that revision stored.
 * FB_OK, FB_ERR_INVALID_TRANSITION (detail written) or FB_ERR_STORE. */
fb_err_t conventions_check_convention(sqlite3 *db, const ledger_msg_t *msg, char *detail,
                                      size_t dlen);

#endif
