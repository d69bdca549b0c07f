/* SPDX-License-Identifier: MIT */
/*
 * What the parts of the stress engine share: sim/stress.c (worker
 * regions, scratch regions, forks, the controller) and sim/stress_spf.c
 * (the speculative-fault regions and the race-window delays).
 */
#ifndef MMSIM_SIM_STRESS_INTERNAL_H
#define MMSIM_SIM_STRESS_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <mmsim/cpu.h>
#include <mmsim/page.h>

#include "stress.h"

#define WORKER_MAGIC		0x4b524f57u
#define SCRATCH_MAGIC		0x48435253u
#define CHILD_MAGIC		0x444c4843u
#define SPF_MAGIC		0x46505346u

/* What a store leaves in a page, at a slot of its own. */
struct stress_pattern {
	uint32_t magic;
	uint16_t owner;		/* region, scratch or SPF region id */
	uint16_t page;		/* page index in the region */
	uint32_t cpu;		/* worker regions: the CPU; SPF: the writer */
	uint32_t seq;		/* region: store count; scratch: gen */
};

struct rng {
	uint64_t s;
};

/* splitmix64: every CPU's stream is a function of --seed and its index. */
static inline uint64_t rng_next(struct rng *r)
{
	uint64_t z = (r->s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static inline unsigned long rng_below(struct rng *r, unsigned long n)
{
	return n ? rng_next(r) % n : 0;
}

struct region;
struct scratch;
struct spf_region;
struct spf_writer;
struct shmem_pub;
struct stress;

struct stress_cpu {
	_Alignas(64) struct stress *s;
	unsigned int idx;		/* 0 .. cpus - 1 */
	int cpu;			/* simulated CPU id */
	bool chaos;
	pthread_t thread;
	struct rng rng;
	struct region *region;		/* held (workers) */
	unsigned int burst;
	uint32_t forks;
	uint32_t shmem_gen;		/* lives of this CPU's shmem region */
	struct spf_writer *spf;		/* workers, with SPF regions */
	struct stress_stats st;
	unsigned char page[PAGE_SIZE];
};

struct stress {
	const struct stress_opts *o;
	struct mm_struct *mm;
	unsigned int nworkers, nchaos, nregions, nscratch, nspf;
	struct region *regions;
	struct scratch *scratch;
	struct shmem_pub *shmem;	/* one per chaos CPU */
	struct spf_region *spf;		/* NULL without --spf-regions */
	atomic_uint spf_last;		/* the SPF region changed last */
	struct stress_cpu *cpus;
	atomic_int ready, go, stop, pause, parked, exited;
	atomic_int failed, reports;
	int interrupted;		/* stress_interrupt ended it early */
	bool test_stuck_at_exit;	/* a CPU's thread never ends (tests) */
	long warnings0;			/* mmsim_warnings() at the start */
	unsigned long long quiescent;	/* the controller's */
	char *why;
	size_t why_size;
};

/*
 * A region one chaos CPU changes and the others read (scratch regions,
 * shmem regions).  The owner writes what describes the region only while
 * it is not published; a reader announces itself (readers++) before it
 * looks at published, the owner clears published and then waits for
 * readers == 0: the store-buffer pattern, so both sides are seq_cst.
 */
struct stress_pub {
	atomic_int published;
	atomic_int readers;
};

static inline void stress_publish(struct stress_pub *pub)
{
	atomic_store_explicit(&pub->published, 1, memory_order_seq_cst);
}

/* After this, no reader looks at the region until it is published again. */
static inline void stress_unpublish(struct stress_pub *pub)
{
	atomic_store_explicit(&pub->published, 0, memory_order_seq_cst);
	while (atomic_load_explicit(&pub->readers, memory_order_seq_cst))
		mmsim_cpu_relax();
}

/* Begin a read; false if the region is not published (then do not read). */
static inline bool stress_read_begin(struct stress_pub *pub)
{
	atomic_fetch_add_explicit(&pub->readers, 1, memory_order_seq_cst);
	if (atomic_load_explicit(&pub->published, memory_order_seq_cst))
		return true;
	atomic_fetch_sub_explicit(&pub->readers, 1, memory_order_seq_cst);
	return false;
}

static inline void stress_read_end(struct stress_pub *pub)
{
	atomic_fetch_sub_explicit(&pub->readers, 1, memory_order_seq_cst);
}

/* Accepted error returns of a chaos system call, besides success. */
#define OK_ENOMEM	(1u << 0)
#define OK_EAGAIN	(1u << 1)
#define OK_EFAULT	(1u << 2)
#define OK_EINVAL	(1u << 3)

/* sim/stress.c */
void __attribute__((format(printf, 2, 3)))
stress_fail(struct stress_cpu *c, const char *fmt, ...);
bool check_ret(struct stress_cpu *c, const char *what, unsigned long addr,
	       unsigned long len, long ret, unsigned int ok);
bool pattern_is_zero(const struct stress_pattern *p);
bool pattern_is_poison(const struct stress_pattern *p);
void pattern_str(const struct stress_pattern *p, char *buf, size_t n);
void *stress_calloc_lines(size_t n, size_t size);
void stress_fail_not_zero(struct stress_cpu *c, const struct stress_pattern *p,
			  unsigned long addr, unsigned long off,
			  const char *kind, unsigned int id, unsigned long page);
const char *sig_name(int sig);

static inline bool stopping(struct stress_cpu *c)
{
	return atomic_load_explicit(&c->s->stop, memory_order_relaxed);
}

/* sim/stress_shmem.c */
int stress_shmem_alloc(struct stress *s);
void shmem_op(struct stress_cpu *c);
void shmem_race(struct stress_cpu *c);

/* sim/stress_spf.c */
int stress_spf_setup(struct stress *s);
void stress_spf_free(struct stress *s);
void spf_writer_burst(struct stress_cpu *c);
void spf_mutate(struct stress_cpu *c);
void stress_spf_final_check(struct stress *s, struct stress_cpu *c);
void stress_delays_start(unsigned long seed, bool spf_windows);
void stress_delays_stop(void);

#endif /* MMSIM_SIM_STRESS_INTERNAL_H */
