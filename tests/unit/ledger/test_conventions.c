/* test_conventions.c - the conventions as the ledger reads them back
 * (ledger/conventions.c): the revision in force on a date, the defaults of
 * a revision, and the checks of an Orientation through ledger_check: a
 * known convention in force required en flux (not hors flux, en stock nor
 * to the bailleur itself), the parties, the territory, hors flux, first
 * lettings en stock, surréservation (a réservataire's maximum, a per-mille
 * share of the dwellings freed, the bailleur's flux across all its
 * conventions) and the délai (a deadline derived from it, a shorter one
 * refused), each refused with FB_ERR_INVALID_TRANSITION and a reason. */
#include "ledger_script.h"

#include "amendments.h"
#include "conventions.h"

#define MODE(x) FLUXBUS__V1__MODE_GESTION__MODE_GESTION_##x
#define MOTIF(x) FLUXBUS__V1__HORS_FLUX_MOTIF__HORS_FLUX_MOTIF_##x
#define METHOD(x) FLUXBUS__V1__COUNTING_METHOD__COUNTING_METHOD_##x
#define KIND(x) FLUXBUS__V1__OBJECTIVE_KIND__OBJECTIVE_KIND_##x
#define UNIT(x) FLUXBUS__V1__OBJECTIVE_UNIT__OBJECTIVE_UNIT_##x
#define INVALID FB_ERR_INVALID_TRANSITION

static int64_t s_d(int m, int d)
{
    return script_at(2025, m, d);
}

/* A bilateral convention for 2025 with one objective (kind, unit, value,
 * max), optionally on a territory of two communes. */
typedef struct {
    const char *id, *resa;
    unsigned revision;
    int kind, unit;
    uint32_t value, max;
    const char *t1, *t2; /* territory; NULL: the département */
    int effective_month;
    int remise;
} s_conv_t;

/* Sent by `by`; NULL: by the bailleur, an amendment countersigned by the
 * réservataire. */
static void s_convention_by(script_t *s, const s_conv_t *v, const char *by, int64_t at)
{
    Fluxbus__V1__ConventionObjective o = FLUXBUS__V1__CONVENTION_OBJECTIVE__INIT;
    o.kind = v->kind;
    o.unit = v->unit;
    o.value = v->value;
    o.max = v->max;
    Fluxbus__V1__ConventionObjective *objectives[] = {&o};
    char *territory[] = {(char *)v->t1, (char *)v->t2};
    Fluxbus__V1__Date from = FLUXBUS__V1__DATE__INIT;
    from.year = 2025;
    from.month = v->effective_month ? v->effective_month : 1;
    from.day = 1;
    Fluxbus__V1__Convention c = FLUXBUS__V1__CONVENTION__INIT;
    c.convention_id = (char *)v->id;
    c.revision = v->revision ? v->revision : 1;
    c.bailleur_actor_id = SC_BAILLEUR;
    c.reservataire_actor_id = (char *)v->resa;
    c.departement = "74";
    c.year = 2025;
    c.n_objectives = 1;
    c.objectives = objectives;
    c.n_territory_insee = v->t1 ? 2 : 0;
    c.territory_insee = territory;
    c.effective_from = &from;
    c.remise_counting = v->remise;
    if (by)
        script_convention_from(s, by, &c, at);
    else
        script_convention(s, &c, at);
}

static void s_convention(script_t *s, const s_conv_t *v, int64_t at)
{
    s_convention_by(s, v, NULL, at);
}

static conventions_t *s_load(script_t *s, const char *id)
{
    char err[256] = "";
    conventions_t *c = conventions_load_id(ledger_db(s->ledger), id, err, sizeof err);
    if (!c)
        fail_msg("conventions_load_id: %s", err);
    return c;
}

static void s_expect_refused(script_t *s, const char *vacancy, const char *resa, const char *conv,
                             int64_t at, const char *why)
{
    char detail[256] = "";
    assert_int_equal(script_check_orient(s, vacancy, resa, conv, at, detail, sizeof detail),
                     INVALID);
    if (!strstr(detail, why))
        fail_msg("detail \"%s\" does not say \"%s\"", detail, why);
}

/* The example of use: a convention, then orientations within its maximum
 * pass and the one over it is refused. */
static void test_orientation_over_the_maximum_is_refused(void **state)
{
    (void)state;
    script_t s;
    script_open(&s);
    s_conv_t c = {"C1", SC_AL, 1, KIND(PLACEMENTS), UNIT(COUNT), 2, 2, NULL, NULL, 0, 0};
    s_convention(&s, &c, s_d(1, 2));
    for (int i = 0; i < 4; i++) {
        char v[4];
        snprintf(v, sizeof v, "V%d", i);
        script_libere(&s, v, "74010", 0, 0, s_d(2, 1 + i));
    }
    script_orient(&s, "V0", SC_AL, "C1", s_d(2, 10));
    script_orient(&s, "V1", SC_AL, "C1", s_d(2, 11));
    s_expect_refused(&s, "V2", SC_AL, "C1", s_d(2, 12), "surréservation");
    s_expect_refused(&s, "V2", SC_AL, "C1", s_d(2, 12), "would hold 3 orientations");

    /* The same orientation again (a repeat) does not count twice. */
    char detail[256] = "";
    assert_int_equal(script_check_orient(&s, "V1", SC_AL, "C1", s_d(2, 11), detail, sizeof detail),
                     FB_OK);
    /* A declined orientation gives the right back. */
    script_decline(&s, "V1", SC_AL, s_d(2, 14));
    script_orient(&s, "V2", SC_AL, "C1", s_d(2, 15));
    /* A remise that the convention does not count gives it back too. */
    script_ack(&s, "V2", SC_AL, s_d(2, 16));
    script_remise(&s, "V2", SC_AL, s_d(2, 17));
    script_orient(&s, "V3", SC_AL, "C1", s_d(2, 18));
    s_expect_refused(&s, "V1", SC_AL, "C1", s_d(2, 19), "maximum of 2");
    script_close(&s);
}

