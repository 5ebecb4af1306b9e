/* adapter.c - see adapter.h (being written). */
#include "adapter.h"
