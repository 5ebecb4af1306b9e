/* load_bus.c - the broker fluxbus-load runs against (see load_bus.h).
 *
 * Owns the temporary directory, the private broker process and the CLI runs
 * that register the bench actors. Does not own the registry's rules (the
 * CLI applies them) nor the broker's settings beyond the flags it is given.
 *
 * Invariant: a private broker never outlives fluxbus-load (it gets SIGKILL
 * when its parent dies, SIGTERM at teardown). */
#define _XOPEN_SOURCE 700 /* nftw */
#include "load_bus.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

static fb_err_t s_fail(char *why, size_t cap, fb_err_t err, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static fb_err_t s_fail(char *why, size_t cap, fb_err_t err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, cap, fmt, ap);
    va_end(ap);
    return err;
}

/* In a forked child: stderr (and stdout when out_fd < 0) to the log. */
static void s_child_redirect(const char *log, int out_fd)
{
    int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0600);
    if (fd >= 0) {
        dup2(fd, 2);
        dup2(out_fd >= 0 ? out_fd : fd, 1);
    }
}

/* Runs argv[0] with argv, output to the log; its exit status or -1. */
static int s_run(const char *log, char *const argv[])
{
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        s_child_redirect(log, -1);
        execv(argv[0], argv);
        _exit(127);
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

fb_err_t load_bus_setup(load_bus_t *bus, const char *cli_bin, const char *endpoint,
                        const char *broker_pub, const char *store, pid_t pid, char *why, size_t cap)
{
    memset(bus, 0, sizeof *bus);
    snprintf(bus->cli_bin, sizeof bus->cli_bin, "%s", cli_bin);
    snprintf(bus->dir, sizeof bus->dir, "/tmp/fluxbus-load-XXXXXX");
    if (!mkdtemp(bus->dir))
        return s_fail(why, cap, FB_ERR_IO, "cannot make %s: %s", bus->dir, strerror(errno));
    snprintf(bus->log, sizeof bus->log, "%s/broker.log", bus->dir);
    if (!endpoint) {
        bus->own = true;
        snprintf(bus->endpoint, sizeof bus->endpoint, "tcp://127.0.0.1:*");
        snprintf(bus->store, sizeof bus->store, "%s/bus.db", bus->dir);
        char key[512];
        snprintf(key, sizeof key, "%s/broker.key", bus->dir);
        fb_err_t rc = fb_keys_generate(&bus->broker, "broker");
        if (rc == FB_OK)
            rc = fb_keys_save(&bus->broker, key);
        return rc == FB_OK ? FB_OK : s_fail(why, cap, rc, "broker key: %s", fb_err_str(rc));
    }
    snprintf(bus->endpoint, sizeof bus->endpoint, "%s", endpoint);
    snprintf(bus->store, sizeof bus->store, "%s", store ? store : "");
    bus->pid = pid;
    if (!broker_pub || !store)
        return s_fail(why, cap, FB_ERR_INVALID,
                      "--endpoint needs --broker-key (its .pub file) and --store (where to "
                      "register the bench actors)");
    fb_err_t rc = fb_keys_load(&bus->broker, broker_pub);
    return rc == FB_OK ? FB_OK : s_fail(why, cap, rc, "%s: %s", broker_pub, fb_err_str(rc));
}

fb_err_t load_bus_add_actor(load_bus_t *bus, const char *id, const char *role, fb_keys_t *out,
                            char *why, size_t cap)
{
    char key[512], pub[520];
    snprintf(key, sizeof key, "%s/actor-%u.key", bus->dir, bus->n_actors++);
    snprintf(pub, sizeof pub, "%s.pub", key);
    fb_err_t rc = fb_keys_generate(out, id);
    if (rc == FB_OK)
        rc = fb_keys_save(out, key);
    if (rc != FB_OK)
        return s_fail(why, cap, rc, "keys of %s: %s", id, fb_err_str(rc));
    char *argv[] = {bus->cli_bin, "actor",  "add",        "--store", bus->store, "--id",
                    (char *)id,   "--role", (char *)role, "--key",   pub,        NULL};
    int status = s_run(bus->log, argv);
    if (status != 0)
        return s_fail(why, cap, FB_ERR_STORE, "fluxbus actor add --id %s exited %d (see %s)", id,
                      status, bus->log);
    return FB_OK;
}

/* Reads the broker's stdout until "ready endpoint=..."; fills the endpoint. */
static fb_err_t s_wait_ready(load_bus_t *bus, int fd, char *why, size_t cap)
{
    char buf[1024];
    size_t used = 0;
    while (used < sizeof buf - 1) {
        struct pollfd p = {fd, POLLIN, 0};
        if (poll(&p, 1, 15000) <= 0)
            return s_fail(why, cap, FB_ERR_TIMEOUT, "no ready line within 15 s (see %s)", bus->log);
        ssize_t got = read(fd, buf + used, sizeof buf - 1 - used);
        if (got <= 0)
            return s_fail(why, cap, FB_ERR_IO, "the broker exited before ready (see %s)", bus->log);
        used += (size_t)got;
        buf[used] = '\0';
        char *line = strstr(buf, "ready endpoint=");
        char *nl = line ? strchr(line, '\n') : NULL;
        if (nl) {
            *nl = '\0';
            snprintf(bus->endpoint, sizeof bus->endpoint, "%s", line + strlen("ready endpoint="));
            return FB_OK;
        }
    }
    return s_fail(why, cap, FB_ERR_PROTOCOL, "no ready line in the broker's output");
}

fb_err_t load_bus_start(load_bus_t *bus, const char *broker_bin, const char *const *args, char *why,
                        size_t cap)
{
    char key[512];
    snprintf(key, sizeof key, "%s/broker.key", bus->dir);
    const char *argv[48] = {broker_bin, "--endpoint", bus->endpoint, "--store", bus->store,
                            "--key",    key};
    size_t argc = 7;
    for (size_t i = 0; args && args[i] && argc + 1 < sizeof argv / sizeof argv[0]; i++)
        argv[argc++] = args[i];
    argv[argc] = NULL;
    int out[2];
    if (pipe(out) != 0)
        return s_fail(why, cap, FB_ERR_IO, "pipe: %s", strerror(errno));
    pid_t pid = fork();
    if (pid < 0)
        return s_fail(why, cap, FB_ERR_IO, "fork: %s", strerror(errno));
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL); /* never outlive the bench */
        close(out[0]);
        s_child_redirect(bus->log, out[1]);
        execv(broker_bin, (char *const *)argv);
        _exit(127);
    }
    close(out[1]);
    bus->pid = pid;
    fb_err_t rc = s_wait_ready(bus, out[0], why, cap);
    close(out[0]); /* the broker prints nothing more on stdout */
    return rc;
}

int load_bus_stop(load_bus_t *bus)
{
    if (!bus->own || bus->pid <= 0)
        return -1;
    kill(bus->pid, SIGTERM);
    int status = 0;
    while (waitpid(bus->pid, &status, 0) < 0 && errno == EINTR)
        ;
    bus->pid = 0;
    if (WIFEXITED(status))
        return WEXITSTATUS(status);
    return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : -1;
}

static int s_remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

void load_bus_teardown(load_bus_t *bus, bool keep)
{
    load_bus_stop(bus);
    if (!keep && bus->dir[0])
        nftw(bus->dir, s_remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    fb_keys_wipe(&bus->broker);
}
