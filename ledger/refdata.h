/* refdata.h - the ledger's dated reference data, kept in tables of the
 * broker's store (ledger_ref_*) and read by the bilan: nothing a report
 * needs from the law or from a local agreement is written in the code.
 *
 * Four kinds, each imported from a CSV file (columns in docs/LEDGER.md,
 * "Reference data"):
 * - q1-thresholds: the first-quartile income threshold per EPCI and year
 *   (yearly resources per consumption unit, set by arrêté each year);
 * - qpv: whether a dwelling lies in a QPV, by RPLS id, by residence
 *   (bailleur SIREN + residence id) or by whole commune, with validity
 *   dates (the QPV map changed on 1 January 2024);
 * - objectives: the legal objectives (q1_hors_qpv, prioritaires,
 *   non_q1_en_qpv) as target percentages, with validity dates;
 * - cia-targets: local targets of an EPCI's intercommunal agreement (CIA)
 *   for the same objectives, for the whole EPCI, one commune or one
 *   bailleur, with validity dates.
 * A report for a past period reads the rows valid then. Dates are civil
 * dates "YYYY-MM-DD"; valid_to is included, empty for "still valid".
 *
 * Importing is all or nothing (one transaction); a row with the same key
 * replaces the stored one; rows of one key whose validity ranges overlap are
 * refused. Errors name the line and the column. */
#ifndef FLUXBUS_LEDGER_REFDATA_H
#define FLUXBUS_LEDGER_REFDATA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

#include "fluxbus/err.h"

typedef enum {
    REFDATA_Q1_THRESHOLDS = 0,
    REFDATA_QPV,
    REFDATA_OBJECTIVES,
    REFDATA_CIA_TARGETS,
    REFDATA_KINDS
} refdata_kind_t;

/* The objectives, as named in the CSV files and the reports. */
#define REFDATA_OBJ_Q1_HORS_QPV "q1_hors_qpv"
#define REFDATA_OBJ_PRIORITAIRES "prioritaires"
#define REFDATA_OBJ_NON_Q1_EN_QPV "non_q1_en_qpv"

/* QPV status found for a dwelling on a date. */
typedef enum { REFDATA_QPV_NONE = 0, REFDATA_QPV_IN = 1, REFDATA_QPV_OUT = 2 } refdata_qpv_t;

/* One row of a CSV file: n cells (UTF-8) and the file line it starts on. */
typedef struct {
    const char *const *cells;
    size_t n;
    unsigned line;
} refdata_row_t;

/* Where and why an import was refused. */
typedef struct {
    unsigned line;   /* 0 when not about a line */
    char column[64]; /* "" when not about a column */
    char reason[256];
} refdata_error_t;

/* A legal objective or a local target valid on some date. */
typedef struct {
    char objective[24];                /* REFDATA_OBJ_* */
    char scope[12];                    /* "national" (legal), or "epci", "commune", "bailleur" */
    char scope_id[64];                 /* EPCI SIREN, INSEE code, bailleur SIREN or actor id */
    uint32_t target_per_mille;         /* 250 = 25 % */
    char valid_from[11], valid_to[11]; /* valid_to "" = open */
    char source[128];                  /* legal basis or the deliberation, as imported */
} refdata_target_t;

/* Creates the tables (idempotent). FB_OK or FB_ERR_STORE (reason in err). */
fb_err_t refdata_create(sqlite3 *db, char *err, size_t errlen);

/* "q1-thresholds", "qpv", "objectives", "cia-targets"; and back (false when
 * `name` is none of them). */
const char *refdata_kind_name(refdata_kind_t kind);
bool refdata_kind_parse(const char *name, refdata_kind_t *out);

/* The CSV header of a kind: its columns, in the order `list` prints them;
 * *names is borrowed. Returns how many. */
size_t refdata_columns(refdata_kind_t kind, const char *const **names);

/* Imports `n` rows under `header` into kind's table, in one transaction of
 * its own (BEGIN IMMEDIATE; the broker may be writing the same file). The
 * header names the columns in any order; *imported is the number of rows
 * written. FB_OK; FB_ERR_PARSE with *error (line, column, reason) for a bad
 * header or cell, or overlapping validity, and nothing written;
 * FB_ERR_STORE with *error->reason. */
fb_err_t refdata_import(sqlite3 *db, refdata_kind_t kind, const refdata_row_t *header,
                        const refdata_row_t *rows, size_t n, int64_t now_ms, size_t *imported,
                        refdata_error_t *error);

/* Calls fn once per stored row of kind, in key order, with the values
 * written as the import reads them (so a listing imports back). A non-zero
 * return of fn stops the listing. FB_OK or FB_ERR_STORE (reason in err). */
typedef int (*refdata_row_fn)(void *arg, size_t n, const char *const *values);
fb_err_t refdata_list(sqlite3 *db, refdata_kind_t kind, refdata_row_fn fn, void *arg, char *err,
                      size_t errlen);

/* ---- lookups (the bilan) ---- */

typedef struct refdata refdata_t;

/* Prepares the lookups on db. A store without the tables (opened read-only
 * before they existed) gives a refdata_t that finds nothing. NULL with a
 * reason in err on a database error. */
refdata_t *refdata_new(sqlite3 *db, char *err, size_t errlen);

void refdata_destroy(refdata_t **self_p);

/* QPV status of a dwelling on `date` ("YYYY-MM-DD") from the most precise row
 * valid that day: its RPLS id, else its residence (bailleur SIREN and
 * residence id), else its commune. Empty or NULL keys are skipped. The QPV
 * code found is copied to code (may be ""). REFDATA_QPV_NONE when no row
 * says. */
refdata_qpv_t refdata_qpv_on(refdata_t *self, const char *rpls_id, const char *bailleur_siren,
                             const char *residence_id, const char *commune_insee, const char *date,
                             char *code, size_t codelen);

/* The Q1 threshold of EPCI `epci_siren` for `year`, in cents, and the EPCI's
 * name as imported (name may be NULL). False when none was imported. */
bool refdata_q1_threshold(refdata_t *self, const char *epci_siren, int year, int64_t *cents,
                          char *name, size_t namelen);

/* The legal objective named `objective` valid on date. False when none. */
bool refdata_objective_on(refdata_t *self, const char *objective, const char *date,
                          refdata_target_t *out);

/* The local targets of EPCI `epci_siren` valid on date, in key order: up to
 * cap of them in out; returns how many there are (may exceed cap). */
size_t refdata_cia_targets_on(refdata_t *self, const char *epci_siren, const char *date,
                              refdata_target_t *out, size_t cap);

#endif
