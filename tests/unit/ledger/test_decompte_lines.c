/* test_decompte_lines.c - decompte_lines (ledger/decompte.c), the
 * convention lines read chunk by chunk, gives exactly the items of
 * decompte_run: on randomized ledgers (seeded, so a failure names the seed
 * that shows it), for a year, a quarter, days across a new year and with
 * each filter, whatever the chunk size (1 vacancy, a few, the default). The
 * ledgers are written through ledger_record without ledger_check, so they
 * hold what the checks would refuse too (a vacancy of one bailleur oriented
 * under another's convention, an unknown convention, a convention without
 * a bailleur): the décompte reads whatever the tables hold, and both ways
 * must read it alike. */
#include "ledger_script.h"

#include "decompte.h"

#define Y 2025
#define N_BAILLEURS 3
#define N_PARTIES 7
#define N_COMMUNES 7
#define N_CONVENTIONS 9
#define S_ID 48

#define METHOD(x) FLUXBUS__V1__COUNTING_METHOD__COUNTING_METHOD_##x
#define KIND(x) FLUXBUS__V1__OBJECTIVE_KIND__OBJECTIVE_KIND_##x
#define UNIT(x) FLUXBUS__V1__OBJECTIVE_UNIT__OBJECTIVE_UNIT_##x
#define DECISION(x) FLUXBUS__V1__CALEOL_DECISION_CODE__CALEOL_DECISION_CODE_##x
#define DAY_MS (24 * 3600 * 1000LL)

static const char *const s_bailleurs[N_BAILLEURS] = {SC_BAILLEUR, "bailleur:2", ""};
/* Réservataires, then the communes of the multipartite conventions' sheets. */
static const char *const s_parties[N_PARTIES] = {
    SC_AL,           SC_ETAT,         "reservataire:epci-1", "commune:74001",
    "commune:74002", "commune:74003", "commune:73001"};
static const char *const s_communes[N_COMMUNES] = {"74001", "74002", "74003", "74004",
                                                   "73001", "73002", ""};

/* ---- a seeded generator ------------------------------------------------------------------ */

typedef struct {
    uint64_t state;
} s_rng_t;

static uint32_t s_next(s_rng_t *r)
{
    r->state ^= r->state << 13;
    r->state ^= r->state >> 7;
    r->state ^= r->state << 17;
    return (uint32_t)(r->state >> 16);
}

static uint32_t s_below(s_rng_t *r, uint32_t n)
{
    return s_next(r) % n;
}

static bool s_chance(s_rng_t *r, unsigned percent)
{
    return s_below(r, 100) < percent;
}

/* An instant between 1 November of the year before and 31 January after. */
static int64_t s_when(s_rng_t *r)
{
    return script_at(Y - 1, 11, 1) + (int64_t)s_below(r, 457) * DAY_MS +
           (int64_t)s_below(r, 8) * 3600 * 1000;
}

/* Records without asking ledger_check first. */
static void s_put(script_t *s, const char *sender, int type, const char *vacancy, const char *to,
                  int64_t at, const void *payload)
{
    const char *const rcpt[] = {to ? to : SC_BAILLEUR};
    ledger_msg_t m = script_msg(s, sender, type, vacancy, rcpt, at, payload);
    assert_int_equal(ledger_record(s->ledger, &m), FB_OK);
}

/* ---- conventions ---------------------------------------------------------------------------- */

static void s_conv_id(int i, char out[S_ID])
{
    snprintf(out, S_ID, "C-%d", i);
}

/* Convention i: 0-5 bilateral (the réservataire i mod 3: the State, Action
 * Logement or the EPCI), 6-7 multipartite of the EPCI with sheets for three
 * or four communes, 8 without a bailleur; terms drawn; a second revision
 * from 1 July for some. */
