/* test_bilan - the annual bilan (ledger/bilan.h) of a scripted year, checked
 * line by line. Facts go through ledger_check then ledger_record on a fresh
 * store (as the broker checks and records accepted messages: a refusal
 * fails the test); reference data through refdata_import.
 *
 * The script (bailleur 552046955, EPCI 200066793 "Grand Annecy", communes
 * 74010 and 74281):
 * - v-2023-01 / v-2024-01: the same dwelling (RPLS-CHANGE) let in 2023 and
 *   in 2024; its LogementLibere says hors QPV (map 2015) but the reference
 *   table puts it in the QPV from 1 January 2024: hors QPV in 2023, in QPV
 *   in 2024;
 * - v-2024-02: hors flux, ANRU rehousing of a non-Q1 household, in 74281
 *   (a commune with no QPV in the reference data);
 * - v-2024-03: in a QPV residence; a Q3 household signs, a rank-2
 *   candidate par rang is never reached;
 * - v-2024-04: the State's DALO household is attributed, then refuses
 *   (rent too high): no lease, the attribution still counts;
 * - v-2024-05: the bailleur's non-reserved dwelling, to a PDALHPD Q1
 *   household;
 * - v-2024-06: Action Logement, a Q2 household;
 * - v-2024-07: the commune's réservation, a Q4 household, in 74281;
 * - NUR N8 is designated on v-2024-04 and v-2024-06, never attributed.
 * Objectives: the legal 25 / 25 / 50 %, a CIA target of 55 % for Q1 hors
 * QPV on the whole EPCI and of 30 % for priority households in 74010. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "bilan.h"
#include "fluxbus/v1/bail.pb-c.h"
#include "fluxbus/v1/caleol.pb-c.h"
#include "fluxbus/v1/designation.pb-c.h"
#include "fluxbus/v1/envelope.pb-c.h"
#include "fluxbus/v1/ledger.pb-c.h"
#include "fluxbus/v1/logement.pb-c.h"
#include "fluxbus/v1/orientation.pb-c.h"
#include "ledger.h"
#include "life_msgs.h"
#include "refdata.h"
#include "store.h"
#include "tmpdir.h"

#define T(x) FLUXBUS__V1__MESSAGE_TYPE__MESSAGE_TYPE_##x
#define B "bailleur:552046955"
#define AL "reservataire:action-logement"
#define ETAT "reservataire:etat-74"
#define COMMUNE "reservataire:commune-annecy"
#define EPCI "200066793"
#define ANNECY "74010"
#define SEYNOD "74281"

typedef struct {
    char dir[64];
    store_t *store;
    ledger_t *ledger;
    sqlite3 *db;
    uint64_t seq;
} s_fix_t;

/* 10:00 Paris time on y-m-d. */
static int64_t s_at(int y, int m, int d)
{
    return period_day_start_ms((period_date_t){y, m, d}) + 10 * 3600 * 1000LL;
}

static void s_record(s_fix_t *f, const char *sender, int type, const char *vacancy, int64_t at,
                     const void *payload)
{
    const char *const to[] = {"reservataire:any"};
    ledger_msg_t m = {.seq = ++f->seq,
                      .sender = sender,
                      .type = type,
                      .correlation_id = vacancy,
                      .recipients = to,
                      .n_recipients = 1,
                      .at_ms = at,
                      .payload = payload};
    char detail[256] = "";
    if (ledger_check(f->ledger, &m, detail, sizeof detail) != FB_OK)
        fail_msg("message type %d from %s on %s refused by ledger_check: %s", type, sender,
                 vacancy && *vacancy ? vacancy : "-", detail);
    assert_int_equal(ledger_record(f->ledger, &m), FB_OK);
}

/* A dwelling freed: its RPLS id, commune, residence, QPV status as the
 * message says (map year), typology, financing, period, hors-flux motif. */
typedef struct {
    const char *vacancy, *rpls, *insee, *residence;
    int qpv, map_year, typologie, financement, construction, hors_flux_motif;
} s_dwelling_t;

static void s_libere(s_fix_t *f, const s_dwelling_t *d, int64_t at)
{
    Fluxbus__V1__LogementLibere l = FLUXBUS__V1__LOGEMENT_LIBERE__INIT;
    l.vacancy_id = (char *)d->vacancy;
    l.rpls_id = (char *)d->rpls;
    l.residence_id = (char *)d->residence;
    l.bailleur_siren = "552046955";
    l.commune_insee = (char *)d->insee;
    l.epci_siren = EPCI;
    l.qpv = d->qpv;
    l.qpv_map_year = (uint32_t)d->map_year;
    l.typologie = d->typologie;
    l.financement = d->financement;
    l.construction_period = d->construction;
    l.mode_gestion = d->hors_flux_motif ? FLUXBUS__V1__MODE_GESTION__MODE_GESTION_HORS_FLUX
                                        : FLUXBUS__V1__MODE_GESTION__MODE_GESTION_FLUX;
    l.hors_flux_motif = d->hors_flux_motif;
    s_record(f, B, T(LOGEMENT_LIBERE), d->vacancy, at, &l);
}

/* The convention an orientation to `resa` at `at` names (s_conventions_*). */
static const char *s_convention_of(const char *resa, int64_t at)
{
    if (strcmp(resa, AL) == 0)
        return at < s_at(2024, 1, 1) ? "conv-al-2023" : "conv-al";
    return strcmp(resa, ETAT) == 0 ? "conv-etat" : "conv-commune";
}

static void s_orient(s_fix_t *f, const char *vacancy, const char *resa, int64_t at)
{
    /* No number of candidates expected. */
    Fluxbus__V1__Orientation o =
        life_msgs_orientation(vacancy, s_convention_of(resa, at), resa, 1, 0, at + 30 * 86400000LL);
    s_record(f, B, T(ORIENTATION), vacancy, at, &o);
}

/* A household designated by `sender`, credited to `credited`. */
typedef struct {
    const char *nur;
    int quartile;
    bool dalo, pdalhpd;
} s_household_t;

/* `rank` of a round of `count` candidates; a round of fewer than the three
 * the CALEOL examines (one for a rehousing hors flux) says why. */
