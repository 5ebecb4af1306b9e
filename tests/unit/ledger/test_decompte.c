/* test_decompte.c - the décompte (ledger/decompte.c) on a scripted year of
 * facts recorded from real payloads through ledger_record on a fresh store:
 * the three counting methods give different counts, checked exactly, for
 * the year, a quarter and both halves; an amendment on 1 July changes the
 * official method, the objective and how remises count; a per-mille
 * objective on a limited territory with hors-flux dwellings and a first
 * letting left out; gestion déléguée and partenariale; a multipartite
 * convention's commune sheets; an OFFRES objective, counted and used as the
 * cap of the orientations; and the fairness table of the issue (three
 * réservataires with 50/30/20 % of the orientations, every dwelling refused
 * three times or more oriented to the 20 % one); hundreds of communes, a
 * row each. */
#include "ledger_script.h"

#include "decompte.h"

#define C_AL "C-AL-74-2025"
#define C_ETAT "C-ETAT-74-2025"
#define N(x) "074012500000000" x /* a NUR */

#define MODE(x) FLUXBUS__V1__MODE_GESTION__MODE_GESTION_##x
#define MOTIF(x) FLUXBUS__V1__HORS_FLUX_MOTIF__HORS_FLUX_MOTIF_##x
#define COUNTED FLUXBUS__V1__DEADLINE_COUNTING__DEADLINE_COUNTING_COUNTED
#define NOT_COUNTED FLUXBUS__V1__DEADLINE_COUNTING__DEADLINE_COUNTING_NOT_COUNTED
#define METHOD(x) FLUXBUS__V1__COUNTING_METHOD__COUNTING_METHOD_##x
#define DECISION(x) FLUXBUS__V1__CALEOL_DECISION_CODE__CALEOL_DECISION_CODE_##x
#define KIND(x) FLUXBUS__V1__OBJECTIVE_KIND__OBJECTIVE_KIND_##x
#define UNIT(x) FLUXBUS__V1__OBJECTIVE_UNIT__OBJECTIVE_UNIT_##x

static int64_t s_d(int y, int m, int d)
{
    return script_at(y, m, d);
}

/* Action Logement, Haute-Savoie, 2025, sent by `sender`. Revision 1: 10
 * placements (8..12), counted at the lease, a CALEOL agreement only after a
 * visit, an expired deadline counted, a remise not. Revision 2 from 1 July
 * (clause de revoyure): 8 placements (6..10), counted at the CALEOL
 * agreement, and a remise now counts. */
static void s_convention_al_by(script_t *s, unsigned revision, const char *sender, int64_t at)
{
    Fluxbus__V1__ConventionObjective o = FLUXBUS__V1__CONVENTION_OBJECTIVE__INIT;
    o.kind = KIND(PLACEMENTS);
    o.unit = UNIT(COUNT);
    o.value = revision == 1 ? 10 : 8;
    o.min = revision == 1 ? 8 : 6;
    o.max = revision == 1 ? 12 : 10;
    Fluxbus__V1__ConventionObjective *objectives[] = {&o};
    Fluxbus__V1__Date from = FLUXBUS__V1__DATE__INIT;
    from.year = 2025;
    from.month = revision == 1 ? 1 : 7;
    from.day = 1;
    Fluxbus__V1__Convention c = FLUXBUS__V1__CONVENTION__INIT;
    c.convention_id = C_AL;
    c.revision = revision;
    c.bailleur_actor_id = SC_BAILLEUR;
    c.bailleur_siren = "552046955";
    c.reservataire_actor_id = SC_AL;
    c.departement = "74";
    c.year = 2025;
    c.contingent = FLUXBUS__V1__CONTINGENT_TYPE__CONTINGENT_TYPE_ACTION_LOGEMENT;
    c.n_objectives = 1;
    c.objectives = objectives;
    c.counting_method = revision == 1 ? METHOD(BAIL_SIGNE) : METHOD(PASSAGE_CALEOL);
    c.caleol_requires_visit = true;
    c.expired_deadline_counting = COUNTED;
    c.remise_counting = revision == 1 ? NOT_COUNTED : COUNTED;
    c.deadline_days = 15;
    c.deadline_days_first_letting = 30;
    c.effective_from = &from;
    c.amendment_note = revision == 1 ? "" : "clause de revoyure du 20 juin 2025";
    script_convention_from(s, sender, &c, at);
}

/* Revision 1 from the bailleur; revision 2 from both parties (an amendment
 * is in force once countersigned). */
static void s_convention_al(script_t *s, unsigned revision, int64_t at)
{
    s_convention_al_by(s, revision, SC_BAILLEUR, at);
    if (revision >= 2)
        s_convention_al_by(s, revision, SC_AL, at);
}

/* The State's contingent on Annecy (74010) and Annecy-le-Vieux (74011):
 * 25 % (20..30 %) of the dwellings freed, counted at the orientation
 * accepted, designation delegated to the bailleur. */
static void s_convention_etat(script_t *s, int64_t at)
{
    Fluxbus__V1__ConventionObjective o = FLUXBUS__V1__CONVENTION_OBJECTIVE__INIT;
    o.kind = KIND(PLACEMENTS);
    o.unit = UNIT(PER_MILLE);
    o.value = 250;
    o.min = 200;
    o.max = 300;
    Fluxbus__V1__ConventionObjective *objectives[] = {&o};
    char *territory[] = {"74010", "74011"};
    Fluxbus__V1__Convention c = FLUXBUS__V1__CONVENTION__INIT;
    c.convention_id = C_ETAT;
    c.revision = 1;
    c.bailleur_actor_id = SC_BAILLEUR;
    c.reservataire_actor_id = SC_ETAT;
    c.departement = "74";
    c.year = 2025;
    c.contingent = FLUXBUS__V1__CONTINGENT_TYPE__CONTINGENT_TYPE_ETAT_PRIORITAIRE;
    c.n_objectives = 1;
    c.objectives = objectives;
    c.counting_method = METHOD(ORIENTATION_ACCEPTEE);
    c.gestion_deleguee = true;
    c.n_territory_insee = 2;
    c.territory_insee = territory;
    script_convention(s, &c, at);
}

/* The scripted year, in the order the broker would have accepted it.
 *
 * Action Logement (C-AL), all in Annecy (74010):
 *   V8 freed 2024, accepted Jan, CALEOL (after a visit) Jan, lease Feb 2025
 *   V1 accepted Feb, visit, CALEOL Mar, lease Apr
 *   V2 accepted Mar, CALEOL Apr without a visit, lease May
 *   V3 accepted May, visit, CALEOL Jun, refused, no lease
 *   V6 accepted Jun, remise Jun (revision 1: not counted)
 *   V7 oriented Jul, deadline expired Jul (counted)
 *   V9 accepted Aug, remise Aug (revision 2: counted)
 *   V4 accepted Oct, visit, CALEOL Dec, lease Jan 2026
 *   V5 accepted Nov, designated, nothing more
 * The State (C-ETAT): E1 (74011) accepted Mar; E2 designated by the
 * bailleur in gestion déléguée Apr; E3 (74011) declined Sep.
 * Not in any flux: H1 (mutation interne), F1 (first letting en stock);
 * X1 freed in Sallanches (74256), outside the State's territory. */
