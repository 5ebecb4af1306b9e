/* cmd_refdata.c - `fluxbus refdata`: the dated reference data the bilan
 * reads (ledger/refdata.h): `import` a CSV file of one kind into the store,
 * `list` what the store holds.
 *
 * Owns the command lines and reading the file (adapters/common/csv.h: ';'
 * separated, quoted fields, UTF-8, BOM skipped). Does not own the columns
 * nor the checks of each kind (refdata.c). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common.h"
#include "csv.h"
#include "csv_cell.h"
#include "ledger.h"
#include "refdata.h"

#define S_MAX_FILE (64L * 1024 * 1024)

static const char s_import_help[] =
    "usage: fluxbus refdata import [--store DB] KIND FILE.csv\n"
    "\n"
    "Imports reference data of KIND from a CSV file (';' between fields, a header\n"
    "row naming the columns in any order, UTF-8) into the store, all or nothing.\n"
    "A row with the same key replaces the stored one; rows of one key whose\n"
    "validity dates overlap are refused. Errors name the line and the column.\n"
    "\n"
    "kinds and columns (* = required; dates YYYY-MM-DD or DD/MM/YYYY, valid_to\n"
    "included and empty for \"still valid\"; amounts and percentages may use a\n"
    "decimal comma):\n"
    "  q1-thresholds  epci_siren*;epci_name;year*;q1_threshold_eur*;source\n"
    "  qpv            scope*;key*;status*;qpv_code;valid_from*;valid_to;source\n"
    "                 scope rpls (key: RPLS id), residence (key: SIREN:residence_id)\n"
    "                 or commune (key: INSEE code); status in or out\n"
    "  objectives     objective*;target_percent*;valid_from*;valid_to;source\n"
    "                 objective q1_hors_qpv, prioritaires or non_q1_en_qpv\n"
    "  cia-targets    epci_siren*;scope*;scope_id;objective*;target_percent*;\n"
    "                 valid_from*;valid_to;source\n"
    "                 scope epci (scope_id empty), commune (INSEE code) or bailleur\n"
    "                 (SIREN or actor id)\n"
    "Details and examples: docs/LEDGER.md, \"Reference data\".\n"
    "\n"
    "options:\n"
    "  -h, --help   this help\n";

static const char s_list_help[] =
    "usage: fluxbus refdata list [--store DB] [--format json|csv] [--no-bom] [KIND...]\n"
    "\n"
    "Prints the reference data of the store: every kind, or those named (KIND:\n"
    "q1-thresholds, qpv, objectives, cia-targets). json (default): one object,\n"
    "an array of rows per kind, values written as the CSV writes them. csv: one\n"
    "KIND only, in the form `refdata import` reads back, starting with a UTF-8\n"
    "byte order mark (French Excel then reads the accents); text cells starting\n"
    "with = + - @ get a leading ' (no formula runs).\n"
    "\n"
    "options:\n"
    "  --format F   json or csv\n"
    "  --no-bom     csv: no byte order mark (plain UTF-8 for pipelines)\n"
    "  -h, --help   this help\n";

enum { S_OPT_FORMAT = 0x200, S_OPT_NO_BOM };

/* ---- import ---- */

/* The whole file in a buffer (free it); NULL after printing why. */
static char *s_slurp(const char *cmd, const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    struct stat st;
    if (!f || fstat(fileno(f), &st) != 0) {
        common_fail(cmd, EXIT_INPUT, "%s: %s", path, strerror(errno));
        if (f)
            fclose(f);
        return NULL;
    }
    if (!S_ISREG(st.st_mode) || st.st_size > S_MAX_FILE) {
        common_fail(cmd, EXIT_INPUT, "%s: not a regular file of at most %ld bytes", path,
                    S_MAX_FILE);
        fclose(f);
        return NULL;
    }
    char *buf = malloc((size_t)st.st_size + 1);
    *len = buf ? fread(buf, 1, (size_t)st.st_size, f) : 0;
    bool ok = buf && !ferror(f);
    fclose(f);
    if (!ok) {
        common_fail(cmd, EXIT_INPUT, "%s: cannot read", path);
        free(buf);
        return NULL;
    }
    buf[*len] = '\0';
    return buf;
}

