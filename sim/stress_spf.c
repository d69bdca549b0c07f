// SPDX-License-Identifier: MIT
/*
 * The speculative-fault part of `mmsim stress`: SPF regions, written by
 * the worker CPUs while chaos CPUs change the very VMAs they fault in,
 * and seeded random delays inside the race windows of the speculative
 * fault (the scheduling hook, <mmsim/sched.h>).
 *
 * An SPF region is a VMA of private anonymous memory in an 8 MiB window
 * of its own, far from everything else; the workers use its first 128
 * pages.  Even regions share their PTE table with an anchor page:
 *
 *   window (the first PMD: one PTE table, one PTE lock)
 *   |--- half A: region ---|....|--- half B ---|......|anchor|....
 *   0                           1 MiB                 2 MiB - 4 KiB
 *
 * The anchor page keeps the PTE table alive through munmap and mremap,
 * and set-up populates the region, so that the VMA has its anon_vma and
 * the PMD exists: a fault there goes speculative (a first fault in a
 * fresh VMA, with no anon_vma, does not).  Odd regions ("table regions")
 * are a whole PTE table each, 2 MiB aligned, so that MADV_DONTNEED of the
 * whole VMA empties and frees the table (pt_reclaim) under the
 * speculative faults that walked to it, munmap frees it, and mremap to
 * the other half leaves the old range without tables:
 *
 *   |==== half A: region, one PTE table ====|.......|==== half B ====|...
 *   0                                       2 MiB   4 MiB            6 MiB
 *
 * A speculative walk that allocated tables (the mutant spf-pte-alloc)
 * would hang one there, under no VMA, which the stress run reports.
 * Every worker writes its own 16-byte slot of each page; all workers
 * share the pages, so that their faults race for the same PTEs.
 *
 * One chaos CPU at a time (the region's mutator) changes the region:
 * mprotect of the whole VMA to read-only or back (neither split nor
 * merged: vm_sequence alone tells a speculative fault), mprotect of a
 * part, MADV_DONTNEED of a part, munmap and a fresh mmap in place, mremap
 * to the other half.  Half the workers' bursts go to the pages the last
 * change touched.  The mutator brackets each change with the region's
 * epoch (odd while changing), like a seqcount.  A worker reads the epoch
 * before and after each access:
 *
 *   worker                       mutator
 *   e1 = epoch  (even)
 *   store/load through the MMU   epoch++ (odd); mprotect(RO); epoch++
 *   e2 = epoch
 *
 * e1 == e2, even: nothing changed during the access, so the outcome is
 * certain: a store to a page made read-only by an mprotect that returned
 * must get SIGSEGV (a stale writable PTE or TLB entry otherwise), a store
 * to a writable page and every load must succeed, and a load must read
 * exactly what the data says (below).  Otherwise SIGSEGV is allowed, and
 * a load may read its last write or zeros.
 *
 * What a page must hold: each worker remembers its last successful store
 * to each page with the epochs around it [lo, hi]; the mutator records
 * in zapped_at[page] the (odd) epoch of the last change that zeroed the
 * page (MADV_DONTNEED, munmap).  A zap that began after the store ended
 * (zapped_at > hi) leaves zeros; one that ended before it began
 * (zapped_at < lo) leaves the store's pattern; one that overlapped leaves
 * either.  Poison, another page's pattern or an older write of ours is
 * always a FAILURE.
 */
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <mmsim/cpu.h>
#include <mmsim/mm.h>
#include <mmsim/pgtable.h>
#include <mmsim/sched.h>

#include "stress_internal.h"

