/* sim.c - fluxbus-sne-sim: plays the SNE's side of the file exchange
 * (docs/SNE-FILES.md) for demos and tests.
 *
 * Watches DIR/requests/ (polling), answers each record into DIR/answers/
 * and moves the request to DIR/requests/done/ (an unreadable one to
 * DIR/requests/rejected/ beside a .error.json). The judgement is
 * sim_judge.c; the books are sim_db.c.
 *
 * Order per request, so a crash never judges a record twice: the answer is
 * committed to the database first, then written (atomically) to answers/,
 * then the request is moved. A request seen again - after a crash, or
 * submitted again by the adapter - gets the stored answer, byte for byte. */
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "fluxbus/envelope.h"
#include "localdate.h"
#include "sim_db.h"
#include "sim_judge.h"
#include "sne_files.h"
#include "nur.h"
#include "spool.h"

static volatile sig_atomic_t s_stop;

static const char s_usage[] =
    "usage: fluxbus-sne-sim --dir DIR [--demandes FILE] [--once] [options]\n"
    "\n"
    "Plays the SNE for demos and tests: answers the records that fluxbus-adapter-sne\n"
    "writes to DIR/requests/ (docs/SNE-FILES.md). Prints \"ready dir=...\" once\n"
    "watching.\n"
    "\n"
    "  --dir DIR         the exchange directory (created if missing)\n"
    "  --demandes FILE   known demandes, one NUR per line ('#' comments); with it an\n"
    "                    unknown NUR is answered UNKNOWN_NUR\n"
    "  --accept-any      open a demande for any well-formed NUR on first sight (the\n"
    "                    default without --demandes)\n"
    "  --strict          answer UNKNOWN_NUR for any NUR not known (the default with\n"
    "                    --demandes)\n"
    "  --db FILE         the simulator's SQLite file (default DIR/sne-sim.db)\n"
    "  --poll-ms N       how often DIR/requests/ is looked at (default 100)\n"
    "  --timezone ZONE   the zone of \"today\" for the date checks (default\n"
    "                    Europe/Paris)\n"
    "  --once            answer what is waiting, then exit\n"
    "  --log-level L     error, warn, info (default) or debug\n";

typedef struct {
    const char *dir;
    const char *demandes;
    const char *db_path;
    const char *tz; /* of "today" */
    int poll_ms;
    bool once;
    int accept; /* -1 strict, 0 default, 1 accept any */
    fb_log_level_t level;
} s_opts_t;

typedef struct {
    s_opts_t opts;
    sim_policy_t policy;
    sim_db_t *db;
    char *requests, *requests_done, *requests_rejected, *answers;
    fb_err_t last_scan; /* to log a failing scan once, not at every poll */
} s_sim_t;

static void s_log(const s_sim_t *sim, fb_log_level_t level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void s_log(const s_sim_t *sim, fb_log_level_t level, const char *fmt, ...)
{
    if (level < sim->opts.level)
        return;
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    fprintf(stderr, "fluxbus-sne-sim: %s: %s\n", fb_log_level_name(level), line);
}

static void s_on_signal(int sig)
{
    (void)sig;
    s_stop = 1;
}

/* ---- command line ---- */

static bool s_level(const char *name, fb_log_level_t *out)
{
    for (int l = FB_LOG_DEBUG; l <= FB_LOG_ERROR; l++)
        if (strcmp(fb_log_level_name((fb_log_level_t)l), name) == 0) {
            *out = (fb_log_level_t)l;
            return true;
        }
    return false;
}

/* 0 to run, else the exit code (-1: --help, exit 0). */
static int s_parse_args(int argc, char **argv, s_opts_t *o)
{
    static const struct option opts[] = {
        {"dir", required_argument, NULL, 'd'},
        {"demandes", required_argument, NULL, 'n'},
        {"db", required_argument, NULL, 'b'},
        {"poll-ms", required_argument, NULL, 'p'},
        {"once", no_argument, NULL, 'o'},
        {"accept-any", no_argument, NULL, 'a'},
        {"strict", no_argument, NULL, 's'},
        {"log-level", required_argument, NULL, 'l'},
        {"timezone", required_argument, NULL, 'z'},
        {"help", no_argument, NULL, 'h'},
        {0},
    };
    memset(o, 0, sizeof *o);
    o->poll_ms = 100;
    o->tz = "Europe/Paris";
    o->level = FB_LOG_INFO;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        char *end = NULL;
        switch (c) {
        case 'd':
            o->dir = optarg;
            break;
        case 'n':
            o->demandes = optarg;
            break;
        case 'b':
            o->db_path = optarg;
            break;
        case 'p':
            o->poll_ms = (int)strtol(optarg, &end, 10);
            if (*end || o->poll_ms < 1 || o->poll_ms > 60000) {
                fprintf(stderr, "fluxbus-sne-sim: --poll-ms: \"%s\" is not 1..60000\n", optarg);
                return 1;
            }
            break;
        case 'o':
            o->once = true;
            break;
        case 'a':
            o->accept = 1;
            break;
        case 's':
            o->accept = -1;
            break;
        case 'l':
            if (!s_level(optarg, &o->level)) {
                fprintf(stderr,
                        "fluxbus-sne-sim: --log-level: \"%s\" is not error, warn, "
                        "info or debug\n",
                        optarg);
                return 1;
            }
            break;
        case 'z':
            if (!localdate_zone_known(optarg)) {
                fprintf(stderr, "fluxbus-sne-sim: --timezone: \"%s\" is not a known time zone\n",
                        optarg);
                return 1;
            }
            o->tz = optarg;
            break;
        case 'h':
            fputs(s_usage, stdout);
            return -1;
        default:
            fprintf(stderr, "fluxbus-sne-sim: unknown option or missing value: %s (see --help)\n",
                    argv[optind - 1]);
            return 1;
        }
    }
    if (!o->dir || optind != argc) {
        fprintf(stderr, "usage: fluxbus-sne-sim --dir DIR [--demandes FILE] [--once] (see "
                        "--help)\n");
        return 1;
    }
    return 0;
}

