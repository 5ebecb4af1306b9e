/* decompte_world.h - a national-like year of the flux written straight
 * into a store's ledger, for fluxbus-decompte-bench: the facts the broker
 * records (ledger_record) for conventions and vacancy lives, without the
 * messages themselves (the décompte reads the ledger only), and the actors
 * its DecompteDroits go to.
 *
 * The world: B bailleurs, R réservataires with a bilateral convention per
 * (bailleur, réservataire) for the year (territory unlimited, a placements
 * objective), C communes (each a registered commune actor), and E EPCIs of
 * S communes each (communes e*S to e*S+S-1), EPCI e in a multipartite
 * convention with bailleur e mod B whose sheets name its communes; five
 * observers (four with an EPCI's communes as territory, one without). N
 * vacancies over the year: vacancy i belongs to bailleur i mod B and lies
 * in any commune; with EPCIs, one in three lies in a commune of one of its
 * bailleur's EPCIs and is oriented to that commune's sheet, the others go
 * to réservataire (i / B) mod R. Lives, by i mod 10: 0-5 let (ack,
 * designation, CALEOL attribution, lease), 6-7 refused (the household
 * refuses, no lease), 8 declined, 9 given back (remise). */
#ifndef FLUXBUS_BENCH_DECOMPTE_WORLD_H
#define FLUXBUS_BENCH_DECOMPTE_WORLD_H

#include <stddef.h>
#include <stdint.h>

#include "fluxbus/err.h"
#include "ledger.h"
#include "store.h"

typedef struct {
    size_t bailleurs, reservataires, communes, epcis, sheets_per_epci, vacancies;
    int year;
} decompte_world_t;

/* The defaults: 4 bailleurs, 4 réservataires, 5,000 communes, no EPCI
 * (EPCIs of 50 communes when some are asked for), 40,000 vacancies, in
 * 2026. */
decompte_world_t decompte_world_default(void);

/* Registers the actors and records the conventions and every vacancy's
 * life in the store's ledger, in transactions of its own; progress lines
 * go to stdout. FB_OK or the first error (reason in err). */
fb_err_t decompte_world_fill(const decompte_world_t *w, store_t *store, ledger_t *ledger, char *err,
                             size_t errlen);

/* Records `n` more lives (vacancies numbered from `first`), each freed and
 * leased on day `day` of the year (inside the caller's transaction): a
 * change of the counts of their lines. FB_OK or FB_ERR_STORE. */
fb_err_t decompte_world_more(const decompte_world_t *w, ledger_t *ledger, size_t first, size_t n,
                             int day);

/* The instant 10:00 Paris on day `day` (1..365) of the world's year. */
int64_t decompte_world_at(const decompte_world_t *w, int day);

#endif