static void s_expect_convention_refused(script_t *s, const char *sender,
                                        const Fluxbus__V1__Convention *c, const char *want)
{
    char detail[512] = "";
    assert_int_equal(script_check_convention(s, sender, c, s_d(3, 1), detail, sizeof detail),
                     INVALID);
    assert_string_equal(detail, want);
}

/* Only its parties write a convention, a stored revision is never
 * rewritten, revisions go up and the bailleur stays. */
static void test_a_convention_is_amended_by_its_parties_only(void **state)
{
    (void)state;
    script_t s;
    script_open(&s);
    s_conv_t v = {"C1", SC_AL, 1, KIND(PLACEMENTS), UNIT(COUNT), 2, 2, NULL, NULL, 0, 0};
    s_convention(&s, &v, s_d(1, 2));
    v.revision = 2;
    s_convention(&s, &v, s_d(1, 3));
    /* The same revision again: a duplicate, accepted. */
    s_convention(&s, &v, s_d(1, 4));

    Fluxbus__V1__Convention c = FLUXBUS__V1__CONVENTION__INIT;
    c.convention_id = "C1";
    c.revision = 3;
    c.bailleur_actor_id = SC_BAILLEUR;
    c.reservataire_actor_id = SC_AL;
    c.year = 2025;
    s_expect_convention_refused(
        &s, "bailleur:775663438", &c,
        "Convention C1 revision 3 sent by bailleur:775663438, who is not one of its parties "
        "(bailleur " SC_BAILLEUR ", réservataire " SC_AL ")");
    c.reservataire_actor_id = SC_ETAT; /* the État naming itself */
    s_expect_convention_refused(&s, SC_ETAT, &c,
                                "Convention C1 revision 3 sent by " SC_ETAT
                                ", who is not a party of its revision 2");
    c.reservataire_actor_id = SC_AL;
    c.revision = 2;
    s_expect_convention_refused(&s, SC_BAILLEUR, &c,
                                "Convention C1 revision 2 is stored already with other content: "
                                "an amendment is a new revision (3)");
    c.revision = 1;
    s_expect_convention_refused(&s, SC_AL, &c,
                                "Convention C1 revision 1 is stored already with other content: "
                                "an amendment is a new revision (3)");
    c.revision = 3;
    c.bailleur_actor_id = "bailleur:775663438";
    s_expect_convention_refused(&s, SC_AL, &c,
                                "Convention C1 revision 3 names bailleur bailleur:775663438, but "
                                "its revision 2 binds " SC_BAILLEUR
                                ": the bailleur of a convention does not change");
    c.bailleur_actor_id = SC_BAILLEUR;
    char detail[512] = "";
    assert_int_equal(script_check_convention(&s, SC_AL, &c, s_d(3, 1), detail, sizeof detail),
                     FB_OK);
    /* What is stored is what was first accepted. */
    conventions_t *all = s_load(&s, "C1");
    assert_int_equal(conventions_revision_count(all, 0), 2);
    conventions_destroy(&all);
    script_close(&s);
}

/* The revision in force when an orientation is made must be for its year. */
static void test_orientation_outside_the_conventions_year_is_refused(void **state)
{
    (void)state;
    script_t s;
    script_open(&s);
    s_conv_t c = {"C1", SC_AL, 1, KIND(PLACEMENTS), UNIT(COUNT), 5, 5, NULL, NULL, 0, 0};
    s_convention(&s, &c, s_d(1, 2));
    script_libere(&s, "V0", "74010", 0, 0, s_d(12, 20));
    char detail[256] = "";
    int64_t next_year = script_at(2026, 1, 5);
    assert_int_equal(script_check_orient(&s, "V0", SC_AL, "C1", next_year, detail, sizeof detail),
                     INVALID);
    assert_string_equal(detail, "convention C1 (revision 1) is for 2025, the orientation of V0 is "
                                "made in 2026");
    script_orient(&s, "V0", SC_AL, "C1", s_d(12, 21));
    script_close(&s);
}

/* A convention of the whole of 2025 with réservataire resa and nothing
 * else: no territory, objective nor délai. */
static void s_bare_convention(script_t *s, const char *id, const char *resa, int64_t at)
{
    Fluxbus__V1__Convention c = FLUXBUS__V1__CONVENTION__INIT;
    c.convention_id = (char *)id;
    c.revision = 1;
    c.bailleur_actor_id = SC_BAILLEUR;
    c.reservataire_actor_id = (char *)resa;
    c.year = 2025;
    script_convention(s, &c, at);
}

/* The bailleur's flux counts every held orientation, under any of its
 * conventions (and a vacancy never freed on the bus). */
static void test_orientations_under_every_convention_count_in_the_bailleurs_flux(void **state)
{
    (void)state;
    script_t s;
    script_open(&s);
    s_conv_t c = {"C1", SC_AL, 1, KIND(PLACEMENTS), UNIT(COUNT), 5, 5, NULL, NULL, 0, 0};
    s_convention(&s, &c, s_d(1, 2));
    s_bare_convention(&s, "C-ETAT", SC_ETAT, s_d(1, 2));
    script_libere(&s, "V0", "74010", 0, 0, s_d(2, 1));
    script_orient(&s, "X1", SC_ETAT, "C-ETAT", s_d(2, 2)); /* never freed */
    s_expect_refused(&s, "V0", SC_AL, "C1", s_d(2, 3),
                     "surréservation: bailleur " SC_BAILLEUR " would hold 2 orientations across"
                     " its conventions in 2025, over its 1 dwellings freed en flux");
    script_close(&s);
}

