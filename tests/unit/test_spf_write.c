// SPDX-License-Identifier: MIT
/*
 * The write side of spf-srcu at every VMA modification site (SPF RFC
 * v5 patches 04-07): each change of what a fault reads of a VMA advances its
 * vm_sequence by a whole number of write sections (even, non-zero) and
 * leaves it even; each insert or erase of the tree advances mm_seq; an
 * erased VMA has an empty rb node; a VMA that was in the tree is freed
 * only after an SRCU grace period, with its file.  With the classic
 * strategy none of this happens: the counts stay 0 and VMAs go at once.
 *
 * A test that must look at a VMA after it left the tree holds
 * srcu_read_lock(&vma_srcu), as a speculative fault would: the VMA is then
 * guaranteed to stay allocated (ASan builds check it) until the unlock.
 *
 * Numbers in the drawings are pages from TEST_BASE.
 */
#include <unistd.h>

#include <mmsim/lockdep.h>
#include <mmsim/mutant.h>
#include <mmsim/sched.h>
#include <mmsim/strategy.h>

#include "helpers.h"

#define B	TEST_BASE
#define RW	(PROT_READ | PROT_WRITE)

/* --- per-test mm with a given strategy ------------------------------------ */

static int spf_setup(void **state)
{
	return mm_setup_strategy(state, &spf_srcu_strategy);
}

static int classic_setup(void **state)
{
	return mm_setup_strategy(state, &classic_strategy);
}

/* Undo what a test may have left set when an assertion failed. */
static int spf_teardown(void **state)
{
	mmsim_set_mutant("none");
	mmsim_set_sched_hook(NULL);
	return mm_teardown(state);
}

#define SPF_TEST(fn) \
	cmocka_unit_test_setup_teardown(fn, spf_setup, spf_teardown)
#define CLASSIC_TEST(fn) \
	cmocka_unit_test_setup_teardown(fn, classic_setup, spf_teardown)

/* --- what the tests look at ----------------------------------------------- */

static unsigned int seq_of(struct vm_area_struct *vma)
{
	return raw_read_seqcount(&vma->vm_sequence);
}

static unsigned int mm_seq_of(struct mm_struct *mm)
{
	return raw_read_seqcount(&mm->mm_seq.seqcount);
}

/*
 * The count moved from before to now by whole write sections (an even,
 * non-zero amount) and no section is open.
 */
#define assert_advanced(before, now) do {				\
	unsigned int __b = (before), __n = (now);			\
	assert_int_equal(__n & 1, 0);					\
	assert_int_not_equal(__n, __b);					\
	assert_int_equal((__n - __b) & 1, 0);				\
} while (0)

/* A VMA not in the tree that an SRCU reader may still look at. */
static void assert_dead(struct vm_area_struct *vma)
{
	assert_true(RB_EMPTY_NODE(&vma->vm_rb));
	assert_int_equal(seq_of(vma) & 1, 0);
}

/* --- splits, merges, mmap ------------------------------------------------- */

/*
 * split_vma() moves the end of vma under its sequence and links the new
 * upper half, which is born with an even count of its own; one insert
 * means one mm_seq write section.
 *
 * |---------------|    ->    |-------|-------|
 * 0      vma      4          0  vma  2  new  4
 */
static void split_advances_vma_and_mm_seq(void **state)
{
	struct mm_struct *mm = test_mm(state);
	struct vm_area_struct *vma, *new;
	unsigned int s0, m0;
	int err;

	map_anon(mm, B, 0, 4, RW);
	vma = vma_at(mm, B);
	s0 = seq_of(vma);
	m0 = mm_seq_of(mm);

	mmap_write_lock(mm);
	err = split_vma(vma, PG(B, 2), 0);
	mmap_write_unlock(mm);
	assert_int_equal(err, 0);

	new = vma_at(mm, PG(B, 2));
	assert_ptr_not_equal(new, vma);
	assert_int_equal(seq_of(vma), s0 + 2);
	assert_int_equal(seq_of(new), 0);
	assert_int_equal(mm_seq_of(mm), m0 + 2);
	assert_valid(mm);
}

/*
 * A new VMA is linked inside its own write section, which ends only when
 * mmap_region() is done with it (docs/races.md race 8): it leaves mmap with
 * exactly one section behind it.  The insert is one mm_seq section.
 */
static void mmap_new_vma_born_in_write_section(void **state)
{
	struct mm_struct *mm = test_mm(state);
	unsigned int m0 = mm_seq_of(mm);
	struct vm_area_struct *vma;

	map_anon(mm, B, 0, 4, RW);
	vma = vma_at(mm, B);
	assert_int_equal(seq_of(vma), 2);
	assert_int_equal(mm_seq_of(mm), m0 + 2);
	/* So is a shared one, whose file is set up before the link. */
	map_shared(mm, B, 8, 10, RW);
	assert_int_equal(seq_of(vma_at(mm, PG(B, 8))), 2);
	assert_int_equal(mm_seq_of(mm), m0 + 4);
}

