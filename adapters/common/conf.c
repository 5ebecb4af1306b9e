/* conf.c - see conf.h (being written). */
#include "conf.h"
