/* life_msgs.h - the messages of a vacancy's life (acknowledged or declined,
 * decided by the CALEOL, answered, let or not) as protobuf-c structs
 * returned by value: each builder sets what every user sets, and a user
 * adds what it needs before using it. Its users: the ledger's unit tests
 * (tests/unit/ledger/ledger_script.h) and fluxbus-decompte-bench's world
 * (bench/decompte_world.c) record them in a ledger; the integration tests
 * (tests/integration/builders.c) and the load and replay benches
 * (bench/load_msgs.c, bench/replay_msgs.c) sign and send them. Strings are borrowed: they
 * must outlive the struct's use. */
#ifndef FLUXBUS_BENCH_LIFE_MSGS_H
#define FLUXBUS_BENCH_LIFE_MSGS_H

#include <stdbool.h>
#include <stdint.h>

#include "fluxbus/v1/bail.pb-c.h"
#include "fluxbus/v1/caleol.pb-c.h"
#include "fluxbus/v1/designation.pb-c.h"
#include "fluxbus/v1/orientation.pb-c.h"

/* Round `round` of `vacancy` oriented to `resa` under `convention`,
 * `expected` candidates expected by deadline_ms; no contingent. */
Fluxbus__V1__Orientation life_msgs_orientation(const char *vacancy, const char *convention,
                                               const char *resa, uint32_t round, uint32_t expected,
                                               int64_t deadline_ms);

/* The réservataire acknowledges the orientation of `vacancy`. */
Fluxbus__V1__OrientationAck life_msgs_ack(const char *vacancy);

/* The réservataire declines the orientation of `vacancy` (reason OTHER). */
Fluxbus__V1__OrientationDecline life_msgs_decline(const char *vacancy);

/* Demande `nur` designated at `rank` of a round of `count` on `vacancy`. */
Fluxbus__V1__Designation life_msgs_designation(const char *vacancy, const char *nur, uint32_t rank,
                                               uint32_t count);

/* The CALEOL's decision `code` (a CaleolDecisionCode) in session `seance`
 * (NULL: none named) on demande `nur` at `rank` on `vacancy`, credited to `designataire`,
 * decided at decided_ms. */
Fluxbus__V1__CaleolDecision life_msgs_decision(const char *seance, const char *vacancy,
                                               const char *nur, uint32_t rank,
                                               const char *designataire, int code,
                                               int64_t decided_ms);

/* The household of demande `nur` accepts the proposal on `vacancy`, or
 * refuses it (motif: the location), at answered_ms. */
Fluxbus__V1__PropositionReponse life_msgs_answer(const char *vacancy, const char *nur, bool refused,
                                                 int64_t answered_ms);

/* The attribution of demande `nur` on `vacancy` ends without a lease: the
 * household refused. */
Fluxbus__V1__AttributionNonSuivieDeBail life_msgs_no_lease(const char *vacancy, const char *nur);

/* The lease of demande `nur` on `vacancy`, credited to `designataire`. */
Fluxbus__V1__BailSigne life_msgs_lease(const char *vacancy, const char *nur,
                                       const char *designataire);

#endif
