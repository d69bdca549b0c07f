// SPDX-License-Identifier: MIT
/*
 * An mmsim program built outside the tree, against an installed mmsim
 * (public headers <mmsim/...> and libmmsim_core only): one simulated CPU
 * runs a task whose address space gets an anonymous mapping; a read
 * faults in the zero page, a write faults in a frame of its own and reads
 * back, a write after mprotect(PROT_READ) and a read after munmap get
 * SIGSEGV; the mm stays consistent (validate_mm) and every frame comes
 * back when it is gone.  Exit status 0 when all of that holds, 1 if not.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

#include <mmsim/cpu.h>
#include <mmsim/mm.h>
#include <mmsim/page.h>
#include <mmsim/rcupdate.h>

static int failures;

#define CHECK(cond) do {						\
	if (!(cond)) {							\
		fprintf(stderr, "%s:%d: check failed: %s\n",		\
			__FILE__, __LINE__, #cond);			\
		failures++;						\
	}								\
} while (0)

int main(void)
{
	unsigned long len = 4 * PAGE_SIZE, addr, free_before;
	unsigned char in = 0xff, out = 0x5a;
	struct mm_struct *mm;

	/* The machine: 64 MiB of RAM, and this thread is a CPU. */
	if (mem_init(64UL << 20, 0) || mmsim_cpu_attach() < 0) {
		fprintf(stderr, "cannot set up the simulated machine\n");
		return 1;
	}
	free_before = nr_free_pages();

	/* A task's address space (4-level page tables), running here. */
	mm = mm_alloc(4);
	if (!mm) {
		fprintf(stderr, "mm_alloc failed\n");
		return 1;
	}
	mmsim_switch_mm(mm);

	addr = sys_mmap(mm, 0, len, PROT_READ | PROT_WRITE,
			MAP_PRIVATE | MAP_ANONYMOUS, NULL, 0);
	CHECK(!IS_ERR_VALUE(addr));
	if (IS_ERR_VALUE(addr))
		return 1;

	/* A read fault maps the zero page; a write fault a page of its own. */
	CHECK(mmsim_load(addr + PAGE_SIZE, &in, 1) == 0);
	CHECK(in == 0);
	CHECK(mmsim_store(addr + 100, &out, 1) == 0);
	in = 0;
	CHECK(mmsim_load(addr + 100, &in, 1) == 0);
	CHECK(in == 0x5a);
	CHECK(get_mm_counter(mm, MM_ANONPAGES) == 1);
	CHECK(validate_mm_verbose(mm, stderr) == 0);

	/* Read-only now: the store is refused, the byte is still there. */
	CHECK(sys_mprotect(mm, addr, len, PROT_READ) == 0);
	CHECK(mmsim_store(addr + 100, &out, 1) == SIGSEGV);
	in = 0;
	CHECK(mmsim_load(addr + 100, &in, 1) == 0);
	CHECK(in == 0x5a);

	/* Gone: the next access is a SIGSEGV (no stale TLB entry). */
	CHECK(sys_munmap(mm, addr, len) == 0);
	CHECK(mmsim_load(addr + 100, &in, 1) == SIGSEGV);
	CHECK(validate_mm_verbose(mm, stderr) == 0);

	mmsim_switch_mm(NULL);
	mmput(mm);
	rcu_barrier();		/* what is freed after a grace period */
	CHECK(nr_free_pages() == free_before);
	mmsim_cpu_detach();

	if (failures) {
		fprintf(stderr, "fault_demo: %d check(s) failed\n", failures);
		return 1;
	}
	printf("fault_demo: wrote and read 0x%02x at 0x%lx through a fault; "
	       "all checks passed\n", out, addr + 100);
	return 0;
}
