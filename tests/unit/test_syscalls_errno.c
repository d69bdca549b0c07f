// SPDX-License-Identifier: MIT
/*
 * Bad input to the system calls: each gets the errno Linux 6.18 gives it
 * and changes nothing (the mm, its counters, the commit charge, the
 * anon_vmas and the shmem files are as they were).  Where the kernel does
 * change something before failing (a hole met half way), the test states
 * what.  Every expected errno here was first obtained from the host
 * kernel with the real system call.
 *
 * The layout most tests start from, in pages from TEST_BASE:
 *
 *     private rw      private rw (A)        shared rw
 *   |------------|   |--------------|     |----------|
 *   0            4   10             14    20         22
 */
#include "helpers.h"

#define B	TEST_BASE
#define RW	(PROT_READ | PROT_WRITE)
#define ANON	(MAP_PRIVATE | MAP_ANONYMOUS)

static void build_layout(struct mm_struct *mm)
{
	map_anon(mm, B, 0, 4, RW);
	map_anon(mm, B, 10, 14, RW);
	write_touch(mm, PG(B, 11));
	map_shared(mm, B, 20, 22, RW);
}

/* Run call, which must return err and leave mm exactly as it was. */
#define assert_fails_unchanged(mm, err, call) do {			\
	struct mm_snapshot __snap;					\
									\
	take_snapshot(mm, &__snap);					\
	assert_int_equal((long)(call), (long)(err));			\
	assert_unchanged(mm, &__snap);					\
} while (0)

/* --- mmap ----------------------------------------------------------------- */

static void mmap_len_zero_einval(void **state)
{
	struct mm_struct *mm = test_mm(state);

	build_layout(mm);
	assert_fails_unchanged(mm, -EINVAL,
		sys_mmap(mm, PG(B, 100), 0, PROT_READ, ANON, NULL, 0));
	assert_fails_unchanged(mm, -EINVAL,
		sys_mmap(mm, PG(B, 100), 0, PROT_READ, ANON | MAP_FIXED,
			 NULL, 0));
}

static void mmap_unaligned_fixed_einval(void **state)
{
	struct mm_struct *mm = test_mm(state);

	build_layout(mm);
	assert_fails_unchanged(mm, -EINVAL,
		sys_mmap(mm, PG(B, 100) + 1, PAGE_SIZE, PROT_READ,
			 ANON | MAP_FIXED, NULL, 0));
	/* Over an existing mapping, which must not be unmapped. */
	assert_fails_unchanged(mm, -EINVAL,
		sys_mmap(mm, PG(B, 1) + 100, PAGE_SIZE, PROT_READ,
			 ANON | MAP_FIXED, NULL, 0));
}

static void mmap_fixed_beyond_task_size_enomem(void **state)
{
	struct mm_struct *mm = test_mm(state);

	build_layout(mm);
	assert_fails_unchanged(mm, -ENOMEM,
		sys_mmap(mm, mm->task_size, PAGE_SIZE, PROT_READ,
			 ANON | MAP_FIXED, NULL, 0));
	assert_fails_unchanged(mm, -ENOMEM,
		sys_mmap(mm, mm->task_size - PAGE_SIZE, PG(0, 2), PROT_READ,
			 ANON | MAP_FIXED, NULL, 0));
	assert_fails_unchanged(mm, -ENOMEM,
		sys_mmap(mm, 1UL << 47, PAGE_SIZE, PROT_READ,
			 ANON | MAP_FIXED, NULL, 0));
}

static void mmap_huge_len_enomem(void **state)
{
	struct mm_struct *mm = test_mm(state);

	build_layout(mm);
	assert_fails_unchanged(mm, -ENOMEM,
		sys_mmap(mm, 0, 1UL << 60, PROT_READ, ANON, NULL, 0));
	assert_fails_unchanged(mm, -ENOMEM,
		sys_mmap(mm, 0, 1UL << 47, PROT_READ, ANON, NULL, 0));
	/* Rounds up to 0. */
	assert_fails_unchanged(mm, -ENOMEM,
		sys_mmap(mm, 0, -1UL, PROT_READ, ANON, NULL, 0));
	assert_fails_unchanged(mm, -ENOMEM,
		sys_mmap(mm, PG(B, 0), 1UL << 60, PROT_READ,
			 ANON | MAP_FIXED, NULL, 0));
}

static void mmap_neither_shared_nor_private_einval(void **state)
{
	struct mm_struct *mm = test_mm(state);

	build_layout(mm);
	assert_fails_unchanged(mm, -EINVAL,
		sys_mmap(mm, 0, PAGE_SIZE, PROT_READ, MAP_ANONYMOUS, NULL, 0));
	assert_fails_unchanged(mm, -EINVAL,
		sys_mmap(mm, PG(B, 0), PAGE_SIZE, PROT_READ,
			 MAP_ANONYMOUS | MAP_FIXED, NULL, 0));
	/* Unknown map types. */
	assert_fails_unchanged(mm, -EINVAL,
		sys_mmap(mm, PG(B, 100), PAGE_SIZE, PROT_READ,
			 MAP_ANONYMOUS | 0x04 | MAP_FIXED, NULL, 0));
	assert_fails_unchanged(mm, -EINVAL,
		sys_mmap(mm, PG(B, 100), PAGE_SIZE, PROT_READ,
			 MAP_ANONYMOUS | 0x0f | MAP_FIXED, NULL, 0));
	/* A shared anonymous mapping cannot grow down. */
	assert_fails_unchanged(mm, -EINVAL,
		sys_mmap(mm, PG(B, 100), PAGE_SIZE, PROT_READ,
			 MAP_ANONYMOUS | MAP_SHARED | MAP_GROWSDOWN | MAP_FIXED,
			 NULL, 0));
}