#define SPF_PAGES		128	/* two mmu_gather batches */
#define SPF_LEN			(SPF_PAGES * PAGE_SIZE)
/* 512 GiB: below the scratch windows, far below mmap_base. */
#define SPF_BASE		(1UL << 39)
#define SPF_WINDOW		(4 * PMD_SIZE)
/* An even region: both halves and the anchor in the first PTE table. */
#define SPF_HALF		(PMD_SIZE / 2)
#define SPF_ANCHOR		(PMD_SIZE - PAGE_SIZE)
/* A table region: the VMA is one whole PTE table, in either half. */
#define SPF_TABLE_LEN		PMD_SIZE
#define SPF_TABLE_HALF		(SPF_WINDOW / 2)
/* One MADV_DONTNEED in this many is of the whole VMA. */
#define SPF_DONTNEED_ALL	3
#define SPF_BURST_MIN		32	/* accesses of a worker's burst */
#define SPF_BURST_RANGE		96
#define SPF_HOT_PAGES		8	/* pages a burst keeps to */
/* The slot of no writer (there are fewer than NR_CPUS). */
#define SPF_GUARD		(PAGE_SIZE / sizeof(struct stress_pattern) - 1)
/* The first epoch: even, and above every zapped_at of set-up (0). */
#define SPF_EPOCH0		2

/* Changes of a region remembered, for the report of a failure. */
#define SPF_HISTORY		8

_Static_assert(SPF_GUARD >= NR_CPUS, "the guard slot is nobody's");
_Static_assert(SPF_HALF >= SPF_LEN, "a region fits in half a window");
_Static_assert(SPF_HALF + SPF_LEN <= SPF_ANCHOR, "the anchor stands apart");
_Static_assert(SPF_TABLE_HALF >= 2 * SPF_TABLE_LEN,
	       "the halves of a table region share no table");
_Static_assert(SPF_TABLE_LEN >= SPF_LEN, "a table region has the pages");

enum spf_op {
	SPF_MPROTECT_RO, SPF_MPROTECT_RW, SPF_DONTNEED, SPF_REMAP, SPF_MOVE,
};

static const char *const spf_op_names[] = {
	[SPF_MPROTECT_RO] = "mprotect(PROT_READ)",
	[SPF_MPROTECT_RW] = "mprotect(PROT_READ|PROT_WRITE)",
	[SPF_DONTNEED] = "madvise(MADV_DONTNEED)",
	[SPF_REMAP] = "munmap+mmap",
	[SPF_MOVE] = "mremap(MREMAP_FIXED)",
};

/* One change: epoch, op, pages [first, first + n), base before it. */
struct spf_change {
	atomic_uint epoch, op;
	atomic_ulong first, n, base;
};

struct spf_region {
	_Alignas(64) atomic_uint epoch;	/* odd while the mutator changes it */
	atomic_int mutator;		/* -1, or the chaos CPU changing it */
	unsigned int id;
	unsigned long window;
	unsigned long len;		/* of the VMA: SPF_LEN or a PTE table */
	unsigned long half;		/* from one half to the other */
	/* Written by the mutator at odd epochs only. */
	atomic_ulong base;
	atomic_uchar ro[SPF_PAGES];	/* mprotect()ed read-only */
	atomic_uint zapped_at[SPF_PAGES]; /* epoch of the last zeroing */
	atomic_ulong hot;		/* first page of the last change */
	/* The mutator's: a part was mprotect()ed, the region is split. */
	bool split;
	struct spf_change history[SPF_HISTORY];
};

/* A worker's last successful store to one page of one region. */
struct spf_expect {
	struct stress_pattern pat;	/* magic 0: the page holds zeros */
	unsigned int lo, hi;		/* the epochs before and after it */
};

struct spf_writer {
	unsigned int id;		/* 0 .. nworkers - 1: its slot */
	uint32_t seq;
	struct spf_expect expect[];	/* [nspf][SPF_PAGES] */
};

/* --- slots and expectations ------------------------------------------------ */

/* Distinct for each writer of a page (writers < slots per page). */
static unsigned long spf_slot(unsigned int region, unsigned long page,
			      unsigned int writer)
{
	const unsigned long slots = PAGE_SIZE / sizeof(struct stress_pattern);

	return ((region * 5 + page * 11 + writer) % slots) *
	       sizeof(struct stress_pattern);
}

static struct spf_expect *spf_expect(struct spf_writer *w,
				     struct spf_region *r, unsigned long page)
{
	return &w->expect[r->id * SPF_PAGES + page];
}

static unsigned int spf_epoch(struct spf_region *r)
{
	return atomic_load_explicit(&r->epoch, memory_order_seq_cst);
}

