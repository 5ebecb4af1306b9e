/* csv.c - see csv.h (being written). */
#include "csv.h"