static void s_script_year(script_t *s)
{
    s_convention_al(s, 1, s_d(2024, 12, 1));
    script_libere(s, "V8", "74010", 0, 0, s_d(2024, 12, 1));
    /* Oriented once the 2025 convention is in force (its year). */
    script_orient(s, "V8", SC_AL, C_AL, s_d(2025, 1, 2));
    script_ack(s, "V8", SC_AL, s_d(2025, 1, 3));
    script_designate(s, "V8", N("8"), SC_AL, s_d(2025, 1, 6));
    script_visit(s, "V8", N("8"), s_d(2025, 1, 8));
    script_decide(s, "V8", N("8"), SC_AL, 0, s_d(2025, 1, 15));
    s_convention_etat(s, s_d(2025, 1, 20));
    script_answer(s, "V8", N("8"), false, s_d(2025, 1, 27));
    script_libere(s, "V1", "74010", 0, 0, s_d(2025, 2, 1));
    script_orient(s, "V1", SC_AL, C_AL, s_d(2025, 2, 3));
    script_ack(s, "V1", SC_AL, s_d(2025, 2, 4));
    script_designate(s, "V1", N("1"), SC_AL, s_d(2025, 2, 10));
    script_bail(s, "V8", N("8"), SC_AL, s_d(2025, 2, 10));
    script_visit(s, "V1", N("1"), s_d(2025, 2, 20));
    script_libere(s, "V2", "74010", 0, 0, s_d(2025, 3, 1));
    script_libere(s, "E1", "74011", 0, 0, s_d(2025, 3, 1));
    script_orient(s, "V2", SC_AL, C_AL, s_d(2025, 3, 2));
    script_orient(s, "E1", SC_ETAT, C_ETAT, s_d(2025, 3, 2));
    script_ack(s, "V2", SC_AL, s_d(2025, 3, 3));
    script_ack(s, "E1", SC_ETAT, s_d(2025, 3, 3));
    script_decide(s, "V1", N("1"), SC_AL, 0, s_d(2025, 3, 5));
    script_designate(s, "V2", N("2"), SC_AL, s_d(2025, 3, 10));
    script_answer(s, "V1", N("1"), false, s_d(2025, 3, 16));
    script_bail(s, "V1", N("1"), SC_AL, s_d(2025, 4, 1));
    script_libere(s, "E2", "74010", 0, 0, s_d(2025, 4, 1));
    script_decide(s, "V2", N("2"), SC_AL, 0, s_d(2025, 4, 2));
    script_orient(s, "E2", SC_ETAT, C_ETAT, s_d(2025, 4, 2));
    script_designate_by(s, SC_BAILLEUR, "E2", N("E2"), SC_ETAT, true, s_d(2025, 4, 3));
    script_answer(s, "V2", N("2"), false, s_d(2025, 4, 14));
    script_libere(s, "V3", "74010", 0, 0, s_d(2025, 5, 1));
    script_libere(s, "H1", "74010", MODE(HORS_FLUX), MOTIF(MUTATION_INTERNE), s_d(2025, 5, 1));
    script_orient(s, "V3", SC_AL, C_AL, s_d(2025, 5, 2));
    script_ack(s, "V3", SC_AL, s_d(2025, 5, 3));
    script_designate(s, "V3", N("3"), SC_AL, s_d(2025, 5, 5));
    script_bail(s, "V2", N("2"), SC_AL, s_d(2025, 5, 5));
    script_visit(s, "V3", N("3"), s_d(2025, 5, 10));
    script_libere(s, "V6", "74010", 0, 0, s_d(2025, 6, 1));
    script_libere(s, "F1", "74010", MODE(STOCK), 0, s_d(2025, 6, 1));
    script_orient(s, "V6", SC_AL, C_AL, s_d(2025, 6, 2));
    script_ack(s, "V6", SC_AL, s_d(2025, 6, 3));
    script_decide(s, "V3", N("3"), SC_AL, 0, s_d(2025, 6, 10));
    script_remise(s, "V6", SC_AL, s_d(2025, 6, 15));
    s_convention_al(s, 2, s_d(2025, 6, 20));
    script_answer(s, "V3", N("3"), true, s_d(2025, 6, 22));
    script_non_suite(s, "V3", N("3"), s_d(2025, 6, 23));
    script_libere(s, "V7", "74010", 0, 0, s_d(2025, 7, 1));
    script_libere(s, "X1", "74256", 0, 0, s_d(2025, 7, 1));
    script_orient(s, "V7", SC_AL, C_AL, s_d(2025, 7, 2));
    script_expire(s, "V7", SC_AL, s_d(2025, 7, 20));
    script_libere(s, "V9", "74010", 0, 0, s_d(2025, 8, 1));
    script_orient(s, "V9", SC_AL, C_AL, s_d(2025, 8, 2));
    script_ack(s, "V9", SC_AL, s_d(2025, 8, 3));
    script_remise(s, "V9", SC_AL, s_d(2025, 8, 20));
    script_libere(s, "E3", "74011", 0, 0, s_d(2025, 9, 1));
    script_orient(s, "E3", SC_ETAT, C_ETAT, s_d(2025, 9, 2));
    script_decline(s, "E3", SC_ETAT, s_d(2025, 9, 3));
    script_libere(s, "V4", "74010", 0, 0, s_d(2025, 10, 1));
    script_orient(s, "V4", SC_AL, C_AL, s_d(2025, 10, 2));
    script_ack(s, "V4", SC_AL, s_d(2025, 10, 3));
    script_designate(s, "V4", N("4"), SC_AL, s_d(2025, 10, 10));
    script_visit(s, "V4", N("4"), s_d(2025, 10, 20));
    script_libere(s, "V5", "74010", 0, 0, s_d(2025, 11, 1));
    script_orient(s, "V5", SC_AL, C_AL, s_d(2025, 11, 2));
    script_ack(s, "V5", SC_AL, s_d(2025, 11, 3));
    script_designate(s, "V5", N("5"), SC_AL, s_d(2025, 11, 10));
    script_decide(s, "V4", N("4"), SC_AL, 0, s_d(2025, 12, 10));
    script_answer(s, "V4", N("4"), false, s_d(2025, 12, 22));
    script_bail(s, "V4", N("4"), SC_AL, s_d(2026, 1, 10));
}

static int s_setup(void **state)
{
    script_t *s = calloc(1, sizeof *s);
    if (!s)
        return -1;
    script_open(s);
    s_script_year(s);
    *state = s;
    return 0;
}

static int s_teardown(void **state)
{
    script_close(*state);
    free(*state);
    return 0;
}

static decompte_t *s_run(script_t *s, period_t p, const char *reservataire, unsigned threshold)
{
    decompte_query_t q = {.period = p,
                          .bailleur = SC_BAILLEUR,
                          .reservataire = reservataire,
                          .hard_to_let_threshold = threshold};
    char err[256] = "";
    decompte_t *d = decompte_run(ledger_db(s->ledger), &q, err, sizeof err);
    if (!d)
        fail_msg("decompte_run: %s", err);
    return d;
}