/*
 * prev grows over the new range and next, which leaves the tree (one
 * erase, no insert) with its count advanced and its node cleared.
 *
 *   prev      new      next
 * |-------|.......|-------|    ->    |-----------------------|
 * 0       2       4       6          0                       6
 */
static void merge_both_advances_prev_and_kills_next(void **state)
{
	struct mm_struct *mm = test_mm(state);
	struct vm_area_struct *prev, *next;
	unsigned int sp, sn, m0;
	int idx;

	map_anon(mm, B, 0, 2, RW);
	map_anon(mm, B, 4, 6, RW);
	prev = vma_at(mm, B);
	next = vma_at(mm, PG(B, 4));
	sp = seq_of(prev);
	sn = seq_of(next);
	m0 = mm_seq_of(mm);

	idx = srcu_read_lock(&vma_srcu);
	map_anon(mm, B, 2, 4, RW);
	assert_layout(mm, B, { 0, 6, VMA_RW });
	assert_ptr_equal(vma_at(mm, B), prev);
	assert_int_equal(seq_of(prev), sp + 2);
	assert_advanced(sn, seq_of(next));
	assert_dead(next);
	assert_int_equal(mm_seq_of(mm), m0 + 2);
	srcu_read_unlock(&vma_srcu, idx);
}

/*
 * prev has no anon_vma and takes next's before growing over it: that is
 * a write section of its own (docs/races.md race 10), then the adjust's.
 *
 *   prev      new      next              prev
 * |-------|.......|-------|    ->    |-----------------------|
 * 0       2       4   A   6          0           A           6
 */
static void merge_takes_anon_vma_in_write_section(void **state)
{
	struct mm_struct *mm = test_mm(state);
	struct vm_area_struct *prev;
	struct anon_vma *anon;
	unsigned int sp;

	map_anon(mm, B, 0, 2, RW);
	map_anon(mm, B, 4, 6, RW);
	write_touch(mm, PG(B, 4));
	anon = vma_at(mm, PG(B, 4))->anon_vma;
	assert_non_null(anon);
	prev = vma_at(mm, B);
	assert_null(prev->anon_vma);
	sp = seq_of(prev);

	map_anon(mm, B, 2, 4, RW);
	assert_layout(mm, B, { 0, 6, VMA_RW });
	assert_ptr_equal(vma_at(mm, B), prev);
	assert_ptr_equal(prev->anon_vma, anon);
	assert_int_equal(seq_of(prev), sp + 4);
}

/* A stack growing down moves its start under its sequence. */
static void stack_growth_advances_sequence(void **state)
{
	struct mm_struct *mm = test_mm(state);
	unsigned long top = PG(B, 64);
	struct vm_area_struct *vma;
	unsigned int s0, m0;
	int err;

	mmap_write_lock(mm);
	err = setup_stack(mm, top, PG(0, 4));
	mmap_write_unlock(mm);
	assert_int_equal(err, 0);
	vma = vma_at(mm, top - PAGE_SIZE);
	s0 = seq_of(vma);
	m0 = mm_seq_of(mm);

	mmap_write_lock(mm);
	err = expand_stack_locked(vma, top - PG(0, 8));
	mmap_write_unlock(mm);
	assert_int_equal(err, 0);
	assert_int_equal(vma->vm_start, top - PG(0, 8));
	assert_int_equal(seq_of(vma), s0 + 2);
	/* The tree's shape did not change. */
	assert_int_equal(mm_seq_of(mm), m0);
	assert_valid(mm);
}

/* --- mprotect, madvise, mlock: flag changes ------------------------------- */

/*
 * mprotect of a whole VMA: flags, page protection and PTEs change in one
 * write section; the tree is untouched.
 */
static void mprotect_advances_sequence(void **state)
{
	struct mm_struct *mm = test_mm(state);
	struct vm_area_struct *vma;
	unsigned int s0, m0;

	map_anon(mm, B, 0, 4, RW);
	write_touch(mm, B);
	vma = vma_at(mm, B);
	s0 = seq_of(vma);
	m0 = mm_seq_of(mm);
	protect_pages(mm, B, 0, 4, PROT_READ);
	assert_int_equal(vma->vm_flags & VM_ACCESS_FLAGS, VM_READ);
	assert_int_equal(seq_of(vma), s0 + 2);
	assert_int_equal(mm_seq_of(mm), m0);
}

