/* report_output.c - a report to standard output or to a file replaced
 * whole (see report_output.h). */
#include "report_output.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "common.h"

bool report_output_option(report_output_opts_t *o, int c, const char *arg)
{
    switch (c) {
    case REPORT_OPT_FORMAT:
        o->format = arg;
        return true;
    case REPORT_OPT_OUTPUT:
        o->output = arg;
        return true;
    case REPORT_OPT_NO_BOM:
        o->no_bom = true;
        return true;
    case REPORT_OPT_CODES_AS_TEXT:
        o->codes_as_text = true;
        return true;
    default:
        return false;
    }
}

int report_output_check(const char *cmd, const report_output_opts_t *o)
{
    if (strcmp(o->format, "json") != 0 && strcmp(o->format, "csv") != 0 &&
        strcmp(o->format, "html") != 0)
        return common_fail(cmd, EXIT_USAGE, "--format must be json, csv or html, not \"%s\"",
                           o->format);
    return EXIT_OK;
}

bool report_output_json(json_t *json, FILE *out)
{
    bool ok = json && json_dumpf(json, out, JSON_INDENT(2) | JSON_REAL_PRECISION(12)) == 0 &&
              fputc('\n', out) != EOF;
    json_decref(json);
    return ok;
}

int report_output(const char *cmd, const char *path, report_output_fn write, const void *ctx)
{
    if (!path)
        return write(ctx, stdout) && fflush(stdout) == 0
                   ? EXIT_OK
                   : common_fail(cmd, EXIT_INPUT, "cannot write the report");
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f)
        return common_fail(cmd, EXIT_INPUT, "%s: %s", tmp, strerror(errno));
    bool ok = write(ctx, f);
    ok = fclose(f) == 0 && ok;
    if (!ok || rename(tmp, path) != 0) {
        int e = errno;
        unlink(tmp);
        return common_fail(cmd, EXIT_INPUT, "%s: %s", path,
                           ok ? strerror(e) : "cannot write the report");
    }
    return EXIT_OK;
}
