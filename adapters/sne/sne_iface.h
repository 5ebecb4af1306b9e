/* sne_iface.h - how the SNE adapter talks to the SNE: submit a record,
 * collect the answers. The real SNE is a closed SOAP service; what sits
 * behind this interface is an implementation's business. One exists:
 * sne_files.c, a file exchange in a directory (docs/SNE-FILES.md), which a
 * SOAP bridge or fluxbus-sne-sim serves on the other side.
 *
 * Contract for every implementation:
 * - submit is durable: once it returns FB_OK the record reaches the SNE
 *   even if the process dies right after; submitting the same record id
 *   again is harmless (the SNE side answers a record id once, and answers
 *   a replay with the same answer);
 * - collect gives each answer to the callback, in arrival order, and
 *   forgets it only when the callback returned FB_OK (an answer is never
 *   lost, and may be given again after a crash: callbacks are idempotent);
 *   an answer that cannot be read, or that the callback refuses
 *   (FB_ERR_PARSE, FB_ERR_NOT_FOUND), is set aside with the reason and
 *   logged, never dropped silently; any other error stops the collect and
 *   the answer is given again next time. */
#ifndef FLUXBUS_ADAPTER_SNE_IFACE_H
#define FLUXBUS_ADAPTER_SNE_IFACE_H

#include <stddef.h>

#include "fluxbus/err.h"
#include "sne_format.h"
#include "sne_records.h"

/* Handles one answer: FB_OK once it is durably handled; FB_ERR_PARSE or
 * FB_ERR_NOT_FOUND (with the reason in *why) to have it set aside; another
 * error to be given it again later. */
typedef fb_err_t (*sne_answer_fn)(void *ctx, const sne_answer_t *answer, sne_problem_t *why);

/* What an implementation provides. */
typedef struct {
    const char *name; /* "files" */
    fb_err_t (*submit)(void *impl, const sne_record_t *rec, char *err, size_t errlen);
    /* Stops at the first answer whose callback fails and returns that
     * error; *handled counts the answers handled. */
    fb_err_t (*collect)(void *impl, sne_answer_fn fn, void *ctx, size_t *handled);
    void (*close)(void *impl);
} sne_iface_ops_t;

typedef struct sne_iface sne_iface_t;

/* Wraps an implementation (takes ownership of impl). NULL when out of
 * memory (impl is closed then). */
sne_iface_t *sne_iface_new(const sne_iface_ops_t *ops, void *impl);

/* Closes the implementation; safe on NULL and twice. */
void sne_iface_destroy(sne_iface_t **self_p);

/* The implementation's name. */
const char *sne_iface_name(const sne_iface_t *self);

/* Submits a record (see the contract above). FB_OK, or an error with a
 * reason in err. */
fb_err_t sne_iface_submit(sne_iface_t *self, const sne_record_t *rec, char *err, size_t errlen);

/* Gives the waiting answers to fn (see the contract above). */
fb_err_t sne_iface_collect(sne_iface_t *self, sne_answer_fn fn, void *ctx, size_t *handled);

#endif