static void s_designate(s_fix_t *f, const char *vacancy, const char *sender, const char *credited,
                        const s_household_t *h, unsigned rank, unsigned count, int64_t at)
{
    Fluxbus__V1__Designation d = life_msgs_designation(vacancy, h->nur, rank, count);
    if (count < 3)
        d.fewer_candidates_reason =
            FLUXBUS__V1__FEWER_CANDIDATES_REASON__FEWER_CANDIDATES_REASON_INSUFFISANCE_DEMANDES;
    d.quartile = h->quartile;
    d.dalo = h->dalo;
    d.pdalhpd = h->pdalhpd;
    d.credited_reservataire_actor_id = (char *)credited;
    s_record(f, sender, T(DESIGNATION), vacancy, at, &d);
}

static void s_decide(s_fix_t *f, const char *vacancy, const char *nur, const char *resa,
                     int decision, unsigned rank, bool q1, bool anru, int64_t at)
{
    Fluxbus__V1__CaleolDecision c = life_msgs_decision("S", vacancy, nur, rank, resa, decision, at);
    c.q1 = q1;
    c.relogement_anru = anru;
    s_record(f, B, T(CALEOL_DECISION), vacancy, at, &c);
}

static void s_attribute(s_fix_t *f, const char *vacancy, const char *nur, const char *resa, bool q1,
                        bool anru, int64_t at)
{
    s_decide(f, vacancy, nur, resa,
             FLUXBUS__V1__CALEOL_DECISION_CODE__CALEOL_DECISION_CODE_ATTRIBUTION, 1, q1, anru, at);
}

static void s_refuse(s_fix_t *f, const char *vacancy, const char *nur, int motif, int64_t at)
{
    Fluxbus__V1__PropositionReponse p = life_msgs_answer(vacancy, nur, true, at);
    p.refus_motif = motif;
    s_record(f, B, T(PROPOSITION_REPONSE), vacancy, at, &p);
    Fluxbus__V1__AttributionNonSuivieDeBail a = life_msgs_no_lease(vacancy, nur);
    s_record(f, B, T(ATTRIBUTION_NON_SUIVIE_DE_BAIL), vacancy, at, &a);
}

static void s_bail(s_fix_t *f, const char *vacancy, const char *nur, const char *resa, bool q1,
                   bool anru, int64_t at)
{
    Fluxbus__V1__BailSigne b = life_msgs_lease(vacancy, nur, resa);
    b.q1 = q1;
    b.relogement_anru = anru;
    s_record(f, B, T(BAIL_SIGNE), vacancy, at, &b);
}

/* Imports `csv` (';' between cells, '\n' between lines, header first) as
 * kind; asserts it was accepted. */
static void s_import(s_fix_t *f, refdata_kind_t kind, const char *csv)
{
    char buf[4096];
    snprintf(buf, sizeof buf, "%s", csv);
    const char *cells[32][8];
    refdata_row_t rows[32];
    size_t n = 0;
    for (char *line = strtok(buf, "\n"); line && n < 32; line = strtok(NULL, "\n"), n++) {
        rows[n] = (refdata_row_t){.cells = cells[n], .n = 0, .line = (unsigned)n + 1};
        for (char *c = line;; c++) {
            cells[n][rows[n].n++] = c;
            c = strchr(c, ';');
            if (!c)
                break;
            *c = '\0';
        }
    }
    size_t imported = 0;
    refdata_error_t e;
    fb_err_t rc = refdata_import(f->db, kind, &rows[0], rows + 1, n - 1, 1, &imported, &e);
    if (rc != FB_OK)
        fail_msg("import %s: line %u, column %s: %s", refdata_kind_name(kind), e.line, e.column,
                 e.reason);
    assert_int_equal(imported, n - 1);
}

static void s_reference_data(s_fix_t *f)
{
    s_import(f, REFDATA_Q1_THRESHOLDS,
             "epci_siren;epci_name;year;q1_threshold_eur;source\n"
             "200066793;Grand Annecy;2023;10 520,00;arrêté 2023\n"
             "200066793;Grand Annecy;2024;11 040;arrêté 2024\n");
    s_import(f, REFDATA_QPV,
             "scope;key;status;qpv_code;valid_from;valid_to;source\n"
             "rpls;RPLS-CHANGE;out;;2015-01-01;2023-12-31;carte 2015\n"
             "rpls;RPLS-CHANGE;in;QN07401M;2024-01-01;;carte 2024\n"
             "residence;552046955:RES-QPV;in;QN07402M;01/01/2015;;carte 2015\n"
             "commune;74281;out;;2015-01-01;;aucun QPV\n");
    s_import(f, REFDATA_OBJECTIVES,
             "objective;target_percent;valid_from;valid_to;source\n"
             "q1_hors_qpv;25;2017-01-28;;CCH L441-1\n"
             "prioritaires;25;2017-01-28;;CCH L441-1\n"
             "non_q1_en_qpv;50 %;2018-11-25;;CCH L441-1\n");
    s_import(f, REFDATA_CIA_TARGETS,
             "epci_siren;scope;scope_id;objective;target_percent;valid_from;valid_to;source\n"
             "200066793;epci;;q1_hors_qpv;55;2024-01-01;;CIA 2024\n"
             "200066793;commune;74010;prioritaires;30;2024-01-01;;CIA 2024\n");
}

#define IN FLUXBUS__V1__QPV_STATUS__QPV_STATUS_IN_QPV
#define OUT FLUXBUS__V1__QPV_STATUS__QPV_STATUS_OUTSIDE_QPV
#define TYP(x) FLUXBUS__V1__TYPOLOGIE__TYPOLOGIE_##x
#define FIN(x) FLUXBUS__V1__FINANCEMENT__FINANCEMENT_##x
#define PER(x) FLUXBUS__V1__CONSTRUCTION_PERIOD__CONSTRUCTION_PERIOD_##x
#define Q(x) FLUXBUS__V1__QUARTILE__QUARTILE_##x
#define CONTINGENT(x) FLUXBUS__V1__CONTINGENT_TYPE__CONTINGENT_TYPE_##x

/* A convention of the bailleur with `resa` for `year`, counted at the
 * lease; `placements` an objective of that many (0: none). */
