/* builders.h - the domain messages the ledger's integration tests send
 * again and again, as protobuf-c structs returned by value: each builder
 * sets the fields every test sets, and a test adds what its scenario needs
 * (contingent, SIREN, priorities...) before sending. The messages of a
 * vacancy's life the unit tests and benches send too come from
 * life_msgs.h (included); these add what the integration tests share.
 * Strings are borrowed: they must live until the message is sent. No
 * cmocka, no client: building only. */
#ifndef FLUXBUS_TEST_BUILDERS_H
#define FLUXBUS_TEST_BUILDERS_H

#include <stdint.h>

#include "fluxbus/v1/bail.pb-c.h"
#include "fluxbus/v1/caleol.pb-c.h"
#include "fluxbus/v1/designation.pb-c.h"
#include "fluxbus/v1/ledger.pb-c.h"
#include "fluxbus/v1/logement.pb-c.h"
#include "fluxbus/v1/orientation.pb-c.h"
#include "life_msgs.h"

/* The bailleur's SIREN in every test (FBT_BAILLEUR's). */
#define BUILDERS_SIREN "552046955"
#define BUILDERS_DAY_MS (24 * 3600 * 1000LL)

/* Convention `id`, revision 1, of `bailleur` (SIREN BUILDERS_SIREN) with
 * `resa` for `year`; no objective, territory, counting or délai. */
Fluxbus__V1__Convention builders_convention(const char *id, const char *bailleur, const char *resa,
                                            int year);

/* Action Logement's convention on Annecy: builders_convention, then
 * département 74, contingent Action Logement, one objective of 3
 * placements (at most 3), counted at the lease (BAIL_SIGNE), a remise not
 * counted, a délai of 15 days, territory 74010 and 74011. Fields of k
 * point into k: keep k where it is while c is used. */
typedef struct {
    Fluxbus__V1__ConventionObjective objective;
    Fluxbus__V1__ConventionObjective *objectives[1];
    char *territory[2];
    Fluxbus__V1__Convention c;
} builders_annecy_t;

void builders_annecy(builders_annecy_t *k, const char *id, const char *bailleur, const char *resa,
                     int year);

/* A T3 freed in commune `insee`. */
Fluxbus__V1__LogementLibere builders_libere(const char *vacancy, const char *insee);

/* The réservataire acknowledges the orientation of `vacancy` under
 * `convention`. */
Fluxbus__V1__OrientationAck builders_ack(const char *vacancy, const char *convention);

/* Demande `nur` designated at `rank` of `count` on `vacancy` under
 * `convention` (NULL: none named), a household of 2. */
Fluxbus__V1__Designation builders_designation(const char *vacancy, const char *convention,
                                              const char *nur, unsigned rank, unsigned count);

/* The CALEOL's decision `code` (a CaleolDecisionCode) in session `seance`
 * (NULL: none named) on demande `nur` at `rank` on `vacancy`, credited to `designataire`,
 * decided now, revision 1. */
Fluxbus__V1__CaleolDecision builders_decision(const char *seance, const char *vacancy,
                                              const char *nur, unsigned rank,
                                              const char *designataire, int code);

/* CALEOL session `seance`, revision 1, scheduled, of the bailleur (SIREN
 * BUILDERS_SIREN), sitting now for an hour in commune `insee` with
 * `vacancy` alone on its agenda. Fields of k point into k: keep k where it
 * is while s is used. */
typedef struct {
    char *vacancies[1];
    char *communes[1];
    Fluxbus__V1__CaleolSeance s;
} builders_seance_t;

void builders_seance(builders_seance_t *k, const char *seance, const char *vacancy,
                     const char *insee);

/* The lease of demande `nur` on `vacancy` (commune 74010), credited to
 * `designataire`. */
Fluxbus__V1__BailSigne builders_lease(const char *vacancy, const char *nur,
                                      const char *designataire);

#endif
