/* bilan.h - the annual bilan of attributions (CCH R441-5-1) of a bailleur
 * (or all), for a year or any period, from the ledger's facts (facts.h) and
 * the dated reference data (refdata.h).
 *
 * What it counts, exactly (docs/LEDGER.md, "Bilan and reports"):
 * - an ATTRIBUTION is a CALEOL decision a), b) or c) (CaleolDecisionCode
 *   ATTRIBUTION, ATTRIBUTION_PAR_RANG, SOUS_CONDITION_SUSPENSIVE) decided in
 *   the period, whether or not a lease follows; a suspensive condition that
 *   lapsed undoes it; a decision par rang of rank 2 or more counts only once
 *   the dwelling reached that candidate (an answer, a non-suite or a lease
 *   is recorded for it), until then it is a standby rank, counted apart;
 * - a LEASE is a BailSigne accepted in the period;
 * - the réservataire of an attribution is the one credited with it; an
 *   attribution credited to nobody, or to the bailleur itself (its
 *   non-reserved dwellings, hors-flux dwellings included), is the bailleur's;
 * - hors flux: the dwelling's LogementLibere said MODE_GESTION_HORS_FLUX;
 *   such attributions are in every total and also shown apart;
 * - priority household: the Designation said dalo or pdalhpd;
 * - Q1 household: the CaleolDecision or BailSigne said q1, or the
 *   Designation said QUARTILE_Q1; any other household is Q2-Q4;
 * - QPV: the status of the dwelling ON THE DATE OF THE EVENT (decision,
 *   lease, designation) from the reference table valid that day (refdata.h:
 *   by RPLS id, residence, commune), else the LogementLibere's own qpv.
 * The legal objectives, per EPCI, each counted as the law counts it:
 * - q1_hors_qpv: leases of dwellings hors QPV signed by Q1 households or
 *   for ANRU rehousing, over all leases hors QPV;
 * - prioritaires: per réservataire (the bailleur's own line included),
 *   attributions to priority households over its attributions;
 * - non_q1_en_qpv: attributions of dwellings in QPV to Q2-Q4 households,
 *   over all attributions in QPV.
 * Beside each réservataire's line: its conventions' placements target for
 * the period and the official count, from the décompte of the bailleur's
 * conventions (conventions are not per EPCI: the --epci filter does not
 * narrow them).
 * The targets are those of the reference data valid on the period's last
 * day: the legal objective, and beside it every local CIA target of the EPCI
 * (whole EPCI, one commune or one bailleur), counted the same way over its
 * scope. */
#ifndef FLUXBUS_LEDGER_BILAN_H
#define FLUXBUS_LEDGER_BILAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

#include "period.h"
#include "refdata.h"

#define BILAN_ID_MAX 128
#define BILAN_DEFAULT_REPEATED 2u
#define BILAN_REFUS_MOTIFS 10 /* RefusMotif values 0..9 */

typedef struct {
    period_t period;
    const char *bailleur;        /* actor id or SIREN; NULL: every bailleur */
    const char *epci;            /* EPCI SIREN; NULL: every EPCI */
    unsigned repeated_threshold; /* "presented repeatedly": at least this many; 0: default */
    /* INSEE codes, comma-separated ("74010,74011"): only the dwellings of
     * these communes (a territory), and no conventions' progress (a
     * convention's count is not per commune); NULL: every commune. */
    const char *communes;
} bilan_query_t;

/* The breakdowns of attributions and leases. */
typedef enum {
    BILAN_BY_RESERVATAIRE = 0,
    BILAN_BY_TYPOLOGIE,
    BILAN_BY_FINANCEMENT,
    BILAN_BY_QPV,
    BILAN_BY_COMMUNE,
    BILAN_BY_CONSTRUCTION,
    BILAN_BY_HORS_FLUX_MOTIF, /* hors-flux attributions only, by motif */
    BILAN_DIMS
} bilan_dim_t;

/* One line of a breakdown (or the total). */
typedef struct {
    char key[BILAN_ID_MAX]; /* stable key: actor id, "T3", "PLUS", "in_qpv", INSEE... */
    char label[160];        /* French label for people ("T3", "en QPV", "… (non réservé)") */
    int order;              /* sort rank of enum keys */
    bool non_reserve;       /* réservataires: the bailleur's own line */
    uint32_t orientations;  /* réservataires: Orientation messages in the period */
    uint32_t attributions;  /* hors flux included */
    uint32_t hors_flux;     /* of which hors flux */
    uint32_t prioritaires;  /* of which to DALO / priority households */
    uint32_t q1;            /* of which to Q1 households */
    uint32_t leases;        /* leases signed in the period (hors flux included) */
    uint32_t leases_hors_flux;
    /* réservataires: their conventions' placements over the period, from the
     * décompte (decompte.h): the target and the official count. */
    bool has_objective;
    uint32_t objective, done;
} bilan_count_t;

typedef struct {
    bilan_count_t *rows;
    size_t n;
} bilan_table_t;

