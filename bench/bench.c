// SPDX-License-Identifier: MIT
/*
 * mmsim bench WORKLOAD [--strategy NAME] [--cpus N] [--seconds S]
 *		  [--native] [--json]
 *
 * The option parsing, the table of workloads and the helpers they share:
 * timed runs on threads, progress on a terminal, and the result lines
 * (a table, or one JSON object per line for scripts).
 */
#define _GNU_SOURCE		/* RUSAGE_THREAD */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/resource.h>
/* <mmsim/mm.h> defines it again, with the same value. */
#undef RLIM_INFINITY

#include <mmsim/cpu.h>
#include <mmsim/mm.h>
#include <mmsim/page.h>

#include "bench.h"
#include "commands.h"

static const struct bench_workload workloads[] = {
	{ "mmap1", "map and unmap 128 MiB anonymous, untouched (ops/s)",
	  true, bench_mmap1 },
	{ "find_vma", "find_vma() with 10 and with 65,530 VMAs (ns/lookup)",
	  false, bench_find_vma },
	{ "page_fault1", "map 128 MiB anonymous, write a byte per page, unmap "
	  "(faults/s)", true, bench_page_fault1 },
	{ "ebizzy", "ebizzy -mTRp: 2 threads per CPU, each record maps a "
	  "page,\n               writes it, unmaps it (records/s)", true,
	  bench_ebizzy },
};

#define NR_WORKLOADS	(sizeof(workloads) / sizeof(workloads[0]))

#define SECONDS_MIN	0.001
#define SECONDS_MAX	86400.0

static void list_strategies(FILE *out)
{
	unsigned int n = fault_strategy_count();

	for (unsigned int i = 0; i < n; i++)
		fprintf(out, " %s", fault_strategy_get(i)->name);
}

static void bench_usage(FILE *out)
{
	size_t i;

	fprintf(out,
		"usage: mmsim bench WORKLOAD [--strategy NAME] [--cpus N] "
		"[--seconds S]\n"
		"                   [--native] [--json]\n\n"
		"Runs a benchmark workload on the simulator and, with --native,\n"
		"on the host kernel in the same run, rounds alternating.\n\n"
		"workloads:\n");
	for (i = 0; i < NR_WORKLOADS; i++)
		fprintf(out, "  %-12s %s\n", workloads[i].name,
			workloads[i].help);
	fprintf(out,
		"\n  --strategy NAME  fault-handling strategy (default classic),\n"
		"                   one of:");
	list_strategies(out);
	fprintf(out, "\n"
		"  --cpus N         threads of the one mm, 1..%d (default 1);\n"
		"                   ebizzy: 2 per CPU, 1..%d\n"
		"  --seconds S      time per side, fractions allowed "
		"(default 1)\n"
		"  --native         also run the workload on the host kernel\n"
		"  --json           one JSON object per result line\n"
		"  --help           show this help\n\n"
		"Exit status: 0, 1 if the workload failed, 2 on bad arguments.\n",
		BENCH_MAX_CPUS, BENCH_EBIZZY_MAX_CPUS);
}

static const struct bench_workload *find_workload(const char *name)
{
	size_t i;

	for (i = 0; i < NR_WORKLOADS; i++)
		if (!strcmp(name, workloads[i].name))
			return &workloads[i];
	return NULL;
}

/* ------------------------------------------------------------------------ */
/* Arguments */


static int bad_value(const char *opt, const char *val)
{
	if (!strcmp(opt, "--cpus"))
		fprintf(stderr, "mmsim bench: bad --cpus '%s': want an "
			"integer in 1..%d\n", val, BENCH_MAX_CPUS);
	else
		fprintf(stderr, "mmsim bench: bad --seconds '%s': want a "
			"number in %g..%g\n", val, SECONDS_MIN, SECONDS_MAX);
	return -1;
}

