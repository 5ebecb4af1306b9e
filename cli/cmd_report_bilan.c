/* cmd_report_bilan.c - `fluxbus report bilan`: the annual bilan R441-5-1
 * of attributions (ledger/bilan.h), read from the broker's store opened
 * read-only, written as JSON, CSV (report_bilan.h) or one HTML page
 * (report_html.h).
 *
 * Owns the command line of this report (period, filters, format, output
 * file). Does not own the figures (ledger/) nor their layout. */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "bilan.h"
#include "common.h"
#include "csv_cell.h"
#include "ledger.h"
#include "report_bilan.h"
#include "report_html.h"
#include "report_output.h"
#include "report_period.h"

static const char s_cmd[] = "report bilan";

static const char s_help[] =
    "usage: fluxbus report bilan --year Y [--quarter Q | --half H | --from DATE --to DATE]\n"
    "                            [--bailleur ID] [--epci SIREN] [--repeated N]\n"
    "                            [--format json|csv|html] [--no-bom] [--codes-as-text]\n"
    "                            [--output FILE]\n"
    "                            [--store DB]\n"
    "\n"
    "The bilan of attributions (CCH R441-5-1) for a period, from the ledger of the\n"
    "store (opened read-only) and its dated reference data (`fluxbus refdata`):\n"
    "attributions (CALEOL decisions, lease or not) and leases broken down by\n"
    "réservataire, typology, financing, QPV / hors QPV, commune and construction\n"
    "period, hors-flux attributions included and shown apart; per EPCI, the legal\n"
    "objectives counted as the law counts them (Q1 hors QPV on signed leases, ANRU\n"
    "rehousing included; priority households per réservataire on attributions, the\n"
    "bailleur's non-reserved dwellings included; Q2-Q4 in QPV on attributions),\n"
    "pass or fail against the reference data valid on the period's last day, with\n"
    "the local CIA targets beside them; the monthly flow; refusals by residence,\n"
    "days vacant, candidates presented repeatedly and never chosen, Q1 candidates\n"
    "in proposals hors QPV. Rules: docs/LEDGER.md, \"Bilan and reports\".\n"
    "\n"
    "options:\n"
    "  --year Y          the calendar year Y (dates are Europe/Paris days)\n"
    "  --quarter Q       with --year: quarter Q (1-4) of it\n"
    "  --half H          with --year: half H (1-2) of it\n"
    "  --from DATE       first day, YYYY-MM-DD (default: 1 January of --year)\n"
    "  --to DATE         last day, included (default: 31 December of --year)\n"
    "  --bailleur ID     only this bailleur's dwellings (actor id or SIREN)\n"
    "  --epci SIREN      only the dwellings of this EPCI\n"
    "  --repeated N      \"presented repeatedly\": on N dwellings or more (default 2)\n"
    "  --format F        json (default: one object), csv (tables, ';' separated,\n"
    "                    decimal commas, first column names the table; UTF-8 with\n"
    "                    a byte order mark for French Excel; text cells starting\n"
    "                    with = + - @ get a leading ') or html (one\n"
    "                    self-contained page with charts)\n" REPORT_OUTPUT_HELP
    "  -h, --help        this help\n";

enum {
    S_OPT_YEAR = 0x200,
    S_OPT_QUARTER,
    S_OPT_HALF,
    S_OPT_FROM,
    S_OPT_TO,
    S_OPT_BAILLEUR,
    S_OPT_EPCI,
    S_OPT_REPEATED,
};

typedef struct {
    const char *store, *bailleur, *epci;
    report_period_args_t period;
    long long repeated;
    report_output_opts_t out;
} s_args_t;

/* Applies one option; false after printing why. */
static bool s_option(s_args_t *a, int c)
{
    switch (c) {
    case COMMON_OPT_STORE:
        a->store = optarg;
        return true;
    case S_OPT_YEAR:
        return common_parse_int(s_cmd, "year", optarg, 1, 9999, &a->period.year);
    case S_OPT_QUARTER:
        return common_parse_int(s_cmd, "quarter", optarg, 1, 4, &a->period.quarter);
    case S_OPT_HALF:
        return common_parse_int(s_cmd, "half", optarg, 1, 2, &a->period.half);
    case S_OPT_REPEATED:
        return common_parse_int(s_cmd, "repeated", optarg, 1, 1000, &a->repeated);
    case S_OPT_FROM:
        a->period.from = optarg;
        return true;
    case S_OPT_TO:
        a->period.to = optarg;
        return true;
    case S_OPT_BAILLEUR:
        a->bailleur = optarg;
        return true;
    case S_OPT_EPCI:
        a->epci = optarg;
        return true;
    default:
        return report_output_option(&a->out, c, optarg);
    }
}

