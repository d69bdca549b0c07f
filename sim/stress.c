// SPDX-License-Identifier: MIT
/*
 * The stress engine of `mmsim stress`: simulated CPUs share one mm, write
 * data through their MMUs, change the mappings under each other, fork,
 * and check every byte they read.
 *
 * Worker CPUs (about half) keep data in worker regions (32-64 pages of
 * private anonymous memory each).  A region is held by one worker at a
 * time and handed over now and then, as a task migrates between CPUs:
 * the translations the previous CPU cached stay in its TLB, and only the
 * TLB shootdowns of the holder's munmap/mprotect/mremap/madvise make them
 * go.  The holder stores 16-byte patterns {magic, region, page, cpu, seq}
 * at a page-specific offset and remembers them in C memory; every load
 * is compared with what must be there:
 *
 *   CPU1 holds region 3         CPU2 holds region 3 later
 *   store p5 (TLB: p5 -> F)
 *   hand over  ------------->   MADV_DONTNEED p5: F freed (poisoned),
 *                               flush: IPI to CPU1 drops p5 -> F
 *   ... holds region 3 again    store p5 -> new frame F'
 *   load p5: must read F' data  (a stale p5 -> F reads poison or
 *                                another page's data: FAILURE)
 *
 * Region operations: MADV_DONTNEED of a page (zeros after), mremap of the
 * whole region to a new place (the data follows), mprotect read-only and
 * back (a store while read-only gets SIGSEGV; a handover in between
 * catches a stale writable translation).
 *
 * Chaos CPUs (the rest) each own scratch regions in a window of their own
 * (far below where the kernel places mappings, so worker regions never
 * land there).  The owner writes a scratch region only while it is not
 * published; once published, every chaos CPU reads it while its owner
 * unmaps, protects, moves, zaps, locks or resizes it underneath.  A read
 * gets SIGSEGV, zeros or a scratch pattern of the current mapping: never
 * poison, never another page's data.  That is the window in which the
 * kernel's order (clear PTEs, flush every TLB, then free) matters.
 * A reader announces itself (readers++) before it looks at the
 * publication; the owner unpublishes, then waits for readers == 0 before
 * it writes or remaps (the store-buffer pattern: both sides seq_cst).
 *
 * Chaos CPUs also fork: dup_mm(), switch to the child, read some worker
 * pages (a pattern or zeros, never poison), write the child's copy (the
 * parent's workers must never see it), read again (the child's memory
 * must not change under it: the parent's writes go to copies), mmput().
 *
 * Every ~200 ms all CPUs park at a quiescent point (spinning with
 * mmsim_cpu_relax(): a mutex would keep TSan from delivering IPIs) and
 * the controller checks validate_mm() and validate_mm_pages(), and that
 * every PTE table lies under a VMA (a table allocated without the mmap
 * lock where munmap had just freed one would not).
 *
 * With SPF regions (sim/stress_spf.c; the default for a strategy that
 * faults speculatively), workers spend half their time between regions
 * in SPF regions they all share, and chaos CPUs spend 40% of theirs
 * changing those regions' VMAs under them; a hook delays every CPU for a
 * seeded random while inside the race windows of the speculative fault.
 * Each CPU is a thread of the process (mmget): the mm has several users,
 * so faults may go speculative.  In every run the same hook also delays
 * a shootdown between the IPIs it sends: the CPUs not interrupted yet
 * keep their translations for a while (an IPI is otherwise taken at once,
 * at the target's next local_irq_enable()).
 */
#define _GNU_SOURCE		/* pthread_timedjoin_np */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <mmsim/cpu.h>
#include <mmsim/lockdep.h>
#include <mmsim/mm.h>
#include <mmsim/page.h>
#include <mmsim/pgtable.h>

#include "stress_internal.h"

#define STRESS_RAM		(64UL << 20)
#define REGION_MIN_PAGES	32
#define REGION_MAX_PAGES	64
#define BURST_MIN		16	/* operations between handovers */
#define BURST_RANGE		64
#define SCRATCH_PER_CPU		2
#define SCRATCH_MAX_PAGES	128
/* 1 TiB: far below mmap_base, so top-down placement never comes here. */
#define SCRATCH_BASE		(1UL << 40)
/* The address window of one scratch region, in two halves. */
#define SCRATCH_WINDOW		(64UL << 20)
#define RACE_READS		256	/* loads of a racing burst, max */
#define RACE_PAGES		8	/* pages a racing burst reads */
#define FORK_PROBES		8
#define QUIESCE_MS		200
/* Longer than any operation, even under TSan: past it, a CPU is stuck. */
#define HANG_MS			10000
#define MAX_REPORTS		5	/* failures detailed on stderr */

/* A worker region: held by one worker at a time (owner). */
struct region {
	_Alignas(64) atomic_int owner;	/* -1: free; acquire/release */
	unsigned int id;
	unsigned long npages;		/* fixed at set-up */
	atomic_ulong base;		/* fork probes read it racily */
	/* The holder's: handed over with owner. */
	bool readonly;
	uint32_t seq;
	/* What each page holds at its slot (magic 0: zeros). */
	struct stress_pattern expect[REGION_MAX_PAGES];
};

/* A chaos CPU's scratch region, read by all chaos CPUs when published. */
struct scratch {
	_Alignas(64) struct stress_pub pub;
	unsigned int id;
	unsigned long window;
	/* Written by the owner while unpublished, read after publication. */
	unsigned long addr, npages;
	uint32_t gen, map_gen;	/* patterns in [map_gen, gen] are valid */
	bool mapped;
};

/* --- helpers ------------------------------------------------------------ */

