// SPDX-License-Identifier: MIT
/*
 * Unit tests for the kernel primitives (src/kernel) and the machine
 * (src/arch) that need no page tables: spinlocks and their owner records,
 * rwlock_t, seqcount, RCU grace periods and callbacks, soft-masked
 * interrupts and IPIs between CPU threads.
 *
 * No test depends on timing: where something must NOT happen (an IPI
 * handled while interrupts are off), the test checks it at every step of
 * a loop, then lets it happen and waits for it.
 */
#include <pthread.h>
#include <string.h>
#include <time.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <mmsim/cpu.h>
#include <mmsim/lockdep.h>
#include <mmsim/mutant.h>
#include <mmsim/rcupdate.h>
#include <mmsim/rwsem.h>
#include <mmsim/seqlock.h>
#include <mmsim/spinlock.h>

#define NR_THREADS	4
#define ITERATIONS	20000

static void *run_threads(void *(*fn)(void *), void *arg, int n)
{
	pthread_t t[NR_THREADS];

	for (int i = 0; i < n; i++)
		assert_int_equal(pthread_create(&t[i], NULL, fn, arg), 0);
	for (int i = 0; i < n; i++)
		pthread_join(t[i], NULL);
	return NULL;
}

/* --- spinlock ------------------------------------------------------------ */

static DEFINE_SPINLOCK(counter_lock);
static unsigned long counter;	/* protected by counter_lock, plain on purpose */

static void *spin_worker(void *arg)
{
	for (int i = 0; i < ITERATIONS; i++) {
		spin_lock(&counter_lock);
		counter++;
		spin_unlock(&counter_lock);
	}
	return NULL;
}

static void test_spinlock_excludes(void **state)
{
	counter = 0;
	run_threads(spin_worker, NULL, NR_THREADS);
	assert_int_equal(counter, NR_THREADS * ITERATIONS);
	assert_false(spin_is_locked(&counter_lock));
}

static void test_spinlock_owner_and_trylock(void **state)
{
	spinlock_t l;

	spin_lock_init(&l);
	assert_false(spin_is_held_by_me(&l));
	assert_int_equal(spin_trylock(&l), 1);
	assert_true(spin_is_held_by_me(&l));
	lockdep_assert_held(&l);
	assert_int_equal(atomic_load(&this_cpu()->nr_held), 1);
	assert_ptr_equal(this_cpu()->held[0].lock, &l);
	assert_int_equal(spin_trylock(&l), 0);	/* held: trylock fails */
	spin_unlock(&l);
	assert_int_equal(atomic_load(&this_cpu()->nr_held), 0);
	assert_false(spin_is_held_by_me(&l));
}

static spinlock_t held_elsewhere;
static atomic_int holder_state;

static void *hold_lock(void *arg)
{
	spin_lock(&held_elsewhere);
	atomic_store(&holder_state, 1);
	while (atomic_load(&holder_state) != 2)
		mmsim_cpu_relax();
	spin_unlock(&held_elsewhere);
	return NULL;
}

/* Held by another CPU: not "held by me", and trylock fails. */
static void test_spinlock_other_cpu(void **state)
{
	pthread_t t;

	spin_lock_init(&held_elsewhere);
	atomic_store(&holder_state, 0);
	pthread_create(&t, NULL, hold_lock, NULL);
	while (!atomic_load(&holder_state))
		mmsim_cpu_relax();
	assert_true(spin_is_locked(&held_elsewhere));
	assert_false(spin_is_held_by_me(&held_elsewhere));
	assert_int_equal(spin_trylock(&held_elsewhere), 0);
	atomic_store(&holder_state, 2);
	pthread_join(t, NULL);
	assert_int_equal(spin_trylock(&held_elsewhere), 1);
	spin_unlock(&held_elsewhere);
}

/* --- rwlock ---------------------------------------------------------------- */

static DEFINE_RWLOCK(rw);
static unsigned long rw_a, rw_b;	/* a == b whenever rw is not write-held */
static atomic_int rw_errors;

static void *rw_worker(void *arg)
{
	for (int i = 0; i < ITERATIONS; i++) {
		if (i % 4 == 0) {
			write_lock(&rw);
			rw_a++;
			rw_b++;
			write_unlock(&rw);
		} else {
			read_lock(&rw);
			if (rw_a != rw_b)
				atomic_fetch_add(&rw_errors, 1);
			read_unlock(&rw);
		}
	}
	return NULL;
}