static const decompte_convention_t *s_item(const decompte_t *d, const char *id)
{
    for (size_t i = 0; i < d->n_items; i++)
        if (strcmp(d->items[i].rev->convention_id, id) == 0)
            return &d->items[i];
    fail_msg("no convention %s in the décompte", id);
    return NULL;
}

static const decompte_line_t *s_line(const decompte_convention_t *item, const char *party)
{
    for (size_t i = 0; i < item->n_lines; i++)
        if (strcmp(item->lines[i].party, party) == 0)
            return &item->lines[i];
    fail_msg("no line for %s", party);
    return NULL;
}

static const decompte_row_t *s_row(const decompte_row_t *rows, size_t n, const char *key)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(rows[i].key, key) == 0)
            return &rows[i];
    fail_msg("no row %s", key);
    return NULL;
}

static void s_assert_counts(const decompte_tally_t *t, uint32_t orientation, uint32_t caleol,
                            uint32_t bail, uint32_t official)
{
    assert_int_equal(t->counts[DECOMPTE_ORIENTATION_ACCEPTEE], orientation);
    assert_int_equal(t->counts[DECOMPTE_PASSAGE_CALEOL], caleol);
    assert_int_equal(t->counts[DECOMPTE_BAIL_SIGNE], bail);
    assert_int_equal(t->counts[DECOMPTE_OFFICIAL], official);
}

/* The year: the three methods give 7, 6 and 5, the convention's own rules 6. */
static void test_decompte_year_counts_three_methods_apart(void **state)
{
    decompte_t *d = s_run(*state, period_year(2025), NULL, 0);
    const decompte_convention_t *al = s_item(d, C_AL);
    assert_int_equal(al->rev->revision, 2); /* in force on 31 December */
    assert_int_equal(al->n_lines, 1);
    const decompte_tally_t *t = &s_line(al, SC_AL)->tally;
    /* orientation acceptée: V8 (freed 2024, accepted in January) V1 V2 V3 V4
     * V5, V7 (expiry counted), V9 (accepted, its remise counted); not V6
     * (given back, not counted).
     * CALEOL after a visit: V1 V3 V4 V8, V7 and V9 by their hand-back; not V2
     * (no visit). Bail: V1 V2 V8, V7 and V9; V4's lease is in 2026.
     * Official: V1 V2 V8 at the lease (revision 1), V4 at the CALEOL
     * (revision 2), V7, V9; not V3, agreed in CALEOL in June when only
     * the lease counted. */
    s_assert_counts(t, 8, 6, 5, 6);
    assert_int_equal(t->orientations, 9);
    assert_int_equal(t->acks, 8);
    assert_int_equal(t->declines, 0);
    assert_int_equal(t->designations, 6);
    assert_int_equal(t->remises, 2);
    assert_int_equal(t->expiries, 1);
    assert_int_equal(t->caleol_attributions, 5);
    assert_int_equal(t->caleol_non_attributions, 0);
    assert_int_equal(t->refusals, 1);
    assert_int_equal(t->non_suites, 1);
    assert_int_equal(t->leases, 3);
    assert_int_equal(t->offres, 9);
    /* Base: every 2025 dwelling of the département but H1 and F1. */
    assert_int_equal(t->freed, 12);
    assert_int_equal(t->hors_flux, 2);
    /* Objective of revision 2: 8 (6..10); 6 done. */
    const decompte_line_t *l = s_line(al, SC_AL);
    assert_int_equal(l->n_objectives, 1);
    const decompte_objective_t *o = &l->objectives[0];
    assert_int_equal(o->target, 8);
    assert_int_equal(o->target_min, 6);
    assert_int_equal(o->target_max, 10);
    assert_int_equal(o->done, 6);
    assert_int_equal(o->remaining, 2);
    assert_string_equal(o->status, "in_progress");
    s_assert_counts(&al->total.tally, 8, 6, 5, 6);
    assert_int_equal(al->total.objectives[0].target, 8);

    const decompte_row_t *r = s_row(d->reservataires, d->n_reservataires, SC_AL);
    s_assert_counts(&r->tally, 8, 6, 5, 6);
    /* Its dwellings freed: those of its one convention's scope. */
    assert_int_equal(r->tally.freed, 12);
    assert_int_equal(r->tally.hors_flux, 2);
    assert_true(r->has_target);
    assert_int_equal(r->target, 8);
    decompte_destroy(&d);
    decompte_destroy(&d); /* safe twice */
}

/* A quarter: counts of its own, the yearly objective prorated by days. */
static void test_decompte_quarter_prorates_the_objective(void **state)
{
    decompte_t *d = s_run(*state, period_quarter(2025, 1), NULL, 0);
    const decompte_convention_t *al = s_item(d, C_AL);
    assert_int_equal(al->rev->revision, 1);
    const decompte_line_t *l = s_line(al, SC_AL);
    /* V8 V1 V2 accepted; V8 V1 agreed in CALEOL; V8's lease. */
    s_assert_counts(&l->tally, 3, 2, 1, 1);
    /* 10 x 90 / 365 = 2.47 -> 2 (half up); the bounds round outwards:
     * 8 -> 1.97 -> 1 (down), 12 -> 2.96 -> 3 (up). One placement: at the
     * minimum, under the target. */
    assert_int_equal(l->objectives[0].target, 2);
    assert_int_equal(l->objectives[0].target_min, 1);
    assert_int_equal(l->objectives[0].target_max, 3);
    assert_string_equal(l->objectives[0].status, "in_progress");
    decompte_destroy(&d);
}

/* The amendment applies from 1 July: each event is read with the revision
 * in force on its day, so the halves add up to the year. */
static void test_decompte_amendment_applies_from_its_date(void **state)
{
    decompte_t *h1 = s_run(*state, period_half(2025, 1), NULL, 0);
    decompte_t *h2 = s_run(*state, period_half(2025, 2), NULL, 0);
    const decompte_line_t *a = s_line(s_item(h1, C_AL), SC_AL);
    const decompte_line_t *b = s_line(s_item(h2, C_AL), SC_AL);
    /* First half, revision 1 (lease): V8 V1 V2 leased; V3's CALEOL does not
     * count, V6's remise does not. */
    s_assert_counts(&a->tally, 4, 3, 3, 3);
    /* Second half, revision 2 (CALEOL): V4 agreed, V7 expired, V9 given back
     * (now counted). */
    s_assert_counts(&b->tally, 4, 3, 2, 3);
    assert_int_equal(s_item(h1, C_AL)->rev->revision, 1);
    assert_int_equal(s_item(h2, C_AL)->rev->revision, 2);
    /* Half of the yearly objective of the revision in force at the end. */
    assert_int_equal(a->objectives[0].target, 5); /* 10 x 181 / 365 = 4.96 */
    assert_int_equal(b->objectives[0].target, 4); /* 8 x 184 / 365 = 4.03 */
    assert_string_equal(b->objectives[0].status, "in_progress");
    decompte_destroy(&h1);
    decompte_destroy(&h2);
}

/* An amendment Action Logement alone sent is a proposal: the décompte
 * reads revision 1 (counted at the lease, 10 placements) until the bailleur
 * countersigns it; then revision 2 (counted at the CALEOL agreement, 8)
 * applies from its date, 1 July, to what happened before the
 * countersignature too. */
