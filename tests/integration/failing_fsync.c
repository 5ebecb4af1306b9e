/* failing_fsync.c - LD_PRELOAD shim for tests: fsync() and fdatasync()
 * fail with EIO, the way a dying disk does, as long as the file named by
 * FLUXBUS_FAIL_FSYNC_FILE exists (the test creates it when it wants the
 * failure to start). Used only by the integration test of the broker's behaviour
 * when the store cannot make a commit durable. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

static int s_should_fail(void)
{
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