static void test_rwlock(void **state)
{
	run_threads(rw_worker, NULL, NR_THREADS);
	assert_int_equal(atomic_load(&rw_errors), 0);
	assert_int_equal(rw_a, NR_THREADS * ITERATIONS / 4);
	assert_int_equal(read_trylock(&rw), 1);
	assert_int_equal(write_trylock(&rw), 0);	/* a reader excludes writers */
	read_unlock(&rw);
	assert_int_equal(write_trylock(&rw), 1);
	assert_int_equal(read_trylock(&rw), 0);
	write_unlock(&rw);
}

/* --- rw_semaphore (the mmap lock) ------------------------------------------ */

static struct rw_semaphore sem;
static unsigned long sem_a, sem_b;	/* a == b whenever sem is not write-held */
static atomic_int sem_errors;

static void *sem_worker(void *arg)
{
	for (int i = 0; i < ITERATIONS / 4; i++) {
		if (i % 4 == 0) {
			down_write(&sem);
			sem_a++;
			sem_b++;
			up_write(&sem);
		} else {
			down_read(&sem);
			if (sem_a != sem_b)
				atomic_fetch_add(&sem_errors, 1);
			up_read(&sem);
		}
	}
	return NULL;
}

static void test_rwsem_excludes(void **state)
{
	init_rwsem(&sem);
	run_threads(sem_worker, NULL, NR_THREADS);
	assert_int_equal(atomic_load(&sem_errors), 0);
	assert_int_equal(sem_a, NR_THREADS * ITERATIONS / 16);
	assert_int_equal(atomic_load(&sem.readers_granted), 0);
}

/* Who got sem in which order. */
static atomic_int sem_order[2], sem_turn;

static void *sem_reader(void *arg)
{
	down_read(&sem);
	atomic_store(&sem_order[atomic_fetch_add(&sem_turn, 1)], 'R');
	up_read(&sem);
	return NULL;
}

static void *sem_writer(void *arg)
{
	down_write(&sem);
	atomic_store(&sem_order[atomic_fetch_add(&sem_turn, 1)], 'W');
	up_write(&sem);
	return NULL;
}

/*
 * Both ways fair.  While a writer waits, a new reader does not get in
 * (munmap is not starved by faults); when the writer holding the lock
 * leaves, the reader that was waiting goes before the writer that was
 * waiting (faults are not starved by a stream of munmaps), as the
 * kernel's rwsem_wake() wakes the readers at the head of its queue.
 *
 *	us:  down_write ......................... up_write
 *	R:        down_read (waits) ........................ gets in first
 *	W:              down_write (waits) ......................... then W
 */
/* Who goes first when we leave with a reader and a writer waiting? */
static int rwsem_first_after_writer(void)
{
	pthread_t r, w;

	init_rwsem(&sem);
	atomic_store(&sem_turn, 0);
	down_write(&sem);
	pthread_create(&r, NULL, sem_reader, NULL);
	while (atomic_load(&sem.readers_waiting) != 1)
		mmsim_cpu_relax();
	pthread_create(&w, NULL, sem_writer, NULL);
	while (atomic_load(&sem.writers_waiting) != 1)
		mmsim_cpu_relax();
	up_write(&sem);
	pthread_join(r, NULL);
	pthread_join(w, NULL);
	assert_int_equal(atomic_load(&sem.readers_granted), 0);
	return atomic_load(&sem_order[0]);
}

static void test_rwsem_fair_both_ways(void **state)
{
	pthread_t w;

	assert_int_equal(rwsem_first_after_writer(), 'R');
	assert_int_equal(atomic_load(&sem_order[1]), 'W');

	/* A writer waits behind a reader: new readers wait too. */
	down_read(&sem);
	atomic_store(&sem_turn, 0);
	pthread_create(&w, NULL, sem_writer, NULL);
	while (atomic_load(&sem.writers_waiting) != 1)
		mmsim_cpu_relax();
	assert_int_equal(down_read_trylock(&sem), 0);
	up_read(&sem);
	pthread_join(w, NULL);
	assert_int_equal(atomic_load(&sem_order[0]), 'W');
}

