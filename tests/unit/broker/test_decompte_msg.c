/* test_decompte_msg.c - the broker's DecompteDroits payload
 * (broker/decompte_msg.c): a décompte line's tallies and objectives land in
 * the right fields, the whole convention is marked as such, the digest
 * ignores computed_ms and sequence but nothing else, and a line without
 * any event is not active. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "decompte_msg.h"

#define S_METHOD(x) FLUXBUS__V1__COUNTING_METHOD__COUNTING_METHOD_##x

/* A bilateral convention counting at the CALEOL agreement, with a rule of
 * its own for gestion partenariale, and one line for its réservataire. */
typedef struct {
    Fluxbus__V1__Convention rev;
    Fluxbus__V1__CountingRule rule;
    Fluxbus__V1__CountingRule *rules[1];
    decompte_convention_t item;
    decompte_line_t line;
    period_t period;
} s_fixture_t;

static void s_fixture(s_fixture_t *f)
{
    Fluxbus__V1__Convention rev = FLUXBUS__V1__CONVENTION__INIT;
    Fluxbus__V1__CountingRule rule = FLUXBUS__V1__COUNTING_RULE__INIT;
    memset(f, 0, sizeof *f);
    f->rev = rev;
    f->rule = rule;
    f->rule.mode = FLUXBUS__V1__MANAGEMENT_MODE__MANAGEMENT_MODE_PARTENARIALE;
    f->rule.method = S_METHOD(BAIL_SIGNE);
    f->rules[0] = &f->rule;
    f->rev.convention_id = "conv-74-al-2026";
    f->rev.revision = 2;
    f->rev.bailleur_actor_id = "bailleur:552046955";
    f->rev.reservataire_actor_id = "reservataire:action-logement";
    f->rev.year = 2026;
    f->rev.counting_method = S_METHOD(PASSAGE_CALEOL);
    f->rev.counting_rules = f->rules;
    f->rev.n_counting_rules = 1;
    f->rev.remise_counting = FLUXBUS__V1__DEADLINE_COUNTING__DEADLINE_COUNTING_COUNTED;
    f->item.rev = &f->rev;
    f->item.lines = &f->line;
    f->item.n_lines = 1;
    snprintf(f->line.party, sizeof f->line.party, "reservataire:action-logement");
    decompte_tally_t *t = &f->line.tally;
    t->freed = 12;
    t->hors_flux = 2;
    t->orientations = 5;
    t->acks = 4;
    t->designations = 9;
    t->caleol_attributions = 3;
    t->leases = 2;
    t->offres = 5;
    t->counts[DECOMPTE_ORIENTATION_ACCEPTEE] = 4;
    t->counts[DECOMPTE_PASSAGE_CALEOL] = 3;
    t->counts[DECOMPTE_BAIL_SIGNE] = 2;
    t->counts[DECOMPTE_OFFICIAL] = 3;
    decompte_objective_t *o = &f->line.objectives[0];
    o->kind = FLUXBUS__V1__OBJECTIVE_KIND__OBJECTIVE_KIND_OFFRES;
    o->unit = FLUXBUS__V1__OBJECTIVE_UNIT__OBJECTIVE_UNIT_COUNT;
    o->value = o->target = 6;
    o->done = 5;
    o->remaining = 1;
    o->status = "in_progress";
    o = &f->line.objectives[1];
    o->kind = FLUXBUS__V1__OBJECTIVE_KIND__OBJECTIVE_KIND_PLACEMENTS;
    o->unit = FLUXBUS__V1__OBJECTIVE_UNIT__OBJECTIVE_UNIT_PER_MILLE;
    o->value = 250;
    o->max = 400;
    o->base = 12;
    o->target = 3;
    o->target_max = 5;
    o->done = 3;
    o->remaining = 0;
    o->status = "reached";
    f->line.n_objectives = 2;
    f->period = period_year(2026);
}

