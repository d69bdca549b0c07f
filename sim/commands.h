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

#include <stdbool.h>

/* "--name VALUE" or "--name=VALUE" at argv[*i] (sim/options.c). */
const char *option_value(int argc, char **argv, int *i, const char *name,
			 bool *missing);

#endif /* MMSIM_SIM_COMMANDS_H */
