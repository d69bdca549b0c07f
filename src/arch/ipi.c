// SPDX-License-Identifier: MIT
/*
 * Inter-processor interrupts as POSIX signals.
 *
 * A sender writes its request into the target's slot for the sending CPU
 * (func and info, then the request number with a release store) and sends
 * MMSIM_IPI_SIGNAL with pthread_kill().  The target's signal handler runs
 * the requests unless the target has interrupts soft-disabled: then it
 * only marks them pending, and local_irq_enable() or the next wait loop
 * runs them.  The target acknowledges a request by storing its number in
 * ack (release), which the sender acquires: TSan sees these edges, not the
 * signal.  Each counter has one writer, so no acknowledgement can be lost
 * or taken for another request's.
 *
 * A CPU in a wait loop with interrupts enabled looks at its posted
 * requests on every turn (mmsim_cpu_relax()), as an idle x86 CPU polls
 * its need_resched flag: the sender sees it polling and sends no signal
 * (the kernel's set_nr_if_polling() for idle CPUs spares the IPI the same
 * way).  A signal costs a tgkill(), a signal frame and a sigreturn, and
 * in a TLB shootdown the targets are mostly waiting for a lock.  The
 * flag and the request count are a Dekker pair (seq_cst both sides):
 *
 *   sender                             target
 *   ipi_posted++          (seq_cst)    polling = 0         (seq_cst)
 *   polling? no signal    (seq_cst)    ipi_posted changed? run (seq_cst)
 *
 * so either the sender signals or the target sees the request before
 * leaving its wait turn.
 *
 *   CPU0 (sender)                      CPU1 (target)
 *   slot.func, slot.info = f, info
 *   n = ++slot.req       (release)
 *   pthread_kill(CPU1) ------------->  handler: irqs off?  pending = 1
 *   wait: slot.ack == n? (acquire)              irqs on?   n = slot.req (acquire)
 *     ... services its own IPIs ...             f(info); slot.ack = n (release)
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>

#include <mmsim/cpu.h>
#include <mmsim/sched.h>

#include "arch/ipi.h"
#include "kernel/bug.h"

/* Senders between their online check and pthread_kill(), per target. */
static atomic_int ipi_senders[NR_CPUS];

/*
 * Set by a CPU inside a wait turn with interrupts enabled (see above);
 * written by its CPU only, read by senders: a line of its own each.
 */
static struct {
	_Alignas(64) atomic_int polling;
} ipi_poll[NR_CPUS];

/*
 * Run every queued request.  Interrupts are off while handlers run, as on
 * a real CPU; a signal arriving meanwhile only sets ipi_pending, which the
 * loop rechecks.  Runs on c's own thread, in or out of signal context.
 */
static void run_ipi_slots(struct mmsim_cpu *c)
{
	int old = atomic_load_explicit(&c->irqs_disabled, memory_order_relaxed);

	atomic_store_explicit(&c->irqs_disabled, 1, memory_order_relaxed);
	atomic_signal_fence(memory_order_seq_cst);
	atomic_fetch_add_explicit(&c->in_ipi, 1, memory_order_relaxed);
	do {
		atomic_store_explicit(&c->ipi_pending, 0, memory_order_relaxed);
		atomic_store_explicit(&c->ipi_seen,
			atomic_load_explicit(&c->ipi_posted, memory_order_acquire),
			memory_order_relaxed);
		for (int i = 0; i < NR_CPUS; i++) {
			struct ipi_slot *slot = &c->ipi[i];
			unsigned long n;

			n = atomic_load_explicit(&slot->req, memory_order_acquire);
			if (n == atomic_load_explicit(&slot->ack,
						      memory_order_relaxed))
				continue;
			slot->func(slot->info);
			atomic_store_explicit(&slot->ack, n, memory_order_release);
			atomic_fetch_add_explicit(&c->nr_ipis_handled, 1,
						  memory_order_relaxed);
		}
		atomic_signal_fence(memory_order_seq_cst);
	} while (atomic_load_explicit(&c->ipi_pending, memory_order_relaxed) ||
		 mmsim_ipi_posted(c));
	atomic_fetch_sub_explicit(&c->in_ipi, 1, memory_order_relaxed);
	atomic_signal_fence(memory_order_seq_cst);
	atomic_store_explicit(&c->irqs_disabled, old, memory_order_relaxed);
}

static void ipi_signal_handler(int sig)
{
	int saved_errno = errno;
	struct mmsim_cpu *c = mmsim_current_cpu;

	if (c) {
		atomic_fetch_add_explicit(&c->nr_ipi_signals, 1,
					  memory_order_relaxed);
		if (atomic_load_explicit(&c->irqs_disabled, memory_order_relaxed))
			atomic_store_explicit(&c->ipi_pending, 1,
					      memory_order_relaxed);
		else
			run_ipi_slots(c);
	}
	errno = saved_errno;
}