static int s_import_csv(store_t *store, refdata_kind_t kind, const char *path, const csv_t *csv)
{
    const char *cmd = "refdata import";
    size_t n = csv_count(csv);
    refdata_row_t *rows = calloc(n ? n : 1, sizeof *rows);
    if (!rows)
        return common_fail(cmd, EXIT_INPUT, "out of memory");
    for (size_t i = 0; i < n; i++) {
        const csv_row_t *r = csv_row(csv, i);
        rows[i] = (refdata_row_t){(const char *const *)r->cells, r->n, r->line};
    }
    const csv_row_t *h = csv_header(csv);
    refdata_row_t header = {(const char *const *)h->cells, h->n, h->line};
    size_t imported = 0;
    refdata_error_t e;
    fb_err_t rc =
        refdata_import(store_db(store), kind, &header, rows, n, fb_now_ms(), &imported, &e);
    free(rows);
    if (rc == FB_ERR_PARSE)
        return common_fail(cmd, EXIT_INPUT, "%s: line %u%s%s: %s", path, e.line,
                           *e.column ? ", column " : "", e.column, e.reason);
    if (rc != FB_OK)
        return common_fail(cmd, EXIT_STORE, "%s", e.reason);
    common_note(cmd, "%s: %zu row(s) of %s imported", path, imported, refdata_kind_name(kind));
    return EXIT_OK;
}

static int s_import(int argc, char **argv)
{
    const char *cmd = "refdata import";
    static const struct option opts[] = {COMMON_OPTION_STORE, COMMON_OPTION_HELP, {0}};
    const char *path = common_store_default();
    int c;
    while ((c = common_getopt(cmd, argc, argv, opts)) != -1) {
        if (c == 'h')
            return common_help(s_import_help, COMMON_HELP_STORE);
        if (c != COMMON_OPT_STORE)
            return EXIT_USAGE;
        path = optarg;
    }
    if (argc - optind != 2)
        return common_fail(cmd, EXIT_USAGE, "takes KIND and FILE.csv (see --help)");
    refdata_kind_t kind;
    if (!refdata_kind_parse(argv[optind], &kind))
        return common_fail(cmd, EXIT_USAGE,
                           "unknown kind \"%s\" (q1-thresholds, qpv, objectives, cia-targets)",
                           argv[optind]);
    const char *file = argv[optind + 1];
    size_t len = 0;
    char *text = s_slurp(cmd, file, &len);
    if (!text)
        return EXIT_INPUT;
    csv_t *csv = NULL;
    csv_error_t ce;
    if (csv_parse(text, len, ';', &csv, &ce) != FB_OK) {
        free(text);
        return common_fail(cmd, EXIT_INPUT, "%s: line %u: %s", file, ce.line, ce.reason);
    }
    free(text);
    int rc = EXIT_STORE;
    char err[256];
    store_t *store = common_store_open(cmd, path, false);
    if (store && refdata_create(store_db(store), err, sizeof err) != FB_OK)
        common_fail(cmd, EXIT_STORE, "%s", err);
    else if (store)
        rc = s_import_csv(store, kind, file, csv);
    store_destroy(&store);
    csv_free(&csv);
    return rc;
}

/* ---- list ---- */

typedef struct {
    FILE *out;
    const char *const *names;
    json_t *rows; /* json: the kind's array; csv: NULL */
} s_list_t;

/* One text field, quoted when it must be and guarded against formula
 * injection (csv_cell.h): its text may come from other parties' messages. */
static void s_csv_field(FILE *out, const char *s, bool last)
{
    csv_cell_write(out, s, true);
    fputc(last ? '\n' : ';', out);
}

static int s_row(void *arg, size_t n, const char *const *values)
{
    s_list_t *l = arg;
    if (!l->rows) {
        for (size_t i = 0; i < n; i++)
            s_csv_field(l->out, values[i], i + 1 == n);
        return 0;
    }
    json_t *row = json_object();
    for (size_t i = 0; i < n; i++)
        json_object_set_new(row, l->names[i], json_string(values[i]));
    return json_array_append_new(l->rows, row);
}

