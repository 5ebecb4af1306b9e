/* main.c - fluxbus-adapter-commune (to be written). */
#include <stdio.h>
int main(void)
{
    fputs("fluxbus-adapter-commune: not built yet\n", stderr);
    return 1;
}
