/* sheets.h - the commune sheets of a multipartite Convention as the tests
 * make them by the hundred: sheet i names commune INSEE "%05u" (first + i)
 * and its actor "commune:<INSEE>", nothing else set. Shared by the unit
 * tests and the integration tests (no cmocka, no broker: protobuf-c
 * structs only). */
#ifndef FLUXBUS_TEST_SHEETS_H
#define FLUXBUS_TEST_SHEETS_H

#include <stddef.h>

#include "fluxbus/v1/ledger.pb-c.h"

typedef struct sheets sheets_t;

/* n sheets (n >= 1) for the communes first, first + 1, ... (first + n - 1
 * at most 99999). Returns the sheets, or NULL when out of memory or
 * n is 0. */
sheets_t *sheets_new(size_t n, unsigned first);

/* Destroys the sheets and NULLs *self_p; safe twice. A convention they are
 * attached to must not be used after. */
void sheets_destroy(sheets_t **self_p);

/* Points c's commune_sheets at the sheets (borrowed: they stay self's). */
void sheets_attach(const sheets_t *self, Fluxbus__V1__Convention *c);

#endif