static unsigned long spf_base(struct spf_region *r)
{
	return atomic_load_explicit(&r->base, memory_order_relaxed);
}

static bool spf_quiet(unsigned int e1, unsigned int e2)
{
	return e1 == e2 && !(e1 & 1);
}

/* Name what a worker read instead of what it expected, or NULL if fine. */
static const char *spf_mismatch(const struct spf_writer *w,
				const struct spf_region *r, unsigned long page,
				const struct spf_expect *x,
				const struct stress_pattern *got,
				bool zero_ok, bool pat_ok)
{
	if (pattern_is_zero(got))
		return zero_ok ? NULL : "lost write or stale translation: "
			"the page reads as zeros";
	if (pat_ok && !memcmp(got, &x->pat, sizeof(*got)))
		return NULL;
	if (pattern_is_poison(got))
		return "poison: read a freed frame (use after free)";
	if (got->magic != SPF_MAGIC)
		return got->magic == CHILD_MAGIC ?
		       "a forked child's write is visible in the parent" :
		       "garbage or foreign data";
	if (got->owner != r->id || got->page != page || got->cpu != w->id)
		return "foreign data: another page's frame (stale "
		       "translation or use after free)";
	if (!pat_ok)
		return "stale data where zeros were expected (a stale "
		       "translation after MADV_DONTNEED or munmap?)";
	if (got->seq < x->pat.seq)
		return "stale data: an older write (lost write or stale "
		       "translation)";
	return "wrong data";
}

/*
 * What the region went through lately, for whoever debugs a failure: the
 * store's epochs, the last zeroing of the page, the last changes.
 */
static void spf_report_history(struct spf_region *r,
			       const struct spf_expect *x, bool quiet,
			       unsigned int zapped)
{
	static atomic_int reported;
	unsigned int now = spf_epoch(r);

	if (atomic_exchange(&reported, 1))
		return;
	fprintf(stderr, "mmsim stress: SPF region %u at epoch %u; the load %s; "
		"the last store between epochs %u and %u; the page last "
		"zeroed at epoch %u; the last changes:\n", r->id, now,
		quiet ? "saw no change" : "overlapped a change", x->lo, x->hi,
		zapped);
	for (unsigned int i = 0; i < SPF_HISTORY; i++) {
		const struct spf_change *h = &r->history[i];
		unsigned int epoch = atomic_load_explicit(&h->epoch,
							  memory_order_acquire);

		if (!epoch)
			continue;
		fprintf(stderr, "  epoch %u: %s of pages %lu..%lu at %#lx\n",
			epoch, spf_op_names[atomic_load(&h->op)],
			atomic_load(&h->first),
			atomic_load(&h->first) + atomic_load(&h->n) - 1,
			atomic_load(&h->base));
	}
}

/*
 * Check what a load of page found at the worker's slot.  quiet: no change
 * overlapped the load; zapped: zapped_at[page] read inside it.
 */
static void spf_verify(struct stress_cpu *c, struct spf_writer *w,
		       struct spf_region *r, unsigned long page, bool quiet,
		       unsigned int zapped, const struct stress_pattern *got)
{
	const struct spf_expect *x = spf_expect(w, r, page);
	bool zero_ok = true, pat_ok = x->pat.magic != 0;
	const char *what;
	char want[112], g[96];

	if (quiet && pat_ok) {
		if (zapped > x->hi)
			pat_ok = false;		/* zeroed after the store */
		else if (zapped < x->lo)
			zero_ok = false;	/* zeroed before the store */
	}
	what = spf_mismatch(w, r, page, x, got, zero_ok, pat_ok);
	if (!what)
		return;
	if (pat_ok) {
		pattern_str(&x->pat, g, sizeof(g));
		snprintf(want, sizeof(want), "%s%s", zero_ok ? "zeros or " : "",
			 g);
	} else {
		snprintf(want, sizeof(want), "zeros");
	}
	pattern_str(got, g, sizeof(g));
	stress_fail(c, "%s at %#lx (SPF region %u page %lu, writer %u%s): "
		    "expected %s, read %s", what,
		    spf_base(r) + (page << PAGE_SHIFT) +
		    spf_slot(r->id, page, w->id), r->id, page, w->id,
		    atomic_load(&r->ro[page]) ? ", read-only" : "", want, g);
	spf_report_history(r, x, quiet, zapped);
}

