// SPDX-License-Identifier: MIT
/*
 * The shared-memory part of `mmsim stress`: each chaos CPU now and then
 * runs one life of a shared anonymous region (a shmem file) in a window
 * of its own, and checks every byte of it:
 *
 *   mmap(MAP_SHARED)      one VMA, one file
 *   fill                  a pattern in every page (the file's pages)
 *   mprotect(middle, RWX) split: three VMAs of the file (__vma_adjust
 *                         under the file's i_mmap_rwsem, all on i_mmap)
 *   3 times:
 *     MADV_REMOVE(hole)   shmem_punch_hole -> unmap_mapping_range: every
 *                         VMA of the file zapped under i_mmap_rwsem,
 *                         vm_sequence written inside it (race 2's order)
 *     refill part of the hole, check: zeros in the rest of the hole, the
 *                         pattern elsewhere
 *   mprotect(RW) (merge), maybe mremap elsewhere
 *   MADV_REMOVE(all), check zeros, munmap
 *
 * From the first fill to the munmap the region is published, as scratch
 * regions are, but for the refills and the move: the other chaos CPUs
 * read it (shmem_race) while its owner splits, punches and merges it, and
 * must read its pattern or zeros, never a signal, poison or other data;
 * their TLBs hold its pages, which only the punch's shootdowns take away
 * (a punch whose zap flushed only the local TLB was caught in three of
 * four 10-second runs, seeds 1-4, 4 CPUs: a reader read poison).
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
#include <stdlib.h>
#include <string.h>

#include <mmsim/cpu.h>
#include <mmsim/mm.h>

#include "stress_internal.h"

#define SHMEM_MAGIC		0x4d454853u
/* 1.5 TiB: between the scratch windows and mmap_base. */
#define SHMEM_BASE		(3UL << 39)
#define SHMEM_WINDOW		(16UL << 20)
#define SHMEM_MIN_PAGES		8
#define SHMEM_MAX_PAGES		64
#define SHMEM_PUNCHES		3
/* Splits the VMA and leaves it writable. */
#define SHMEM_SPLIT_PROT	(PROT_READ | PROT_WRITE | PROT_EXEC)

struct shmem_life {
	unsigned long addr, npages;
	uint32_t gen;
	bool filled[SHMEM_MAX_PAGES];	/* holds gen's pattern; else zeros */
};

/*
 * A chaos CPU's region as the others see it (struct stress_pub: the
 * owner writes the rest only while it is not published).
 */
struct shmem_pub {
	_Alignas(64) struct stress_pub pub;
	unsigned int owner;		/* the owner's stress CPU index */
	unsigned long addr, npages;
	uint32_t gen;
};

int stress_shmem_alloc(struct stress *s)
{
	s->shmem = stress_calloc_lines(s->nchaos, sizeof(*s->shmem));
	return s->shmem ? 0 : -1;
}

static struct shmem_pub *shmem_pub_of(struct stress_cpu *c)
{
	return &c->s->shmem[c->idx - c->s->nworkers];
}

static void shmem_publish(struct stress_cpu *c, struct shmem_life *l)
{
	struct shmem_pub *pub = shmem_pub_of(c);

	pub->owner = c->idx;
	pub->addr = l->addr;
	pub->npages = l->npages;
	pub->gen = l->gen;
	stress_publish(&pub->pub);
}

static void shmem_unpublish(struct stress_cpu *c)
{
	stress_unpublish(&shmem_pub_of(c)->pub);
}

static unsigned long shmem_slot_of(unsigned int owner, unsigned long addr,
				   unsigned long page)
{
	return addr + (page << PAGE_SHIFT) + ((owner + page) % 200) * 16;
}

