/* SPDX-License-Identifier: MIT */
/*
 * The simulated CPUs (src/arch/): each is a host thread.  A CPU runs one
 * task at a time, and the task's mm is the CPU's active_mm; mm_cpumask(mm)
 * records every CPU the mm has run on, so that a TLB shootdown knows whom
 * to interrupt.
 *
 * Interrupts between CPUs are real POSIX signals (SIGUSR1) sent with
 * pthread_kill(), except to a CPU that polls in a wait loop with
 * interrupts enabled and takes them there (src/arch/ipi.c; the kernel
 * spares a polling idle CPU its IPI the same way).  The payload and the
 * acknowledgement travel through release/acquire atomics:
 * ThreadSanitizer sees no ordering in the signal itself.  Wait loops
 * spin on atomics (see docs/testing-notes.md:
 * a thread blocked in a mutex never runs its signal handler under TSan).
 */
#ifndef MMSIM_CPU_H
#define MMSIM_CPU_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <mmsim/irqflags.h>
#include <mmsim/spinlock.h>

#define NR_CPUS		64
#define MAX_HELD_LOCKS	16

struct mm_struct;
struct page;

/* cpumask_t: one bit per CPU; NR_CPUS fits in one word. */
typedef struct {
	atomic_ulong bits;
} cpumask_t;

static inline void cpumask_set_cpu(int cpu, cpumask_t *m)
{
	atomic_fetch_or_explicit(&m->bits, 1UL << cpu, memory_order_relaxed);
}

static inline void cpumask_clear_cpu(int cpu, cpumask_t *m)
{
	atomic_fetch_and_explicit(&m->bits, ~(1UL << cpu), memory_order_relaxed);
}

static inline bool cpumask_test_cpu(int cpu, const cpumask_t *m)
{
	return atomic_load_explicit((atomic_ulong *)&m->bits,
				    memory_order_relaxed) & (1UL << cpu);
}

static inline void cpumask_clear(cpumask_t *m)
{
	atomic_store_explicit(&m->bits, 0, memory_order_relaxed);
}

#define for_each_cpu(cpu, mask)						\
	for (unsigned long __b = atomic_load_explicit(			\
		(atomic_ulong *)&(mask)->bits, memory_order_relaxed);	\
	     __b && ((cpu) = __builtin_ctzl(__b), 1); __b &= __b - 1)

/* One translation cached by a CPU's TLB. */
struct tlb_entry {
	unsigned long vpn;		/* virtual page number */
	unsigned long pte;		/* the PTE as walked: pfn and rights */
	bool valid;
};

#define TLB_SETS	16
#define TLB_WAYS	4

/*
 * A CPU's TLB: set-associative, tagged by virtual page, holding the
 * translations of active_mm only (it is flushed when the CPU switches mm,
 * as without PCID).  Only the owning CPU reads or writes it: remote
 * flushes run in its IPI handler, on its own thread.
 */
struct mmsim_tlb {
	struct tlb_entry set[TLB_SETS][TLB_WAYS];
	unsigned int next_victim[TLB_SETS];
	unsigned long hits, misses, flushes;
};

struct held_lock {
	const void *lock;
	const char *name;
};

/* A request from one CPU to another (smp_call_function). */
typedef void (*smp_call_func_t)(void *info);

/*
 * One sender's mailbox at one target.  Each side writes only its own
 * counter: the sender numbers its requests (req, release), the target
 * acknowledges one by copying its number (ack, release).  A request is
 * pending while ack != req.
 */
struct ipi_slot {
	smp_call_func_t func;
	void *info;
	atomic_ulong req;		/* written by the sender */
	atomic_ulong ack;		/* written by the target */
};

/*
 * Free pages kept by a CPU so the fault path rarely takes the zone lock.
 * Its own lock is uncontended except when another CPU drains it (the
 * kernel's pcp->spinlock), e.g. before reporting an allocation failure.
 */
struct per_cpu_pages {
	spinlock_t lock;
	struct page *list;
	int count;
	int high, batch;
};

struct mmsim_cpu {
	int cpu;
	pthread_t thread;
	atomic_int online;

