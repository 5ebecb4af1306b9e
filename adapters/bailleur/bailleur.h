/* bailleur.h - the bailleur adapter's running context: its link to the
 * broker, its state, its spool directories and its settings, built once by
 * main.c from the config file and handed to the inbox, the deadline
 * watcher and the delivery handler. */
#ifndef FLUXBUS_ADAPTER_BAILLEUR_BAILLEUR_H
#define FLUXBUS_ADAPTER_BAILLEUR_BAILLEUR_H

#include <stdbool.h>

#include "adapter.h"
#include "routing.h"
#include "state.h"

typedef struct {
    adapter_t *adapter;
    state_t *state;
    /* spool root and its four directories */
    char *spool, *inbox, *done, *rejected, *outbox;
    routing_conf_t routing;
    const char *tz; /* time zone of CSV dates and of LogementIssue dates */
    char csv_sep;
    int settle_ms;
    bool deadline_watch;
    int deadline_counting; /* Fluxbus__V1__DeadlineCounting */
    /* The last file kept in the inbox for want of the broker: said once. */
    char waiting[256];
} bailleur_t;

#endif