static void test_a_line_fills_every_field(void **state)
{
    (void)state;
    s_fixture_t f;
    s_fixture(&f);
    decompte_msg_t m;
    decompte_msg_build(&m, &f.item, &f.line, &f.period);
    const Fluxbus__V1__DecompteDroits *d = &m.msg;
    assert_string_equal(d->convention_id, "conv-74-al-2026");
    assert_int_equal(d->period->start->year, 2026);
    assert_int_equal(d->period->start->month, 1);
    assert_int_equal(d->period->end->day, 31);
    assert_int_equal(d->computed_ms, 0);
    assert_int_equal(d->sequence, 0);
    assert_int_equal(d->counting_method, S_METHOD(PASSAGE_CALEOL));
    assert_int_equal(d->n_counting_rules, 1);
    assert_int_equal(d->counting_rules[0]->method, S_METHOD(BAIL_SIGNE));
    assert_true(d->remise_counted);
    assert_true(d->expiry_counted);
    assert_int_equal(d->logements_liberes, 12);
    assert_int_equal(d->hors_flux, 2);
    assert_int_equal(d->orientations, 5);
    assert_int_equal(d->count_orientation_acceptee, 4);
    assert_int_equal(d->count_passage_caleol, 3);
    assert_int_equal(d->count_bail_signe, 2);
    /* Fields 10-12 from the placements objective, not the first one. */
    assert_int_equal(d->objective, 3);
    assert_int_equal(d->done, 3);
    assert_int_equal(d->remaining, 0);
    assert_string_equal(d->bailleur_actor_id, "bailleur:552046955");
    assert_string_equal(d->party_actor_id, "reservataire:action-logement");
    assert_string_equal(d->commune_insee, "");
    assert_false(d->convention_total);
    assert_int_equal(d->convention_revision, 2);
    assert_int_equal(d->activity->acks, 4);
    assert_int_equal(d->activity->designations, 9);
    assert_int_equal(d->activity->caleol_attributions, 3);
    assert_int_equal(d->activity->leases, 2);
    assert_int_equal(d->activity->offres, 5);
    assert_int_equal(d->n_objectives, 2);
    assert_int_equal(d->objectives[0]->kind, FLUXBUS__V1__OBJECTIVE_KIND__OBJECTIVE_KIND_OFFRES);
    assert_int_equal(d->objectives[0]->status,
                     FLUXBUS__V1__OBJECTIVE_STATUS__OBJECTIVE_STATUS_IN_PROGRESS);
    assert_int_equal(d->objectives[1]->unit, FLUXBUS__V1__OBJECTIVE_UNIT__OBJECTIVE_UNIT_PER_MILLE);
    assert_int_equal(d->objectives[1]->value, 250);
    assert_int_equal(d->objectives[1]->max, 400);
    assert_int_equal(d->objectives[1]->per_mille_base, 12);
    assert_int_equal(d->objectives[1]->target_max, 5);
    assert_int_equal(d->objectives[1]->status,
                     FLUXBUS__V1__OBJECTIVE_STATUS__OBJECTIVE_STATUS_REACHED);
    assert_true(decompte_msg_active(&f.line));
}

static void test_without_placements_objective_done_is_the_official_count(void **state)
{
    (void)state;
    s_fixture_t f;
    s_fixture(&f);
    f.line.n_objectives = 1; /* the offers objective only */
    decompte_msg_t m;
    decompte_msg_build(&m, &f.item, &f.line, &f.period);
    assert_int_equal(m.msg.objective, 0);
    assert_int_equal(m.msg.done, 3);
    assert_int_equal(m.msg.remaining, 0);
}

static void test_the_whole_convention_is_marked(void **state)
{
    (void)state;
    s_fixture_t f;
    s_fixture(&f);
    f.item.total = f.line;
    snprintf(f.item.total.party, sizeof f.item.total.party, "reservataire:grand-chambery");
    decompte_msg_t m;
    decompte_msg_build(&m, &f.item, &f.item.total, &f.period);
    assert_true(m.msg.convention_total);
    assert_string_equal(m.msg.party_actor_id, "reservataire:grand-chambery");
    decompte_msg_build(&m, &f.item, &f.line, &f.period);
    assert_false(m.msg.convention_total);
}

static void test_digest_ignores_when_and_sequence_only(void **state)
{
    (void)state;
    s_fixture_t f;
    s_fixture(&f);
    decompte_msg_t m;
    uint8_t a[32], b[32];
    decompte_msg_build(&m, &f.item, &f.line, &f.period);
    assert_int_equal(decompte_msg_digest(&m, a), FB_OK);
    m.msg.computed_ms = 1796131203120;
    m.msg.sequence = 7;
    assert_int_equal(decompte_msg_digest(&m, b), FB_OK);
    assert_memory_equal(a, b, 32);
    /* One more lease, counted by the lease method only: another digest. */
    f.line.tally.counts[DECOMPTE_BAIL_SIGNE]++;
    decompte_msg_build(&m, &f.item, &f.line, &f.period);
    assert_int_equal(decompte_msg_digest(&m, b), FB_OK);
    assert_memory_not_equal(a, b, 32);
    /* A new revision of the same terms: another digest. */
    f.line.tally.counts[DECOMPTE_BAIL_SIGNE]--;
    f.rev.revision = 3;
    decompte_msg_build(&m, &f.item, &f.line, &f.period);
    assert_int_equal(decompte_msg_digest(&m, b), FB_OK);
    assert_memory_not_equal(a, b, 32);
}

static void test_a_line_without_events_is_not_active(void **state)
{
    (void)state;
    decompte_line_t line;
    memset(&line, 0, sizeof line);
    assert_false(decompte_msg_active(&line));
    line.tally.hors_flux = 1; /* a dwelling freed, even out of the flux */
    assert_true(decompte_msg_active(&line));
    line.tally.hors_flux = 0;
    line.tally.counts[DECOMPTE_OFFICIAL] = 1;
    assert_true(decompte_msg_active(&line));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_a_line_fills_every_field),
        cmocka_unit_test(test_without_placements_objective_done_is_the_official_count),
        cmocka_unit_test(test_the_whole_convention_is_marked),
        cmocka_unit_test(test_digest_ignores_when_and_sequence_only),
        cmocka_unit_test(test_a_line_without_events_is_not_active),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
