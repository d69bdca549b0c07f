// SPDX-License-Identifier: MIT
/*
 * The mmsim command: subcommands that drive the library.  The forms listed
 * in docs/architecture.md ("Command-line contract") are kept stable.
 */
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "stress.h"

static const struct mmsim_command commands[] = {
	{ "replay", "replay an operation script from stdin", cmd_replay },
	{ "gen-script", "print a seeded random operation script", cmd_gen_script },
	{ "bench", "run a benchmark workload", cmd_bench },
	{ "stress", "stress the fault machinery, check data and invariants",
	  cmd_stress },
	{ "explore", "run a fault against a system call in every schedule",
	  cmd_explore },
};

static void usage(FILE *out)
{
	size_t i;

	fprintf(out, "usage: mmsim SUBCOMMAND [OPTIONS]\n\n"
		"mmsim runs the Linux memory-management machinery in a process.\n\n"
		"subcommands:\n");
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(out, "  %-12s %s\n", commands[i].name, commands[i].help);
	fprintf(out, "\n'mmsim SUBCOMMAND --help' describes one subcommand.\n");
}

int main(int argc, char **argv)
{
	size_t i;

	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") ||
	    !strcmp(argv[1], "help")) {
		usage(stdout);
		return 0;
	}
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "mmsim: unknown subcommand '%s'\n\n", argv[1]);
	usage(stderr);
	return 2;
}
