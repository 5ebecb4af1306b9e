/* decompte.h - the décompte of the flux conventions and the fairness of the
 * spread of hard-to-let dwellings, for any period, from the ledger's facts
 * tables (facts.h).
 *
 * Per convention and party (the réservataire, or each commune of a
 * multipartite convention), what happened in the period (orientations,
 * designations, remises, expiries, CALEOL outcomes, leases), the dwellings
 * counted under ALL THREE methods side by side (orientation acceptée,
 * passage en CALEOL, bail signé) and under the convention's own rules (the
 * official count), and the progress against each objective. The same
 * tallies per réservataire and per commune. And per réservataire, its share
 * of the hard-to-let dwellings against its share of all orientations.
 *
 * The exact rules are in docs/LEDGER.md, "Conventions" and "Décompte". */
#ifndef FLUXBUS_LEDGER_DECOMPTE_H
#define FLUXBUS_LEDGER_DECOMPTE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conventions.h"
#include "period.h"

/* Indexes of decompte_tally_t.counts: the three methods, then the
 * convention's own. */
enum {
    DECOMPTE_ORIENTATION_ACCEPTEE = 0,
    DECOMPTE_PASSAGE_CALEOL = 1,
    DECOMPTE_BAIL_SIGNE = 2,
    DECOMPTE_OFFICIAL = 3,
    DECOMPTE_COUNTS = 4,
};

#define DECOMPTE_DEFAULT_HARD_TO_LET 3u
#define DECOMPTE_MAX_OBJECTIVES 8
#define DECOMPTE_ID_MAX 128

/* What happened in the period for some (vacancy, party) pairs. Activity
 * counts are events in the period; counts[] are distinct vacancies whose
 * counting event falls in the period. */
typedef struct {
    uint32_t freed;     /* dwellings freed in the period, in scope and in the flux */
    uint32_t hors_flux; /* dwellings freed in the period, in scope, left out of the flux */
    uint32_t orientations, acks, declines, designations, remises, expiries;
    uint32_t caleol_attributions, caleol_non_attributions, caleol_rejets;
    uint32_t refusals, non_suites, leases;
    uint32_t counts[DECOMPTE_COUNTS];
    uint32_t offres; /* vacancies offered in the period (oriented, not declined), in the flux */
    uint32_t partenariale; /* official placements made in gestion partenariale */
    uint32_t deleguee;     /* official placements made in gestion déléguée */
    /* Of caleol_attributions and of leases, those to households their
     * Designation said DALO or PDALHPD (prioritaires), and DALO alone. */
    uint32_t attributions_prioritaires, attributions_dalo;
    uint32_t leases_prioritaires, leases_dalo;
} decompte_tally_t;

/* Progress against one kind of objective over the period. */
typedef struct {
    int kind; /* ObjectiveKind */
    int unit; /* ObjectiveUnit; UNSPECIFIED when a sheet mixes units for this kind */
    uint32_t value, min, max; /* as written (summed over a sheet's delegated and own rights) */
    uint32_t base;            /* what a per-mille applies to (freed, or placements); 0 for counts */
    uint32_t target, target_min, target_max; /* for the period; target_max 0 = no bound */
    uint32_t done;
    int32_t remaining;  /* target - done; negative when exceeded */
    const char *status; /* "reached", "in_progress", "below_min", "above_max" */
} decompte_objective_t;

typedef struct {
    char party[DECOMPTE_ID_MAX]; /* réservataire (or commune) credited */
    char commune_insee[16];      /* a commune sheet's commune; "" otherwise */
    decompte_tally_t tally;
    decompte_objective_t objectives[DECOMPTE_MAX_OBJECTIVES];
    size_t n_objectives;
} decompte_line_t;

typedef struct {
    const conventions_rev_t *rev; /* revision in force at the period's end (borrowed) */
    decompte_line_t *lines;       /* one per party */
    size_t n_lines;
    decompte_line_t total; /* every line together; objectives of the whole convention */
} decompte_convention_t;

/* One réservataire's or one commune's tallies. A réservataire's freed and
 * hors_flux are the dwellings freed in the scope of any of its convention
 * lines, each once; a commune's, every dwelling freed there. */