/* Without the readers' turn (the old lock), the writer goes first. */
static void test_rwsem_mutant_caught(void **state)
{
	int first;

	assert_int_equal(mmsim_set_mutant("rwsem-no-reader-turn"), 0);
	first = rwsem_first_after_writer();
	mmsim_set_mutant("none");
	assert_int_equal(first, 'W');
}

/* --- seqcount ---------------------------------------------------------------- */

static seqlock_t sl;
static unsigned long seq_a, seq_b;	/* written under sl, read racily */
static atomic_int seq_stop, seq_bad, seq_retries;

static void *seq_reader(void *arg)
{
	while (!atomic_load(&seq_stop)) {
		unsigned long a, b;
		unsigned int seq;

		do {
			seq = read_seqbegin(&sl);
			a = __atomic_load_n(&seq_a, __ATOMIC_RELAXED);
			b = __atomic_load_n(&seq_b, __ATOMIC_RELAXED);
			if (read_seqretry(&sl, seq))
				atomic_fetch_add(&seq_retries, 1);
		} while (read_seqretry(&sl, seq));
		if (a != b)
			atomic_fetch_add(&seq_bad, 1);
	}
	return NULL;
}

/* A reader that does not retry would see a != b; retrying readers never do. */
static void test_seqlock(void **state)
{
	pthread_t r[2];

	seqlock_init(&sl);
	for (int i = 0; i < 2; i++)
		pthread_create(&r[i], NULL, seq_reader, NULL);
	for (int i = 0; i < ITERATIONS * 5; i++) {
		write_seqlock(&sl);
		__atomic_store_n(&seq_a, seq_a + 1, __ATOMIC_RELAXED);
		__atomic_store_n(&seq_b, seq_b + 1, __ATOMIC_RELAXED);
		write_sequnlock(&sl);
	}
	atomic_store(&seq_stop, 1);
	for (int i = 0; i < 2; i++)
		pthread_join(r[i], NULL);
	assert_int_equal(atomic_load(&seq_bad), 0);
	assert_int_equal(raw_read_seqcount(&sl.seqcount) & 1, 0);
}

/* --- RCU --------------------------------------------------------------------- */

static atomic_int rcu_reader_state, rcu_gp_done;

static void *rcu_reader(void *arg)
{
	rcu_read_lock();
	atomic_store(&rcu_reader_state, 1);
	/* Stay in the read side until the main thread is inside synchronize_rcu. */
	while (atomic_load(&rcu_reader_state) != 2)
		mmsim_cpu_relax();
	/* A grace period cannot have ended while we are still reading. */
	for (int i = 0; i < 1000; i++) {
		assert_int_equal(atomic_load(&rcu_gp_done), 0);
		mmsim_cpu_relax();
	}
	rcu_read_unlock();
	return NULL;
}

static void *rcu_syncer(void *arg)
{
	synchronize_rcu();
	atomic_store(&rcu_gp_done, 1);
	return NULL;
}

static void test_synchronize_rcu_waits_for_readers(void **state)
{
	pthread_t r, s;

	pthread_create(&r, NULL, rcu_reader, NULL);
	while (atomic_load(&rcu_reader_state) != 1)
		mmsim_cpu_relax();
	pthread_create(&s, NULL, rcu_syncer, NULL);
	atomic_store(&rcu_reader_state, 2);
	pthread_join(r, NULL);
	pthread_join(s, NULL);
	assert_int_equal(atomic_load(&rcu_gp_done), 1);
}

struct rcu_obj {
	struct rcu_head rcu;
	atomic_int *freed;
};

static void rcu_obj_free(struct rcu_head *head)
{
	struct rcu_obj *o = (struct rcu_obj *)head;

	atomic_fetch_add(o->freed, 1);
}

static void test_call_rcu(void **state)
{
	static atomic_int freed;
	struct rcu_obj objs[8];

	for (int i = 0; i < 8; i++) {
		objs[i].freed = &freed;
		call_rcu(&objs[i].rcu, rcu_obj_free);
	}
	rcu_barrier();
	assert_int_equal(atomic_load(&freed), 8);

	DEFINE_SRCU(test_srcu);
	int idx = srcu_read_lock(&test_srcu);
	srcu_read_unlock(&test_srcu, idx);
	call_srcu(&test_srcu, &objs[0].rcu, rcu_obj_free);
	srcu_barrier(&test_srcu);
	assert_int_equal(atomic_load(&freed), 9);
}