/* A remise the convention counts keeps the right used. */
static void test_counted_remise_keeps_the_right_used(void **state)
{
    (void)state;
    script_t s;
    script_open(&s);
    s_conv_t c = {"C1",
                  SC_AL,
                  1,
                  KIND(PLACEMENTS),
                  UNIT(COUNT),
                  1,
                  0,
                  NULL,
                  NULL,
                  0,
                  FLUXBUS__V1__DEADLINE_COUNTING__DEADLINE_COUNTING_COUNTED};
    s_convention(&s, &c, s_d(1, 2));
    script_libere(&s, "V0", "74010", 0, 0, s_d(2, 1));
    script_libere(&s, "V1", "74010", 0, 0, s_d(2, 2));
    script_orient(&s, "V0", SC_AL, "C1", s_d(2, 10));
    script_remise(&s, "V0", SC_AL, s_d(2, 11));
    s_expect_refused(&s, "V1", SC_AL, "C1", s_d(2, 12), "maximum of 1");
    script_close(&s);
}

/* A share of the dwellings freed: 300 per mille of what was freed so far,
 * rounded up. */
static void test_orientation_over_a_per_mille_share_is_refused(void **state)
{
    (void)state;
    script_t s;
    script_open(&s);
    s_conv_t c = {"C1", SC_ETAT, 1, KIND(PLACEMENTS), UNIT(PER_MILLE), 250, 300, NULL, NULL, 0, 0};
    s_convention(&s, &c, s_d(1, 2));
    for (int i = 0; i < 4; i++) {
        char v[4];
        snprintf(v, sizeof v, "V%d", i);
        script_libere(&s, v, "74010", 0, 0, s_d(2, 1 + i));
    }
    script_orient(&s, "V0", SC_ETAT, "C1", s_d(2, 10)); /* 30 % of 4 = 1.2 -> 2 */
    script_orient(&s, "V1", SC_ETAT, "C1", s_d(2, 11));
    s_expect_refused(&s, "V2", SC_ETAT, "C1", s_d(2, 12), "maximum of 2 (4 dwellings freed");
    /* Three more dwellings freed: 30 % of 7 = 2.1 -> 3. */
    script_libere(&s, "V4", "74010", 0, 0, s_d(3, 1));
    script_libere(&s, "V5", "74010", 0, 0, s_d(3, 1));
    script_libere(&s, "V6", "74010", 0, 0, s_d(3, 1));
    script_orient(&s, "V2", SC_ETAT, "C1", s_d(3, 2));
    script_close(&s);
}

/* A per-mille share counts the dwellings freed in the réservataire's
 * territory only; a maximum in numbers, refused, says them too. */
static void test_per_mille_share_counts_the_dwellings_freed_in_its_territory(void **state)
{
    (void)state;
    script_t s;
    script_open(&s);
    s_conv_t c = {"C1",    SC_ETAT, 1, KIND(PLACEMENTS), UNIT(PER_MILLE), 0, 500, "74010",
                  "74011", 0,       0};
    s_convention(&s, &c, s_d(1, 2));
    s_conv_t n = {"C2", SC_AL, 1, KIND(PLACEMENTS), UNIT(COUNT), 0, 1, "74010", "74011", 0, 0};
    s_convention(&s, &n, s_d(1, 2));
    const char *v[] = {"IN1", "IN2", "OUT1", "OUT2", "OUT3", "OUT4"};
    const char *insee[] = {"74010", "74010", "74256", "74256", "74256", "74256"};
    for (int i = 0; i < 6; i++)
        script_libere(&s, v[i], insee[i], 0, 0, s_d(2, 1 + i));
    script_orient(&s, "IN1", SC_ETAT, "C1", s_d(2, 10)); /* 50 % of 2 */
    char detail[256] = "";
    assert_int_equal(
        script_check_orient(&s, "IN2", SC_ETAT, "C1", s_d(2, 11), detail, sizeof detail), INVALID);
    assert_string_equal(detail, "surréservation: " SC_ETAT " would hold 2 orientations under"
                                " convention C1 in 2025, over its maximum of 1 (2 dwellings"
                                " freed in its scope)");
    script_libere(&s, "IN3", "74011", 0, 0, s_d(2, 12)); /* 50 % of 3, rounded up */
    script_orient(&s, "IN2", SC_ETAT, "C1", s_d(2, 13));

    /* A maximum in numbers does not need the dwellings freed, but its
     * refusal says how many there are in the scope. */
    script_orient(&s, "IN3", SC_AL, "C2", s_d(2, 14));
    script_libere(&s, "IN4", "74010", 0, 0, s_d(2, 15));
    assert_int_equal(script_check_orient(&s, "IN4", SC_AL, "C2", s_d(2, 16), detail, sizeof detail),
                     INVALID);
    assert_string_equal(detail, "surréservation: " SC_AL " would hold 2 orientations under"
                                " convention C2 in 2025, over its maximum of 1 (4 dwellings"
                                " freed in its scope)");
    script_close(&s);
}

/* More orientations held across all the bailleur's conventions than
 * dwellings it freed en flux: the same dwelling held by two réservataires. */
static void test_orientation_over_the_bailleurs_flux_is_refused(void **state)
{
    (void)state;
    script_t s;
    script_open(&s);
    s_conv_t al = {"C-AL", SC_AL, 1, KIND(PLACEMENTS), UNIT(COUNT), 10, 0, NULL, NULL, 0, 0};
    s_conv_t etat = {"C-ETAT", SC_ETAT, 1, KIND(PLACEMENTS), UNIT(COUNT), 10, 0, NULL, NULL, 0, 0};
    s_convention(&s, &al, s_d(1, 2));
    s_convention(&s, &etat, s_d(1, 2));
    script_libere(&s, "V0", "74010", 0, 0, s_d(2, 1));
    script_orient(&s, "V0", SC_AL, "C-AL", s_d(2, 2));
    script_ack(&s, "V0", SC_AL, s_d(2, 3));
    s_expect_refused(&s, "V0", SC_ETAT, "C-ETAT", s_d(2, 4), "across its conventions");
    /* A vacancy never freed on the bus: its commune is unknown, so it is
     * outside the département the convention is limited to. */
    s_expect_refused(&s, "GHOST", SC_ETAT, "C-ETAT", s_d(2, 4), "commune of vacancy GHOST");
    /* Once AL declines, the State may have it. */
    script_decline(&s, "V0", SC_AL, s_d(2, 5));
    script_orient(&s, "V0", SC_ETAT, "C-ETAT", s_d(2, 6));
    script_close(&s);
}

