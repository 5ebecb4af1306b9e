/* held.h - the running counts the surréservation check reads (docs/LEDGER.md,
 * "Surréservation"): orientations still held and dwellings freed, per
 * bailleur and year, kept up to date as messages are recorded, so that an
 * Orientation is checked in a time that does not grow with the number of
 * orientations and vacancies before it.
 *
 * ledger_held_pairs: one row per (vacancy, réservataire) whose latest
 *   orientation round still holds a right (not declined; remis or expired
 *   only when the convention in force then counts it), with the year it
 *   counts in (the vacancy's freed year, else its orientation's; none when
 *   oriented before that year began), its bailleur, its convention ('' for
 *   none) and the vacancy's mode_gestion and hors_flux_motif.
 * ledger_held: how many such pairs per (bailleur, year, convention,
 *   réservataire, mode, motif); triggers on ledger_held_pairs keep it.
 * ledger_freed: how many vacancies were freed per (bailleur, year, commune,
 *   mode, motif); triggers on ledger_vacancies (its freed_year) keep it.
 * ledger_freed_modes: ledger_freed summed per (bailleur, year, mode), kept
 *   by the same triggers: the bailleur's dwellings freed en flux without
 *   reading one row per commune.
 *
 * Invariant: after every message recorded (facts.c) and every deadline
 * marked (deadlines.c), ledger_held_pairs is what held_refresh_vacancy would
 * compute from ledger_orientations, ledger_vacancies and ledger_conventions. */
#ifndef FLUXBUS_LEDGER_HELD_H
#define FLUXBUS_LEDGER_HELD_H

#include <stdbool.h>
#include <stdint.h>

#include "ledger.h"
#include "stmts.h"

/* The SQL that creates the tables and triggers above (idempotent), and the
 * SQL that drops them (facts.c runs both with the ledger's other tables). */
const char *held_schema_sql(void);
const char *held_drop_sql(void);

/* Computes again the held pairs of one vacancy (after its facts or one of
 * its orientations changed). */
fb_err_t held_refresh_vacancy(stmts_t *q, const char *vacancy_id);

/* Computes again the held pairs of every vacancy with an orientation
 * naming convention_id that was given back or expired (after a revision
 * of it came into force: it may count them otherwise). */
fb_err_t held_refresh_convention(stmts_t *q, const char *convention_id);

/* A group of held pairs, or of freed dwellings (commune set, convention
 * and reservataire NULL). Strings are borrowed for the call. */
typedef struct {
    const char *convention_id; /* "" for none */
    const char *reservataire;
    const char *commune;
    int mode, motif;
    int64_t n;
} held_group_t;

typedef void (*held_group_fn)(void *ctx, const held_group_t *g);

/* Calls fn for each group of pairs held with bailleur's vacancies in year. */
fb_err_t held_each(stmts_t *q, const char *bailleur, int year, held_group_fn fn, void *ctx);

/* Calls fn for each group of bailleur's vacancies freed in year. */
fb_err_t held_each_freed(stmts_t *q, const char *bailleur, int year, held_group_fn fn, void *ctx);

/* How many of bailleur's vacancies were freed en flux (neither en stock
 * nor hors flux) in year, into *n: the sum of held_each_freed's groups of
 * those modes, read from ledger_freed_modes (a few rows). */
fb_err_t held_freed_en_flux(stmts_t *q, const char *bailleur, int year, int64_t *n);

/* Calls fn once with the group of the pair (vacancy, reservataire) and n = 1
 * if it is held in year; not at all otherwise. */
fb_err_t held_pair(stmts_t *q, const char *vacancy_id, const char *reservataire, int year,
                   held_group_fn fn, void *ctx);

#endif
