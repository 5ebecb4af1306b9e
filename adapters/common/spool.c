/* spool.c - see spool.h (being written). */
#include "spool.h"