	/* Soft-masked interrupts: this CPU and its signal handler only. */
	atomic_int irqs_disabled;
	atomic_int ipi_pending;		/* a signal came while masked */
	/*
	 * Requests posted to this CPU (senders add one each) and how many
	 * it has looked at: like an interrupt pending in the local APIC, a
	 * request is taken as soon as interrupts are enabled, whether or not
	 * the host has delivered the signal yet.
	 */
	atomic_ulong ipi_posted;
	atomic_ulong ipi_seen;
	atomic_int in_ipi;		/* running IPI handlers */
	struct ipi_slot ipi[NR_CPUS];	/* indexed by the sending CPU */

	/* What the CPU holds and waits for: for the watchdog. */
	struct held_lock held[MAX_HELD_LOCKS];
	atomic_int nr_held;
	_Atomic(const void *) waiting_on;
	_Atomic(const char *) waiting_what;
	atomic_ulong wait_start_ns;	/* 0 when not waiting */

	struct mm_struct *active_mm;
	struct mmsim_tlb tlb;
	struct per_cpu_pages pcp;

	/* Event counts of this CPU (read racily by reports). */
	atomic_ulong nr_ipis_sent, nr_ipis_handled, nr_faults, nr_ipi_signals;
	/* enum fault_event of <mmsim/strategy.h> */
#define MMSIM_MAX_FAULT_EVENTS	16
	atomic_ulong fault_events[MMSIM_MAX_FAULT_EVENTS];
};

extern struct mmsim_cpu mmsim_cpus[NR_CPUS];
extern __thread struct mmsim_cpu *mmsim_current_cpu;

struct mmsim_cpu *__mmsim_cpu_attach_auto(void);

/*
 * The CPU the calling thread is.  A thread that was never attached is
 * attached to a free CPU on first use (and detached when it exits), so
 * that tests and the replay tool need no set-up.
 */
static inline struct mmsim_cpu *this_cpu(void)
{
	struct mmsim_cpu *c = mmsim_current_cpu;

	if (__builtin_expect(!c, 0))
		c = __mmsim_cpu_attach_auto();
	return c;
}

static inline int smp_processor_id(void)
{
	return this_cpu()->cpu;
}

/* Make the calling thread a CPU; returns its id, -EBUSY when all are taken. */
int mmsim_cpu_attach(void);
void mmsim_cpu_detach(void);
int num_online_cpus(void);

/*
 * Run the tasks of mm on this CPU (switch_mm): records the CPU in
 * mm_cpumask(mm) and flushes the TLB when the mm changes.  NULL leaves
 * the CPU without an mm.
 */
void mmsim_switch_mm(struct mm_struct *mm);

/*
 * The body of every wait loop: service pending IPIs when interrupts are
 * enabled, call the scheduling hook, yield the host core now and then.
 */
void mmsim_cpu_relax(void);

/* Bracket a wait so the watchdog can see who waits on what, since when. */
void mmsim_wait_begin(const void *obj, const char *what);
void mmsim_wait_end(void);

/*
 * Held-lock records of the calling CPU.  An acquisition that waited (or
 * could have) also feeds the lock-order checker (<mmsim/lockdep.h>); a
 * trylock cannot deadlock and does not.
 */
void mmsim_lock_acquired(const void *lock, const char *name);
void mmsim_lock_acquired_trylock(const void *lock, const char *name);
void mmsim_lock_released(const void *lock);
/* Does the calling CPU hold lock (any mode)? */
bool mmsim_lock_held_by_me(const void *lock);

/*
 * Run func(info) on every CPU of mask except the caller, by IPI; with
 * wait, return after each has run it.  The caller's interrupts must be
 * enabled when waiting, as in the kernel (a CPU waiting with interrupts
 * off for another that waits for it would deadlock).
 */
void smp_call_function_many(const cpumask_t *mask, smp_call_func_t func,
			    void *info, bool wait);
/* Run any IPI this CPU has pending (interrupts must be enabled). */
void mmsim_handle_pending_ipis(void);

/*
 * The watchdog: a CPU that waits in the same wait loop for longer than
 * timeout_ms makes the watchdog print the state of every CPU and exit the
 * process with status MMSIM_WATCHDOG_EXIT.
 */
#define MMSIM_WATCHDOG_EXIT	3
#define MMSIM_WATCHDOG_DEFAULT_MS 2000
int mmsim_watchdog_start(unsigned int timeout_ms);
void mmsim_watchdog_stop(void);
/* Print every CPU's state (interrupts, held locks, what it waits on). */
void mmsim_dump_cpus(int fd);

#endif /* MMSIM_CPU_H */