/* The mutant of mprotect without vm_sequence leaves the count alone. */
static void mprotect_mutant_no_seq_is_seen(void **state)
{
	struct mm_struct *mm = test_mm(state);
	struct vm_area_struct *vma;
	unsigned int s0;

	map_anon(mm, B, 0, 4, RW);
	vma = vma_at(mm, B);
	s0 = seq_of(vma);
	assert_int_equal(mmsim_set_mutant("no-seq-mprotect"), 0);
	protect_pages(mm, B, 0, 4, PROT_READ);
	mmsim_set_mutant("none");
	assert_int_equal(seq_of(vma), s0);
}

/*
 * mprotect of the middle: two splits (two inserts), then the flag change
 * of the middle piece, which is the original VMA.
 *
 * |-----------------------|  ->  |-------|*******|-------|
 * 0                       6      0       2  vma  4       6
 */
static void mprotect_split_advances_sequence(void **state)
{
	struct mm_struct *mm = test_mm(state);
	struct vm_area_struct *vma;
	unsigned int s0, m0;

	map_anon(mm, B, 0, 6, RW);
	vma = vma_at(mm, B);
	s0 = seq_of(vma);
	m0 = mm_seq_of(mm);
	protect_pages(mm, B, 2, 4, PROT_READ);
	assert_layout(mm, B, { 0, 2, VMA_RW }, { 2, 4, VMA_R },
		      { 4, 6, VMA_RW });
	assert_ptr_equal(vma_at(mm, PG(B, 2)), vma);
	/* Two adjusts and the protection change. */
	assert_int_equal(seq_of(vma), s0 + 6);
	assert_int_equal(seq_of(vma_at(mm, B)), 0);
	assert_int_equal(seq_of(vma_at(mm, PG(B, 4))), 0);
	assert_int_equal(mm_seq_of(mm), m0 + 4);
}

static void madvise_advances_sequence(void **state)
{
	struct mm_struct *mm = test_mm(state);
	struct vm_area_struct *vma;
	unsigned int s0, m0;

	map_anon(mm, B, 0, 4, RW);
	vma = vma_at(mm, B);
	s0 = seq_of(vma);
	m0 = mm_seq_of(mm);
	assert_int_equal(sys_madvise(mm, B, PG(0, 4), MADV_RANDOM), 0);
	assert_true(vma->vm_flags & VM_RAND_READ);
	assert_int_equal(seq_of(vma), s0 + 2);
	assert_int_equal(mm_seq_of(mm), m0);

	/* Advice that changes no flag is no write section. */
	assert_int_equal(sys_madvise(mm, B, PG(0, 4), MADV_WILLNEED), 0);
	assert_int_equal(seq_of(vma), s0 + 2);
}

static void mlock_advances_sequence(void **state)
{
	struct mm_struct *mm = test_mm(state);
	struct vm_area_struct *vma;
	unsigned int s0, m0;

	map_anon(mm, B, 0, 4, RW);
	vma = vma_at(mm, B);
	s0 = seq_of(vma);
	m0 = mm_seq_of(mm);
	assert_int_equal(sys_mlock(mm, B, PG(0, 4)), 0);
	assert_true(vma->vm_flags & VM_LOCKED);
	assert_int_equal(seq_of(vma), s0 + 2);
	assert_int_equal(sys_munlock(mm, B, PG(0, 4)), 0);
	assert_false(vma->vm_flags & VM_LOCKED);
	assert_int_equal(seq_of(vma), s0 + 4);
	assert_int_equal(mm_seq_of(mm), m0);
	assert_valid(mm);
}

/* --- mremap --------------------------------------------------------------- */

/*
 * A move: the copy is linked, both VMAs are in write sections while the
 * PTEs move, then the source leaves the tree.
 *
 * |-------|             ->                    |-------|
 * 0  src  2 ...                     64  copy  66
 */
static void mremap_move_advances_and_kills_source(void **state)
{
	struct mm_struct *mm = test_mm(state);
	struct vm_area_struct *src, *copy;
	unsigned long ret;
	unsigned int s0, m0, s1;
	bool src_dead;
	int idx;

	map_anon(mm, B, 0, 2, RW);
	write_touch(mm, B);
	src = vma_at(mm, B);
	s0 = seq_of(src);
	m0 = mm_seq_of(mm);

	idx = srcu_read_lock(&vma_srcu);
	ret = sys_mremap(mm, B, PG(0, 2), PG(0, 2),
			 MREMAP_MAYMOVE | MREMAP_FIXED, PG(B, 64));
	s1 = seq_of(src);
	src_dead = RB_EMPTY_NODE(&src->vm_rb);
	/* Unlocked before any assertion can jump out of the test. */
	srcu_read_unlock(&vma_srcu, idx);
	assert_int_equal(ret, PG(B, 64));
	copy = vma_at(mm, PG(B, 64));
	assert_non_null(copy);
	assert_null(vma_at(mm, B));
	assert_advanced(s0, s1);
	assert_true(src_dead);
	/* Linked complete, then one section around the move. */
	assert_int_equal(seq_of(copy), 2);
	/* One insert, one erase. */
	assert_int_equal(mm_seq_of(mm), m0 + 4);
	assert_valid(mm);
}

