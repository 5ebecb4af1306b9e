/* csv_cell.c - one CSV cell, quoted and guarded (csv_cell.h). Owns the
 * formula-injection rule every CSV output of fluxbus applies. */
#include "csv_cell.h"

#include <string.h>

bool csv_cell_is_formula(const char *text)
{
    return text && text[0] && strchr("=+-@\t\r", text[0]) != NULL;
}

bool csv_cell_needs_quotes(const char *text)
{
    return text && strpbrk(text, ";\"\r\n") != NULL;
}

void csv_cell_write(FILE *out, const char *text, bool guard)
{
    if (!text)
        text = "";
    bool quote = csv_cell_needs_quotes(text);
    if (quote)
        fputc('"', out);
    if (guard && csv_cell_is_formula(text))
        fputc('\'', out);
    for (const char *c = text; *c; c++) {
        if (*c == '"')
            fputc('"', out);
        fputc(*c, out);
    }
    if (quote)
        fputc('"', out);
}
