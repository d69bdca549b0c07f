// SPDX-License-Identifier: MIT
/*
 * mmsim explore: every schedule of one write access against one writer,
 * with one preemption each way, on the scheduling hook (<mmsim/sched.h>).
 *
 * CPU F stores to page A of a small anonymous VMA through its MMU (the
 * whole fault path: TLB, walk, speculative fault, classic fallback).  CPU
 * W runs one system call on the same VMA.  A schedule (i, j) is:
 *
 *   F: runs to its scheduling point i, stops
 *   W:                                     runs to its point j, stops
 *   F:                                     runs to the end
 *   W:                                     runs to the end
 *
 * for every i and j, counting the points each CPU passes (wait-loop
 * turns, SCHED_SPIN, are not points: a CPU spinning waits for the other).
 * A CPU that stops with interrupts disabled, or holding a lock, may stop
 * the other one: when a CPU makes no progress for EXPLORE_STALL_MS the
 * other goes on (a real CPU would wait there too).  Points of a CPU that
 * the other's IPIs make it pass are counted, so a few schedules differ
 * from run to run; every schedule explored is a real interleaving.
 *
 * After each schedule: validate_mm() (every PTE against its VMA: a PTE
 * under no VMA, or writable in a read-only one, is an error),
 * validate_mm_pages(), and what A holds (a store that returned 0 is seen
 * unless the writer zapped or unmapped A).  At the end every frame must
 * be free.  The first failure is printed with its schedule; exit 1.  A
 * schedule that deadlocks is ended by the watchdog, which prints every
 * CPU's state and exits 3.
 *
 * What it is for: docs/races.md's windows are between F's lookup and W's
 * change; this tries each of F's steps against each of W's, where the
 * stress test tries random ones.  A mutant that no schedule here catches,
 * with the writers below, cannot break this fault against them with one
 * preemption; the ctest label `explore` records which.
 *
 * The VMA is one whole PTE table (512 pages, 2 MiB aligned), so that
 * munmap frees the table (free_pgtables) and MADV_DONTNEED of all of it
 * reclaims it (pt_reclaim) under F's walk.  Page 0 is written first (the
 * anon_vma and the PTE table exist, so the fault may go speculative); A
 * is page 1, either not yet mapped (target "none": do_anonymous_page) or
 * mapping the zero page after a read (target "zero": do_wp_page):
 *
 *   BASE      A
 *   |  p0  |  p1  |  p2  | ... | p511 |
 *    data    target
 */
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <mmsim/cpu.h>
#include <mmsim/lockdep.h>
#include <mmsim/mm.h>
#include <mmsim/mutant.h>
#include <mmsim/page.h>
#include <mmsim/pgtable.h>
#include <mmsim/rcupdate.h>
#include <mmsim/sched.h>
#include <mmsim/strategy.h>

#include "commands.h"

#define EXPLORE_BASE		(1UL << 40)
#define EXPLORE_PAGES		PTRS_PER_PTE	/* one whole PTE table */
#define EXPLORE_A		(EXPLORE_BASE + PAGE_SIZE)
/* Where mremap moves the VMA: another PTE table. */
#define EXPLORE_MOVED		(EXPLORE_BASE + 2 * PMD_SIZE)
#define EXPLORE_RAM		(16UL << 20)
#define EXPLORE_STALL_MS	2
#define EXPLORE_MAX_POINTS	100000	/* more means a CPU never stops */
#define EXPLORE_VALUE		0x5a5a5a5a5a5a5a5aUL
#define EXPLORE_TRACE		512

enum explore_target { TARGET_NONE, TARGET_ZERO, NR_TARGETS };

static const char *const target_names[NR_TARGETS] = { "none", "zero" };

/* W's system call, on the VMA or page A. */
struct explore_writer {
	const char *name;
	int (*run)(struct mm_struct *mm);
	bool unmaps;		/* A is unmapped after it */
	bool moves;		/* ... and its contents are at EXPLORE_MOVED */
	bool zaps;		/* A may read zeros after it */
	bool read_only;		/* A is read-only after it */
	bool dontunmap;		/* A's contents may be at EXPLORE_MOVED or A */
	bool stack;		/* the VMA grows down (MAP_GROWSDOWN) */
	bool f_at_moved;	/* F stores where mremap moves A, not at A */
};

static int w_munmap(struct mm_struct *mm)
{
	return sys_munmap(mm, EXPLORE_BASE, EXPLORE_PAGES * PAGE_SIZE);
}