void mmsim_ipi_init(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = ipi_signal_handler;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	BUG_ON(sigaction(MMSIM_IPI_SIGNAL, &sa, NULL));
}

static bool ipi_slot_pending(struct ipi_slot *slot)
{
	return atomic_load_explicit(&slot->req, memory_order_relaxed) !=
	       atomic_load_explicit(&slot->ack, memory_order_relaxed);
}

/* Is any request queued for c? */
static bool ipi_queued(struct mmsim_cpu *c)
{
	for (int i = 0; i < NR_CPUS; i++)
		if (ipi_slot_pending(&c->ipi[i]))
			return true;
	return false;
}

void mmsim_handle_pending_ipis(void)
{
	struct mmsim_cpu *c = this_cpu();

	if (atomic_load_explicit(&c->irqs_disabled, memory_order_relaxed))
		return;
	if (atomic_load_explicit(&c->ipi_pending, memory_order_relaxed) ||
	    mmsim_ipi_posted(c) || ipi_queued(c))
		run_ipi_slots(c);
}

void mmsim_ipi_poll_begin(struct mmsim_cpu *c)
{
	atomic_store_explicit(&ipi_poll[c->cpu].polling, 1,
			      memory_order_seq_cst);
	if (mmsim_ipi_posted(c))
		mmsim_handle_pending_ipis();
}

/*
 * A request posted while we polled may have come without a signal: look
 * again after clearing the flag (the seq_cst pair of the comment above).
 */
void mmsim_ipi_poll_end(struct mmsim_cpu *c)
{
	atomic_store_explicit(&ipi_poll[c->cpu].polling, 0,
			      memory_order_seq_cst);
	if (atomic_load_explicit(&c->ipi_posted, memory_order_seq_cst) !=
	    atomic_load_explicit(&c->ipi_seen, memory_order_relaxed))
		mmsim_handle_pending_ipis();
}

void mmsim_ipi_drain_offline(struct mmsim_cpu *c)
{
	while (atomic_load_explicit(&ipi_senders[c->cpu], memory_order_acquire))
		__builtin_ia32_pause();
	run_ipi_slots(c);
}

static bool cpu_is_online(struct mmsim_cpu *t)
{
	return atomic_load_explicit(&t->online, memory_order_acquire);
}

/* Queue func(info) on t from me and interrupt t; false if t is offline. */
static bool ipi_send(struct mmsim_cpu *me, struct mmsim_cpu *t,
		     smp_call_func_t func, void *info)
{
	struct ipi_slot *slot = &t->ipi[me->cpu];
	bool sent = false;

	atomic_fetch_add_explicit(&ipi_senders[t - mmsim_cpus], 1, memory_order_seq_cst);
	if (!cpu_is_online(t))
		goto out;
	/* A previous request of ours (wait == false) may still be queued. */
	while (atomic_load_explicit(&slot->ack, memory_order_acquire) !=
	       atomic_load_explicit(&slot->req, memory_order_relaxed) &&
	       cpu_is_online(t))
		mmsim_cpu_relax();
	slot->func = func;
	slot->info = info;
	atomic_fetch_add_explicit(&slot->req, 1, memory_order_release);
	atomic_fetch_add_explicit(&t->ipi_posted, 1, memory_order_seq_cst);
	/* A polling target runs it in its wait loop: no signal needed. */
	if (!atomic_load_explicit(&ipi_poll[t->cpu].polling,
				  memory_order_seq_cst))
		pthread_kill(t->thread, MMSIM_IPI_SIGNAL);
	atomic_fetch_add_explicit(&me->nr_ipis_sent, 1, memory_order_relaxed);
	sent = true;
out:
	atomic_fetch_sub_explicit(&ipi_senders[t - mmsim_cpus], 1, memory_order_release);
	mmsim_sched_point(SCHED_IPI, t);
	return sent;
}

void smp_call_function_many(const cpumask_t *mask, smp_call_func_t func,
			    void *info, bool wait)
{
	struct mmsim_cpu *me = this_cpu();
	unsigned long sent = 0;
	int cpu;

	/* Waiting with interrupts off can deadlock (the kernel warns too). */
	WARN_ON(wait && irqs_disabled());
	for_each_cpu(cpu, mask) {
		if (cpu == me->cpu)
			continue;
		if (ipi_send(me, &mmsim_cpus[cpu], func, info))
			sent |= 1UL << cpu;
	}
	if (!wait || !sent)
		return;
	mmsim_wait_begin(mask, "IPI acknowledgement");
	for (; sent; sent &= sent - 1) {
		struct mmsim_cpu *t = &mmsim_cpus[__builtin_ctzl(sent)];
		struct ipi_slot *slot = &t->ipi[me->cpu];

		while (atomic_load_explicit(&slot->ack, memory_order_acquire) !=
		       atomic_load_explicit(&slot->req, memory_order_relaxed) &&
		       cpu_is_online(t))
			mmsim_cpu_relax();
	}
	mmsim_wait_end();
}
