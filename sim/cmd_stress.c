// SPDX-License-Identifier: MIT
/*
 * mmsim stress [--strategy NAME] [--cpus N] [--seconds S] [--seed N]
 *		[--mutant NAME] [--spf-regions on|off]
 *
 * The command around the stress engine (sim/stress.c): options, the
 * watchdog, and the contract of docs/architecture.md: the last line is
 * SUCCESS (exit 0) or "FAILURE: <what was caught>" (exit 1); a hang ends
 * with a FAILURE line from the watchdog and exit status 3.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <mmsim/cpu.h>
#include <mmsim/mutant.h>
#include <mmsim/strategy.h>

#include "commands.h"
#include "stress.h"

#define STRESS_DEFAULT_CPUS	4
#define STRESS_DEFAULT_SECONDS	5.0
#define STRESS_SECONDS_MIN	0.001
#define STRESS_SECONDS_MAX	86400.0
/*
 * A CPU that waits longer than this in one wait loop is deadlocked.  Not
 * less: on a loaded host with few cores (and under TSan), a fork holding
 * the mmap lock for writing has kept readers waiting for 2 s.
 */
#define STRESS_WATCHDOG_MS	5000

static void list_mutants(FILE *out, int indent)
{
	mmsim_mutant_list(out, indent);
}

static void stress_usage(FILE *out)
{
	fprintf(out,
		"usage: mmsim stress [--strategy NAME] [--cpus N] "
		"[--seconds S] [--seed N]\n"
		"                    [--mutant NAME] [--spf-regions on|off]\n"
		"       mmsim stress [--strategy NAME] --list-mutants\n\n"
		"Simulated CPUs share one mm: workers write and check data\n"
		"in regions they hand to each other, chaos CPUs map, unmap,\n"
		"protect, move, zap, lock and fork under them.  With SPF\n"
		"regions, workers also share regions whose VMAs chaos CPUs\n"
		"change while they fault in them, with random delays in the\n"
		"race windows of the speculative fault.  Every 200 ms all\n"
		"CPUs park and the mm's invariants are checked; at the end\n"
		"every frame must be free again.  The last line is SUCCESS\n"
		"or FAILURE: <what>.\n\n"
		"  --strategy NAME  fault-handling strategy (default classic),\n"
		"                   one of:\n");
	fault_strategy_list(out, "                     ", true);
	fprintf(out,
		"  --cpus N         simulated CPUs, 1..%d (default %d; about\n"
		"                   half are workers, the others chaos)\n"
		"  --seconds S      run time, fractions allowed (default %g)\n"
		"  --seed N         seed of every CPU's decisions (default: "
		"from the clock,\n"
		"                   printed; the interleaving is not "
		"reproducible)\n"
		"  --mutant NAME    run a deliberately broken variant:\n",
		NR_CPUS - 1, STRESS_DEFAULT_CPUS, STRESS_DEFAULT_SECONDS);
	list_mutants(out, 19);
	fprintf(out,
		"  --spf-regions on|off\n"
		"                   the SPF regions and race-window delays "
		"(default: on\n"
		"                   for a strategy that faults speculatively)\n"
		"  --help           show this help\n\n"
		"Exit status: 0 SUCCESS, 1 FAILURE, 2 bad arguments, %d hang "
		"(the watchdog\nended the run), 130 or 143: SIGINT or SIGTERM "
		"ended it early (the\ncounters so far, then INTERRUPTED: ..., "
		"unless a FAILURE was caught).\n", MMSIM_WATCHDOG_EXIT);
}

struct stress_args {
	struct stress_opts o;
	const char *mutant;
	const char *spf_regions;	/* "on", "off", or NULL: default */
	bool seeded;
	bool list_mutants;		/* --list-mutants: print, do not run */
};

/* Apply the value of option n; 0 or -1 (said why). */
static int apply_value(struct stress_args *a, int n, const char *val)
{
	unsigned long v;

	switch (n) {
	case 0:
		a->o.strategy = val;
		return 0;
	case 1:
		if (option_ulong(val, 0, 1, NR_CPUS - 1, &v))
			break;
		a->o.cpus = v;
		return 0;
	case 2:
		if (option_double(val, STRESS_SECONDS_MIN,
				  STRESS_SECONDS_MAX, &a->o.seconds))
			break;
		return 0;
	case 3:
		if (option_ulong(val, 0, 0, ~0UL, &a->o.seed))
			break;
		a->seeded = true;
		return 0;
	case 4:
		a->mutant = val;
		return 0;
	default:
		if (strcmp(val, "on") && strcmp(val, "off"))
			break;
		a->spf_regions = val;
		return 0;
	}
	fprintf(stderr, "mmsim stress: bad value '%s' for %s\n", val,
		n == 1 ? "--cpus" : n == 2 ? "--seconds" :
		n == 3 ? "--seed" : "--spf-regions");
	return -1;
}

