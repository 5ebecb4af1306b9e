#include "scen.h"
int scen_backlog(scen_t *sc, int argc, char **argv)
{
    (void)sc;
    (void)argc;
    (void)argv;
    return SCEN_USAGE;
}