static void s_convention(s_fix_t *f, const char *id, const char *resa, int year, int contingent,
                         uint32_t placements)
{
    Fluxbus__V1__ConventionObjective o = FLUXBUS__V1__CONVENTION_OBJECTIVE__INIT;
    o.kind = FLUXBUS__V1__OBJECTIVE_KIND__OBJECTIVE_KIND_PLACEMENTS;
    o.unit = FLUXBUS__V1__OBJECTIVE_UNIT__OBJECTIVE_UNIT_COUNT;
    o.value = placements;
    Fluxbus__V1__ConventionObjective *objectives[] = {&o};
    Fluxbus__V1__Convention c = FLUXBUS__V1__CONVENTION__INIT;
    c.convention_id = (char *)id;
    c.revision = 1;
    c.bailleur_actor_id = B;
    c.bailleur_siren = "552046955";
    c.reservataire_actor_id = (char *)resa;
    c.year = (uint32_t)year;
    c.contingent = contingent;
    c.n_objectives = placements ? 1 : 0;
    c.objectives = objectives;
    c.counting_method = FLUXBUS__V1__COUNTING_METHOD__COUNTING_METHOD_BAIL_SIGNE;
    s_record(f, B, T(CONVENTION), "", s_at(year, 1, 2), &c);
}

/* Each orientation names its réservataire's convention of the year:
 * Action Logement's for 2024 has 4 placements (the décompte gives the
 * progress beside the bilan's lines); the others set no objective. */
static void s_conventions_2023(s_fix_t *f)
{
    s_convention(f, "conv-al-2023", AL, 2023, CONTINGENT(ACTION_LOGEMENT), 0);
}

static void s_conventions_2024(s_fix_t *f)
{
    s_convention(f, "conv-al", AL, 2024, CONTINGENT(ACTION_LOGEMENT), 4);
    s_convention(f, "conv-etat", ETAT, 2024, CONTINGENT(ETAT_PRIORITAIRE), 0);
    s_convention(f, "conv-commune", COMMUNE, 2024, CONTINGENT(COMMUNE), 0);
}

static void s_script(s_fix_t *f)
{
    static const s_dwelling_t d0 = {"v-2023-01", "RPLS-CHANGE", ANNECY,    "RES-A",        OUT,
                                    2015,        TYP(T3),       FIN(PLUS), PER(1975_1999), 0};
    static const s_dwelling_t d1 = {"v-2024-01", "RPLS-CHANGE", ANNECY,    "RES-A",        OUT,
                                    2015,        TYP(T3),       FIN(PLUS), PER(1975_1999), 0};
    static const s_dwelling_t d2 = {"v-2024-02",
                                    "RPLS-ANRU",
                                    SEYNOD,
                                    "RES-B",
                                    0,
                                    0,
                                    TYP(T2),
                                    FIN(PLAI),
                                    PER(1949_1974),
                                    FLUXBUS__V1__HORS_FLUX_MOTIF__HORS_FLUX_MOTIF_RELOGEMENT_ANRU};
    static const s_dwelling_t d3 = {"v-2024-03", "RPLS-Q", ANNECY,    "RES-QPV",      0,
                                    0,           TYP(T4),  FIN(PLUS), PER(1949_1974), 0};
    static const s_dwelling_t d4 = {"v-2024-04", "RPLS-OUT-1", ANNECY,    "RES-A",         OUT,
                                    2024,        TYP(T2),      FIN(PLUS), PER(2013_LATER), 0};
    static const s_dwelling_t d5 = {"v-2024-05", "RPLS-OUT-2", ANNECY,   "RES-C",        OUT,
                                    2024,        TYP(T1),      FIN(PLS), PER(2000_2012), 0};
    static const s_dwelling_t d6 = {"v-2024-06", "RPLS-OUT-3", ANNECY,    "RES-C",        OUT,
                                    2024,        TYP(T3),      FIN(PLAI), PER(2000_2012), 0};
    static const s_dwelling_t d7 = {"v-2024-07", "RPLS-SEY", SEYNOD,    "RES-D",          0,
                                    0,           TYP(T5),    FIN(PLUS), PER(BEFORE_1949), 0};
    static const s_household_t n1 = {"N1", Q(Q1), false, false}, n2 = {"N2", Q(Q1), true, false},
                               n3 = {"N3", Q(Q3), false, false}, n4 = {"N4", Q(Q2), false, false},
                               n5 = {"N5", Q(Q2), true, false}, n6 = {"N6", Q(Q1), false, true},
                               n7 = {"N7", Q(Q2), false, false}, n8 = {"N8", Q(Q3), false, false},
                               n10 = {"N10", Q(Q4), false, false},
                               anru = {"N-ANRU", 0, false, false};
    s_conventions_2023(f);
    /* 2023: the dwelling hors QPV under the 2015 map. */
    s_libere(f, &d0, s_at(2023, 2, 1));
    s_orient(f, "v-2023-01", AL, s_at(2023, 3, 1));
    s_designate(f, "v-2023-01", AL, AL, &n1, 1, 1, s_at(2023, 3, 10));
    s_attribute(f, "v-2023-01", "N1", AL, true, false, s_at(2023, 4, 5));
    s_bail(f, "v-2023-01", "N1", AL, true, false, s_at(2023, 5, 2));
    /* 2024: the same dwelling, now in the QPV. */
    s_conventions_2024(f);
    s_libere(f, &d1, s_at(2024, 1, 15));
    s_orient(f, "v-2024-01", ETAT, s_at(2024, 2, 1));
    s_designate(f, "v-2024-01", ETAT, ETAT, &n2, 1, 1, s_at(2024, 2, 5));
    s_attribute(f, "v-2024-01", "N2", ETAT, true, false, s_at(2024, 2, 20));
    s_bail(f, "v-2024-01", "N2", ETAT, true, false, s_at(2024, 3, 15));
    /* ANRU rehousing, hors flux: the bailleur designates the household for
     * itself (one candidate, no orientation), then decides and signs. */
    s_libere(f, &d2, s_at(2024, 3, 1));
    s_designate(f, "v-2024-02", B, B, &anru, 1, 1, s_at(2024, 3, 20));
    s_attribute(f, "v-2024-02", "N-ANRU", "", false, true, s_at(2024, 4, 2));
    s_bail(f, "v-2024-02", "N-ANRU", "", false, true, s_at(2024, 4, 10));
    /* In a QPV residence, par rang: rank 1 signs, rank 2 stays standby. */
    s_libere(f, &d3, s_at(2024, 4, 20));
    s_orient(f, "v-2024-03", AL, s_at(2024, 5, 2));
    s_designate(f, "v-2024-03", AL, AL, &n3, 1, 2, s_at(2024, 5, 6));
    s_designate(f, "v-2024-03", AL, AL, &n4, 2, 2, s_at(2024, 5, 6));
    s_decide(f, "v-2024-03", "N3", AL,
             FLUXBUS__V1__CALEOL_DECISION_CODE__CALEOL_DECISION_CODE_ATTRIBUTION_PAR_RANG, 1, false,
             false, s_at(2024, 5, 20));
    s_decide(f, "v-2024-03", "N4", AL,
             FLUXBUS__V1__CALEOL_DECISION_CODE__CALEOL_DECISION_CODE_ATTRIBUTION_PAR_RANG, 2, false,
             false, s_at(2024, 5, 20));
    s_bail(f, "v-2024-03", "N3", AL, false, false, s_at(2024, 6, 10));
    /* The State's DALO household refuses after the attribution. */
    s_libere(f, &d4, s_at(2024, 6, 15));
    s_orient(f, "v-2024-04", ETAT, s_at(2024, 7, 1));
    s_designate(f, "v-2024-04", ETAT, ETAT, &n5, 1, 2, s_at(2024, 7, 5));
    s_designate(f, "v-2024-04", ETAT, ETAT, &n8, 2, 2, s_at(2024, 7, 5));
    s_attribute(f, "v-2024-04", "N5", ETAT, false, false, s_at(2024, 7, 20));
    s_refuse(f, "v-2024-04", "N5", FLUXBUS__V1__REFUS_MOTIF__REFUS_MOTIF_LOYER_TROP_ELEVE,
             s_at(2024, 8, 1));
    /* The bailleur's own dwelling, to a PDALHPD household. */
    s_libere(f, &d5, s_at(2024, 8, 20));
    s_designate(f, "v-2024-05", B, B, &n6, 1, 1, s_at(2024, 9, 2));
    s_attribute(f, "v-2024-05", "N6", B, true, false, s_at(2024, 9, 10));
    s_bail(f, "v-2024-05", "N6", B, true, false, s_at(2024, 10, 1));
    /* Action Logement, Q2. */
    s_libere(f, &d6, s_at(2024, 9, 15));
    s_orient(f, "v-2024-06", AL, s_at(2024, 10, 1));
    s_designate(f, "v-2024-06", AL, AL, &n7, 1, 2, s_at(2024, 10, 5));
    s_designate(f, "v-2024-06", AL, AL, &n8, 2, 2, s_at(2024, 10, 5));
    s_attribute(f, "v-2024-06", "N7", AL, false, false, s_at(2024, 10, 20));
    s_bail(f, "v-2024-06", "N7", AL, false, false, s_at(2024, 11, 15));
    /* The commune's réservation, Q4, in 74281. */
    s_libere(f, &d7, s_at(2024, 10, 20));
    s_orient(f, "v-2024-07", COMMUNE, s_at(2024, 10, 25));
    s_designate(f, "v-2024-07", COMMUNE, COMMUNE, &n10, 1, 1, s_at(2024, 10, 28));
    s_attribute(f, "v-2024-07", "N10", COMMUNE, false, false, s_at(2024, 11, 5));
    s_bail(f, "v-2024-07", "N10", COMMUNE, false, false, s_at(2024, 12, 10));
}