/* An option with a value at argv[*i]: 0 taken, 1 none of them, -1 bad. */
static int parse_valued(struct stress_args *a, int argc, char **argv, int *i)
{
	static const char *const names[] = {
		"--strategy", "--cpus", "--seconds", "--seed", "--mutant",
		"--spf-regions",
	};
	const int nr = sizeof(names) / sizeof(names[0]);
	const char *val;
	int n;

	n = option_find(argc, argv, i, names, nr, "mmsim stress", &val);
	if (n < 0)
		return -1;
	if (n == nr)
		return 1;
	return apply_value(a, n, val);
}

/* 0 to run; -1 to stop with exit status *status (0 after --help). */
static int parse_args(struct stress_args *a, int argc, char **argv,
		      int *status)
{
	for (int i = 1; i < argc; i++) {
		int ret;

		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			stress_usage(stdout);
			*status = 0;
			return -1;
		}
		if (!strcmp(argv[i], "--list-mutants")) {
			a->list_mutants = true;
			continue;
		}
		ret = parse_valued(a, argc, argv, &i);
		if (ret < 0)
			goto bad;
		if (ret > 0) {
			fprintf(stderr, "mmsim stress: unknown argument '%s'\n",
				argv[i]);
			goto bad;
		}
	}
	return 0;
bad:
	fputc('\n', stderr);
	stress_usage(stderr);
	*status = 2;
	return -1;
}

static int check_choices(struct stress_args *a)
{
	const struct fault_strategy *fs = fault_strategy_find(a->o.strategy);

	if (!fs) {
		fprintf(stderr, "mmsim stress: unknown strategy '%s'; the "
			"strategies are:\n", a->o.strategy);
		fault_strategy_list(stderr, "  ", false);
		return -1;
	}
	a->o.spf_regions = a->spf_regions ? !strcmp(a->spf_regions, "on") :
			   fs->lockless_fault != NULL;
	if (a->mutant && mmsim_set_mutant(a->mutant)) {
		fprintf(stderr, "mmsim stress: unknown mutant '%s'; the "
			"mutants are:\n", a->mutant);
		list_mutants(stderr, 2);
		return -1;
	}
	if (a->mutant && !fault_strategy_has_mutant(fs, a->mutant)) {
		fprintf(stderr, "mmsim stress: mutant '%s' does not apply to "
			"strategy %s\n", a->mutant, fs->name);
		return -1;
	}
	return 0;
}

/*
 * A BUG_ON() aborts the process, a corrupted structure may crash it: the
 * run must still end with a FAILURE line.  The lines are prepared before,
 * the handler only writes.  A signal that already has a handler (a
 * sanitizer's) keeps it: its report is worth more than our line.
 */
static const struct {
	int sig;
	const char *what;
} crash_signals[] = {
	{ SIGABRT, "SIGABRT (a kernel BUG or an assertion, see stderr)" },
	{ SIGSEGV, "SIGSEGV (the simulator itself crashed)" },
	{ SIGBUS, "SIGBUS (the simulator itself crashed)" },
	{ SIGILL, "SIGILL (the simulator itself crashed)" },
	{ SIGFPE, "SIGFPE (the simulator itself crashed)" },
};

#define NR_CRASH_SIGNALS (sizeof(crash_signals) / sizeof(crash_signals[0]))

static char crash_line[NR_CRASH_SIGNALS][160];

static void stress_crashed(int sig)
{
	for (size_t i = 0; i < NR_CRASH_SIGNALS; i++) {
		if (crash_signals[i].sig == sig) {
			ssize_t ret = write(1, crash_line[i],
					    strlen(crash_line[i]));
			(void)ret;
		}
	}
	_exit(1);
}

static void catch_crashes(unsigned long seed)
{
	struct sigaction sa = { .sa_handler = stress_crashed }, old;

	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < NR_CRASH_SIGNALS; i++) {
		snprintf(crash_line[i], sizeof(crash_line[i]),
			 "FAILURE: crash: %s (seed %lu)\n",
			 crash_signals[i].what, seed);
		if (sigaction(crash_signals[i].sig, NULL, &old) ||
		    old.sa_handler != SIG_DFL)
			continue;
		sigaction(crash_signals[i].sig, &sa, NULL);
	}
}

/* Only a flag: the controller notices it within a few ms. */
static void stress_interrupted(int sig)
{
	atomic_store(&stress_interrupt, sig);
}

/*
 * SIGINT and SIGTERM end the run early but as at its end: CPUs stopped,
 * the mm checked, the counters and an INTERRUPTED line printed.  A second
 * one kills at once (SA_RESETHAND).  The threads started here and by the
 * run block both, so the handler runs on the controller.
 */
