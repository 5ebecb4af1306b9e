/* snapshot.h - one vacancy as the ledger's tables hold it (facts.h): its
 * row, its orientations (every réservataire and round) and its candidates,
 * read in one go so that the lifecycle (lifecycle.c) judges a message on
 * plain data. Read-only; owns these SELECTs and nothing else. */
#ifndef FLUXBUS_LEDGER_SNAPSHOT_H
#define FLUXBUS_LEDGER_SNAPSHOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

#include "fluxbus/err.h"
#include "stmts.h"

/* One row of ledger_orientations. */
typedef struct {
    char *reservataire;
    int round;
    char status[16];     /* oriente, acquitte, decline, designe, remis, expire */
    int expected;        /* candidates_expected */
    int candidates;      /* designations received */
    int64_t deadline_ms; /* 0: none */
    int64_t seq;         /* store seq of the Orientation: the order they were sent */
} snapshot_orientation_t;

/* One row of ledger_candidates; an absent column reads 0 / false. */
typedef struct {
    char *nur;
    char *credited;
    int round; /* orientation round of `credited`; 0: the bailleur's own */
    int rank;
    int candidate_count;
    bool designated;
    bool visited;
    int decision; /* CaleolDecisionCode, 0 = none */
    int decision_rank;
    int condition_state; /* ConditionState */
    int answer;          /* PropositionAnswer, 0 = none */
    bool non_suite;
    bool lease;
    bool radiated;
    int64_t designated_ms; /* INT64_MIN: not designated */
    int64_t rowid;         /* with designated_ms, the designation order */
} snapshot_candidate_t;

typedef struct {
    bool known; /* a row in ledger_vacancies */
    char *bailleur;
    char state[16];
    int mode_gestion;
    snapshot_orientation_t *orientations; /* in the order they were sent */
    size_t n_orientations;
    snapshot_candidate_t *candidates; /* in designation order */
    size_t n_candidates;
} snapshot_t;

/* Reads vacancy into *out (zeroed first; known = false when the ledger has
 * no row). FB_OK, FB_ERR_NOMEM or FB_ERR_STORE; *out is to be cleared with
 * snapshot_clear() in every case. */
fb_err_t snapshot_load(stmts_t *q, const char *vacancy, snapshot_t *out);

/* Frees what snapshot_load allocated; safe on a zeroed or cleared one. */
void snapshot_clear(snapshot_t *self);

/* The latest round of reservataire's orientations, or NULL. */
const snapshot_orientation_t *snapshot_orientation(const snapshot_t *self,
                                                   const char *reservataire);

/* The orientation (reservataire, round), or NULL. */
const snapshot_orientation_t *snapshot_round(const snapshot_t *self, const char *reservataire,
                                             int round);

/* The candidate with this NUR, or NULL. */
const snapshot_candidate_t *snapshot_candidate(const snapshot_t *self, const char *nur);

#endif
