/* csv_cell.c - one CSV cell, quoted and guarded (csv_cell.h). Owns the
 * formula-injection rule every CSV output of fluxbus applies, and the one
 * formula it writes itself: ="digits", for codes kept as text. */
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

bool csv_cell_is_code(const char *text)
{
    if (!text || !*text)
        return false;
    for (const char *c = text; *c; c++)
        if (*c < '0' || *c > '9')
            return false;
    return true;
}

void csv_cell_write_code_as_text(FILE *out, const char *text)
{
    if (csv_cell_is_code(text))
        fprintf(out, "=\"%s\"", text);
    else
        csv_cell_write(out, text, true);
}
