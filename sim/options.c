// SPDX-License-Identifier: MIT
/* Command-line helpers shared by the subcommands. */
#include <stdbool.h>
#include <string.h>

#include "commands.h"

/*
 * "--name VALUE" or "--name=VALUE": returns the value and advances *i past
 * it, NULL if argv[*i] is not this option.  *missing tells a bare "--name"
 * at the end of the line.
 */
const char *option_value(int argc, char **argv, int *i,
				const char *name, bool *missing)
{
	size_t len = strlen(name);
	const char *arg = argv[*i];

	if (strncmp(arg, name, len))
		return NULL;
	if (arg[len] == '=')
		return arg + len + 1;
	if (arg[len])
		return NULL;
	if (*i + 1 >= argc) {
		*missing = true;
		return NULL;
	}
	return argv[++*i];
}
