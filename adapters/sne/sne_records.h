/* sne_records.h - the records the SNE needs, built from the bus messages a
 * bailleur sends to the SNE actor.
 *
 * Three kinds of record (docs/SNE-FILES.md):
 * - attribution: a CALEOL decision ATTRIBUTION, ATTRIBUTION_PAR_RANG or
 *   SOUS_CONDITION_SUSPENSIVE (the other decisions need no SNE record);
 * - non_suivie: the attribution ended without a lease
 *   (AttributionNonSuivieDeBail; suivie_de_bail = false);
 * - radiation: the lease is signed (BailSigne): the attribution followed by
 *   a lease (suivie_de_bail = true) and the request to close the demande.
 *
 * What a message does not carry comes from earlier messages of the same
 * vacancy, which the caller remembers: the dwelling (sne_dwelling_t, from
 * the LogementLibere) and the attribution (sne_attribution_t, from the
 * CaleolDecision). Empty strings stand for "not known": the record leaves
 * the field out and the SNE side says what is missing.
 *
 * Pure functions: no I/O, no clock, no global state (a local date borrows
 * TZ for the call only: localdate.h). A record owns its strings
 * (sne_record_clear frees them). */
#ifndef FLUXBUS_ADAPTER_SNE_RECORDS_H
#define FLUXBUS_ADAPTER_SNE_RECORDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fluxbus/err.h"
#include "fluxbus/v1/bail.pb-c.h"
#include "fluxbus/v1/caleol.pb-c.h"
#include "fluxbus/v1/logement.pb-c.h"

/* Longest record id, terminator included (ids are also file names). */
#define SNE_RECORD_ID_MAX 208

typedef enum {
    SNE_KIND_NONE = 0,
    SNE_KIND_ATTRIBUTION = 1,
    SNE_KIND_NON_SUIVIE = 2,
    SNE_KIND_RADIATION = 3,
} sne_kind_t;

/* A civil date; year 0 means "not given". */
typedef struct {
    int year, month, day;
} sne_date_t;

/* suivie_de_bail of a record: not said (attribution), false, true. */
typedef enum {
    SNE_SUIVIE_NA = 0,
    SNE_SUIVIE_NON = 1,
    SNE_SUIVIE_OUI = 2,
} sne_suivie_t;

typedef struct {
    sne_kind_t kind;
    char record_id[SNE_RECORD_ID_MAX];
    char *nur;
    sne_date_t date; /* decision / finding / signature */
    char *bailleur_siren;
    char *bailleur_actor_id; /* the bus actor that sent the message */
    char *vacancy_id;
    char *rpls_id;
    char *commune_insee;
    char *designataire_actor_id;
    bool q1;
    bool relogement_anru;
    sne_suivie_t suivie_de_bail;
    /* attribution */
    char *decision;        /* "ATTRIBUTION", "ATTRIBUTION_PAR_RANG", ... */
    unsigned rank;         /* 0: not given */
    unsigned revision;     /* of the CaleolDecision, >= 1 */
    char *condition_state; /* SOUS_CONDITION_SUSPENSIVE: "PENDING", "LIFTED" */
    char *missing_document;
    /* non_suivie */
    char *non_suite_motif; /* "REFUS_MENAGE", ... */
    char *motif_text;
    /* radiation */
    sne_date_t effective_on;
    /* the bus message the record comes from */
    char *source_type;       /* "BailSigne", ... */
    char *source_message_id; /* hex */
} sne_record_t;

/* The dwelling of a vacancy, as its LogementLibere described it. */
typedef struct {
    const char *rpls_id;
    const char *commune_insee;
    const char *bailleur_siren;
} sne_dwelling_t;

/* The attribution of a demande on a vacancy, as its CaleolDecision said. */
typedef struct {
    const char *designataire_actor_id;
    bool q1;
    bool relogement_anru;
} sne_attribution_t;

/* Where a message came from. */
typedef struct {
    const char *sender;     /* actor id */
    const char *message_id; /* hex */
} sne_source_t;

/* Outcome of building a record. */
typedef enum {
    SNE_BUILT = 0,      /* *out holds a record to submit */
    SNE_NOT_NEEDED = 1, /* the message needs no SNE record (reason in why) */
    SNE_NO_MEMORY = 2,
} sne_build_t;

/* The attribution record of a CaleolDecision, or SNE_NOT_NEEDED for the
 * decisions that make none (NON_ATTRIBUTION, REJET_IRRECEVABILITE, not said;
 * a SOUS_CONDITION_SUSPENSIVE whose condition lapsed: the lapse is recorded
 * from the AttributionNonSuivieDeBail that follows). `dw` may be NULL (the
 * vacancy's LogementLibere was not seen). The date is the decision's day in
 * time zone tz (the adapter's `timezone`, e.g. "Europe/Paris"). */
sne_build_t sne_record_from_decision(const Fluxbus__V1__CaleolDecision *d, const sne_source_t *src,
                                     const sne_dwelling_t *dw, const char *tz, sne_record_t *out,
                                     char *why, size_t whylen);

/* The non_suivie record of an AttributionNonSuivieDeBail; `att` (may be
 * NULL) is the attribution it ends. */
sne_build_t sne_record_from_non_suivie(const Fluxbus__V1__AttributionNonSuivieDeBail *m,
                                       const sne_source_t *src, const sne_dwelling_t *dw,
                                       const sne_attribution_t *att, sne_record_t *out, char *why,
                                       size_t whylen);

/* The radiation record of a BailSigne: the message's own dwelling fields
 * first, `dw` (may be NULL) for those it leaves empty. */
sne_build_t sne_record_from_bail(const Fluxbus__V1__BailSigne *m, const sne_source_t *src,
                                 const sne_dwelling_t *dw, sne_record_t *out, char *why,
                                 size_t whylen);

/* Frees the record's strings and zeroes it; safe twice. */
void sne_record_clear(sne_record_t *rec);

/* The record id: "<kind>.<vacancy>.<nur>" (attribution: ".r<revision>"
 * added), each part escaped so ids are distinct for distinct inputs and
 * safe as file names: [A-Za-z0-9-] kept, any other byte written "_XX"
 * (hex). Too long for SNE_RECORD_ID_MAX: "<kind>.h<16 hex digits>", a hash
 * of the same parts. Writes into id (SNE_RECORD_ID_MAX bytes). */
void sne_record_id(sne_kind_t kind, const char *vacancy_id, const char *nur, unsigned revision,
                   char id[SNE_RECORD_ID_MAX]);

/* "attribution", "non_suivie", "radiation"; NULL for SNE_KIND_NONE. */
const char *sne_kind_name(sne_kind_t kind);

/* The kind named `name`, SNE_KIND_NONE if none. */
sne_kind_t sne_kind_from_name(const char *name);

/* The civil date in time zone tz ("Europe/Paris", "Indian/Reunion") of
 * instant `ms` (ms since the epoch; localdate.h). ms <= 0, or a zone not
 * known, gives the "not given" date. */
sne_date_t sne_date_local(int64_t ms, const char *tz);

/* True when d is a real calendar date (year 1900..9999). */
bool sne_date_valid(sne_date_t d);

/* "YYYY-MM-DD" into buf (11 bytes); "" for a date not given. */
void sne_date_format(sne_date_t d, char buf[11]);

/* Parses exactly "YYYY-MM-DD" (digits, in range: sne_date_valid). */
bool sne_date_parse(const char *s, sne_date_t *out);

#endif