/*
 * A guard slot, which no writer uses, must read zeros.  (The whole page
 * cannot be read: the other workers write their slots of it meanwhile,
 * and a load racing with them would be a data race of the simulated
 * program, reported by TSan.)
 */
static void spf_check_guard(struct stress_cpu *c, struct spf_region *r,
			    unsigned long page, unsigned long addr,
			    unsigned int e1)
{
	unsigned long off = spf_slot(r->id, page, SPF_GUARD);
	struct stress_pattern p;
	int sig;

	sig = mmsim_load(addr + off, &p, sizeof(p));
	if (sig == SIGSEGV && !spf_quiet(e1, spf_epoch(r)))
		return;
	if (sig) {
		stress_fail(c, "load at %#lx (SPF region %u page %lu, no "
			    "change in progress) got %s", addr + off, r->id,
			    page, sig_name(sig));
		return;
	}
	if (!pattern_is_zero(&p))
		stress_fail_not_zero(c, &p, addr + off, off, "SPF region",
				     r->id, page);
}

/* --- the workers' accesses --------------------------------------------------- */

/* Load the worker's slot of page (and a guard slot) and check them. */
static void spf_load(struct stress_cpu *c, struct spf_writer *w,
		     struct spf_region *r, unsigned long page, bool guard)
{
	unsigned long slot = spf_slot(r->id, page, w->id), addr;
	struct stress_pattern got;
	unsigned int e1, e2, zapped;
	bool quiet;
	int sig;

	e1 = spf_epoch(r);
	addr = spf_base(r) + (page << PAGE_SHIFT);
	sig = mmsim_load(addr + slot, &got, sizeof(got));
	zapped = atomic_load_explicit(&r->zapped_at[page],
				      memory_order_relaxed);
	e2 = spf_epoch(r);
	quiet = spf_quiet(e1, e2);
	c->st.spf_ops++;
	c->st.spf_strict += quiet;
	if (sig) {
		if (sig != SIGSEGV || quiet)
			stress_fail(c, "load at %#lx (SPF region %u page %lu, "
				    "no change in progress) got %s",
				    addr + slot, r->id, page, sig_name(sig));
		return;
	}
	spf_verify(c, w, r, page, quiet, zapped, &got);
	if (guard)
		spf_check_guard(c, r, page, addr, e1);
}

static void spf_store(struct stress_cpu *c, struct spf_region *r,
		      unsigned long page)
{
	struct spf_writer *w = c->spf;
	struct stress_pattern pat = {
		.magic = SPF_MAGIC, .owner = r->id, .page = page,
		.cpu = w->id, .seq = w->seq + 1,
	};
	unsigned long addr;
	unsigned int e1, e2;
	bool ro;
	int sig;

	e1 = spf_epoch(r);
	addr = spf_base(r) + (page << PAGE_SHIFT) + spf_slot(r->id, page, w->id);
	ro = atomic_load_explicit(&r->ro[page], memory_order_relaxed);
	sig = mmsim_store(addr, &pat, sizeof(pat));
	e2 = spf_epoch(r);
	c->st.spf_ops++;
	if (sig && sig != SIGSEGV) {
		stress_fail(c, "store at %#lx (SPF region %u page %lu) got %s",
			    addr, r->id, page, sig_name(sig));
		return;
	}
	if (spf_quiet(e1, e2)) {
		c->st.spf_strict++;
		if (ro && !sig)
			stress_fail(c, "store to a read-only page at %#lx (SPF "
				    "region %u page %lu) succeeded after "
				    "mprotect returned: a writable PTE or TLB "
				    "entry survived it", addr, r->id, page);
		else if (!ro && sig)
			stress_fail(c, "store at %#lx (SPF region %u page %lu, "
				    "writable, no change in progress) got %s",
				    addr, r->id, page, sig_name(sig));
	}
	if (!sig) {
		struct spf_expect *x = spf_expect(w, r, page);

		w->seq++;
		x->pat = pat;
		x->lo = e1;
		x->hi = e2;
	}
}