static int s_setup(void **state)
{
    static s_fix_t f;
    memset(&f, 0, sizeof f);
    assert_int_equal(tmpdir_make(f.dir, sizeof f.dir, "bilan"), 0);
    char path[128], err[256] = "";
    snprintf(path, sizeof path, "%s/store.db", f.dir);
    f.store = store_open(path, err, sizeof err);
    if (!f.store)
        fail_msg("store_open: %s", err);
    f.db = store_db(f.store);
    f.ledger = ledger_open(f.db, err, sizeof err);
    if (!f.ledger)
        fail_msg("ledger_open: %s", err);
    s_reference_data(&f);
    s_script(&f);
    *state = &f;
    return 0;
}

static int s_teardown(void **state)
{
    s_fix_t *f = *state;
    ledger_close(&f->ledger);
    store_destroy(&f->store);
    tmpdir_remove(f->dir);
    return 0;
}

static bilan_t *s_run(s_fix_t *f, period_t p, const char *bailleur, const char *epci)
{
    bilan_query_t q = {.period = p, .bailleur = bailleur, .epci = epci};
    char err[256] = "";
    bilan_t *b = bilan_run(f->db, &q, err, sizeof err);
    if (!b)
        fail_msg("bilan_run: %s", err);
    return b;
}

static const bilan_count_t *s_row(const bilan_t *b, bilan_dim_t dim, const char *key)
{
    for (size_t i = 0; i < b->by[dim].n; i++)
        if (strcmp(b->by[dim].rows[i].key, key) == 0)
            return &b->by[dim].rows[i];
    fail_msg("no %s line \"%s\"", bilan_dim_name(dim), key);
    return NULL;
}

/* Checks a line: attributions, of which hors flux, prioritaires, Q1; leases. */
static void s_check_row(const bilan_t *b, bilan_dim_t dim, const char *key, uint32_t attributions,
                        uint32_t hors_flux, uint32_t prioritaires, uint32_t q1, uint32_t leases)
{
    const bilan_count_t *r = s_row(b, dim, key);
    if (r->attributions != attributions || r->hors_flux != hors_flux ||
        r->prioritaires != prioritaires || r->q1 != q1 || r->leases != leases)
        fail_msg("%s %s: attributions %u hors_flux %u prioritaires %u q1 %u leases %u,"
                 " expected %u %u %u %u %u",
                 bilan_dim_name(dim), key, r->attributions, r->hors_flux, r->prioritaires, r->q1,
                 r->leases, attributions, hors_flux, prioritaires, q1, leases);
}

static const bilan_objective_t *s_objective(const bilan_epci_t *e, const char *objective,
                                            bool local, const char *scope_id, const char *resa)
{
    for (size_t i = 0; i < e->n_objectives; i++) {
        const bilan_objective_t *o = &e->objectives[i];
        if (strcmp(o->objective, objective) == 0 && o->local == local &&
            strcmp(o->scope_id, scope_id) == 0 && strcmp(o->reservataire, resa) == 0)
            return o;
    }
    fail_msg("no %s %s objective %s %s", local ? "local" : "legal", objective, scope_id, resa);
    return NULL;
}

static void s_check_objective(const bilan_epci_t *e, const char *objective, bool local,
                              const char *scope_id, const char *resa, uint32_t num, uint32_t den,
                              uint32_t target, const char *status)
{
    const bilan_objective_t *o = s_objective(e, objective, local, scope_id, resa);
    if (o->numerator != num || o->denominator != den || strcmp(o->status, status) != 0 ||
        o->target.target_per_mille != target)
        fail_msg("%s %s %s: %u/%u target %u %s, expected %u/%u target %u %s", objective, scope_id,
                 resa, o->numerator, o->denominator, o->target.target_per_mille, o->status, num,
                 den, target, status);
}

