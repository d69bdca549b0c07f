// SPDX-License-Identifier: MIT
/*
 * docs/races.md race 1, made real: PTE-lock spin with interrupts off against a
 * TLB shootdown sent under that PTE lock.
 *
 *   CPU0 (munmap)                          CPU1 (fault, interrupts off)
 *   zap_pte_range: spin_lock(ptl)
 *     clear 64 PTEs, batch full            local_irq_disable()
 *     flush_tlb_mm_range: IPI to CPU1      walk to the PTE table (lockless)
 *       wait for CPU1's acknowledgement    spin_lock(ptl)   <- mutant: spins,
 *         ... forever ...                    never takes the IPI: DEADLOCK
 *                                          spin_trylock(ptl) <- correct: fails,
 *                                            local_irq_enable() takes the IPI,
 *                                            the fault retries the classic way
 *
 * CPU1 does what the speculative fault's pte_map_lock() does (SPF RFC
 * v5 patch 09): lock the PTE table it found without the mmap lock, with
 * interrupts disabled.  The mutant pte-spin-irqoff spins; the watchdog
 * must then report both CPUs and end the run.  The correct code must finish.
 *
 * Each variant runs in a child process (fork() before any thread exists);
 * the parent checks the exit status (0, or MMSIM_WATCHDOG_EXIT) and that
 * the watchdog's report names the IPI wait and the spinlock.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <mmsim/cpu.h>
#include <mmsim/mm.h>
#include <mmsim/mutant.h>
#include <mmsim/page.h>
#include <mmsim/pgtable.h>

#define REGION		0x40000000UL		/* one PMD: 512 pages */
#define REGION_PAGES	512UL
#define ROUNDS		300

static struct mm_struct *mm;
static atomic_int stop, cpu1_ready;
static atomic_long trylock_failures, locked;

/* CPU1: lock the PTE table of REGION with interrupts off, like SPF. */
static void *faulter(void *arg)
{
	bool spin = mmsim_mutant_is(MUTANT_PTE_SPIN_IRQOFF);

	mmsim_switch_mm(mm);		/* now in mm_cpumask: gets shootdowns */
	atomic_store(&cpu1_ready, 1);
	while (!atomic_load(&stop)) {
		pmd_t *pmd, pmdval;
		spinlock_t *ptl;

		local_irq_disable();
		/* Tables are freed only after a flush we would have to ack. */
		pmd = mm_find_pmd(mm, REGION);
		pmdval = pmd ? pmdp_get(pmd) : (pmd_t){ 0 };
		if (!pmd_present(pmdval))
			goto next;
		ptl = pte_lockptr(mm, pmdval);
		if (spin) {
			spin_lock(ptl);
		} else if (!spin_trylock(ptl)) {
			atomic_fetch_add(&trylock_failures, 1);
			goto next;	/* VM_FAULT_RETRY: classic path */
		}
		atomic_fetch_add(&locked, 1);
		spin_unlock(ptl);
next:
		local_irq_enable();
	}
	mmsim_switch_mm(NULL);
	return NULL;
}

/* CPU0: map, fault every page, unmap (zap under the PTE lock), again. */
static int run_scenario(unsigned int watchdog_ms)
{
	pthread_t t;
	char byte = 1;

	mem_init(64UL << 20, 0);
	mm = mm_alloc(4);
	mmsim_switch_mm(mm);
	mmsim_watchdog_start(watchdog_ms);
	pthread_create(&t, NULL, faulter, NULL);
	while (!atomic_load(&cpu1_ready))
		mmsim_cpu_relax();
	for (int r = 0; r < ROUNDS; r++) {
		if (sys_mmap(mm, REGION, REGION_PAGES * PAGE_SIZE,
			     PROT_READ | PROT_WRITE,
			     MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, NULL, 0) != REGION)
			return 1;
		for (unsigned long i = 0; i < REGION_PAGES; i++)
			if (mmsim_store(REGION + i * PAGE_SIZE, &byte, 1))
				return 1;
		if (sys_munmap(mm, REGION, REGION_PAGES * PAGE_SIZE))
			return 1;
	}
	atomic_store(&stop, 1);
	pthread_join(t, NULL);
	mmsim_watchdog_stop();
	mmsim_switch_mm(NULL);
	mmput(mm);
	printf("race1: %d rounds, CPU1 locked the PTE table %ld times, "
	       "trylock failed %ld times\n", ROUNDS, atomic_load(&locked),
	       atomic_load(&trylock_failures));
	return 0;
}

/* Run one variant in a child; returns its exit status, output in buf. */
static int run_child(const char *mutant, char *buf, size_t size)
{
	int pipefd[2], status, st;
	size_t len = 0;
	ssize_t n;
	pid_t pid;

	if (pipe(pipefd))
		return -1;
	pid = fork();
	if (pid == 0) {
		dup2(pipefd[1], 1);
		dup2(pipefd[1], 2);
		close(pipefd[0]);
		if (mmsim_set_mutant(mutant))
			_exit(2);
		/*
		 * The correct code must never deadlock; a loaded host may
		 * still starve a CPU thread for a while: give it 10 s.
		 */
		st = run_scenario(strcmp(mutant, "none") ? MMSIM_WATCHDOG_DEFAULT_MS
							 : 10000);
		fflush(stdout);
		_exit(st);
	}
	close(pipefd[1]);
	while (len + 1 < size && (n = read(pipefd[0], buf + len, size - 1 - len)) > 0)
		len += n;
	buf[len] = '\0';
	close(pipefd[0]);
	waitpid(pid, &status, 0);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int main(void)
{
	static char out[1 << 16];
	int failures = 0, st;

	st = run_child("none", out, sizeof(out));
	printf("--- correct code (spin_trylock): exit %d\n%s", st, out);
	if (st != 0) {
		printf("FAILURE: the correct code did not finish cleanly\n");
		failures++;
	}

	st = run_child("pte-spin-irqoff", out, sizeof(out));
	printf("--- mutant pte-spin-irqoff (spin_lock): exit %d\n%s", st, out);
	if (st != MMSIM_WATCHDOG_EXIT || !strstr(out, "IPI acknowledgement") ||
	    !strstr(out, "waits on spinlock") || !strstr(out, "DISABLED")) {
		printf("FAILURE: the deadlock was not reported by the watchdog\n");
		failures++;
	}
	printf(failures ? "FAILURE\n" : "SUCCESS\n");
	return failures ? 1 : 0;
}
