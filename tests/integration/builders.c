/* builders.c - see builders.h. Owns the common fields of the integration
 * tests' domain messages (on top of tests/support/life_msgs.c, shared with
 * the unit tests and the benches) and nothing else: no allocation, no
 * sending. */
#include "builders.h"

#include "fluxbus/fluxbus.h"

Fluxbus__V1__Convention builders_convention(const char *id, const char *bailleur, const char *resa,
                                            int year)
{
    Fluxbus__V1__Convention c = FLUXBUS__V1__CONVENTION__INIT;
    c.convention_id = (char *)id;
    c.revision = 1;
    c.bailleur_actor_id = (char *)bailleur;
    c.bailleur_siren = BUILDERS_SIREN;
    c.reservataire_actor_id = (char *)resa;
    c.year = (uint32_t)year;
    return c;
}

void builders_annecy(builders_annecy_t *k, const char *id, const char *bailleur, const char *resa,
                     int year)
{
    Fluxbus__V1__ConventionObjective o = FLUXBUS__V1__CONVENTION_OBJECTIVE__INIT;
    k->objective = o;
    k->objective.kind = FLUXBUS__V1__OBJECTIVE_KIND__OBJECTIVE_KIND_PLACEMENTS;
    k->objective.unit = FLUXBUS__V1__OBJECTIVE_UNIT__OBJECTIVE_UNIT_COUNT;
    k->objective.value = 3;
    k->objective.max = 3;
    k->objectives[0] = &k->objective;
    k->territory[0] = "74010";
    k->territory[1] = "74011";
    k->c = builders_convention(id, bailleur, resa, year);
    k->c.departement = "74";
    k->c.contingent = FLUXBUS__V1__CONTINGENT_TYPE__CONTINGENT_TYPE_ACTION_LOGEMENT;
    k->c.n_objectives = 1;
    k->c.objectives = k->objectives;
    k->c.counting_method = FLUXBUS__V1__COUNTING_METHOD__COUNTING_METHOD_BAIL_SIGNE;
    k->c.remise_counting = FLUXBUS__V1__DEADLINE_COUNTING__DEADLINE_COUNTING_NOT_COUNTED;
    k->c.deadline_days = 15;
    k->c.n_territory_insee = 2;
    k->c.territory_insee = k->territory;
}

Fluxbus__V1__LogementLibere builders_libere(const char *vacancy, const char *insee)
{
    Fluxbus__V1__LogementLibere l = FLUXBUS__V1__LOGEMENT_LIBERE__INIT;
    l.vacancy_id = (char *)vacancy;
    l.commune_insee = (char *)insee;
    l.typologie = FLUXBUS__V1__TYPOLOGIE__TYPOLOGIE_T3;
    return l;
}

Fluxbus__V1__OrientationAck builders_ack(const char *vacancy, const char *convention)
{
    Fluxbus__V1__OrientationAck a = life_msgs_ack(vacancy);
    a.convention_id = (char *)convention;
    return a;
}

Fluxbus__V1__Designation builders_designation(const char *vacancy, const char *convention,
                                              const char *nur, unsigned rank, unsigned count)
{
    Fluxbus__V1__Designation d = life_msgs_designation(vacancy, nur, rank, count);
    if (convention) /* else the empty default */
        d.convention_id = (char *)convention;
    d.household_size = 2;
    return d;
}

Fluxbus__V1__CaleolDecision builders_decision(const char *seance, const char *vacancy,
                                              const char *nur, unsigned rank,
                                              const char *designataire, int code)
{
    Fluxbus__V1__CaleolDecision d =
        life_msgs_decision(seance, vacancy, nur, rank, designataire, code, fb_now_ms());
    d.revision = 1;
    return d;
}

void builders_seance(builders_seance_t *k, const char *seance, const char *vacancy,
                     const char *insee)
{
    k->vacancies[0] = (char *)vacancy;
    k->communes[0] = (char *)insee;
    Fluxbus__V1__CaleolSeance s = FLUXBUS__V1__CALEOL_SEANCE__INIT;
    k->s = s;
    k->s.seance_id = (char *)seance;
    k->s.revision = 1;
    k->s.status = FLUXBUS__V1__CALEOL_SEANCE_STATUS__CALEOL_SEANCE_STATUS_SCHEDULED;
    k->s.bailleur_siren = BUILDERS_SIREN;
    k->s.start_ms = fb_now_ms();
    k->s.end_ms = k->s.start_ms + 3600000;
    k->s.n_vacancy_ids = 1;
    k->s.vacancy_ids = k->vacancies;
    k->s.n_communes_insee = 1;
    k->s.communes_insee = k->communes;
}

Fluxbus__V1__BailSigne builders_lease(const char *vacancy, const char *nur,
                                      const char *designataire)
{
    Fluxbus__V1__BailSigne b = life_msgs_lease(vacancy, nur, designataire);
    b.commune_insee = "74010";
    return b;
}