/* An option taking a value; 1 if argv[*i] is none of them, -1 if bad. */
static int parse_valued(struct bench_opts *o, int argc, char **argv, int *i)
{
	static const char *const names[] = { "--strategy", "--cpus",
					     "--seconds" };
	unsigned long cpus;
	const char *val;

	switch (option_find(argc, argv, i, names, 3, "mmsim bench", &val)) {
	case -1:
		return -1;
	case 0:
		o->strategy = val;
		return 0;
	case 1:
		if (option_ulong(val, 10, 1, BENCH_MAX_CPUS, &cpus))
			return bad_value(names[1], val);
		o->cpus = cpus;
		return 0;
	case 2:
		if (option_double(val, SECONDS_MIN, SECONDS_MAX, &o->seconds))
			return bad_value(names[2], val);
		return 0;
	}
	return 1;
}

/* One argument; 0 if taken, -1 if bad. */
static int parse_one(struct bench_opts *o, int argc, char **argv, int *i)
{
	const char *arg = argv[*i];
	int ret;

	if (!strcmp(arg, "--native")) {
		o->native = true;
		return 0;
	}
	if (!strcmp(arg, "--json")) {
		o->json = true;
		return 0;
	}
	ret = parse_valued(o, argc, argv, i);
	if (ret <= 0)
		return ret;
	if (arg[0] == '-') {
		fprintf(stderr, "mmsim bench: unknown option '%s'\n", arg);
		return -1;
	}
	if (o->workload) {
		fprintf(stderr, "mmsim bench: one workload at a time ('%s' "
			"and '%s')\n", o->workload, arg);
		return -1;
	}
	o->workload = arg;
	return 0;
}

static bool is_help(const char *arg)
{
	return !strcmp(arg, "--help") || !strcmp(arg, "-h");
}

/* 0 to run; -1 to stop with exit status *status (0 after --help). */
static int parse_args(struct bench_opts *o, int argc, char **argv,
		      int *status)
{
	int i;

	for (i = 1; i < argc; i++) {
		if (is_help(argv[i])) {
			bench_usage(stdout);
			*status = 0;
			return -1;
		}
		if (parse_one(o, argc, argv, &i))
			goto bad;
	}
	if (o->workload)
		return 0;
	fprintf(stderr, "mmsim bench: which workload?\n");
bad:
	fputc('\n', stderr);
	bench_usage(stderr);
	*status = 2;
	return -1;
}

static int check_choices(const struct bench_opts *o,
			 const struct bench_workload **wl)
{
	*wl = find_workload(o->workload);
	if (!*wl) {
		fprintf(stderr, "mmsim bench: unknown workload '%s'\n\n",
			o->workload);
		bench_usage(stderr);
		return -1;
	}
	if (!fault_strategy_find(o->strategy)) {
		fprintf(stderr, "mmsim bench: unknown strategy '%s' (known:",
			o->strategy);
		list_strategies(stderr);
		fprintf(stderr, ")\n");
		return -1;
	}
	return 0;
}

int cmd_bench(int argc, char **argv)
{
	struct bench_opts o = { .strategy = "classic", .cpus = 1,
				.seconds = 1.0 };
	const struct bench_workload *wl;
	int status;

	if (parse_args(&o, argc, argv, &status))
		return status;
	if (check_choices(&o, &wl))
		return 2;
	if (o.native && !wl->has_native) {
		fprintf(stderr, "mmsim bench: %s: --native is not applicable, "
			"ignored\n", wl->name);
		o.native = false;
	}
	status = wl->run(&o);
	if (fflush(stdout)) {
		perror("mmsim bench: stdout");
		return 1;
	}
	return status;
}

/* ------------------------------------------------------------------------ */
/* The simulated side: the mm, its fault events, its frames */

struct mm_struct *bench_mm_alloc(const struct bench_opts *opts)
{
	return mm_alloc_strategy(4, fault_strategy_find(opts->strategy));
}

