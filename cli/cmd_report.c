/* cmd_report.c - `fluxbus report`: reports of the flux ledger, read from
 * the broker's store (opened read-only, so they may run beside the broker).
 * `report` dispatches to its reports; `report flux` is the décompte of the
 * conventions (ledger/decompte.h) rendered by report_flux.c (JSON, CSV) or
 * report_flux_html.c (the page).
 *
 * Owns: the reports' command lines (period, filters, format). Does not own
 * the figures (ledger/) nor their layout (report_flux*.c). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common.h"
#include "csv_cell.h"
#include "decompte.h"
#include "ledger.h"
#include "report_flux.h"
#include "report_flux_html.h"
#include "report_output.h"
#include "report_period.h"

static const char s_flux_help[] =
    "usage: fluxbus report flux --year Y [--quarter Q | --half H | --from DATE --to DATE]\n"
    "                           [--bailleur ID] [--reservataire ID] [--hard-to-let N]\n"
    "                           [--format json|csv|html] [--no-bom] [--codes-as-text]\n"
    "                           [--output FILE]\n"
    "                           [--store DB]\n"
    "\n"
    "The décompte of the flux conventions for a period, from the ledger of the\n"
    "store (opened read-only): per convention and party (the réservataire, or each\n"
    "commune of a multipartite convention) the orientations, acks, declines,\n"
    "designations, remises, expiries, CALEOL outcomes, refusals, attributions not\n"
    "followed by a lease and leases of the period; the dwellings counted under the\n"
    "three methods side by side (orientation acceptée, passage en CALEOL, bail\n"
    "signé) and under the convention's own rules (official); the progress against\n"
    "each objective. The same per réservataire and per commune. And the fairness\n"
    "table: each réservataire's share of the hard-to-let dwellings (refused N times\n"
    "or more) against its share of all orientations. Rules: docs/LEDGER.md.\n"
    "\n"
    "options:\n"
    "  --year Y          the calendar year Y (dates are Europe/Paris days)\n"
    "  --quarter Q       with --year: quarter Q (1-4) of it\n"
    "  --half H          with --year: half H (1-2) of it\n"
    "  --from DATE       first day, YYYY-MM-DD (default: 1 January of --year)\n"
    "  --to DATE         last day, included (default: 31 December of --year)\n"
    "  --bailleur ID     only this bailleur's vacancies and conventions (actor id\n"
    "                    or SIREN)\n"
    "  --reservataire ID only this réservataire (shares stay relative to all)\n"
    "  --hard-to-let N   refusals that make a dwelling hard to let (default 3)\n"
    "  --format F        json (default: one object), csv (tables, ';' separated,\n"
    "                    decimal commas, first column names the table; UTF-8 with\n"
    "                    a byte order mark for French Excel; text cells starting\n"
    "                    with = + - @ get a leading ') or html (one self-contained\n"
    "                    page with charts: progress per réservataire, monthly "
    "flow)\n" REPORT_OUTPUT_HELP "  -h, --help        this help\n";

enum {
    S_OPT_YEAR = 0x200,
    S_OPT_QUARTER,
    S_OPT_HALF,
    S_OPT_FROM,
    S_OPT_TO,
    S_OPT_BAILLEUR,
    S_OPT_RESA,
    S_OPT_HARD,
};

typedef struct {
    const char *store;
    long long year, quarter, half, hard;
    const char *from, *to, *bailleur, *reservataire;
    report_output_opts_t out;
} s_flux_args_t;

static int s_flux_parse(int argc, char **argv, s_flux_args_t *a)
{
    static const struct option opts[] = {COMMON_OPTION_STORE,
                                         {"year", required_argument, NULL, S_OPT_YEAR},
                                         {"quarter", required_argument, NULL, S_OPT_QUARTER},
                                         {"half", required_argument, NULL, S_OPT_HALF},
                                         {"from", required_argument, NULL, S_OPT_FROM},
                                         {"to", required_argument, NULL, S_OPT_TO},
                                         {"bailleur", required_argument, NULL, S_OPT_BAILLEUR},
                                         {"reservataire", required_argument, NULL, S_OPT_RESA},
                                         {"hard-to-let", required_argument, NULL, S_OPT_HARD},
                                         REPORT_OUTPUT_OPTIONS,
                                         COMMON_OPTION_HELP,
                                         {0}};
    const char *cmd = "report flux";
    int c;
    while ((c = common_getopt(cmd, argc, argv, opts)) != -1) {
        bool ok = true;
        switch (c) {
        case COMMON_OPT_STORE:
            a->store = optarg;
            break;
        case S_OPT_YEAR:
            ok = common_parse_int(cmd, "year", optarg, 1, 9999, &a->year);
            break;
        case S_OPT_QUARTER:
            ok = common_parse_int(cmd, "quarter", optarg, 1, 4, &a->quarter);
            break;
        case S_OPT_HALF:
            ok = common_parse_int(cmd, "half", optarg, 1, 2, &a->half);
            break;
        case S_OPT_HARD:
            ok = common_parse_int(cmd, "hard-to-let", optarg, 1, 1000, &a->hard);
            break;
        case S_OPT_FROM:
            a->from = optarg;
            break;
        case S_OPT_TO:
            a->to = optarg;
            break;
        case S_OPT_BAILLEUR:
            a->bailleur = optarg;
            break;
        case S_OPT_RESA:
            a->reservataire = optarg;
            break;
        case 'h':
            common_help(s_flux_help, COMMON_HELP_STORE);
            return -1;
        default:
            if (!report_output_option(&a->out, c, optarg))
                return EXIT_USAGE;
        }
        if (!ok)
            return EXIT_USAGE;
    }
    if (optind < argc)
        return common_fail(cmd, EXIT_USAGE, "unexpected argument \"%s\"", argv[optind]);
    return report_output_check(cmd, &a->out);
}

/* The period the options name, or a usage error. */
static int s_flux_period(const s_flux_args_t *a, period_t *p)
{
    report_period_args_t r = {a->year, a->quarter, a->half, a->from, a->to};
    return report_period("report flux", &r, p);
}