static void test_orientation_outside_the_territory_is_refused(void **state)
{
    (void)state;
    script_t s;
    script_open(&s);
    s_conv_t c = {"C1", SC_ETAT, 1, KIND(PLACEMENTS), UNIT(COUNT), 10, 0, "74010", "74011", 0, 0};
    s_convention(&s, &c, s_d(1, 2));
    script_libere(&s, "IN", "74011", 0, 0, s_d(2, 1));
    script_libere(&s, "OUT", "74256", 0, 0, s_d(2, 1));
    script_libere(&s, "SAVOIE", "73065", 0, 0, s_d(2, 1));
    script_orient(&s, "IN", SC_ETAT, "C1", s_d(2, 2));
    s_expect_refused(&s, "OUT", SC_ETAT, "C1", s_d(2, 2), "in commune 74256 is outside");
    s_expect_refused(&s, "SAVOIE", SC_ETAT, "C1", s_d(2, 2), "outside the territory");
    s_expect_refused(&s, "UNKNOWN", SC_ETAT, "C1", s_d(2, 2), "commune of vacancy UNKNOWN unknown");
    script_close(&s);
}

/* Hors flux by a motif the convention excludes: refused. By a motif it does
 * not (the default four), in its flux. A first letting en stock may still
 * be offered, outside the flux (it does not use the maximum). */
static void test_orientation_hors_flux_and_first_letting(void **state)
{
    (void)state;
    script_t s;
    script_open(&s);
    s_conv_t c = {"C1", SC_AL, 1, KIND(PLACEMENTS), UNIT(COUNT), 1, 0, NULL, NULL, 0, 0};
    s_convention(&s, &c, s_d(1, 2));
    script_libere(&s, "MUT", "74010", MODE(HORS_FLUX), MOTIF(MUTATION_INTERNE), s_d(2, 1));
    script_libere(&s, "ANRU", "74010", MODE(HORS_FLUX), MOTIF(RELOGEMENT_ANRU), s_d(2, 1));
    script_libere(&s, "NEUF", "74010", MODE(STOCK), 0, s_d(2, 1));
    script_libere(&s, "URG", "74010", MODE(HORS_FLUX), MOTIF(RELOGEMENT_URGENCE), s_d(2, 1));
    s_expect_refused(&s, "MUT", SC_AL, "C1", s_d(2, 2), "hors flux");
    s_expect_refused(&s, "ANRU", SC_AL, "C1", s_d(2, 2), "hors flux (motif 2)");
    script_orient(&s, "NEUF", SC_AL, "C1", s_d(2, 2));
    script_orient(&s, "URG", SC_AL, "C1", s_d(2, 3)); /* the one placement of the maximum */
    script_close(&s);
}

static void test_orientation_parties_of_the_convention(void **state)
{
    (void)state;
    script_t s;
    script_open(&s);
    s_conv_t c = {"C1", SC_AL, 1, KIND(PLACEMENTS), UNIT(COUNT), 10, 0, NULL, NULL, 0, 0};
    s_convention(&s, &c, s_d(1, 2));
    script_libere(&s, "V0", "74010", 0, 0, s_d(2, 1));
    s_expect_refused(&s, "V0", SC_ETAT, "C1", s_d(2, 2), "is not a party of convention C1");
    char detail[256] = "";
    /* Another bailleur, on a vacancy of its own the ledger has not seen (on
     * V0, SC_BAILLEUR's, the lifecycle refuses it first). */
    assert_int_equal(script_check_orient_from(&s, "bailleur:999999999", "V9", SC_AL, "C1",
                                              s_d(2, 2), detail, sizeof detail),
                     INVALID);
    assert_non_null(strstr(detail, "binds bailleur " SC_BAILLEUR));
    assert_int_equal(script_check_orient_from(&s, "bailleur:999999999", "V0", SC_AL, "C1",
                                              s_d(2, 2), detail, sizeof detail),
                     INVALID);
    assert_string_equal(detail,
                        "Orientation by bailleur:999999999 on V0, a vacancy of " SC_BAILLEUR);
    script_close(&s);
}

/* An orientation en flux names a convention the ledger knows, in force;
 * one of a dwelling freed hors flux or en stock, or to the bailleur itself
 * (its own share), need not. */