typedef struct {
    char key[DECOMPTE_ID_MAX];
    decompte_tally_t tally;
    uint32_t target; /* réservataires: sum of their PLACEMENTS targets */
    bool has_target;
} decompte_row_t;

/* One réservataire's share of the hard-to-let dwellings. */
typedef struct {
    char reservataire[DECOMPTE_ID_MAX];
    uint32_t orientations;         /* vacancies oriented to it in the period */
    uint32_t hard_to_let;          /* of which refused hard_to_let_threshold times or more */
    uint32_t orientation_share_pm; /* its orientations / all, per mille (rounded) */
    uint32_t hard_to_let_share_pm; /* its hard-to-let / all hard-to-let, per mille */
} decompte_fairness_t;

typedef struct {
    period_t period;
    const char *bailleur;           /* NULL: every bailleur */
    const char *reservataire;       /* NULL: every réservataire */
    unsigned hard_to_let_threshold; /* 0: DECOMPTE_DEFAULT_HARD_TO_LET */
} decompte_query_t;

typedef struct {
    period_t period;
    unsigned hard_to_let_threshold;
    conventions_t *conventions; /* owns the revisions the results point to */
    decompte_convention_t *items;
    size_t n_items;
    decompte_row_t *reservataires; /* by id */
    size_t n_reservataires;
    decompte_row_t *communes; /* by INSEE code ("" = unknown) */
    size_t n_communes;
    decompte_fairness_t *fairness; /* by réservataire id */
    size_t n_fairness;
    uint32_t fairness_orientations; /* all (vacancy, réservataire) orientations in the period */
    uint32_t fairness_hard_to_let;  /* of which on hard-to-let dwellings */
} decompte_t;

/* Computes the décompte for q on the ledger's tables. NULL with a reason in
 * err on a database error or a convention that does not decode. */
decompte_t *decompte_run(sqlite3 *db, const decompte_query_t *q, char *err, size_t errlen);

/* The vacancies decompte_lines reads at a time when not told. */
#define DECOMPTE_CHUNK 1024

/* The convention lines of q alone: the items of decompte_run(q), the same
 * and in the same order, without the réservataire and commune rows and the
 * fairness table. Read `chunk` vacancies at a time (0: DECOMPTE_CHUNK), so
 * that the memory it takes is that of the conventions and their lines, not
 * of the ledger; the dwellings freed are read for the period only. Reads
 * in several statements: for a consistent result, call it inside a read
 * transaction. NULL with a reason in err, as decompte_run. */
decompte_t *decompte_lines(sqlite3 *db, const decompte_query_t *q, size_t chunk, char *err,
                           size_t errlen);

/* Frees; safe on NULL and twice. */
void decompte_destroy(decompte_t **self_p);

/* One month of a period (clipped to it) and what happened in it for every
 * réservataire together: the sum of the décompte's réservataire rows for
 * that month alone (so freed and hors_flux count a dwelling once per
 * réservataire whose scope holds it). */
typedef struct {
    int year, month;
    decompte_tally_t tally;
} decompte_month_t;

/* The décompte of q month by month: one entry per month the period touches,
 * in order, each computed as decompte_run on the month (so a vacancy counts
 * in the month its counting event falls in). *n gets the count; free the
 * array with free(). NULL with a reason in err, as decompte_run. */
decompte_month_t *decompte_months(sqlite3 *db, const decompte_query_t *q, size_t *n, char *err,
                                  size_t errlen);

/* Stable lower-case names used in reports: "orientation_acceptee",
 * "passage_caleol", "bail_signe" (CountingMethod); "placements", "offres",
 * "gestion_partenariale", "gestion_deleguee" (ObjectiveKind); "count",
 * "per_mille", "mixed" (ObjectiveUnit); "directe", "partenariale",
 * "deleguee", "any" (ManagementMode). */
const char *decompte_method_name(int method);
const char *decompte_kind_name(int kind);
const char *decompte_unit_name(int unit);
const char *decompte_mode_name(int mode);

#endif