/*
 * MAP_SHARED_VALIDATE is for files: on Linux 6.18 an anonymous
 * MAP_SHARED_VALIDATE mapping is -EINVAL (do_mmap's switch on the map
 * type has no case for it when there is no file).
 */
static void mmap_anon_shared_validate_einval(void **state)
{
	struct mm_struct *mm = test_mm(state);

	build_layout(mm);
	assert_fails_unchanged(mm, -EINVAL,
		sys_mmap(mm, PG(B, 100), PAGE_SIZE, PROT_READ,
			 MAP_ANONYMOUS | MAP_SHARED_VALIDATE | MAP_FIXED,
			 NULL, 0));
}

/* MAP_FIXED_NOREPLACE over anything mapped: -EEXIST, nothing unmapped. */
static void mmap_fixed_noreplace_overlap_eexist(void **state)
{
	struct mm_struct *mm = test_mm(state);
	unsigned long ret;

	build_layout(mm);
	assert_fails_unchanged(mm, -EEXIST,
		sys_mmap(mm, PG(B, 2), PG(0, 4), PROT_READ,
			 ANON | MAP_FIXED_NOREPLACE, NULL, 0));
	assert_fails_unchanged(mm, -EEXIST,
		sys_mmap(mm, PG(B, 5), PG(0, 20), PROT_READ,
			 ANON | MAP_FIXED_NOREPLACE, NULL, 0));
	/* Free: it maps exactly there. */
	ret = sys_mmap(mm, PG(B, 4), PG(0, 6), PROT_READ,
		       ANON | MAP_FIXED_NOREPLACE, NULL, 0);
	assert_int_equal(ret, PG(B, 4));
	assert_valid(mm);
	assert_layout(mm, B, { 0, 4, VMA_RW }, { 4, 10, VMA_R },
		      { 10, 14, VMA_RW }, { 20, 22, VMA_RW | VM_SHARED });
}

/*
 * mmap does not check the prot bits: on Linux 6.18, mmap with prot
 * PROT_READ | 0x10, | 0x8 or | 0x80000000 (and even 0xffffffff)
 * succeeds, the unknown bits ignored.  (mprotect is the one that refuses
 * them, see mprotect_bad_prot_einval.)
 */
static void mmap_bad_prot_bits_ignored(void **state)
{
	struct mm_struct *mm = test_mm(state);
	unsigned long ret;

	build_layout(mm);
	ret = sys_mmap(mm, PG(B, 100), PAGE_SIZE, PROT_READ | 0x10,
		       ANON | MAP_FIXED, NULL, 0);
	assert_int_equal(ret, PG(B, 100));
	ret = sys_mmap(mm, PG(B, 102), PAGE_SIZE, PROT_READ | 0x80000000UL,
		       ANON | MAP_FIXED, NULL, 0);
	assert_int_equal(ret, PG(B, 102));
	assert_valid(mm);
	assert_layout_in(mm, B, 100, 200, { 100, 101, VMA_R },
			 { 102, 103, VMA_R });
}

/* --- munmap --------------------------------------------------------------- */

static void munmap_unaligned_einval(void **state)
{
	struct mm_struct *mm = test_mm(state);

	build_layout(mm);
	assert_fails_unchanged(mm, -EINVAL,
			       sys_munmap(mm, PG(B, 1) + 1, PAGE_SIZE));
	/* Beyond TASK_SIZE. */
	assert_fails_unchanged(mm, -EINVAL,
			       sys_munmap(mm, 1UL << 47, PAGE_SIZE));
	assert_fails_unchanged(mm, -EINVAL,
			       sys_munmap(mm, mm->task_size, PG(0, 2)));
}

static void munmap_len_zero_einval(void **state)
{
	struct mm_struct *mm = test_mm(state);

	build_layout(mm);
	assert_fails_unchanged(mm, -EINVAL, sys_munmap(mm, PG(B, 0), 0));
}

static void munmap_of_nothing_succeeds(void **state)
{
	struct mm_struct *mm = test_mm(state);

	build_layout(mm);
	assert_fails_unchanged(mm, 0, sys_munmap(mm, PG(B, 4), PG(0, 6)));
	assert_fails_unchanged(mm, 0, sys_munmap(mm, PG(B, 200), PAGE_SIZE));
}

/* --- mprotect ------------------------------------------------------------- */

static void mprotect_unaligned_einval(void **state)
{
	struct mm_struct *mm = test_mm(state);

	build_layout(mm);
	assert_fails_unchanged(mm, -EINVAL,
		sys_mprotect(mm, PG(B, 0) + 1, PAGE_SIZE, PROT_READ));
	/* Alignment is checked before the length. */
	assert_fails_unchanged(mm, -EINVAL,
		sys_mprotect(mm, PG(B, 0) + 1, 0, PROT_READ));
}

static void mprotect_len_zero_succeeds(void **state)
{
	struct mm_struct *mm = test_mm(state);

	build_layout(mm);
	assert_fails_unchanged(mm, 0, sys_mprotect(mm, PG(B, 0), 0, PROT_READ));
	/* Even where nothing is mapped. */
	assert_fails_unchanged(mm, 0,
			       sys_mprotect(mm, PG(B, 200), 0, PROT_READ));
}