/*
 * The source stays inside its write section until munmap has taken it
 * out of the tree: a speculative fault that came in between the move of
 * the PTEs and the erase would find it unchanged with its PTEs gone (none),
 * map a fresh page there and lose what it stored when the munmap zaps it.
 * The hook samples the source's count whenever the tree's seqlock is
 * written; the last such write is the source's erase.
 */
static struct mm_struct *watched_mm;
static struct vm_area_struct *watched_vma;
static int watched_odd_at_tree_write;

static void watch_tree_writes(enum mmsim_sched_event ev, const void *obj)
{
	if (ev != SCHED_SEQ || obj != &watched_mm->mm_seq.seqcount)
		return;
	watched_odd_at_tree_write = seq_of(watched_vma) & 1;
}

/*
 * Move [first, first + n) of a VMA [0, 6) to 64 and check the section.
 *
 * |---|=======|---|        ->  |---|       |---|         |=======|
 * 0   first   +n  6            0   first   +n  6         64      64+n
 */
static void __mremap_source_in_section(struct mm_struct *mm,
				       unsigned long first, unsigned long n)
{
	struct vm_area_struct *src;
	unsigned long ret;
	bool src_dead;
	unsigned int src_seq;
	int idx;

	map_anon(mm, B, 0, 6, RW);
	write_touch(mm, PG(B, first));
	src = vma_at(mm, B);
	watched_mm = mm;
	watched_vma = src;
	watched_odd_at_tree_write = -1;

	idx = srcu_read_lock(&vma_srcu);
	mmsim_set_sched_hook(watch_tree_writes);
	ret = sys_mremap(mm, PG(B, first), PG(0, n), PG(0, n),
			 MREMAP_MAYMOVE | MREMAP_FIXED, PG(B, 64));
	mmsim_set_sched_hook(NULL);
	/* Look before the unlock, assert after: a failed assertion must not
	 * leave the read side held (the teardown waits for a grace period). */
	src_dead = RB_EMPTY_NODE(&src->vm_rb);
	src_seq = seq_of(src);
	srcu_read_unlock(&vma_srcu, idx);
	assert_int_equal(ret, PG(B, 64));
	assert_null(vma_at(mm, PG(B, first)));
	assert_true(src_dead);
	assert_int_equal(watched_odd_at_tree_write, 1);
	assert_int_equal(src_seq & 1, 0);	/* and ended after */
	assert_valid(mm);
}

static void mremap_source_in_section_until_erased(void **state)
{
	__mremap_source_in_section(test_mm(state), 0, 6);
}

static void mremap_middle_in_section_until_erased(void **state)
{
	__mremap_source_in_section(test_mm(state), 2, 2);
}

/* MREMAP_DONTUNMAP takes the source's lock flags and pages in a section. */
static void mremap_dontunmap_advances_source(void **state)
{
	struct mm_struct *mm = test_mm(state);
	struct vm_area_struct *src;
	unsigned long ret;
	unsigned int s0;

	map_anon(mm, B, 0, 2, RW);
	write_touch(mm, B);
	src = vma_at(mm, B);
	s0 = seq_of(src);
	ret = sys_mremap(mm, B, PG(0, 2), PG(0, 2),
			 MREMAP_MAYMOVE | MREMAP_DONTUNMAP, PG(B, 64));
	assert_int_equal(ret, PG(B, 64));
	assert_ptr_equal(vma_at(mm, B), src);
	assert_null(src->anon_vma);
	/* One section: the move, with dontunmap_complete() nested in it. */
	assert_int_equal(seq_of(src), s0 + 2);
	assert_valid(mm);
}

/* Growing in place is an adjust of the VMA: one section, no tree change. */
static void mremap_grow_in_place_advances_sequence(void **state)
{
	struct mm_struct *mm = test_mm(state);
	struct vm_area_struct *vma;
	unsigned long ret;
	unsigned int s0, m0;

	map_anon(mm, B, 0, 2, RW);
	vma = vma_at(mm, B);
	s0 = seq_of(vma);
	m0 = mm_seq_of(mm);
	ret = sys_mremap(mm, B, PG(0, 2), PG(0, 4), 0, 0);
	assert_int_equal(ret, B);
	assert_int_equal(vma->vm_end, PG(B, 4));
	assert_int_equal(seq_of(vma), s0 + 2);
	assert_int_equal(mm_seq_of(mm), m0);
}

/* --- munmap and the SRCU grace period ------------------------------------- */