/*
 * A burst of accesses to a few pages of one region: they stay in this
 * CPU's TLB, and the other workers' bursts fault on the same PTEs.  Half
 * the bursts go where the last change was, so that the workers fault
 * together on the PTEs it just changed, while the next change comes.
 */
void spf_writer_burst(struct stress_cpu *c)
{
	struct stress *s = c->s;
	unsigned int n = SPF_BURST_MIN + rng_below(&c->rng, SPF_BURST_RANGE);
	struct spf_region *r;
	unsigned long hot;

	if (rng_below(&c->rng, 2)) {
		r = &s->spf[atomic_load_explicit(&s->spf_last,
						 memory_order_relaxed)];
		hot = atomic_load_explicit(&r->hot, memory_order_relaxed);
	} else {
		r = &s->spf[rng_below(&c->rng, s->nspf)];
		hot = rng_below(&c->rng, SPF_PAGES);
	}

	while (n-- && !stopping(c)) {
		unsigned long page = (hot + rng_below(&c->rng, SPF_HOT_PAGES)) %
				     SPF_PAGES;

		if (rng_below(&c->rng, 100) < 55)
			spf_store(c, r, page);
		else
			spf_load(c, c->spf, r, page,
				 rng_below(&c->rng, 8) == 0);
	}
}

/* --- the mutator's changes ----------------------------------------------------- */

/* Remember a change (the epoch is odd: it is under way). */
static void spf_record(struct spf_region *r, enum spf_op op,
		       unsigned long first, unsigned long n)
{
	unsigned int epoch = atomic_load_explicit(&r->epoch,
						  memory_order_relaxed);
	struct spf_change *h = &r->history[(epoch / 2) % SPF_HISTORY];

	atomic_store_explicit(&h->op, op, memory_order_relaxed);
	atomic_store_explicit(&h->first, first, memory_order_relaxed);
	atomic_store_explicit(&h->n, n, memory_order_relaxed);
	atomic_store_explicit(&h->base, spf_base(r), memory_order_relaxed);
	atomic_store_explicit(&h->epoch, epoch, memory_order_release);
}

/* A few pages most of the time, up to the rest of the region. */
static void spf_subrange(struct stress_cpu *c, struct spf_region *r,
			 unsigned long *first, unsigned long *n)
{
	unsigned long max;

	*first = rng_below(&c->rng, SPF_PAGES);
	max = SPF_PAGES - *first;
	if (max > SPF_HOT_PAGES && rng_below(&c->rng, 4))
		max = SPF_HOT_PAGES;
	*n = 1 + rng_below(&c->rng, max);
	atomic_store_explicit(&r->hot, *first, memory_order_relaxed);
}

/*
 * Pages [first, first + n) read-only or writable (splits, merges), and
 * with them the rest of the len bytes from page first (the whole VMA).
 */
static void spf_mprotect(struct stress_cpu *c, struct spf_region *r,
			 unsigned long first, unsigned long n,
			 unsigned long len, bool ro)
{
	unsigned long start = spf_base(r) + (first << PAGE_SHIFT);

	spf_record(r, ro ? SPF_MPROTECT_RO : SPF_MPROTECT_RW, first, n);
	for (unsigned long p = first; p < first + n; p++)
		atomic_store_explicit(&r->ro[p], ro, memory_order_relaxed);
	check_ret(c, "mprotect", start, len,
		  sys_mprotect(c->s->mm, start, len,
			       ro ? PROT_READ : PROT_READ | PROT_WRITE), 0);
}

static void spf_zapped(struct spf_region *r, unsigned long first,
		       unsigned long n)
{
	unsigned int epoch = atomic_load_explicit(&r->epoch,
						  memory_order_relaxed);

	for (unsigned long p = first; p < first + n; p++)
		atomic_store_explicit(&r->zapped_at[p], epoch,
				      memory_order_relaxed);
}

/*
 * MADV_DONTNEED of a few pages, or of the whole VMA: in a table region
 * (not split), that empties the PTE table, which the zap then frees.
 */