/* EXIT_OK, -1 after --help, or a usage error. */
static int s_parse(int argc, char **argv, s_args_t *a)
{
    static const struct option opts[] = {COMMON_OPTION_STORE,
                                         {"year", required_argument, NULL, S_OPT_YEAR},
                                         {"quarter", required_argument, NULL, S_OPT_QUARTER},
                                         {"half", required_argument, NULL, S_OPT_HALF},
                                         {"from", required_argument, NULL, S_OPT_FROM},
                                         {"to", required_argument, NULL, S_OPT_TO},
                                         {"bailleur", required_argument, NULL, S_OPT_BAILLEUR},
                                         {"epci", required_argument, NULL, S_OPT_EPCI},
                                         {"repeated", required_argument, NULL, S_OPT_REPEATED},
                                         REPORT_OUTPUT_OPTIONS,
                                         COMMON_OPTION_HELP,
                                         {0}};
    int c;
    while ((c = common_getopt(s_cmd, argc, argv, opts)) != -1) {
        if (c == 'h') {
            common_help(s_help, COMMON_HELP_STORE);
            return -1;
        }
        if (!s_option(a, c))
            return EXIT_USAGE;
    }
    if (optind < argc)
        return common_fail(s_cmd, EXIT_USAGE, "unexpected argument \"%s\"", argv[optind]);
    return report_output_check(s_cmd, &a->out);
}

/* The bilan and the format asked, for report_output. */
typedef struct {
    const bilan_t *b;
    const char *format;
    bool no_bom, codes_as_text;
} s_doc_t;

static bool s_write(const void *ctx, FILE *out)
{
    const s_doc_t *doc = ctx;
    if (strcmp(doc->format, "csv") == 0)
        return (doc->no_bom || fputs(CSV_CELL_BOM, out) != EOF) &&
               report_bilan_csv(doc->b, out, doc->codes_as_text);
    if (strcmp(doc->format, "html") == 0)
        return report_html_write(doc->b, out);
    return report_output_json(report_bilan_json(doc->b), out);
}

int cmd_report_bilan(int argc, char **argv)
{
    s_args_t a = {.store = common_store_default(), .out.format = "json"};
    int rc = s_parse(argc, argv, &a);
    if (rc != EXIT_OK)
        return rc < 0 ? EXIT_OK : rc;
    bilan_query_t q = {
        .bailleur = a.bailleur, .epci = a.epci, .repeated_threshold = (unsigned)a.repeated};
    rc = report_period(s_cmd, &a.period, &q.period);
    if (rc != EXIT_OK)
        return rc;
    if (access(a.store, F_OK) != 0)
        return common_fail(s_cmd, EXIT_STORE, "%s: %s", a.store, strerror(errno));
    char err[512];
    ledger_t *ledger = ledger_open_readonly(a.store, err, sizeof err);
    if (!ledger)
        return common_fail(s_cmd, EXIT_STORE, "%s", err);
    char bailleur[256];
    if (a.bailleur) {
        rc = report_bailleur(s_cmd, ledger_db(ledger), a.bailleur, bailleur, sizeof bailleur);
        if (rc != EXIT_OK) {
            ledger_close(&ledger);
            return rc;
        }
        q.bailleur = bailleur;
    }
    bilan_t *b = bilan_run(ledger_db(ledger), &q, err, sizeof err);
    ledger_close(&ledger);
    if (!b)
        return common_fail(s_cmd, EXIT_STORE, "%s: %s", a.store, err);
    s_doc_t doc = {b, a.out.format, a.out.no_bom, a.out.codes_as_text};
    rc = report_output(s_cmd, a.out.output, s_write, &doc);
    bilan_destroy(&b);
    return rc;
}