static int catch_interrupts(void)
{
	struct sigaction sa = { .sa_handler = stress_interrupted,
				.sa_flags = SA_RESETHAND | SA_RESTART };

	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGINT, &sa, NULL) || sigaction(SIGTERM, &sa, NULL))
		return -1;
	return 0;
}

static int start_watchdog(void)
{
	sigset_t set, old;
	int err;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &set, &old);
	err = mmsim_watchdog_start(STRESS_WATCHDOG_MS);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return err;
}

static double rate(unsigned long long n, double seconds)
{
	return seconds > 0 ? n / seconds : 0;
}

static void print_stats(const struct stress_stats *st)
{
	printf("stress: %.2f s: %llu faults (%.0f/s), %llu ops (%.0f/s): "
	       "%llu stores, %llu loads, %llu syscalls, %llu forks\n",
	       st->seconds, st->faults, rate(st->faults, st->seconds),
	       st->ops, rate(st->ops, st->seconds), st->stores, st->loads,
	       st->syscalls, st->forks);
	printf("stress: %llu region handovers, %llu stores refused by "
	       "read-only, %llu quiescent checks passed\n", st->migrations,
	       st->segv_expected, st->quiescent);
	if (st->spf_ops || st->spf_changes)
		printf("stress: SPF regions: %llu accesses (%llu with no change "
		       "around them, checked exactly), %llu VMA changes under "
		       "them\n", st->spf_ops, st->spf_strict, st->spf_changes);
	fault_events_print(stdout, st->strategy, st->events);
	printf("stress: %.2f%% of page faults completed without the mmap "
	       "lock\n", st->events[FAULT_PAGE_FAULTS] ?
	       100.0 * fault_events_lockless(st->strategy, st->events) /
	       st->events[FAULT_PAGE_FAULTS] : 0.0);
}

/*
 * A run with a speculating strategy that never completed a fault
 * speculatively tested nothing of it: that is a failure of the run.
 */
static bool spf_untested(const struct stress_args *a,
			 const struct stress_stats *st)
{
	const struct fault_strategy *fs = fault_strategy_find(a->o.strategy);

	return fs->lockless_fault && a->o.spf_regions && a->o.cpus > 1 &&
	       !fault_events_lockless(fs, st->events);
}

int cmd_stress(int argc, char **argv)
{
	struct stress_args a = {
		.o = { .strategy = "classic", .cpus = STRESS_DEFAULT_CPUS,
		       .seconds = STRESS_DEFAULT_SECONDS },
	};
	struct stress_stats st;
	char why[640];
	int status, err;

	if (parse_args(&a, argc, argv, &status))
		return status;
	if (check_choices(&a))
		return 2;
	if (a.list_mutants) {
		mmsim_mutant_list_for(stdout, fault_strategy_find(a.o.strategy));
		return 0;
	}
	if (!a.seeded)
		a.o.seed = (unsigned long)time(NULL) ^
			   ((unsigned long)getpid() << 16);
	a.o.progress = isatty(2);

	printf("stress: strategy %s, %u CPUs (%u workers, %u chaos), %g s, "
	       "seed %lu, mutant %s, SPF regions %s\n", a.o.strategy,
	       a.o.cpus, (a.o.cpus + 1) / 2, a.o.cpus / 2, a.o.seconds,
	       a.o.seed, mmsim_active_mutant->name,
	       a.o.spf_regions ? "on" : "off");
	/* The watchdog _exit()s: what is printed must be out already. */
	fflush(stdout);
	catch_crashes(a.o.seed);
	if (catch_interrupts()) {
		printf("FAILURE: set-up: sigaction: %s\n", strerror(errno));
		return 1;
	}
	err = start_watchdog();
	if (err) {
		printf("FAILURE: set-up: watchdog: %s\n", strerror(-err));
		return 1;
	}
	status = stress_run(&a.o, &st, why, sizeof(why));
	mmsim_watchdog_stop();
	print_stats(&st);
	if (!status && !st.interrupted && spf_untested(&a, &st)) {
		snprintf(why, sizeof(why), "set-up: no fault completed "
			 "speculatively: the run did not exercise the "
			 "speculative path");
		status = 1;
	}
	if (status) {
		printf("FAILURE: %s (seed %lu)\n", why, a.o.seed);
		return 1;
	}
	if (st.interrupted) {
		printf("INTERRUPTED: %s after %.2f of %g s, nothing caught "
		       "(seed %lu)\n", st.interrupted == SIGINT ? "SIGINT" :
		       "SIGTERM", st.seconds, a.o.seconds, a.o.seed);
		fflush(stdout);
		return 128 + st.interrupted;
	}
	printf("SUCCESS\n");
	if (fflush(stdout)) {
		perror("mmsim stress: stdout");
		return 1;
	}
	return 0;
}
