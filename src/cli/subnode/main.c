/* placeholder */
#include <stdio.h>
int main(void) { fprintf(stderr, "subnode: not yet\n"); return 1; }