static void test_decompte_ignores_an_amendment_not_countersigned(void **state)
{
    (void)state;
    script_t s;
    script_open(&s);
    s_convention_al(&s, 1, s_d(2024, 12, 1));
    s_convention_al_by(&s, 2, SC_AL, s_d(2025, 6, 20));
    script_libere(&s, "V1", "74010", 0, 0, s_d(2025, 7, 1));
    script_orient(&s, "V1", SC_AL, C_AL, s_d(2025, 7, 2));
    script_ack(&s, "V1", SC_AL, s_d(2025, 7, 3));
    script_designate(&s, "V1", N("1"), SC_AL, s_d(2025, 7, 5));
    script_visit(&s, "V1", N("1"), s_d(2025, 7, 10));
    script_decide(&s, "V1", N("1"), SC_AL, 0, s_d(2025, 8, 1));
    decompte_t *d = s_run(&s, period_year(2025), NULL, 0);
    const decompte_convention_t *al = s_item(d, C_AL);
    assert_int_equal(al->rev->revision, 1);
    const decompte_line_t *l = s_line(al, SC_AL);
    s_assert_counts(&l->tally, 1, 1, 0, 0); /* at the lease: not yet */
    assert_int_equal(l->objectives[0].target, 10);
    decompte_destroy(&d);

    s_convention_al_by(&s, 2, SC_BAILLEUR, s_d(2025, 9, 1));
    d = s_run(&s, period_year(2025), NULL, 0);
    al = s_item(d, C_AL);
    assert_int_equal(al->rev->revision, 2);
    l = s_line(al, SC_AL);
    s_assert_counts(&l->tally, 1, 1, 0, 1); /* agreed in August, under revision 2 */
    assert_int_equal(l->objectives[0].target, 8);
    decompte_destroy(&d);
    script_close(&s);
}

/* 25 % of the dwellings freed on the State's two communes: 11 freed (H1
 * and F1 left out, X1 elsewhere), so 2.75 -> 3 owed; E1 accepted and E2
 * designated by the bailleur count, E3 was declined. */
static void test_decompte_per_mille_objective_on_its_territory(void **state)
{
    decompte_t *d = s_run(*state, period_year(2025), NULL, 0);
    const decompte_convention_t *etat = s_item(d, C_ETAT);
    const decompte_line_t *l = s_line(etat, SC_ETAT);
    assert_int_equal(l->tally.freed, 11);
    assert_int_equal(l->tally.hors_flux, 2);
    s_assert_counts(&l->tally, 2, 0, 0, 2);
    assert_int_equal(l->tally.orientations, 3);
    assert_int_equal(l->tally.declines, 1);
    assert_int_equal(l->tally.offres, 2);
    assert_int_equal(l->tally.deleguee, 1);
    const decompte_objective_t *o = &l->objectives[0];
    assert_int_equal(o->unit, UNIT(PER_MILLE));
    assert_int_equal(o->base, 11);
    assert_int_equal(o->target, 3);
    assert_int_equal(o->target_min, 2); /* 2.2, down */
    assert_int_equal(o->target_max, 4); /* 3.3, up */
    assert_int_equal(o->done, 2);
    assert_string_equal(o->status, "in_progress");
    /* The State's row: the dwellings freed on its territory, not X1. */
    const decompte_row_t *r = s_row(d->reservataires, d->n_reservataires, SC_ETAT);
    assert_int_equal(r->tally.freed, 11);
    assert_int_equal(r->tally.hors_flux, 2);
    decompte_destroy(&d);
}

/* A réservataire with two conventions of the bailleur over the same
 * territory (2025's, and 2026's signed early): the dwellings freed in 2025
 * count once in its row, though both lines hold them. */
static void test_decompte_reservataire_row_counts_each_freed_dwelling_once(void **state)
{
    script_t *s = *state;
    Fluxbus__V1__Convention c = script_convention_of("C-AL-2026", SC_AL, 2026, METHOD(BAIL_SIGNE));
    c.departement = "74";
    script_convention(s, &c, s_d(2025, 12, 1));
    period_t p;
    assert_true(period_make((period_date_t){2025, 1, 1}, (period_date_t){2026, 12, 31}, &p));
    decompte_t *d = s_run(s, p, NULL, 0);
    assert_int_equal(s_line(s_item(d, C_AL), SC_AL)->tally.freed, 12);
    assert_int_equal(s_line(s_item(d, "C-AL-2026"), SC_AL)->tally.freed, 12);
    const decompte_row_t *r = s_row(d->reservataires, d->n_reservataires, SC_AL);
    assert_int_equal(r->tally.freed, 12);
    assert_int_equal(r->tally.hors_flux, 2);
    decompte_destroy(&d);
}

/* Per commune: the dwellings freed there, and what was counted there. */
static void test_decompte_per_commune(void **state)
{
    decompte_t *d = s_run(*state, period_year(2025), NULL, 0);
    const decompte_row_t *annecy = s_row(d->communes, d->n_communes, "74010");
    assert_int_equal(annecy->tally.freed, 9); /* V1-V7, V9, E2 */
    assert_int_equal(annecy->tally.hors_flux, 2);
    s_assert_counts(&annecy->tally, 9, 6, 5, 7); /* AL's and E2 */
    const decompte_row_t *vieux = s_row(d->communes, d->n_communes, "74011");
    assert_int_equal(vieux->tally.freed, 2);
    s_assert_counts(&vieux->tally, 1, 0, 0, 1); /* E1 */
    assert_int_equal(s_row(d->communes, d->n_communes, "74256")->tally.freed, 1);
    decompte_destroy(&d);
}

/* Hundreds of communes, each with one to three dwellings freed, in an
 * order that is not theirs: one row each (found again, not added twice,
 * while the rows' index grows), with its own count, sorted by commune. */
static void test_decompte_many_communes_one_row_each(void **state)
{
    (void)state;
    enum { S_COMMUNES = 300 };
    script_t s;
    script_open(&s);
    for (int round = 0; round < 3; round++)
        for (int i = S_COMMUNES - 1; i >= 0; i--) {
            if (round > i % 3)
                continue;
            char vacancy[32], insee[8];
            snprintf(vacancy, sizeof vacancy, "M%d-%d", i, round);
            snprintf(insee, sizeof insee, "%05d", 74000 + (i * 7) % S_COMMUNES);
            script_libere(&s, vacancy, insee, 0, 0, s_d(2025, 3, 1 + round));
        }
    decompte_t *d = s_run(&s, period_year(2025), NULL, 0);
    assert_int_equal(d->n_communes, S_COMMUNES);
    for (int i = 0; i < S_COMMUNES; i++) {
        char insee[8];
        snprintf(insee, sizeof insee, "%05d", 74000 + (i * 7) % S_COMMUNES);
        assert_int_equal(s_row(d->communes, d->n_communes, insee)->tally.freed, 1 + i % 3);
    }
    for (size_t k = 1; k < d->n_communes; k++)
        assert_true(strcmp(d->communes[k - 1].key, d->communes[k].key) < 0);
    decompte_destroy(&d);
    script_close(&s);
}

