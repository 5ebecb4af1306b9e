/* sne_format.h - the JSON of the SNE file exchange: request records (the
 * adapter writes them, the SNE side reads them) and answers (the other way
 * round). docs/SNE-FILES.md is the reference for both; this module is its
 * only implementation, shared by the adapter and fluxbus-sne-sim.
 *
 * Pure functions over jansson values: no files here (sne_files.c moves
 * them). Unknown members are ignored on input, so either side may add
 * members without breaking the other; a member of the wrong type is an
 * error naming it. */
#ifndef FLUXBUS_ADAPTER_SNE_FORMAT_H
#define FLUXBUS_ADAPTER_SNE_FORMAT_H

#include <jansson.h>

#include "fluxbus/err.h"
#include "sne_records.h"

#define SNE_RECORD_FORMAT "fluxbus-sne-record/1"
#define SNE_ANSWER_FORMAT "fluxbus-sne-answer/1"

/* What the SNE did with a record. */
typedef enum {
    SNE_STATUS_NONE = 0,
    SNE_STATUS_RECORDED = 1,       /* attribution / non_suivie recorded */
    SNE_STATUS_RADIEE = 2,         /* radiation: attribution recorded, demande closed */
    SNE_STATUS_ALREADY_RADIEE = 3, /* the demande was closed before */
    SNE_STATUS_UNKNOWN_NUR = 4,    /* no demande with this NUR */
    SNE_STATUS_INVALID_NUR = 5,    /* not a well-formed NUR */
    SNE_STATUS_REJECTED = 6,       /* data missing or inconsistent: see field, message */
    SNE_STATUS_RETRY_LATER = 7,    /* not processed yet; a final answer follows */
} sne_status_t;

/* A field at fault and why, for errors of both sides. */
typedef struct {
    char field[64];    /* JSON path, e.g. "logement.commune_insee"; "" for the whole file */
    char message[384]; /* one line, for humans */
} sne_problem_t;

/* An answer of the SNE side. */
typedef struct {
    char record_id[SNE_RECORD_ID_MAX];
    sne_kind_t kind; /* SNE_KIND_NONE when the record could not be read */
    char nur[64];
    sne_status_t status;
    sne_date_t radiated_on; /* RADIEE and ALREADY_RADIEE */
    char field[64];         /* REJECTED / INVALID_NUR: the field at fault */
    char message[512];      /* the SNE's message (cut to fit) */
    char answered_at[32];   /* "YYYY-MM-DDTHH:MM:SSZ", informative */
} sne_answer_t;

/* "RECORDED", "RADIEE", ...; NULL for SNE_STATUS_NONE. */
const char *sne_status_name(sne_status_t status);

/* The status named `name`, SNE_STATUS_NONE if none. */
sne_status_t sne_status_from_name(const char *name);

/* The request JSON of a record (new reference, NULL when out of memory).
 * Empty strings and dates not given are left out. */
json_t *sne_record_to_json(const sne_record_t *rec);

/* Reads a request. FB_OK with *out filled (sne_record_clear it);
 * FB_ERR_PARSE with the member at fault in *p (a wrong "format", a
 * non-string where a string belongs, a date not "YYYY-MM-DD", an unknown
 * "kind", a record_id that is not a safe file name). Dates keep their
 * numbers even when they are not calendar dates: judging them is the
 * reader's business. Missing members are left empty. */
fb_err_t sne_record_from_json(const json_t *json, sne_record_t *out, sne_problem_t *p);

/* The answer JSON (new reference, NULL when out of memory). */
json_t *sne_answer_to_json(const sne_answer_t *answer);

/* Reads an answer. FB_OK with *out; FB_ERR_PARSE with the member at fault
 * in *p (wrong format, no record_id, unknown status, bad date). */
fb_err_t sne_answer_from_json(const json_t *json, sne_answer_t *out, sne_problem_t *p);

/* True when `id` may be a record id: 1..SNE_RECORD_ID_MAX-1 bytes of
 * [A-Za-z0-9._-], not starting with '.'. */
bool sne_record_id_valid(const char *id);

#endif
