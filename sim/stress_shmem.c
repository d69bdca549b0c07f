// SPDX-License-Identifier: MIT
/*
 * The shared-memory part of `mmsim stress`: each chaos CPU now and then
 * runs one life of a shared anonymous region (a shmem file) in a window
 * of its own, and checks every byte of it:
 *
 *   mmap(MAP_SHARED)      one VMA, one file
 *   fill                  a pattern in every page (the file's pages)
 *   mprotect(middle, RO)  split: three VMAs of the file (__vma_adjust
 *                         under the file's i_mmap_rwsem, all on i_mmap)
 *   MADV_REMOVE(hole)     shmem_punch_hole -> unmap_mapping_range: every
 *                         VMA of the file zapped under i_mmap_rwsem,
 *                         vm_sequence written inside it (race 2's order)
 *   check                 zeros in the hole, the pattern elsewhere
 *   refill the hole, mprotect(RW) (merge), maybe mremap elsewhere
 *   MADV_REMOVE(all), check zeros, munmap
 *
 * Other CPUs fork meanwhile (the child's copies of the VMAs go on i_mmap
 * too, and the punch zaps them), and change their own VMAs.  A stale PTE
 * or TLB entry after the punch reads a freed frame (poison) or the old
 * pattern; a split or merge that enters vm_sequence before i_mmap_rwsem
 * (the mutant seq-before-mapping-lock) makes lockdep report the AB-BA
 * order against the punch's zap, as it did for the series.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include <mmsim/mm.h>

#include "stress_internal.h"

#define SHMEM_MAGIC		0x4d454853u
/* 1.5 TiB: between the scratch windows and mmap_base. */
#define SHMEM_BASE		(3UL << 39)
#define SHMEM_WINDOW		(16UL << 20)
#define SHMEM_MIN_PAGES		8
#define SHMEM_MAX_PAGES		64

struct shmem_life {
	unsigned long addr, npages;
	uint32_t gen;
	bool filled[SHMEM_MAX_PAGES];	/* holds gen's pattern; else zeros */
};

static unsigned long shmem_slot(struct stress_cpu *c, unsigned long addr,
				unsigned long page)
{
	return addr + (page << PAGE_SHIFT) + ((c->idx + page) % 200) * 16;
}

static struct stress_pattern shmem_pattern(struct stress_cpu *c,
					   struct shmem_life *l,
					   unsigned long page)
{
	return (struct stress_pattern){
		.magic = SHMEM_MAGIC, .owner = c->idx, .page = page,
		.cpu = c->cpu, .seq = l->gen,
	};
}

static bool shmem_store(struct stress_cpu *c, struct shmem_life *l,
			unsigned long page)
{
	struct stress_pattern pat = shmem_pattern(c, l, page);
	int sig = mmsim_store(shmem_slot(c, l->addr, page), &pat, sizeof(pat));

	c->st.stores++;
	if (sig) {
		stress_fail(c, "store at %#lx (shmem page %lu) got %s",
			    shmem_slot(c, l->addr, page), page, sig_name(sig));
		return false;
	}
	l->filled[page] = true;
	return true;
}

/* Every page holds its pattern, or zeros where a hole was punched. */
static bool shmem_check(struct stress_cpu *c, struct shmem_life *l,
			const char *after)
{
	for (unsigned long p = 0; p < l->npages && !stopping(c); p++) {
		struct stress_pattern want = shmem_pattern(c, l, p), got;
		unsigned long addr = shmem_slot(c, l->addr, p);
		int sig = mmsim_load(addr, &got, sizeof(got));
		char g[96];

		c->st.loads++;
		if (sig) {
			stress_fail(c, "load at %#lx (shmem page %lu, after %s) "
				    "got %s", addr, p, after, sig_name(sig));
			return false;
		}
		if (l->filled[p] ? !memcmp(&got, &want, sizeof(got)) :
				   pattern_is_zero(&got))
			continue;
		pattern_str(&got, g, sizeof(g));
		stress_fail(c, "%s at %#lx (shmem page %lu, after %s): read %s, "
			    "expected %s",
			    pattern_is_poison(&got) ?
			    "poison: read a freed frame (use after free)" :
			    "wrong data", addr, p, after, g,
			    l->filled[p] ? "its pattern" : "zeros (a hole)");
		return false;
	}
	return true;
}