static void test_orientation_en_flux_names_a_known_convention_in_force(void **state)
{
    (void)state;
    script_t s;
    script_open(&s);
    s_conv_t c = {"C1", SC_AL, 1, KIND(PLACEMENTS), UNIT(COUNT), 10, 0, NULL, NULL, 3, 0};
    s_convention(&s, &c, s_d(1, 2)); /* in force from 1 March */
    script_libere(&s, "V0", "74010", 0, 0, s_d(2, 1));
    char detail[256] = "";
    assert_int_equal(script_check_orient(&s, "V0", SC_AL, NULL, s_d(3, 2), detail, sizeof detail),
                     INVALID);
    assert_string_equal(detail,
                        "Orientation of V0 to " SC_AL " names no convention: an "
                        "orientation en flux is made under a convention binding " SC_BAILLEUR
                        " and " SC_AL);
    assert_int_equal(
        script_check_orient(&s, "V0", SC_AL, "C-UNKNOWN", s_d(3, 2), detail, sizeof detail),
        INVALID);
    assert_string_equal(detail, "convention C-UNKNOWN unknown: no Convention with that id was "
                                "accepted before the orientation of V0 to " SC_AL);
    /* A vacancy never freed on the bus is en flux all the same. */
    s_expect_refused(&s, "GHOST", SC_AL, "", s_d(3, 2), "GHOST to " SC_AL " names no convention");
    /* Not in force yet. */
    assert_int_equal(script_check_orient(&s, "V0", SC_AL, "C1", s_d(2, 20), detail, sizeof detail),
                     INVALID);
    assert_string_equal(detail, "convention C1 (revision 1) takes effect on 2025-03-01, after "
                                "the orientation of V0 on 2025-02-20");
    script_orient(&s, "V0", SC_AL, "C1", s_d(3, 2));

    /* Hors flux, en stock, the bailleur's own: no convention needed. */
    script_libere(&s, "MUT", "74010", MODE(HORS_FLUX), MOTIF(MUTATION_INTERNE), s_d(3, 3));
    script_libere(&s, "NEUF", "74010", MODE(STOCK), 0, s_d(3, 3));
    script_libere(&s, "OWN", "74010", 0, 0, s_d(3, 3));
    script_orient(&s, "MUT", SC_AL, NULL, s_d(3, 4));
    script_orient(&s, "NEUF", SC_ETAT, "C-STOCK-UNKNOWN", s_d(3, 4));
    script_orient(&s, "OWN", SC_BAILLEUR, NULL, s_d(3, 4));
    script_close(&s);
}

/* A multipartite convention: each commune on its own commune, within its
 * sheet; the whole within the EPCI's contingent. */
static void test_orientation_multipartite_sheets(void **state)
{
    (void)state;
    script_t s;
    script_open(&s);
    Fluxbus__V1__ConventionObjective one = FLUXBUS__V1__CONVENTION_OBJECTIVE__INIT;
    one.value = 1;
    Fluxbus__V1__ConventionObjective two = FLUXBUS__V1__CONVENTION_OBJECTIVE__INIT;
    two.value = 2;
    Fluxbus__V1__ConventionObjective *d1[] = {&one}, *whole[] = {&two};
    Fluxbus__V1__CommuneSheet a = FLUXBUS__V1__COMMUNE_SHEET__INIT;
    a.commune_insee = "73065";
    a.commune_actor_id = "commune:73065";
    a.n_delegated_objectives = 1;
    a.delegated_objectives = d1;
    Fluxbus__V1__CommuneSheet b = a;
    b.commune_insee = "73031";
    b.commune_actor_id = "commune:73031";
    Fluxbus__V1__CommuneSheet old = a; /* last year's sheet: not a party in 2025 */
    old.commune_insee = "73008";
    old.commune_actor_id = "commune:73008";
    old.year = 2024;
    Fluxbus__V1__CommuneSheet *sheets[] = {&a, &b, &old};
    Fluxbus__V1__Convention c = FLUXBUS__V1__CONVENTION__INIT;
    c.convention_id = "C-GC";
    c.revision = 1;
    c.kind = FLUXBUS__V1__CONVENTION_KIND__CONVENTION_KIND_MULTIPARTITE;
    c.bailleur_actor_id = SC_BAILLEUR;
    c.reservataire_actor_id = "reservataire:grand-chambery";
    c.year = 2025;
    c.n_commune_sheets = 3;
    c.commune_sheets = sheets;
    c.n_objectives = 1;
    c.objectives = whole;
    script_convention(&s, &c, s_d(1, 2));
    const char *v[] = {"A1", "A2", "B1", "B2", "B3"};
    const char *insee[] = {"73065", "73065", "73031", "73031", "73031"};
    for (int i = 0; i < 5; i++)
        script_libere(&s, v[i], insee[i], 0, 0, s_d(2, 1 + i));
    s_expect_refused(&s, "B1", "commune:73065", "C-GC", s_d(2, 10), "outside the territory");
    s_expect_refused(&s, "A1", "commune:73008", "C-GC", s_d(2, 10), "not a party");
    script_orient(&s, "A1", "commune:73065", "C-GC", s_d(2, 10));
    s_expect_refused(&s, "A2", "commune:73065", "C-GC", s_d(2, 11), "maximum of 1");
    script_orient(&s, "B1", "commune:73031", "C-GC", s_d(2, 11));
    /* The whole contingent (2) is used: the EPCI itself may not orient more. */
    s_expect_refused(&s, "B2", "reservataire:grand-chambery", "C-GC", s_d(2, 12),
                     "convention C-GC would hold 3");

    /* An amendment raising the contingent to 3 is signed by the bailleur
     * and the EPCI, not by a commune of a sheet. */
    Fluxbus__V1__ConventionObjective three = FLUXBUS__V1__CONVENTION_OBJECTIVE__INIT;
    three.value = 3;
    Fluxbus__V1__ConventionObjective *more[] = {&three};
    c.revision = 2;
    c.objectives = more;
    char detail[512] = "";
    assert_int_equal(
        script_check_convention(&s, "commune:73065", &c, s_d(2, 13), detail, sizeof detail),
        INVALID);
    assert_string_equal(detail, "Convention C-GC revision 2 sent by commune:73065: an amendment is "
                                "signed by the bailleur " SC_BAILLEUR
                                " and the réservataire reservataire:grand-chambery only");
    script_convention_from(&s, "reservataire:grand-chambery", &c, s_d(2, 13));
    s_expect_refused(&s, "B2", "reservataire:grand-chambery", "C-GC", s_d(2, 14),
                     "convention C-GC would hold 3");
    script_convention_from(&s, SC_BAILLEUR, &c, s_d(2, 14));
    script_orient(&s, "B2", "reservataire:grand-chambery", "C-GC", s_d(2, 15));
    script_close(&s);
}

/* An amendment one party alone sent is a proposal, not in force: the
 * orientations are judged under revision 1 until the other party sends the
 * same revision; then it is in force from its date, even an earlier one. */