struct mm_struct *bench_mem_mm(const struct bench_opts *opts,
			       unsigned long ram)
{
	struct mm_struct *mm;
	int err;

	err = mem_init(ram, MEM_NO_POISON);
	if (err) {
		fprintf(stderr, "mmsim bench %s: mem_init(%lu MiB): %s\n",
			opts->workload, ram >> 20, strerror(-err));
		return NULL;
	}
	mm = bench_mm_alloc(opts);
	if (!mm)
		fprintf(stderr, "mmsim bench %s: mm_alloc failed\n",
			opts->workload);
	return mm;
}

/*
 * The strategy's lockless completions and its aborts (the events it
 * marks in abort_events), with the kernel's names.
 */
void bench_fault_events(const struct fault_strategy *fs,
			const unsigned long since[NR_FAULT_EVENTS],
			struct bench_result *res,
			struct bench_abort aborts[BENCH_MAX_ABORTS])
{
	unsigned long now[NR_FAULT_EVENTS];
	unsigned int n = 0;

	fault_events_read(now);
	res->spf = fault_events_lockless(fs, now) -
		   fault_events_lockless(fs, since);
	for (unsigned int ev = 0; ev < NR_FAULT_EVENTS; ev++) {
		if (!(fs->abort_events & (1UL << ev)) || now[ev] == since[ev])
			continue;
		aborts[n].reason = fault_event_name(fs, ev);
		aborts[n].count = now[ev] - since[ev];
		n++;
	}
	res->aborts = aborts;
	res->nr_aborts = n;
}

int bench_check_frames(const char *workload)
{
	unsigned long free;

	rcu_barrier();		/* tables and VMAs may wait for a grace period */
	drain_all_pages();
	free = nr_free_pages();
	if (free == totalram_pages())
		return 0;
	fprintf(stderr, "mmsim bench %s: %lu of %lu frames not freed\n",
		workload, totalram_pages() - free, totalram_pages());
	return -1;
}

/* ------------------------------------------------------------------------ */
/* Time and timed threads */

double bench_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

double bench_rate(unsigned long long ops, double seconds)
{
	return seconds > 0 ? ops / seconds : 0;
}

static void sleep_until(double deadline)
{
	struct timespec ts;

	ts.tv_sec = (time_t)deadline;
	ts.tv_nsec = (long)((deadline - ts.tv_sec) * 1e9);
	if (ts.tv_nsec >= 1000000000L)
		ts.tv_nsec = 999999999L;
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) ==
	       EINTR)
		;
}

/* Threads wait for go, so that they all start measuring together. */
static void *bench_thread_main(void *p)
{
	struct bench_thread *t = p;

	while (!atomic_load_explicit(t->go, memory_order_acquire))
		sched_yield();
	t->ops = t->loop(t);
	return NULL;
}

/* Start the threads; returns how many started. */
static unsigned int start_threads(struct bench_thread *t, pthread_t *tid,
				  unsigned int cpus)
{
	unsigned int n;
	int err;

	for (n = 0; n < cpus; n++) {
		err = pthread_create(&tid[n], NULL, bench_thread_main, &t[n]);
		if (err) {
			fprintf(stderr, "mmsim bench: thread %u: %s\n", n,
				strerror(err));
			break;
		}
	}
	return n;
}

/* Join the started threads; returns the first error. */
static int join_threads(struct bench_thread *t, pthread_t *tid,
			unsigned int n, struct bench_tally *tally)
{
	unsigned int i;
	int err = 0;

	for (i = 0; i < n; i++) {
		pthread_join(tid[i], NULL);
		tally->ops += t[i].ops;
		tally->faults += t[i].faults;
		if (t[i].error && !err)
			err = t[i].error;
	}
	return err;
}

static void init_threads(struct bench_thread *t, unsigned int cpus,
			 unsigned long long (*loop)(struct bench_thread *t),
			 void *arg, const atomic_bool *go,
			 const atomic_bool *stop, atomic_uint *ready)
{
	unsigned int i;

	for (i = 0; i < cpus; i++) {
		memset(&t[i], 0, sizeof(t[i]));
		t[i].id = i;
		t[i].arg = arg;
		t[i].go = go;
		t[i].stop = stop;
		t[i].ready = ready;
		t[i].nthreads = cpus;
		t[i].loop = loop;
	}
}

