/* SPDX-License-Identifier: MIT */
/*
 * Operation scripts: one address-space operation per line, replayed against a
 * backend (mmsim, or the host kernel as the oracle), printing the result and
 * the VMAs of the window after every operation.  The format is documented in
 * README.md ("Replay scripts").
 */
#ifndef MMSIM_SIM_REPLAY_H
#define MMSIM_SIM_REPLAY_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define REPLAY_WINDOW_BASE	0x200000000000UL
#define REPLAY_WINDOW_SIZE	(1UL << 32)
#define REPLAY_SIGSEGV		(-1011L)	/* touch raised SIGSEGV */
#define REPLAY_SIGBUS		(-1007L)	/* touch raised SIGBUS */
/* Not performed: it would act outside the window (printed "refused"). */
#define REPLAY_REFUSED		(-1000L)

enum replay_op_kind {
	REPLAY_MMAP,		/* mmap OFF LEN PROT [shared]  (MAP_FIXED) */
	REPLAY_MMAPNR,		/* mmapnr OFF LEN PROT [shared] (MAP_FIXED_NOREPLACE) */
	REPLAY_MUNMAP,		/* munmap OFF LEN */
	REPLAY_MPROTECT,	/* mprotect OFF LEN PROT */
	REPLAY_MREMAP,		/* mremap OFF OLDLEN NEWLEN [NEWOFF [dontunmap]] */
	REPLAY_MADVISE,		/* madvise OFF LEN ADVICE */
	REPLAY_MLOCK,		/* mlock OFF LEN */
	REPLAY_MUNLOCK,		/* munlock OFF LEN */
	REPLAY_TOUCH,		/* touch OFF r|w */
};

struct replay_op {
	enum replay_op_kind kind;
	unsigned long off;	/* offset from the window base */
	unsigned long len;	/* LEN, or OLDLEN for mremap */
	unsigned long new_len;	/* mremap */
	unsigned long new_off;	/* mremap, when MREMAP_FIXED */
	unsigned long mremap_flags; /* MREMAP_MAYMOVE | MREMAP_FIXED | MREMAP_DONTUNMAP */
	int prot;		/* PROT_READ | PROT_WRITE | PROT_EXEC */
	bool shared;		/* mmap: MAP_SHARED instead of MAP_PRIVATE */
	int advice;		/* MADV_* */
	bool write;		/* touch */
};

/* One VMA as /proc/self/smaps shows it, with offsets from the window base. */
struct replay_vma {
	unsigned long start, end;
	char perms[4];		/* "rwx" with '-' for a missing right */
	bool shared;
	char flags[160];	/* VmFlags mnemonics separated by one space */
};

/* What decides whether a line may run: the backend's address space. */
struct replay_limits {
	unsigned long task_size;	/* TASK_SIZE */
	unsigned long mmap_min_addr;	/* vm.mmap_min_addr (the sysctl) */
};

struct replay_backend {
	const char *name;
	/* levels: 4 or 5; returns NULL on failure. */
	void *(*open)(unsigned int levels);
	void (*close)(void *ctx);
	/* Unmap everything inside the window. */
	void (*reset)(void *ctx);
	/*
	 * Perform op; return the new mapping's offset from the window base
	 * (mmap, mremap), 0, -errno, REPLAY_SIGSEGV or REPLAY_SIGBUS.
	 */
	long (*apply)(void *ctx, const struct replay_op *op);
	/* Fill out[] with the VMAs inside the window in address order;
	 * return their number (at most max), or -1 on error. */
	int (*vmas)(void *ctx, struct replay_vma *out, int max);
	void (*limits)(void *ctx, struct replay_limits *lim);
};

extern const struct replay_backend replay_backend_mmsim;
extern const struct replay_backend replay_backend_native;

/*
 * Parse one script line.  Returns 1 for an operation (filled into *op),
 * 0 for a line that prints nothing (empty or '#'), -1 for a malformed line
 * (a message in err).
 */
int replay_parse_line(const char *line, struct replay_op *op,
		      char *err, size_t errlen);

/*
 * Whether op may not run on be/ctx: it would make the kernel act on
 * addresses outside the window (where the host has this process's own
 * memory), so neither backend performs it.  Returns why, or NULL.
 */
const char *replay_refusal(const struct replay_backend *be, void *ctx,
			   const struct replay_op *op);

/* The host's vm.mmap_min_addr, or fallback if it cannot be read. */
unsigned long replay_host_mmap_min_addr(unsigned long fallback);

/*
 * Replay the script on in against be/ctx, writing the transcript to out.
 * A malformed line is echoed with " => -22", a refused one with
 * " => refused", and both are reported on stderr.  Returns the number of
 * malformed and refused lines.
 */
int replay_run(FILE *in, FILE *out, const struct replay_backend *be, void *ctx);

/* Print the window's VMAs as "  vma START-END PERMS[ shared] flags ..." */
int replay_print_vmas(FILE *out, const struct replay_backend *be, void *ctx);

/* Write a random script of nops operations, reproducible from seed. */
void replay_gen_script(FILE *out, uint64_t seed, int nops);

#endif /* MMSIM_SIM_REPLAY_H */