static void test_an_amendment_one_party_sent_is_not_in_force(void **state)
{
    (void)state;
    script_t s;
    script_open(&s);
    s_conv_t c = {"C1", SC_AL, 1, KIND(PLACEMENTS), UNIT(COUNT), 2, 2, NULL, NULL, 0, 0};
    s_convention(&s, &c, s_d(1, 2));
    c.revision = 2;
    c.value = 3;
    c.max = 3;
    s_convention_by(&s, &c, SC_AL, s_d(2, 1)); /* from 1 January: backdated */
    conventions_t *all = s_load(&s, "C1");
    assert_int_equal(conventions_revision_count(all, 0), 1);
    conventions_destroy(&all);
    for (int i = 0; i < 3; i++) {
        char v[4];
        snprintf(v, sizeof v, "V%d", i);
        script_libere(&s, v, "74010", 0, 0, s_d(2, 2 + i));
    }
    script_orient(&s, "V0", SC_AL, "C1", s_d(2, 10));
    script_orient(&s, "V1", SC_AL, "C1", s_d(2, 11));
    s_expect_refused(&s, "V2", SC_AL, "C1", s_d(2, 12), "maximum of 2");
    /* Sent again by the same party: a duplicate, still a proposal. */
    s_convention_by(&s, &c, SC_AL, s_d(2, 13));
    s_expect_refused(&s, "V2", SC_AL, "C1", s_d(2, 13), "maximum of 2");
    s_convention_by(&s, &c, SC_BAILLEUR, s_d(2, 14));
    all = s_load(&s, "C1");
    assert_int_equal(conventions_revision_count(all, 0), 2);
    assert_int_equal(conventions_at(all, 0, s_d(1, 1))->revision, 2);
    conventions_destroy(&all);
    script_orient(&s, "V2", SC_AL, "C1", s_d(2, 15));
    script_close(&s);
}

/* A proposal that differs from the other party's proposal of the same
 * revision is refused, naming the first field that differs; a party cannot
 * change its own proposal; the réservataire does not change either. */
static void test_an_amendment_with_other_terms_is_refused(void **state)
{
    (void)state;
    script_t s;
    script_open(&s);
    s_conv_t c = {"C1", SC_AL, 1, KIND(PLACEMENTS), UNIT(COUNT), 2, 2, NULL, NULL, 0, 0};
    s_convention(&s, &c, s_d(1, 2));
    c.revision = 2;
    c.max = 14;
    s_convention_by(&s, &c, SC_AL, s_d(2, 1));
    Fluxbus__V1__Convention other = FLUXBUS__V1__CONVENTION__INIT;
    other.convention_id = "C1";
    other.revision = 2;
    other.bailleur_actor_id = SC_BAILLEUR;
    other.reservataire_actor_id = SC_AL;
    other.year = 2025;
    s_expect_convention_refused(&s, SC_BAILLEUR, &other,
                                "Convention C1 revision 2 differs from the one " SC_AL
                                " proposed (departement): send the same terms to countersign "
                                "it, or propose revision 3");
    s_expect_convention_refused(&s, SC_AL, &other,
                                "Convention C1 revision 2 was proposed by " SC_AL
                                " already with other terms (departement): a proposal stands, an "
                                "amendment is a new revision (3)");
    other.reservataire_actor_id = SC_ETAT;
    other.revision = 3;
    s_expect_convention_refused(&s, SC_BAILLEUR, &other,
                                "Convention C1 revision 3 names réservataire " SC_ETAT
                                ", but its revision 1 binds " SC_AL
                                ": the réservataire of a convention does not change");
    conventions_t *all = s_load(&s, "C1");
    assert_int_equal(conventions_revision_count(all, 0), 1);
    conventions_destroy(&all);
    script_close(&s);
}

/* The first field that differs, in field-number order. */
static void test_amendments_difference_names_the_first_field(void **state)
{
    (void)state;
    Fluxbus__V1__Date july = FLUXBUS__V1__DATE__INIT;
    july.year = 2025;
    july.month = 7;
    july.day = 1;
    Fluxbus__V1__Date june = july;
    june.month = 6;
    Fluxbus__V1__Convention a = FLUXBUS__V1__CONVENTION__INIT, b;
    a.convention_id = "C1";
    a.revision = 2;
    a.effective_from = &july;
    a.amendment_note = "avenant";
    b = a;
    assert_null(amendments_difference(&a, &b));
    b.effective_from = &june;
    assert_string_equal(amendments_difference(&a, &b), "effective_from");
    b.amendment_note = "avenant n°2";
    b.deadline_days = 60;
    assert_string_equal(amendments_difference(&a, &b), "deadline_days");
    char *territory[] = {"74010"};
    b.n_territory_insee = 1;
    b.territory_insee = territory;
    assert_string_equal(amendments_difference(&a, &b), "deadline_days");
}

/* Revisions: the one in force on a date, at 00:00 Paris; before the first,
 * the first. */
static void test_conventions_revision_in_force_on_a_date(void **state)
{
    (void)state;
    script_t s;
    script_open(&s);
    s_conv_t r1 = {"C1", SC_AL, 1, KIND(PLACEMENTS), UNIT(COUNT), 10, 0, NULL, NULL, 1, 0};
    s_conv_t r2 = {"C1", SC_AL, 2, KIND(PLACEMENTS), UNIT(COUNT), 8, 0, NULL, NULL, 7, 0};
    s_convention(&s, &r1, s_d(1, 2));
    s_convention(&s, &r2, s_d(6, 20));
    conventions_t *c = s_load(&s, "C1");
    assert_int_equal(conventions_size(c), 1);
    assert_int_equal(conventions_revision_count(c, 0), 2);
    int64_t july = period_day_start_ms((period_date_t){2025, 7, 1});
    assert_int_equal(conventions_at(c, 0, july - 1)->revision, 1);
    assert_int_equal(conventions_at(c, 0, july)->revision, 2);
    assert_int_equal(conventions_at(c, 0, script_at(2024, 6, 1))->revision, 1);
    assert_int_equal(conventions_find(c, "C1"), 0);
    assert_int_equal(conventions_find(c, "C2"), -1);
    conventions_destroy(&c);
    conventions_destroy(&c);
    script_close(&s);
}

