/* cmd_status.c - `fluxbus status`: what the store holds, read locally on the
 * broker host: messages stored, actors, and the delivery backlog of each
 * recipient (messages queued but not acknowledged).
 *
 * Owns: gathering those numbers into one JSON object, and its text form.
 * Reads only; never creates a store. */
#include "common.h"

static const char s_help[] =
    "usage: fluxbus status --store DB [--json]\n"
    "\n"
    "Prints the number of messages stored, of actors (active and revoked), and the\n"
    "backlog of each recipient: pending deliveries and the oldest pending seq.\n"
    "\n"
    "options:\n"
    "  --json            one JSON object: {\"store\", \"messages\",\n"
    "                    \"actors\":{\"active\", \"revoked\"},\n"
    "                    \"backlog\":[{\"recipient\", \"pending\", \"oldest_seq\"}]}\n"
    "  -h, --help        this help\n";

static void s_on_actor(void *ctx, const store_actor_t *actor)
{
    json_int_t *counts = ctx; /* [active, revoked] */
    counts[actor->revoked_at_ms ? 1 : 0]++;
}

static void s_on_backlog(void *ctx, const char *recipient, uint64_t pending, uint64_t oldest_seq)
{
    json_array_append_new(ctx,
                          json_pack("{s:s, s:I, s:I}", "recipient", recipient, "pending",
                                    (json_int_t)pending, "oldest_seq", (json_int_t)oldest_seq));
}

/* Gathers the status into *out (new reference). */
static fb_err_t s_gather(store_t *store, const char *path, json_t **out)
{
    uint64_t messages = 0;
    json_int_t actors[2] = {0, 0};
    json_t *backlog = json_array();
    fb_err_t err = store_count(store, &messages);
    if (err == FB_OK)
        err = store_actor_each(store, s_on_actor, actors);
    if (err == FB_OK)
        err = store_backlog(store, s_on_backlog, backlog);
    *out =
        json_pack("{s:s, s:I, s:{s:I, s:I}, s:o}", "store", path, "messages", (json_int_t)messages,
                  "actors", "active", actors[0], "revoked", actors[1], "backlog", backlog);
    if (err == FB_OK && !*out)
        err = FB_ERR_NOMEM;
    return err;
}

static void s_print_text(const json_t *status)
{
    const json_t *actors = json_object_get(status, "actors");
    const json_t *backlog = json_object_get(status, "backlog");
    json_int_t pending = 0;
    size_t i;
    const json_t *row;
    json_array_foreach(backlog, i, row) pending +=
        json_integer_value(json_object_get(row, "pending"));
    printf("store     %s\n", json_string_value(json_object_get(status, "store")));
    printf("messages  %" JSON_INTEGER_FORMAT "\n",
           json_integer_value(json_object_get(status, "messages")));
    printf("actors    %" JSON_INTEGER_FORMAT " active, %" JSON_INTEGER_FORMAT " revoked\n",
           json_integer_value(json_object_get(actors, "active")),
           json_integer_value(json_object_get(actors, "revoked")));
    printf("backlog   %" JSON_INTEGER_FORMAT " pending for %zu recipients\n", pending,
           json_array_size(backlog));
    if (json_array_size(backlog) > 0)
        printf("\n%-40s  %10s  %10s\n", "RECIPIENT", "PENDING", "OLDEST_SEQ");
    json_array_foreach(backlog, i, row)
    {
        printf("%-40s  %10" JSON_INTEGER_FORMAT "  %10" JSON_INTEGER_FORMAT "\n",
               json_string_value(json_object_get(row, "recipient")),
               json_integer_value(json_object_get(row, "pending")),
               json_integer_value(json_object_get(row, "oldest_seq")));
    }
}

int cmd_status(int argc, char **argv)
{
    static const struct option opts[] = {
        COMMON_OPTION_STORE, {"json", no_argument, NULL, 'j'}, COMMON_OPTION_HELP, {0}};
    const char *path = common_store_default();
    bool as_json = false;
    int c;
    while ((c = common_getopt("status", argc, argv, opts)) != -1) {
        switch (c) {
        case COMMON_OPT_STORE:
            path = optarg;
            break;
        case 'j':
            as_json = true;
            break;
        case 'h':
            return common_help(s_help, COMMON_HELP_STORE);
        default:
            return EXIT_USAGE;
        }
    }
    if (optind < argc)
        return common_fail("status", EXIT_USAGE, "unexpected argument \"%s\"", argv[optind]);

    store_t *store = common_store_open("status", path, true);
    if (!store)
        return EXIT_STORE;
    json_t *status = NULL;
    fb_err_t err = s_gather(store, path, &status);
    store_destroy(&store);
    if (err != FB_OK) {
        json_decref(status);
        return common_fail("status", common_exit_code(err), "%s: %s", path, fb_err_str(err));
    }
    if (as_json)
        return common_print_json(stdout, status)
                   ? EXIT_OK
                   : common_fail("status", EXIT_INPUT, "cannot write the output");
    s_print_text(status);
    json_decref(status);
    return EXIT_OK;
}
