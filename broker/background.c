/* background.c - a background thread's priority and CPU time (see
 * background.h). */
#include "background.h"

#include <errno.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

void background_thread_lower(void)
{
    id_t tid = (id_t)syscall(SYS_gettid);
    errno = 0;
    int nice = getpriority(PRIO_PROCESS, tid);
    /* A broker started lower still (nice 19) stays there. */
    if (errno == 0 && nice < BACKGROUND_NICE)
        setpriority(PRIO_PROCESS, tid, BACKGROUND_NICE);
}

double background_thread_cpu_s(void)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) != 0)
        return 0;
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}