/* The example: the whole of 2024, every breakdown line. */
static void test_bilan_year_breakdowns_line_by_line(void **state)
{
    bilan_t *b = s_run(*state, period_year(2024), NULL, NULL);
    assert_string_equal(b->reference_date, "2024-12-31");
    /* 7 attributions (1 hors flux), 3 to priority households, 2 to Q1; 6 leases. */
    assert_int_equal(b->total.attributions, 7);
    assert_int_equal(b->total.hors_flux, 1);
    assert_int_equal(b->total.prioritaires, 3);
    assert_int_equal(b->total.q1, 2);
    assert_int_equal(b->total.leases, 6);
    assert_int_equal(b->total.leases_hors_flux, 1);
    assert_int_equal(b->total.orientations, 5);
    assert_int_equal(b->standby_par_rang, 1);

    assert_int_equal(b->by[BILAN_BY_RESERVATAIRE].n, 4);
    s_check_row(b, BILAN_BY_RESERVATAIRE, AL, 2, 0, 0, 0, 2);
    s_check_row(b, BILAN_BY_RESERVATAIRE, ETAT, 2, 0, 2, 1, 1);
    s_check_row(b, BILAN_BY_RESERVATAIRE, COMMUNE, 1, 0, 0, 0, 1);
    s_check_row(b, BILAN_BY_RESERVATAIRE, B, 2, 1, 1, 1, 2);
    assert_true(s_row(b, BILAN_BY_RESERVATAIRE, B)->non_reserve);
    assert_int_equal(s_row(b, BILAN_BY_RESERVATAIRE, AL)->orientations, 2);
    assert_int_equal(s_row(b, BILAN_BY_RESERVATAIRE, ETAT)->orientations, 2);
    assert_int_equal(s_row(b, BILAN_BY_RESERVATAIRE, COMMUNE)->orientations, 1);
    assert_int_equal(s_row(b, BILAN_BY_RESERVATAIRE, B)->leases_hors_flux, 1);
    /* Beside AL's line, its convention: 2 leases of the 4 placements. */
    assert_true(s_row(b, BILAN_BY_RESERVATAIRE, AL)->has_objective);
    assert_int_equal(s_row(b, BILAN_BY_RESERVATAIRE, AL)->objective, 4);
    assert_int_equal(s_row(b, BILAN_BY_RESERVATAIRE, AL)->done, 2);
    assert_false(s_row(b, BILAN_BY_RESERVATAIRE, ETAT)->has_objective);
    /* The bailleur's own line comes last. */
    assert_string_equal(b->by[BILAN_BY_RESERVATAIRE].rows[3].key, B);

    assert_int_equal(b->by[BILAN_BY_TYPOLOGIE].n, 5);
    assert_string_equal(b->by[BILAN_BY_TYPOLOGIE].rows[0].key, "T1");
    s_check_row(b, BILAN_BY_TYPOLOGIE, "T1", 1, 0, 1, 1, 1);
    s_check_row(b, BILAN_BY_TYPOLOGIE, "T2", 2, 1, 1, 0, 1);
    s_check_row(b, BILAN_BY_TYPOLOGIE, "T3", 2, 0, 1, 1, 2);
    s_check_row(b, BILAN_BY_TYPOLOGIE, "T4", 1, 0, 0, 0, 1);
    s_check_row(b, BILAN_BY_TYPOLOGIE, "T5", 1, 0, 0, 0, 1);

    assert_int_equal(b->by[BILAN_BY_FINANCEMENT].n, 3);
    s_check_row(b, BILAN_BY_FINANCEMENT, "PLAI", 2, 1, 0, 0, 2);
    s_check_row(b, BILAN_BY_FINANCEMENT, "PLUS", 4, 0, 2, 1, 3);
    s_check_row(b, BILAN_BY_FINANCEMENT, "PLS", 1, 0, 1, 1, 1);

    /* v-2024-01 in QPV in 2024 by the reference table (its message said hors QPV). */
    assert_int_equal(b->by[BILAN_BY_QPV].n, 2);
    s_check_row(b, BILAN_BY_QPV, "in_qpv", 2, 0, 1, 1, 2);
    s_check_row(b, BILAN_BY_QPV, "hors_qpv", 5, 1, 2, 1, 4);

    assert_int_equal(b->by[BILAN_BY_COMMUNE].n, 2);
    s_check_row(b, BILAN_BY_COMMUNE, ANNECY, 5, 0, 3, 2, 4);
    s_check_row(b, BILAN_BY_COMMUNE, SEYNOD, 2, 1, 0, 0, 2);

    assert_int_equal(b->by[BILAN_BY_CONSTRUCTION].n, 5);
    s_check_row(b, BILAN_BY_CONSTRUCTION, "before_1949", 1, 0, 0, 0, 1);
    s_check_row(b, BILAN_BY_CONSTRUCTION, "1949_1974", 2, 1, 0, 0, 2);
    s_check_row(b, BILAN_BY_CONSTRUCTION, "1975_1999", 1, 0, 1, 1, 1);
    s_check_row(b, BILAN_BY_CONSTRUCTION, "2000_2012", 2, 0, 1, 1, 2);
    s_check_row(b, BILAN_BY_CONSTRUCTION, "2013_later", 1, 0, 1, 0, 0);

    assert_int_equal(b->by[BILAN_BY_HORS_FLUX_MOTIF].n, 1);
    s_check_row(b, BILAN_BY_HORS_FLUX_MOTIF, "relogement_anru", 1, 1, 0, 0, 1);
    bilan_destroy(&b);
    bilan_destroy(&b); /* safe twice */
}

/* The legal objectives per EPCI, counted as the law counts them, with the
 * CIA targets beside them. */
