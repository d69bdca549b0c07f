// SPDX-License-Identifier: MIT
/*
 * Simulated CPUs: identity, soft-masked interrupts, wait loops, held-lock
 * records and the mm each CPU runs (see <mmsim/cpu.h>).
 *
 * A host thread becomes a CPU with mmsim_cpu_attach(), or implicitly the
 * first time it uses a primitive (this_cpu()); it stops being one at
 * mmsim_cpu_detach() or when the thread exits.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <time.h>

#include <mmsim/cpu.h>
#include <mmsim/lockdep.h>
#include <mmsim/mm.h>
#include <mmsim/page.h>
#include <mmsim/rcupdate.h>
#include <mmsim/sched.h>
#include <mmsim/tlb.h>

#include "arch/ipi.h"
#include "kernel/bug.h"

struct mmsim_cpu mmsim_cpus[NR_CPUS];
__thread struct mmsim_cpu *mmsim_current_cpu;

static atomic_int cpu_claimed[NR_CPUS];
static pthread_key_t cpu_auto_key;
static pthread_once_t cpu_once = PTHREAD_ONCE_INIT;

static void cpu_auto_detach(void *arg)
{
	if (mmsim_current_cpu)
		mmsim_cpu_detach();
}

static void cpu_init_once(void)
{
	/*
	 * Ids are fixed once: other CPUs read a slot's id (IPIs, reports)
	 * whether or not a thread is attached to it.
	 */
	for (int i = 0; i < NR_CPUS; i++)
		mmsim_cpus[i].cpu = i;
	pthread_key_create(&cpu_auto_key, cpu_auto_detach);
	mmsim_ipi_init();
}

unsigned long mmsim_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000UL + ts.tv_nsec;
}

static void cpu_setup(struct mmsim_cpu *c, int id)
{
	c->thread = pthread_self();
	atomic_store_explicit(&c->irqs_disabled, 0, memory_order_relaxed);
	atomic_store_explicit(&c->ipi_pending, 0, memory_order_relaxed);
	atomic_store_explicit(&c->nr_held, 0, memory_order_relaxed);
	atomic_store_explicit(&c->wait_start_ns, 0, memory_order_relaxed);
	c->active_mm = NULL;
	memset(&c->tlb, 0, sizeof(c->tlb));
	if (!c->pcp.lock.name)
		spin_lock_init(&c->pcp.lock);
}

int mmsim_cpu_attach(void)
{
	sigset_t set;
	int id;

	pthread_once(&cpu_once, cpu_init_once);
	if (mmsim_current_cpu)
		return mmsim_current_cpu->cpu;
	for (id = 0; id < NR_CPUS; id++) {
		int free = 0;

		if (atomic_compare_exchange_strong(&cpu_claimed[id], &free, 1))
			break;
	}
	if (id == NR_CPUS)
		return -EBUSY;
	cpu_setup(&mmsim_cpus[id], id);
	mmsim_current_cpu = &mmsim_cpus[id];
	mmsim_rcu_register_thread();
	/* IPIs must reach this thread, whatever its creator blocked. */
	sigemptyset(&set);
	sigaddset(&set, MMSIM_IPI_SIGNAL);
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);
	atomic_store_explicit(&mmsim_cpus[id].online, 1, memory_order_release);
	return id;
}

struct mmsim_cpu *__mmsim_cpu_attach_auto(void)
{
	int id = mmsim_cpu_attach();

	BUG_ON(id < 0);		/* more than NR_CPUS threads at once */
	pthread_setspecific(cpu_auto_key, &mmsim_cpus[id]);
	return &mmsim_cpus[id];
}

/*
 * Go offline: stop taking IPIs (senders see online == 0 and stop waiting
 * for us), run what is already queued, give back per-CPU pages.
 */
void mmsim_cpu_detach(void)
{
	struct mmsim_cpu *c = mmsim_current_cpu;

	if (!c)
		return;
	BUG_ON(atomic_load(&c->nr_held) != 0);
	mmsim_switch_mm(NULL);
	atomic_store_explicit(&c->online, 0, memory_order_release);
	mmsim_ipi_drain_offline(c);
	drain_local_pages();
	mmsim_rcu_unregister_thread();
	pthread_setspecific(cpu_auto_key, NULL);
	mmsim_current_cpu = NULL;
	atomic_store_explicit(&cpu_claimed[c->cpu], 0, memory_order_release);
}

int num_online_cpus(void)
{
	int n = 0;

	for (int i = 0; i < NR_CPUS; i++)
		n += atomic_load_explicit(&mmsim_cpus[i].online,
					  memory_order_relaxed);
	return n;
}

/* --- soft-masked interrupts --------------------------------------------- */

void local_irq_disable(void)
{
	atomic_store_explicit(&this_cpu()->irqs_disabled, 1,
			      memory_order_relaxed);
	atomic_signal_fence(memory_order_seq_cst);
}

/* Interrupts on again: run what arrived while they were off. */
void local_irq_enable(void)
{
	struct mmsim_cpu *c = this_cpu();

	atomic_signal_fence(memory_order_seq_cst);
	atomic_store_explicit(&c->irqs_disabled, 0, memory_order_relaxed);
	atomic_signal_fence(memory_order_seq_cst);
	if (atomic_load_explicit(&c->ipi_pending, memory_order_relaxed) ||
	    mmsim_ipi_posted(c))
		mmsim_handle_pending_ipis();
}

bool irqs_disabled(void)
{
	return atomic_load_explicit(&this_cpu()->irqs_disabled,
				    memory_order_relaxed);
}

