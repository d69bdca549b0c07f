// SPDX-License-Identifier: MIT
/*
 * docs/races.md race 5, made real: a COW fault without the mmap lock
 * against fork, while a third CPU still writes through a TLB entry that
 * fork's write-protection made stale.
 *
 *   CPU X                 CPU W (fork)                 CPU F (write fault)
 *   store 1 -> P          mmap_write_lock
 *   (TLB: P writable)     vma_start_write(VMA)  <- the mutant skips it
 *                         copy_page_range: P's PTE
 *                           read-only, shared with
 *                           the child
 *                         ... (W stops here, before
 *                         its flush_tlb_mm)
 *                                                      store 7 -> P+8: fault
 *                                                      correct: VMA locked by
 *                                                        W: mmap lock, waits
 *                                                      mutant: VMA lock taken,
 *                                                        wp_page_copy copies P
 *                                                        (F stops in the final
 *                                                        window)
 *   store 2 -> P through
 *   the stale TLB entry:
 *   the old page
 *                                                      mutant: new page mapped,
 *                                                        flush: X's 2 is lost
 *                         flush_tlb_mm, unlock
 *                                                      correct: the fault runs
 *                                                        now, copies P with X's 2
 *
 * So with the fix, the parent's P holds 2 (and F's 7); with the mutant
 * fork-no-vma-write, it holds 1: the store of X that succeeded was lost
 * (it landed in the page that only the child maps now).  Every strategy
 * with a lockless fault runs the correct code (F must be found waiting
 * for the mmap lock); each one that the mutant applies to runs the
 * mutant too (F must reach the window, and X's store must be lost).
 * Each variant runs in a child process (fork() before any thread).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <mmsim/cpu.h>
#include <mmsim/mm.h>
#include <mmsim/page.h>
#include <mmsim/pgtable.h>
#include <mmsim/rcupdate.h>
#include <mmsim/sched.h>
#include <mmsim/strategy.h>

#define REGION		0x40000000UL
#define P		REGION
#define WAIT_MS		300

enum role { ROLE_NONE, ROLE_W, ROLE_F };

static __thread enum role role;
static struct mm_struct *mm, *child;
static const void *p_ptl;		/* the PTE lock of P's table */
static atomic_int x_ready, x_go, x_done;
static atomic_int w_stopped, w_go, f_window, f_go, f_done;

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

/* Wait as a CPU waits: taking IPIs meanwhile. */
static void cpu_wait(atomic_int *flag)
{
	while (!atomic_load(flag))
		mmsim_cpu_relax();
}

/*
 * W stops once it has unlocked P's table after copying it (P is
 * read-only, the flush has not run); F stops in the final window of a
 * fault without the mmap lock (the page copied, the PTE lock held).
 */
static void race5_hook(enum mmsim_sched_event ev, const void *obj)
{
	if (role == ROLE_W && ev == SCHED_UNLOCK && obj == p_ptl &&
	    !atomic_load(&w_stopped)) {
		atomic_store(&w_stopped, 1);
		cpu_wait(&w_go);
	} else if (role == ROLE_F && ev == SCHED_FAULT_FINAL &&
		   !atomic_load(&f_window)) {
		atomic_store(&f_window, 1);
		cpu_wait(&f_go);
	}
}

static void *cpu_x(void *arg)
{
	unsigned long v = 1;

	mmsim_switch_mm(mm);
	mmsim_store(P, &v, sizeof(v));	/* the TLB keeps P writable */
	atomic_store(&x_ready, 1);
	cpu_wait(&x_go);
	v = 2;
	mmsim_store(P, &v, sizeof(v));
	atomic_store(&x_done, 1);
	cpu_wait(&f_done);		/* answer F's and W's shootdowns */
	mmsim_switch_mm(NULL);
	return arg;
}

static void *cpu_w(void *arg)
{
	mmsim_switch_mm(mm);
	role = ROLE_W;
	child = dup_mm(mm);
	role = ROLE_NONE;
	mmsim_switch_mm(NULL);
	return arg;
}

static void *cpu_f(void *arg)
{
	unsigned long v = 7;

	mmsim_switch_mm(mm);
	role = ROLE_F;
	mmsim_store(P + sizeof(v), &v, sizeof(v));
	role = ROLE_NONE;
	atomic_store(&f_done, 1);
	mmsim_switch_mm(NULL);
	return arg;
}