/* Lists `kind` into doc (json) or as CSV on stdout (doc NULL). */
static int s_list_kind(sqlite3 *db, refdata_kind_t kind, json_t *doc)
{
    s_list_t l = {.out = stdout};
    size_t n = refdata_columns(kind, &l.names);
    if (doc) {
        l.rows = json_array();
        json_object_set_new(doc, refdata_kind_name(kind), l.rows);
    } else {
        for (size_t i = 0; i < n; i++)
            s_csv_field(stdout, l.names[i], i + 1 == n);
    }
    char err[256];
    if (refdata_list(db, kind, s_row, &l, err, sizeof err) != FB_OK)
        return common_fail("refdata list", EXIT_STORE, "%s", err);
    return EXIT_OK;
}

static int s_list_all(sqlite3 *db, const refdata_kind_t *kinds, size_t n, bool csv, bool bom)
{
    json_t *doc = csv ? NULL : json_object();
    int rc = EXIT_OK;
    if (csv && bom)
        fputs(CSV_CELL_BOM, stdout);
    for (size_t i = 0; rc == EXIT_OK && i < n; i++)
        rc = s_list_kind(db, kinds[i], doc);
    if (doc && rc == EXIT_OK &&
        (json_dumpf(doc, stdout, JSON_INDENT(2)) != 0 || fputc('\n', stdout) == EOF))
        rc = common_fail("refdata list", EXIT_INPUT, "cannot write");
    json_decref(doc);
    return rc == EXIT_OK && fflush(stdout) != 0 ? EXIT_INPUT : rc;
}

static int s_list(int argc, char **argv)
{
    const char *cmd = "refdata list";
    static const struct option opts[] = {COMMON_OPTION_STORE,
                                         {"format", required_argument, NULL, S_OPT_FORMAT},
                                         {"no-bom", no_argument, NULL, S_OPT_NO_BOM},
                                         COMMON_OPTION_HELP,
                                         {0}};
    const char *path = common_store_default(), *format = "json";
    bool bom = true;
    int c;
    while ((c = common_getopt(cmd, argc, argv, opts)) != -1) {
        if (c == 'h')
            return common_help(s_list_help, COMMON_HELP_STORE);
        if (c == COMMON_OPT_STORE)
            path = optarg;
        else if (c == S_OPT_FORMAT)
            format = optarg;
        else if (c == S_OPT_NO_BOM)
            bom = false;
        else
            return EXIT_USAGE;
    }
    bool csv = strcmp(format, "csv") == 0;
    if (!csv && strcmp(format, "json") != 0)
        return common_fail(cmd, EXIT_USAGE, "--format must be json or csv, not \"%s\"", format);
    refdata_kind_t kinds[REFDATA_KINDS];
    size_t n = 0;
    for (int i = optind; i < argc; i++)
        if (n == REFDATA_KINDS || !refdata_kind_parse(argv[i], &kinds[n++]))
            return common_fail(cmd, EXIT_USAGE, "unknown kind \"%s\"", argv[i]);
    if (n == 0) { /* every kind */
        for (int k = 0; k < REFDATA_KINDS; k++)
            kinds[k] = (refdata_kind_t)k;
        n = REFDATA_KINDS;
    }
    if (csv && n != 1)
        return common_fail(cmd, EXIT_USAGE, "--format csv lists one KIND");
    if (access(path, F_OK) != 0)
        return common_fail(cmd, EXIT_STORE, "%s: %s", path, strerror(errno));
    char err[512];
    ledger_t *ledger = ledger_open_readonly(path, err, sizeof err);
    if (!ledger)
        return common_fail(cmd, EXIT_STORE, "%s", err);
    int rc = s_list_all(ledger_db(ledger), kinds, n, csv, bom);
    ledger_close(&ledger);
    return rc;
}

static const common_command_t s_commands[] = {
    {"import", s_import, "import a CSV file of reference data (Q1 thresholds, QPV, objectives...)"},
    {"list", s_list, "print the reference data of the store"},
    {NULL, NULL, NULL},
};

static const char s_help[] =
    "usage: fluxbus refdata COMMAND [OPTIONS]\n"
    "\n"
    "The dated reference data the bilan reads (`fluxbus report bilan`): the Q1\n"
    "income threshold per EPCI and year, the QPV status of dwellings by date, the\n"
    "legal objectives and the local CIA targets. --store defaults to\n"
    "$FLUXBUS_STORE, else fluxbus.db.\n";

int cmd_refdata(int argc, char **argv)
{
    return common_dispatch("refdata", s_help, s_commands, argc, argv);
}