unsigned long arch_local_irq_save(void)
{
	struct mmsim_cpu *c = this_cpu();
	unsigned long flags = atomic_load_explicit(&c->irqs_disabled,
						   memory_order_relaxed);

	atomic_store_explicit(&c->irqs_disabled, 1, memory_order_relaxed);
	atomic_signal_fence(memory_order_seq_cst);
	return flags;
}

void arch_local_irq_restore(unsigned long flags)
{
	if (!flags)
		local_irq_enable();
}

/* --- wait loops ---------------------------------------------------------- */

static __thread unsigned int relax_count;

/*
 * With interrupts enabled, the pause (or yield) is a polling turn: IPIs
 * sent meanwhile come without a signal and run here (see ipi.c).  The
 * scheduling hook runs outside it, so a delay it injects does not hold
 * back a request that a signal would have delivered at once.
 */
void mmsim_cpu_relax(void)
{
	struct mmsim_cpu *c = this_cpu();
	bool irqs_on = !atomic_load_explicit(&c->irqs_disabled,
					     memory_order_relaxed);

	if (irqs_on &&
	    (atomic_load_explicit(&c->ipi_pending, memory_order_acquire) ||
	     mmsim_ipi_posted(c)))
		mmsim_handle_pending_ipis();
	mmsim_sched_point(SCHED_SPIN, NULL);
	if (irqs_on)
		mmsim_ipi_poll_begin(c);
	/* More simulated CPUs than host cores: let the holder run. */
	if ((++relax_count & 15) == 0)
		sched_yield();
	else
		__builtin_ia32_pause();
	if (irqs_on)
		mmsim_ipi_poll_end(c);
}

void mmsim_wait_begin(const void *obj, const char *what)
{
	struct mmsim_cpu *c = this_cpu();

	atomic_store_explicit(&c->waiting_what, what, memory_order_relaxed);
	atomic_store_explicit(&c->waiting_on, obj, memory_order_relaxed);
	atomic_store_explicit(&c->wait_start_ns, mmsim_now_ns(),
			      memory_order_relaxed);
}

void mmsim_wait_end(void)
{
	struct mmsim_cpu *c = this_cpu();

	atomic_store_explicit(&c->wait_start_ns, 0, memory_order_relaxed);
	atomic_store_explicit(&c->waiting_on, NULL, memory_order_relaxed);
}

/* --- held locks ---------------------------------------------------------- */

/*
 * Only the CPU itself writes its records; the watchdog reads them racily
 * (through atomics) when something is already stuck.
 */
void mmsim_lock_acquired(const void *lock, const char *name)
{
	if (unlikely(atomic_load_explicit(&lockdep_enabled,
					  memory_order_relaxed)))
		lockdep_acquire(name);
	mmsim_lock_acquired_trylock(lock, name);
}

void mmsim_lock_acquired_trylock(const void *lock, const char *name)
{
	struct mmsim_cpu *c = this_cpu();
	int n = atomic_load_explicit(&c->nr_held, memory_order_relaxed);

	if (n < MAX_HELD_LOCKS) {
		__atomic_store_n(&c->held[n].lock, lock, __ATOMIC_RELAXED);
		__atomic_store_n(&c->held[n].name, name, __ATOMIC_RELAXED);
	}
	atomic_store_explicit(&c->nr_held, n + 1, memory_order_release);
}

/*
 * Where lock is in c's records of its n held locks, -1 if not there.
 * Locks are mostly released in reverse order: search from the top.
 */
static int held_lock_index(struct mmsim_cpu *c, int n, const void *lock)
{
	int i;

	for (i = min(n, MAX_HELD_LOCKS) - 1; i >= 0; i--)
		if (__atomic_load_n(&c->held[i].lock, __ATOMIC_RELAXED) == lock)
			break;
	return i;
}

bool mmsim_lock_held_by_me(const void *lock)
{
	struct mmsim_cpu *c = this_cpu();

	return held_lock_index(c, atomic_load_explicit(&c->nr_held,
				memory_order_relaxed), lock) >= 0;
}

void mmsim_lock_released(const void *lock)
{
	struct mmsim_cpu *c = this_cpu();
	int n = atomic_load_explicit(&c->nr_held, memory_order_relaxed);
	int i;

	BUG_ON(n <= 0);
	i = held_lock_index(c, n, lock);
	if (i >= 0) {
		for (; i + 1 < min(n, MAX_HELD_LOCKS); i++) {
			__atomic_store_n(&c->held[i].lock,
				__atomic_load_n(&c->held[i + 1].lock, __ATOMIC_RELAXED),
				__ATOMIC_RELAXED);
			__atomic_store_n(&c->held[i].name,
				__atomic_load_n(&c->held[i + 1].name, __ATOMIC_RELAXED),
				__ATOMIC_RELAXED);
		}
	}
	atomic_store_explicit(&c->nr_held, n - 1, memory_order_release);
}

/* --- the mm a CPU runs ---------------------------------------------------- */

void mmsim_switch_mm(struct mm_struct *mm)
{
	struct mmsim_cpu *c = this_cpu();
	unsigned long flags;

	if (c->active_mm == mm)
		return;
	local_irq_save(flags);
	/* No PCID: translations of the previous mm must go. */
	local_flush_tlb_all();
	c->active_mm = mm;
	if (mm)
		cpumask_set_cpu(c->cpu, mm_cpumask(mm));
	local_irq_restore(flags);
}
