/* main.c - fluxbus-adapter-reservataire (to be written). */
#include <stdio.h>
int main(void)
{
    fputs("fluxbus-adapter-reservataire: not built yet\n", stderr);
    return 1;
}
