/* SPDX-License-Identifier: MIT */
#ifndef MMSIM_SIM_COMMANDS_H
#define MMSIM_SIM_COMMANDS_H

struct mmsim_command {
	const char *name;
	const char *help;
	/* argv[0] is the subcommand's name; returns the exit status. */
	int (*fn)(int argc, char **argv);
};

int cmd_replay(int argc, char **argv);		/* sim/cmd_replay.c */
int cmd_gen_script(int argc, char **argv);	/* sim/cmd_replay.c */
int cmd_bench(int argc, char **argv);		/* bench/bench.c */
int cmd_explore(int argc, char **argv);		/* sim/cmd_explore.c */

#include <stdbool.h>

/* "--name VALUE" or "--name=VALUE" at argv[*i] (sim/options.c). */
const char *option_value(int argc, char **argv, int *i, const char *name,
			 bool *missing);

/*
 * Which of the nr options names[] is at argv[*i]: its index, with its
 * value in *val and *i past it; nr if none of them; -1 after
 * "PROG: --name needs a value" on stderr.
 */
int option_find(int argc, char **argv, int *i, const char *const names[],
		int nr, const char *prog, const char **val);

/*
 * The value s of an option: an unsigned integer in min..max (base as
 * strtoul()'s, 0 to take 0x too) or a finite number in min..max.  0 with
 * it in *out, or -1 (and *out untouched) if s is not one.
 */
int option_ulong(const char *s, int base, unsigned long min,
		 unsigned long max, unsigned long *out);
int option_double(const char *s, double min, double max, double *out);

#endif /* MMSIM_SIM_COMMANDS_H */