static void s_convention(script_t *s, s_rng_t *r, int i, unsigned revision)
{
    char id[S_ID];
    s_conv_id(i, id);
    bool multi = i == 6 || i == 7;
    Fluxbus__V1__ConventionObjective o = FLUXBUS__V1__CONVENTION_OBJECTIVE__INIT;
    o.kind = s_chance(r, 70) ? KIND(PLACEMENTS) : (int)s_below(r, 4) + 1;
    o.unit = s_chance(r, 60) ? UNIT(COUNT) : UNIT(PER_MILLE);
    o.value = o.unit == UNIT(COUNT) ? 1 + s_below(r, 12) : 100 + s_below(r, 400);
    o.min = o.value / 2;
    o.max = s_chance(r, 50) ? o.value * 2 : 0;
    Fluxbus__V1__ConventionObjective *objs[] = {&o};
    Fluxbus__V1__CommuneSheet sheets[4], *sheet_ptrs[4];
    for (int k = 0; k < 4; k++) {
        Fluxbus__V1__CommuneSheet init = FLUXBUS__V1__COMMUNE_SHEET__INIT;
        sheets[k] = init;
        sheets[k].commune_insee = (char *)s_communes[k == 3 ? 4 : k];
        sheets[k].commune_actor_id = (char *)s_parties[3 + k];
        sheets[k].year = s_chance(r, 30) ? Y - 1 : 0;
        sheets[k].n_own_objectives = s_chance(r, 60);
        sheets[k].own_objectives = objs;
        sheet_ptrs[k] = &sheets[k];
    }
    Fluxbus__V1__Date from = FLUXBUS__V1__DATE__INIT;
    from.year = Y;
    from.month = 7;
    from.day = 1;
    Fluxbus__V1__Convention c = FLUXBUS__V1__CONVENTION__INIT;
    c.convention_id = id;
    c.revision = revision;
    c.bailleur_actor_id = (char *)(i == 8 ? "" : s_bailleurs[i % 2]);
    c.reservataire_actor_id = (char *)s_parties[multi ? 2 : i % 3];
    c.year = s_chance(r, 75) ? Y : s_chance(r, 50) ? Y - 1 : 0;
    c.counting_method = 1 + s_below(r, 3);
    c.caleol_requires_visit = s_chance(r, 40);
    c.remise_counting = s_below(r, 3);
    c.expired_deadline_counting = s_below(r, 3);
    c.first_letting = s_below(r, 3);
    c.departement = (char *)(s_chance(r, 30) ? "74" : "");
    char *territory[] = {"74001", "74003", "73001"};
    c.n_territory_insee = !multi && s_chance(r, 30) ? 1 + s_below(r, 3) : 0;
    c.territory_insee = territory;
    c.n_objectives = s_chance(r, 80);
    c.objectives = objs;
    if (multi) {
        c.kind = FLUXBUS__V1__CONVENTION_KIND__CONVENTION_KIND_MULTIPARTITE;
        c.n_commune_sheets = 3 + s_below(r, 2);
        c.commune_sheets = sheet_ptrs;
    }
    if (revision > 1)
        c.effective_from = &from;
    /* Both signers: an amendment is in force once both sent it. */
    s_put(s, c.bailleur_actor_id[0] ? c.bailleur_actor_id : SC_BAILLEUR, SC_TYPE(CONVENTION), NULL,
          c.reservataire_actor_id, script_at(Y - 1, 10, 1), &c);
    if (revision > 1)
        s_put(s, c.reservataire_actor_id, SC_TYPE(CONVENTION), NULL, c.bailleur_actor_id,
              script_at(Y - 1, 10, 1), &c);
}

static void s_conventions(script_t *s, s_rng_t *r)
{
    for (int i = 0; i < N_CONVENTIONS; i++) {
        uint64_t keep = r->state; /* a revision 2 with the same draws but for its own */
        s_convention(s, r, i, 1);
        if (s_chance(r, 40)) {
            r->state = keep ^ 0x9e3779b97f4a7c15ULL;
            s_convention(s, r, i, 2);
        }
    }
}

/* ---- vacancies ------------------------------------------------------------------------------ */