void bench_thread_ready(struct bench_thread *t)
{
	atomic_fetch_add_explicit(t->ready, 1, memory_order_acq_rel);
	while (atomic_load_explicit(t->ready, memory_order_acquire) <
	       t->nthreads && !bench_should_stop(t))
		sched_yield();
}

int bench_cpu_enter(struct bench_thread *t, struct mm_struct *mm)
{
	if (mmsim_cpu_attach() < 0) {
		t->error = -EBUSY;
		return -EBUSY;
	}
	mmget(mm);
	mmsim_switch_mm(mm);
	bench_thread_ready(t);
	t->faults0 = atomic_load_explicit(&this_cpu()->nr_faults,
					  memory_order_relaxed);
	return 0;
}

void bench_cpu_exit(struct bench_thread *t, struct mm_struct *mm)
{
	t->faults = atomic_load_explicit(&this_cpu()->nr_faults,
					 memory_order_relaxed) - t->faults0;
	mmsim_switch_mm(NULL);
	mmput(mm);
	mmsim_cpu_detach();
}

long bench_thread_minflt(void)
{
	struct rusage ru;

	if (getrusage(RUSAGE_THREAD, &ru))
		return 0;
	return ru.ru_minflt;
}

int bench_run_threads(unsigned int cpus, double seconds,
		      unsigned long long (*loop)(struct bench_thread *t),
		      void *arg, struct bench_tally *tally)
{
	atomic_bool go = false, stop = false;
	atomic_uint ready = 0;
	struct bench_thread *t;
	unsigned int started;
	pthread_t *tid;
	double t0;
	int err;

	t = aligned_alloc(64, cpus * sizeof(*t));
	tid = calloc(cpus, sizeof(*tid));
	if (!t || !tid) {
		free(t);
		free(tid);
		return -ENOMEM;
	}
	init_threads(t, cpus, loop, arg, &go, &stop, &ready);
	started = start_threads(t, tid, cpus);
	t0 = bench_now();
	atomic_store_explicit(&go, true, memory_order_release);
	if (started == cpus)
		sleep_until(t0 + seconds);
	atomic_store_explicit(&stop, true, memory_order_relaxed);
	err = join_threads(t, tid, started, tally);
	tally->seconds += bench_now() - t0;
	free(t);
	free(tid);
	return started < cpus ? -EAGAIN : err;
}

/* ------------------------------------------------------------------------ */
/* Two sides: the simulator and the host kernel */

static int bench_side(struct bench_sides *s, bool native, double seconds)
{
	int err;

	if (native)
		err = bench_run_threads(s->threads, seconds, s->native_loop,
					NULL, &s->native);
	else
		err = bench_run_threads(s->threads, seconds, s->sim_loop,
					s->sim_arg, &s->sim);
	if (err)
		fprintf(stderr, "mmsim bench %s: %s run failed: %s\n",
			s->opts->workload,
			native ? "native" : s->opts->strategy, strerror(-err));
	return err;
}

int bench_sides_run(struct bench_sides *s)
{
	double slice = s->opts->seconds / BENCH_ROUNDS;
	bool native_first;
	int r, err = 0;

	fault_events_read(s->since);
	for (r = 0; r < BENCH_ROUNDS && !err; r++) {
		native_first = s->opts->native && (r & 1);
		err = bench_side(s, native_first, slice);
		if (!err && s->opts->native)
			err = bench_side(s, !native_first, slice);
		bench_progress();
	}
	bench_progress_done();
	return err;
}

