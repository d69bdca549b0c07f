// SPDX-License-Identifier: MIT
/*
 * Random operation scripts for the differential test.  Everything happens
 * in a small area (64 pages) so that mappings keep colliding: merges,
 * splits and errors are the point, not coverage of the address space.
 * A few operations carry bad arguments on purpose (unaligned, zero or huge
 * lengths, mmapnr over an existing mapping) to compare the error paths.
 *
 * The generator has its own PRNG (splitmix64), never rand(): a seed must
 * give the same script on every libc and every run.
 */
#include <inttypes.h>
#include <string.h>

#include <mmsim/mm.h>
#include "replay.h"

#define GEN_AREA_PAGES	64
#define GEN_MAX_PAGES	16
#define GEN_RECENT	8

struct gen_range {
	unsigned long off, len;
	bool shared;		/* mapped MAP_SHARED: MADV_REMOVE's target */
};

struct gen {
	uint64_t state;
	/* Ranges recently mapped or remapped: targets that are likely live. */
	struct gen_range recent[GEN_RECENT];
	int nr_recent, next_recent;
};

enum gen_bad {
	GEN_GOOD,
	GEN_UNALIGNED,
	GEN_ZERO_LEN,
	GEN_HUGE_LEN,
};

static uint64_t gen_next(struct gen *g)
{
	uint64_t z = (g->state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* Uniform enough in [0, n): n is tiny next to 2^64. */
static unsigned long gen_below(struct gen *g, unsigned long n)
{
	return n ? gen_next(g) % n : 0;
}

static bool gen_chance(struct gen *g, unsigned int percent)
{
	return gen_below(g, 100) < percent;
}

static void gen_remember(struct gen *g, unsigned long off, unsigned long len,
			 bool shared)
{
	g->recent[g->next_recent].off = off;
	g->recent[g->next_recent].len = len;
	g->recent[g->next_recent].shared = shared;
	g->next_recent = (g->next_recent + 1) % GEN_RECENT;
	if (g->nr_recent < GEN_RECENT)
		g->nr_recent++;
}

/*
 * A recent range, often the latest so that operations chain (map, grow,
 * touch the new part); a random one if nothing was mapped yet.
 */
static struct gen_range gen_recent(struct gen *g)
{
	struct gen_range r;
	int last = (g->next_recent + GEN_RECENT - 1) % GEN_RECENT;

	if (!g->nr_recent) {
		r.off = gen_below(g, GEN_AREA_PAGES) * PAGE_SIZE;
		r.len = (gen_below(g, GEN_MAX_PAGES) + 1) * PAGE_SIZE;
		r.shared = false;
		return r;
	}
	if (gen_chance(g, 40))
		return g->recent[last];
	return g->recent[gen_below(g, g->nr_recent)];
}

static unsigned long gen_pages(struct gen *g)
{
	return (gen_below(g, GEN_MAX_PAGES) + 1) * PAGE_SIZE;
}

/* ~3% each: the kind of bad argument this operation gets, if any. */
static enum gen_bad gen_bad(struct gen *g)
{
	unsigned long r = gen_below(g, 100);

	if (r < 3)
		return GEN_UNALIGNED;
	if (r < 6)
		return GEN_ZERO_LEN;
	if (r < 9)
		return GEN_HUGE_LEN;
	return GEN_GOOD;
}

/*
 * A huge length: one the kernel rejects up front for mmap and munmap, and
 * one that runs far past the window for the range-walking calls.
 */
static unsigned long gen_huge(struct gen *g)
{
	return gen_chance(g, 50) ? 0x7fffffffffffUL : 0xfffffffffffff000UL;
}

/*
 * OFF and LEN for an operation on existing mappings: half the time inside
 * a recent range (to split it, or to merge it back), a quarter around one
 * (straddling its ends or its neighbours), else anywhere.
 */
static void gen_range(struct gen *g, enum gen_bad bad, unsigned long *off,
		      unsigned long *len)
{
	unsigned long pages, skip, r100 = gen_below(g, 100);
	struct gen_range r;
	long shift;

	if (r100 < 50) {
		r = gen_recent(g);
		pages = r.len / PAGE_SIZE;
		skip = gen_below(g, pages);
		*off = r.off + skip * PAGE_SIZE;
		*len = (gen_below(g, pages - skip) + 1) * PAGE_SIZE;
	} else if (r100 < 75) {
		r = gen_recent(g);
		shift = (long)gen_below(g, 5) - 2;
		*off = r.off + shift * (long)PAGE_SIZE;
		if ((long)*off < 0)
			*off = r.off;
		*len = gen_chance(g, 50) ? r.len : gen_pages(g);
	} else {
		*off = gen_below(g, GEN_AREA_PAGES) * PAGE_SIZE;
		*len = gen_pages(g);
	}

	switch (bad) {
	case GEN_UNALIGNED:
		if (gen_chance(g, 70))
			*off += gen_below(g, PAGE_SIZE - 1) + 1;
		else
			*len -= gen_below(g, PAGE_SIZE - 1) + 1;
		break;
	case GEN_ZERO_LEN:
		*len = 0;
		break;
	case GEN_HUGE_LEN:
		*len = gen_huge(g);
		break;
	case GEN_GOOD:
		break;
	}
}

static const char *const gen_prots[] = { "-", "r", "rw", "rx", "rwx", "w" };

static const char *gen_prot(struct gen *g, unsigned int rw_percent)
{
	if (gen_chance(g, rw_percent))
		return "rw";
	return gen_prots[gen_below(g, sizeof(gen_prots) / sizeof(gen_prots[0]))];
}

static void gen_mmap(FILE *out, struct gen *g, const char *op, bool shared,
		     bool overlap)
{
	unsigned long off, len;
	enum gen_bad bad = gen_bad(g);
	struct gen_range r;

	if (overlap) {
		r = gen_recent(g);
		off = r.off + gen_below(g, r.len / PAGE_SIZE) * PAGE_SIZE;
		len = gen_pages(g);
	} else {
		gen_range(g, bad, &off, &len);
		if (gen_chance(g, 60))
			off = gen_below(g, GEN_AREA_PAGES) * PAGE_SIZE +
			      offset_in_page(off);
	}
	fprintf(out, "%s %#lx %#lx %s%s\n", op, off, len,
		gen_prot(g, 60), shared ? " shared" : "");
	if (bad == GEN_GOOD && !overlap)
		gen_remember(g, off, len, shared);
}

static void gen_len_op(FILE *out, struct gen *g, const char *op)
{
	unsigned long off, len;

	gen_range(g, gen_bad(g), &off, &len);
	fprintf(out, "%s %#lx %#lx\n", op, off, len);
}

static void gen_mprotect(FILE *out, struct gen *g)
{
	unsigned long off, len;

	gen_range(g, gen_bad(g), &off, &len);
	fprintf(out, "mprotect %#lx %#lx %s\n", off, len, gen_prot(g, 0));
}

static const char *const gen_advices[] = {
	"normal", "random", "sequential", "willneed", "dontneed",
	"dontfork", "dofork", "remove",
};

/*
 * A recent range that was mapped shared, if there is one.  Shared mappings
 * are a small share of what the generator maps, and MADV_REMOVE does its
 * work only there (elsewhere it fails with -EINVAL).
 */
static bool gen_recent_shared(struct gen *g, struct gen_range *out)
{
	int idx[GEN_RECENT], i, n = 0;

	for (i = 0; i < g->nr_recent; i++)
		if (g->recent[i].shared)
			idx[n++] = i;
	if (!n)
		return false;
	*out = g->recent[idx[gen_below(g, n)]];
	return true;
}

static void gen_madvise(FILE *out, struct gen *g)
{
	const char *advice;
	unsigned long off, len, pages, skip;
	struct gen_range r;

	advice = gen_advices[gen_below(g, sizeof(gen_advices) /
					  sizeof(gen_advices[0]))];
	/* remove: mostly inside a shared range, where it punches a hole. */
	if (!strcmp(advice, "remove") && gen_chance(g, 60) &&
	    gen_recent_shared(g, &r)) {
		pages = r.len / PAGE_SIZE;
		skip = gen_below(g, pages);
		off = r.off + skip * PAGE_SIZE;
		len = (gen_below(g, pages - skip) + 1) * PAGE_SIZE;
	} else {
		gen_range(g, gen_bad(g), &off, &len);
	}
	fprintf(out, "madvise %#lx %#lx %s\n", off, len, advice);
}

/*
 * mremap: shrink or grow in place, or move (MREMAP_FIXED) somewhere in the
 * area, sometimes keeping the old range (MREMAP_DONTUNMAP).  Never a bare
 * MREMAP_MAYMOVE that grows: the kernel would pick an address outside the
 * window, which mmsim has no reason to agree on.
 */
static void gen_mremap(FILE *out, struct gen *g)
{
	struct gen_range r = gen_recent(g);
	unsigned long off = r.off, old_len = r.len, new_len, new_off;
	enum gen_bad bad = gen_bad(g);
	unsigned long kind = gen_below(g, 100);

	if (gen_chance(g, 25) && old_len > PAGE_SIZE)
		old_len -= gen_below(g, old_len / PAGE_SIZE) * PAGE_SIZE;
	if (bad == GEN_UNALIGNED)
		off += gen_below(g, PAGE_SIZE - 1) + 1;
	if (bad == GEN_ZERO_LEN && gen_chance(g, 50))
		old_len = 0;

	if (kind < 25) {
		new_len = (gen_below(g, old_len / PAGE_SIZE) + 1) * PAGE_SIZE;
	} else if (kind < 55) {
		new_len = old_len + (gen_below(g, 8) + 1) * PAGE_SIZE;
	} else {
		new_len = kind < 90 && gen_chance(g, 50) ? gen_pages(g) : old_len;
	}
	if (bad == GEN_ZERO_LEN && old_len)
		new_len = 0;
	if (bad == GEN_HUGE_LEN && gen_chance(g, 50))
		new_len = gen_huge(g);
	else if (bad == GEN_HUGE_LEN)
		old_len = gen_huge(g);

	if (kind < 55) {
		fprintf(out, "mremap %#lx %#lx %#lx%s\n", off, old_len, new_len,
			kind < 25 && old_len && gen_chance(g, 30) ? " maymove" : "");
		if (bad == GEN_GOOD)
			gen_remember(g, off, new_len, r.shared);
		return;
	}
	new_off = gen_below(g, GEN_AREA_PAGES) * PAGE_SIZE;
	fprintf(out, "mremap %#lx %#lx %#lx %#lx%s\n", off, old_len, new_len,
		new_off, kind >= 90 ? " dontunmap" : "");
	if (bad == GEN_GOOD)
		gen_remember(g, new_off, new_len, r.shared);
}

/* Touches mostly land in recently mapped pages, at a page or a byte. */
static void gen_touch(FILE *out, struct gen *g)
{
	struct gen_range r;
	unsigned long off;

	if (gen_chance(g, 80)) {
		r = gen_recent(g);
		off = r.off + gen_below(g, (r.len + PAGE_SIZE - 1) / PAGE_SIZE) *
			      PAGE_SIZE;
	} else {
		off = gen_below(g, GEN_AREA_PAGES + GEN_MAX_PAGES) * PAGE_SIZE;
	}
	if (gen_chance(g, 25))
		off += gen_below(g, PAGE_SIZE);
	fprintf(out, "touch %#lx %s\n", off, gen_chance(g, 50) ? "w" : "r");
}

/*
 * One random call per statement where order matters: the evaluation order
 * of function arguments is unspecified, and gcc and clang differ.
 */
static void gen_op(FILE *out, struct gen *g, int i)
{
	unsigned long r = gen_below(g, 100);
	bool shared, overlap;

	/* Something to work on first. */
	if (i < 2)
		r = 0;

	if (r < 25)
		gen_mmap(out, g, "mmap", false, false);
	else if (r < 30)
		gen_mmap(out, g, "mmap", true, false);
	else if (r < 34) {
		shared = gen_chance(g, 20);
		overlap = gen_chance(g, 50);
		gen_mmap(out, g, "mmapnr", shared, overlap);
	} else if (r < 44)
		gen_len_op(out, g, "munmap");
	else if (r < 61)
		gen_mprotect(out, g);
	else if (r < 71)
		gen_mremap(out, g);
	else if (r < 78)
		gen_madvise(out, g);
	else if (r < 82)
		gen_len_op(out, g, "mlock");
	else if (r < 85)
		gen_len_op(out, g, "munlock");
	else
		gen_touch(out, g);
}

void replay_gen_script(FILE *out, uint64_t seed, int nops)
{
	struct gen g = { .state = seed };
	int i;

	fprintf(out, "# seed %" PRIu64 " ops %d\n", seed, nops);
	for (i = 0; i < nops; i++)
		gen_op(out, &g, i);
}