static void spf_dontneed(struct stress_cpu *c, struct spf_region *r)
{
	unsigned long first, n, start, len;

	if (!r->split && rng_below(&c->rng, SPF_DONTNEED_ALL) == 0) {
		first = 0;
		n = SPF_PAGES;
		len = r->len;
		atomic_store_explicit(&r->hot, rng_below(&c->rng, SPF_PAGES),
				      memory_order_relaxed);
	} else {
		spf_subrange(c, r, &first, &n);
		len = n << PAGE_SHIFT;
	}
	start = spf_base(r) + (first << PAGE_SHIFT);
	spf_record(r, SPF_DONTNEED, first, n);
	spf_zapped(r, first, n);
	check_ret(c, "madvise(MADV_DONTNEED)", start, len,
		  sys_madvise(c->s->mm, start, len, MADV_DONTNEED), 0);
}

/* munmap, then a fresh VMA in the same place: no anon_vma until a fault. */
static void spf_remap(struct stress_cpu *c, struct spf_region *r)
{
	unsigned long base = spf_base(r), ret;
	unsigned long flags = MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED;

	spf_record(r, SPF_REMAP, 0, SPF_PAGES);
	spf_zapped(r, 0, SPF_PAGES);
	for (unsigned long p = 0; p < SPF_PAGES; p++)
		atomic_store_explicit(&r->ro[p], 0, memory_order_relaxed);
	if (!check_ret(c, "munmap", base, r->len,
		       sys_munmap(c->s->mm, base, r->len), 0))
		return;
	/* Populated: the next zap fills a gather batch (flush under PTL). */
	if (rng_below(&c->rng, 2))
		flags |= MAP_POPULATE;
	ret = sys_mmap(c->s->mm, base, r->len, PROT_READ | PROT_WRITE, flags,
		       NULL, 0);
	c->st.syscalls++;
	if (ret != base)
		stress_fail(c, "syscall: mmap(MAP_FIXED, %#lx) of an SPF region "
			    "returned %#lx", base, ret);
}

/* mremap to the other half of the window; the data moves along. */
static void spf_move(struct stress_cpu *c, struct spf_region *r)
{
	unsigned long base = spf_base(r), dst, ret;

	dst = base == r->window ? r->window + r->half : r->window;
	spf_record(r, SPF_MOVE, 0, SPF_PAGES);
	ret = sys_mremap(c->s->mm, base, r->len, r->len,
			 MREMAP_MAYMOVE | MREMAP_FIXED, dst);
	if (ret == dst) {
		c->st.syscalls++;
		atomic_store_explicit(&r->base, dst, memory_order_relaxed);
		return;
	}
	/* -EFAULT: a part is read-only, the region is not one VMA. */
	check_ret(c, "mremap(MREMAP_FIXED) of an SPF region", base, r->len,
		  IS_ERR_VALUE(ret) ? (long)ret : -EINVAL, OK_EFAULT);
}

/*
 * Change one region under its workers, if no other chaos CPU is changing
 * it.  The epoch is odd from before the system call until after it.
 */
void spf_mutate(struct stress_cpu *c)
{
	struct stress *s = c->s;
	struct spf_region *r = &s->spf[rng_below(&c->rng, s->nspf)];
	unsigned long x = rng_below(&c->rng, 100), first, n;
	int none = -1;

	if (!atomic_compare_exchange_strong(&r->mutator, &none, (int)c->idx))
		return;
	atomic_fetch_add_explicit(&r->epoch, 1, memory_order_seq_cst);
	if (x < 25) {
		/*
		 * The whole VMA, neither split nor merged: vm_sequence is all
		 * that tells a speculative fault about it.
		 */
		atomic_store_explicit(&r->hot, rng_below(&c->rng, SPF_PAGES),
				      memory_order_relaxed);
		spf_mprotect(c, r, 0, SPF_PAGES, r->len,
			     !r->split && !atomic_load(&r->ro[0]));
		r->split = false;
	} else if (x < 40) {
		spf_subrange(c, r, &first, &n);
		spf_mprotect(c, r, first, n, n << PAGE_SHIFT,
			     rng_below(&c->rng, 2));
		r->split = true;
	} else if (x < 65) {
		spf_dontneed(c, r);
	} else if (x < 78) {
		spf_remap(c, r);
		r->split = false;
	} else {
		spf_move(c, r);
	}
	atomic_fetch_add_explicit(&r->epoch, 1, memory_order_seq_cst);
	atomic_store_explicit(&r->mutator, -1, memory_order_release);
	atomic_store_explicit(&s->spf_last, r->id, memory_order_relaxed);
	c->st.spf_changes++;
}