/*
 * A range starting in a hole: -ENOMEM, nothing changed.  A hole after the
 * start: -ENOMEM too, but the VMAs before the hole have their new rights
 * already, and keep them.
 *
 *   mprotect(2..8, r)
 *   |---.....|        |.....|        ->   |---|-----|      |------|
 *   0   2    4        10  (14)             0 rw 2  r  4     10 rw 14
 */
static void mprotect_hole_enomem(void **state)
{
	struct mm_struct *mm = test_mm(state);

	build_layout(mm);
	assert_fails_unchanged(mm, -ENOMEM,
		sys_mprotect(mm, PG(B, 4), PG(0, 2), PROT_READ));
	assert_fails_unchanged(mm, -ENOMEM,
		sys_mprotect(mm, PG(B, 4), PG(0, 8), PROT_READ));
	assert_fails_unchanged(mm, -ENOMEM,
		sys_mprotect(mm, PG(B, 200), PAGE_SIZE, PROT_READ));

	assert_int_equal(sys_mprotect(mm, PG(B, 2), PG(0, 10), PROT_READ),
			 -ENOMEM);
	assert_valid(mm);
	assert_layout(mm, B, { 0, 2, VMA_RW }, { 2, 4, VMA_R },
		      { 10, 14, VMA_RW }, { 20, 22, VMA_RW | VM_SHARED });
	/* Never written: the read-only part gave its commit back. */
	assert_false(vma_at(mm, PG(B, 2))->vm_flags & VM_ACCOUNT);

	/* Past the last VMA: everything up to the end changed. */
	assert_int_equal(sys_mprotect(mm, PG(B, 20), PG(0, 4), PROT_READ),
			 -ENOMEM);
	assert_valid(mm);
	assert_layout_in(mm, B, 20, 30, { 20, 22, VMA_R | VM_SHARED });
}

static void mprotect_bad_prot_einval(void **state)
{
	struct mm_struct *mm = test_mm(state);

	build_layout(mm);
	assert_fails_unchanged(mm, -EINVAL,
		sys_mprotect(mm, PG(B, 0), PAGE_SIZE, PROT_READ | 0x10));
	assert_fails_unchanged(mm, -EINVAL,
		sys_mprotect(mm, PG(B, 0), PAGE_SIZE,
			     PROT_READ | 0x80000000UL));
	assert_fails_unchanged(mm, -EINVAL,
		sys_mprotect(mm, PG(B, 0), PAGE_SIZE,
			     PROT_READ | PROT_GROWSDOWN | PROT_GROWSUP));
	/* A length that wraps: -ENOMEM. */
	assert_fails_unchanged(mm, -ENOMEM,
		sys_mprotect(mm, PG(B, 0), -PAGE_SIZE, PROT_READ));
	/* PROT_SEM (0x8) is allowed on x86, and means nothing. */
	assert_int_equal(sys_mprotect(mm, PG(B, 0), PAGE_SIZE,
				      PROT_READ | 0x8), 0);
	assert_valid(mm);
	assert_layout_in(mm, B, 0, 10, { 0, 1, VMA_R }, { 1, 4, VMA_RW });
}

/*
 * PROT_GROWSDOWN on a VM_GROWSDOWN VMA extends the range down to the
 * start of the VMA; on any other VMA it is -EINVAL.  On Linux 6.18,
 * mprotect(stack + 2 pages, 1 page, PROT_READ | PROT_GROWSDOWN) on a
 * 4-page MAP_GROWSDOWN mapping makes its first 3 pages read-only.
 *
 * KNOWN DIVERGENCE: mmsim's sys_mprotect() returns -EINVAL for any
 * PROT_GROWSDOWN or PROT_GROWSUP ("not modelled").
 */
static void mprotect_growsdown_extends_to_vma_start(void **state)
{
	struct mm_struct *mm = test_mm(state);
	unsigned long ret;

	skip();
	build_layout(mm);
	ret = sys_mmap(mm, PG(B, 30), PG(0, 4), RW,
		       ANON | MAP_FIXED | MAP_GROWSDOWN, NULL, 0);
	assert_int_equal(ret, PG(B, 30));
	assert_valid(mm);
	assert_fails_unchanged(mm, -EINVAL,
		sys_mprotect(mm, PG(B, 12), PAGE_SIZE,
			     PROT_READ | PROT_GROWSDOWN));
	assert_int_equal(sys_mprotect(mm, PG(B, 32), PAGE_SIZE,
				      PROT_READ | PROT_GROWSDOWN), 0);
	assert_valid(mm);
	assert_layout_in(mm, B, 30, 40, { 30, 33, VMA_R | VM_GROWSDOWN },
			 { 33, 34, VMA_RW | VM_GROWSDOWN });
}

/* --- madvise -------------------------------------------------------------- */

static void madvise_bad_advice_einval(void **state)
{
	struct mm_struct *mm = test_mm(state);

	build_layout(mm);
	assert_fails_unchanged(mm, -EINVAL,
			       sys_madvise(mm, PG(B, 0), PAGE_SIZE, 12345));
	assert_fails_unchanged(mm, -EINVAL,
			       sys_madvise(mm, PG(B, 0), PAGE_SIZE, -1));
	/* Even on nothing. */
	assert_fails_unchanged(mm, -EINVAL,
			       sys_madvise(mm, PG(B, 200), PAGE_SIZE, 12345));
}

/*
 * Advice mmsim does not implement is still advice the kernel knows: on
 * Linux 6.18, MADV_FREE (8), MADV_DONTDUMP (16) and MADV_HUGEPAGE (14)
 * on a private anonymous mapping succeed; only values it does not know
 * (5, 6, 7, 25 and 100 among them) are -EINVAL.
 *
 * KNOWN DIVERGENCE: mmsim's madvise_behavior_valid() knows NORMAL,
 * RANDOM, SEQUENTIAL, WILLNEED, DONTNEED, DONTFORK and DOFORK only, and
 * returns -EINVAL for every other value.
 */
