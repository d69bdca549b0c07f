// SPDX-License-Identifier: MIT
/*
 * Operation scripts: parsing one line into a struct replay_op, replaying a
 * whole script against a backend and printing the window's VMAs.  Both
 * backends share this code, so that their transcripts can only differ in
 * what the backends themselves report.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <mmsim/mm.h>
#include "replay.h"

#define REPLAY_MAX_TOKENS	8

struct replay_words {
	int n;
	char *w[REPLAY_MAX_TOKENS];
	char buf[512];
};

static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f' ||
	       c == '\n';
}

/*
 * Split line into words.  A word starting with '#' ends the line, so that a
 * case file may comment an operation on the same line.  Returns the number
 * of words, or -1 when the line has too many or is too long.
 */
static int split_words(const char *line, struct replay_words *words)
{
	size_t len = strlen(line);
	char *p;

	words->n = 0;
	if (len >= sizeof(words->buf))
		return -1;
	memcpy(words->buf, line, len + 1);

	p = words->buf;
	for (;;) {
		while (is_blank(*p))
			p++;
		if (!*p || *p == '#')
			break;
		if (words->n == REPLAY_MAX_TOKENS)
			return -1;
		words->w[words->n++] = p;
		while (*p && !is_blank(*p))
			p++;
		if (!*p)
			break;
		*p++ = '\0';
	}
	return words->n;
}

static int digit_value(char c, unsigned int base)
{
	int v;

	if (c >= '0' && c <= '9')
		v = c - '0';
	else if (c >= 'a' && c <= 'f')
		v = c - 'a' + 10;
	else if (c >= 'A' && c <= 'F')
		v = c - 'A' + 10;
	else
		return -1;
	return v < (int)base ? v : -1;
}

/*
 * "0x..." in hex, otherwise decimal.  No sign, no trailing characters, and
 * a value that does not fit in an unsigned long is an error (strtoul would
 * quietly accept "-1" and saturate on overflow).
 */
static int parse_number(const char *s, unsigned long *out)
{
	unsigned int base = 10;
	unsigned long v = 0;
	int d;

	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
	}
	if (!*s)
		return -1;
	for (; *s; s++) {
		d = digit_value(*s, base);
		if (d < 0)
			return -1;
		if (v > (~0UL - d) / base)
			return -1;
		v = v * base + d;
	}
	*out = v;
	return 0;
}

/* "rwx" in any order, each at most once, or "-" for PROT_NONE. */
static int parse_prot(const char *s, int *prot)
{
	int p = 0, bit;

	if (!strcmp(s, "-")) {
		*prot = PROT_NONE;
		return 0;
	}
	for (; *s; s++) {
		switch (*s) {
		case 'r':
			bit = PROT_READ;
			break;
		case 'w':
			bit = PROT_WRITE;
			break;
		case 'x':
			bit = PROT_EXEC;
			break;
		default:
			return -1;
		}
		if (p & bit)
			return -1;
		p |= bit;
	}
	*prot = p;
	return 0;
}

static const struct {
	const char *name;
	int advice;
} advices[] = {
	{ "normal",	MADV_NORMAL },
	{ "random",	MADV_RANDOM },
	{ "sequential",	MADV_SEQUENTIAL },
	{ "willneed",	MADV_WILLNEED },
	{ "dontneed",	MADV_DONTNEED },
	{ "dontfork",	MADV_DONTFORK },
	{ "dofork",	MADV_DOFORK },
	{ "remove",	MADV_REMOVE },
};

static int parse_advice(const char *s, int *advice)
{
	size_t i;

	for (i = 0; i < sizeof(advices) / sizeof(advices[0]); i++) {
		if (!strcmp(s, advices[i].name)) {
			*advice = advices[i].advice;
			return 0;
		}
	}
	return -1;
}