/* ---- the demandes file ---- */

/* Loads one NUR per line; a bad line stops with "FILE:LINE: reason". */
static int s_load_demandes(s_sim_t *sim, const char *path, int64_t *loaded)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "fluxbus-sne-sim: --demandes %s: cannot open\n", path);
        return 2;
    }
    char line[256];
    unsigned no = 0;
    int rc = sim_db_begin(sim->db) == FB_OK ? 0 : 3;
    while (rc == 0 && fgets(line, sizeof line, f)) {
        no++;
        char *s = line + strspn(line, " \t");
        s[strcspn(s, "\r\n")] = '\0';
        for (size_t n = strlen(s); n && (s[n - 1] == ' ' || s[n - 1] == '\t'); n--)
            s[n - 1] = '\0';
        if (!*s || *s == '#')
            continue;
        char why[160];
        if (!nur_check(s, why, sizeof why)) {
            fprintf(stderr, "fluxbus-sne-sim: %s:%u: \"%s\" is not a NUR: %s\n", path, no, s, why);
            rc = 2;
        } else if (sim_db_add_demande(sim->db, s, "preloaded") != FB_OK) {
            rc = 3;
        } else {
            (*loaded)++;
        }
    }
    fclose(f);
    if (rc == 0 && sim_db_commit(sim->db) != FB_OK)
        rc = 3;
    if (rc != 0)
        sim_db_rollback(sim->db);
    return rc;
}

/* ---- one request ---- */

static bool s_ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* Moves an unreadable request to requests/rejected/ beside its reason. */
static void s_reject_file(s_sim_t *sim, const char *name, const sne_problem_t *p)
{
    s_log(sim, FB_LOG_ERROR, "request set aside file=%s field=%s reason=\"%s\"", name,
          *p->field ? p->field : "-", p->message);
    json_t *why =
        json_pack("{s:s, s:s, s:s}", "file", name, "field", p->field, "reason", p->message);
    char final[600];
    fb_err_t rc = why ? spool_set_aside(sim->requests, name, sim->requests_rejected, ".error.json",
                                        why, final, sizeof final)
                      : FB_ERR_NOMEM;
    json_decref(why);
    if (rc != FB_OK)
        s_log(sim, FB_LOG_ERROR, "cannot set aside file=%s reason=%s", name, fb_err_name(rc));
}

