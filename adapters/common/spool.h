/* spool.h - spool directories: the files a landlord's or a platform's
 * system drops for the bus, and the files the bus leaves for it.
 *
 * Layout under a spool root: inbox/ (files to send), done/ (sent: the file
 * and its signed receipt beside it), rejected/ (refused: the file and a
 * <name>.error.json naming line, field and reason), outbox/ (received
 * messages, one JSON file each).
 *
 * Invariants: every file this module writes appears whole or not at all
 * (written to a dot-file, fsync'ed, renamed, directory fsync'ed); a file
 * being written by someone else is not picked up (dot-files and *.tmp are
 * skipped, and so are files modified less than `settle_ms` ago). */
#ifndef FLUXBUS_ADAPTER_SPOOL_H
#define FLUXBUS_ADAPTER_SPOOL_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "fluxbus/err.h"

/* Creates root and its inbox/, done/, rejected/ and outbox/ (mode 0700 for
 * new directories). FB_ERR_IO with the path and errno text in err. */
fb_err_t spool_init(const char *root, char *err, size_t errlen);

/* Makes directory `path` (mode 0700) unless it exists as a directory.
 * FB_ERR_IO with the path and errno text in err. */
fb_err_t spool_mkdir(const char *path, char *err, size_t errlen);

/* The names of the files ready in `dir` (regular files, not dot-files, not
 * *.tmp, unchanged for settle_ms), sorted by name. Free with
 * spool_names_free. */
fb_err_t spool_list(const char *dir, int settle_ms, char ***names, size_t *n);
void spool_names_free(char **names, size_t n);

/* Reads a whole file (at most cap bytes: FB_ERR_TOO_LARGE beyond). *data is
 * NUL-terminated (not counted in *len); free() it. */
fb_err_t spool_read(const char *path, size_t cap, uint8_t **data, size_t *len);

/* Writes `len` bytes as dir/name atomically and durably (see above);
 * replaces an existing file of that name. */
fb_err_t spool_write(const char *dir, const char *name, const void *data, size_t len);

/* spool_write of `json`, indented, with a final newline. */
fb_err_t spool_write_json(const char *dir, const char *name, const json_t *json);

/* Moves from_dir/name to to_dir/name (rename, then fsync of both
 * directories). An existing to_dir/name is replaced. */
fb_err_t spool_move(const char *from_dir, const char *name, const char *to_dir);

/* Sets from_dir/name aside in to_dir beside a sidecar JSON file (a
 * receipt, an error file): writes `sidecar` as to_dir/<final><suffix>
 * (spool_write_json), then moves the file to to_dir/<final>, both
 * durably. Never replaces anything in to_dir: <final> is `name` when
 * neither it nor its sidecar is there, else "<stem>-2<ext>", "-3"...
 * ("a.csv" -> "a-2.csv"). The final name goes to final_name (cap bytes).
 * When it cannot be moved, the file stays in from_dir and no sidecar is
 * left. FB_ERR_IO (errno says why; a failed directory sync leaves the file
 * moved), FB_ERR_NOMEM, FB_ERR_TOO_LARGE (name too long for cap). */
fb_err_t spool_set_aside(const char *from_dir, const char *name, const char *to_dir,
                         const char *suffix, const json_t *sidecar, char *final_name, size_t cap);

/* "<root>/<sub>" in a new string (free()), or NULL on OOM. */
char *spool_path(const char *root, const char *sub);

#endif
