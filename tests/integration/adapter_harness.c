/* adapter_harness.c - see adapter_harness.h. Owns the adapter child
 * processes of integration tests, their key and config files, and the
 * file and HTTP helpers the adapter tests share. */
#include "adapter_harness.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

void fbt_save_keys(const fbt_broker_t *b, const fb_keys_t *keys, const char *name, char *path,
                   size_t cap)
{
    snprintf(path, cap, "%s/%s.key", b->dir, name);
    assert_int_equal(fb_keys_save(keys, path), FB_OK);
}

void fbt_adapter_config(const fbt_broker_t *b, fbt_proc_t *p, const char *name,
                        const fb_keys_t *keys, const char *extra_fmt, ...)
{
    memset(p, 0, sizeof *p);
    snprintf(p->name, sizeof p->name, "%s", name);
    snprintf(p->config, sizeof p->config, "%s/%s.conf", b->dir, name);
    snprintf(p->state, sizeof p->state, "%s/%s.state.db", b->dir, name);
    snprintf(p->out, sizeof p->out, "%s/%s.out", b->dir, name);
    snprintf(p->log, sizeof p->log, "%s/%s.log", b->dir, name);
    char key[512];
    fbt_save_keys(b, keys, name, key, sizeof key);
    FILE *f = fopen(p->config, "w");
    assert_non_null(f);
    fprintf(f,
            "# written by the test harness\nendpoint = %s\nkey = %s\nbroker_key = %s.pub\n"
            "state = %s\nlog_level = debug\n",
            b->endpoint, key, b->key, p->state);
    if (extra_fmt) {
        va_list ap;
        va_start(ap, extra_fmt);
        vfprintf(f, extra_fmt, ap);
        va_end(ap);
        fputc('\n', f);
    }
    assert_int_equal(fclose(f), 0);
}

static void s_print_log(const fbt_proc_t *p)
{
    char *log = fbt_read_file(p->log, NULL);
    fprintf(stderr, "---- %s log (%s) ----\n%s\n---- end ----\n", p->name, p->log,
            log ? log : "(none)");
    free(log);
}

/* Reads the child's stdout until "ready ..." and keeps the rest of the line. */
static int s_wait_ready(fbt_proc_t *p, int fd)
{
    char buf[1024];
    size_t used = 0;
    for (;;) {
        struct pollfd pfd = {fd, POLLIN, 0};
        if (poll(&pfd, 1, 15000) <= 0)
            return 0;
        ssize_t got = read(fd, buf + used, sizeof buf - 1 - used);
        if (got <= 0)
            return 0;
        used += (size_t)got;
        buf[used] = '\0';
        char *line = strstr(buf, "ready");
        char *nl = line ? strchr(line, '\n') : NULL;
        if (nl) {
            *nl = '\0';
            snprintf(p->ready, sizeof p->ready, "%s", line[5] == ' ' ? line + 6 : line + 5);
            return 1;
        }
        if (used == sizeof buf - 1)
            used = 0;
    }
}

void fbt_proc_start(fbt_proc_t *p, const char *bin, const char *const *argv)
{
    int out[2];
    assert_int_equal(pipe(out), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        int log = open(p->log, O_WRONLY | O_CREAT | O_APPEND, 0644);
        dup2(out[1], 1);
        dup2(log, 2);
        close(out[0]);
        const char *dflt[] = {bin, "--config", p->config, NULL};
        execv(bin, (char *const *)(argv ? argv : dflt));
        _exit(127);
    }
    close(out[1]);
    p->pid = pid;
    int ok = s_wait_ready(p, out[0]);
    /* Keep draining stdout into p->out so the child never blocks on a pipe. */
    if (ok && fork() == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        int f = open(p->out, O_WRONLY | O_CREAT | O_APPEND, 0644);
        char buf[4096];
        for (ssize_t n; (n = read(out[0], buf, sizeof buf)) > 0;)
            if (write(f, buf, (size_t)n) < 0)
                break;
        _exit(0);
    }
    close(out[0]);
    if (!ok) {
        s_print_log(p);
        fail_msg("%s did not print its ready line", p->name);
    }
}