/* The defaults a revision's unset fields read as. */
static void test_conventions_defaults(void **state)
{
    (void)state;
    Fluxbus__V1__Convention c = FLUXBUS__V1__CONVENTION__INIT;
    c.year = 2025;
    conventions_rule_t r =
        conventions_rule(&c, FLUXBUS__V1__MANAGEMENT_MODE__MANAGEMENT_MODE_DIRECTE);
    assert_int_equal(r.method, METHOD(BAIL_SIGNE));
    assert_false(r.requires_visit);
    assert_false(conventions_remise_counted(&c));
    assert_true(conventions_expiry_counted(&c)); /* as DeadlineExpired says */
    assert_true(conventions_excludes(&c, MODE(HORS_FLUX), MOTIF(DEFENSE_SECURITE)));
    assert_false(conventions_excludes(&c, MODE(HORS_FLUX), MOTIF(OTHER)));
    assert_true(conventions_excludes(&c, MODE(STOCK), 0));
    assert_false(conventions_excludes(&c, MODE(FLUX), 0));
    assert_int_equal(conventions_effective_ms(&c),
                     period_day_start_ms((period_date_t){2025, 1, 1}));
    c.deadline_days = 15;
    assert_int_equal(conventions_deadline_days(&c, true), 15);
    c.deadline_days_first_letting = 30;
    assert_int_equal(conventions_deadline_days(&c, true), 30);
    assert_int_equal(conventions_deadline_days(&c, false), 15);
    /* Legacy fields 8-11 are the placements objective. */
    c.reservataire_actor_id = SC_AL;
    c.objective = 12;
    c.objective_max = 14;
    conventions_objective_t o[4];
    assert_int_equal(conventions_objectives(&c, SC_AL, 2025, o, 4), 1);
    assert_int_equal(o[0].kind, KIND(PLACEMENTS));
    assert_int_equal(o[0].unit, UNIT(COUNT));
    assert_int_equal(o[0].max, 14);
    assert_int_equal(conventions_objectives(&c, SC_ETAT, 2025, o, 4), 0);
    /* A rule for one mode; a catch-all rule for the others. */
    Fluxbus__V1__CountingRule deleg = FLUXBUS__V1__COUNTING_RULE__INIT, any = deleg;
    deleg.mode = FLUXBUS__V1__MANAGEMENT_MODE__MANAGEMENT_MODE_DELEGUEE;
    deleg.method = METHOD(ORIENTATION_ACCEPTEE);
    any.method = METHOD(PASSAGE_CALEOL);
    any.caleol_requires_visit = true;
    Fluxbus__V1__CountingRule *rules[] = {&deleg, &any};
    c.n_counting_rules = 2;
    c.counting_rules = rules;
    assert_int_equal(
        conventions_rule(&c, FLUXBUS__V1__MANAGEMENT_MODE__MANAGEMENT_MODE_DELEGUEE).method,
        METHOD(ORIENTATION_ACCEPTEE));
    r = conventions_rule(&c, FLUXBUS__V1__MANAGEMENT_MODE__MANAGEMENT_MODE_PARTENARIALE);
    assert_int_equal(r.method, METHOD(PASSAGE_CALEOL));
    assert_true(r.requires_visit);
}

/* ---- the délai ---- */

#define S_DAY_MS (24 * 3600 * 1000LL)

/* Checks, and records when it fits, an Orientation of vacancy to AL under
 * C-D (round 1) with this deadline (0: none). */
static fb_err_t s_orient_by(script_t *s, const char *vacancy, int64_t deadline, int64_t at,
                            char *detail, size_t dlen)
{
    Fluxbus__V1__Orientation o = script_orientation(vacancy, SC_AL, "C-D", 1, at);
    o.deadline_ms = deadline;
    fb_err_t rc =
        script_check(s, SC_BAILLEUR, SC_TYPE(ORIENTATION), vacancy, SC_AL, at, &o, detail, dlen);
    if (rc == FB_OK)
        script_record(s, SC_BAILLEUR, SC_TYPE(ORIENTATION), vacancy, SC_AL, at, &o);
    return rc;
}

static int64_t s_stored_deadline(script_t *s, const char *vacancy)
{
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(ledger_db(s->ledger),
                                        "SELECT deadline_ms FROM ledger_orientations"
                                        " WHERE vacancy_id = ?1",
                                        -1, &st, NULL),
                     SQLITE_OK);
    sqlite3_bind_text(st, 1, vacancy, -1, SQLITE_STATIC);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    int64_t deadline = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return deadline;
}

/* Convention C-D of 2025 with AL: 15 days for an existing dwelling, 30 for
 * a first letting; `revision` 2 (from 1 June) gives 20 days. */
static void s_delai_convention(script_t *s, unsigned revision)
{
    Fluxbus__V1__Date june = FLUXBUS__V1__DATE__INIT;
    june.year = 2025;
    june.month = 6;
    june.day = 1;
    Fluxbus__V1__Convention c = FLUXBUS__V1__CONVENTION__INIT;
    c.convention_id = "C-D";
    c.revision = revision;
    c.bailleur_actor_id = SC_BAILLEUR;
    c.reservataire_actor_id = SC_AL;
    c.year = 2025;
    c.deadline_days = revision == 1 ? 15 : 20;
    c.deadline_days_first_letting = 30;
    c.effective_from = revision == 1 ? NULL : &june;
    script_convention(s, &c, s_d(1, 2));
}