atomic_int stress_interrupt;

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void sleep_ms(unsigned int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

static unsigned long pattern_offset(unsigned int owner, unsigned long page)
{
	const unsigned long slots = PAGE_SIZE / sizeof(struct stress_pattern);

	return ((owner * 37 + page * 11) % slots) *
	       sizeof(struct stress_pattern);
}

bool pattern_is_zero(const struct stress_pattern *p)
{
	static const struct stress_pattern zero;

	return !memcmp(p, &zero, sizeof(*p));
}

bool pattern_is_poison(const struct stress_pattern *p)
{
	const unsigned char *b = (const unsigned char *)p;

	for (size_t i = 0; i < sizeof(*p); i++)
		if (b[i] != PAGE_POISON)
			return false;
	return true;
}

void pattern_str(const struct stress_pattern *p, char *buf, size_t n)
{
	const char *kind = p->magic == WORKER_MAGIC ? "region" :
			   p->magic == SCRATCH_MAGIC ? "scratch" :
			   p->magic == CHILD_MAGIC ? "child-of-region" :
			   p->magic == SPF_MAGIC ? "SPF region" : NULL;

	if (pattern_is_zero(p))
		snprintf(buf, n, "zeros");
	else if (pattern_is_poison(p))
		snprintf(buf, n, "poison (0x%02x bytes)", PAGE_POISON);
	else if (kind)
		snprintf(buf, n, "{%s %u page %u cpu %u seq %u}", kind,
			 p->owner, p->page, p->cpu, p->seq);
	else
		snprintf(buf, n, "garbage %08x %04x %04x %08x %08x", p->magic,
			 p->owner, p->page, p->cpu, p->seq);
}

const char *sig_name(int sig)
{
	switch (sig) {
	case 0:		return "no signal";
	case SIGSEGV:	return "SIGSEGV";
	case SIGBUS:	return "SIGBUS";
	case SIGKILL:	return "SIGKILL (out of memory)";
	default:	return "an unexpected signal";
	}
}

/*
 * Record a problem: the first one becomes the FAILURE line, a few are
 * detailed on stderr, and every CPU stops.
 */
void __attribute__((format(printf, 2, 3)))
stress_fail(struct stress_cpu *c, const char *fmt, ...)
{
	struct stress *s = c->s;
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (atomic_fetch_add(&s->reports, 1) < MAX_REPORTS)
		fprintf(stderr, "mmsim stress: CPU%d: %s\n", c->cpu, msg);
	if (!atomic_exchange(&s->failed, 1))
		snprintf(s->why, s->why_size, "%s (CPU%d)", msg, c->cpu);
	atomic_store(&s->stop, 1);
}

/*
 * Park here while the controller checks the mm.  Spinning, not sleeping:
 * a parked CPU must keep taking IPIs.
 */
static void quiescent_point(struct stress_cpu *c)
{
	struct stress *s = c->s;

	if (!atomic_load_explicit(&s->pause, memory_order_acquire))
		return;
	atomic_fetch_add_explicit(&s->parked, 1, memory_order_acq_rel);
	while (atomic_load_explicit(&s->pause, memory_order_acquire))
		mmsim_cpu_relax();
	atomic_fetch_sub_explicit(&s->parked, 1, memory_order_acq_rel);
}

static bool ret_ok(long ret, unsigned int ok)
{
	return !ret || (ret == -ENOMEM && (ok & OK_ENOMEM)) ||
	       (ret == -EAGAIN && (ok & OK_EAGAIN)) ||
	       (ret == -EFAULT && (ok & OK_EFAULT)) ||
	       (ret == -EINVAL && (ok & OK_EINVAL));
}

bool check_ret(struct stress_cpu *c, const char *what, unsigned long addr,
	       unsigned long len, long ret, unsigned int ok)
{
	c->st.syscalls++;
	if (ret_ok(ret, ok))
		return !ret;
	stress_fail(c, "syscall: %s(%#lx, %lu pages) returned %s", what, addr,
		    len >> PAGE_SHIFT, strerror((int)-ret));
	return false;
}

/* --- worker regions ----------------------------------------------------- */

static unsigned long region_base(struct region *r)
{
	return atomic_load_explicit(&r->base, memory_order_relaxed);
}

static unsigned long region_slot(struct region *r, unsigned long page)
{
	return region_base(r) + (page << PAGE_SHIFT) +
	       pattern_offset(r->id, page);
}

/* Name what a worker read instead of what it expected. */
static const char *mismatch_kind(struct region *r, unsigned long page,
				 const struct stress_pattern *want,
				 const struct stress_pattern *got)
{
	if (pattern_is_poison(got))
		return "poison: read a freed frame (use after free)";
	if (got->magic == CHILD_MAGIC)
		return "a forked child's write is visible in the parent";
	if (got->magic == SCRATCH_MAGIC)
		return "foreign data: a scratch page's frame";
	if (got->magic != WORKER_MAGIC) {
		if (pattern_is_zero(got))
			return "lost write or stale translation: the page reads as zeros";
		return "garbage";
	}
	if (got->owner != r->id || got->page != page)
		return "foreign data: another page's frame (stale translation or use after free)";
	if (!want->magic)
		return "stale data where zeros were expected (stale translation after MADV_DONTNEED?)";
	if (got->seq < want->seq)
		return "stale data: an older write (lost write or stale translation)";
	return "wrong data";
}

static void worker_mismatch(struct stress_cpu *c, unsigned long page,
			    const struct stress_pattern *want,
			    const struct stress_pattern *got)
{
	struct region *r = c->region;
	char w[96], g[96];

	pattern_str(want, w, sizeof(w));
	pattern_str(got, g, sizeof(g));
	stress_fail(c, "%s at %#lx (region %u page %lu%s): expected %s, "
		    "read %s",
		    mismatch_kind(r, page, want, got), region_slot(r, page),
		    r->id, page, r->readonly ? ", read-only" : "", w, g);
}

/*
 * What a slot that only ever holds zeros read instead (p, not zero), at
 * addr, offset off of page of the region (kind "region" or "SPF region").
 */
void stress_fail_not_zero(struct stress_cpu *c, const struct stress_pattern *p,
			  unsigned long addr, unsigned long off,
			  const char *kind, unsigned int id, unsigned long page)
{
	char g[96];

	pattern_str(p, g, sizeof(g));
	stress_fail(c, "%s at %#lx (offset %lu of %s %u page %lu, "
		    "only ever zeros there): read %s",
		    pattern_is_poison(p) ?
		    "poison: read a freed frame (use after free)" :
		    "foreign write", addr, off, kind, id, page, g);
}

/* The bytes of a page other than its pattern slot must be zeros. */
static void worker_check_rest(struct stress_cpu *c, unsigned long page)
{
	struct region *r = c->region;
	unsigned long slot = pattern_offset(r->id, page), off;
	struct stress_pattern stray;

	for (off = 0; off < PAGE_SIZE; off += sizeof(stray)) {
		if (off == slot)
			continue;
		memcpy(&stray, c->page + off, sizeof(stray));
		if (pattern_is_zero(&stray))
			continue;
		stress_fail_not_zero(c, &stray,
				     region_base(r) + (page << PAGE_SHIFT) + off,
				     off, "region", r->id, page);
		return;
	}
}

/* Load page's pattern (or the whole page) and compare. */
static void worker_check(struct stress_cpu *c, unsigned long page, bool full)
{
	struct region *r = c->region;
	unsigned long addr = region_base(r) + (page << PAGE_SHIFT);
	unsigned long slot = pattern_offset(r->id, page);
	struct stress_pattern got;
	int sig;

	c->st.loads++;
	if (full) {
		sig = mmsim_load(addr, c->page, PAGE_SIZE);
		memcpy(&got, c->page + slot, sizeof(got));
	} else {
		sig = mmsim_load(addr + slot, &got, sizeof(got));
	}
	if (sig) {
		stress_fail(c, "load at %#lx (region %u page %lu) got %s",
			    addr + slot, r->id, page, sig_name(sig));
		return;
	}
	if (memcmp(&got, &r->expect[page], sizeof(got))) {
		worker_mismatch(c, page, &r->expect[page], &got);
		return;
	}
	if (full)
		worker_check_rest(c, page);
}

static void worker_check_all(struct stress_cpu *c)
{
	for (unsigned long p = 0; p < c->region->npages && !stopping(c); p++)
		worker_check(c, p, false);
}

static void worker_store(struct stress_cpu *c)
{
	struct region *r = c->region;
	unsigned long page = rng_below(&c->rng, r->npages);
	struct stress_pattern pat = {
		.magic = WORKER_MAGIC, .owner = r->id, .page = page,
		.cpu = c->cpu, .seq = r->seq + 1,
	};
	int sig = mmsim_store(region_slot(r, page), &pat, sizeof(pat));

	c->st.stores++;
	if (r->readonly && sig == SIGSEGV) {
		c->st.segv_expected++;
		return;
	}
	if (r->readonly || sig) {
		stress_fail(c, "%s at %#lx (region %u page %lu%s) got %s%s",
			    r->readonly ? "store to a read-only page" : "store",
			    region_slot(r, page), r->id, page,
			    r->readonly ? ", read-only" : "", sig_name(sig),
			    r->readonly && !sig ?
			    ": a stale writable translation" : "");
		return;
	}
	r->seq++;
	r->expect[page] = pat;
}

static void worker_dontneed(struct stress_cpu *c)
{
	struct region *r = c->region;
	unsigned long page = rng_below(&c->rng, r->npages);
	unsigned long addr = region_base(r) + (page << PAGE_SHIFT);

	if (!check_ret(c, "madvise(MADV_DONTNEED)", addr, PAGE_SIZE,
		       sys_madvise(c->s->mm, addr, PAGE_SIZE, MADV_DONTNEED),
		       0))
		return;
	memset(&r->expect[page], 0, sizeof(r->expect[page]));
	if (rng_below(&c->rng, 2))
		worker_check(c, page, true);
}

static void worker_mprotect(struct stress_cpu *c)
{
	struct region *r = c->region;
	unsigned long len = r->npages << PAGE_SHIFT;
	int prot = r->readonly ? PROT_READ | PROT_WRITE : PROT_READ;

	if (check_ret(c, "mprotect", region_base(r), len,
		      sys_mprotect(c->s->mm, region_base(r), len, prot), 0))
		r->readonly = !r->readonly;
}

/* Move the region onto a fresh placeholder mapping (MREMAP_FIXED). */
static unsigned long worker_move_fixed(struct stress_cpu *c)
{
	struct region *r = c->region;
	struct mm_struct *mm = c->s->mm;
	unsigned long len = r->npages << PAGE_SHIFT, dst, ret;

	dst = sys_mmap(mm, 0, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS,
		       NULL, 0);
	if (!check_ret(c, "mmap", 0, len, IS_ERR_VALUE(dst) ? (long)dst : 0, 0))
		return 0;
	ret = sys_mremap(mm, region_base(r), len, len,
			 MREMAP_MAYMOVE | MREMAP_FIXED, dst);
	if (ret == dst)
		return dst;
	check_ret(c, "mremap(MREMAP_FIXED)", region_base(r), len,
		  IS_ERR_VALUE(ret) ? (long)ret : -EINVAL, 0);
	sys_munmap(mm, dst, len);
	return 0;
}

/* Grow by a page (moving if the next page is taken), then shrink back. */
static unsigned long worker_move_grow(struct stress_cpu *c)
{
	struct region *r = c->region;
	struct mm_struct *mm = c->s->mm;
	unsigned long len = r->npages << PAGE_SHIFT, dst, ret;

	dst = sys_mremap(mm, region_base(r), len, len + PAGE_SIZE,
			 MREMAP_MAYMOVE, 0);
	if (!check_ret(c, "mremap(grow)", region_base(r), len,
		       IS_ERR_VALUE(dst) ? (long)dst : 0, 0))
		return 0;
	/* The region is at dst now, whatever happens next. */
	atomic_store_explicit(&r->base, dst, memory_order_relaxed);
	ret = sys_mremap(mm, dst, len + PAGE_SIZE, len, 0, 0);
	if (ret != dst)
		check_ret(c, "mremap(shrink)", dst, len + PAGE_SIZE,
			  IS_ERR_VALUE(ret) ? (long)ret : -EINVAL, 0);
	return ret == dst ? dst : 0;
}

static void worker_mremap(struct stress_cpu *c)
{
	struct region *r = c->region;
	unsigned long dst;

	dst = rng_below(&c->rng, 2) ? worker_move_fixed(c) :
				      worker_move_grow(c);
	if (!dst)
		return;
	atomic_store_explicit(&r->base, dst, memory_order_relaxed);
	if (rng_below(&c->rng, 2))
		worker_check_all(c);
}

static void worker_release(struct stress_cpu *c)
{
	if (!c->region)
		return;
	atomic_store_explicit(&c->region->owner, -1, memory_order_release);
	c->region = NULL;
}

/* Take a free region (there is always one more region than workers). */
static void worker_acquire(struct stress_cpu *c)
{
	struct stress *s = c->s;
	unsigned int i = rng_below(&c->rng, s->nregions), tries = 0;

	while (!stopping(c)) {
		struct region *r = &s->regions[i];
		int free = -1;

		if (atomic_compare_exchange_strong_explicit(&r->owner, &free,
				(int)c->idx, memory_order_acquire,
				memory_order_relaxed)) {
			c->region = r;
			c->burst = BURST_MIN + rng_below(&c->rng, BURST_RANGE);
			c->st.migrations++;
			return;
		}
		i = (i + 1) % s->nregions;
		if (++tries % s->nregions == 0)
			mmsim_cpu_relax();
	}
}

static void scratch_race(struct stress_cpu *c);

static void worker_op(struct stress_cpu *c)
{
	unsigned long r = rng_below(&c->rng, 1000);

	/* Read-only for ~32 operations: long enough to span handovers. */
	if (c->region->readonly && rng_below(&c->rng, 32) == 0)
		worker_mprotect(c);
	else if (r < 500)
		worker_store(c);
	else if (r < 880)
		worker_check(c, rng_below(&c->rng, c->region->npages),
			     rng_below(&c->rng, 8) == 0);
	else if (r < 940)
		worker_dontneed(c);
	else if (r < 950)
		worker_mprotect(c);
	else if (r < 975)
		worker_mremap(c);
	else if (r < 985)
		worker_check_all(c);
	else if (r < 990 && c->s->nscratch)
		scratch_race(c);	/* one more reader for the chaos CPUs */
	else
		c->burst = 0;		/* hand the region over now */
}

static void worker_loop(struct stress_cpu *c)
{
	while (!stopping(c)) {
		quiescent_point(c);
		if (!c->region || !c->burst) {
			worker_release(c);
			/* Between regions, half the time: the SPF regions. */
			if (c->s->spf && rng_below(&c->rng, 2)) {
				spf_writer_burst(c);
				continue;
			}
			worker_acquire(c);
			if (!c->region)
				break;
		}
		worker_op(c);
		c->burst -= !!c->burst;
	}
	worker_release(c);
}

/* --- chaos: scratch regions --------------------------------------------- */

static unsigned long scratch_slot(unsigned long addr, unsigned int id,
				  unsigned long page)
{
	return addr + (page << PAGE_SHIFT) + pattern_offset(id + 128, page);
}

static void scratch_publish(struct scratch *sc)
{
	stress_publish(&sc->pub);
}

static void scratch_unpublish(struct scratch *sc)
{
	stress_unpublish(&sc->pub);
}

/* A scratch read: SIGSEGV, zeros or a pattern of this mapping. */
static void scratch_verify(struct stress_cpu *c, unsigned int id,
			   unsigned long addr, unsigned long page,
			   uint32_t map_gen, uint32_t gen, int sig,
			   const struct stress_pattern *got)
{
	char g[96];

	if (sig == SIGSEGV || (!sig && pattern_is_zero(got)))
		return;
	if (!sig && got->magic == SCRATCH_MAGIC && got->owner == id &&
	    got->page == page && got->seq >= map_gen && got->seq <= gen)
		return;
	if (sig) {
		stress_fail(c, "load at %#lx (scratch %u page %lu) got %s",
			    scratch_slot(addr, id, page), id, page,
			    sig_name(sig));
		return;
	}
	pattern_str(got, g, sizeof(g));
	stress_fail(c, "%s at %#lx (scratch %u page %lu, generations %u..%u): "
		    "read %s",
		    pattern_is_poison(got) ?
		    "poison: read a freed frame (use after free)" :
		    got->magic == SCRATCH_MAGIC && got->owner == id &&
		    got->page == page ?
		    "stale data: a previous mapping's frame" :
		    "foreign data: another page's frame (stale translation "
		    "or use after free)",
		    scratch_slot(addr, id, page), id, page, map_gen, gen, g);
}

/*
 * Read a published scratch region while its owner changes it.  A burst
 * keeps to a few pages, so that they stay in this CPU's TLB: a zap of
 * them then leaves translations that only the owner's flush removes.
 */
static void scratch_race(struct stress_cpu *c)
{
	struct stress *s = c->s;
	struct scratch *sc = &s->scratch[rng_below(&c->rng, s->nscratch)];
	unsigned int n = 1 + rng_below(&c->rng, RACE_READS);
	unsigned long hot = rng_below(&c->rng, SCRATCH_MAX_PAGES);

	while (n-- && !stopping(c)) {
		struct stress_pattern got = { 0 };
		unsigned long addr, page;
		uint32_t gen, map_gen;
		int sig;

		if (!stress_read_begin(&sc->pub))
			return;
		addr = sc->addr;
		page = (hot + rng_below(&c->rng, RACE_PAGES)) % sc->npages;
		gen = sc->gen;
		map_gen = sc->map_gen;
		sig = mmsim_load(scratch_slot(addr, sc->id, page), &got,
				 sizeof(got));
		stress_read_end(&sc->pub);
		c->st.loads++;
		scratch_verify(c, sc->id, addr, page, map_gen, gen, sig, &got);
	}
}

/* Write this generation's pattern into about half the pages. */
static void scratch_fill(struct stress_cpu *c, struct scratch *sc,
			 bool holes)
{
	for (unsigned long p = 0; p < sc->npages && !stopping(c); p++) {
		struct stress_pattern pat = {
			.magic = SCRATCH_MAGIC, .owner = sc->id, .page = p,
			.cpu = c->cpu, .seq = sc->gen,
		};
		int sig;

		if (rng_below(&c->rng, 2))
			continue;
		sig = mmsim_store(scratch_slot(sc->addr, sc->id, p), &pat,
				  sizeof(pat));
		c->st.stores++;
		if (!sig || (holes && sig == SIGSEGV))
			continue;
		stress_fail(c, "store at %#lx (scratch %u page %lu) got %s",
			    scratch_slot(sc->addr, sc->id, p), sc->id, p,
			    sig_name(sig));
	}
}

/* A place for npages in one half of the window. */
static unsigned long scratch_place(struct stress_cpu *c, struct scratch *sc,
				   unsigned long npages, unsigned int half)
{
	unsigned long room = (SCRATCH_WINDOW / 2 >> PAGE_SHIFT) - npages;

	return sc->window + half * (SCRATCH_WINDOW / 2) +
	       (rng_below(&c->rng, room + 1) << PAGE_SHIFT);
}

static unsigned int scratch_half(struct scratch *sc)
{
	return sc->addr >= sc->window + SCRATCH_WINDOW / 2;
}

/* Map a fresh scratch region (sc unpublished, unmapped), fill, publish. */
static void scratch_map(struct stress_cpu *c, struct scratch *sc)
{
	unsigned long npages = 1 + rng_below(&c->rng, SCRATCH_MAX_PAGES);
	unsigned long len = npages << PAGE_SHIFT;
	unsigned long addr = scratch_place(c, sc, npages,
					   rng_below(&c->rng, 2));
	unsigned long ret;

	ret = sys_mmap(c->s->mm, addr, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, NULL, 0);
	if (ret != addr) {
		check_ret(c, "mmap(MAP_FIXED)", addr, len,
			  IS_ERR_VALUE(ret) ? (long)ret : -EINVAL, 0);
		return;
	}
	c->st.syscalls++;
	sc->addr = addr;
	sc->npages = npages;
	sc->map_gen = ++sc->gen;
	sc->mapped = true;
	scratch_fill(c, sc, false);
	if (rng_below(&c->rng, 8) == 0)
		check_ret(c, "mlock", addr, len,
			  sys_mlock(c->s->mm, addr, len),
			  OK_ENOMEM | OK_EAGAIN);
	scratch_publish(sc);
}

/* A random page-aligned subrange of the region: [*start, *start + *len). */
static void scratch_subrange(struct stress_cpu *c, struct scratch *sc,
			     unsigned long *start, unsigned long *len)
{
	unsigned long first = rng_below(&c->rng, sc->npages);
	unsigned long n = 1 + rng_below(&c->rng, sc->npages - first);

	*start = sc->addr + (first << PAGE_SHIFT);
	*len = n << PAGE_SHIFT;
}

static void scratch_munmap_all(struct stress_cpu *c, struct scratch *sc)
{
	unsigned long len = sc->npages << PAGE_SHIFT;

	/* Still published: readers race with the unmap. */
	check_ret(c, "munmap", sc->addr, len,
		  sys_munmap(c->s->mm, sc->addr, len), 0);
	scratch_unpublish(sc);
	sc->mapped = false;
}

static void scratch_move(struct stress_cpu *c, struct scratch *sc)
{
	unsigned long len = sc->npages << PAGE_SHIFT;
	unsigned long dst = scratch_place(c, sc, sc->npages,
					  !scratch_half(sc));
	unsigned long ret;

	ret = sys_mremap(c->s->mm, sc->addr, len, len,
			 MREMAP_MAYMOVE | MREMAP_FIXED, dst);
	if (ret != dst) {
		/* -EFAULT: the range is no longer one VMA (holes, splits). */
		check_ret(c, "mremap(MREMAP_FIXED)", sc->addr, len,
			  IS_ERR_VALUE(ret) ? (long)ret : -EINVAL,
			  OK_EFAULT | OK_ENOMEM | OK_EAGAIN);
		return;
	}
	c->st.syscalls++;
	scratch_unpublish(sc);
	sc->addr = dst;
	scratch_publish(sc);
}

/* Grow in place (into the free window) or shrink. */
static void scratch_resize(struct stress_cpu *c, struct scratch *sc)
{
	unsigned long npages = 1 + rng_below(&c->rng, SCRATCH_MAX_PAGES);
	unsigned long len = sc->npages << PAGE_SHIFT, ret;
	unsigned long half_end = sc->window +
				 (scratch_half(sc) + 1) * (SCRATCH_WINDOW / 2);

	if (sc->addr + (npages << PAGE_SHIFT) > half_end)
		npages = (half_end - sc->addr) >> PAGE_SHIFT;
	ret = sys_mremap(c->s->mm, sc->addr, len, npages << PAGE_SHIFT, 0, 0);
	if (ret != sc->addr) {
		check_ret(c, "mremap(resize)", sc->addr, len,
			  IS_ERR_VALUE(ret) ? (long)ret : -EINVAL,
			  OK_EFAULT | OK_ENOMEM | OK_EAGAIN);
		return;
	}
	c->st.syscalls++;
	scratch_unpublish(sc);
	sc->npages = npages;
	scratch_publish(sc);
}

static void scratch_rewrite(struct stress_cpu *c, struct scratch *sc)
{
	unsigned long len = sc->npages << PAGE_SHIFT;

	scratch_unpublish(sc);
	check_ret(c, "mprotect", sc->addr, len,
		  sys_mprotect(c->s->mm, sc->addr, len,
			       PROT_READ | PROT_WRITE), OK_ENOMEM);
	sc->gen++;
	scratch_fill(c, sc, true);
	scratch_publish(sc);
}

static void scratch_change(struct stress_cpu *c, struct scratch *sc)
{
	static const int prots[] = { PROT_NONE, PROT_READ,
				     PROT_READ | PROT_WRITE };
	struct mm_struct *mm = c->s->mm;
	unsigned long r = rng_below(&c->rng, 100), start, len;

	scratch_subrange(c, sc, &start, &len);
	if (r < 12)
		scratch_munmap_all(c, sc);
	else if (r < 22)
		check_ret(c, "munmap", start, len, sys_munmap(mm, start, len),
			  0);
	else if (r < 37)
		check_ret(c, "mprotect", start, len,
			  sys_mprotect(mm, start, len,
				       prots[rng_below(&c->rng, 3)]),
			  OK_ENOMEM);
	else if (r < 52)
		/* EINVAL: part of it is mlocked. */
		check_ret(c, "madvise(MADV_DONTNEED)", start, len,
			  sys_madvise(mm, start, len, MADV_DONTNEED),
			  OK_ENOMEM | OK_EINVAL);
	else if (r < 57)
		check_ret(c, "mlock", start, len, sys_mlock(mm, start, len),
			  OK_ENOMEM | OK_EAGAIN);
	else if (r < 62)
		check_ret(c, "munlock", start, len,
			  sys_munlock(mm, start, len), OK_ENOMEM);
	else if (r < 77)
		scratch_move(c, sc);
	else if (r < 87)
		scratch_resize(c, sc);
	else
		scratch_rewrite(c, sc);
}

static void scratch_op(struct stress_cpu *c)
{
	struct stress *s = c->s;
	unsigned int i = (c->idx - s->nworkers) * SCRATCH_PER_CPU +
			 rng_below(&c->rng, SCRATCH_PER_CPU);
	struct scratch *sc = &s->scratch[i];

	if (!sc->mapped)
		scratch_map(c, sc);
	else
		scratch_change(c, sc);
}

/* --- chaos: fork -------------------------------------------------------- */

struct fork_probe {
	unsigned long addr;
	unsigned int region, page;
	int sig;
	struct stress_pattern val;
};

/* What a child may read in a worker page it inherited. */
static bool fork_read_valid(const struct stress *s,
			    const struct stress_pattern *p)
{
	if (pattern_is_zero(p))
		return true;
	/* Another region may sit there in the child: the base moved. */
	return p->magic == WORKER_MAGIC && p->owner < s->nregions &&
	       p->page < REGION_MAX_PAGES && p->cpu < NR_CPUS;
}

static void fork_probe_fail(struct stress_cpu *c, const char *what,
			    struct fork_probe *pr,
			    const struct stress_pattern *got)
{
	char g[96], w[96];

	pattern_str(got, g, sizeof(g));
	pattern_str(&pr->val, w, sizeof(w));
	stress_fail(c, "%s at %#lx (child of fork %u, region %u page %u): "
		    "read %s, had %s", what, pr->addr, c->forks, pr->region,
		    pr->page, g, w);
}

/*
 * First reads in the child: valid data or SIGSEGV (moved since).  A
 * probe of an address probed already is dropped (sig -1): the recheck
 * expects each probe's own last value.
 */
static void fork_probe_read(struct stress_cpu *c, struct fork_probe *probes,
			    int n)
{
	struct stress *s = c->s;
	struct region *r = &s->regions[rng_below(&c->rng, s->nregions)];
	struct fork_probe *pr = &probes[n];

	pr->region = r->id;
	pr->page = rng_below(&c->rng, r->npages);
	pr->addr = region_slot(r, pr->page);
	for (int i = 0; i < n; i++) {
		if (probes[i].addr == pr->addr) {
			pr->sig = -1;
			return;
		}
	}
	pr->sig = mmsim_load(pr->addr, &pr->val, sizeof(pr->val));
	c->st.loads++;
	if (pr->sig && pr->sig != SIGSEGV)
		stress_fail(c, "load at %#lx in a forked child got %s",
			    pr->addr, sig_name(pr->sig));
	else if (!pr->sig && !fork_read_valid(s, &pr->val))
		fork_probe_fail(c, pattern_is_poison(&pr->val) ?
				"poison: a child read a freed frame" :
				"a child read invalid data", pr, &pr->val);
}

/* The child writes its copy: allowed to fail only as read-only. */
static void fork_probe_write(struct stress_cpu *c, struct fork_probe *pr)
{
	struct stress_pattern pat = {
		.magic = CHILD_MAGIC, .owner = pr->region, .page = pr->page,
		.cpu = c->cpu, .seq = c->forks,
	};
	int sig = mmsim_store(pr->addr, &pat, sizeof(pat));

	c->st.stores++;
	if (!sig)
		pr->val = pat;
	else if (sig != SIGSEGV)
		stress_fail(c, "store at %#lx in a forked child got %s",
			    pr->addr, sig_name(sig));
}

/* Nothing but the child itself may change the child's memory. */
static void fork_probe_recheck(struct stress_cpu *c, struct fork_probe *pr)
{
	struct stress_pattern got;
	int sig = mmsim_load(pr->addr, &got, sizeof(got));

	c->st.loads++;
	if (sig)
		stress_fail(c, "load at %#lx in a forked child got %s, the "
			    "first load of it did not", pr->addr,
			    sig_name(sig));
	else if (memcmp(&got, &pr->val, sizeof(got)))
		fork_probe_fail(c, pattern_is_poison(&got) ?
				"poison: a child read a freed frame" :
				"the child's memory changed under it (a "
				"parent's write through a stale writable "
				"translation?)", pr, &got);
}

static void fork_op(struct stress_cpu *c)
{
	struct fork_probe pr[FORK_PROBES];
	struct mm_struct *child;
	int i;

	child = dup_mm(c->s->mm);
	c->st.syscalls++;
	if (!child) {
		stress_fail(c, "fork: dup_mm() failed (out of memory: a "
			    "leak?)");
		return;
	}
	c->forks++;
	c->st.forks++;
	mmsim_switch_mm(child);
	for (i = 0; i < FORK_PROBES && !stopping(c); i++)
		fork_probe_read(c, pr, i);
	for (int j = 0; j < i && !stopping(c); j++)
		if (!pr[j].sig && rng_below(&c->rng, 2))
			fork_probe_write(c, &pr[j]);
	for (int j = 0; j < i && !stopping(c); j++)
		if (!pr[j].sig)
			fork_probe_recheck(c, &pr[j]);
	mmsim_switch_mm(c->s->mm);
	mmput(child);
}

static void chaos_loop(struct stress_cpu *c)
{
	while (!stopping(c)) {
		unsigned long r = rng_below(&c->rng, 100);

		quiescent_point(c);
		/* A change under the SPF regions' workers, or the rest. */
		if (c->s->spf && rng_below(&c->rng, 100) < 40)
			spf_mutate(c);
		else if (r < 40)
			scratch_race(c);
		else if (r < 50)
			shmem_race(c);
		else if (r < 89)
			scratch_op(c);
		else if (r < 92)
			shmem_op(c);
		else
			fork_op(c);
	}
}

/* --- the CPUs ----------------------------------------------------------- */

static void *stress_cpu_main(void *arg)
{
	struct stress_cpu *c = arg;
	struct stress *s = c->s;
	unsigned long faults0;

	c->cpu = mmsim_cpu_attach();
	if (c->cpu < 0) {
		c->cpu = -1;
		stress_fail(c, "no free simulated CPU");
		goto out;
	}
	/* A thread of the process: the mm has more than one user now. */
	mmget(s->mm);
	mmsim_switch_mm(s->mm);
	faults0 = atomic_load(&this_cpu()->nr_faults);
	atomic_fetch_add_explicit(&s->ready, 1, memory_order_release);
	while (!atomic_load_explicit(&s->go, memory_order_acquire))
		mmsim_cpu_relax();
	if (c->chaos)
		chaos_loop(c);
	else
		worker_loop(c);
	c->st.faults = atomic_load(&this_cpu()->nr_faults) - faults0;
	mmsim_switch_mm(NULL);
	mmput(s->mm);
	mmsim_cpu_detach();
out:
	atomic_fetch_add_explicit(&s->exited, 1, memory_order_release);
	/* Test hook: a thread that never ends once the run is over. */
	if (s->test_stuck_at_exit && c->idx == 0)
		for (;;)
			sleep_ms(1000);
	return NULL;
}

static int stress_start_cpus(struct stress *s)
{
	const struct stress_opts *o = s->o;
	unsigned int i;
	int err;

	for (i = 0; i < o->cpus; i++) {
		struct stress_cpu *c = &s->cpus[i];

		c->s = s;
		c->idx = i;
		c->chaos = i >= s->nworkers;
		c->rng.s = o->seed ^ ((i + 1) * 0xd1b54a32d192ed03ULL);
		err = pthread_create(&c->thread, NULL, stress_cpu_main, c);
		if (err) {
			fprintf(stderr, "mmsim stress: thread: %s\n",
				strerror(err));
			return i;
		}
	}
	return i;
}

/* --- the controller ----------------------------------------------------- */

static void __attribute__((noreturn)) stress_hang(struct stress *s,
						  const char *where)
{
	dprintf(2, "mmsim stress: %s: %d of %u CPUs arrived in %d ms\n",
		where, atomic_load(&s->parked) + atomic_load(&s->exited),
		s->o->cpus, HANG_MS);
	mmsim_dump_cpus(2);
	fflush(stdout);
	dprintf(1, "FAILURE: hang: CPUs did not reach %s within %d ms "
		"(seed %lu)\n", where, HANG_MS, s->o->seed);
	_exit(MMSIM_WATCHDOG_EXIT);
}

/* Wait until every started CPU is parked or gone, or declare a hang. */
static void stress_wait_all(struct stress *s, unsigned int n, bool parked,
			    const char *where)
{
	double deadline = now_s() + HANG_MS / 1000.0;

	for (;;) {
		unsigned int here = atomic_load(&s->exited);

		if (parked)
			here += atomic_load(&s->parked);
		if (here >= n)
			return;
		if (now_s() > deadline)
			stress_hang(s, where);
		sleep_ms(1);
	}
}

/*
 * Join the CPUs' threads, or declare a hang: a thread that never ends
 * (stuck in its teardown, or after a failed set-up, where nothing waited
 * for the CPUs to stop) must fail the run, not hang it.
 */
static void stress_join_all(struct stress *s, unsigned int n)
{
	struct timespec deadline;

	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += HANG_MS / 1000;
	for (unsigned int i = 0; i < n; i++)
		if (pthread_timedjoin_np(s->cpus[i].thread, NULL, &deadline)) {
			dprintf(2, "mmsim stress: the thread of CPU %u did "
				"not end\n", i);
			stress_hang(s, "the end of their threads");
		}
}

/* Wait until every started CPU runs the mm (or is gone). */
static void stress_wait_ready(struct stress *s, unsigned int n)
{
	double deadline = now_s() + HANG_MS / 1000.0;

	while (atomic_load_explicit(&s->ready, memory_order_acquire) +
	       atomic_load(&s->exited) < n) {
		if (now_s() > deadline)
			stress_hang(s, "the start");
		sleep_ms(1);
	}
}

/* The mm's invariants, with every CPU parked (or gone). */
/*
 * Report a PTE table at addr (its PMD entry pmd) that no VMA needs: one
 * that free_pgtables() should have freed, or that was allocated where no
 * VMA was (a speculative walk that allocates, racing with munmap or
 * mremap).  It would stay until the mm's end.
 */
static int stress_check_pmd(struct stress *s, pmd_t pmd, unsigned long addr)
{
	struct vm_area_struct *vma;

	if (pmd_none(pmd))
		return 0;
	vma = find_vma(s->mm, addr);
	if (vma && vma->vm_start < addr + PMD_SIZE)
		return 0;
	fprintf(stderr, "mmsim stress: a PTE table maps %#lx..%#lx, where no "
		"VMA is (a page table allocated without the mmap lock, or "
		"not freed by munmap)\n", addr, addr + PMD_SIZE - 1);
	return 1;
}

/*
 * Every PTE table of the mm under some VMA.  Walks the PUD and PMD
 * tables that exist (4 or 5 levels).  The caller holds the mmap lock
 * and no fault runs.
 */
static int stress_check_orphan_tables(struct stress *s)
{
	struct mm_struct *mm = s->mm;
	unsigned long span = 1UL << pgdir_shift(mm), addr;
	int bugs = 0;

	for (unsigned long i = 0; i < PTRS_PER_PGD; i++) {
		addr = i * span;
		pgd_t *pgd = pgd_offset(mm, addr);

		if (!pgd_present(pgdp_get(pgd)))
			continue;
		for (unsigned long j = 0; j < PTRS_PER_P4D; j++) {
			unsigned long a4 = addr + (j << P4D_SHIFT);
			p4d_t *p4d = p4d_offset(mm, pgd, a4);

			if (!pgtable_l5_enabled(mm) && j)
				break;
			if (!p4d_present(p4dp_get(p4d)))
				continue;
			for (unsigned long k = 0; k < PTRS_PER_PUD; k++) {
				unsigned long a3 = a4 + (k << PUD_SHIFT);
				pud_t *pud = pud_offset(p4d, a3);

				if (!pud_present(pudp_get(pud)))
					continue;
				for (unsigned long l = 0; l < PTRS_PER_PMD; l++) {
					unsigned long a2 = a3 + (l << PMD_SHIFT);

					bugs += stress_check_pmd(s,
						pmdp_get(pmd_offset(pud, a2)), a2);
				}
			}
		}
	}
	return bugs;
}

static int stress_validate(struct stress *s, const char *when)
{
	struct mm_struct *mm = s->mm;
	int bugs;

	mmap_read_lock(mm);
	bugs = validate_mm(mm);
	bugs += validate_mm_pages(&mm, 1);
	bugs += stress_check_orphan_tables(s);
	mmap_read_unlock(mm);
	if (!bugs)
		return 0;
	if (!atomic_exchange(&s->failed, 1))
		snprintf(s->why, s->why_size, "invariant: validate_mm found "
			 "%d problems %s (see stderr)", bugs, when);
	return -1;
}

static void stress_quiesce(struct stress *s, unsigned int n)
{
	atomic_store_explicit(&s->pause, 1, memory_order_release);
	stress_wait_all(s, n, true, "a quiescent point");
	if (!stress_validate(s, "at a quiescent point"))
		s->quiescent++;
	else
		atomic_store(&s->stop, 1);
	atomic_store_explicit(&s->pause, 0, memory_order_release);
}

static void stress_progress(struct stress *s, double elapsed)
{
	unsigned long long faults = 0;

	if (!s->o->progress)
		return;
	for (int i = 0; i < NR_CPUS; i++)
		faults += atomic_load_explicit(&mmsim_cpus[i].nr_faults,
					       memory_order_relaxed);
	fprintf(stderr, "\rmmsim stress: %.1f/%.1f s, %llu faults so far ",
		elapsed, s->o->seconds, faults);
}

/*
 * The lock validator found an order that can deadlock (it said so on
 * stderr when it found it): that is the run's failure.
 */
/* A WARN_ON fired, or lockdep found a possible deadlock: stop. */
static bool stress_lockdep_failed(struct stress *s)
{
	long warnings = mmsim_warnings() - s->warnings0;

	if (warnings > 0) {
		if (!atomic_exchange(&s->failed, 1))
			snprintf(s->why, s->why_size, "warning: %ld WARN_ON "
				 "fired (see stderr)", warnings);
		atomic_store(&s->stop, 1);
		return true;
	}
	if (!lockdep_violations())
		return false;
	if (!atomic_exchange(&s->failed, 1))
		snprintf(s->why, s->why_size, "lockdep: %s",
			 lockdep_first_report());
	atomic_store(&s->stop, 1);
	return true;
}

/* Run for the time asked, checking the invariants every QUIESCE_MS. */
static void stress_control(struct stress *s, unsigned int n, double *elapsed)
{
	double t0 = now_s(), next = t0 + QUIESCE_MS / 1000.0, shown = t0;
	double end = t0 + s->o->seconds;

	/*
	 * Every CPU is in mm_cpumask before any runs: no shootdown goes to
	 * a CPU still being set up.
	 */
	stress_wait_ready(s, n);
	atomic_store_explicit(&s->go, 1, memory_order_release);
	while (!atomic_load(&s->stop)) {
		double t = now_s();

		if (t >= end)
			break;
		if (atomic_load(&stress_interrupt))
			break;
		if (stress_lockdep_failed(s))
			break;
		if (t >= next) {
			stress_quiesce(s, n);
			next = now_s() + QUIESCE_MS / 1000.0;
		}
		if (t - shown >= 1.0) {
			stress_progress(s, t - t0);
			shown = t;
		}
		sleep_ms(5);
	}
	atomic_store(&s->stop, 1);
	stress_wait_all(s, n, false, "the end of the run");
	*elapsed = now_s() - t0;
	if (*elapsed < s->o->seconds)
		s->interrupted = atomic_load(&stress_interrupt);
	if (s->o->progress)
		fprintf(stderr, "\r%60s\r", "");
}

/* After the run: every worker page still holds what its holder wrote. */
static void stress_final_check(struct stress *s)
{
	struct stress_cpu *c = &s->cpus[0];	/* its thread is gone */

	c->cpu = smp_processor_id();
	mmsim_switch_mm(s->mm);
	for (unsigned int i = 0; i < s->nregions && !atomic_load(&s->failed);
	     i++) {
		c->region = &s->regions[i];
		for (unsigned long p = 0; p < c->region->npages; p++)
			worker_check(c, p, true);
	}
	c->region = NULL;
	if (s->spf && !atomic_load(&s->failed))
		stress_spf_final_check(s, c);
	mmsim_switch_mm(NULL);
}

static int stress_setup_regions(struct stress *s, struct rng *rng)
{
	for (unsigned int i = 0; i < s->nregions; i++) {
		struct region *r = &s->regions[i];
		unsigned long base;

		r->id = i;
		r->npages = REGION_MIN_PAGES +
			    rng_below(rng, REGION_MAX_PAGES -
					   REGION_MIN_PAGES + 1);
		atomic_init(&r->owner, -1);
		base = sys_mmap(s->mm, 0, r->npages << PAGE_SHIFT,
				PROT_READ | PROT_WRITE,
				MAP_PRIVATE | MAP_ANONYMOUS, NULL, 0);
		if (IS_ERR_VALUE(base)) {
			snprintf(s->why, s->why_size, "set-up: mmap: %s",
				 strerror((int)-(long)base));
			return -1;
		}
		atomic_init(&r->base, base);
	}
	for (unsigned int i = 0; i < s->nscratch; i++) {
		s->scratch[i].id = i;
		s->scratch[i].window = SCRATCH_BASE + i * SCRATCH_WINDOW;
	}
	return 0;
}

/*
 * calloc() for the structs that start a cache line of their own
 * (_Alignas(64)): malloc only promises 16 bytes, and an access through a
 * misaligned one is undefined (UBSan stops the run).  sizeof such a
 * struct is a multiple of 64, as aligned_alloc() wants.
 */
void *stress_calloc_lines(size_t n, size_t size)
{
	void *p;

	if (!n)
		n = 1;
	if (size && n > SIZE_MAX / size)
		return NULL;
	p = aligned_alloc(64, n * size);
	if (p)
		memset(p, 0, n * size);
	return p;
}

static int stress_alloc(struct stress *s)
{
	s->regions = stress_calloc_lines(s->nregions, sizeof(*s->regions));
	s->scratch = stress_calloc_lines(s->nscratch, sizeof(*s->scratch));
	s->cpus = stress_calloc_lines(s->o->cpus, sizeof(*s->cpus));
	if (!s->regions || !s->scratch || !s->cpus || stress_shmem_alloc(s))
		return -1;
	return 0;
}

static void stress_free(struct stress *s)
{
	stress_spf_free(s);
	free(s->regions);
	free(s->scratch);
	free(s->shmem);
	free(s->cpus);
}

static void stress_sum(struct stress *s, struct stress_stats *st)
{
	for (unsigned int i = 0; i < s->o->cpus; i++) {
		const struct stress_stats *c = &s->cpus[i].st;

		st->faults += c->faults;
		st->stores += c->stores;
		st->loads += c->loads;
		st->syscalls += c->syscalls;
		st->migrations += c->migrations;
		st->forks += c->forks;
		st->segv_expected += c->segv_expected;
		st->spf_ops += c->spf_ops;
		st->spf_changes += c->spf_changes;
		st->spf_strict += c->spf_strict;
	}
	st->quiescent = s->quiescent;
	st->ops = st->stores + st->loads + st->syscalls + st->spf_ops;
}

/* Every frame but the zero page is free again once the mm is gone. */
static void stress_check_leak(struct stress *s)
{
	unsigned long free, total = totalram_pages();

	rcu_barrier();		/* tables may wait for a grace period */
	drain_all_pages();
	free = nr_free_pages();
	if (free == total || atomic_load(&s->failed))
		return;
	atomic_store(&s->failed, 1);
	snprintf(s->why, s->why_size, "leak: %lu of %lu frames not freed "
		 "after the last mmput()", total - free, total);
}

/* The run, between set-up and teardown of the mm. */
static void stress_body(struct stress *s, struct stress_stats *st)
{
	unsigned int started;
	double elapsed = 0;
	sigset_t set, old;

	/* Count the run's faults only, not those of set-up. */
	fault_events_reset();
	lockdep_enable(true);
	/* SIGINT and SIGTERM are the controller's (stress_interrupt). */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &set, &old);
	stress_delays_start(s->o->seed, s->spf != NULL);
	started = stress_start_cpus(s);
	pthread_sigmask(SIG_SETMASK, &old, NULL);

	if (started < s->o->cpus) {
		atomic_store(&s->failed, 1);
		snprintf(s->why, s->why_size, "set-up: started %u of %u "
			 "threads", started, s->o->cpus);
		atomic_store(&s->stop, 1);
		atomic_store(&s->go, 1);
	} else {
		stress_control(s, started, &elapsed);
	}
	stress_join_all(s, started);
	stress_lockdep_failed(s);
	stress_delays_stop();
	fault_events_read(st->events);
	st->strategy = s->mm->strategy;
	if (!atomic_load(&s->failed))
		stress_validate(s, "at the end");
	if (!atomic_load(&s->failed))
		stress_final_check(s);
	stress_sum(s, st);
	st->seconds = elapsed;
	st->interrupted = s->interrupted;
}

