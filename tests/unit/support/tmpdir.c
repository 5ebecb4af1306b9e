/* tmpdir.c - see tmpdir.h. */
#include "tmpdir.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int tmpdir_make(char *dir, size_t cap, const char *tag)
{
    if ((size_t)snprintf(dir, cap, "/tmp/fluxbus-test-%s-XXXXXX", tag) >= cap)
        return -1;
    return mkdtemp(dir) ? 0 : -1;
}

void tmpdir_remove(const char *dir)
{
    DIR *d = opendir(dir);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                continue;
            char p[1024];
            snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
            unlink(p);
        }
        closedir(d);
    }
    rmdir(dir);
}