/*
 * munmap of the tail: a split (one insert, one adjust of vma), then the
 * tail leaves the tree (one erase) and is dead to lockless readers.
 *
 * |-------|*******|    ->    |-------|
 * 0  vma  2  tail 4          0  vma  2
 */
static void munmap_tail_advances_and_kills(void **state)
{
	struct mm_struct *mm = test_mm(state);
	struct vm_area_struct *vma, *tail;
	unsigned int s0, m0;
	int idx;

	map_anon(mm, B, 0, 4, RW);
	vma = vma_at(mm, B);
	s0 = seq_of(vma);
	m0 = mm_seq_of(mm);

	idx = srcu_read_lock(&vma_srcu);
	mmap_write_lock(mm);
	assert_int_equal(split_vma(vma, PG(B, 2), 0), 0);
	mmap_write_unlock(mm);
	tail = vma_at(mm, PG(B, 2));
	unmap_pages(mm, B, 2, 4);
	assert_null(vma_at(mm, PG(B, 2)));
	assert_int_equal(seq_of(vma), s0 + 2);
	assert_dead(tail);
	assert_int_equal(tail->vm_start, PG(B, 2));
	assert_int_equal(mm_seq_of(mm), m0 + 4);
	srcu_read_unlock(&vma_srcu, idx);
}

/*
 * A reader in the SRCU domain keeps a removed VMA, and its file, alive:
 * the shmem file of a shared mapping lives until the grace period after
 * the reader left.  Waiting a while in between changes nothing.
 */
static void munmap_frees_after_grace_period(void **state)
{
	struct mm_struct *mm = test_mm(state);
	long files = shmem_live_files();
	struct vm_area_struct *vma;
	struct file *file;
	int idx;

	map_shared(mm, B, 0, 4, RW);
	vma = vma_at(mm, B);
	file = vma->vm_file;
	assert_int_equal(shmem_live_files(), files + 1);

	idx = srcu_read_lock(&vma_srcu);
	unmap_pages(mm, B, 0, 4);
	usleep(20000);
	assert_int_equal(shmem_live_files(), files + 1);
	assert_int_equal(atomic_load(&file->f_count), 1);
	assert_ptr_equal(vma->vm_file, file);
	assert_dead(vma);
	srcu_read_unlock(&vma_srcu, idx);

	rcu_barrier();
	assert_int_equal(shmem_live_files(), files);
}

/* The same through a merge: the swallowed VMA's file reference waits. */
static void merge_frees_after_grace_period(void **state)
{
	struct mm_struct *mm = test_mm(state);
	struct vm_area_struct *vma;
	struct file *file;
	int idx;

	map_shared(mm, B, 0, 6, RW);
	vma = vma_at(mm, B);
	file = vma->vm_file;
	protect_pages(mm, B, 2, 4, PROT_READ);
	assert_int_equal(atomic_load(&file->f_count), 3);

	idx = srcu_read_lock(&vma_srcu);
	protect_pages(mm, B, 2, 4, RW);
	assert_layout(mm, B, { 0, 6, VMA_RW | VM_SHARED });
	usleep(20000);
	assert_int_equal(atomic_load(&file->f_count), 3);
	srcu_read_unlock(&vma_srcu, idx);

	rcu_barrier();
	assert_int_equal(atomic_load(&file->f_count), 1);
}

/*
 * The mutant that frees without a grace period drops the file while the
 * reader is still inside: what munmap_frees_after_grace_period() catches.
 */
static void mutant_no_grace_period_is_seen(void **state)
{
	struct mm_struct *mm = test_mm(state);
	long files = shmem_live_files();
	int idx;

	map_shared(mm, B, 0, 4, RW);
	assert_int_equal(mmsim_set_mutant("no-grace-period"), 0);
	idx = srcu_read_lock(&vma_srcu);
	unmap_pages(mm, B, 0, 4);
	assert_int_equal(shmem_live_files(), files);
	srcu_read_unlock(&vma_srcu, idx);
	mmsim_set_mutant("none");
}

/*
 * The erase clears the node after the mm_seq section ends; the mutant of
 * the historical bug clears it inside.  Watch the node when mm_seq's
 * section ends (its last scheduling point, count still odd).
 */
static struct rb_node *watched_node;
static seqcount_t *watched_seq;
static atomic_int cleared_inside;

static void watch_erase(enum mmsim_sched_event ev, const void *obj)
{
	if (ev != SCHED_SEQ || obj != watched_seq || !watched_node)
		return;
	if ((seqcount_peek(watched_seq) & 1) &&
	    RB_EMPTY_NODE(watched_node))
		atomic_store(&cleared_inside, 1);
}