int stress_run(const struct stress_opts *o, struct stress_stats *st,
	       char *why, size_t why_size)
{
	struct stress s = { .o = o, .why = why, .why_size = why_size,
			    .warnings0 = mmsim_warnings() };
	struct rng rng = { o->seed };
	int err;

	/* Only tests/CMakeLists.txt's stress_stuck_at_exit sets it. */
	s.test_stuck_at_exit = getenv("MMSIM_TEST_STRESS_STUCK_AT_EXIT");

	memset(st, 0, sizeof(*st));
	why[0] = 0;
	s.nworkers = (o->cpus + 1) / 2;
	s.nchaos = o->cpus - s.nworkers;
	s.nregions = s.nworkers + 1;
	s.nscratch = s.nchaos * SCRATCH_PER_CPU;
	/* Two at least: an even one (with an anchor) and a table region. */
	s.nspf = o->spf_regions ? 1 + s.nworkers / 2 : 0;
	if (s.nspf == 1)
		s.nspf = 2;
	st->workers = s.nworkers;
	st->chaos = s.nchaos;

	mmsim_cpu_attach();		/* the controller validates: a CPU */
	err = mem_init(STRESS_RAM, 0);
	if (err) {
		snprintf(why, why_size, "set-up: mem_init: %s", strerror(-err));
		return 1;
	}
	s.mm = mm_alloc_strategy(4, fault_strategy_find(o->strategy));
	if (!s.mm || stress_alloc(&s)) {
		snprintf(why, why_size, "set-up: out of memory");
		mmput(s.mm);
		stress_free(&s);
		return 1;
	}
	if (!stress_setup_regions(&s, &rng) &&
	    (!s.nspf || !stress_spf_setup(&s)))
		stress_body(&s, st);
	else
		atomic_store(&s.failed, 1);
	mmput(s.mm);
	stress_check_leak(&s);
	stress_free(&s);
	return atomic_load(&s.failed) ? 1 : 0;
}