/* A convention id for an event: mostly a known one, sometimes an unknown
 * one or none. */
static const char *s_conv_named(s_rng_t *r, char buf[S_ID])
{
    uint32_t k = s_below(r, N_CONVENTIONS + 2);
    if (k == N_CONVENTIONS)
        return "";
    if (k == N_CONVENTIONS + 1)
        return "C-UNKNOWN";
    s_conv_id((int)k, buf);
    return buf;
}

static void s_libere(script_t *s, s_rng_t *r, const char *v, const char *bailleur)
{
    Fluxbus__V1__LogementLibere l = FLUXBUS__V1__LOGEMENT_LIBERE__INIT;
    l.vacancy_id = (char *)v;
    l.commune_insee = (char *)s_communes[s_below(r, N_COMMUNES)];
    uint32_t mode = s_below(r, 10);
    l.mode_gestion = mode < 7 ? 1 : mode < 9 ? 3 : 2;
    l.hors_flux_motif = l.mode_gestion == 3 ? 1 + s_below(r, 6) : 0;
    s_put(s, bailleur, SC_TYPE(LOGEMENT_LIBERE), v, NULL, s_when(r), &l);
}

static void s_orient(script_t *s, s_rng_t *r, const char *v, const char *bailleur,
                     const char *party, unsigned round)
{
    char buf[S_ID];
    Fluxbus__V1__Orientation o = FLUXBUS__V1__ORIENTATION__INIT;
    o.vacancy_id = (char *)v;
    o.reservataire_actor_id = (char *)party;
    o.convention_id = (char *)s_conv_named(r, buf);
    o.round = round;
    o.candidates_expected = 1;
    int64_t at = s_when(r);
    o.deadline_ms = at + 15 * DAY_MS;
    s_put(s, bailleur, SC_TYPE(ORIENTATION), v, party, at, &o);
}

/* The party's answer to an orientation: ack, decline, remise, or its
 * deadline expiring. */
static void s_answer(script_t *s, s_rng_t *r, const char *v, const char *bailleur,
                     const char *party)
{
    uint32_t k = s_below(r, 5);
    int64_t at = s_when(r);
    if (k <= 1) {
        Fluxbus__V1__OrientationAck a = FLUXBUS__V1__ORIENTATION_ACK__INIT;
        a.vacancy_id = (char *)v;
        s_put(s, party, SC_TYPE(ORIENTATION_ACK), v, bailleur, at, &a);
    } else if (k == 2) {
        Fluxbus__V1__OrientationDecline d = FLUXBUS__V1__ORIENTATION_DECLINE__INIT;
        d.vacancy_id = (char *)v;
        d.reason = 1;
        s_put(s, party, SC_TYPE(ORIENTATION_DECLINE), v, bailleur, at, &d);
    } else if (k == 3) {
        Fluxbus__V1__RemiseADisposition m = FLUXBUS__V1__REMISE_ADISPOSITION__INIT;
        m.vacancy_id = (char *)v;
        m.reason = 1;
        s_put(s, party, SC_TYPE(REMISE_A_DISPOSITION), v, bailleur, at, &m);
    } else {
        Fluxbus__V1__DeadlineExpired e = FLUXBUS__V1__DEADLINE_EXPIRED__INIT;
        e.vacancy_id = (char *)v;
        e.deadline_ms = at;
        s_put(s, "broker", SC_TYPE(DEADLINE_EXPIRED), v, party, at, &e);
    }
}

/* A candidate credited to `party`: designation, maybe a visit, a decision,
 * the household's answer, a lease or a non-suite. */
