// SPDX-License-Identifier: MIT
/*
 * Command-line helpers shared by the subcommands (mmsim stress, replay,
 * bench), so that they read options and reject bad values alike.
 */
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
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

int option_find(int argc, char **argv, int *i, const char *const names[],
		int nr, const char *prog, const char **val)
{
	bool missing = false;
	int n;

	for (n = 0; n < nr; n++) {
		*val = option_value(argc, argv, i, names[n], &missing);
		if (missing) {
			fprintf(stderr, "%s: %s needs a value\n", prog,
				names[n]);
			return -1;
		}
		if (*val)
			return n;
	}
	return nr;
}

/*
 * strtoul() alone would take a sign ("-1" wraps to ULONG_MAX) and leading
 * blanks: refuse both before it sees them.
 */
int option_ulong(const char *s, int base, unsigned long min,
		 unsigned long max, unsigned long *out)
{
	unsigned long v;
	char *end;

	if (!*s || *s == '-' || *s == '+' || *s == ' ')
		return -1;
	errno = 0;
	v = strtoul(s, &end, base);
	if (errno || *end || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

/* strtod() takes "inf" and "nan": a finite value only. */
int option_double(const char *s, double min, double max, double *out)
{
	double v;
	char *end;

	if (!*s || *s == ' ')
		return -1;
	errno = 0;
	v = strtod(s, &end);
	if (errno || *end || !isfinite(v) || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}
