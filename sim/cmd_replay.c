// SPDX-License-Identifier: MIT
/*
 * mmsim replay [--levels 4|5] [--native]
 *	Replay the operation script on stdin, transcript on stdout.
 * mmsim gen-script [--seed N] [--ops N]
 *	Print a seeded random script, reproducible from N.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "replay.h"

static void replay_usage(FILE *out)
{
	fprintf(out,
		"usage: mmsim replay [--levels 4|5] [--native]\n\n"
		"Replays the operation script on stdin and prints, for every\n"
		"operation, its result and the VMAs of the window.\n\n"
		"  --levels N   page-table levels of the simulated mm (4 or 5)\n"
		"  --native     run the script against the host kernel instead\n"
		"  --help       show this help\n\n"
		"A line that would act outside the window (this process's own\n"
		"memory, for --native) is not performed by either backend and\n"
		"prints \"=> refused\"; a malformed line prints \"=> -22\".\n\n"
		"Exit status: 0; 1 if a line was malformed or refused (the\n"
		"transcript is still complete) or the backend failed; 2 on a\n"
		"bad option.\n");
}

static void gen_usage(FILE *out)
{
	fprintf(out,
		"usage: mmsim gen-script [--seed N] [--ops N]\n\n"
		"Prints a random operation script for 'mmsim replay'; the same\n"
		"seed always gives the same script.\n\n"
		"  --seed N     seed of the generator (default 1)\n"
		"  --ops N      number of operations (default 60)\n"
		"  --help       show this help\n");
}

/* Decimal or 0x-hex, the whole string, no sign, within max. */
static int parse_ulong(const char *s, unsigned long long max,
		       unsigned long long *out)
{
	unsigned long long v;
	char *end;

	if (!s || !*s || *s == '-' || *s == '+' || *s == ' ')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || *end || v > max)
		return -1;
	*out = v;
	return 0;
}


static bool is_help(const char *arg)
{
	return !strcmp(arg, "--help") || !strcmp(arg, "-h");
}

int cmd_replay(int argc, char **argv)
{
	const struct replay_backend *be = &replay_backend_mmsim;
	unsigned long long levels = 4;
	bool missing = false;
	const char *val;
	void *ctx;
	int i, bad;

	for (i = 1; i < argc; i++) {
		if (is_help(argv[i])) {
			replay_usage(stdout);
			return 0;
		}
		if (!strcmp(argv[i], "--native")) {
			be = &replay_backend_native;
			continue;
		}
		val = option_value(argc, argv, &i, "--levels", &missing);
		if (val && !parse_ulong(val, 5, &levels) &&
		    (levels == 4 || levels == 5))
			continue;
		if (val)
			fprintf(stderr, "mmsim replay: bad --levels '%s'\n", val);
		else if (missing)
			fprintf(stderr, "mmsim replay: --levels needs a value\n");
		else
			fprintf(stderr, "mmsim replay: unknown option '%s'\n",
				argv[i]);
		replay_usage(stderr);
		return 2;
	}

	ctx = be->open(levels);
	if (!ctx) {
		fprintf(stderr, "mmsim replay: cannot open the %s backend with "
			"%llu levels\n", be->name, levels);
		return 1;
	}
	bad = replay_run(stdin, stdout, be, ctx);
	be->close(ctx);
	if (fflush(stdout)) {
		perror("mmsim replay: stdout");
		return 1;
	}
	return bad ? 1 : 0;
}

int cmd_gen_script(int argc, char **argv)
{
	unsigned long long seed = 1, ops = 60;
	bool missing = false;
	const char *val;
	int i;

	for (i = 1; i < argc; i++) {
		if (is_help(argv[i])) {
			gen_usage(stdout);
			return 0;
		}
		val = option_value(argc, argv, &i, "--seed", &missing);
		if (val && !parse_ulong(val, UINT64_MAX, &seed))
			continue;
		if (!val && !missing) {
			val = option_value(argc, argv, &i, "--ops", &missing);
			if (val && !parse_ulong(val, 10000000, &ops))
				continue;
		}
		if (val)
			fprintf(stderr, "mmsim gen-script: bad value '%s'\n", val);
		else if (missing)
			fprintf(stderr, "mmsim gen-script: %s needs a value\n",
				argv[i]);
		else
			fprintf(stderr, "mmsim gen-script: unknown option '%s'\n",
				argv[i]);
		gen_usage(stderr);
		return 2;
	}

	replay_gen_script(stdout, seed, (int)ops);
	if (fflush(stdout)) {
		perror("mmsim gen-script: stdout");
		return 1;
	}
	return 0;
}
