// SPDX-License-Identifier: MIT
/*
 * find_vma: what a lookup costs in a small mm (10 VMAs) and in one at
 * max_map_count (65,530 VMAs), the walk every fault and system call
 * starts with.  Random addresses defeat any lookup cache, so this is the
 * tree walk itself, cache misses included.
 *
 * The VMAs are single pages, adjacent, alternately read-only and
 * read-write so that none can merge with its neighbour.  The two sizes
 * are measured in alternating rounds; the lookups of a batch run under one
 * mmap_read_lock(), as a fault's would.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <mmsim/mm.h>
#include "bench.h"

#define FIND_VMA_SMALL	10UL
#define FIND_VMA_BIG	((unsigned long)DEFAULT_MAX_MAP_COUNT)
/* Far above mmap_min_addr and far below mmap_base. */
#define FIND_VMA_BASE	(1UL << 32)
#define FIND_VMA_BATCH	4096
#define FIND_VMA_SEED	0x9e3779b97f4a7c15ULL

struct find_vma_mm {
	struct mm_struct *mm;
	unsigned long nr_vmas;
	struct bench_tally tally;
};

static int map_one(struct mm_struct *mm, unsigned long i, unsigned long nr)
{
	unsigned long want = FIND_VMA_BASE + i * PAGE_SIZE;
	unsigned long prot = (i & 1) ? PROT_READ | PROT_WRITE : PROT_READ;
	unsigned long addr;

	addr = sys_mmap(mm, want, PAGE_SIZE, prot,
			MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, NULL, 0);
	if (addr == want)
		return 0;
	fprintf(stderr, "mmsim bench find_vma: mapping %lu of %lu at %#lx "
		"failed: %s (map_count %d, max_map_count %d)\n", i + 1, nr,
		want, IS_ERR_VALUE(addr) ? strerror(-(long)addr) :
		"wrong address", mm->map_count, sysctl_max_map_count);
	return -1;
}

/* An mm with exactly nr VMAs, or NULL after saying why on stderr. */
static struct mm_struct *find_vma_build(const struct bench_opts *o,
					unsigned long nr)
{
	struct mm_struct *mm;
	unsigned long i;

	if (nr > (unsigned long)sysctl_max_map_count) {
		fprintf(stderr, "mmsim bench find_vma: %lu VMAs exceed "
			"max_map_count %d\n", nr, sysctl_max_map_count);
		return NULL;
	}
	mm = bench_mm_alloc(o);
	if (!mm)
		return NULL;
	for (i = 0; i < nr; i++)
		if (map_one(mm, i, nr))
			goto fail;
	if (mm->map_count == (int)nr && !validate_mm(mm))
		return mm;
	fprintf(stderr, "mmsim bench find_vma: built %d VMAs, wanted %lu\n",
		mm->map_count, nr);
fail:
	mmput(mm);
	return NULL;
}

static inline uint64_t xorshift64(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return *s = x;
}

/*
 * One batch of lookups at random addresses in the span; returns how many
 * found the wrong VMA (none should).  The multiply-shift maps the random
 * bits onto the span without a division.
 */
static unsigned long lookup_batch(struct mm_struct *mm, unsigned long span,
				  uint64_t *rng)
{
	struct vm_area_struct *vma;
	unsigned long addr, wrong = 0;
	int i;

	mmap_read_lock(mm);
	for (i = 0; i < FIND_VMA_BATCH; i++) {
		addr = FIND_VMA_BASE + (((xorshift64(rng) >> 32) * span) >> 32);
		vma = find_vma(mm, addr);
		if (!vma || addr < vma->vm_start || addr >= vma->vm_end)
			wrong++;
	}
	mmap_read_unlock(mm);
	return wrong;
}

static unsigned long long find_vma_loop(struct bench_thread *t)
{
	struct find_vma_mm *f = t->arg;
	unsigned long span = f->nr_vmas * PAGE_SIZE;
	uint64_t rng = FIND_VMA_SEED + t->id;
	unsigned long long ops = 0;

	while (!bench_should_stop(t)) {
		if (lookup_batch(f->mm, span, &rng)) {
			t->error = -EFAULT;
			break;
		}
		ops += FIND_VMA_BATCH;
	}
	return ops;
}

static int find_vma_side(const struct bench_opts *o, struct find_vma_mm *f,
			 double seconds)
{
	int err = bench_run_threads(o->cpus, seconds, find_vma_loop, f,
				    &f->tally);

	if (err)
		fprintf(stderr, "mmsim bench find_vma: %lu VMAs: %s\n",
			f->nr_vmas, err == -EFAULT ?
			"find_vma() returned the wrong VMA" : strerror(-err));
	return err;
}

/* Rounds alternate which size goes first, against drift. */
static int find_vma_rounds(const struct bench_opts *o, struct find_vma_mm *f)
{
	double slice = o->seconds / BENCH_ROUNDS;
	int r, first, err = 0;

	for (r = 0; r < BENCH_ROUNDS && !err; r++) {
		first = r & 1;
		err = find_vma_side(o, &f[first], slice);
		if (!err)
			err = find_vma_side(o, &f[!first], slice);
		bench_progress();
	}
	bench_progress_done();
	return err;
}

static double ns_per_lookup(const struct find_vma_mm *f, unsigned int cpus)
{
	return f->tally.ops ? f->tally.seconds * cpus * 1e9 / f->tally.ops : 0;
}

static void find_vma_report(const struct bench_opts *o,
			    const struct find_vma_mm *f)
{
	struct bench_result res = {
		.workload = "find_vma", .strategy = o->strategy,
		.cpus = o->cpus,
	};
	int i;

	for (i = 0; i < 2; i++) {
		res.seconds = f[i].tally.seconds;
		res.ops = f[i].tally.ops;
		res.vmas = f[i].nr_vmas;
		bench_report(o, &res);
	}
	bench_report_ratio(o, "65530/10 VMAs",
			   ns_per_lookup(&f[1], o->cpus),
			   ns_per_lookup(&f[0], o->cpus));
}

int bench_find_vma(const struct bench_opts *opts)
{
	struct find_vma_mm f[2] = {
		{ .nr_vmas = FIND_VMA_SMALL }, { .nr_vmas = FIND_VMA_BIG },
	};
	int err = -1;

	f[0].mm = find_vma_build(opts, f[0].nr_vmas);
	f[1].mm = find_vma_build(opts, f[1].nr_vmas);
	if (f[0].mm && f[1].mm)
		err = find_vma_rounds(opts, f);
	mmput(f[0].mm);
	mmput(f[1].mm);
	if (err)
		return 1;
	find_vma_report(opts, f);
	return 0;
}