static void test_bilan_year_objectives_legal_and_local(void **state)
{
    bilan_t *b = s_run(*state, period_year(2024), NULL, NULL);
    assert_int_equal(b->n_epcis, 1);
    const bilan_epci_t *e = &b->epcis[0];
    assert_string_equal(e->epci_siren, EPCI);
    assert_string_equal(e->epci_name, "Grand Annecy");
    assert_int_equal(e->n_thresholds, 1);
    assert_true(e->thresholds[0].known);
    assert_int_equal(e->thresholds[0].cents, 1104000);
    /* Leases hors QPV: ANRU (counted, not Q1), the bailleur's Q1 household,
     * AL's Q2 and the commune's Q4: 2 of 4. The 2024 lease in the changed
     * dwelling is in QPV now, so not in this count. */
    s_check_objective(e, REFDATA_OBJ_Q1_HORS_QPV, false, EPCI, "", 2, 4, 250, "pass");
    assert_int_equal(s_objective(e, REFDATA_OBJ_Q1_HORS_QPV, false, EPCI, "")->anru, 1);
    assert_string_equal(s_objective(e, REFDATA_OBJ_Q1_HORS_QPV, false, EPCI, "")->target.source,
                        "CCH L441-1");
    s_check_objective(e, REFDATA_OBJ_Q1_HORS_QPV, true, EPCI, "", 2, 4, 550, "fail");
    /* Attributions (lease or not) to priority households, per réservataire:
     * the State's refused one counts; the bailleur's own line is there. */
    s_check_objective(e, REFDATA_OBJ_PRIORITAIRES, false, EPCI, ETAT, 2, 2, 250, "pass");
    s_check_objective(e, REFDATA_OBJ_PRIORITAIRES, false, EPCI, AL, 0, 2, 250, "fail");
    s_check_objective(e, REFDATA_OBJ_PRIORITAIRES, false, EPCI, COMMUNE, 0, 1, 250, "fail");
    s_check_objective(e, REFDATA_OBJ_PRIORITAIRES, false, EPCI, B, 1, 2, 250, "pass");
    assert_true(s_objective(e, REFDATA_OBJ_PRIORITAIRES, false, EPCI, B)->non_reserve);
    s_check_objective(e, REFDATA_OBJ_PRIORITAIRES, false, EPCI, "", 3, 7, 250, "fail");
    /* The CIA's 30 % in 74010. */
    s_check_objective(e, REFDATA_OBJ_PRIORITAIRES, true, ANNECY, "", 3, 5, 300, "fail");
    s_check_objective(e, REFDATA_OBJ_PRIORITAIRES, true, ANNECY, ETAT, 2, 2, 300, "pass");
    s_check_objective(e, REFDATA_OBJ_PRIORITAIRES, true, ANNECY, AL, 0, 2, 300, "fail");
    s_check_objective(e, REFDATA_OBJ_PRIORITAIRES, true, ANNECY, B, 1, 1, 300, "pass");
    /* Attributions in QPV: the changed dwelling's Q1 household, the Q3 one: 1 of 2. */
    s_check_objective(e, REFDATA_OBJ_NON_Q1_EN_QPV, false, EPCI, "", 1, 2, 500, "pass");
    /* Legal lines first, the all-together line before the réservataires'. */
    assert_false(e->objectives[0].local);
    assert_string_equal(e->objectives[0].objective, REFDATA_OBJ_Q1_HORS_QPV);
    assert_true(e->objectives[e->n_objectives - 1].local);
    assert_int_equal(e->n_objectives, 3 + 4 + 2 + 3);
    /* Where the QPV statuses came from: 8 events by the reference table, 5 by messages. */
    assert_int_equal(e->qpv_reference, 8);
    assert_int_equal(e->qpv_message, 5);
    assert_int_equal(e->qpv_unknown, 0);
    assert_int_equal(e->n_map_years, 1);
    assert_int_equal(e->message_map_years[0], 2024);
    bilan_destroy(&b);
}

/* 2023 reads the tables valid in 2023: the dwelling was hors QPV, and the
 * CIA target (from 2024) does not apply yet. */
static void test_bilan_past_year_uses_tables_valid_then(void **state)
{
    bilan_t *b = s_run(*state, period_year(2023), NULL, NULL);
    assert_int_equal(b->total.attributions, 1);
    assert_int_equal(b->total.leases, 1);
    s_check_row(b, BILAN_BY_QPV, "hors_qpv", 1, 0, 0, 1, 1);
    const bilan_epci_t *e = &b->epcis[0];
    s_check_objective(e, REFDATA_OBJ_Q1_HORS_QPV, false, EPCI, "", 1, 1, 250, "pass");
    for (size_t i = 0; i < e->n_objectives; i++)
        assert_false(e->objectives[i].local);
    assert_int_equal(e->thresholds[0].year, 2023);
    assert_int_equal(e->thresholds[0].cents, 1052000);
    assert_int_equal(e->qpv_reference, 2);
    bilan_destroy(&b);
}

/* Objectives followed quarterly: in Q2 2024 the only lease hors QPV is the
 * ANRU rehousing, which counts; in Q1 there is none. */
static void test_bilan_quarter(void **state)
{
    bilan_t *b = s_run(*state, period_quarter(2024, 2), NULL, NULL);
    assert_string_equal(b->reference_date, "2024-06-30");
    assert_int_equal(b->n_months, 3);
    assert_int_equal(b->months[0].month, 4);
    assert_int_equal(b->total.attributions, 2);
    assert_int_equal(b->total.leases, 2);
    const bilan_epci_t *e = &b->epcis[0];
    s_check_objective(e, REFDATA_OBJ_Q1_HORS_QPV, false, EPCI, "", 1, 1, 250, "pass");
    assert_int_equal(s_objective(e, REFDATA_OBJ_Q1_HORS_QPV, false, EPCI, "")->anru, 1);
    s_check_objective(e, REFDATA_OBJ_NON_Q1_EN_QPV, false, EPCI, "", 1, 1, 500, "pass");
    bilan_destroy(&b);

    b = s_run(*state, period_quarter(2024, 1), NULL, NULL);
    e = &b->epcis[0];
    s_check_objective(e, REFDATA_OBJ_Q1_HORS_QPV, false, EPCI, "", 0, 0, 250, "no_data");
    s_check_objective(e, REFDATA_OBJ_NON_Q1_EN_QPV, false, EPCI, "", 0, 1, 500, "fail");
    s_check_objective(e, REFDATA_OBJ_PRIORITAIRES, false, EPCI, ETAT, 1, 1, 250, "pass");
    bilan_destroy(&b);
}