static void madvise_unmodelled_advice_accepted(void **state)
{
	struct mm_struct *mm = test_mm(state);

	skip();
	build_layout(mm);
	assert_int_equal(sys_madvise(mm, PG(B, 0), PAGE_SIZE, 8), 0);
	assert_valid(mm);
	assert_int_equal(sys_madvise(mm, PG(B, 0), PAGE_SIZE, 14), 0);
	assert_valid(mm);
	assert_int_equal(sys_madvise(mm, PG(B, 0), PAGE_SIZE, 16), 0);
	assert_valid(mm);
}

static void madvise_unaligned_einval(void **state)
{
	struct mm_struct *mm = test_mm(state);

	build_layout(mm);
	assert_fails_unchanged(mm, -EINVAL,
		sys_madvise(mm, PG(B, 0) + 1, PAGE_SIZE, MADV_RANDOM));
	assert_fails_unchanged(mm, -EINVAL,
		sys_madvise(mm, PG(B, 0) + 1, 0, MADV_RANDOM));
	/* A length rounding up past the end of the address space. */
	assert_fails_unchanged(mm, -EINVAL,
		sys_madvise(mm, PG(B, 0), -PAGE_SIZE, MADV_RANDOM));
	/* len 0 is fine. */
	assert_fails_unchanged(mm, 0,
		sys_madvise(mm, PG(B, 0), 0, MADV_RANDOM));
}

/*
 * madvise skips holes and reports -ENOMEM at the end: every VMA of the
 * range got the advice, on both sides of the hole.
 *
 *   madvise(2..12, RANDOM)
 *   |---.....|      |.....-----|   ->  |---|rr---|      |rr---|-----|
 *   0   2    4      10   12   14       0   2     4      10    12    14
 */
static void madvise_hole_enomem(void **state)
{
	struct mm_struct *mm = test_mm(state);

	build_layout(mm);
	assert_fails_unchanged(mm, -ENOMEM,
		sys_madvise(mm, PG(B, 4), PG(0, 2), MADV_RANDOM));
	assert_fails_unchanged(mm, -ENOMEM,
		sys_madvise(mm, PG(B, 200), PG(0, 2), MADV_DONTNEED));
	assert_fails_unchanged(mm, -ENOMEM,
		sys_madvise(mm, PG(B, 200), PG(0, 2), MADV_WILLNEED));

	assert_int_equal(sys_madvise(mm, PG(B, 2), PG(0, 10), MADV_RANDOM),
			 -ENOMEM);
	assert_valid(mm);
	assert_layout(mm, B, { 0, 2, VMA_RW }, { 2, 4, VMA_RW | VM_RAND_READ },
		      { 10, 12, VMA_RW | VM_RAND_READ }, { 12, 14, VMA_RW },
		      { 20, 22, VMA_RW | VM_SHARED });
}

/* MADV_DONTNEED on a locked VMA: -EINVAL (not on the unlocked rest). */
static void madvise_dontneed_mlocked_einval(void **state)
{
	struct mm_struct *mm = test_mm(state);

	build_layout(mm);
	assert_int_equal(sys_mlock(mm, PG(B, 0), PAGE_SIZE), 0);
	assert_valid(mm);
	assert_layout_in(mm, B, 0, 10, { 0, 1, VMA_RW | VM_LOCKED },
			 { 1, 4, VMA_RW });

	assert_fails_unchanged(mm, -EINVAL,
		sys_madvise(mm, PG(B, 0), PG(0, 2), MADV_DONTNEED));
	assert_fails_unchanged(mm, -EINVAL,
		sys_madvise(mm, PG(B, 0), PAGE_SIZE, MADV_DONTNEED));
	assert_fails_unchanged(mm, 0,
		sys_madvise(mm, PG(B, 1), PAGE_SIZE, MADV_DONTNEED));
}

/* --- mlock ---------------------------------------------------------------- */

/*
 * mlock and munlock of a range starting in a hole: -ENOMEM, nothing
 * changed.  With a hole after the start: -ENOMEM, the part before it
 * changed.
 *
 *   mlock(2..12)
 *   |---.....|      |.....|     ->  |---|lo---|      |-----|
 *   0   2    4      10    14        0   2     4      10    14
 */
static void mlock_hole_enomem(void **state)
{
	struct mm_struct *mm = test_mm(state);

	build_layout(mm);
	assert_fails_unchanged(mm, -ENOMEM,
			       sys_mlock(mm, PG(B, 4), PG(0, 2)));
	assert_fails_unchanged(mm, -ENOMEM,
			       sys_mlock(mm, PG(B, 4), PG(0, 8)));
	assert_fails_unchanged(mm, -ENOMEM,
			       sys_munlock(mm, PG(B, 4), PG(0, 2)));
	assert_fails_unchanged(mm, -ENOMEM,
			       sys_mlock2(mm, PG(B, 4) + 5, PG(0, 2), 0));

	assert_int_equal(sys_mlock(mm, PG(B, 2), PG(0, 10)), -ENOMEM);
	assert_valid(mm);
	assert_layout(mm, B, { 0, 2, VMA_RW }, { 2, 4, VMA_RW | VM_LOCKED },
		      { 10, 14, VMA_RW }, { 20, 22, VMA_RW | VM_SHARED });
	assert_int_equal(mm->locked_vm, 2);

	assert_int_equal(sys_munlock(mm, PG(B, 2), PG(0, 10)), -ENOMEM);
	assert_valid(mm);
	assert_layout(mm, B, { 0, 4, VMA_RW }, { 10, 14, VMA_RW },
		      { 20, 22, VMA_RW | VM_SHARED });
	assert_int_equal(mm->locked_vm, 0);
}