/* One objective evaluated over one scope. */
typedef struct {
    char objective[24];              /* REFDATA_OBJ_* */
    bool local;                      /* a CIA target (else the legal objective) */
    char scope[12];                  /* "epci", "commune", "bailleur" */
    char scope_id[64];               /* SIREN, INSEE code, bailleur id */
    char reservataire[BILAN_ID_MAX]; /* prioritaires: the réservataire; "" = all together */
    bool non_reserve;                /* prioritaires: the bailleur's own line */
    uint32_t numerator, denominator;
    uint32_t anru;        /* q1_hors_qpv: in the numerator, ANRU rehousing of non-Q1 households */
    uint32_t unknown_qpv; /* events left out because the dwelling's QPV status is unknown */
    uint32_t unknown_quartile; /* non_q1_en_qpv: attributions in QPV left out because the
                                  household's quartile is unknown (never counted as Q2-Q4) */
    bool has_target;
    refdata_target_t target; /* when has_target */
    const char *status;      /* "pass", "fail", "no_target" (no reference), "no_data" (0/0) */
} bilan_objective_t;

typedef struct {
    int year;
    bool known;
    int64_t cents;
} bilan_threshold_t;

typedef struct {
    char epci_siren[16];             /* "" when the dwellings did not say */
    char epci_name[128];             /* from the Q1 thresholds' reference data */
    bilan_threshold_t thresholds[8]; /* Q1 threshold of each year of the period */
    size_t n_thresholds;
    uint32_t attributions, leases;
    uint32_t qpv_reference, qpv_message, qpv_unknown; /* where each event's QPV status came from */
    uint32_t message_map_years[4];                    /* qpv_map_year of the messages relied on */
    size_t n_map_years;
    bilan_objective_t *objectives; /* legal first, then local */
    size_t n_objectives;
} bilan_epci_t;

typedef struct {
    int year, month;
    uint32_t freed, orientations, attributions, leases;
} bilan_month_t;

/* Refusals by households of proposals, per residence. */
typedef struct {
    char bailleur[BILAN_ID_MAX];
    char residence_id[64];
    char commune_insee[16];
    uint32_t total;
    uint32_t by_motif[BILAN_REFUS_MOTIFS]; /* index: RefusMotif */
} bilan_refusals_t;

/* Days from the dwelling freed to the lease. */
typedef struct {
    char key[16]; /* INSEE code; "" for every commune together */
    uint32_t leases;
    uint32_t mean_x10; /* tenths of a day */
    uint32_t median, min, max;
} bilan_vacant_t;

/* A candidate designated on several dwellings, never given one. */
typedef struct {
    char nur[32];
    uint32_t presentations;  /* dwellings it was designated on in the period */
    char reservataires[256]; /* who designated it, ", " between */
    char last_presented[11];
} bilan_repeated_t;

/* Q1 candidates in the proposals of dwellings hors QPV. */
typedef struct {
    uint32_t candidates, q1_candidates;    /* designations hors QPV in the period */
    uint32_t proposals, proposals_with_q1; /* dwellings hors QPV with designations */
} bilan_q1_proposals_t;

typedef struct {
    period_t period;
    char bailleur[BILAN_ID_MAX]; /* the filters ("" = none) */
    char epci[16];
    char *communes;          /* the communes filter as ",INSEE,...,", or NULL */
    char reference_date[11]; /* the day whose objectives and targets apply */
    unsigned repeated_threshold;
    bilan_count_t total;
    uint32_t standby_par_rang; /* decisions par rang never reached, not counted */
    bilan_table_t by[BILAN_DIMS];
    bilan_epci_t *epcis; /* by SIREN */
    size_t n_epcis;
    bilan_month_t *months; /* every month the period touches, in order */
    size_t n_months;
    bilan_refusals_t *refusals; /* most refused first */
    size_t n_refusals;
    bilan_vacant_t *vacant; /* [0] all communes, then by INSEE code */
    size_t n_vacant;
    bilan_repeated_t *repeated; /* most presented first */
    size_t n_repeated;
    bilan_q1_proposals_t q1_proposals;
} bilan_t;

/* Computes the bilan for q on the ledger's tables and the reference data
 * of db. NULL with a reason in err on a database error. */
bilan_t *bilan_run(sqlite3 *db, const bilan_query_t *q, char *err, size_t errlen);

/* Frees; safe on NULL and twice. */
void bilan_destroy(bilan_t **self_p);

/* Stable names: "reservataire", "typologie", "financement", "qpv",
 * "commune", "construction_period", "hors_flux_motif". */
const char *bilan_dim_name(bilan_dim_t dim);

/* French label of a RefusMotif ("localisation", "loyer trop élevé"...). */
const char *bilan_refus_label(int motif);

/* Stable key of a RefusMotif ("localisation", "loyer_trop_eleve"...). */
const char *bilan_refus_key(int motif);

/* done/total in tenths of a percent, rounded (625 = 62.5 %); -1 when total
 * is 0. */
long bilan_share_x10(uint32_t done, uint32_t total);

#endif