static const struct {
	const char *name;
	enum replay_op_kind kind;
	int min_words, max_words;	/* including the operation's name */
} ops[] = {
	{ "mmap",	REPLAY_MMAP,	 4, 5 },
	{ "mmapnr",	REPLAY_MMAPNR,	 4, 5 },
	{ "munmap",	REPLAY_MUNMAP,	 3, 3 },
	{ "mprotect",	REPLAY_MPROTECT, 4, 4 },
	{ "mremap",	REPLAY_MREMAP,	 4, 6 },
	{ "madvise",	REPLAY_MADVISE,	 4, 4 },
	{ "mlock",	REPLAY_MLOCK,	 3, 3 },
	{ "munlock",	REPLAY_MUNLOCK,	 3, 3 },
	{ "touch",	REPLAY_TOUCH,	 3, 3 },
};

static int number_arg(struct replay_words *words, int i, const char *what,
		      unsigned long *out, char *err, size_t errlen)
{
	if (parse_number(words->w[i], out) < 0) {
		set_err(err, errlen, "bad %s '%s'", what, words->w[i]);
		return -1;
	}
	return 0;
}

static int parse_mmap(struct replay_words *words, struct replay_op *op,
		      char *err, size_t errlen)
{
	if (number_arg(words, 1, "OFF", &op->off, err, errlen) ||
	    number_arg(words, 2, "LEN", &op->len, err, errlen))
		return -1;
	if (parse_prot(words->w[3], &op->prot) < 0) {
		set_err(err, errlen, "bad protection '%s'", words->w[3]);
		return -1;
	}
	if (words->n == 5) {
		if (strcmp(words->w[4], "shared")) {
			set_err(err, errlen, "expected 'shared', got '%s'",
				words->w[4]);
			return -1;
		}
		op->shared = true;
	}
	return 1;
}

static int parse_mremap(struct replay_words *words, struct replay_op *op,
			char *err, size_t errlen)
{
	if (number_arg(words, 1, "OFF", &op->off, err, errlen) ||
	    number_arg(words, 2, "OLDLEN", &op->len, err, errlen) ||
	    number_arg(words, 3, "NEWLEN", &op->new_len, err, errlen))
		return -1;
	if (words->n == 4)
		return 1;

	if (!strcmp(words->w[4], "maymove")) {
		if (words->n != 5) {
			set_err(err, errlen, "unexpected '%s' after maymove",
				words->w[5]);
			return -1;
		}
		op->mremap_flags = MREMAP_MAYMOVE;
		return 1;
	}
	if (number_arg(words, 4, "NEWOFF", &op->new_off, err, errlen))
		return -1;
	op->mremap_flags = MREMAP_MAYMOVE | MREMAP_FIXED;
	if (words->n == 6) {
		if (strcmp(words->w[5], "dontunmap")) {
			set_err(err, errlen, "expected 'dontunmap', got '%s'",
				words->w[5]);
			return -1;
		}
		op->mremap_flags |= MREMAP_DONTUNMAP;
	}
	return 1;
}

static int parse_args(struct replay_words *words, struct replay_op *op,
		      char *err, size_t errlen)
{
	switch (op->kind) {
	case REPLAY_MMAP:
	case REPLAY_MMAPNR:
		return parse_mmap(words, op, err, errlen);
	case REPLAY_MREMAP:
		return parse_mremap(words, op, err, errlen);
	case REPLAY_MPROTECT:
		if (number_arg(words, 1, "OFF", &op->off, err, errlen) ||
		    number_arg(words, 2, "LEN", &op->len, err, errlen))
			return -1;
		if (parse_prot(words->w[3], &op->prot) < 0) {
			set_err(err, errlen, "bad protection '%s'", words->w[3]);
			return -1;
		}
		return 1;
	case REPLAY_MADVISE:
		if (number_arg(words, 1, "OFF", &op->off, err, errlen) ||
		    number_arg(words, 2, "LEN", &op->len, err, errlen))
			return -1;
		if (parse_advice(words->w[3], &op->advice) < 0) {
			set_err(err, errlen, "bad advice '%s'", words->w[3]);
			return -1;
		}
		return 1;
	case REPLAY_MUNMAP:
	case REPLAY_MLOCK:
	case REPLAY_MUNLOCK:
		if (number_arg(words, 1, "OFF", &op->off, err, errlen) ||
		    number_arg(words, 2, "LEN", &op->len, err, errlen))
			return -1;
		return 1;
	case REPLAY_TOUCH:
		if (number_arg(words, 1, "OFF", &op->off, err, errlen))
			return -1;
		if (strcmp(words->w[2], "r") && strcmp(words->w[2], "w")) {
			set_err(err, errlen, "expected r or w, got '%s'",
				words->w[2]);
			return -1;
		}
		op->write = words->w[2][0] == 'w';
		return 1;
	}
	set_err(err, errlen, "internal error: operation %d", op->kind);
	return -1;
}

