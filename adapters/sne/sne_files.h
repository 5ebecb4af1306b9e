/* sne_files.h - the SNE interface as a file exchange in a directory
 * (docs/SNE-FILES.md):
 *
 *     DIR/requests/        <record_id>.json, written by the adapter
 *     DIR/requests/done/   requests the SNE side processed (moved there by it)
 *     DIR/requests/rejected/  requests it could not read (by it, with .error.json)
 *     DIR/answers/         answers, written by the SNE side (any name *.json)
 *     DIR/answers/done/    answers the adapter handled (moved there by it)
 *     DIR/answers/rejected/   answers it could not read, with <name>.error.json
 *
 * Every file appears whole or not at all (written to a dot-file, fsync'ed,
 * renamed); readers skip dot-files and *.tmp. */
#ifndef FLUXBUS_ADAPTER_SNE_FILES_H
#define FLUXBUS_ADAPTER_SNE_FILES_H

#include <stddef.h>

#include "fluxbus/err.h"
#include "fluxbus/log.h"
#include "sne_iface.h"

/* Creates DIR and its subdirectories (mode 0700 for new ones) if missing.
 * FB_ERR_IO with the path and errno text in err. Both sides call it. */
fb_err_t sne_files_prepare(const char *dir, char *err, size_t errlen);

/* The adapter's side of the exchange in `dir` (prepared first). `log` (may
 * be NULL) receives a line for every answer set aside. NULL with a reason
 * in err on failure. */
sne_iface_t *sne_files_open(const char *dir, fb_log_fn log, void *log_ctx, char *err,
                            size_t errlen);

/* The largest request or answer file read (bigger ones are set aside). */
#define SNE_FILES_MAX_BYTES (1024u * 1024u)

#endif