/*
 * mlock and munlock round an unaligned start down to its page, and the
 * length up to cover the last byte.
 *
 *   mlock(0 + 100, one page) locks pages 0 and 1;
 *   munlock(1 + 100, 1 byte) unlocks page 1.
 */
static void mlock_unaligned_start_rounded_down(void **state)
{
	struct mm_struct *mm = test_mm(state);

	build_layout(mm);
	assert_int_equal(sys_mlock(mm, PG(B, 0) + 100, PAGE_SIZE), 0);
	assert_valid(mm);
	assert_layout_in(mm, B, 0, 10, { 0, 2, VMA_RW | VM_LOCKED },
			 { 2, 4, VMA_RW });
	assert_int_equal(mm->locked_vm, 2);

	assert_int_equal(sys_munlock(mm, PG(B, 1) + 100, 1), 0);
	assert_valid(mm);
	assert_layout_in(mm, B, 0, 10, { 0, 1, VMA_RW | VM_LOCKED },
			 { 1, 4, VMA_RW });
	assert_int_equal(mm->locked_vm, 1);

	/* Bad mlock2 flags. */
	assert_fails_unchanged(mm, -EINVAL, sys_mlock2(mm, PG(B, 0),
						       PAGE_SIZE, 4));
}

/* --- mremap --------------------------------------------------------------- */

static void mremap_bad_flags_einval(void **state)
{
	struct mm_struct *mm = test_mm(state);

	build_layout(mm);
	assert_fails_unchanged(mm, -EINVAL,
		sys_mremap(mm, PG(B, 0), PAGE_SIZE, PG(0, 2), 8, 0));
	assert_fails_unchanged(mm, -EINVAL,
		sys_mremap(mm, PG(B, 0), PAGE_SIZE, PG(0, 2), 0x80, 0));
	assert_fails_unchanged(mm, -EINVAL,
		sys_mremap(mm, PG(B, 0), PAGE_SIZE, PG(0, 2),
			   MREMAP_MAYMOVE | 0x100, 0));
}

static void mremap_unaligned_einval(void **state)
{
	struct mm_struct *mm = test_mm(state);

	build_layout(mm);
	assert_fails_unchanged(mm, -EINVAL,
		sys_mremap(mm, PG(B, 0) + 1, PAGE_SIZE, PG(0, 2), 0, 0));
	assert_fails_unchanged(mm, -EINVAL,
		sys_mremap(mm, PG(B, 0), PG(0, 2), PG(0, 2),
			   MREMAP_MAYMOVE | MREMAP_FIXED, PG(B, 100) + 1));
}

static void mremap_new_len_zero_einval(void **state)
{
	struct mm_struct *mm = test_mm(state);

	build_layout(mm);
	assert_fails_unchanged(mm, -EINVAL,
		sys_mremap(mm, PG(B, 0), PAGE_SIZE, 0, 0, 0));
	assert_fails_unchanged(mm, -EINVAL,
		sys_mremap(mm, PG(B, 0), PAGE_SIZE, 0, MREMAP_MAYMOVE, 0));
	/* And a new length beyond TASK_SIZE. */
	assert_fails_unchanged(mm, -EINVAL,
		sys_mremap(mm, PG(B, 2), PG(0, 2), 1UL << 48,
			   MREMAP_MAYMOVE, 0));
}

static void mremap_fixed_without_maymove_einval(void **state)
{
	struct mm_struct *mm = test_mm(state);

	build_layout(mm);
	assert_fails_unchanged(mm, -EINVAL,
		sys_mremap(mm, PG(B, 0), PAGE_SIZE, PAGE_SIZE, MREMAP_FIXED,
			   PG(B, 100)));
	assert_fails_unchanged(mm, -EINVAL,
		sys_mremap(mm, PG(B, 0), PAGE_SIZE, PAGE_SIZE,
			   MREMAP_DONTUNMAP, PG(B, 100)));
}

static void mremap_dontunmap_resize_einval(void **state)
{
	struct mm_struct *mm = test_mm(state);

	build_layout(mm);
	assert_fails_unchanged(mm, -EINVAL,
		sys_mremap(mm, PG(B, 0), PAGE_SIZE, PG(0, 2),
			   MREMAP_MAYMOVE | MREMAP_DONTUNMAP, PG(B, 100)));
	assert_fails_unchanged(mm, -EINVAL,
		sys_mremap(mm, PG(B, 0), PG(0, 2), PAGE_SIZE,
			   MREMAP_MAYMOVE | MREMAP_DONTUNMAP | MREMAP_FIXED,
			   PG(B, 100)));
}

/* A fixed target overlapping the source, from either side. */
static void mremap_overlapping_fixed_einval(void **state)
{
	struct mm_struct *mm = test_mm(state);

	build_layout(mm);
	assert_fails_unchanged(mm, -EINVAL,
		sys_mremap(mm, PG(B, 0), PG(0, 2), PG(0, 2),
			   MREMAP_MAYMOVE | MREMAP_FIXED, PG(B, 1)));
	assert_fails_unchanged(mm, -EINVAL,
		sys_mremap(mm, PG(B, 1), PG(0, 2), PG(0, 2),
			   MREMAP_MAYMOVE | MREMAP_FIXED, PG(B, 0)));
	assert_fails_unchanged(mm, -EINVAL,
		sys_mremap(mm, PG(B, 0), PG(0, 2), PG(0, 4),
			   MREMAP_MAYMOVE | MREMAP_FIXED, PG(B, 1)));
	/* A target beyond TASK_SIZE. */
	assert_fails_unchanged(mm, -EINVAL,
		sys_mremap(mm, PG(B, 0), PG(0, 2), PG(0, 2),
			   MREMAP_MAYMOVE | MREMAP_FIXED,
			   mm->task_size - PAGE_SIZE));
}