static void s_now_iso(char *buf, size_t cap)
{
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, cap, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* The answer text for a record: the stored one (replay) or a new
 * judgement, committed before it is returned (caller frees). */
static fb_err_t s_answer_text(s_sim_t *sim, const sne_record_t *rec, const sne_answer_t *early,
                              char **text, bool *replay)
{
    fb_err_t rc = sim_db_begin(sim->db);
    if (rc == FB_OK)
        rc = sim_db_answer_of(sim->db, rec->record_id, text);
    *replay = rc == FB_OK;
    if (rc == FB_ERR_NOT_FOUND) {
        sne_answer_t a = early ? *early : (sne_answer_t){0};
        if (!early)
            rc = sim_judge(sim->db, &sim->policy, rec, sne_date_local(fb_now_ms(), sim->opts.tz),
                           &a);
        else
            rc = FB_OK;
        s_now_iso(a.answered_at, sizeof a.answered_at);
        json_t *json = rc == FB_OK ? sne_answer_to_json(&a) : NULL;
        *text = json ? json_dumps(json, JSON_INDENT(2)) : NULL;
        json_decref(json);
        if (rc == FB_OK && !*text)
            rc = FB_ERR_NOMEM;
        if (rc == FB_OK)
            rc = sim_db_put_answer(sim->db, rec->record_id, rec->nur ? rec->nur : a.nur, a.status,
                                   *text);
    }
    if (rc == FB_OK)
        rc = sim_db_commit(sim->db);
    if (rc != FB_OK) {
        sim_db_rollback(sim->db);
        free(*text);
        *text = NULL;
    }
    return rc;
}

/* Reads requests/<name> into *rec. FB_ERR_PARSE with the problem in *p
 * (and, when the record id could be read, *rec's record_id and kind set so
 * that the SNE can answer REJECTED). */
static fb_err_t s_read_request(s_sim_t *sim, const char *name, sne_record_t *rec, sne_problem_t *p)
{
    memset(rec, 0, sizeof *rec);
    memset(p, 0, sizeof *p);
    char *path = spool_path(sim->requests, name);
    uint8_t *data = NULL;
    size_t len = 0;
    fb_err_t rc = path ? spool_read(path, SNE_FILES_MAX_BYTES, &data, &len) : FB_ERR_NOMEM;
    free(path);
    if (rc == FB_ERR_TOO_LARGE) {
        snprintf(p->message, sizeof p->message, "larger than %u bytes", SNE_FILES_MAX_BYTES);
        return FB_ERR_PARSE;
    }
    if (rc != FB_OK)
        return rc;
    json_error_t jerr;
    json_t *json = json_loadb((const char *)data, len, 0, &jerr);
    free(data);
    if (!json) {
        snprintf(p->message, sizeof p->message, "not JSON: line %d: %s", jerr.line, jerr.text);
        return FB_ERR_PARSE;
    }
    rc = sne_record_from_json(json, rec, p);
    if (rc == FB_ERR_PARSE) {
        /* Enough to answer REJECTED by record id? */
        const char *id = json_string_value(json_object_get(json, "record_id"));
        if (sne_record_id_valid(id)) {
            snprintf(rec->record_id, sizeof rec->record_id, "%s", id);
            rec->kind = sne_kind_from_name(json_string_value(json_object_get(json, "kind")));
        }
    }
    json_decref(json);
    return rc;
}

/* s, or "-" for a string not there. */
static const char *s_or(const char *s)
{
    return s && *s ? s : "-";
}

/* Answers one request file; false when it must be tried again later. */
static bool s_process(s_sim_t *sim, const char *name)
{
    sne_record_t rec;
    sne_problem_t p;
    sne_answer_t early;
    memset(&early, 0, sizeof early);
    fb_err_t rc = s_ends_with(name, ".json") ? s_read_request(sim, name, &rec, &p) : FB_ERR_PARSE;
    if (!s_ends_with(name, ".json")) {
        memset(&rec, 0, sizeof rec);
        snprintf(p.field, sizeof p.field, "%s", "");
        snprintf(p.message, sizeof p.message, "not a .json file");
    }
    if (rc == FB_ERR_PARSE && !*rec.record_id) {
        s_reject_file(sim, name, &p);
        return true;
    }
    if (rc == FB_ERR_PARSE) {
        /* Readable enough to be answered: REJECTED, naming the member. */
        snprintf(early.record_id, sizeof early.record_id, "%s", rec.record_id);
        early.kind = rec.kind;
        early.status = SNE_STATUS_REJECTED;
        snprintf(early.field, sizeof early.field, "%s", p.field);
        snprintf(early.message, sizeof early.message, "%s", p.message);
    } else if (rc != FB_OK) {
        s_log(sim, FB_LOG_WARN, "cannot read request file=%s reason=%s (tried again)", name,
              fb_err_name(rc));
        return false;
    }
    char expected[SNE_RECORD_ID_MAX + 8];
    snprintf(expected, sizeof expected, "%s.json", rec.record_id);
    if (strcmp(expected, name) != 0)
        s_log(sim, FB_LOG_WARN, "request file=%s holds record=%s (answered by record id)", name,
              rec.record_id);
    char *text = NULL;
    bool replay = false;
    rc = s_answer_text(sim, &rec, rc == FB_ERR_PARSE ? &early : NULL, &text, &replay);
    if (rc == FB_OK)
        rc = spool_write(sim->answers, expected, text, strlen(text));
    if (rc == FB_OK)
        rc = spool_move(sim->requests, name, sim->requests_done);
    if (rc == FB_OK) {
        /* The NUR (also in the record id and in some messages) at debug only. */
        json_t *j = json_loads(text, 0, NULL);
        const char *field = json_string_value(json_object_get(j, "field"));
        s_log(sim, FB_LOG_INFO, "%s kind=%s vacancy=%s msg_id=%s status=%s field=%s",
              replay ? "answered again (replay)" : "answered", s_or(sne_kind_name(rec.kind)),
              s_or(rec.vacancy_id), s_or(rec.source_message_id),
              json_string_value(json_object_get(j, "status")), field && *field ? field : "-");
        s_log(sim, FB_LOG_DEBUG, "record ids msg_id=%s record=%s nur=%s message=\"%s\"",
              s_or(rec.source_message_id), rec.record_id, s_or(rec.nur),
              s_or(json_string_value(json_object_get(j, "message"))));
        json_decref(j);
    } else {
        s_log(sim, FB_LOG_ERROR, "request not answered file=%s reason=%s (tried again)", name,
              fb_err_name(rc));
    }
    free(text);
    sne_record_clear(&rec);
    return rc == FB_OK;
}

/* Answers every request waiting; returns how many were answered. */
static size_t s_scan(s_sim_t *sim)
{
    char **names = NULL;
    size_t n = 0, answered = 0;
    fb_err_t rc = spool_list(sim->requests, 0, &names, &n);
    if (rc != sim->last_scan)
        s_log(sim, rc == FB_OK ? FB_LOG_INFO : FB_LOG_ERROR, "%s %s", sim->requests,
              rc == FB_OK ? "readable again" : "cannot be listed (tried again at each poll)");
    sim->last_scan = rc;
    if (rc != FB_OK)
        return 0;
    for (size_t i = 0; i < n && !s_stop; i++)
        answered += s_process(sim, names[i]);
    spool_names_free(names, n);
    return answered;
}

/* ---- main ---- */

static int s_open(s_sim_t *sim)
{
    char err[512];
    if (sne_files_prepare(sim->opts.dir, err, sizeof err) != FB_OK) {
        fprintf(stderr, "fluxbus-sne-sim: %s\n", err);
        return 3;
    }
    sim->requests = spool_path(sim->opts.dir, "requests");
    sim->requests_done = spool_path(sim->opts.dir, "requests/done");
    sim->requests_rejected = spool_path(sim->opts.dir, "requests/rejected");
    sim->answers = spool_path(sim->opts.dir, "answers");
    char *db_path =
        sim->opts.db_path ? strdup(sim->opts.db_path) : spool_path(sim->opts.dir, "sne-sim.db");
    if (!sim->requests || !sim->requests_done || !sim->requests_rejected || !sim->answers ||
        !db_path) {
        free(db_path);
        fprintf(stderr, "fluxbus-sne-sim: out of memory\n");
        return 3;
    }
    sim->db = sim_db_open(db_path, err, sizeof err);
    free(db_path);
    if (!sim->db) {
        fprintf(stderr, "fluxbus-sne-sim: database: %s\n", err);
        return 3;
    }
    return 0;
}

int main(int argc, char **argv)
{
    s_sim_t sim;
    memset(&sim, 0, sizeof sim);
    int rc = s_parse_args(argc, argv, &sim.opts);
    if (rc)
        return rc < 0 ? 0 : rc;
    /* Default: a preloaded registry is strict, an empty one accepts any
     * well-formed NUR (a demo needs no list of NURs). */
    sim.policy.accept_any = sim.opts.accept > 0 || (sim.opts.accept == 0 && !sim.opts.demandes);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = s_on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    rc = s_open(&sim);
    int64_t loaded = 0, demandes = 0, radiees = 0;
    if (rc == 0 && sim.opts.demandes)
        rc = s_load_demandes(&sim, sim.opts.demandes, &loaded);
    if (rc == 0 && sim_db_counts(sim.db, &demandes, &radiees) != FB_OK)
        rc = 3;
    if (rc == 0) {
        const char *mode = sim.policy.accept_any ? "accept-any" : "strict";
        s_log(&sim, FB_LOG_INFO, "started dir=%s mode=%s loaded=%lld demandes=%lld radiees=%lld",
              sim.opts.dir, mode, (long long)loaded, (long long)demandes, (long long)radiees);
        printf("ready dir=%s mode=%s demandes=%lld\n", sim.opts.dir, mode, (long long)demandes);
        fflush(stdout);
    }
    while (rc == 0 && !s_stop) {
        s_scan(&sim);
        if (sim.opts.once)
            break;
        struct timespec ts = {sim.opts.poll_ms / 1000, (long)(sim.opts.poll_ms % 1000) * 1000000L};
        nanosleep(&ts, NULL);
    }
    if (rc == 0)
        s_log(&sim, FB_LOG_INFO, "stopping");
    sim_db_close(&sim.db);
    free(sim.requests);
    free(sim.requests_done);
    free(sim.requests_rejected);
    free(sim.answers);
    return rc;
}
