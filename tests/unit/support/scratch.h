/* scratch.h - commits for unit tests of the store's WAL handling: rows of
 * a scratch table written into a real store, one transaction each, as the
 * broker's turns commit; the test failing (cmocka) when SQLite refuses. */
#ifndef FLUXBUS_TEST_SCRATCH_H
#define FLUXBUS_TEST_SCRATCH_H

#include "store.h"

/* Commits `rows` rows of `bytes` random bytes each into table scratch
 * (created the first time), one transaction per row. */
void scratch_commit_rows(store_t *store, int rows, int bytes);

#endif