int replay_parse_line(const char *line, struct replay_op *op,
		      char *err, size_t errlen)
{
	struct replay_words words;
	size_t i;
	int n;

	memset(op, 0, sizeof(*op));
	set_err(err, errlen, "no error");

	n = split_words(line, &words);
	if (n == 0)
		return 0;
	if (n < 0) {
		set_err(err, errlen, "line too long or too many words");
		return -1;
	}

	for (i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
		if (!strcmp(words.w[0], ops[i].name))
			break;
	if (i == sizeof(ops) / sizeof(ops[0])) {
		set_err(err, errlen, "unknown operation '%s'", words.w[0]);
		return -1;
	}
	if (n < ops[i].min_words || n > ops[i].max_words) {
		set_err(err, errlen, "%s takes %d to %d arguments, got %d",
			ops[i].name, ops[i].min_words - 1,
			ops[i].max_words - 1, n - 1);
		return -1;
	}
	op->kind = ops[i].kind;
	return parse_args(&words, op, err, errlen);
}

int replay_print_vmas(FILE *out, const struct replay_backend *be, void *ctx)
{
	struct replay_vma *vmas = NULL, *bigger;
	int max = 64, n, i;

	/* A full answer is indistinguishable from a truncated one: grow. */
	for (;;) {
		bigger = realloc(vmas, max * sizeof(*vmas));
		if (!bigger)
			goto fail;
		vmas = bigger;
		n = be->vmas(ctx, vmas, max);
		if (n < 0)
			goto fail;
		if (n < max || max >= (1 << 20))
			break;
		max *= 2;
	}

	for (i = 0; i < n; i++) {
		fprintf(out, "  vma %lx-%lx %.3s%s flags%s%s\n",
			vmas[i].start, vmas[i].end, vmas[i].perms,
			vmas[i].shared ? " shared" : "",
			vmas[i].flags[0] ? " " : "", vmas[i].flags);
	}
	free(vmas);
	return n;

fail:
	free(vmas);
	fprintf(out, "  vmas: error\n");
	return -1;
}

/* --- lines that would reach outside the window ------------------------- */

#define WINDOW_END	(REPLAY_WINDOW_BASE + REPLAY_WINDOW_SIZE)

unsigned long replay_host_mmap_min_addr(unsigned long fallback)
{
	unsigned long val;
	FILE *f = fopen("/proc/sys/vm/mmap_min_addr", "re");

	if (!f)
		return fallback;
	if (fscanf(f, "%lu", &val) != 1)
		val = fallback;
	fclose(f);
	return val;
}

/* [start, start + len) lies in the window, without wrapping. */
static bool in_window(unsigned long start, unsigned long len)
{
	return start >= REPLAY_WINDOW_BASE && start < WINDOW_END &&
	       len <= WINDOW_END - start;
}

/* [start, start + len) is beyond TASK_SIZE or wraps. */
static bool beyond_task(const struct replay_limits *lim, unsigned long start,
			unsigned long len)
{
	return start > lim->task_size || len > lim->task_size - start;
}

/*
 * Whether some page of [start, WINDOW_END) is unmapped.  mprotect() and
 * mlock() stop with -ENOMEM at the first hole, so a range that starts in
 * the window and has a hole there never reaches beyond it.  When the VMAs
 * cannot be read, say no: the line is refused.
 */
static bool window_has_hole(const struct replay_backend *be, void *ctx,
			    unsigned long start)
{
	struct replay_vma *vmas;
	unsigned long next = start - REPLAY_WINDOW_BASE;
	int max = 4096, n, i;
	bool hole = false;

	vmas = malloc(max * sizeof(*vmas));
	if (!vmas)
		return false;
	n = be->vmas(ctx, vmas, max);
	if (n < 0 || n == max)
		goto out;
	for (i = 0; i < n && !hole; i++) {
		if (vmas[i].end <= next)
			continue;
		if (vmas[i].start > next)
			hole = true;
		next = vmas[i].end;
	}
	if (next < REPLAY_WINDOW_SIZE)
		hole = true;
out:
	free(vmas);
	return hole;
}

/*
 * mprotect, mlock, munlock: apply VMA by VMA from start and stop at the
 * first hole.  Those starting beyond TASK_SIZE find no VMA at all.
 */
static bool stops_in_window(const struct replay_backend *be, void *ctx,
			    const struct replay_limits *lim,
			    unsigned long start, unsigned long end)
{
	if (end <= start || start >= lim->task_size)
		return true;
	if (start < REPLAY_WINDOW_BASE || start >= WINDOW_END)
		return false;
	return end <= WINDOW_END || window_has_hole(be, ctx, start);
}

/*
 * mmap: MAP_FIXED replaces whatever is there and MAP_FIXED_NOREPLACE maps
 * where nothing is, outside the window too; only a call the kernel
 * rejects before touching anything may leave it: zero or wrapping length,
 * beyond TASK_SIZE, unaligned, or starting below vm.mmap_min_addr
 * (-EPERM from security_mmap_addr(), for a task without CAP_SYS_RAWIO).
 */
static bool mmap_allowed(const struct replay_limits *lim,
			 const struct replay_op *op, unsigned long addr)
{
	unsigned long alen = PAGE_ALIGN(op->len);

	return in_window(addr, alen) || !op->len || !alen ||
	       beyond_task(lim, addr, alen) || offset_in_page(addr) ||
	       addr < lim->mmap_min_addr;
}

/*
 * mremap: the old range must be in the window, since shrinking unmaps its
 * tail whatever is there (across VMAs, too), and so must the new one.  A
 * range past TASK_SIZE is safe: munmap() and the checks reject it first.
 * So is a target wholly below vm.mmap_min_addr, where a task without
 * CAP_SYS_RAWIO can have nothing: mremap_to() unmaps it (nothing), then
 * get_unmapped_area() fails with -EPERM.
 */
static bool mremap_allowed(const struct replay_limits *lim,
			   const struct replay_op *op, unsigned long addr)
{
	unsigned long new_addr = REPLAY_WINDOW_BASE + op->new_off;
	unsigned long old_len = PAGE_ALIGN(op->len);
	unsigned long new_len = PAGE_ALIGN(op->new_len);

	if (offset_in_page(addr) || !new_len)
		return true;
	if (!in_window(addr, old_len) && !beyond_task(lim, addr, old_len))
		return false;
	if (op->mremap_flags & MREMAP_FIXED)
		return offset_in_page(new_addr) ||
		       in_window(new_addr, new_len) ||
		       beyond_task(lim, new_addr, new_len) ||
		       (new_addr < lim->mmap_min_addr &&
			new_len <= lim->mmap_min_addr - new_addr);
	return in_window(addr, new_len) || beyond_task(lim, addr, new_len);
}

/*
 * madvise() walks over holes, remembering -ENOMEM, and fails at once on a
 * VMA it cannot advise: one that starts in the window can be clipped to
 * it (the native backend does), one that starts outside cannot.
 */
static bool madvise_allowed(const struct replay_limits *lim,
			    const struct replay_op *op, unsigned long addr)
{
	unsigned long alen = PAGE_ALIGN(op->len);
	unsigned long end = addr + alen;

	if (offset_in_page(addr) || (op->len && !alen) || end <= addr ||
	    in_window(addr, alen) || addr >= lim->task_size)
		return true;
	return addr >= REPLAY_WINDOW_BASE && addr < WINDOW_END;
}

const char *replay_refusal(const struct replay_backend *be, void *ctx,
			   const struct replay_op *op)
{
	struct replay_limits lim;
	unsigned long addr = REPLAY_WINDOW_BASE + op->off;
	unsigned long alen = PAGE_ALIGN(op->len), start, end;

	be->limits(ctx, &lim);
	switch (op->kind) {
	case REPLAY_MMAP:
	case REPLAY_MMAPNR:
		if (!mmap_allowed(&lim, op, addr))
			return "it would map outside the window";
		return NULL;
	case REPLAY_MUNMAP:
		if (!in_window(addr, alen) && !offset_in_page(addr) &&
		    !beyond_task(&lim, addr, op->len) && alen)
			return "it would unmap outside the window";
		return NULL;
	case REPLAY_MPROTECT:
		if (!offset_in_page(addr) && op->len &&
		    !stops_in_window(be, ctx, &lim, addr, addr + alen))
			return "it would change VMAs outside the window";
		return NULL;
	case REPLAY_MLOCK:
	case REPLAY_MUNLOCK:
		start = addr & PAGE_MASK;
		end = start + PAGE_ALIGN(op->len + offset_in_page(addr));
		if (!stops_in_window(be, ctx, &lim, start, end))
			return "it would change VMAs outside the window";
		return NULL;
	case REPLAY_MADVISE:
		if (!madvise_allowed(&lim, op, addr))
			return "it would advise VMAs outside the window";
		return NULL;
	case REPLAY_MREMAP:
		if (!mremap_allowed(&lim, op, addr))
			return "it would remap or unmap outside the window";
		return NULL;
	case REPLAY_TOUCH:
		return NULL;
	}
	return "unknown operation";
}

/* Strip the line terminator; report an embedded NUL (never valid input). */
static bool chomp(char *line, ssize_t *len)
{
	if (*len > 0 && line[*len - 1] == '\n')
		line[--*len] = '\0';
	return strlen(line) == (size_t)*len;
}

int replay_run(FILE *in, FILE *out, const struct replay_backend *be, void *ctx)
{
	struct replay_op op;
	char err[160];
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	unsigned long lineno = 0;
	int failed = 0, kind;
	const char *why;
	long res;

	while ((len = getline(&line, &cap, in)) >= 0) {
		lineno++;
		if (!chomp(line, &len)) {
			kind = -1;
			snprintf(err, sizeof(err), "NUL byte in line");
		} else {
			kind = replay_parse_line(line, &op, err, sizeof(err));
		}
		if (kind == 0)
			continue;

		if (kind < 0) {
			fprintf(stderr, "replay: line %lu: %s\n", lineno, err);
			failed++;
			res = -EINVAL;
		} else if ((why = replay_refusal(be, ctx, &op))) {
			fprintf(stderr, "replay: line %lu: refused: %s\n",
				lineno, why);
			res = REPLAY_REFUSED;
		} else {
			res = be->apply(ctx, &op);
		}
		/* The backend may refuse too, for reasons of its own. */
		if (kind > 0 && res == REPLAY_REFUSED)
			failed++;
		fwrite(line, 1, len, out);
		if (res == REPLAY_REFUSED)
			fprintf(out, " => refused\n");
		else
			fprintf(out, " => %ld\n", res);
		replay_print_vmas(out, be, ctx);
	}
	free(line);
	return failed;
}
