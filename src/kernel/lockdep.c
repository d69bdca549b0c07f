// SPDX-License-Identifier: MIT
/*
 * lockdep_assert_held() for each kind of lock: the calling CPU must hold
 * it.  A failed assertion stops the run with the lock's name, as lockdep's
 * warning would point at the caller.
 */
#include <stdio.h>

#include <mmsim/cpu.h>
#include <mmsim/rwsem.h>
#include <mmsim/spinlock.h>

#include "kernel/bug.h"

static void lockdep_fail(const char *kind, const char *name, const void *lock,
			 const char *file, int line)
{
	char what[160];

	snprintf(what, sizeof(what), "lockdep_assert_held(%s %s @%p)", kind,
		 name ? name : "?", lock);
	__mmsim_bug(file, line, what);
}

void __lockdep_assert_spin_held(spinlock_t *lock, const char *file, int line)
{
	if (!spin_is_held_by_me(lock))
		lockdep_fail("spinlock", lock->name, lock, file, line);
}

void __lockdep_assert_rwlock_held(rwlock_t *lock, const char *file, int line)
{
	int cnt = atomic_load_explicit(&lock->cnt, memory_order_relaxed);
	int owner = atomic_load_explicit(&lock->owner, memory_order_relaxed);

	/* A writer must be us; readers are not tracked by owner. */
	if (!cnt || ((cnt & 1) && owner != smp_processor_id() + 1))
		lockdep_fail("rwlock", lock->name, lock, file, line);
}

void __lockdep_assert_rwsem_held(struct rw_semaphore *sem, const char *file,
				 int line)
{
	if (!rwsem_is_locked(sem))
		lockdep_fail("rw_semaphore", "", sem, file, line);
}

/* --- the lock-order checker (see <mmsim/lockdep.h>) ------------------------ */

#include <string.h>

#include <mmsim/lockdep.h>

atomic_int lockdep_enabled;

static const char *lockdep_class_name[LOCKDEP_MAX_CLASSES];
static atomic_int lockdep_nr_classes;
static atomic_flag lockdep_register_lock = ATOMIC_FLAG_INIT;
/* lockdep_after[a] has bit b: b was acquired while a was held. */
static atomic_ulong lockdep_after[LOCKDEP_MAX_CLASSES];
static atomic_ulong lockdep_reported[LOCKDEP_MAX_CLASSES];
static atomic_long lockdep_nr_violations;
static char lockdep_report[256];
/* The first violation takes the report, writes it, then marks it ready. */
static atomic_int lockdep_report_taken, lockdep_report_ready;

void lockdep_enable(bool on)
{
	atomic_store(&lockdep_enabled, on);
}

static int lockdep_find_class(const char *name, int n)
{
	for (int i = 0; i < n; i++)
		if (!strcmp(__atomic_load_n(&lockdep_class_name[i],
					    __ATOMIC_ACQUIRE), name))
			return i;
	return -1;
}

/* The class of name, registered on first sight; -1 when the table is full. */
static int lockdep_class(const char *name)
{
	int n = atomic_load_explicit(&lockdep_nr_classes, memory_order_acquire);
	int c = lockdep_find_class(name, n);

	if (c >= 0)
		return c;
	/* Registration is rare: a raw flag, never a recorded lock. */
	while (atomic_flag_test_and_set_explicit(&lockdep_register_lock,
						 memory_order_acquire))
		__builtin_ia32_pause();
	n = atomic_load_explicit(&lockdep_nr_classes, memory_order_relaxed);
	c = lockdep_find_class(name, n);
	if (c < 0 && n < LOCKDEP_MAX_CLASSES) {
		__atomic_store_n(&lockdep_class_name[n], name, __ATOMIC_RELEASE);
		atomic_store_explicit(&lockdep_nr_classes, n + 1,
				      memory_order_release);
		c = n;
	}
	atomic_flag_clear_explicit(&lockdep_register_lock, memory_order_release);
	return c;
}

/* Is there a path of "acquired after" edges from class from to class to? */
static bool lockdep_path(int from, int to)
{
	unsigned long seen = 0, frontier = 1UL << from;

	while (frontier) {
		unsigned long next = 0;

		if (frontier & (1UL << to))
			return true;
		seen |= frontier;
		for (unsigned long f = frontier; f; f &= f - 1)
			next |= atomic_load_explicit(
				&lockdep_after[__builtin_ctzl(f)],
				memory_order_relaxed);
		frontier = next & ~seen;
	}
	return false;
}

static void lockdep_violation(int held, int new)
{
	if (atomic_fetch_or(&lockdep_reported[held], 1UL << new) & (1UL << new))
		return;
	if (!atomic_exchange(&lockdep_report_taken, 1)) {
		snprintf(lockdep_report, sizeof(lockdep_report),
			 "possible circular locking dependency: %s then %s, "
			 "elsewhere %s then %s",
			 lockdep_class_name[held], lockdep_class_name[new],
			 lockdep_class_name[new], lockdep_class_name[held]);
		atomic_store_explicit(&lockdep_report_ready, 1,
				      memory_order_release);
	}
	atomic_fetch_add(&lockdep_nr_violations, 1);
	fprintf(stderr, "lockdep: CPU%d: possible circular locking dependency: "
		"acquiring %s while holding %s, but %s was taken before %s "
		"elsewhere\n", smp_processor_id(), lockdep_class_name[new],
		lockdep_class_name[held], lockdep_class_name[new],
		lockdep_class_name[held]);
}

void lockdep_acquire(const char *name)
{
	struct mmsim_cpu *cpu = this_cpu();
	int n = min(atomic_load_explicit(&cpu->nr_held, memory_order_relaxed),
		    MAX_HELD_LOCKS);
	int new;

	if (!name)
		return;
	new = lockdep_class(name);
	if (new < 0)
		return;
	for (int i = 0; i < n; i++) {
		const char *hname = __atomic_load_n(&cpu->held[i].name,
						    __ATOMIC_RELAXED);
		int held = hname ? lockdep_class(hname) : -1;

		/* Same class nested (two PTE locks): lockdep's subclasses. */
		if (held < 0 || held == new)
			continue;
		if (atomic_load_explicit(&lockdep_after[held],
					 memory_order_relaxed) & (1UL << new))
			continue;
		if (lockdep_path(new, held))
			lockdep_violation(held, new);
		atomic_fetch_or(&lockdep_after[held], 1UL << new);
	}
}

long lockdep_violations(void)
{
	return atomic_load(&lockdep_nr_violations);
}

/*
 * Another CPU may be writing it (it took the report first and counts its
 * violation after): wait for it to be ready, briefly.
 */
const char *lockdep_first_report(void)
{
	if (!atomic_load(&lockdep_report_taken))
		return "";
	while (!atomic_load_explicit(&lockdep_report_ready,
				     memory_order_acquire))
		__builtin_ia32_pause();
	return lockdep_report;
}

void lockdep_reset(void)
{
	for (int i = 0; i < LOCKDEP_MAX_CLASSES; i++) {
		atomic_store(&lockdep_after[i], 0);
		atomic_store(&lockdep_reported[i], 0);
	}
	atomic_store(&lockdep_nr_classes, 0);
	atomic_store(&lockdep_nr_violations, 0);
	atomic_store(&lockdep_report_ready, 0);
	atomic_store(&lockdep_report_taken, 0);
}
