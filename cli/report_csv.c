/* report_csv.c - one text cell of a report's CSV tables (report_csv.h). */
#include "report_csv.h"

#include "csv_cell.h"

void report_csv_field(report_csv_t *out, const char *text, bool last)
{
    if (out->codes_as_text)
        csv_cell_write_code_as_text(out->f, text);
    else
        csv_cell_write(out->f, text, true);
    fputc(last ? '\n' : ';', out->f);
}