/* --reservataire: only its conventions and rows. */
static void test_decompte_reservataire_filter(void **state)
{
    decompte_t *d = s_run(*state, period_year(2025), SC_ETAT, 0);
    assert_int_equal(d->n_items, 1);
    assert_string_equal(d->items[0].rev->convention_id, C_ETAT);
    assert_int_equal(d->n_reservataires, 1);
    assert_string_equal(d->reservataires[0].key, SC_ETAT);
    assert_int_equal(d->n_fairness, 1);
    /* Its share of all orientations of the year: 3 of 12. */
    assert_int_equal(d->fairness_orientations, 12);
    assert_int_equal(d->fairness[0].orientation_share_pm, 250);
    decompte_destroy(&d);
}

/* ---- gestion partenariale: a rule of its own ---------------------------------------- */

static void test_decompte_counting_rule_per_management_mode(void **state)
{
    (void)state;
    script_t s;
    script_open(&s);
    Fluxbus__V1__CountingRule rule = FLUXBUS__V1__COUNTING_RULE__INIT;
    rule.mode = FLUXBUS__V1__MANAGEMENT_MODE__MANAGEMENT_MODE_PARTENARIALE;
    rule.method = METHOD(BAIL_SIGNE);
    Fluxbus__V1__CountingRule *rules[] = {&rule};
    Fluxbus__V1__ConventionObjective share = FLUXBUS__V1__CONVENTION_OBJECTIVE__INIT;
    share.kind = KIND(GESTION_PARTENARIALE);
    share.unit = UNIT(PER_MILLE);
    share.value = 300;
    share.max = 400;
    Fluxbus__V1__ConventionObjective *objectives[] = {&share};
    Fluxbus__V1__Convention c = FLUXBUS__V1__CONVENTION__INIT;
    c.convention_id = "C-P";
    c.revision = 1;
    c.bailleur_actor_id = SC_BAILLEUR;
    c.reservataire_actor_id = SC_AL;
    c.year = 2025;
    c.counting_method = METHOD(ORIENTATION_ACCEPTEE);
    c.n_counting_rules = 1;
    c.counting_rules = rules;
    c.n_objectives = 1;
    c.objectives = objectives;
    script_convention(&s, &c, s_d(2025, 1, 2));
    const char *v[] = {"P1", "P2", "P3"};
    for (int i = 0; i < 3; i++) {
        script_libere(&s, v[i], "74010", 0, 0, s_d(2025, 2, 1 + i));
        script_orient(&s, v[i], SC_AL, "C-P", s_d(2025, 2, 5 + i));
        script_ack(&s, v[i], SC_AL, s_d(2025, 2, 10 + i));
    }
    /* P1 and P2: the bailleur proposes AL's applicants (partenariale). P1
     * is leased, P2 not yet; P3 is designated by AL itself. */
    script_designate_by(&s, SC_BAILLEUR, "P1", N("P1"), SC_AL, false, s_d(2025, 3, 1));
    script_designate_by(&s, SC_BAILLEUR, "P2", N("P2"), SC_AL, false, s_d(2025, 3, 1));
    script_designate(&s, "P3", N("P3"), SC_AL, s_d(2025, 3, 1));
    script_decide(&s, "P1", N("P1"), SC_AL, 0, s_d(2025, 3, 20));
    script_bail(&s, "P1", N("P1"), SC_AL, s_d(2025, 4, 1));
    decompte_t *d = s_run(&s, period_year(2025), NULL, 0);
    const decompte_line_t *l = s_line(s_item(d, "C-P"), SC_AL);
    /* Official: P1 at its lease, P3 at its acceptance; P2 waits for a lease.
     * P1's lease follows its CALEOL attribution (one passage). */
    s_assert_counts(&l->tally, 3, 1, 1, 2);
    assert_int_equal(l->tally.partenariale, 1);
    /* 30 % of the 2 placements = 0.6 -> 1; 1 done. */
    assert_int_equal(l->objectives[0].base, 2);
    assert_int_equal(l->objectives[0].target, 1);
    assert_int_equal(l->objectives[0].done, 1);
    assert_string_equal(l->objectives[0].status, "reached");
    decompte_destroy(&d);
    script_close(&s);
}

/* "CALEOL after a visit" counts an attribution whose candidate visited by
 * the decision's date: a visit after it, or reported after it and dated
 * after, does not make one retroactively, and a later visit does not undo
 * one. V1: decided without a visit, then visited. V2: visited, decided,
 * then a no-show and a second visit. V3: decided, then a visit dated
 * before the decision reported late. */
static void test_decompte_caleol_after_a_visit_counts_visits_dated_by_the_decision(void **state)
{
    (void)state;
    script_t s;
    script_open(&s);
    Fluxbus__V1__Convention c = script_convention_of("C-V", SC_AL, 2025, METHOD(PASSAGE_CALEOL));
    c.caleol_requires_visit = true;
    script_convention(&s, &c, s_d(2025, 1, 2));
    const int done = FLUXBUS__V1__VISITE_OUTCOME__VISITE_OUTCOME_DONE_INTERESTED;
    const char *v[] = {"V1", "V2", "V3"}, *n[] = {N("1"), N("2"), N("3")};
    for (int i = 0; i < 3; i++) {
        script_libere(&s, v[i], "74010", 0, 0, s_d(2025, 3, 1));
        script_orient(&s, v[i], SC_AL, "C-V", s_d(2025, 3, 2));
        script_designate(&s, v[i], n[i], SC_AL, s_d(2025, 3, 3));
    }
    script_visit(&s, "V2", n[1], s_d(2025, 3, 5));
    for (int i = 0; i < 3; i++)
        script_decide(&s, v[i], n[i], SC_AL, 0, s_d(2025, 3, 10));
    script_visit(&s, "V1", n[0], s_d(2025, 3, 12));
    script_visit_outcome(&s, "V2", n[1], FLUXBUS__V1__VISITE_OUTCOME__VISITE_OUTCOME_NO_SHOW,
                         s_d(2025, 3, 12), s_d(2025, 3, 12));
    script_visit(&s, "V2", n[1], s_d(2025, 3, 13));
    script_visit_outcome(&s, "V3", n[2], done, s_d(2025, 3, 6), s_d(2025, 3, 14));
    decompte_t *d = s_run(&s, period_year(2025), NULL, 0);
    const decompte_line_t *l = s_line(s_item(d, "C-V"), SC_AL);
    /* Each orientation counts (no acknowledgement: the designation);
     * CALEOL after a visit: V2 and V3, not V1; no lease. */
    s_assert_counts(&l->tally, 3, 2, 0, 2);
    assert_int_equal(l->tally.caleol_attributions, 3);
    decompte_destroy(&d);
    script_close(&s);
}

/* ---- a multipartite convention ------------------------------------------------------ */

#define S_EPCI "reservataire:grand-chambery"
#define S_CHAMBERY "commune:73065"
#define S_BASSENS "commune:73031"