/* --- set-up and the final check --------------------------------------------- */

static int spf_map(struct stress *s, unsigned long addr, unsigned long len)
{
	unsigned long ret;

	ret = sys_mmap(s->mm, addr, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_POPULATE,
		       NULL, 0);
	if (ret == addr)
		return 0;
	snprintf(s->why, s->why_size, "set-up: mmap of an SPF region: %s",
		 IS_ERR_VALUE(ret) ? strerror((int)-(long)ret) : "misplaced");
	return -1;
}

/*
 * Map and populate the regions and the anchors of the even ones (so each
 * VMA has its anon_vma and each PMD its table), and give each worker its
 * records.
 */
int stress_spf_setup(struct stress *s)
{
	size_t wsize = sizeof(struct spf_writer) +
		       s->nspf * SPF_PAGES * sizeof(struct spf_expect);

	s->spf = aligned_alloc(64, s->nspf * sizeof(*s->spf));
	if (!s->spf)
		goto nomem;
	memset(s->spf, 0, s->nspf * sizeof(*s->spf));
	for (unsigned int i = 0; i < s->nspf; i++) {
		struct spf_region *r = &s->spf[i];

		bool table = i & 1;

		r->id = i;
		r->window = SPF_BASE + i * SPF_WINDOW;
		r->len = table ? SPF_TABLE_LEN : SPF_LEN;
		r->half = table ? SPF_TABLE_HALF : SPF_HALF;
		atomic_init(&r->epoch, SPF_EPOCH0);
		atomic_init(&r->mutator, -1);
		atomic_init(&r->base, r->window);
		if (spf_map(s, r->window, r->len))
			return -1;
		if (!table && spf_map(s, r->window + SPF_ANCHOR, PAGE_SIZE))
			return -1;
	}
	for (unsigned int i = 0; i < s->nworkers; i++) {
		struct spf_writer *w = calloc(1, wsize);

		if (!w)
			goto nomem;
		w->id = i;
		s->cpus[i].spf = w;
	}
	return 0;
nomem:
	snprintf(s->why, s->why_size, "set-up: out of memory");
	return -1;
}

void stress_spf_free(struct stress *s)
{
	for (unsigned int i = 0; s->cpus && i < s->nworkers; i++) {
		free(s->cpus[i].spf);
		s->cpus[i].spf = NULL;
	}
	free(s->spf);
	s->spf = NULL;
}

/*
 * After the run (every CPU gone, every epoch even): each page holds
 * exactly what each worker's records say.  c is the controller's.
 */
void stress_spf_final_check(struct stress *s, struct stress_cpu *c)
{
	for (unsigned int i = 0; i < s->nworkers; i++) {
		struct spf_writer *w = s->cpus[i].spf;

		for (unsigned int j = 0; j < s->nspf; j++)
			for (unsigned long p = 0; p < SPF_PAGES &&
			     !atomic_load(&s->failed); p++)
				spf_load(c, w, &s->spf[j], p, true);
	}
}

/* --- delays in the race windows -------------------------------------------- */

/* Each CPU's xorshift state: only that CPU's thread touches it. */
static struct {
	_Alignas(64) uint64_t x;
} delay_rng[NR_CPUS];

static atomic_uint delay_sink;
static bool delay_spf_windows;		/* set before the hook is */

/*
 * Up to ~1,000 spins; one time in 8 (in 4 before the PTE lock), also a
 * while of 5 to 50 us, long enough for a whole mprotect or munmap of
 * another CPU to fit in the window.  That while yields the host core:
 * the host has fewer cores than the run has CPUs, and the CPU that would
 * change the VMA may be waiting for one.
 */
