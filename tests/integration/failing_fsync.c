/* failing_fsync.c - LD_PRELOAD shim for tests: fsync() and fdatasync()
 * fail with EIO, the way a dying disk does, as long as the file named by
 * FLUXBUS_FAIL_FSYNC_FILE exists (the test creates it when it wants the
 * failure to start); with FLUXBUS_SLOW_FSYNC_MS they take that long before
 * doing their work, the way a slow disk does. Used only by the integration
 * tests of the broker's behaviour when the store cannot make a commit
 * durable (10) and of its replies waiting for the disk (18). */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

static int s_should_fail(void)
{
    const char *slow = getenv("FLUXBUS_SLOW_FSYNC_MS");
    if (slow)
        usleep((useconds_t)atoi(slow) * 1000);
    const char *trigger = getenv("FLUXBUS_FAIL_FSYNC_FILE");
    return trigger && access(trigger, F_OK) == 0;
}

int fsync(int fd)
{
    static int (*real)(int);
    if (!real)
        real = (int (*)(int))dlsym(RTLD_NEXT, "fsync");
    if (s_should_fail()) {
        errno = EIO;
        return -1;
    }
    return real(fd);
}

int fdatasync(int fd)
{
    static int (*real)(int);
    if (!real)
        real = (int (*)(int))dlsym(RTLD_NEXT, "fdatasync");
    if (s_should_fail()) {
        errno = EIO;
        return -1;
    }
    return real(fd);
}
