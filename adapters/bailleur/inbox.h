/* inbox.h - the files a landlord's system drops in <spool>/inbox/, sent.
 *
 * Each ready file (unchanged for inbox_settle_ms, not a dot-file nor *.tmp)
 * is read whole (items.h); then
 * - any error in it: it moves to rejected/ beside <name>.error.json
 *   {"file", "errors": [{"line", "column" | "field", "reason"}...]} and
 *   nothing of it is sent;
 * - else each message is sent (adapter_send; content-addressed, so a file
 *   offered again is answered "duplicate") and, once accepted, recorded in
 *   the state and followed by the commune's LogementIssue when it makes one
 *   (outcome.h);
 *   - all accepted: the file moves to done/ beside <name>.receipt.json (the
 *     receipt object for a JSON file, [{"line", "receipt"}...] for a CSV);
 *   - the broker refused a message: the file moves to rejected/ with an
 *     error.json naming each refused line with the reason code name and
 *     the broker's detail, and "receipts" of the lines accepted;
 *   - the broker could not be reached (or asked to slow down): the file
 *     stays in the inbox and is offered again at the next scan.
 * A name already taken in done/ or rejected/ gets "-2", "-3"... before its
 * extension, so no earlier file is replaced. */
#ifndef FLUXBUS_ADAPTER_BAILLEUR_INBOX_H
#define FLUXBUS_ADAPTER_BAILLEUR_INBOX_H

#include "bailleur.h"

/* Largest inbox file taken (bigger ones are rejected). */
#define INBOX_MAX_FILE (16u * 1024u * 1024u)

/* Handles every file ready in the inbox, in name order. */
void inbox_scan(bailleur_t *b);

#endif