/* Orientations, attributions and leases per month of 2024. */
static void test_bilan_monthly_flow(void **state)
{
    bilan_t *b = s_run(*state, period_year(2024), NULL, NULL);
    assert_int_equal(b->n_months, 12);
    static const uint32_t freed[12] = {1, 0, 1, 1, 0, 1, 0, 1, 1, 1, 0, 0};
    static const uint32_t orient[12] = {0, 1, 0, 0, 1, 0, 1, 0, 0, 2, 0, 0};
    static const uint32_t attr[12] = {0, 1, 0, 1, 1, 0, 1, 0, 1, 1, 1, 0};
    static const uint32_t leases[12] = {0, 0, 1, 1, 0, 1, 0, 0, 0, 1, 1, 1};
    for (int m = 0; m < 12; m++) {
        assert_int_equal(b->months[m].year, 2024);
        assert_int_equal(b->months[m].month, m + 1);
        if (b->months[m].freed != freed[m] || b->months[m].orientations != orient[m] ||
            b->months[m].attributions != attr[m] || b->months[m].leases != leases[m])
            fail_msg("month %d: %u %u %u %u, expected %u %u %u %u", m + 1, b->months[m].freed,
                     b->months[m].orientations, b->months[m].attributions, b->months[m].leases,
                     freed[m], orient[m], attr[m], leases[m]);
    }
    bilan_destroy(&b);
}

/* The analyses: refusals by residence, days vacant, candidates presented
 * repeatedly and never chosen, Q1 candidates in proposals hors QPV. */
static void test_bilan_analyses(void **state)
{
    bilan_t *b = s_run(*state, period_year(2024), NULL, NULL);
    assert_int_equal(b->n_refusals, 1);
    assert_string_equal(b->refusals[0].residence_id, "RES-A");
    assert_string_equal(b->refusals[0].commune_insee, ANNECY);
    assert_int_equal(b->refusals[0].total, 1);
    assert_int_equal(
        b->refusals[0].by_motif[FLUXBUS__V1__REFUS_MOTIF__REFUS_MOTIF_LOYER_TROP_ELEVE], 1);
    assert_string_equal(bilan_refus_key(2), "loyer_trop_eleve");
    /* Freed to lease: 60, 40, 51, 42, 61, 51 days. */
    assert_int_equal(b->n_vacant, 3);
    assert_string_equal(b->vacant[0].key, "");
    assert_int_equal(b->vacant[0].leases, 6);
    assert_int_equal(b->vacant[0].mean_x10, 508);
    assert_int_equal(b->vacant[0].median, 51);
    assert_int_equal(b->vacant[0].min, 40);
    assert_int_equal(b->vacant[0].max, 61);
    assert_string_equal(b->vacant[1].key, ANNECY);
    assert_int_equal(b->vacant[1].leases, 4);
    assert_int_equal(b->vacant[1].median, 55); /* 42 51 60 61 */
    assert_string_equal(b->vacant[2].key, SEYNOD);
    assert_int_equal(b->vacant[2].mean_x10, 455); /* 40 51 */
    /* N8: twice, never attributed; N4's standby rank is not a choice either,
     * but it was presented once. */
    assert_int_equal(b->n_repeated, 1);
    assert_string_equal(b->repeated[0].nur, "N8");
    assert_int_equal(b->repeated[0].presentations, 2);
    assert_string_equal(b->repeated[0].last_presented, "2024-10-05");
    assert_non_null(strstr(b->repeated[0].reservataires, ETAT));
    assert_non_null(strstr(b->repeated[0].reservataires, AL));
    /* Designations hors QPV: v-2024-02 (N-ANRU, the bailleur's own
     * designation of the household it rehouses, quartile not given, hors
     * QPV by its commune), v-2024-04 (N5 Q2, N8 Q3), v-2024-05 (N6 Q1),
     * v-2024-06 (N7 Q2, N8 Q3), v-2024-07 (N10 Q4, hors QPV by its
     * commune); v-2024-01 and v-2024-03 are in QPV. */
    assert_int_equal(b->q1_proposals.candidates, 7);
    assert_int_equal(b->q1_proposals.q1_candidates, 1);
    assert_int_equal(b->q1_proposals.proposals, 5);
    assert_int_equal(b->q1_proposals.proposals_with_q1, 1);
    bilan_destroy(&b);
}

/* Filters: another bailleur or another EPCI gives an empty bilan; the
 * bailleur by SIREN or actor id gives the same. */
static void test_bilan_filters(void **state)
{
    bilan_t *b = s_run(*state, period_year(2024), "bailleur:999999999", NULL);
    assert_int_equal(b->total.attributions, 0);
    assert_int_equal(b->n_epcis, 0);
    assert_int_equal(b->n_months, 12);
    bilan_destroy(&b);
    b = s_run(*state, period_year(2024), NULL, "200000172");
    assert_int_equal(b->total.leases, 0);
    bilan_destroy(&b);
    b = s_run(*state, period_year(2024), "552046955", EPCI);
    assert_int_equal(b->total.attributions, 7);
    bilan_destroy(&b);
    b = s_run(*state, period_year(2024), B, NULL);
    assert_int_equal(b->total.leases, 6);
    bilan_destroy(&b);
}

/* A territory (the broker's answer to an observer or a commune): only the
 * dwellings of its communes, and no convention's progress. */
static void test_bilan_communes_filter(void **state)
{
    s_fix_t *f = *state;
    bilan_query_t q = {.period = period_year(2024), .communes = SEYNOD};
    char err[256];
    bilan_t *b = bilan_run(f->db, &q, err, sizeof err);
    assert_non_null(b);
    assert_int_equal(b->total.attributions, 2);
    assert_int_equal(b->total.hors_flux, 1);
    assert_int_equal(b->total.leases, 2);
    assert_int_equal(b->total.orientations, 1);
    for (size_t i = 0; i < b->by[BILAN_BY_RESERVATAIRE].n; i++) {
        assert_string_not_equal(b->by[BILAN_BY_RESERVATAIRE].rows[i].key, AL);
        assert_false(b->by[BILAN_BY_RESERVATAIRE].rows[i].has_objective);
    }
    bilan_destroy(&b);
    q.communes = " " ANNECY ", " SEYNOD ",";
    b = bilan_run(f->db, &q, err, sizeof err);
    assert_non_null(b);
    assert_int_equal(b->total.attributions, 7);
    bilan_destroy(&b);
    q.communes = "74999";
    b = bilan_run(f->db, &q, err, sizeof err);
    assert_non_null(b);
    assert_int_equal(b->total.attributions, 0);
    assert_int_equal(b->n_epcis, 0);
    bilan_destroy(&b);
}

