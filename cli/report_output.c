/* report_output.c - a report to standard output or to a file replaced
 * whole (see report_output.h). */
#include "report_output.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "common.h"

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
