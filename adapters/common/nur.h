/* nur.h - the numéro unique d'enregistrement (NUR) of a demande de
 * logement social, as fluxbus checks it: one rule for every adapter (the
 * réservataire API refuses what the SNE would, the SNE simulator judges
 * with it).
 *
 * Format (docs/SNE-FILES.md, "The NUR"): exactly 15 characters, no spaces
 * or separators,
 *
 *     DDD  MM  YY  NNNNNNNN
 *     074  01  19  25000001
 *
 * - DDD: the département where the demande was filed, on three characters:
 *   "001".."095" except "020", "02A" / "02B" (Corse-du-Sud / Haute-Corse),
 *   "971".."974" and "976" (overseas départements);
 * - MM: month of the first filing, "01".."12";
 * - YY: year of the first filing, two digits;
 * - NNNNNNNN: the departmental sequence number, eight digits, not all zero.
 *
 * The real registry also knows the registering office; it is not part of
 * what the bus needs to check, so it is not part of this format. */
#ifndef FLUXBUS_ADAPTER_NUR_H
#define FLUXBUS_ADAPTER_NUR_H

#include <stdbool.h>
#include <stddef.h>

#define NUR_LEN 15

/* True when `nur` is a well-formed NUR. When it is not (NULL included),
 * false with a one-line reason in why (may be NULL), e.g. "13 characters,
 * a NUR has 15" or "department 099 does not exist". */
bool nur_check(const char *nur, char *why, size_t whylen);

#endif