static void s_candidate(script_t *s, s_rng_t *r, const char *v, const char *bailleur,
                        const char *party, int n)
{
    char nur[S_ID], buf[S_ID];
    snprintf(nur, sizeof nur, "%s-N%d", v, n);
    Fluxbus__V1__Designation d = FLUXBUS__V1__DESIGNATION__INIT;
    d.vacancy_id = (char *)v;
    d.nur = nur;
    d.rank = 1 + (unsigned)n;
    d.candidate_count = 3;
    d.credited_reservataire_actor_id = (char *)party;
    d.convention_id = (char *)(s_chance(r, 50) ? s_conv_named(r, buf) : "");
    d.gestion_deleguee = s_chance(r, 15);
    d.designating_actor_id = (char *)(d.gestion_deleguee ? bailleur
                                      : s_chance(r, 15)  ? SC_ETAT
                                                         : "");
    d.dalo = s_chance(r, 20);
    d.pdalhpd = s_chance(r, 20);
    s_put(s, d.gestion_deleguee ? bailleur : party, SC_TYPE(DESIGNATION), v, bailleur, s_when(r),
          &d);
    if (s_chance(r, 50)) {
        Fluxbus__V1__Visite vi = FLUXBUS__V1__VISITE__INIT;
        vi.vacancy_id = (char *)v;
        vi.nur = nur;
        vi.outcome = 1 + s_below(r, 5);
        vi.visit_ms = s_when(r);
        s_put(s, bailleur, SC_TYPE(VISITE), v, party, s_when(r), &vi);
    }
    if (s_chance(r, 25))
        return;
    Fluxbus__V1__CaleolDecision c = FLUXBUS__V1__CALEOL_DECISION__INIT;
    c.vacancy_id = (char *)v;
    c.nur = nur;
    c.designataire_actor_id = (char *)party;
    c.decision = 1 + s_below(r, 5);
    c.condition_state = c.decision == DECISION(SOUS_CONDITION_SUSPENSIVE) ? s_below(r, 4) : 0;
    c.rank = 1;
    c.decided_ms = s_when(r);
    c.seance_id = "S1";
    s_put(s, bailleur, SC_TYPE(CALEOL_DECISION), v, party, s_when(r), &c);
    if (c.decision > DECISION(SOUS_CONDITION_SUSPENSIVE) || s_chance(r, 20))
        return;
    Fluxbus__V1__PropositionReponse p = FLUXBUS__V1__PROPOSITION_REPONSE__INIT;
    p.vacancy_id = (char *)v;
    p.nur = nur;
    p.answer = s_chance(r, 30) ? 2 : 1;
    p.answered_ms = s_when(r);
    s_put(s, bailleur, SC_TYPE(PROPOSITION_REPONSE), v, party, s_when(r), &p);
    if (p.answer == 2) {
        Fluxbus__V1__AttributionNonSuivieDeBail a =
            FLUXBUS__V1__ATTRIBUTION_NON_SUIVIE_DE_BAIL__INIT;
        a.vacancy_id = (char *)v;
        a.nur = nur;
        a.reason = 1;
        s_put(s, bailleur, SC_TYPE(ATTRIBUTION_NON_SUIVIE_DE_BAIL), v, party, s_when(r), &a);
        return;
    }
    Fluxbus__V1__BailSigne b = FLUXBUS__V1__BAIL_SIGNE__INIT;
    b.vacancy_id = (char *)v;
    b.nur = nur;
    b.designataire_actor_id = (char *)party;
    s_put(s, bailleur, SC_TYPE(BAIL_SIGNE), v, party, s_when(r), &b);
}

/* Vacancy i: freed (mostly), oriented in one or two rounds, answered,
 * candidates; each step drawn. */
static void s_vacancy(script_t *s, s_rng_t *r, int i)
{
    char v[S_ID];
    snprintf(v, sizeof v, "V%03d", i);
    const char *bailleur = s_bailleurs[s_below(r, 2)];
    if (s_chance(r, 90))
        s_libere(s, r, v, bailleur);
    unsigned rounds = s_below(r, 3);
    for (unsigned k = 1; k <= rounds; k++) {
        const char *party = s_parties[s_below(r, N_PARTIES)];
        s_orient(s, r, v, bailleur, party, k);
        if (s_chance(r, 80))
            s_answer(s, r, v, bailleur, party);
        for (int n = 0; s_chance(r, 60) && n < 3; n++)
            s_candidate(s, r, v, bailleur, party, n);
    }
    if (rounds == 0 && s_chance(r, 30)) /* credited without an orientation */
        s_candidate(s, r, v, bailleur, s_parties[s_below(r, N_PARTIES)], 0);
}