/*
 * call_srcu() hands callbacks to liburcu in batches (src/kernel/srcu.c).
 * Queued from inside a read side, none may run before that read side
 * ends, whether its batch is full (the first 64) or still waiting; after
 * srcu_barrier() every one has run once, in the order queued.
 */
#define NR_SRCU_OBJS	150

static atomic_int srcu_order[NR_SRCU_OBJS], srcu_ran;

static void srcu_obj_free(struct rcu_head *head)
{
	struct rcu_obj *o = (struct rcu_obj *)head;
	int nth = atomic_fetch_add(&srcu_ran, 1);

	atomic_store(&srcu_order[o->freed - srcu_order], nth + 1);
}

static void test_call_srcu_batches(void **state)
{
	static struct rcu_obj objs[NR_SRCU_OBJS];
	const struct timespec wait = { 0, 30 * 1000 * 1000 };
	DEFINE_SRCU(test_srcu);
	int idx, i;

	idx = srcu_read_lock(&test_srcu);
	for (i = 0; i < NR_SRCU_OBJS; i++) {
		objs[i].freed = &srcu_order[i];
		call_srcu(&test_srcu, &objs[i].rcu, srcu_obj_free);
	}
	nanosleep(&wait, NULL);		/* time for a wrong grace period */
	i = atomic_load(&srcu_ran);
	srcu_read_unlock(&test_srcu, idx);
	assert_int_equal(i, 0);
	srcu_barrier(&test_srcu);
	assert_int_equal(atomic_load(&srcu_ran), NR_SRCU_OBJS);
	for (i = 0; i < NR_SRCU_OBJS; i++)
		assert_int_equal(atomic_load(&srcu_order[i]), i + 1);
}

/* --- soft-masked interrupts and IPIs ------------------------------------------- */

static atomic_int ipi_runs, ipi_wrong_context, target_state, target_cpu;

/* Runs in a signal handler: no assertions here, only counts. */
static void count_ipi(void *info)
{
	atomic_fetch_add(&ipi_runs, 1);
	/* Handlers run with interrupts off, on the target CPU. */
	if (!irqs_disabled() || smp_processor_id() != atomic_load(&target_cpu))
		atomic_fetch_add(&ipi_wrong_context, 1);
}

/*
 * The target disables interrupts, the sender queues an IPI; it must stay
 * pending (not run) until the target enables interrupts again.
 */
static void *ipi_target(void *arg)
{
	bool masked = (bool)(long)arg;

	atomic_store(&target_cpu, smp_processor_id());
	if (masked)
		local_irq_disable();
	atomic_store(&target_state, 1);
	while (atomic_load(&target_state) != 2)	/* sender has sent */
		mmsim_cpu_relax();
	if (masked) {
		for (int i = 0; i < 20000; i++) {
			assert_int_equal(atomic_load(&ipi_runs), 0);
			mmsim_cpu_relax();
		}
		local_irq_enable();
	}
	while (!atomic_load(&ipi_runs))
		mmsim_cpu_relax();
	return NULL;
}

static void send_ipi_to_target(bool masked)
{
	cpumask_t mask;
	pthread_t t;

	atomic_store(&ipi_runs, 0);
	atomic_store(&target_state, 0);
	pthread_create(&t, NULL, ipi_target, (void *)(long)masked);
	while (!atomic_load(&target_state))
		mmsim_cpu_relax();
	cpumask_clear(&mask);
	cpumask_set_cpu(atomic_load(&target_cpu), &mask);
	cpumask_set_cpu(smp_processor_id(), &mask);	/* never to ourselves */
	smp_call_function_many(&mask, count_ipi, NULL, false);
	atomic_store(&target_state, 2);
	pthread_join(t, NULL);
	assert_int_equal(atomic_load(&ipi_runs), 1);
	assert_int_equal(atomic_load(&ipi_wrong_context), 0);
}

static void test_ipi_delivered(void **state)
{
	send_ipi_to_target(false);
}

static void test_ipi_pending_while_masked(void **state)
{
	send_ipi_to_target(true);
}

static atomic_int spinner_stop;