static Fluxbus__V1__ConventionObjective s_objective(int unit, uint32_t value)
{
    Fluxbus__V1__ConventionObjective o = FLUXBUS__V1__CONVENTION_OBJECTIVE__INIT;
    o.kind = KIND(PLACEMENTS);
    o.unit = unit;
    o.value = value;
    return o;
}

static void test_decompte_multipartite_line_per_commune_sheet(void **state)
{
    (void)state;
    script_t s;
    script_open(&s);
    Fluxbus__V1__ConventionObjective delegated = s_objective(UNIT(COUNT), 2);
    Fluxbus__V1__ConventionObjective own = s_objective(UNIT(COUNT), 1);
    Fluxbus__V1__ConventionObjective bassens_share = s_objective(UNIT(PER_MILLE), 500);
    Fluxbus__V1__ConventionObjective whole = s_objective(UNIT(COUNT), 5);
    Fluxbus__V1__ConventionObjective *d1[] = {&delegated}, *o1[] = {&own}, *d2[] = {&bassens_share},
                                     *w[] = {&whole};
    Fluxbus__V1__CommuneSheet chambery = FLUXBUS__V1__COMMUNE_SHEET__INIT;
    chambery.commune_insee = "73065";
    chambery.commune_actor_id = S_CHAMBERY;
    chambery.n_delegated_objectives = 1;
    chambery.delegated_objectives = d1;
    chambery.n_own_objectives = 1;
    chambery.own_objectives = o1;
    Fluxbus__V1__CommuneSheet bassens = FLUXBUS__V1__COMMUNE_SHEET__INIT;
    bassens.commune_insee = "73031";
    bassens.commune_actor_id = S_BASSENS;
    bassens.year = 2025;
    bassens.n_delegated_objectives = 1;
    bassens.delegated_objectives = d2;
    Fluxbus__V1__CommuneSheet *sheets[] = {&chambery, &bassens};
    Fluxbus__V1__Convention c = FLUXBUS__V1__CONVENTION__INIT;
    c.convention_id = "C-GC-2025";
    c.revision = 1;
    c.kind = FLUXBUS__V1__CONVENTION_KIND__CONVENTION_KIND_MULTIPARTITE;
    c.bailleur_actor_id = SC_BAILLEUR;
    c.reservataire_actor_id = S_EPCI;
    c.epci_siren = "200069110";
    c.year = 2025;
    c.counting_method = METHOD(BAIL_SIGNE);
    c.n_commune_sheets = 2;
    c.commune_sheets = sheets;
    c.n_objectives = 1;
    c.objectives = w;
    script_convention(&s, &c, s_d(2025, 1, 2));
    script_libere(&s, "G1", "73065", 0, 0, s_d(2025, 2, 1));
    script_libere(&s, "G2", "73065", 0, 0, s_d(2025, 2, 2));
    script_libere(&s, "G3", "73031", 0, 0, s_d(2025, 2, 3));
    script_orient(&s, "G1", S_CHAMBERY, "C-GC-2025", s_d(2025, 2, 5));
    script_orient(&s, "G3", S_BASSENS, "C-GC-2025", s_d(2025, 2, 5));
    script_ack(&s, "G1", S_CHAMBERY, s_d(2025, 2, 6));
    script_designate(&s, "G1", N("G1"), S_CHAMBERY, s_d(2025, 2, 7));
    script_decide(&s, "G1", N("G1"), S_CHAMBERY, 0, s_d(2025, 2, 20));
    script_bail(&s, "G1", N("G1"), S_CHAMBERY, s_d(2025, 3, 1));

    decompte_t *d = s_run(&s, period_year(2025), NULL, 0);
    const decompte_convention_t *gc = s_item(d, "C-GC-2025");
    assert_int_equal(gc->n_lines, 2);
    const decompte_line_t *ch = s_line(gc, S_CHAMBERY);
    assert_string_equal(ch->commune_insee, "73065");
    assert_int_equal(ch->tally.freed, 2);
    s_assert_counts(&ch->tally, 1, 1, 1, 1); /* G1 attributed, then leased */
    assert_int_equal(ch->n_objectives, 1);   /* delegated 2 + own 1 */
    assert_int_equal(ch->objectives[0].target, 3);
    assert_int_equal(ch->objectives[0].done, 1);
    const decompte_line_t *ba = s_line(gc, S_BASSENS);
    assert_int_equal(ba->tally.freed, 1);
    assert_int_equal(ba->objectives[0].target, 1); /* 500 per mille of 1, rounded half up */
    assert_int_equal(gc->total.tally.freed, 3);
    assert_int_equal(gc->total.tally.orientations, 2);
    assert_int_equal(gc->total.objectives[0].target, 5);
    assert_int_equal(gc->total.objectives[0].done, 1);
    decompte_destroy(&d);
    script_close(&s);
}

/* ---- fairness ----------------------------------------------------------------------- */

/* Ten dwellings, each under its réservataire's convention (no
 * objectives): A gets five, B three, C two; C's two were refused three
 * and four times, one of A's twice. Each refused dwelling had one round of
 * as many candidates as refusals, attributed by rank by the CALEOL; each
 * household refuses in turn, best rank first. */
static void s_script_fairness(script_t *s)
{
    static const int who[] = {0, 0, 0, 0, 0, 1, 1, 1, 2, 2}; /* A A A A A B B B C C */
    static const int refusals[] = {2, 0, 0, 0, 0, 0, 0, 1, 3, 4};
    static const char *const party[] = {"reservataire:a", "reservataire:b", "reservataire:c"};
    static const char *const conv[] = {"C-A", "C-B", "C-C"};
    for (int k = 0; k < 3; k++) {
        Fluxbus__V1__Convention c = FLUXBUS__V1__CONVENTION__INIT;
        c.convention_id = (char *)conv[k];
        c.revision = 1;
        c.bailleur_actor_id = SC_BAILLEUR;
        c.reservataire_actor_id = (char *)party[k];
        c.year = 2025;
        script_convention(s, &c, s_d(2025, 1, 2));
    }
    for (int i = 0; i < 10; i++) {
        char v[8], nur[32];
        snprintf(v, sizeof v, "F%d", i);
        script_libere(s, v, "74010", 0, 0, s_d(2025, 3, 1 + i));
        script_orient(s, v, party[who[i]], conv[who[i]], s_d(2025, 3, 11 + i));
        unsigned n = (unsigned)refusals[i];
        for (unsigned k = 0; k < n; k++) {
            snprintf(nur, sizeof nur, "07401250000%02d%04u", i, k);
            script_designate_rank(s, party[who[i]], v, nur, party[who[i]], k + 1, n,
                                  s_d(2025, 4, 1 + k));
        }
        for (unsigned k = 0; k < n; k++) {
            snprintf(nur, sizeof nur, "07401250000%02d%04u", i, k);
            script_decide_rank(s, v, nur, party[who[i]], DECISION(ATTRIBUTION_PAR_RANG), k + 1,
                               s_d(2025, 4, 20));
        }
        for (unsigned k = 0; k < n; k++) {
            snprintf(nur, sizeof nur, "07401250000%02d%04u", i, k);
            script_answer(s, v, nur, true, s_d(2025, 5, 1 + k));
        }
    }
}