#define SPF_DELAY_MASK		1023
#define SPF_DELAY_LONG_US	5
#define SPF_DELAY_LONG_RANGE	46
#define SPF_DELAY_WALK_US	50
#define SPF_DELAY_WALK_RANGE	451

/* The next number of the calling CPU's xorshift64. */
static uint64_t delay_next(struct mmsim_cpu *cpu)
{
	uint64_t x = delay_rng[cpu->cpu].x;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	delay_rng[cpu->cpu].x = x;
	return x;
}

static void delay_spin(unsigned int n)
{
	while (n--)
		(void)atomic_load_explicit(&delay_sink, memory_order_relaxed);
}

static void delay_long(unsigned int us)
{
	struct timespec ts;
	uint64_t end;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	end = ts.tv_sec * 1000000000ULL + ts.tv_nsec + us * 1000ULL;
	do {
		sched_yield();
		clock_gettime(CLOCK_MONOTONIC, &ts);
	} while (ts.tv_sec * 1000000000ULL + ts.tv_nsec < end);
}

/*
 * After an IPI went to one CPU of a shootdown, before it goes to the
 * next: one time in 4, up to ~1,000 spins; one time in 32, also a while
 * of 5 to 50 us.  The CPUs not interrupted yet keep their translations
 * meanwhile, which a page freed too early (free-before-flush) must not
 * survive unnoticed: an IPI is taken at the target's next
 * local_irq_enable(), so without this the window is a few instructions.
 */
static void delay_ipi(struct mmsim_cpu *cpu)
{
	uint64_t x = delay_next(cpu);

	if ((x & 3) == 0)
		delay_spin((x >> 8) & SPF_DELAY_MASK);
	if ((x & 31) == 1)
		delay_long(SPF_DELAY_LONG_US +
			   (x >> 20) % SPF_DELAY_LONG_RANGE);
}

/*
 * The hook of every scheduling point: at the four race windows of the
 * speculative fault (with SPF regions) and between the IPIs of a
 * shootdown, wait a seeded random while.  Interrupts may be off there, so
 * no mmsim_cpu_relax() (it would service IPIs): a plain spin on an atomic
 * load, which also lets TSan deliver signals later.  Only simulated CPUs
 * are delayed (and this_cpu() would make any other thread one).
 */
static void stress_sched_hook(enum mmsim_sched_event ev, const void *obj)
{
	struct mmsim_cpu *cpu = mmsim_current_cpu;
	uint64_t x;

	if (!cpu)
		return;
	if (ev == SCHED_IPI) {
		delay_ipi(cpu);
		return;
	}
	if (!delay_spf_windows || (ev != SCHED_FAULT_LOOKUP &&
				   ev != SCHED_FAULT_WALK &&
				   ev != SCHED_FAULT_PTE && ev != SCHED_FAULT_FINAL))
		return;
	x = delay_next(cpu);
	delay_spin((x >> 8) & SPF_DELAY_MASK);
	if ((x & 7) == 0 || (ev == SCHED_FAULT_PTE && (x & 7) == 4))
		delay_long(SPF_DELAY_LONG_US +
			   (x >> 20) % SPF_DELAY_LONG_RANGE);
	/*
	 * Between validation and the walk, one time in 64 a while long
	 * enough for a whole munmap or mremap of a 2 MiB region, page
	 * tables freed included (interrupts are on there).
	 */
	if (ev == SCHED_FAULT_WALK && ((x >> 3) & 63) == 0)
		delay_long(SPF_DELAY_WALK_US +
			   (x >> 32) % SPF_DELAY_WALK_RANGE);
}

void stress_delays_start(unsigned long seed, bool spf_windows)
{
	delay_spf_windows = spf_windows;
	for (int cpu = 0; cpu < NR_CPUS; cpu++) {
		struct rng r = { seed ^ ((cpu + 1) * 0x9e3779b97f4a7c15ULL) };

		delay_rng[cpu].x = rng_next(&r) | 1;	/* never 0 */
	}
	mmsim_set_sched_hook(stress_sched_hook);
}

void stress_delays_stop(void)
{
	mmsim_set_sched_hook(NULL);
}