static unsigned long shmem_slot(struct stress_cpu *c, unsigned long addr,
				unsigned long page)
{
	return shmem_slot_of(c->idx, addr, page);
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
	unsigned long ret;

	/* Readers are kept out while the region moves: then it is gone. */
	shmem_unpublish(c);
	ret = sys_mremap(c->s->mm, l->addr, len, len,
			 MREMAP_MAYMOVE | MREMAP_FIXED, dst);
	if (ret != dst) {
		shmem_publish(c, l);
		return check_ret(c, "mremap(shmem)", l->addr, len,
				 IS_ERR_VALUE(ret) ? (long)ret : -EINVAL,
				 OK_ENOMEM);
	}
	c->st.syscalls++;
	l->addr = dst;
	shmem_publish(c, l);
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
	shmem_publish(c, &l);
	/* Still writable (so holes can be refilled), but another VMA. */
	shmem_middle(c, &l, &first, &n);
	ok = ok && shmem_protect(c, &l, first, n, SHMEM_SPLIT_PROT);
	for (int i = 0; i < SHMEM_PUNCHES && ok; i++) {
		shmem_middle(c, &l, &first, &n);
		ok = shmem_remove(c, &l, first, n);
		/* Stores only unpublished: readers' loads would race them. */
		shmem_unpublish(c);
		for (unsigned long p = first; p < first + n && ok; p++)
			if (rng_below(&c->rng, 2))
				ok = shmem_store(c, &l, p);
		ok = ok && shmem_check(c, &l, "refill");
		shmem_publish(c, &l);
	}
	ok = ok && shmem_protect(c, &l, 0, l.npages, PROT_READ | PROT_WRITE);
	if (ok && rng_below(&c->rng, 2))
		ok = shmem_move(c, &l, window);
	ok = ok && shmem_remove(c, &l, 0, l.npages);
	shmem_unpublish(c);
	check_ret(c, "munmap(shmem)", l.addr, len,
		  sys_munmap(c->s->mm, l.addr, len), 0);
}

/* What another CPU may read in a published region: see the top. */
static void shmem_verify(struct stress_cpu *c, unsigned int owner,
			 uint32_t gen, unsigned long addr, unsigned long page,
			 int sig, const struct stress_pattern *got)
{
	char g[96];

	if (!sig && (pattern_is_zero(got) ||
		     (got->magic == SHMEM_MAGIC && got->owner == owner &&
		      got->page == page && got->seq == gen)))
		return;
	if (sig) {
		stress_fail(c, "load at %#lx (CPU %u's shmem page %lu) got %s",
			    addr, owner, page, sig_name(sig));
		return;
	}
	pattern_str(got, g, sizeof(g));
	stress_fail(c, "%s at %#lx (CPU %u's shmem page %lu, life %u): read %s",
		    pattern_is_poison(got) ?
		    "poison: read a freed frame (use after free)" :
		    "foreign or stale data (stale translation after a hole "
		    "punch, or use after free)",
		    addr, owner, page, gen, g);
}

/*
 * Read another chaos CPU's published shared region while its owner
 * splits it and punches holes in it; a few pages at a time, so that they
 * stay in this CPU's TLB across the punch.
 */
void shmem_race(struct stress_cpu *c)
{
	struct stress *s = c->s;
	struct shmem_pub *pub = &s->shmem[rng_below(&c->rng, s->nchaos)];
	unsigned int n = 1 + rng_below(&c->rng, 256);
	unsigned long hot = rng_below(&c->rng, SHMEM_MAX_PAGES);

	while (n-- && !stopping(c)) {
		struct stress_pattern got = { 0 };
		unsigned long addr, page;
		unsigned int owner;
		uint32_t gen;
		int sig;

		if (!stress_read_begin(&pub->pub))
			return;
		owner = pub->owner;
		gen = pub->gen;
		page = (hot + rng_below(&c->rng, 2)) % pub->npages;
		addr = shmem_slot_of(owner, pub->addr, page);
		sig = mmsim_load(addr, &got, sizeof(got));
		stress_read_end(&pub->pub);
		c->st.loads++;
		shmem_verify(c, owner, gen, addr, page, sig, &got);
	}
}