void bench_sides_report(const struct bench_sides *s)
{
	const struct bench_opts *o = s->opts;
	struct bench_abort aborts[BENCH_MAX_ABORTS];
	struct bench_result res = {
		.workload = o->workload, .strategy = o->strategy,
		.cpus = o->cpus, .seconds = s->sim.seconds,
		.ops = s->sim.ops, .faults = s->sim.faults,
	};

	bench_fault_events(fault_strategy_find(o->strategy), s->since, &res,
			   aborts);
	bench_report(o, &res);
	if (!o->native)
		return;
	res = (struct bench_result){
		.workload = o->workload, .strategy = "native",
		.cpus = o->cpus, .seconds = s->native.seconds,
		.ops = s->native.ops, .faults = s->native.faults,
	};
	bench_report(o, &res);
	bench_report_ratio(o, "mmsim/native",
			   bench_rate(s->sim.ops, s->sim.seconds),
			   bench_rate(s->native.ops, s->native.seconds));
}

/* ------------------------------------------------------------------------ */
/* Progress and results */

static bool progress_shown;

void bench_progress(void)
{
	if (!isatty(2))
		return;
	fputc('.', stderr);
	fflush(stderr);
	progress_shown = true;
}

void bench_progress_done(void)
{
	if (progress_shown)
		fputc('\n', stderr);
	progress_shown = false;
}

static void print_aborts_json(const struct bench_result *r)
{
	unsigned int i;

	printf("{");
	for (i = 0; i < r->nr_aborts; i++)
		printf("%s\"%s\":%llu", i ? "," : "", r->aborts[i].reason,
		       r->aborts[i].count);
	printf("}");
}

static void report_json(const struct bench_result *r)
{
	printf("{\"workload\":\"%s\",\"strategy\":\"%s\",\"cpus\":%u,"
	       "\"seconds\":%.6f,\"ops\":%llu,\"ops_per_s\":%.1f,"
	       "\"faults\":%llu,\"spf\":%llu,\"aborts\":",
	       r->workload, r->strategy, r->cpus, r->seconds, r->ops,
	       bench_rate(r->ops, r->seconds), r->faults, r->spf);
	print_aborts_json(r);
	if (r->vmas)
		printf(",\"vmas\":%lu,\"ns_per_lookup\":%.3f", r->vmas,
		       r->ops ? r->seconds * r->cpus * 1e9 / r->ops : 0.0);
	printf("}\n");
}

static bool header_shown;

static void report_table(const struct bench_result *r)
{
	unsigned int i;

	if (!header_shown)
		printf("%-12s %-14s %5s %9s %12s %14s\n", "workload",
		       "strategy", "cpus", "seconds", "ops", "ops/s");
	header_shown = true;
	printf("%-12s %-14s %5u %9.3f %12llu %14.1f", r->workload,
	       r->strategy, r->cpus, r->seconds, r->ops,
	       bench_rate(r->ops, r->seconds));
	if (r->faults)
		printf("  faults=%llu spf=%llu", r->faults, r->spf);
	for (i = 0; i < r->nr_aborts; i++)
		printf(" %s=%llu", r->aborts[i].reason, r->aborts[i].count);
	if (r->vmas)
		printf("  vmas=%lu ns/lookup=%.2f", r->vmas,
		       r->ops ? r->seconds * r->cpus * 1e9 / r->ops : 0.0);
	printf("\n");
}

void bench_report(const struct bench_opts *opts,
		  const struct bench_result *res)
{
	if (opts->json)
		report_json(res);
	else
		report_table(res);
}

void bench_report_ratio(const struct bench_opts *opts, const char *what,
			double num, double den)
{
	bool ok = den > 0 && isfinite(num / den);

	if (opts->json && ok)
		printf("{\"workload\":\"%s\",\"ratio_of\":\"%s\","
		       "\"ratio\":%.4f}\n", opts->workload, what, num / den);
	else if (opts->json)
		printf("{\"workload\":\"%s\",\"ratio_of\":\"%s\","
		       "\"ratio\":null}\n", opts->workload, what);
	else if (ok)
		printf("ratio %s: %.2fx\n", what, num / den);
	else
		printf("ratio %s: n/a\n", what);
}