/* What a report flux writes: the décompte, its months (html), the options. */
typedef struct {
    const decompte_t *d;
    const decompte_month_t *months;
    size_t n_months;
    const s_flux_args_t *a;
} s_flux_doc_t;

static bool s_flux_write(const void *ctx, FILE *out)
{
    const s_flux_doc_t *doc = ctx;
    if (strcmp(doc->a->out.format, "csv") == 0)
        return (doc->a->out.no_bom || fputs(CSV_CELL_BOM, out) != EOF) &&
               report_flux_csv(doc->d, out, doc->a->out.codes_as_text);
    if (strcmp(doc->a->out.format, "html") == 0)
        return report_flux_html(doc->d, doc->months, doc->n_months, doc->a->bailleur,
                                doc->a->reservataire, out);
    return report_output_json(report_flux_json(doc->d, doc->a->bailleur, doc->a->reservataire),
                              out);
}

/* Computes the décompte of q (and, for the page, its months) and writes it. */
static int s_flux_report(ledger_t *ledger, const decompte_query_t *q, const s_flux_args_t *a)
{
    char err[512];
    s_flux_doc_t doc = {.a = a};
    decompte_t *d = decompte_run(ledger_db(ledger), q, err, sizeof err);
    decompte_month_t *months = NULL;
    if (d && strcmp(a->out.format, "html") == 0)
        months = decompte_months(ledger_db(ledger), q, &doc.n_months, err, sizeof err);
    if (!d || (strcmp(a->out.format, "html") == 0 && !months)) {
        decompte_destroy(&d);
        return common_fail("report flux", EXIT_STORE, "%s: %s", a->store, err);
    }
    doc.d = d;
    doc.months = months;
    int rc = report_output("report flux", a->out.output, s_flux_write, &doc);
    free(months);
    decompte_destroy(&d);
    return rc;
}

static int s_flux(int argc, char **argv)
{
    s_flux_args_t a = {.store = common_store_default(), .out.format = "json"};
    int rc = s_flux_parse(argc, argv, &a);
    if (rc != EXIT_OK)
        return rc < 0 ? EXIT_OK : rc;
    decompte_query_t q = {.bailleur = a.bailleur,
                          .reservataire = a.reservataire,
                          .hard_to_let_threshold = (unsigned)a.hard};
    rc = s_flux_period(&a, &q.period);
    if (rc != EXIT_OK)
        return rc;
    if (access(a.store, F_OK) != 0)
        return common_fail("report flux", EXIT_STORE, "%s: %s", a.store, strerror(errno));
    char err[512];
    ledger_t *ledger = ledger_open_readonly(a.store, err, sizeof err);
    if (!ledger)
        return common_fail("report flux", EXIT_STORE, "%s", err);
    char bailleur[256];
    if (a.bailleur) {
        rc = report_bailleur("report flux", ledger_db(ledger), a.bailleur, bailleur,
                             sizeof bailleur);
        if (rc != EXIT_OK) {
            ledger_close(&ledger);
            return rc;
        }
        q.bailleur = a.bailleur = bailleur;
    }
    if (a.reservataire)
        report_note_unknown("report flux", ledger_db(ledger), "--reservataire", a.reservataire);
    rc = s_flux_report(ledger, &q, &a);
    ledger_close(&ledger);
    return rc;
}

static const common_command_t s_commands[] = {
    {"flux", s_flux, "décompte of the conventions: three counting methods, objectives, fairness"},
    {"bilan", cmd_report_bilan, "annual bilan R441-5-1: breakdowns, legal objectives, analyses"},
    {NULL, NULL, NULL},
};

static const char s_help[] =
    "usage: fluxbus report REPORT [OPTIONS]\n"
    "\n"
    "Reports of the flux ledger, computed from the broker's store (opened\n"
    "read-only). --store defaults to $FLUXBUS_STORE, else fluxbus.db.\n";

int cmd_report(int argc, char **argv)
{
    return common_dispatch("report", s_help, s_commands, argc, argv);
}
