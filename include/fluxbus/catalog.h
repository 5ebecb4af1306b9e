/* fluxbus/catalog.h - the list of message types the bus knows: for each
 * MessageType value, its name and the protobuf-c descriptor of its payload.
 *
 * Lookups never fail loudly: unknown types give NULL. */
#ifndef FLUXBUS_CATALOG_H
#define FLUXBUS_CATALOG_H

#include <protobuf-c/protobuf-c.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    int type;                               /* Fluxbus__V1__MessageType value */
    const char *name;                       /* message name, e.g. "LogementLibere" */
    const ProtobufCMessageDescriptor *desc; /* payload descriptor */
} fb_catalog_entry_t;

/* Entry for a MessageType value, or NULL if the type is not in the catalog. */
const fb_catalog_entry_t *fb_catalog_by_type(int type);

/* Entry for a message name ("LogementLibere", case-insensitive; the enum's
 * suffix "LOGEMENT_LIBERE" is accepted too), or NULL. */
const fb_catalog_entry_t *fb_catalog_by_name(const char *name);

/* The whole catalog: *count entries, domain types first. */
const fb_catalog_entry_t *fb_catalog_all(size_t *count);

#ifdef __cplusplus
}
#endif
#endif