static void mremap_unmapped_addr_efault(void **state)
{
	struct mm_struct *mm = test_mm(state);

	build_layout(mm);
	assert_fails_unchanged(mm, -EFAULT,
		sys_mremap(mm, PG(B, 5), PAGE_SIZE, PG(0, 2), 0, 0));
	assert_fails_unchanged(mm, -EFAULT,
		sys_mremap(mm, PG(B, 5), PAGE_SIZE, PG(0, 2),
			   MREMAP_MAYMOVE, 0));
	assert_fails_unchanged(mm, -EFAULT,
		sys_mremap(mm, PG(B, 5), PAGE_SIZE, PAGE_SIZE,
			   MREMAP_MAYMOVE | MREMAP_FIXED, PG(B, 30)));
}

/*
 * Growing in place needs the range to end where its VMA ends and free
 * space after it; without MREMAP_MAYMOVE there is no other way: -ENOMEM.
 *
 *   [0, 4) grown to 12 pages runs into [10, 14);
 *   [0, 2) is not the end of its VMA.
 */
static void mremap_grow_blocked_enomem(void **state)
{
	struct mm_struct *mm = test_mm(state);

	build_layout(mm);
	assert_fails_unchanged(mm, -ENOMEM,
		sys_mremap(mm, PG(B, 0), PG(0, 4), PG(0, 12), 0, 0));
	assert_fails_unchanged(mm, -ENOMEM,
		sys_mremap(mm, PG(B, 0), PG(0, 2), PG(0, 3), 0, 0));
	/* Up to the next VMA fits, and merges with it. */
	assert_int_equal(sys_mremap(mm, PG(B, 0), PG(0, 4), PG(0, 10), 0, 0),
			 PG(B, 0));
	assert_valid(mm);
	assert_layout(mm, B, { 0, 14, VMA_RW }, { 20, 22, VMA_RW | VM_SHARED });
}

/* --- mmsim_access --------------------------------------------------------- */

static void access_unmapped_sigsegv(void **state)
{
	struct mm_struct *mm = test_mm(state);

	build_layout(mm);
	assert_fails_unchanged(mm, SIGSEGV, mmsim_access(mm, PG(B, 5), false));
	assert_fails_unchanged(mm, SIGSEGV, mmsim_access(mm, PG(B, 5), true));
	assert_fails_unchanged(mm, SIGSEGV, mmsim_access(mm, 0, false));
	assert_fails_unchanged(mm, SIGSEGV,
			       mmsim_access(mm, PG(B, 22), true));
	assert_fails_unchanged(mm, SIGSEGV,
			       mmsim_access(mm, mm->task_size - 1, false));
}

static void access_write_read_only_sigsegv(void **state)
{
	struct mm_struct *mm = test_mm(state);

	build_layout(mm);
	protect_pages(mm, B, 0, 1, PROT_READ);
	protect_pages(mm, B, 20, 21, PROT_READ);
	assert_fails_unchanged(mm, SIGSEGV, mmsim_access(mm, PG(B, 0), true));
	assert_fails_unchanged(mm, SIGSEGV,
			       mmsim_access(mm, PG(B, 20) + 7, true));
	/* Reads are fine. */
	assert_fails_unchanged(mm, 0, mmsim_access(mm, PG(B, 0), false));
	/* A write to exec-only memory neither. */
	protect_pages(mm, B, 1, 2, PROT_EXEC);
	assert_fails_unchanged(mm, SIGSEGV, mmsim_access(mm, PG(B, 1), true));
}

static void access_prot_none_sigsegv(void **state)
{
	struct mm_struct *mm = test_mm(state);

	build_layout(mm);
	protect_pages(mm, B, 0, 1, PROT_NONE);
	protect_pages(mm, B, 11, 12, PROT_NONE);
	assert_fails_unchanged(mm, SIGSEGV, mmsim_access(mm, PG(B, 0), false));
	assert_fails_unchanged(mm, SIGSEGV, mmsim_access(mm, PG(B, 0), true));
	assert_fails_unchanged(mm, SIGSEGV,
			       mmsim_access(mm, PG(B, 11) + 5, false));
}

/*
 * A shared anonymous mapping grown by mremap grows past the end of its
 * shmem file: the old pages work, the new ones are SIGBUS.
 *
 *   shared, 1 page    mremap to 3     |-------|#######|#######|
 *   |-------|            ->           30  ok  31 BUS  32 BUS  33
 */
static void access_beyond_grown_shared_sigbus(void **state)
{
	struct mm_struct *mm = test_mm(state);
	unsigned long ret;

	build_layout(mm);
	map_shared(mm, B, 30, 31, RW);
	ret = sys_mremap(mm, PG(B, 30), PAGE_SIZE, PG(0, 3), MREMAP_MAYMOVE,
			 0);
	assert_int_equal(ret, PG(B, 30));
	assert_valid(mm);
	assert_layout_in(mm, B, 30, 40, { 30, 33, VMA_RW | VM_SHARED });

	assert_fails_unchanged(mm, 0, mmsim_access(mm, PG(B, 30), true));
	assert_fails_unchanged(mm, SIGBUS, mmsim_access(mm, PG(B, 31), false));
	assert_fails_unchanged(mm, SIGBUS, mmsim_access(mm, PG(B, 32), true));
}

