// SPDX-License-Identifier: MIT
/*
 * The watchdog (the kernel's soft-lockup detector, simplified): a CPU that
 * stays in one wait loop (spinlock, IPI acknowledgement, mmap lock) longer
 * than the timeout means the run is stuck.  The watchdog then prints every
 * CPU's state and ends the process with MMSIM_WATCHDOG_EXIT, so a deadlock
 * fails a test instead of hanging it.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include <mmsim/cpu.h>

#include "arch/ipi.h"

static pthread_t watchdog_thread;
static atomic_int watchdog_running;
static unsigned int watchdog_timeout_ms;

void mmsim_dump_cpus(int fd)
{
	unsigned long now = mmsim_now_ns();

	dprintf(fd, "mmsim: state of every CPU\n");
	for (int i = 0; i < NR_CPUS; i++) {
		struct mmsim_cpu *c = &mmsim_cpus[i];
		unsigned long since;
		const void *on;
		int n;

		if (!atomic_load(&c->online))
			continue;
		since = atomic_load(&c->wait_start_ns);
		on = atomic_load(&c->waiting_on);
		dprintf(fd, "  CPU%d: interrupts %s%s%s, mm %p; IPIs sent %lu, "
			"signals taken %lu, requests handled %lu\n", i,
			atomic_load(&c->irqs_disabled) ? "DISABLED" : "enabled",
			atomic_load(&c->ipi_pending) ? ", IPI pending" : "",
			atomic_load(&c->in_ipi) ? ", in IPI handler" : "",
			(void *)c->active_mm, atomic_load(&c->nr_ipis_sent),
			atomic_load(&c->nr_ipi_signals),
			atomic_load(&c->nr_ipis_handled));
		n = atomic_load(&c->nr_held);
		for (int h = 0; h < n && h < MAX_HELD_LOCKS; h++)
			dprintf(fd, "    holds %s @%p\n",
				__atomic_load_n(&c->held[h].name, __ATOMIC_RELAXED),
				__atomic_load_n(&c->held[h].lock, __ATOMIC_RELAXED));
		if (since && on)
			dprintf(fd, "    waits on %s @%p for %lu ms\n",
				atomic_load(&c->waiting_what), on,
				(now - since) / 1000000);
		for (int s = 0; s < NR_CPUS; s++)
			if (atomic_load(&c->ipi[s].req) != atomic_load(&c->ipi[s].ack))
				dprintf(fd, "    IPI from CPU%d not yet handled\n", s);
	}
}

static void *watchdog_fn(void *arg)
{
	const struct timespec tick = { 0, 50 * 1000000L };

	while (atomic_load(&watchdog_running)) {
		unsigned long now = mmsim_now_ns();

		for (int i = 0; i < NR_CPUS; i++) {
			struct mmsim_cpu *c = &mmsim_cpus[i];
			unsigned long since = atomic_load(&c->wait_start_ns);

			if (!atomic_load(&c->online) || !since || since > now ||
			    now - since < watchdog_timeout_ms * 1000000UL)
				continue;
			dprintf(2, "mmsim: watchdog: CPU%d made no progress for %u ms (waiting on %s)\n",
				i, watchdog_timeout_ms, atomic_load(&c->waiting_what));
			mmsim_dump_cpus(2);
			dprintf(1, "FAILURE: watchdog: CPU%d stuck waiting on %s\n",
				i, atomic_load(&c->waiting_what));
			_exit(MMSIM_WATCHDOG_EXIT);
		}
		nanosleep(&tick, NULL);
	}
	return NULL;
}

int mmsim_watchdog_start(unsigned int timeout_ms)
{
	sigset_t set, old;
	int err;

	if (atomic_exchange(&watchdog_running, 1))
		return 0;
	watchdog_timeout_ms = timeout_ms ? timeout_ms : MMSIM_WATCHDOG_DEFAULT_MS;
	/* The watchdog is not a CPU: it must never take an IPI. */
	sigemptyset(&set);
	sigaddset(&set, MMSIM_IPI_SIGNAL);
	pthread_sigmask(SIG_BLOCK, &set, &old);
	err = pthread_create(&watchdog_thread, NULL, watchdog_fn, NULL);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err)
		atomic_store(&watchdog_running, 0);
	return -err;
}

void mmsim_watchdog_stop(void)
{
	if (!atomic_exchange(&watchdog_running, 0))
		return;
	pthread_join(watchdog_thread, NULL);
}
