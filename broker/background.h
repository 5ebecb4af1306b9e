/* background.h - what the broker's background threads have in common: the
 * décompte's look (decompte_scan.c) and the bilans (bilan_queue.c) compute
 * beside the loop thread, which acknowledges the clients' messages. On a
 * busy machine the loop goes first, and each background thread can say how
 * much CPU it took, so that its owner can space the next computation. */
#ifndef FLUXBUS_BROKER_BACKGROUND_H
#define FLUXBUS_BROKER_BACKGROUND_H

/* The niceness of a background thread: below the loop's (0). At nice 10 a
 * thread gets about a tenth of a core that a nice-0 thread also wants. */
#define BACKGROUND_NICE 10

/* Lowers the calling thread alone to BACKGROUND_NICE (Linux: a thread's
 * own nice value), unless it runs lower already. Best effort: where it is
 * refused, the thread computes all the same at the loop's priority. */
void background_thread_lower(void);

/* The CPU time the calling thread has used since it started, in seconds. */
double background_thread_cpu_s(void);

#endif
