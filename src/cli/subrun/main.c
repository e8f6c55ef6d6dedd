/* main.c — subrun, subnode's OCI runtime: global options and dispatch to
 * the commands (one file each, commands.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "base/err.h"
#include "base/log.h"

#define SUBRUN_VERSION "0.1.0"

int main(int argc, char **argv)
{
	if (argc >= 2 && (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-v") == 0)) {
		printf("subrun version %s\nspec: 1.2.0\n", SUBRUN_VERSION);
		return 0;
	}
	fprintf(stderr, "subrun: no commands yet\n");
	return 1;
}