static int w_munmap_page(struct mm_struct *mm)
{
	return sys_munmap(mm, EXPLORE_A, PAGE_SIZE);
}

static int w_mprotect(struct mm_struct *mm)
{
	return sys_mprotect(mm, EXPLORE_BASE, EXPLORE_PAGES * PAGE_SIZE,
			    PROT_READ);
}

static int w_mprotect_page(struct mm_struct *mm)
{
	return sys_mprotect(mm, EXPLORE_A, PAGE_SIZE, PROT_READ);
}

static int w_dontneed(struct mm_struct *mm)
{
	return sys_madvise(mm, EXPLORE_A, PAGE_SIZE, MADV_DONTNEED);
}

static int w_mremap(struct mm_struct *mm)
{
	unsigned long len = EXPLORE_PAGES * PAGE_SIZE;

	if (sys_mremap(mm, EXPLORE_BASE, len, len,
		       MREMAP_MAYMOVE | MREMAP_FIXED, EXPLORE_MOVED) !=
	    EXPLORE_MOVED)
		return -1;
	return 0;
}

/*
 * Moves the pages and leaves the VMA, empty and without its anon_vma
 * (MREMAP_DONTUNMAP): a fault that checked anon_vma before locking the
 * VMA (race 9) goes on to prepare one under the VMA lock alone.
 */
static int w_mremap_dontunmap(struct mm_struct *mm)
{
	unsigned long len = EXPLORE_PAGES * PAGE_SIZE;

	if (sys_mremap(mm, EXPLORE_BASE, len, len,
		       MREMAP_MAYMOVE | MREMAP_FIXED | MREMAP_DONTUNMAP,
		       EXPLORE_MOVED) != EXPLORE_MOVED)
		return -1;
	return 0;
}

/*
 * A store below the stack VMA, which the fault grows down over it
 * (expand_stack): the VMA's start and pgoff change, under its write
 * lock unless the mutant stack-no-vma-write (race 7).
 */
static int w_grow_stack(struct mm_struct *mm)
{
	unsigned long v = 2;

	return mmsim_store(EXPLORE_BASE - PAGE_SIZE, &v, sizeof(v));
}

/* Empties the PTE table, which pt_reclaim then frees. */
static int w_dontneed_all(struct mm_struct *mm)
{
	return sys_madvise(mm, EXPLORE_BASE, EXPLORE_PAGES * PAGE_SIZE,
			   MADV_DONTNEED);
}

static const struct explore_writer writers[] = {
	{ "munmap", w_munmap, .unmaps = true },
	{ "munmap-page", w_munmap_page, .unmaps = true },
	{ "mremap", w_mremap, .unmaps = true, .moves = true },
	{ "mprotect", w_mprotect, .read_only = true },
	{ "mprotect-page", w_mprotect_page, .read_only = true },
	{ "dontneed", w_dontneed, .zaps = true },
	{ "dontneed-all", w_dontneed_all, .zaps = true },
	{ "mremap-dontunmap", w_mremap_dontunmap, .moves = true,
	  .dontunmap = true },
	{ "grow-stack", w_grow_stack, .stack = true },
	/*
	 * mremap again, F storing at A's destination: the new VMA must not
	 * take a fault before the PTEs have moved into it (it is locked, or
	 * in a write section, from before it is linked).
	 */
	{ "mremap-dest", w_mremap, .unmaps = true, .moves = true,
	  .f_at_moved = true },
};
#define NR_WRITERS	(sizeof(writers) / sizeof(writers[0]))

static const char *const event_names[SCHED_NR_EVENTS] = {
	[SCHED_LOCK] = "lock", [SCHED_TRYLOCK] = "trylock",
	[SCHED_UNLOCK] = "unlock",
	[SCHED_SPIN] = "spin", [SCHED_SEQ] = "seqcount",
	[SCHED_RCU] = "rcu", [SCHED_IPI] = "ipi", [SCHED_PTE] = "pte",
	[SCHED_FAULT_LOOKUP] = "fault-lookup", [SCHED_FAULT_WALK] = "fault-walk",
	[SCHED_FAULT_PTE] = "fault-pte", [SCHED_FAULT_FINAL] = "fault-final",
};

/* --- one schedule ---------------------------------------------------------- */

enum explore_role { ROLE_F, ROLE_W, ROLE_NONE };

