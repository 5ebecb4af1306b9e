/* main.c - fluxbus-adapter-bailleur (to be written). */
#include <stdio.h>
int main(void)
{
    fputs("fluxbus-adapter-bailleur: not built yet\n", stderr);
    return 1;
}