static const decompte_fairness_t *s_fair(const decompte_t *d, const char *who)
{
    for (size_t i = 0; i < d->n_fairness; i++)
        if (strcmp(d->fairness[i].reservataire, who) == 0)
            return &d->fairness[i];
    fail_msg("no fairness row for %s", who);
    return NULL;
}

static void test_fairness_hard_to_let_all_to_the_smallest_share(void **state)
{
    (void)state;
    script_t s;
    script_open(&s);
    s_script_fairness(&s);
    decompte_t *d = s_run(&s, period_year(2025), NULL, 0);
    assert_int_equal(d->hard_to_let_threshold, 3);
    assert_int_equal(d->fairness_orientations, 10);
    assert_int_equal(d->fairness_hard_to_let, 2);
    assert_int_equal(d->n_fairness, 3);
    const decompte_fairness_t *a = s_fair(d, "reservataire:a"), *b = s_fair(d, "reservataire:b"),
                              *c = s_fair(d, "reservataire:c");
    assert_int_equal(a->orientation_share_pm, 500);
    assert_int_equal(a->hard_to_let_share_pm, 0);
    assert_int_equal(b->orientation_share_pm, 300);
    assert_int_equal(b->hard_to_let_share_pm, 0);
    assert_int_equal(c->orientations, 2);
    assert_int_equal(c->hard_to_let, 2);
    assert_int_equal(c->orientation_share_pm, 200);
    assert_int_equal(c->hard_to_let_share_pm, 1000); /* 100 % against 20 % */
    decompte_destroy(&d);

    /* The threshold is a setting: at two refusals A's F0 joins them. */
    d = s_run(&s, period_year(2025), NULL, 2);
    assert_int_equal(d->fairness_hard_to_let, 3);
    assert_int_equal(s_fair(d, "reservataire:a")->hard_to_let_share_pm, 333);
    assert_int_equal(s_fair(d, "reservataire:c")->hard_to_let_share_pm, 667);
    decompte_destroy(&d);
    script_close(&s);
}

/* ---- periods ------------------------------------------------------------------------ */

static void test_period_paris_days(void **state)
{
    (void)state;
    /* Winter: UTC+1; summer: UTC+2; the days of the change. */
    assert_int_equal(period_day_start_ms((period_date_t){2025, 1, 1}), 1735686000000LL);
    assert_int_equal(period_day_start_ms((period_date_t){2025, 7, 1}), 1751320800000LL);
    assert_int_equal(period_day_start_ms((period_date_t){2025, 3, 30}), 1743289200000LL);
    assert_int_equal(period_day_start_ms((period_date_t){2025, 3, 31}), 1743372000000LL);
    assert_int_equal(period_day_start_ms((period_date_t){2025, 10, 26}), 1761429600000LL);
    assert_int_equal(period_day_start_ms((period_date_t){2025, 10, 27}), 1761519600000LL);
    period_date_t d = period_date_of(1735685999999LL); /* 23:59:59.999 on 31 December */
    assert_int_equal(d.year, 2024);
    assert_int_equal(d.day, 31);
    assert_int_equal(period_year_of(1735686000000LL), 2025);
    period_date_t p;
    assert_true(period_parse_date("2024-02-29", &p));
    assert_false(period_parse_date("2025-02-29", &p));
    assert_false(period_parse_date("2025-1-01", &p));
    period_t q = period_quarter(2025, 1);
    assert_int_equal(period_days(q.from, q.to), 90);
    assert_int_equal(q.end_ms, period_day_start_ms((period_date_t){2025, 4, 1}));
}

/* The line's progress against its objective of `kind` (the test fails
 * without one). */
static const decompte_objective_t *s_progress(const decompte_line_t *l, int kind)
{
    for (size_t i = 0; i < l->n_objectives; i++)
        if (l->objectives[i].kind == kind)
            return &l->objectives[i];
    fail_msg("no objective of kind %d", kind);
    return NULL;
}

/* An OFFRES objective: the offers made available are the vacancies oriented
 * to the réservataire in the period, a declined one left out; its maximum
 * caps the orientations it may hold (surréservation), before the larger
 * PLACEMENTS objective would. */
static void test_decompte_offres_objective_counts_and_caps_the_offers(void **state)
{
    (void)state;
    script_t s;
    script_open(&s);
    Fluxbus__V1__ConventionObjective offres = FLUXBUS__V1__CONVENTION_OBJECTIVE__INIT;
    offres.kind = KIND(OFFRES);
    offres.value = 3;
    offres.max = 3;
    Fluxbus__V1__ConventionObjective placements = FLUXBUS__V1__CONVENTION_OBJECTIVE__INIT;
    placements.kind = KIND(PLACEMENTS);
    placements.value = 10;
    placements.max = 10;
    Fluxbus__V1__ConventionObjective *objectives[] = {&placements, &offres};
    Fluxbus__V1__Convention c = script_convention_of("C-OF", SC_AL, 2025, METHOD(BAIL_SIGNE));
    c.n_objectives = 2;
    c.objectives = objectives;
    script_convention(&s, &c, s_d(2025, 1, 2));
    static const char *const vac[] = {"O1", "O2", "O3", "O4", "O5"};
    for (size_t i = 0; i < 5; i++)
        script_libere(&s, vac[i], "74010", 0, 0, s_d(2025, 1, 6));
    script_orient(&s, "O1", SC_AL, "C-OF", s_d(2025, 2, 3));
    script_ack(&s, "O1", SC_AL, s_d(2025, 2, 4));
    script_orient(&s, "O2", SC_AL, "C-OF", s_d(2025, 2, 5));
    script_decline(&s, "O2", SC_AL, s_d(2025, 2, 6)); /* not an offer, not held */
    script_orient(&s, "O3", SC_AL, "C-OF", s_d(2025, 3, 3));
    script_orient(&s, "O4", SC_AL, "C-OF", s_d(2025, 4, 1));
    /* A fourth held orientation would pass the OFFRES maximum (3), far
     * below the PLACEMENTS one (10). */
    char detail[512] = "";
    assert_int_equal(
        script_check_orient(&s, "O5", SC_AL, "C-OF", s_d(2025, 5, 5), detail, sizeof detail),
        FB_ERR_INVALID_TRANSITION);
    assert_string_equal(detail, "surréservation: " SC_AL " would hold 4 orientations under "
                                "convention C-OF in 2025, over its maximum of 3 (5 dwellings "
                                "freed in its scope)");

    decompte_query_t q = {.period = period_year(2025)};
    char err[256] = "";
    decompte_t *d = decompte_run(store_db(s.store), &q, err, sizeof err);
    if (!d)
        fail_msg("decompte_run: %s", err);
    assert_int_equal(d->n_items, 1);
    assert_int_equal(d->items[0].n_lines, 1);
    const decompte_line_t *l = &d->items[0].lines[0];
    assert_int_equal(l->tally.orientations, 4);
    assert_int_equal(l->tally.declines, 1);
    assert_int_equal(l->tally.offres, 3);
    const decompte_objective_t *o = s_progress(l, KIND(OFFRES));
    assert_int_equal(o->target, 3);
    assert_int_equal(o->target_max, 3);
    assert_int_equal(o->done, 3);
    assert_int_equal(o->remaining, 0);
    assert_string_equal(o->status, "reached");
    decompte_destroy(&d);

    /* The first quarter: the offers of February and March only, against a
     * target prorated by days (rounded half up). */
    assert_true(period_make((period_date_t){2025, 1, 1}, (period_date_t){2025, 3, 31}, &q.period));
    d = decompte_run(store_db(s.store), &q, err, sizeof err);
    if (!d)
        fail_msg("decompte_run: %s", err);
    l = &d->items[0].lines[0];
    assert_int_equal(l->tally.offres, 2);
    o = s_progress(l, KIND(OFFRES));
    assert_int_equal(o->done, 2);
    assert_int_equal(o->target, 1); /* 3 x 90 / 365 = 0.74 */
    assert_string_equal(o->status, "above_max");
    decompte_destroy(&d);
    script_close(&s);
}

