/* http.c - see http.h (being written). */
#include "http.h"
