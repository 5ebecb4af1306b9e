/* logements_feed.h - the dwellings freed (or soon delivered) on the
 * commune's territory and what became of them, as JSON and as CSV, built
 * from the feed store.
 *
 * One entry per dwelling, by commune then vacancy_id, with only public
 * facts: vacancy_id, rpls_id, commune_insee, address, postal_code, city,
 * typologie, surface, rent and charges, financement, qpv, available_on,
 * mode_gestion, first_letting (mode STOCK: first letting of a new
 * building), and its current outcome (attribue, non_suivi, bail_signe),
 * the kind of réservataire credited (contingent) and the outcome's date.
 * Never a name, a demande number (NUR) or a household detail: the store
 * holds none, and these builders only read the fields listed here.
 *
 * JSON: {"logements": [{...}]}; keys always present (null when unknown);
 * amounts and surfaces as the bus gives them (loyer_cents, charges_cents,
 * surface_m2_x100), dates "YYYY-MM-DD", enums as lower-case names without
 * their prefix ("in_qpv", "flux") except typologie and financement ("T3",
 * "PLUS"); "history": every outcome in arrival order.
 *
 * CSV, for French spreadsheets: UTF-8, ';' separated, CRLF lines, a header
 * row with the JSON names (loyer, charges, surface_m2 as decimals with a
 * comma: "412,30", "65,4"), dates "DD/MM/YYYY", first_letting "oui"/"non",
 * the current outcome only. Cells holding ';', '"' or a line break are
 * quoted; a text cell starting with = + - @ (csv_cell.h) gets a leading ' so that a
 * spreadsheet does not run it as a formula. */
#ifndef FLUXBUS_COMMUNE_LOGEMENTS_FEED_H
#define FLUXBUS_COMMUNE_LOGEMENTS_FEED_H

#include <stddef.h>

#include <jansson.h>

#include "feed_store.h"
#include "fluxbus/err.h"

/* The JSON feed (new reference), or NULL with *err set (FB_ERR_STORE,
 * FB_ERR_MALFORMED, FB_ERR_NOMEM). */
json_t *logements_feed_json(feed_store_t *store, fb_err_t *err);

/* The CSV feed: text to free(), its length in *len; NULL with *err set. */
char *logements_feed_csv(feed_store_t *store, size_t *len, fb_err_t *err);

#endif