/* Records a convention of `resa` for `year` (0: every year) with one
 * PLACEMENTS objective of `value` a year, at most `max`. */
static void s_convention_placements(script_t *s, const char *id, const char *resa, int year,
                                    int method, uint32_t value, uint32_t max, int64_t at)
{
    Fluxbus__V1__ConventionObjective o = FLUXBUS__V1__CONVENTION_OBJECTIVE__INIT;
    o.kind = KIND(PLACEMENTS);
    o.value = value;
    o.max = max;
    Fluxbus__V1__ConventionObjective *objectives[] = {&o};
    Fluxbus__V1__Convention c = script_convention_of(id, resa, year, method);
    c.n_objectives = 1;
    c.objectives = objectives;
    script_convention(s, &c, at);
}

/* The décompte of every bailleur from `from` to `to`. */
static decompte_t *s_run_dates(script_t *s, period_date_t from, period_date_t to)
{
    decompte_query_t q = {0};
    assert_true(period_make(from, to, &q.period));
    char err[256] = "";
    decompte_t *d = decompte_run(store_db(s->store), &q, err, sizeof err);
    if (!d)
        fail_msg("decompte_run: %s", err);
    return d;
}

/* On a quarter, a yearly maximum of 2 is 0.49: rounded up to 1, so one
 * placement is within it (rounded half up it was 0, and the placement
 * "above_max"). */
static void test_decompte_quarter_rounds_the_bounds_outwards(void **state)
{
    (void)state;
    script_t s;
    script_open(&s);
    s_convention_placements(&s, "C-Q", SC_AL, 2025, METHOD(ORIENTATION_ACCEPTEE), 1, 2,
                            s_d(2025, 1, 2));
    script_libere(&s, "Q1", "74010", 0, 0, s_d(2025, 1, 6));
    script_orient(&s, "Q1", SC_AL, "C-Q", s_d(2025, 2, 3));
    script_ack(&s, "Q1", SC_AL, s_d(2025, 2, 4));
    decompte_t *d = s_run_dates(&s, (period_date_t){2025, 1, 1}, (period_date_t){2025, 3, 31});
    const decompte_objective_t *p = s_progress(&d->items[0].lines[0], KIND(PLACEMENTS));
    assert_int_equal(p->done, 1);
    assert_int_equal(p->target, 0);     /* 1 x 90 / 365 = 0.25 */
    assert_int_equal(p->target_max, 1); /* 2 x 90 / 365 = 0.49, up */
    assert_string_equal(p->status, "reached");
    decompte_destroy(&d);
    script_close(&s);
}

/* A period across 31 December (--from 2025-10-01 --to 2026-03-31): each
 * year's objectives pro-rated by that year's days in the period. The 2025
 * convention (10 a year) owes 10 x 92 / 365 = 2.52 -> 3, not 10 x 182 /
 * 365 = 4.99 -> 5; the 2026 one (20) 20 x 90 / 365 = 4.93 -> 5, not 10. */
static void test_decompte_period_across_two_years_prorates_each_year(void **state)
{
    (void)state;
    script_t s;
    script_open(&s);
    s_convention_placements(&s, "C-25", SC_AL, 2025, METHOD(BAIL_SIGNE), 10, 12, s_d(2025, 1, 2));
    s_convention_placements(&s, "C-26", SC_AL, 2026, METHOD(BAIL_SIGNE), 20, 24, s_d(2025, 12, 1));
    period_date_t from = {2025, 10, 1}, to = {2026, 3, 31};
    decompte_t *d = s_run_dates(&s, from, to);
    const decompte_objective_t *a = s_progress(s_line(s_item(d, "C-25"), SC_AL), KIND(PLACEMENTS));
    const decompte_objective_t *b = s_progress(s_line(s_item(d, "C-26"), SC_AL), KIND(PLACEMENTS));
    assert_int_equal(a->value, 10); /* as written */
    assert_int_equal(a->target, 3);
    assert_int_equal(a->target_max, 4); /* 12 x 92 / 365 = 3.02, up */
    assert_int_equal(b->value, 20);
    assert_int_equal(b->target, 5);
    assert_int_equal(b->target_max, 6); /* 24 x 90 / 365 = 5.92, up */
    assert_int_equal(s_row(d->reservataires, d->n_reservataires, SC_AL)->target, 8);
    decompte_destroy(&d);

    /* A convention of every year (year 0) is owed in both: 365 a year is
     * 92 in 2025's part and 90 in 2026's. */
    s_convention_placements(&s, "C-ALL", SC_ETAT, 0, METHOD(BAIL_SIGNE), 365, 0, s_d(2025, 12, 2));
    d = s_run_dates(&s, from, to);
    assert_int_equal(s_progress(s_line(s_item(d, "C-ALL"), SC_ETAT), KIND(PLACEMENTS))->target,
                     182);
    decompte_destroy(&d);
    script_close(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_decompte_year_counts_three_methods_apart, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_decompte_quarter_prorates_the_objective, s_setup,
                                        s_teardown),
        cmocka_unit_test(test_decompte_quarter_rounds_the_bounds_outwards),
        cmocka_unit_test(test_decompte_period_across_two_years_prorates_each_year),
        cmocka_unit_test_setup_teardown(test_decompte_amendment_applies_from_its_date, s_setup,
                                        s_teardown),
        cmocka_unit_test(test_decompte_ignores_an_amendment_not_countersigned),
        cmocka_unit_test_setup_teardown(test_decompte_per_mille_objective_on_its_territory, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(
            test_decompte_reservataire_row_counts_each_freed_dwelling_once, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_decompte_per_commune, s_setup, s_teardown),
        cmocka_unit_test(test_decompte_many_communes_one_row_each),
        cmocka_unit_test_setup_teardown(test_decompte_reservataire_filter, s_setup, s_teardown),
        cmocka_unit_test(test_decompte_counting_rule_per_management_mode),
        cmocka_unit_test(test_decompte_caleol_after_a_visit_counts_visits_dated_by_the_decision),
        cmocka_unit_test(test_decompte_multipartite_line_per_commune_sheet),
        cmocka_unit_test(test_decompte_offres_objective_counts_and_caps_the_offers),
        cmocka_unit_test(test_fairness_hard_to_let_all_to_the_smallest_share),
        cmocka_unit_test(test_period_paris_days),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