/*
 * SIGINT or SIGTERM: stop after the schedule that runs, say how far we
 * got, and exit 128 + the signal (as stress does).  Only a flag here.
 */
static atomic_int explore_interrupt;
static unsigned long schedules_total;

static void explore_interrupted(int sig)
{
	atomic_store(&explore_interrupt, sig);
}

static void catch_interrupts(void)
{
	struct sigaction sa = { .sa_handler = explore_interrupted,
				.sa_flags = SA_RESETHAND | SA_RESTART };

	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

static __thread enum explore_role role = ROLE_NONE;
static __thread bool in_pause;

/* What the schedule asks of one CPU, and what it did. */
struct explore_cpu {
	unsigned int stop;			/* the point to stop at */
	atomic_uint points;			/* points passed so far */
	atomic_int stopped, done;
	enum mmsim_sched_event ev;		/* what the stop was */
	/* The first EXPLORE_TRACE points, for --points. */
	unsigned char trace[EXPLORE_TRACE];
};

/* The schedule being run; the CPUs reach it through the hook. */
static struct {
	struct explore_cpu cpu[2];		/* [ROLE_F], [ROLE_W] */
	atomic_int w_go;			/* W may start */
	struct mm_struct *mm;
	const struct explore_writer *writer;
	int w_ret;
} x;

#define F	(&x.cpu[ROLE_F])
#define W	(&x.cpu[ROLE_W])

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

/*
 * Wait, as a CPU waits (taking IPIs if interrupts are enabled), until
 * *flag or *flag2 is set or the counter *points has not moved for
 * EXPLORE_STALL_MS.
 */
static void wait_for(atomic_int *flag, atomic_int *flag2, atomic_uint *points)
{
	unsigned int seen = atomic_load(points);
	long long since = now_ms();

	while (!atomic_load(flag) && !atomic_load(flag2)) {
		unsigned int now = atomic_load(points);

		if (now != seen) {
			seen = now;
			since = now_ms();
		} else if (now_ms() - since >= EXPLORE_STALL_MS) {
			break;
		}
		mmsim_cpu_relax();
	}
}

/*
 * Count the point; at the one to stop at, let the other CPU run: F lets W
 * start and waits until W stops or ends, W waits until F ends.
 */
static void explore_hook(enum mmsim_sched_event ev, const void *obj)
{
	struct explore_cpu *me, *other;
	unsigned int n;

	if (in_pause || role == ROLE_NONE || ev == SCHED_SPIN)
		return;
	in_pause = true;
	me = &x.cpu[role];
	other = &x.cpu[!role];
	n = atomic_fetch_add(&me->points, 1);
	if (n < EXPLORE_TRACE)
		me->trace[n] = ev;
	if (n == me->stop) {
		me->ev = ev;
		atomic_store(&me->stopped, 1);
		atomic_store(&x.w_go, 1);
		wait_for(role == ROLE_F ? &other->stopped : &other->done,
			 &other->done, &other->points);
	}
	in_pause = false;
}

static void *writer_thread(void *arg)
{
	mmsim_switch_mm(x.mm);
	while (!atomic_load(&x.w_go))
		mmsim_cpu_relax();
	role = ROLE_W;
	x.w_ret = x.writer->run(x.mm);
	role = ROLE_NONE;
	mmsim_switch_mm(NULL);
	atomic_store(&W->done, 1);
	return arg;
}

static int set_up(struct mm_struct *mm, enum explore_target target,
		  const struct explore_writer *w)
{
	unsigned long v = 1, addr;

	addr = sys_mmap(mm, EXPLORE_BASE, EXPLORE_PAGES * PAGE_SIZE,
			PROT_READ | PROT_WRITE,
			MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED |
			(w->stack ? MAP_GROWSDOWN : 0), NULL, 0);
	if (addr != EXPLORE_BASE)
		return -1;
	if (mmsim_store(EXPLORE_BASE, &v, sizeof(v)))
		return -1;
	if (target == TARGET_ZERO && mmsim_load(EXPLORE_A, &v, sizeof(v)))
		return -1;
	return 0;
}

/*
 * After MREMAP_DONTUNMAP the store is at the copy (it was before the move)
 * or at A (after it, in the emptied VMA), never both, never lost.
 */
static const char *check_dontunmap(int f_ret)
{
	unsigned long a = 0, m = 0;

	if (mmsim_load(EXPLORE_A, &a, sizeof(a)) ||
	    mmsim_load(EXPLORE_MOVED + (EXPLORE_A - EXPLORE_BASE), &m,
		       sizeof(m)))
		return "A or its copy cannot be read";
	if ((a && a != EXPLORE_VALUE) || (m && m != EXPLORE_VALUE))
		return "A or its copy holds neither zeros nor the store";
	if (a == EXPLORE_VALUE && m == EXPLORE_VALUE)
		return "the store is at A and at the copy";
	if (f_ret)
		return a || m ? "a store that failed is seen" : NULL;
	return a || m ? NULL : "a store that returned 0 was lost";
}

/*
 * F stored at A's destination: before the move it finds no VMA there
 * (SIGSEGV); after, its store is in the moved page.  Never lost, never
 * under a page the move put there (move_ptes() would warn first).
 */
static const char *check_at_moved(int f_ret)
{
	unsigned long v = 0;

	if (mmsim_load(EXPLORE_MOVED + (EXPLORE_A - EXPLORE_BASE), &v,
		       sizeof(v)))
		return "A's destination cannot be read";
	if (f_ret)
		return v ? "a store that failed is seen" : NULL;
	return v == EXPLORE_VALUE ? NULL : "a store that returned 0 was lost";
}

/* What A must hold after the schedule; a description of what is wrong. */
static const char *check(struct mm_struct *mm, int f_ret, long warnings)
{
	unsigned long v = 0;
	int ret;

	if (mmsim_warnings() != warnings)
		return "a WARN_ON fired (see stderr)";
	if (validate_mm_verbose(mm, stderr))
		return "validate_mm";
	if (validate_mm_pages(&mm, 1))
		return "validate_mm_pages";
	if (x.w_ret)
		return "the writer's system call failed";
	if (x.writer->dontunmap)
		return check_dontunmap(f_ret);
	if (x.writer->f_at_moved)
		return check_at_moved(f_ret);
	ret = mmsim_load(EXPLORE_A, &v, sizeof(v));
	if (x.writer->unmaps && ret != SIGSEGV)
		return "A still mapped after munmap";
	if (x.writer->moves)
		ret = mmsim_load(EXPLORE_MOVED + (EXPLORE_A - EXPLORE_BASE),
				 &v, sizeof(v));
	else if (x.writer->unmaps)
		return NULL;
	if (ret)
		return "A cannot be read";
	/* A store racing mremap may find no VMA at A: SIGSEGV. */
	if (f_ret && !x.writer->read_only && !x.writer->moves)
		return "the store failed on a writable VMA";
	if (v == EXPLORE_VALUE)
		return f_ret ? "a store that failed is seen" : NULL;
	if (v != 0)
		return "A holds neither zeros nor the store";
	if (!f_ret && !x.writer->zaps)
		return "a store that returned 0 was lost";
	return NULL;
}

struct explore_result {
	bool f_reached, w_reached;	/* did F, W stop where asked */
	const char *failure;
};

static struct explore_result run_schedule(struct mm_struct *mm,
					  enum explore_target target,
					  const struct explore_writer *w,
					  unsigned int i, unsigned int j)
{
	unsigned long v = EXPLORE_VALUE;
	struct explore_result r = { 0 };
	long warnings = mmsim_warnings();
	pthread_t t;
	int f_ret;

	if (set_up(mm, target, w)) {
		r.failure = "set-up failed";
		return r;
	}
	memset(&x, 0, sizeof(x));
	x.mm = mm;
	x.writer = w;
	F->stop = i;
	W->stop = j;
	if (pthread_create(&t, NULL, writer_thread, NULL)) {
		r.failure = "pthread_create failed";
		return r;
	}
	role = ROLE_F;
	f_ret = mmsim_store(w->f_at_moved ?
			    EXPLORE_MOVED + (EXPLORE_A - EXPLORE_BASE) :
			    EXPLORE_A, &v, sizeof(v));
	role = ROLE_NONE;
	atomic_store(&F->done, 1);
	atomic_store(&x.w_go, 1);	/* F never stopped: W runs after it */
	while (!atomic_load(&W->done))
		mmsim_cpu_relax();
	pthread_join(t, NULL);
	r.f_reached = atomic_load(&F->stopped);
	r.w_reached = atomic_load(&W->stopped);
	r.failure = check(mm, f_ret, warnings);
	/* The stack may have grown down by a page. */
	sys_munmap(mm, EXPLORE_BASE - PAGE_SIZE,
		   (EXPLORE_PAGES + 1) * PAGE_SIZE);
	if (w->moves)
		sys_munmap(mm, EXPLORE_MOVED, EXPLORE_PAGES * PAGE_SIZE);
	return r;
}

/* --- all schedules of one target and writer ------------------------------- */

static int explore_one(struct mm_struct *mm, enum explore_target target,
		       const struct explore_writer *w)
{
	unsigned long schedules = 0;
	unsigned int i, j, max_j = 0;
	struct explore_result r;

	/* Before the watchdog's report, if a schedule deadlocks. */
	fprintf(stderr, "explore: target %s, writer %s\n",
		target_names[target], w->name);
	for (i = 0; i < EXPLORE_MAX_POINTS; i++) {
		for (j = 0; j < EXPLORE_MAX_POINTS; j++) {
			r = run_schedule(mm, target, w, i, j);
			schedules++;
			schedules_total++;
			if (r.failure) {
				printf("FAILURE: target %s, writer %s: F stopped at point %u (%s), W at point %u (%s): %s\n",
				       target_names[target], w->name, i,
				       r.f_reached ? event_names[F->ev] : "-",
				       j, r.w_reached ? event_names[W->ev] : "-",
				       r.failure);
				return 1;
			}
			if (!r.f_reached || !r.w_reached ||
			    atomic_load(&explore_interrupt))
				break;
		}
		if (j > max_j)
			max_j = j;
		if (!r.f_reached || atomic_load(&explore_interrupt))
			break;
	}
	printf("target %-4s writer %-13s %7lu schedules (F: %u points, W: up to %u)\n",
	       target_names[target], w->name, schedules, i, max_j);
	fflush(stdout);
	return 0;
}

/*
 * Print the points F and W pass when F runs first, alone, then W (the
 * schedule (i, j) stops them at the i-th and j-th of such lists).
 */
static int print_points(struct mm_struct *mm, enum explore_target target,
			const struct explore_writer *w)
{
	struct explore_result r;
	unsigned int n, k;

	r = run_schedule(mm, target, w, EXPLORE_MAX_POINTS,
			 EXPLORE_MAX_POINTS);
	if (r.failure) {
		printf("FAILURE: target %s, writer %s, F then W: %s\n",
		       target_names[target], w->name, r.failure);
		return 1;
	}
	n = atomic_load(&F->points);
	printf("target %s, writer %s\n  F (%u):", target_names[target],
	       w->name, n);
	for (k = 0; k < n && k < EXPLORE_TRACE; k++)
		printf("%s%u:%s", k % 8 ? " " : "\n    ", k,
		       event_names[F->trace[k]]);
	n = atomic_load(&W->points);
	printf("\n  W (%u):", n);
	for (k = 0; k < n && k < EXPLORE_TRACE; k++)
		printf("%s%u:%s", k % 8 ? " " : "\n    ", k,
		       event_names[W->trace[k]]);
	printf("\n");
	return 0;
}

/* --- the command ----------------------------------------------------------- */

static void usage(FILE *out)
{
	size_t k;

	fprintf(out,
		"usage: mmsim explore [--strategy NAME] [--writer NAME] [--target none|zero]\n"
		"                     [--mutant NAME] [--points]\n\n"
		"Runs a store to a page against one system call on its VMA in every\n"
		"schedule with one preemption each way, and checks the mm after each.\n\n"
		"  --strategy NAME  fault-handling strategy (default spf-srcu)\n"
		"  --writer NAME    one of:");
	for (k = 0; k < NR_WRITERS; k++)
		fprintf(out, " %s", writers[k].name);
	fprintf(out, " (default all)\n"
		"  --target KIND    page A not mapped (none) or the zero page (zero);\n"
		"                   default both\n"
		"  --mutant NAME    a deliberately broken variant (see mmsim stress --help)\n"
		"  --points         print the scheduling points of F and W instead\n\n"
		"The last line is SUCCESS or FAILURE: <schedule and what broke> (exit 0/1;\n"
		"3 when the watchdog ends a deadlock); SIGINT or SIGTERM stops it after the\n"
		"schedule that runs: INTERRUPTED, exit 130 or 143.\n");
}

struct explore_opts {
	const char *strategy, *writer, *target, *mutant;
	bool points;
};

static int parse(int argc, char **argv, struct explore_opts *o)
{
	static const char *const names[] = {
		"--strategy", "--writer", "--target", "--mutant",
	};
	const char **vals[] = { &o->strategy, &o->writer, &o->target,
				&o->mutant };
	const char *val;
	int i, k;

	for (i = 1; i < argc;) {
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			usage(stdout);
			exit(0);
		}
		if (!strcmp(argv[i], "--points")) {
			o->points = true;
			i++;
			continue;
		}
		k = option_find(argc, argv, &i, names, 4, "mmsim explore",
				&val);
		if (k < 0)
			return -1;
		if (k == 4) {
			fprintf(stderr, "mmsim explore: unknown option '%s'\n",
				argv[i]);
			return -1;
		}
		*vals[k] = val;
		i++;
	}
	return 0;
}

