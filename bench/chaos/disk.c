/* disk.c - the store's filesystem fills up under load, --disk-cycles times.
 *
 * The store lives on a tmpfs of --disk-kib KiB mounted in a private mount
 * namespace, so nothing is left mounted whatever happens: the scenario
 * forks, the child enters a new mount namespace (as root; otherwise in a
 * user namespace of its own, where it may mount a tmpfs) and runs this
 * program again with --in-namespace. When neither can be made the scenario
 * is skipped with the reason.
 *
 * Under load, at a random point, a filler file takes every free byte of the
 * filesystem. What the broker must do (docs/OPERATIONS.md, "Durability and
 * failures"): answer nothing of the batch it could not write, log `error
 * broker store-failed ... sqlite="database or disk is full"`, exit 3. Then,
 * the disk still full and the broker down: the store is intact and holds
 * every receipted message; started again on the full disk, it comes up and
 * exits 3 again at its first write; once the space is freed, a restart
 * resumes and everything receipted is delivered, once, in order. */
#define _GNU_SOURCE /* unshare, CLONE_NEWNS */
#include "chaos.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define S_SKIP_EXIT 77 /* the child could not make its namespace */
#define S_EXIT_MS 15000
#define S_DELIVER_MS 30000
#define S_HEADROOM_PAGES 64 /* the filler leaves up to this many 4 KiB pages free */
#define S_MIN_FILLER (1u << 20)

/* ---- the private mount namespace ----------------------------------------------- */

static int s_write_file(const char *path, const char *text)
{
    int fd = open(path, O_WRONLY);
    if (fd < 0)
        return -1;
    ssize_t n = write(fd, text, strlen(text));
    close(fd);
    return n == (ssize_t)strlen(text) ? 0 : -1;
}

/* Enters a new mount namespace whose mounts nobody else sees: directly as
 * root, else inside a new user namespace mapping us to its root. 0, or -1
 * with the reason in why. */
static int s_private_mounts(char *why, size_t cap)
{
    if (unshare(CLONE_NEWNS) != 0) {
        uid_t uid = getuid();
        gid_t gid = getgid();
        if (unshare(CLONE_NEWUSER | CLONE_NEWNS) != 0) {
            snprintf(why, cap,
                     "cannot make a mount namespace (%s): run as root, or allow "
                     "unprivileged user namespaces",
                     strerror(errno));
            return -1;
        }
        char map[64];
        snprintf(map, sizeof map, "0 %u 1", (unsigned)uid);
        int rc = s_write_file("/proc/self/setgroups", "deny");
        rc |= s_write_file("/proc/self/uid_map", map);
        snprintf(map, sizeof map, "0 %u 1", (unsigned)gid);
        rc |= s_write_file("/proc/self/gid_map", map);
        if (rc != 0) {
            snprintf(why, cap, "cannot map ids in a user namespace (%s)", strerror(errno));
            return -1;
        }
    }
    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0) {
        snprintf(why, cap, "cannot make mounts private (%s)", strerror(errno));
        return -1;
    }
    return 0;
}

/* In the child: the namespace, then this program again, scenario disk only. */
static void s_child(const chaos_opts_t *o)
{
    char why[256];
    if (s_private_mounts(why, sizeof why) != 0) {
        printf("chaos disk: skipped: %s\n", why);
        fflush(stdout);
        _exit(S_SKIP_EXIT);
    }
    char seed[16], senders[16], recipients[16], delay[16], cycles[16], kib[16];
    snprintf(seed, sizeof seed, "%u", o->seed);
    snprintf(senders, sizeof senders, "%u", o->senders);
    snprintf(recipients, sizeof recipients, "%u", o->recipients);
    snprintf(delay, sizeof delay, "%u", o->max_delay_ms);
    snprintf(cycles, sizeof cycles, "%u", o->disk_cycles);
    snprintf(kib, sizeof kib, "%u", o->disk_kib);
    char *argv[] = {o->argv[0],
                    "--in-namespace",
                    "--only",
                    "disk",
                    "--seed",
                    seed,
                    "--senders",
                    senders,
                    "--recipients",
                    recipients,
                    "--max-delay-ms",
                    delay,
                    "--disk-cycles",
                    cycles,
                    "--disk-kib",
                    kib,
                    NULL};
    execv("/proc/self/exe", argv);
    printf("chaos disk: cannot run itself again: %s\n", strerror(errno));
    _exit(127);
}

/* In the parent: runs the child and takes its verdict. */
static void s_run_in_namespace(const chaos_opts_t *o)
{
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0)
        s_child(o);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    if (code == S_SKIP_EXIT)
        skip();
    if (code != 0)
        fail_msg("the disk-full scenario failed (exit %d, see above)", code);
}

/* ---- the small filesystem ------------------------------------------------------ */

typedef struct {
    char mount[300];
    char filler[320];
    unsigned kib;
    int mounted;
} s_disk_t;