static bool shmem_remove(struct stress_cpu *c, struct shmem_life *l,
			 unsigned long first, unsigned long n)
{
	unsigned long start = l->addr + (first << PAGE_SHIFT);
	long ret = sys_madvise(c->s->mm, start, n << PAGE_SHIFT, MADV_REMOVE);

	if (!check_ret(c, "madvise(MADV_REMOVE)", start, n << PAGE_SHIFT,
		       ret, 0))
		return false;
	for (unsigned long p = first; p < first + n; p++)
		l->filled[p] = false;
	return shmem_check(c, l, "MADV_REMOVE");
}

static bool shmem_protect(struct stress_cpu *c, struct shmem_life *l,
			  unsigned long first, unsigned long n, int prot)
{
	unsigned long start = l->addr + (first << PAGE_SHIFT);

	return check_ret(c, "mprotect", start, n << PAGE_SHIFT,
			 sys_mprotect(c->s->mm, start, n << PAGE_SHIFT, prot),
			 OK_ENOMEM);
}

/* Move the whole region to the other half of the window (same file). */
static bool shmem_move(struct stress_cpu *c, struct shmem_life *l,
		       unsigned long window)
{
	unsigned long len = l->npages << PAGE_SHIFT;
	unsigned long dst = l->addr == window ? window + SHMEM_WINDOW / 2
					      : window;
	unsigned long ret = sys_mremap(c->s->mm, l->addr, len, len,
				       MREMAP_MAYMOVE | MREMAP_FIXED, dst);

	if (ret != dst)
		return check_ret(c, "mremap(shmem)", l->addr, len,
				 IS_ERR_VALUE(ret) ? (long)ret : -EINVAL,
				 OK_ENOMEM);
	c->st.syscalls++;
	l->addr = dst;
	return shmem_check(c, l, "mremap");
}

/* A subrange that leaves at least the first and the last page out. */
static void shmem_middle(struct stress_cpu *c, struct shmem_life *l,
			 unsigned long *first, unsigned long *n)
{
	*first = 1 + rng_below(&c->rng, l->npages - 2);
	*n = 1 + rng_below(&c->rng, l->npages - 1 - *first);
}

/* One life of a shared region; every step checked (see the top). */
void shmem_op(struct stress_cpu *c)
{
	unsigned long window = SHMEM_BASE + c->idx * SHMEM_WINDOW;
	struct shmem_life l = {
		.addr = window,
		.npages = SHMEM_MIN_PAGES +
			  rng_below(&c->rng, SHMEM_MAX_PAGES - SHMEM_MIN_PAGES),
		.gen = ++c->shmem_gen,
	};
	unsigned long len = l.npages << PAGE_SHIFT, first, n, ret;
	bool ok = true;

	ret = sys_mmap(c->s->mm, l.addr, len, PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS | MAP_FIXED, NULL, 0);
	if (ret != l.addr) {
		check_ret(c, "mmap(MAP_SHARED)", l.addr, len,
			  IS_ERR_VALUE(ret) ? (long)ret : -EINVAL, OK_ENOMEM);
		return;
	}
	c->st.syscalls++;
	for (unsigned long p = 0; p < l.npages && ok; p++)
		ok = shmem_store(c, &l, p);
	shmem_middle(c, &l, &first, &n);
	ok = ok && shmem_protect(c, &l, first, n, PROT_READ);
	shmem_middle(c, &l, &first, &n);
	ok = ok && shmem_remove(c, &l, first, n);
	ok = ok && shmem_protect(c, &l, 0, l.npages, PROT_READ | PROT_WRITE);
	for (unsigned long p = first; p < first + n && ok; p++)
		if (rng_below(&c->rng, 2))
			ok = shmem_store(c, &l, p);
	ok = ok && shmem_check(c, &l, "refill");
	if (ok && rng_below(&c->rng, 2))
		ok = shmem_move(c, &l, window);
	ok = ok && shmem_remove(c, &l, 0, l.npages);
	check_ret(c, "munmap(shmem)", l.addr, len,
		  sys_munmap(c->s->mm, l.addr, len), 0);
}