/*
 * The bottom and the top of the address space (host kernel, CAP_SYS_RAWIO
 * dropped): MAP_FIXED and MAP_FIXED_NOREPLACE below vm.mmap_min_addr get
 * -EPERM from security_mmap_addr(), checked after the TASK_SIZE checks and
 * on the start address only; a range that does not fit below TASK_SIZE, or
 * wraps, is -ENOMEM; the last page below TASK_SIZE maps.  Run on 4 and 5
 * page-table levels.
 */
static void mmap_fixed_below_mmap_min_addr_eperm(void **state)
{
	struct mm_struct *mm = test_mm(state);
	unsigned long min = mm->dac_mmap_min_addr, ret;

	build_layout(mm);
	assert_fails_unchanged(mm, -EPERM,
		sys_mmap(mm, 0, PAGE_SIZE, PROT_READ, ANON | MAP_FIXED,
			 NULL, 0));
	assert_fails_unchanged(mm, -EPERM,
		sys_mmap(mm, 0, PAGE_SIZE, PROT_READ,
			 ANON | MAP_FIXED_NOREPLACE, NULL, 0));
	assert_fails_unchanged(mm, -EPERM,
		sys_mmap(mm, min - PAGE_SIZE, PAGE_SIZE, RW,
			 ANON | MAP_FIXED, NULL, 0));
	/* Reaching above mmap_min_addr does not help. */
	assert_fails_unchanged(mm, -EPERM,
		sys_mmap(mm, min - PAGE_SIZE, PG(0, 2), RW,
			 ANON | MAP_FIXED_NOREPLACE, NULL, 0));
	/* Longer than TASK_SIZE - mmap_min_addr, within TASK_SIZE. */
	assert_fails_unchanged(mm, -EPERM,
		sys_mmap(mm, 0, mm->task_size - PAGE_SIZE, PROT_READ,
			 ANON | MAP_FIXED, NULL, 0));
	assert_fails_unchanged(mm, -EPERM,
		sys_mmap(mm, 0, mm->task_size, PROT_READ, ANON | MAP_FIXED,
			 NULL, 0));

	/* From mmap_min_addr on, it maps. */
	ret = sys_mmap(mm, min, PAGE_SIZE, RW, ANON | MAP_FIXED_NOREPLACE,
		       NULL, 0);
	assert_int_equal(ret, min);
	assert_valid(mm);
	assert_int_equal(sys_munmap(mm, min, PAGE_SIZE), 0);
}

/* A task with CAP_SYS_RAWIO may map page 0. */
static void mmap_fixed_at_zero_with_cap_sys_rawio(void **state)
{
	struct mm_struct *mm = test_mm(state);

	mm->cap_sys_rawio = true;
	assert_int_equal(sys_mmap(mm, 0, PAGE_SIZE, RW, ANON | MAP_FIXED,
				  NULL, 0), 0);
	assert_valid(mm);
	assert_int_equal(sys_munmap(mm, 0, PAGE_SIZE), 0);
}

static void mmap_fixed_top_of_task_size(void **state)
{
	struct mm_struct *mm = test_mm(state);
	unsigned long top = mm->task_size - PAGE_SIZE;

	build_layout(mm);
	assert_int_equal(sys_mmap(mm, top, PAGE_SIZE, RW, ANON | MAP_FIXED,
				  NULL, 0), top);
	assert_valid(mm);
	assert_int_equal(mmsim_access(mm, top, true), 0);
	assert_int_equal(sys_munmap(mm, top, PAGE_SIZE), 0);
	assert_int_equal(sys_mmap(mm, top, PAGE_SIZE, RW,
				  ANON | MAP_FIXED_NOREPLACE, NULL, 0), top);
	assert_int_equal(sys_munmap(mm, top, PAGE_SIZE), 0);

	/* Crossing TASK_SIZE. */
	assert_fails_unchanged(mm, -ENOMEM,
		sys_mmap(mm, top, PG(0, 2), RW, ANON | MAP_FIXED, NULL, 0));
	assert_fails_unchanged(mm, -ENOMEM,
		sys_mmap(mm, top, PG(0, 2), RW, ANON | MAP_FIXED_NOREPLACE,
			 NULL, 0));
	/* At TASK_SIZE itself, and past it. */
	assert_fails_unchanged(mm, -ENOMEM,
		sys_mmap(mm, mm->task_size, PAGE_SIZE, RW, ANON | MAP_FIXED,
			 NULL, 0));
	assert_fails_unchanged(mm, -ENOMEM,
		sys_mmap(mm, 0, mm->task_size + PAGE_SIZE, PROT_READ,
			 ANON | MAP_FIXED, NULL, 0));
}

