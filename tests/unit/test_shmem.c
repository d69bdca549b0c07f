// SPDX-License-Identifier: MIT
/*
 * Shared memory and its file: MADV_REMOVE punches a hole in the shmem
 * file behind a shared mapping (shmem_punch_hole -> unmap_mapping_range
 * over every VMA on the file's i_mmap, in every mm).
 */
#include "helpers.h"

#define B	TEST_BASE
#define RW	(PROT_READ | PROT_WRITE)

/* A private anonymous mapping has no file to punch: -EINVAL. */
static void remove_private_anon_einval(void **state)
{
	struct mm_struct *mm = test_mm(state);

	map_anon(mm, B, 0, 4, RW);
	write_ul(mm, PG(B, 1), 7);
	assert_int_equal(sys_madvise(mm, B, PG(0, 4), MADV_REMOVE), -EINVAL);
	assert_int_equal(read_ul(mm, PG(B, 1)), 7);
}

/* The pages of the hole go; those around it stay; the VMA stays. */
static void remove_shared_zeroes_the_hole(void **state)
{
	struct mm_struct *mm = test_mm(state);
	unsigned long i, free0;

	map_shared(mm, B, 0, 4, RW);
	for (i = 0; i < 4; i++)
		write_ul(mm, PG(B, i), 0x100 + i);
	free0 = nr_free_pages();
	assert_int_equal(sys_madvise(mm, PG(B, 1), PG(0, 2), MADV_REMOVE), 0);
	assert_int_equal(nr_free_pages(), free0 + 2);
	assert_layout(mm, B, { 0, 4, VMA_RW | VM_SHARED });
	assert_int_equal(read_ul(mm, PG(B, 0)), 0x100);
	assert_int_equal(read_ul(mm, PG(B, 1)), 0);
	assert_int_equal(read_ul(mm, PG(B, 2)), 0);
	assert_int_equal(read_ul(mm, PG(B, 3)), 0x103);
	assert_valid(mm);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		MM_TEST(remove_private_anon_einval),
		MM_TEST(remove_shared_zeroes_the_hole),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