int cmd_explore(int argc, char **argv)
{
	struct explore_opts o = { .strategy = "spf-srcu" };
	const struct fault_strategy *s;
	unsigned long free_before;
	struct mm_struct *mm;
	int ret = 0, found = 0;
	size_t k;
	int t;

	if (parse(argc, argv, &o))
		goto bad;
	s = fault_strategy_find(o.strategy);
	if (!s) {
		fprintf(stderr, "mmsim explore: unknown strategy '%s'\n",
			o.strategy);
		goto bad;
	}
	if (o.target && strcmp(o.target, "none") && strcmp(o.target, "zero")) {
		fprintf(stderr, "mmsim explore: --target none or zero\n");
		goto bad;
	}
	if (o.mutant && mmsim_set_mutant(o.mutant)) {
		fprintf(stderr, "mmsim explore: unknown mutant '%s'\n",
			o.mutant);
		goto bad;
	}
	if (o.mutant && !fault_strategy_has_mutant(s, o.mutant)) {
		fprintf(stderr, "mmsim explore: mutant '%s' does not apply to "
			"strategy %s\n", o.mutant, s->name);
		goto bad;
	}
	if (mem_init(EXPLORE_RAM, 0)) {
		fprintf(stderr, "mmsim explore: mem_init failed\n");
		return 1;
	}
	/* A schedule that deadlocks (race 1) ends with the watchdog's report. */
	if (mmsim_watchdog_start(0)) {
		fprintf(stderr, "mmsim explore: cannot start the watchdog\n");
		return 1;
	}
	free_before = nr_free_pages();
	mm = mm_alloc_strategy(4, s);
	if (!mm) {
		fprintf(stderr, "mmsim explore: mm_alloc failed\n");
		return 1;
	}
	mmget(mm);		/* W is a thread of it too: F may speculate */
	mmsim_switch_mm(mm);
	mmsim_set_sched_hook(explore_hook);
	catch_interrupts();
	/* The debugging checks, as the stress test has them (lockdep's and
	 * the VMA read locks' stability check, <mmsim/strategy.h>). */
	lockdep_enable(true);
	for (t = 0; t < NR_TARGETS && !ret &&
	     !atomic_load(&explore_interrupt); t++) {
		if (o.target && strcmp(o.target, target_names[t]))
			continue;
		for (k = 0; k < NR_WRITERS && !ret; k++) {
			if (o.writer && strcmp(o.writer, writers[k].name))
				continue;
			found++;
			ret = o.points ? print_points(mm, t, &writers[k]) :
					 explore_one(mm, t, &writers[k]);
			if (atomic_load(&explore_interrupt))
				break;
		}
	}
	mmsim_set_sched_hook(NULL);
	if (ret)
		return 1;	/* the mm may be broken: leave it */
	if (atomic_load(&explore_interrupt)) {
		int sig = atomic_load(&explore_interrupt);

		printf("INTERRUPTED: %s after %lu schedules, nothing caught\n",
		       sig == SIGINT ? "SIGINT" : "SIGTERM", schedules_total);
		return 128 + sig;
	}
	mmsim_watchdog_stop();
	mmsim_switch_mm(NULL);
	mmput(mm);
	mmput(mm);
	rcu_barrier();
	if (!found) {
		fprintf(stderr, "mmsim explore: unknown writer '%s'\n",
			o.writer);
		return 2;
	}
	if (nr_free_pages() != free_before) {
		printf("FAILURE: %ld frames not freed\n",
		       (long)(free_before - nr_free_pages()));
		return 1;
	}
	printf("SUCCESS\n");
	return 0;
bad:
	usage(stderr);
	return 2;
}