static void mmap_fixed_addr_len_overflow_enomem(void **state)
{
	struct mm_struct *mm = test_mm(state);

	build_layout(mm);
	/* addr + len wraps past 2^64: the TASK_SIZE check catches it. */
	assert_fails_unchanged(mm, -ENOMEM,
		sys_mmap(mm, -PAGE_SIZE, PAGE_SIZE, RW, ANON | MAP_FIXED,
			 NULL, 0));
	assert_fails_unchanged(mm, -ENOMEM,
		sys_mmap(mm, -PG(0, 16), PG(0, 32), RW,
			 ANON | MAP_FIXED_NOREPLACE, NULL, 0));
	assert_fails_unchanged(mm, -ENOMEM,
		sys_mmap(mm, PG(B, 0), -PG(B, 0), RW, ANON | MAP_FIXED,
			 NULL, 0));
	/* len rounds up to 0. */
	assert_fails_unchanged(mm, -ENOMEM,
		sys_mmap(mm, PG(B, 0), -1UL, RW, ANON | MAP_FIXED, NULL, 0));
	/* Without MAP_FIXED, such a hint is ignored. */
	assert_int_not_equal(sys_mmap(mm, -PAGE_SIZE, PAGE_SIZE, RW, ANON,
				      NULL, 0), -PAGE_SIZE);
	assert_valid(mm);
}

/*
 * mremap to below mmap_min_addr: get_unmapped_area() says -EPERM once
 * mremap_to() has unmapped the target (nothing there) and the source is
 * left as it was.
 */
static void mremap_below_mmap_min_addr_eperm(void **state)
{
	struct mm_struct *mm = test_mm(state);

	build_layout(mm);
	assert_fails_unchanged(mm, -EPERM,
		sys_mremap(mm, PG(B, 0), PAGE_SIZE, PAGE_SIZE,
			   MREMAP_MAYMOVE | MREMAP_FIXED, 0));
	assert_fails_unchanged(mm, -EPERM,
		sys_mremap(mm, PG(B, 0), PAGE_SIZE, PG(0, 2),
			   MREMAP_MAYMOVE | MREMAP_FIXED, 0));
	assert_fails_unchanged(mm, -EPERM,
		sys_mremap(mm, PG(B, 10), PAGE_SIZE, PAGE_SIZE,
			   MREMAP_MAYMOVE | MREMAP_FIXED | MREMAP_DONTUNMAP,
			   mm->dac_mmap_min_addr - PAGE_SIZE));
	assert_fails_unchanged(mm, -EPERM,
		sys_mremap(mm, PG(B, 20), PG(0, 2), PG(0, 2),
			   MREMAP_MAYMOVE | MREMAP_FIXED, 0));
	/* To the top page below TASK_SIZE it moves; across it, no. */
	assert_fails_unchanged(mm, -EINVAL,
		sys_mremap(mm, PG(B, 0), PAGE_SIZE, PG(0, 2),
			   MREMAP_MAYMOVE | MREMAP_FIXED,
			   mm->task_size - PAGE_SIZE));
	assert_int_equal(sys_mremap(mm, PG(B, 0), PAGE_SIZE, PAGE_SIZE,
				    MREMAP_MAYMOVE | MREMAP_FIXED,
				    mm->task_size - PAGE_SIZE),
			 mm->task_size - PAGE_SIZE);
	assert_valid(mm);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		MM_TEST(mmap_len_zero_einval),
		MM_TEST(mmap_unaligned_fixed_einval),
		MM_TEST(mmap_fixed_beyond_task_size_enomem),
		MM_TEST(mmap_huge_len_enomem),
		MM_TEST(mmap_neither_shared_nor_private_einval),
		MM_TEST(mmap_anon_shared_validate_einval),
		MM_TEST(mmap_fixed_noreplace_overlap_eexist),
		MM_TEST(mmap_bad_prot_bits_ignored),
		MM_TEST(munmap_unaligned_einval),
		MM_TEST(munmap_len_zero_einval),
		MM_TEST(munmap_of_nothing_succeeds),
		MM_TEST(mprotect_unaligned_einval),
		MM_TEST(mprotect_len_zero_succeeds),
		MM_TEST(mprotect_hole_enomem),
		MM_TEST(mprotect_bad_prot_einval),
		MM_TEST(mprotect_growsdown_extends_to_vma_start),
		MM_TEST(madvise_bad_advice_einval),
		MM_TEST(madvise_unmodelled_advice_accepted),
		MM_TEST(madvise_unaligned_einval),
		MM_TEST(madvise_hole_enomem),
		MM_TEST(madvise_dontneed_mlocked_einval),
		MM_TEST(mlock_hole_enomem),
		MM_TEST(mlock_unaligned_start_rounded_down),
		MM_TEST(mremap_bad_flags_einval),
		MM_TEST(mremap_unaligned_einval),
		MM_TEST(mremap_new_len_zero_einval),
		MM_TEST(mremap_fixed_without_maymove_einval),
		MM_TEST(mremap_dontunmap_resize_einval),
		MM_TEST(mremap_overlapping_fixed_einval),
		MM_TEST(mremap_unmapped_addr_efault),
		MM_TEST(mremap_grow_blocked_enomem),
		MM_TEST(access_unmapped_sigsegv),
		MM_TEST(access_write_read_only_sigsegv),
		MM_TEST(access_prot_none_sigsegv),
		MM_TEST(access_beyond_grown_shared_sigbus),
		MM_TEST(mmap_fixed_below_mmap_min_addr_eperm),
		MM5_TEST(mmap_fixed_below_mmap_min_addr_eperm),
		MM_TEST(mmap_fixed_at_zero_with_cap_sys_rawio),
		MM5_TEST(mmap_fixed_at_zero_with_cap_sys_rawio),
		MM_TEST(mmap_fixed_top_of_task_size),
		MM5_TEST(mmap_fixed_top_of_task_size),
		MM_TEST(mmap_fixed_addr_len_overflow_enomem),
		MM5_TEST(mmap_fixed_addr_len_overflow_enomem),
		MM_TEST(mremap_below_mmap_min_addr_eperm),
		MM5_TEST(mremap_below_mmap_min_addr_eperm),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
