// SPDX-License-Identifier: MIT
/*
 * ebizzy -mTRp, as the speculative-page-fault series measured it
 * (docs/benchmarks.md): 10 chunks of 512 KiB are mapped (-m: mmap, not
 * malloc) and written, and every even chunk is made read-only (-p) so
 * that neighbouring chunks cannot merge into one VMA.  Then threads, two
 * per CPU, process records until time is up.  A record maps a copy
 * buffer, touches it (-T: one byte per page) and unmaps it.  -R asks for
 * random copy sizes, but ebizzy's PRNG state is stuck at 0, so the copy
 * size is always one record, 8 bytes: each record is mmap of one page,
 * one write fault, munmap.  The metric is records per second.
 *
 * Every record takes the mmap lock for writing twice; with the classic
 * fault path the write fault waits for the lock too, and that is what
 * the speculative fault removes.  The fault lands in a VMA that has an
 * anon_vma (the record's page merges with the neighbouring record or
 * writable chunk), so it can be handled speculatively.
 *
 * mmsim has no scheduler that runs two tasks on one CPU: each thread is
 * a simulated CPU of its own, so --cpus N runs 2N simulated CPUs (cpus in
 * the result is ebizzy's N).  With --native, the same threads run on the
 * host kernel in the same run, rounds alternating.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <mmsim/cpu.h>
#include <mmsim/mm.h>
#include <mmsim/page.h>
#include "bench.h"

#define EBIZZY_CHUNKS		10
#define EBIZZY_RECORD_SIZE	8UL	/* sizeof(record_t) */
#define EBIZZY_CHUNK_SIZE	(EBIZZY_RECORD_SIZE * 64 * 1024)
/* The copy size with the PRNG stuck at 0: (0 + 1) records. */
#define EBIZZY_COPY_SIZE	EBIZZY_RECORD_SIZE
#define EBIZZY_THREADS_PER_CPU	2
/* The chunks and their table, the threads' pages, tables, slack. */
#define EBIZZY_RAM		(EBIZZY_CHUNKS * EBIZZY_CHUNK_SIZE + \
				 (16UL << 20))

struct ebizzy_run {
	struct bench_sides sides;
	struct mm_struct *mm;
	void *native_chunk[EBIZZY_CHUNKS];
};

/* --- the simulator's side ------------------------------------------------- */

/* One record: map the copy, touch each of its pages, unmap it. */
static int ebizzy_record_mmsim(struct mm_struct *mm)
{
	const char byte = (char)0xff;
	unsigned long addr, off;
	int sig;

	addr = sys_mmap(mm, 0, EBIZZY_COPY_SIZE, PROT_READ | PROT_WRITE,
			MAP_PRIVATE | MAP_ANONYMOUS, NULL, 0);
	if (IS_ERR_VALUE(addr))
		return (int)(long)addr;
	for (off = 0; off < EBIZZY_COPY_SIZE; off += PAGE_SIZE) {
		sig = mmsim_store(addr + off, &byte, 1);
		if (sig) {
			fprintf(stderr, "mmsim bench ebizzy: store at %#lx got "
				"signal %d\n", addr + off, sig);
			return -EFAULT;
		}
	}
	return sys_munmap(mm, addr, EBIZZY_COPY_SIZE);
}

/* One thread of the process: a simulated CPU running the shared mm. */
static unsigned long long ebizzy_mmsim_loop(struct bench_thread *t)
{
	struct mm_struct *mm = t->arg;
	unsigned long long records = 0;
	int err;

	if (bench_cpu_enter(t, mm))
		return 0;
	while (!bench_should_stop(t)) {
		err = ebizzy_record_mmsim(mm);
		if (err) {
			t->error = err;
			break;
		}
		records++;
	}
	bench_cpu_exit(t, mm);
	return records;
}

/*
 * The chunks' table (ebizzy's mem[], one page of its own with -m), then
 * the chunks, populated as ebizzy's write_pattern() leaves them, every
 * even one read-only.
 */
