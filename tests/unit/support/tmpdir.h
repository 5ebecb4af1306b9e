/* tmpdir.h - scratch directories for unit tests: made with mkdtemp under
 * /tmp, removed with everything directly inside them. */
#ifndef FLUXBUS_TEST_TMPDIR_H
#define FLUXBUS_TEST_TMPDIR_H

#include <stddef.h>

/* Makes /tmp/fluxbus-test-<tag>-XXXXXX and writes its path to dir.
 * Returns 0, or -1 if it could not be made. */
int tmpdir_make(char *dir, size_t cap, const char *tag);

/* Removes the files directly inside dir, then dir itself (a flat directory:
 * the tests make no subdirectories). */
void tmpdir_remove(const char *dir);

#endif