/* ---- comparing ----------------------------------------------------------------------------- */

static void s_same_line(const decompte_line_t *a, const decompte_line_t *b, const char *conv,
                        const char *what)
{
    if (strcmp(a->party, b->party) != 0 || strcmp(a->commune_insee, b->commune_insee) != 0 ||
        memcmp(&a->tally, &b->tally, sizeof a->tally) != 0 || a->n_objectives != b->n_objectives)
        fail_msg("%s, convention %s, line %s: run and lines differ (party %s / %s, freed %u / "
                 "%u, official %u / %u, objectives %zu / %zu)",
                 what, conv, a->party, a->party, b->party, a->tally.freed, b->tally.freed,
                 a->tally.counts[DECOMPTE_OFFICIAL], b->tally.counts[DECOMPTE_OFFICIAL],
                 a->n_objectives, b->n_objectives);
    for (size_t j = 0; j < a->n_objectives; j++) {
        decompte_objective_t x = a->objectives[j], y = b->objectives[j];
        assert_string_equal(x.status, y.status);
        x.status = y.status = NULL;
        if (memcmp(&x, &y, sizeof x) != 0)
            fail_msg("%s, convention %s, line %s: objective %zu differs", what, conv, a->party, j);
    }
}

static void s_same_items(const decompte_t *run, const decompte_t *lines, const char *what)
{
    assert_non_null(run);
    assert_non_null(lines);
    if (run->n_items != lines->n_items)
        fail_msg("%s: %zu items run, %zu lines", what, run->n_items, lines->n_items);
    for (size_t k = 0; k < run->n_items; k++) {
        const decompte_convention_t *a = &run->items[k], *b = &lines->items[k];
        const char *conv = a->rev->convention_id;
        assert_string_equal(conv, b->rev->convention_id);
        assert_int_equal(a->rev->revision, b->rev->revision);
        if (a->n_lines != b->n_lines)
            fail_msg("%s, convention %s: %zu lines run, %zu lines", what, conv, a->n_lines,
                     b->n_lines);
        for (size_t i = 0; i < a->n_lines; i++)
            s_same_line(&a->lines[i], &b->lines[i], conv, what);
        s_same_line(&a->total, &b->total, conv, what);
    }
}

/* Both ways for q, with each chunk size; how many lines counted something
 * officially and had dwellings freed (the ledger is not idle). */
static void s_compare(script_t *s, const decompte_query_t *q, const char *what, size_t *busy)
{
    char err[256] = "";
    decompte_t *run = decompte_run(store_db(s->store), q, err, sizeof err);
    if (!run)
        fail_msg("decompte_run: %s", err);
    static const size_t chunks[] = {1, 7, 0};
    for (size_t c = 0; c < sizeof chunks / sizeof *chunks; c++) {
        decompte_t *lines = decompte_lines(store_db(s->store), q, chunks[c], err, sizeof err);
        if (!lines)
            fail_msg("decompte_lines: %s", err);
        char label[160];
        snprintf(label, sizeof label, "%s, chunk %zu", what, chunks[c]);
        s_same_items(run, lines, label);
        assert_int_equal(lines->n_reservataires, 0);
        assert_int_equal(lines->n_communes, 0);
        assert_int_equal(lines->n_fairness, 0);
        decompte_destroy(&lines);
    }
    for (size_t k = 0; k < run->n_items; k++)
        for (size_t i = 0; i < run->items[k].n_lines; i++)
            *busy += run->items[k].lines[i].tally.counts[DECOMPTE_OFFICIAL] > 0 &&
                     run->items[k].lines[i].tally.freed > 0;
    decompte_destroy(&run);
}