static int ebizzy_setup_mmsim(struct mm_struct *mm)
{
	unsigned long addr, len = EBIZZY_CHUNKS * sizeof(void *);
	int i, err;

	for (i = -1; i < EBIZZY_CHUNKS; i++) {
		addr = sys_mmap(mm, 0, len, PROT_READ | PROT_WRITE,
				MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE,
				NULL, 0);
		if (IS_ERR_VALUE(addr))
			return (int)(long)addr;
		len = EBIZZY_CHUNK_SIZE;
		if (i < 0 || i % 2)
			continue;
		err = sys_mprotect(mm, addr, len, PROT_READ);
		if (err)
			return err;
	}
	return 0;
}

/* --- the host's side --------------------------------------------------------- */

static unsigned long long ebizzy_native_loop(struct bench_thread *t)
{
	unsigned long long records = 0;
	long minflt0 = bench_thread_minflt();
	char *p;

	while (!bench_should_stop(t)) {
		p = mmap(NULL, EBIZZY_COPY_SIZE, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == HOST_MAP_FAILED) {
			t->error = -errno;
			break;
		}
		for (unsigned long off = 0; off < EBIZZY_COPY_SIZE;
		     off += PAGE_SIZE)
			*(volatile char *)(p + off) = (char)0xff;
		if (munmap(p, EBIZZY_COPY_SIZE)) {
			t->error = -errno;
			break;
		}
		records++;
	}
	t->faults = bench_thread_minflt() - minflt0;
	return records;
}

static int ebizzy_setup_native(struct ebizzy_run *run)
{
	for (int i = 0; i < EBIZZY_CHUNKS; i++) {
		char *p = mmap(NULL, EBIZZY_CHUNK_SIZE, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		if (p == HOST_MAP_FAILED)
			return -errno;
		run->native_chunk[i] = p;
		memset(p, 0x5a, EBIZZY_CHUNK_SIZE);
		if (i % 2 == 0 && mprotect(p, EBIZZY_CHUNK_SIZE, PROT_READ))
			return -errno;
	}
	return 0;
}

static void ebizzy_teardown_native(struct ebizzy_run *run)
{
	for (int i = 0; i < EBIZZY_CHUNKS; i++)
		if (run->native_chunk[i])
			munmap(run->native_chunk[i], EBIZZY_CHUNK_SIZE);
}

/* --- the run --------------------------------------------------------------- */

/* What is left is what set-up mapped: the table and the chunks. */
static int ebizzy_check_mm(struct mm_struct *mm)
{
	int problems = validate_mm_verbose(mm, stderr);
	unsigned long rss = get_mm_rss(mm);
	unsigned long want = 1 + EBIZZY_CHUNKS *
			     (EBIZZY_CHUNK_SIZE >> PAGE_SHIFT);

	if (!problems && rss == want)
		return 0;
	fprintf(stderr, "mmsim bench ebizzy: mm left with %d VMAs, %lu pages "
		"(want %lu), %d problems\n", mm->map_count, rss, want,
		problems);
	return -1;
}

int bench_ebizzy(const struct bench_opts *opts)
{
	struct ebizzy_run run = {
		.sides = {
			.opts = opts,
			.threads = opts->cpus * EBIZZY_THREADS_PER_CPU,
			.sim_loop = ebizzy_mmsim_loop,
			.native_loop = ebizzy_native_loop,
		},
	};
	int err;

	/* Each thread is a CPU; the main thread may be one too (mmput). */
	if (run.sides.threads >= NR_CPUS) {
		fprintf(stderr, "mmsim bench ebizzy: at most %d CPUs (two "
			"simulated CPUs each)\n", (NR_CPUS - 1) /
			EBIZZY_THREADS_PER_CPU);
		return 2;
	}
	run.mm = bench_mem_mm(opts, EBIZZY_RAM);
	if (!run.mm)
		return 1;
	run.sides.sim_arg = run.mm;
	err = ebizzy_setup_mmsim(run.mm);
	if (err)
		fprintf(stderr, "mmsim bench ebizzy: set-up: %s\n",
			strerror(-err));
	if (!err && opts->native) {
		err = ebizzy_setup_native(&run);
		if (err)
			fprintf(stderr, "mmsim bench ebizzy: native set-up: "
				"%s\n", strerror(-err));
	}
	if (!err)
		err = bench_sides_run(&run.sides);
	if (!err)
		err = ebizzy_check_mm(run.mm);
	ebizzy_teardown_native(&run);
	mmput(run.mm);
	if (!err)
		err = bench_check_frames("ebizzy");
	if (err)
		return 1;
	bench_sides_report(&run.sides);
	return 0;
}