/* Without reference data the figures stand, with no target and the
 * messages' QPV statuses. */
/* A fresh store with the reference data and the 2024 conventions. */
static void s_open_fresh(s_fix_t *f, const char *name)
{
    memset(f, 0, sizeof *f);
    assert_int_equal(tmpdir_make(f->dir, sizeof f->dir, name), 0);
    char path[128], err[256] = "";
    snprintf(path, sizeof path, "%s/store.db", f->dir);
    f->store = store_open(path, err, sizeof err);
    assert_non_null(f->store);
    f->db = store_db(f->store);
    f->ledger = ledger_open(f->db, err, sizeof err);
    assert_non_null(f->ledger);
    s_reference_data(f);
    s_conventions_2024(f);
}

/* One dwelling oriented to Action Logement, one household designated,
 * attributed with the decision's Q1 flag, leased with the lease's. */
static void s_let(s_fix_t *f, const s_dwelling_t *d, const s_household_t *h, bool decision_q1,
                  bool lease_q1, int month)
{
    s_libere(f, d, s_at(2024, month, 1));
    s_orient(f, d->vacancy, AL, s_at(2024, month, 2));
    s_designate(f, d->vacancy, AL, AL, h, 1, 1, s_at(2024, month, 5));
    s_attribute(f, d->vacancy, h->nur, AL, decision_q1, false, s_at(2024, month, 10));
    s_bail(f, d->vacancy, h->nur, AL, lease_q1, false, s_at(2024, month, 20));
}

/* A household of unknown quartile attributed in QPV is never counted as
 * Q2-Q4: left out of non_q1_en_qpv and reported apart. Attributions take
 * the decision's Q1 flag, leases the lease's (no last writer wins). */
static void test_bilan_unknown_quartile_and_lease_q1(void **state)
{
    (void)state;
    s_fix_t f;
    s_open_fresh(&f, "bilanq");
    static const s_dwelling_t in_qpv = {"u-1", "RPLS-Q", ANNECY,    "RES-QPV",      0,
                                        0,     TYP(T4),  FIN(PLUS), PER(1949_1974), 0};
    static const s_dwelling_t out1 = {"u-2", "RPLS-OUT-1", ANNECY,    "RES-A",         OUT,
                                      2024,  TYP(T2),      FIN(PLUS), PER(2013_LATER), 0};
    static const s_dwelling_t out2 = {"u-3", "RPLS-OUT-2", ANNECY,   "RES-C",        OUT,
                                      2024,  TYP(T1),      FIN(PLS), PER(2000_2012), 0};
    static const s_household_t unknown1 = {"U1", 0, false, false},
                               unknown2 = {"U2", 0, false, false},
                               unknown3 = {"U3", 0, false, false};
    s_let(&f, &in_qpv, &unknown1, false, false, 3);
    s_let(&f, &out1, &unknown2, false, true, 4); /* Q1 at the lease only */
    s_let(&f, &out2, &unknown3, true, false, 5); /* Q1 at the decision only */
    bilan_t *b = s_run(&f, period_year(2024), NULL, NULL);
    const bilan_epci_t *e = &b->epcis[0];
    const bilan_objective_t *o = s_objective(e, REFDATA_OBJ_NON_Q1_EN_QPV, false, EPCI, "");
    assert_int_equal(o->unknown_quartile, 1);
    assert_int_equal(o->numerator, 0);
    assert_int_equal(o->denominator, 0);
    assert_string_equal(o->status, "no_data");
    /* Leases hors QPV: u-2's lease says Q1, u-3's does not. */
    s_check_objective(e, REFDATA_OBJ_Q1_HORS_QPV, false, EPCI, "", 1, 2, 250, "pass");
    /* Attributions to Q1 households: u-3's decision only. */
    assert_int_equal(b->total.attributions, 3);
    assert_int_equal(b->total.q1, 1);
    s_check_row(b, BILAN_BY_TYPOLOGIE, "T1", 1, 0, 0, 1, 1); /* u-3 */
    s_check_row(b, BILAN_BY_TYPOLOGIE, "T2", 1, 0, 0, 0, 1); /* u-2 */
    bilan_destroy(&b);
    ledger_close(&f.ledger);
    store_destroy(&f.store);
    tmpdir_remove(f.dir);
}

static void test_bilan_without_reference_data(void **state)
{
    (void)state;
    s_fix_t f = {0};
    assert_int_equal(tmpdir_make(f.dir, sizeof f.dir, "bilan0"), 0);
    char path[128], err[256] = "";
    snprintf(path, sizeof path, "%s/store.db", f.dir);
    f.store = store_open(path, err, sizeof err);
    assert_non_null(f.store);
    f.db = store_db(f.store);
    f.ledger = ledger_open(f.db, err, sizeof err);
    assert_non_null(f.ledger);
    s_script(&f);
    bilan_t *b = s_run(&f, period_year(2024), NULL, NULL);
    const bilan_epci_t *e = &b->epcis[0];
    assert_false(e->thresholds[0].known);
    assert_string_equal(e->epci_name, "");
    /* v-2024-02, -03 and -07 say nothing of QPV: unknown; v-2024-01 says
     * hors QPV (2015 map), so its Q1 lease counts here. */
    s_check_objective(e, REFDATA_OBJ_Q1_HORS_QPV, false, EPCI, "", 2, 3, 0, "no_target");
    assert_int_equal(s_objective(e, REFDATA_OBJ_Q1_HORS_QPV, false, EPCI, "")->unknown_qpv, 3);
    assert_int_equal(e->qpv_unknown, 6);
    assert_int_equal(e->n_map_years, 2);
    bilan_destroy(&b);
    ledger_close(&f.ledger);
    store_destroy(&f.store);
    tmpdir_remove(f.dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bilan_year_breakdowns_line_by_line),
        cmocka_unit_test(test_bilan_year_objectives_legal_and_local),
        cmocka_unit_test(test_bilan_past_year_uses_tables_valid_then),
        cmocka_unit_test(test_bilan_quarter),
        cmocka_unit_test(test_bilan_monthly_flow),
        cmocka_unit_test(test_bilan_analyses),
        cmocka_unit_test(test_bilan_filters),
        cmocka_unit_test(test_bilan_communes_filter),
        cmocka_unit_test(test_bilan_without_reference_data),
        cmocka_unit_test(test_bilan_unknown_quartile_and_lease_q1),
    };
    return cmocka_run_group_tests(tests, s_setup, s_teardown);
}