static void s_periods(script_t *s, uint64_t seed, size_t *busy)
{
    period_t periods[4];
    period_make((period_date_t){Y, 1, 1}, (period_date_t){Y, 12, 31}, &periods[0]);
    period_make((period_date_t){Y, 4, 1}, (period_date_t){Y, 6, 30}, &periods[1]);
    period_make((period_date_t){Y - 1, 12, 10}, (period_date_t){Y, 1, 20}, &periods[2]);
    period_make((period_date_t){Y - 1, 1, 1}, (period_date_t){Y - 1, 12, 31}, &periods[3]);
    const decompte_query_t filters[] = {
        {.bailleur = NULL},
        {.bailleur = SC_BAILLEUR},
        {.reservataire = SC_AL},
        {.reservataire = "commune:74002"},
        {.bailleur = "bailleur:2", .reservataire = "reservataire:epci-1"},
    };
    for (size_t p = 0; p < 4; p++)
        for (size_t f = 0; f < sizeof filters / sizeof *filters; f++) {
            decompte_query_t q = filters[f];
            q.period = periods[p];
            char what[128];
            snprintf(what, sizeof what, "seed %llu, period %zu, filter %zu",
                     (unsigned long long)seed, p, f);
            s_compare(s, &q, what, busy);
        }
}

/* ---- tests --------------------------------------------------------------------------------------
 */

static void test_lines_are_the_run_items_on_random_ledgers(void **state)
{
    (void)state;
    size_t busy = 0;
    for (uint64_t seed = 1; seed <= 6; seed++) {
        script_t s;
        script_open(&s);
        s_rng_t r = {.state = seed * 0x2545f4914f6cdd1dULL};
        assert_int_equal(store_begin(s.store), FB_OK);
        s_conventions(&s, &r);
        for (int i = 0; i < 90; i++)
            s_vacancy(&s, &r, i);
        assert_int_equal(store_commit(s.store), FB_OK);
        s_periods(&s, seed, &busy);
        script_close(&s);
    }
    /* The comparison saw lines with dwellings freed and official counts. */
    assert_true(busy > 50);
}

static void test_lines_of_an_empty_ledger_are_the_year_conventions(void **state)
{
    (void)state;
    script_t s;
    script_open(&s);
    Fluxbus__V1__Convention c = script_convention_of("C-EMPTY", SC_AL, Y, METHOD(BAIL_SIGNE));
    script_convention(&s, &c, script_at(Y, 1, 2));
    decompte_query_t q = {.bailleur = NULL};
    period_make((period_date_t){Y, 1, 1}, (period_date_t){Y, 12, 31}, &q.period);
    char err[256] = "";
    decompte_t *d = decompte_lines(store_db(s.store), &q, 0, err, sizeof err);
    assert_non_null(d);
    assert_int_equal(d->n_items, 1);
    assert_int_equal(d->items[0].n_lines, 1);
    assert_string_equal(d->items[0].lines[0].party, SC_AL);
    decompte_destroy(&d);
    decompte_destroy(&d); /* safe twice */
    script_close(&s);
}

static void test_lines_report_a_database_error(void **state)
{
    (void)state;
    script_t s;
    script_open(&s);
    script_libere(&s, "V1", "74001", 0, 0, script_at(Y, 3, 1));
    assert_int_equal(
        sqlite3_exec(store_db(s.store), "DROP TABLE ledger_candidates", NULL, NULL, NULL),
        SQLITE_OK);
    decompte_query_t q = {.bailleur = NULL};
    period_make((period_date_t){Y, 1, 1}, (period_date_t){Y, 12, 31}, &q.period);
    char err[256] = "";
    assert_null(decompte_lines(store_db(s.store), &q, 0, err, sizeof err));
    assert_non_null(strstr(err, "ledger_candidates"));
    script_close(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lines_are_the_run_items_on_random_ledgers),
        cmocka_unit_test(test_lines_of_an_empty_ledger_are_the_year_conventions),
        cmocka_unit_test(test_lines_report_a_database_error),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