static void erase_clears_node_after_mm_seq(void **state)
{
	struct mm_struct *mm = test_mm(state);
	struct vm_area_struct *vma;
	int idx, mutant;

	for (mutant = 0; mutant < 2; mutant++) {
		map_anon(mm, B, 0, 2, RW);
		vma = vma_at(mm, B);
		if (mutant)
			assert_int_equal(mmsim_set_mutant("rb-clear-early"), 0);
		atomic_store(&cleared_inside, 0);
		watched_seq = &mm->mm_seq.seqcount;
		watched_node = &vma->vm_rb;
		mmsim_set_sched_hook(watch_erase);
		idx = srcu_read_lock(&vma_srcu);
		unmap_pages(mm, B, 0, 2);
		mmsim_set_sched_hook(NULL);
		mmsim_set_mutant("none");
		assert_dead(vma);
		srcu_read_unlock(&vma_srcu, idx);
		watched_node = NULL;
		assert_int_equal(atomic_load(&cleared_inside), mutant);
	}
}

/* --- race 2: i_mmap_rwsem before vm_sequence ------------------------------ */

/*
 * __vma_adjust() of a VMA mapping a file begins its sequence only once it
 * holds the file's i_mmap_rwsem.  The hook sees each begin (the first
 * scheduling point with the count odd) and whether the lock is held then.
 */
static struct rw_semaphore *watched_rwsem;
static atomic_int begins, begins_unlocked, in_section;

static void watch_begin(enum mmsim_sched_event ev, const void *obj)
{
	if (ev != SCHED_SEQ || obj != watched_seq)
		return;
	if (!(seqcount_peek(watched_seq) & 1))
		return;
	if (atomic_exchange(&in_section, 0))
		return;		/* the end's point: the section closes */
	atomic_store(&in_section, 1);
	atomic_fetch_add(&begins, 1);
	if (!rwsem_is_write_locked_by_me(watched_rwsem))
		atomic_fetch_add(&begins_unlocked, 1);
}

static void adjust_file_vma(struct mm_struct *mm, unsigned long page)
{
	struct vm_area_struct *vma = vma_at(mm, PG(B, page));
	int err;

	watched_seq = &vma->vm_sequence;
	watched_rwsem = &vma->vm_file->f_mapping.i_mmap_rwsem;
	atomic_store(&begins, 0);
	atomic_store(&begins_unlocked, 0);
	atomic_store(&in_section, 0);
	mmsim_set_sched_hook(watch_begin);
	mmap_write_lock(mm);
	err = split_vma(vma, PG(B, page + 1), 0);
	mmap_write_unlock(mm);
	mmsim_set_sched_hook(NULL);
	assert_int_equal(err, 0);
	assert_false(rwsem_is_locked(watched_rwsem));
}

static void adjust_begins_sequence_under_mapping_lock(void **state)
{
	struct mm_struct *mm = test_mm(state);

	map_shared(mm, B, 0, 4, RW);
	adjust_file_vma(mm, 0);
	assert_int_equal(atomic_load(&begins), 1);
	assert_int_equal(atomic_load(&begins_unlocked), 0);

	/* The mutant of race 2 begins first: the hook sees it. */
	assert_int_equal(mmsim_set_mutant("seq-before-mapping-lock"), 0);
	adjust_file_vma(mm, 2);
	mmsim_set_mutant("none");
	assert_int_equal(atomic_load(&begins), 1);
	assert_int_equal(atomic_load(&begins_unlocked), 1);
}

/*
 * Race 2 as lockdep sees it (SPF RFC v5 patch 05).  MADV_REMOVE punches a
 * hole in the file: unmap_mapping_range() holds i_mmap_rwsem and its zap
 * enters the VMA's vm_sequence.  A split of a VMA of that file must enter
 * vm_sequence only after i_mmap_rwsem; the mutant enters it before:
 *
 *   CPU0: MADV_REMOVE                  CPU1: mprotect (split)
 *   down_read(i_mmap_rwsem)            vm_write_begin(vma)   <- mutant
 *   zap: vm_write_begin(vma)           down_write(i_mmap_rwsem)
 *
 * lockdep records both orders from one thread, no race needed, and
 * reports the second.  The report is read after lockdep is off again.
 */
static long race2_violations(struct mm_struct *mm, const char *mutant,
			     char *report, size_t n)
{
	long v;

	lockdep_reset();
	lockdep_enable(true);
	assert_int_equal(sys_madvise(mm, PG(B, 1), PG(0, 1), MADV_REMOVE), 0);
	if (mutant)
		assert_int_equal(mmsim_set_mutant(mutant), 0);
	protect_pages(mm, B, 2, 3, PROT_READ);		/* two splits */
	mmsim_set_mutant("none");
	lockdep_enable(false);
	v = lockdep_violations();
	snprintf(report, n, "%s", lockdep_first_report());
	lockdep_reset();
	return v;
}