/* Returns 0 when the run went as the variant must: see the header. */
static int run_scenario(const struct fault_strategy *s, bool mutant)
{
	pthread_t x, w, f;
	unsigned long v = 0, v_child = 0;
	struct mmsim_cpu *fcpu;
	long long start;
	pmd_t *pmd;
	bool blocked;

	mem_init(16UL << 20, 0);
	mm = mm_alloc_strategy(4, s);
	mmsim_switch_mm(mm);
	if (sys_mmap(mm, REGION, PAGE_SIZE, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, NULL, 0) != REGION)
		return 10;
	if (mmsim_store(P, &v, sizeof(v)))
		return 11;
	pmd = mm_find_pmd(mm, P);
	p_ptl = pte_lockptr(mm, pmdp_get(pmd));
	/* Three tasks of the mm: the lockless paths are tried. */
	mmget(mm);
	mmget(mm);
	mmsim_set_sched_hook(race5_hook);

	pthread_create(&x, NULL, cpu_x, NULL);
	cpu_wait(&x_ready);
	pthread_create(&w, NULL, cpu_w, NULL);
	cpu_wait(&w_stopped);
	pthread_create(&f, NULL, cpu_f, NULL);
	for (start = now_ms(); !atomic_load(&f_window) &&
	     now_ms() - start < WAIT_MS;)
		mmsim_cpu_relax();
	fcpu = NULL;
	for (int c = 0; c < NR_CPUS; c++)
		if (mmsim_cpus[c].thread == f)
			fcpu = &mmsim_cpus[c];
	blocked = fcpu && atomic_load(&fcpu->waiting_on) == &mm->mmap_lock;
	printf("race5: %s, %s: F %s\n", s->name, mutant ? "mutant" : "correct",
	       atomic_load(&f_window) ? "in the final window" :
	       blocked ? "waits for the mmap lock" : "neither");

	atomic_store(&x_go, 1);
	cpu_wait(&x_done);
	atomic_store(&f_go, 1);
	atomic_store(&w_go, 1);
	pthread_join(w, NULL);
	pthread_join(f, NULL);
	pthread_join(x, NULL);
	mmsim_set_sched_hook(NULL);

	mmsim_load(P, &v, sizeof(v));
	mmsim_switch_mm(child);
	mmsim_load(P, &v_child, sizeof(v_child));
	mmsim_switch_mm(mm);
	printf("race5: parent's P holds %lu, the child's %lu\n", v, v_child);
	mmsim_switch_mm(NULL);
	mmput(child);
	mmput(mm);
	mmput(mm);
	mmput(mm);
	rcu_barrier();
	if (mutant)
		return atomic_load(&f_window) && v == 1 ? 0 : 1;
	return blocked && !atomic_load(&f_window) && v == 2 ? 0 : 1;
}

/* Run one variant in a child; returns its exit status. */
static int run_child(const struct fault_strategy *s, const char *mutant)
{
	int status, st;
	pid_t pid;

	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		if (mmsim_set_mutant(mutant))
			_exit(2);
		st = run_scenario(s, strcmp(mutant, "none") != 0);
		fflush(stdout);
		_exit(st);
	}
	waitpid(pid, &status, 0);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int main(void)
{
	const char *mutant = "fork-no-vma-write";
	unsigned int n = fault_strategy_count();
	int failures = 0, runs = 0;

	for (unsigned int i = 0; i < n; i++) {
		const struct fault_strategy *s = fault_strategy_get(i);

		if (!s->lockless_fault)
			continue;
		runs++;
		if (run_child(s, "none")) {
			printf("FAILURE: %s: the correct code lost the write, "
			       "or its fault did not wait for fork\n", s->name);
			failures++;
		}
		if (!fault_strategy_has_mutant(s, mutant))
			continue;
		if (run_child(s, mutant)) {
			printf("FAILURE: %s: the mutant %s was not caught\n",
			       s->name, mutant);
			failures++;
		}
	}
	printf(failures || !runs ? "FAILURE\n" : "SUCCESS\n");
	return failures || !runs ? 1 : 0;
}