int fbt_proc_stop(fbt_proc_t *p, int sig)
{
    if (p->pid <= 0)
        return -1;
    kill(p->pid, sig);
    int status = 0;
    while (waitpid(p->pid, &status, 0) < 0 && errno == EINTR)
        ;
    p->pid = 0;
    if (WIFEXITED(status))
        return WEXITSTATUS(status);
    return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : -1;
}

int fbt_proc_log_contains(const fbt_proc_t *p, const char *needle)
{
    return fbt_file_contains(p->log, needle, strlen(needle));
}

static void s_sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

int fbt_wait_path(const char *path, int timeout_ms)
{
    for (int waited = 0;; waited += 20) {
        if (access(path, F_OK) == 0)
            return 1;
        if (waited >= timeout_ms)
            return 0;
        s_sleep_ms(20);
    }
}

int fbt_count_files(const char *dir, const char *suffix)
{
    DIR *d = opendir(dir);
    if (!d)
        return -1;
    int n = 0;
    size_t sl = strlen(suffix);
    for (struct dirent *e; (e = readdir(d));) {
        size_t l = strlen(e->d_name);
        if (e->d_name[0] != '.' && l >= sl && strcmp(e->d_name + l - sl, suffix) == 0)
            n++;
    }
    closedir(d);
    return n;
}

int fbt_wait_files(const char *dir, const char *suffix, int n, int timeout_ms)
{
    int got = 0;
    for (int waited = 0;; waited += 20) {
        got = fbt_count_files(dir, suffix);
        if (got >= n || waited >= timeout_ms)
            return got;
        s_sleep_ms(20);
    }
}

char *fbt_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    for (size_t got; buf && (got = fread(buf + n, 1, cap - n - 1, f)) > 0;) {
        n += got;
        if (n + 1 == cap) {
            char *p = realloc(buf, cap *= 2);
            if (!p) {
                free(buf);
                fclose(f);
                return NULL;
            }
            buf = p;
        }
    }
    fclose(f);
    if (buf)
        buf[n] = '\0';
    if (len)
        *len = n;
    return buf;
}

void fbt_write_file(const char *path, const char *text)
{
    char tmp[1024];
    const char *slash = strrchr(path, '/');
    snprintf(tmp, sizeof tmp, "%.*s.%s.tmp", slash ? (int)(slash - path + 1) : 0, path,
             slash ? slash + 1 : path);
    FILE *f = fopen(tmp, "w");
    assert_non_null(f);
    assert_int_equal(fputs(text, f) >= 0, 1);
    assert_int_equal(fclose(f), 0);
    assert_int_equal(rename(tmp, path), 0);
}

typedef struct {
    char *data;
    size_t len;
} s_buf_t;

static size_t s_on_body(char *ptr, size_t size, size_t nmemb, void *ctx)
{
    s_buf_t *b = ctx;
    size_t n = size * nmemb;
    char *p = realloc(b->data, b->len + n + 1);
    if (!p)
        return 0;
    memcpy(p + b->len, ptr, n);
    b->data = p;
    b->len += n;
    b->data[b->len] = '\0';
    return n;
}

int fbt_http(const char *method, const char *url, const char *token, const char *body, char **out)
{
    CURL *c = curl_easy_init();
    assert_non_null(c);
    s_buf_t buf = {calloc(1, 1), 0};
    struct curl_slist *headers = NULL;
    char auth[512];
    if (token) {
        snprintf(auth, sizeof auth, "Authorization: Bearer %s", token);
        headers = curl_slist_append(headers, auth);
    }
    if (body)
        headers = curl_slist_append(headers, "Content-Type: application/json");
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 20L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, s_on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &buf);
    if (body) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
    }
    long status = 0;
    if (curl_easy_perform(c) == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(headers);
    curl_easy_cleanup(c);
    if (out)
        *out = buf.data;
    else
        free(buf.data);
    return (int)status;
}