static void remove_then_split_lockdep(void **state)
{
	struct mm_struct *mm = test_mm(state);
	char report[256];

	map_shared(mm, B, 0, 4, RW);
	write_ul(mm, PG(B, 1), 1);
	assert_int_equal(race2_violations(mm, NULL, report, sizeof(report)), 0);
	protect_pages(mm, B, 0, 4, RW);			/* merged again */
	assert_layout(mm, B, { 0, 4, VMA_RW | VM_SHARED });
	write_ul(mm, PG(B, 1), 1);
	assert_int_equal(race2_violations(mm, "seq-before-mapping-lock",
					  report, sizeof(report)), 1);
	assert_non_null(strstr(report, "i_mmap_rwsem"));
	assert_non_null(strstr(report, "vm_sequence"));
}

/*
 * Two writers at once: a section held under the mmap write lock (as
 * mprotect would) and a hole punch's zap of the same VMA, from another
 * CPU that holds only i_mmap_rwsem.  Alone, the punch moves the count by
 * four (it zaps twice: before and after taking the pages out of the
 * cache).  Inside ours, it does not move it at all: the count turned odd
 * when ours opened and stays so until the last section closes (seqcount
 * writers each moving it would have made it even, "stable", while ours
 * was still open, and left it at +9 instead of +5).
 */
static void remote_punch(void *arg)
{
	struct vm_area_struct *vma = arg;

	shmem_punch_hole(vma->vm_file, 0, 4);
}

static void remove_overlaps_a_held_section(void **state)
{
	struct mm_struct *mm = test_mm(state);
	struct vm_area_struct *vma;
	unsigned int s0, s1;

	map_shared(mm, B, 0, 4, RW);
	write_ul(mm, PG(B, 2), 5);
	vma = vma_at(mm, B);
	s0 = seq_of(vma);
	run_on_other_cpu(remote_punch, vma);
	assert_int_equal(seq_of(vma), s0 + 4);
	assert_int_equal(read_ul(mm, PG(B, 2)), 0);

	write_ul(mm, PG(B, 2), 6);
	mmap_write_lock(mm);
	vm_write_begin(vma);
	run_on_other_cpu(remote_punch, vma);
	s1 = seq_of(vma);
	vm_write_end(vma);
	mmap_write_unlock(mm);
	assert_int_equal(s1, s0 + 5);		/* still odd: ours is open */
	assert_int_equal(seq_of(vma), s0 + 6);
	assert_int_equal(read_ul(mm, PG(B, 2)), 0);
}

/*
 * validate_mm() reports a write section left open between operations,
 * but a hole punch may be inside one on any VMA of its file, holding only
 * i_mmap_rwsem (here: this CPU, as the punch's zap does): that is no
 * leftover, and validate_mm() must not report it (the 30-minute TSan
 * campaign saw fork's validation of the child report one).  A section
 * left open by the mmap-lock holder, on a file VMA or not, still is.
 */
static void validate_ignores_a_punch_section(void **state)
{
	struct mm_struct *mm = test_mm(state);
	struct vm_area_struct *shared, *anon;
	struct address_space *mapping;

	map_shared(mm, B, 0, 4, RW);
	map_anon(mm, B, 8, 10, RW);
	shared = vma_at(mm, B);
	anon = vma_at(mm, PG(B, 8));
	mapping = &shared->vm_file->f_mapping;

	i_mmap_lock_read(mapping);
	vm_write_begin(shared);			/* the zap of a punch */
	assert_int_equal(seq_of(shared) & 1, 1);
	assert_int_equal(validate_mm_verbose(mm, stderr), 0);
	vm_write_end(shared);
	i_mmap_unlock_read(mapping);

	mmap_write_lock(mm);
	vm_write_begin(shared);			/* left open: a bug */
	assert_int_not_equal(validate_mm_verbose(mm, stderr), 0);
	vm_write_end(shared);
	vm_write_begin(anon);
	assert_int_not_equal(validate_mm_verbose(mm, stderr), 0);
	vm_write_end(anon);
	mmap_write_unlock(mm);
	assert_int_equal(validate_mm(mm), 0);
}

/* --- fork ----------------------------------------------------------------- */

/*
 * fork holds each copied parent VMA in a write section from before its
 * PTEs are write-protected until after the TLB flush (docs/races.md race 5):
 * one section each; a VM_DONTCOPY VMA is not copied and not touched.  The
 * child's VMAs are born even and its tree got one insert per VMA.
 */