/* The filesystem of the one disk scenario a process runs (its teardown
 * unmounts it even after a failed assertion). */
static s_disk_t s_disk;

/* chaos_prepare_fn: mounts the tmpfs under the broker's directory and puts
 * the store on it (the broker's log stays outside, so it can say why). */
static void s_store_on_tmpfs(fbt_broker_t *b, void *ctx)
{
    s_disk_t *d = ctx;
    snprintf(d->mount, sizeof d->mount, "%s/disk", b->dir);
    snprintf(d->filler, sizeof d->filler, "%s/filler", d->mount);
    assert_int_equal(mkdir(d->mount, 0700), 0);
    char opts[64];
    snprintf(opts, sizeof opts, "size=%uk,mode=0700", d->kib);
    if (mount("fluxbus-chaos", d->mount, "tmpfs", MS_NOSUID | MS_NODEV, opts) != 0)
        fail_msg("mount tmpfs on %s: %s", d->mount, strerror(errno));
    d->mounted = 1;
    snprintf(b->store, sizeof b->store, "%s/bus.db", d->mount);
}

/* Takes every free byte of the filesystem but `headroom`, so that the
 * broker's next writes fail at a point that varies: the WAL append of a
 * message, its queue rows, the ledger's rows, the COMMIT. */
static void s_fill(const s_disk_t *d, uint64_t headroom)
{
    static char block[1 << 16];
    int fd = open(d->filler, O_WRONLY | O_CREAT | O_APPEND, 0600);
    assert_true(fd >= 0);
    uint64_t taken = 0;
    ssize_t n;
    while ((n = write(fd, block, sizeof block)) > 0)
        taken += (uint64_t)n;
    assert_int_equal(errno, ENOSPC);
    /* Freeing the filler must give the broker room to go on, its
     * write-ahead log included (up to about 4 MB before a checkpoint). */
    if (taken < S_MIN_FILLER)
        fail_msg("the store fills the %u KiB filesystem by itself: use a larger --disk-kib",
                 d->kib);
    assert_int_equal(ftruncate(fd, (off_t)(taken - headroom)), 0);
    close(fd);
}

/* ---- the scenario --------------------------------------------------------------- */

/* The broker exits 3 and says why in its log. */
static void s_expect_store_failed_exit(fbt_broker_t *b, unsigned k, const char *when)
{
    int code = fbt_wait_exit(b, S_EXIT_MS);
    if (code < 0)
        fail_msg("cycle %u, %s: the disk is full but the broker still runs after %d ms", k, when,
                 S_EXIT_MS);
    if (code != 3)
        fail_msg("cycle %u, %s: on a full disk the broker exited %d, not 3", k, when, code);
    assert_true(fbt_log_contains(b, "error broker store-failed"));
    assert_true(fbt_log_contains(b, "database or disk is full"));
}

static void s_fill_once(chaos_world_t *w, const chaos_opts_t *o, const s_disk_t *d, unsigned k)
{
    fbt_broker_t *b = chaos_world_broker(w);
    chaos_world_await_moment(w, o->max_delay_ms, "disk full", k);
    s_fill(d, 4096ull * chaos_world_random(w, S_HEADROOM_PAGES + 1));
    s_expect_store_failed_exit(b, k, "under load");

    /* Started on the full disk, it comes up, then fails its first write. */
    fbt_start(b);
    s_expect_store_failed_exit(b, k, "restarted on the full disk");
    chaos_world_check_store(w); /* down, disk full: the store as it was left */

    assert_int_equal(unlink(d->filler), 0);
    fbt_start(b);
    chaos_world_expect_delivered(w, "disk", S_DELIVER_MS, "disk full", k);
}

int chaos_disk_teardown(void **state)
{
    /* Lazily: the broker may still hold files there until it is killed. */
    if (s_disk.mounted && umount2(s_disk.mount, MNT_DETACH) != 0)
        fprintf(stderr, "chaos disk: umount %s: %s\n", s_disk.mount, strerror(errno));
    s_disk.mounted = 0;
    return chaos_run_teardown(state);
}

void chaos_disk(void **state)
{
    chaos_run_t *run = *state;
    const chaos_opts_t *o = run->opts;
    if (!o->in_namespace) {
        s_run_in_namespace(o);
        return;
    }
    s_disk.kib = o->disk_kib;
    run->world = chaos_world_loaded(o, s_store_on_tmpfs, &s_disk);
    int64_t t0 = chaos_now_ms();
    for (unsigned k = 1; k <= o->disk_cycles; k++)
        s_fill_once(run->world, o, &s_disk, k);
    char extra[96];
    snprintf(extra, sizeof extra, "disk_full=%u disk_kib=%u broker_exit=3", o->disk_cycles,
             o->disk_kib);
    chaos_world_finish(run->world, "disk", t0, S_DELIVER_MS, extra);
}