/* An orientation without a deadline gets its acceptance plus the délai for
 * its kind of dwelling, under the revision in force; stored, and kept when
 * the same orientation comes again. */
static void test_orientation_without_a_deadline_gets_the_conventions_delai(void **state)
{
    (void)state;
    script_t s;
    script_open(&s);
    s_delai_convention(&s, 1);
    s_delai_convention(&s, 2);
    script_libere(&s, "OLD", "74010", 0, 0, s_d(2, 1));
    script_libere(&s, "NEUF", "74010", MODE(STOCK), 0, s_d(2, 1));
    script_libere(&s, "JUNE", "74010", 0, 0, s_d(6, 1));
    char detail[256] = "";
    assert_int_equal(s_orient_by(&s, "OLD", 0, s_d(2, 2), detail, sizeof detail), FB_OK);
    assert_int_equal(s_orient_by(&s, "NEUF", 0, s_d(2, 2), detail, sizeof detail), FB_OK);
    assert_int_equal(s_orient_by(&s, "JUNE", 0, s_d(6, 2), detail, sizeof detail), FB_OK);
    assert_int_equal(s_stored_deadline(&s, "OLD"), s_d(2, 2) + 15 * S_DAY_MS);
    assert_int_equal(s_stored_deadline(&s, "NEUF"), s_d(2, 2) + 30 * S_DAY_MS);
    assert_int_equal(s_stored_deadline(&s, "JUNE"), s_d(6, 2) + 20 * S_DAY_MS);
    /* A week later, the same orientation: a repeat, its deadline kept. */
    assert_int_equal(s_orient_by(&s, "OLD", 0, s_d(2, 9), detail, sizeof detail), FB_OK);
    assert_int_equal(s_stored_deadline(&s, "OLD"), s_d(2, 2) + 15 * S_DAY_MS);
    /* With another deadline, the same round has other terms. */
    assert_int_equal(
        s_orient_by(&s, "OLD", s_d(2, 2) + 16 * S_DAY_MS, s_d(2, 9), detail, sizeof detail),
        INVALID);
    assert_non_null(strstr(detail, "sent already with other terms"));
    script_close(&s);
}

/* The bailleur may give more time than the délai, not less: a deadline on
 * a day before the délai ends is refused; on that day or later, kept. */
static void test_orientation_deadline_shorter_than_the_delai_is_refused(void **state)
{
    (void)state;
    script_t s;
    script_open(&s);
    s_delai_convention(&s, 1);
    script_libere(&s, "V0", "74010", 0, 0, s_d(2, 1));
    script_libere(&s, "V1", "74010", 0, 0, s_d(2, 1));
    script_libere(&s, "NEUF", "74010", MODE(STOCK), 0, s_d(2, 1));
    char detail[512] = "";
    /* 10:00 on 2 February: the délai ends on 17 February. */
    int64_t at = s_d(2, 2);
    assert_int_equal(s_orient_by(&s, "V0", script_at(2025, 2, 16) + 4 * 3600 * 1000LL, at, detail,
                                 sizeof detail),
                     INVALID);
    assert_string_equal(detail, "Orientation of V0 to " SC_AL " with a deadline on 2025-02-16,"
                                " shorter than the 15 days convention C-D (revision 1) grants for"
                                " an existing dwelling (until 2025-02-17): the bailleur may give"
                                " more time, not less");
    assert_int_equal(s_orient_by(&s, "NEUF", at + 20 * S_DAY_MS, at, detail, sizeof detail),
                     INVALID);
    assert_non_null(strstr(detail, "shorter than the 30 days convention C-D (revision 1) grants "
                                   "for a first letting (until 2025-03-04)"));
    /* On the last day, a little before the hour: the délai counts days. */
    int64_t last_day = period_day_start_ms((period_date_t){2025, 2, 17});
    assert_int_equal(s_orient_by(&s, "V0", last_day, at, detail, sizeof detail), FB_OK);
    assert_int_equal(s_stored_deadline(&s, "V0"), last_day);
    assert_int_equal(s_orient_by(&s, "V1", at + 40 * S_DAY_MS, at, detail, sizeof detail), FB_OK);
    assert_int_equal(s_stored_deadline(&s, "V1"), at + 40 * S_DAY_MS);
    script_close(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_orientation_over_the_maximum_is_refused),
        cmocka_unit_test(test_a_convention_is_amended_by_its_parties_only),
        cmocka_unit_test(test_orientation_outside_the_conventions_year_is_refused),
        cmocka_unit_test(test_orientations_under_every_convention_count_in_the_bailleurs_flux),
        cmocka_unit_test(test_orientation_en_flux_names_a_known_convention_in_force),
        cmocka_unit_test(test_orientation_without_a_deadline_gets_the_conventions_delai),
        cmocka_unit_test(test_orientation_deadline_shorter_than_the_delai_is_refused),
        cmocka_unit_test(test_counted_remise_keeps_the_right_used),
        cmocka_unit_test(test_orientation_over_a_per_mille_share_is_refused),
        cmocka_unit_test(test_per_mille_share_counts_the_dwellings_freed_in_its_territory),
        cmocka_unit_test(test_orientation_over_the_bailleurs_flux_is_refused),
        cmocka_unit_test(test_orientation_outside_the_territory_is_refused),
        cmocka_unit_test(test_orientation_hors_flux_and_first_letting),
        cmocka_unit_test(test_orientation_parties_of_the_convention),
        cmocka_unit_test(test_orientation_multipartite_sheets),
        cmocka_unit_test(test_an_amendment_one_party_sent_is_not_in_force),
        cmocka_unit_test(test_an_amendment_with_other_terms_is_refused),
        cmocka_unit_test(test_amendments_difference_names_the_first_field),
        cmocka_unit_test(test_conventions_revision_in_force_on_a_date),
        cmocka_unit_test(test_conventions_defaults),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