static void fork_advances_copied_parent_vmas(void **state)
{
	struct mm_struct *mm = test_mm(state);
	struct vm_area_struct *a, *b, *c, *child_vma;
	unsigned int sa, sb, sc, m0;
	struct mm_struct *child;

	map_anon(mm, B, 0, 2, RW);
	map_anon(mm, B, 4, 6, RW);
	map_shared(mm, B, 8, 10, RW);
	write_touch(mm, B);
	assert_int_equal(sys_madvise(mm, PG(B, 4), PG(0, 2), MADV_DONTFORK), 0);
	a = vma_at(mm, B);
	b = vma_at(mm, PG(B, 4));
	c = vma_at(mm, PG(B, 8));
	sa = seq_of(a);
	sb = seq_of(b);
	sc = seq_of(c);
	m0 = mm_seq_of(mm);

	child = dup_mm(mm);
	assert_non_null(child);
	assert_ptr_equal(child->strategy, mm->strategy);
	assert_int_equal(seq_of(a), sa + 2);
	assert_int_equal(seq_of(b), sb);
	assert_int_equal(seq_of(c), sc + 2);
	assert_int_equal(mm_seq_of(mm), m0);

	assert_int_equal(child->map_count, 2);
	for (child_vma = child->mmap; child_vma; child_vma = child_vma->vm_next)
		assert_int_equal(seq_of(child_vma), 0);
	assert_int_equal(mm_seq_of(child), 4);
	assert_int_equal(validate_mm(child), 0);
	mmput(child);
	assert_valid(mm);
}

/* --- classic: none of it -------------------------------------------------- */

/*
 * Every kind of modification on a classic mm: no count moves, and a VMA
 * goes (with its file) at once, SRCU reader or not.
 */
static void classic_counts_nothing_and_frees_at_once(void **state)
{
	struct mm_struct *mm = test_mm(state);
	long files = shmem_live_files();
	struct vm_area_struct *vma;
	struct mm_struct *child;
	unsigned long ret;
	int idx;

	map_anon(mm, B, 0, 2, RW);
	map_anon(mm, B, 4, 6, RW);
	map_anon(mm, B, 2, 4, RW);			/* merge */
	write_touch(mm, B);
	protect_pages(mm, B, 2, 4, PROT_READ);		/* split, mprotect */
	assert_int_equal(sys_madvise(mm, B, PG(0, 2), MADV_RANDOM), 0);
	assert_int_equal(sys_mlock(mm, PG(B, 4), PG(0, 2)), 0);
	ret = sys_mremap(mm, PG(B, 4), PG(0, 2), PG(0, 2),
			 MREMAP_MAYMOVE | MREMAP_FIXED, PG(B, 64));
	assert_int_equal(ret, PG(B, 64));
	child = dup_mm(mm);
	assert_non_null(child);
	assert_ptr_equal(child->strategy, &classic_strategy);
	mmput(child);
	for (vma = mm->mmap; vma; vma = vma->vm_next)
		assert_int_equal(seq_of(vma), 0);
	assert_int_equal(mm_seq_of(mm), 0);

	map_shared(mm, B, 8, 10, RW);
	assert_int_equal(shmem_live_files(), files + 1);
	idx = srcu_read_lock(&vma_srcu);
	unmap_pages(mm, B, 8, 10);
	assert_int_equal(shmem_live_files(), files);
	srcu_read_unlock(&vma_srcu, idx);
	assert_int_equal(mm_seq_of(mm), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		SPF_TEST(split_advances_vma_and_mm_seq),
		SPF_TEST(mmap_new_vma_born_in_write_section),
		SPF_TEST(merge_both_advances_prev_and_kills_next),
		SPF_TEST(merge_takes_anon_vma_in_write_section),
		SPF_TEST(stack_growth_advances_sequence),
		SPF_TEST(mprotect_advances_sequence),
		SPF_TEST(mprotect_mutant_no_seq_is_seen),
		SPF_TEST(mprotect_split_advances_sequence),
		SPF_TEST(madvise_advances_sequence),
		SPF_TEST(mlock_advances_sequence),
		SPF_TEST(mremap_move_advances_and_kills_source),
		SPF_TEST(mremap_source_in_section_until_erased),
		SPF_TEST(mremap_middle_in_section_until_erased),
		SPF_TEST(mremap_dontunmap_advances_source),
		SPF_TEST(mremap_grow_in_place_advances_sequence),
		SPF_TEST(munmap_tail_advances_and_kills),
		SPF_TEST(munmap_frees_after_grace_period),
		SPF_TEST(merge_frees_after_grace_period),
		SPF_TEST(mutant_no_grace_period_is_seen),
		SPF_TEST(erase_clears_node_after_mm_seq),
		SPF_TEST(adjust_begins_sequence_under_mapping_lock),
		SPF_TEST(remove_then_split_lockdep),
		SPF_TEST(remove_overlaps_a_held_section),
		SPF_TEST(validate_ignores_a_punch_section),
		SPF_TEST(fork_advances_copied_parent_vmas),
		CLASSIC_TEST(classic_counts_nothing_and_frees_at_once),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