static void *spinner(void *arg)
{
	atomic_store(&target_cpu, smp_processor_id());
	atomic_store(&target_state, 1);
	while (!atomic_load(&spinner_stop))
		mmsim_cpu_relax();
	return NULL;
}

/* smp_call_function_many(wait) returns only after the target ran it. */
static void test_ipi_wait(void **state)
{
	cpumask_t mask;
	pthread_t t;

	atomic_store(&ipi_runs, 0);
	atomic_store(&target_state, 0);
	atomic_store(&spinner_stop, 0);
	pthread_create(&t, NULL, spinner, NULL);
	while (!atomic_load(&target_state))
		mmsim_cpu_relax();
	cpumask_clear(&mask);
	cpumask_set_cpu(atomic_load(&target_cpu), &mask);
	for (int i = 1; i <= 100; i++) {
		smp_call_function_many(&mask, count_ipi, NULL, true);
		assert_int_equal(atomic_load(&ipi_runs), i);
	}
	atomic_store(&spinner_stop, 1);
	pthread_join(t, NULL);
	assert_int_equal(atomic_load(&ipi_wrong_context), 0);
}

static void test_irq_save_restore_nest(void **state)
{
	unsigned long f1, f2;

	assert_false(irqs_disabled());
	local_irq_save(f1);
	assert_true(irqs_disabled());
	local_irq_save(f2);
	local_irq_restore(f2);
	assert_true(irqs_disabled());	/* inner restore keeps them off */
	local_irq_restore(f1);
	assert_false(irqs_disabled());
}

/* --- lock order (lockdep) ------------------------------------------------------ */

/*
 * A then B here, B then A later: reported at the second order, although
 * nothing deadlocks in this single thread (lockdep's point).  A trylock
 * adds no order; two locks of one class nest without a report.
 */
static void test_lockdep_ab_ba(void **state)
{
	spinlock_t a, b, c, pte1, pte2;

	lockdep_reset();
	lockdep_enable(true);
	__spin_lock_init(&a, "test A");
	__spin_lock_init(&b, "test B");
	__spin_lock_init(&c, "test C");
	__spin_lock_init(&pte1, "test ptl");
	__spin_lock_init(&pte2, "test ptl");

	spin_lock(&a);
	spin_lock(&b);
	spin_unlock(&b);
	spin_unlock(&a);
	assert_int_equal(lockdep_violations(), 0);

	spin_lock(&c);			/* C then A by trylock: no order */
	assert_int_equal(spin_trylock(&a), 1);
	spin_unlock(&a);
	spin_unlock(&c);
	spin_lock(&a);
	spin_lock(&c);			/* A then C: fine, C->A was a trylock */
	spin_unlock(&c);
	spin_unlock(&a);
	assert_int_equal(lockdep_violations(), 0);

	spin_lock(&pte1);
	spin_lock(&pte2);		/* same class nested */
	spin_unlock(&pte2);
	spin_unlock(&pte1);
	assert_int_equal(lockdep_violations(), 0);

	spin_lock(&b);
	spin_lock(&a);			/* B then A: the cycle */
	spin_unlock(&a);
	spin_unlock(&b);
	assert_int_equal(lockdep_violations(), 1);
	assert_non_null(strstr(lockdep_first_report(), "test A"));
	assert_non_null(strstr(lockdep_first_report(), "test B"));

	lockdep_enable(false);
	lockdep_reset();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rwsem_excludes),
		cmocka_unit_test(test_rwsem_fair_both_ways),
		cmocka_unit_test(test_rwsem_mutant_caught),
		cmocka_unit_test(test_spinlock_excludes),
		cmocka_unit_test(test_spinlock_owner_and_trylock),
		cmocka_unit_test(test_spinlock_other_cpu),
		cmocka_unit_test(test_rwlock),
		cmocka_unit_test(test_seqlock),
		cmocka_unit_test(test_synchronize_rcu_waits_for_readers),
		cmocka_unit_test(test_call_rcu),
		cmocka_unit_test(test_call_srcu_batches),
		cmocka_unit_test(test_ipi_delivered),
		cmocka_unit_test(test_ipi_pending_while_masked),
		cmocka_unit_test(test_ipi_wait),
		cmocka_unit_test(test_irq_save_restore_nest),
		cmocka_unit_test(test_lockdep_ab_ba),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
