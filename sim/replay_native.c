// SPDX-License-Identifier: MIT
/*
 * The oracle: every script operation performed for real by the host kernel,
 * inside a window of this process's address space that nothing else uses.
 *
 * The system calls are raw syscall()s: ThreadSanitizer intercepts mmap()
 * and refuses addresses outside its application ranges, which the window
 * is.  The VMAs are read back from /proc/self/smaps.
 *
 * A script may ask for a range that leaves the window (a huge length, or an
 * offset that wraps around).  The kernel would act on the rest of this
 * process's mappings, so such a call is only made when the kernel rejects
 * it before touching anything, or when it provably stops inside the window;
 * madvise(), which skips holes, is clipped to the window.  The result is
 * what the kernel would say if nothing were mapped outside the window,
 * which is also how mmsim sees its own address space.  What cannot be
 * reproduced that way is refused with -EPERM and a message on stderr.
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/resource.h>
#include <sys/syscall.h>

/* <mmsim/mm.h> spells it the kernel's way, with the same value. */
#undef RLIM_INFINITY
#include <mmsim/mm.h>
#include "replay.h"

#define WINDOW_END	(REPLAY_WINDOW_BASE + REPLAY_WINDOW_SIZE)

struct native_ctx {
	unsigned int levels;
	unsigned long task_size;	/* the host's TASK_SIZE */
};

static struct native_ctx native_ctx;
static bool native_window_checked;

static long native_syscall_ret(long ret)
{
	return ret < 0 ? -errno : ret;
}

static long raw_mmap(unsigned long addr, unsigned long len, int prot,
		     int flags)
{
	return native_syscall_ret(syscall(SYS_mmap, addr, len, prot, flags,
					  -1, 0UL));
}

static long raw_munmap(unsigned long addr, unsigned long len)
{
	return native_syscall_ret(syscall(SYS_munmap, addr, len));
}

/* [start, start + len) lies in the window, without wrapping. */
static bool in_window(unsigned long start, unsigned long len)
{
	return start >= REPLAY_WINDOW_BASE && start < WINDOW_END &&
	       len <= WINDOW_END - start;
}

/* [start, start + len) is beyond the host's TASK_SIZE or wraps. */
static bool beyond_task(const struct native_ctx *c, unsigned long start,
			unsigned long len)
{
	return start > c->task_size || len > c->task_size - start;
}

static void refuse(const char *what, unsigned long addr, unsigned long len)
{
	fprintf(stderr, "replay native: refusing %s of %#lx+%#lx: it reaches "
		"outside the window\n", what, addr, len);
}

/*
 * With 5-level paging the kernel lets MAP_FIXED reach above 47 bits; the
 * out-of-window checks need to know where user space really ends.
 */
static unsigned long host_task_size(void)
{
	unsigned long probe = 1UL << 47;
	long ret;

	ret = raw_mmap(probe, PAGE_SIZE, PROT_NONE, MAP_PRIVATE |
		       MAP_ANONYMOUS | MAP_FIXED_NOREPLACE);
	if (ret == -EEXIST)
		return TASK_SIZE_5LEVEL;
	if (ret < 0)
		return TASK_SIZE_4LEVEL;
	raw_munmap(probe, PAGE_SIZE);
	return TASK_SIZE_5LEVEL;
}

static int native_vmas(void *ctx, struct replay_vma *out, int max);

/* The window must be ours: refuse to start if the host put anything there. */
static bool window_is_free(void)
{
	struct replay_vma vma;
	int n = native_vmas(&native_ctx, &vma, 1);

	if (n != 0) {
		fprintf(stderr, "replay native: the window at %#lx is %s\n",
			REPLAY_WINDOW_BASE,
			n < 0 ? "unreadable" : "already in use");
		return false;
	}
	return true;
}

static void native_reset(void *ctx)
{
	(void)ctx;
	raw_munmap(REPLAY_WINDOW_BASE, REPLAY_WINDOW_SIZE);
}

static void *native_open(unsigned int levels)
{
	struct rlimit unlimited = { RLIM_INFINITY, RLIM_INFINITY };

	if (levels != 4 && levels != 5)
		return NULL;
	if (!native_window_checked) {
		if (!window_is_free())
			return NULL;
		native_window_checked = true;
	}
	/*
	 * mlock() must not fail on RLIMIT_MEMLOCK: mmsim has no such limit.
	 * Raising it needs CAP_SYS_RESOURCE; without it the limit stays and
	 * only large mlocks can differ.
	 */
	setrlimit(RLIMIT_MEMLOCK, &unlimited);
	native_ctx.levels = levels;
	native_ctx.task_size = host_task_size();
	native_reset(&native_ctx);
	return &native_ctx;
}

static void native_close(void *ctx)
{
	native_reset(ctx);
}

static long native_mmap(struct native_ctx *c, const struct replay_op *op,
			unsigned long addr)
{
	unsigned long alen = PAGE_ALIGN(op->len);
	int flags = MAP_ANONYMOUS;
	long ret;

	flags |= op->shared ? MAP_SHARED : MAP_PRIVATE;
	flags |= op->kind == REPLAY_MMAPNR ? MAP_FIXED_NOREPLACE : MAP_FIXED;

	/* Zero, wrapping, unaligned or beyond TASK_SIZE: rejected up front. */
	if (!in_window(addr, alen) && op->len && alen &&
	    !beyond_task(c, addr, alen) && !offset_in_page(addr)) {
		refuse("mmap", addr, op->len);
		return -EPERM;
	}
	ret = raw_mmap(addr, op->len, op->prot, flags);
	if (ret < 0)
		return ret;
	return ret - (long)REPLAY_WINDOW_BASE;
}

static long native_munmap(struct native_ctx *c, const struct replay_op *op,
			  unsigned long addr)
{
	unsigned long alen = PAGE_ALIGN(op->len);

	if (!in_window(addr, alen) && !offset_in_page(addr) &&
	    !beyond_task(c, addr, op->len) && alen) {
		refuse("munmap", addr, op->len);
		return -EPERM;
	}
	return raw_munmap(addr, op->len);
}

/*
 * Whether some page of [start, WINDOW_END) is unmapped.  mprotect() and
 * mlock() stop with -ENOMEM at the first hole, so a range that starts in
 * the window and has a hole there never reaches beyond it.
 */
static bool window_has_hole(unsigned long start)
{
	struct replay_vma *vmas;
	unsigned long next = start - REPLAY_WINDOW_BASE;
	int max = 4096, n, i;
	bool hole = false;

	vmas = malloc(max * sizeof(*vmas));
	if (!vmas)
		return false;
	n = native_vmas(&native_ctx, vmas, max);
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
static bool stops_in_window(struct native_ctx *c, unsigned long start,
			    unsigned long end)
{
	if (end <= start || start >= c->task_size)
		return true;
	if (start < REPLAY_WINDOW_BASE || start >= WINDOW_END)
		return false;
	return end <= WINDOW_END || window_has_hole(start);
}

static long native_mprotect(struct native_ctx *c, const struct replay_op *op,
			    unsigned long addr)
{
	unsigned long end = addr + PAGE_ALIGN(op->len);

	if (!offset_in_page(addr) && op->len &&
	    !stops_in_window(c, addr, end)) {
		refuse("mprotect", addr, op->len);
		return -EPERM;
	}
	return native_syscall_ret(syscall(SYS_mprotect, addr, op->len,
					  op->prot));
}

static long native_mlock(struct native_ctx *c, const struct replay_op *op,
			 unsigned long addr)
{
	unsigned long start = addr & PAGE_MASK;
	unsigned long end = start + PAGE_ALIGN(op->len + offset_in_page(addr));
	long nr = op->kind == REPLAY_MLOCK ? SYS_mlock : SYS_munlock;

	if (!stops_in_window(c, start, end)) {
		refuse(op->kind == REPLAY_MLOCK ? "mlock" : "munlock",
		       addr, op->len);
		return -EPERM;
	}
	return native_syscall_ret(syscall(nr, addr, op->len));
}

/*
 * madvise() walks over holes, remembering -ENOMEM, and fails at once on a
 * VMA it cannot advise.  Outside the window there is nothing (as far as
 * the script can tell), so the part inside the window decides the result.
 */
static long native_madvise(struct native_ctx *c, const struct replay_op *op,
			   unsigned long addr)
{
	unsigned long alen = PAGE_ALIGN(op->len);
	unsigned long end = addr + alen;
	long ret;

	if (offset_in_page(addr) || (op->len && !alen) || end <= addr ||
	    in_window(addr, alen) || addr >= c->task_size)
		return native_syscall_ret(syscall(SYS_madvise, addr, op->len,
						  op->advice));
	if (addr < REPLAY_WINDOW_BASE || addr >= WINDOW_END) {
		refuse("madvise", addr, op->len);
		return -EPERM;
	}
	ret = native_syscall_ret(syscall(SYS_madvise, addr, WINDOW_END - addr,
					 op->advice));
	return ret ? ret : -ENOMEM;
}

/*
 * mremap: the old range must be in the window, since shrinking unmaps its
 * tail whatever is there (across VMAs, too), and so must the new one.  A
 * range past TASK_SIZE is safe: munmap() and the checks reject it first.
 */
static bool mremap_allowed(struct native_ctx *c, const struct replay_op *op,
			   unsigned long addr, unsigned long new_addr)
{
	unsigned long old_len = PAGE_ALIGN(op->len);
	unsigned long new_len = PAGE_ALIGN(op->new_len);

	if (offset_in_page(addr) || !new_len)
		return true;
	if (!in_window(addr, old_len) && !beyond_task(c, addr, old_len))
		return false;
	if (op->mremap_flags & MREMAP_FIXED)
		return offset_in_page(new_addr) ||
		       in_window(new_addr, new_len) ||
		       beyond_task(c, new_addr, new_len);
	return in_window(addr, new_len) || beyond_task(c, addr, new_len);
}

static long native_mremap(struct native_ctx *c, const struct replay_op *op,
			  unsigned long addr)
{
	unsigned long new_addr = REPLAY_WINDOW_BASE + op->new_off;
	long ret;

	if (!mremap_allowed(c, op, addr, new_addr)) {
		refuse("mremap", addr, op->len);
		return -EPERM;
	}
	ret = native_syscall_ret(syscall(SYS_mremap, addr, op->len,
					 op->new_len, op->mremap_flags,
					 new_addr));
	if (ret < 0)
		return ret;
	/*
	 * MREMAP_MAYMOVE without MREMAP_FIXED may put it anywhere: do not
	 * let such mappings pile up where reset() cannot see them.
	 */
	if (!in_window(ret, PAGE_ALIGN(op->new_len)))
		raw_munmap(ret, op->new_len);
	return ret - (long)REPLAY_WINDOW_BASE;
}

static sigjmp_buf touch_env;

static void touch_handler(int sig)
{
	siglongjmp(touch_env, sig);
}

/* The one access; neither the compiler nor a sanitizer may touch it. */
__attribute__((no_sanitize("address", "thread", "undefined"), noinline))
static void touch_byte(unsigned long addr, bool write)
{
	volatile unsigned char *p = (volatile unsigned char *)addr;

	if (write)
		*p = 0x5a;
	else
		(void)*p;
}

static long native_touch(const struct replay_op *op, unsigned long addr)
{
	struct sigaction sa, old_segv, old_bus;
	volatile long ret = 0;
	int sig;

	/* Outside the window there is nothing, as far as scripts know. */
	if (!in_window(addr, 1))
		return REPLAY_SIGSEGV;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = touch_handler;
	sa.sa_flags = SA_NODEFER;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGSEGV, &sa, &old_segv);
	sigaction(SIGBUS, &sa, &old_bus);

	sig = sigsetjmp(touch_env, 1);
	if (!sig)
		touch_byte(addr, op->write);
	else
		ret = sig == SIGBUS ? REPLAY_SIGBUS : REPLAY_SIGSEGV;

	sigaction(SIGSEGV, &old_segv, NULL);
	sigaction(SIGBUS, &old_bus, NULL);
	return ret;
}

static long native_apply(void *ctx, const struct replay_op *op)
{
	struct native_ctx *c = ctx;
	unsigned long addr = REPLAY_WINDOW_BASE + op->off;

	switch (op->kind) {
	case REPLAY_MMAP:
	case REPLAY_MMAPNR:
		return native_mmap(c, op, addr);
	case REPLAY_MUNMAP:
		return native_munmap(c, op, addr);
	case REPLAY_MPROTECT:
		return native_mprotect(c, op, addr);
	case REPLAY_MREMAP:
		return native_mremap(c, op, addr);
	case REPLAY_MADVISE:
		return native_madvise(c, op, addr);
	case REPLAY_MLOCK:
	case REPLAY_MUNLOCK:
		return native_mlock(c, op, addr);
	case REPLAY_TOUCH:
		return native_touch(op, addr);
	}
	return -EINVAL;
}

/* "VmFlags: rd wr mr mw me ac " -> "rd wr mr mw me ac" */
static void copy_vmflags(char *dst, size_t size, const char *src)
{
	size_t used = 0, len;

	dst[0] = '\0';
	for (;;) {
		src += strspn(src, " \t");
		len = strcspn(src, " \t\n");
		if (!len)
			break;
		if (used + !!used + len + 1 > size)
			break;
		if (used)
			dst[used++] = ' ';
		memcpy(dst + used, src, len);
		used += len;
		dst[used] = '\0';
		src += len;
	}
}

/*
 * A VMA header line: "START-END PERMS OFFSET DEV INODE [NAME]", the other
 * lines being "Key: value" with a capital letter first.
 */
static bool parse_header(const char *line, unsigned long *start,
			 struct replay_vma *vma)
{
	unsigned long end;
	char perms[5];

	if (!((*line >= '0' && *line <= '9') || (*line >= 'a' && *line <= 'f')))
		return false;
	if (sscanf(line, "%lx-%lx %4s", start, &end, perms) != 3)
		return false;
	memset(vma, 0, sizeof(*vma));
	vma->start = *start - REPLAY_WINDOW_BASE;
	vma->end = end - REPLAY_WINDOW_BASE;
	memcpy(vma->perms, perms, 3);
	vma->perms[3] = '\0';
	vma->shared = perms[3] == 's';
	return true;
}

/*
 * smaps lists the VMAs in address order, and producing it walks each one's
 * page tables (the shadow of a sanitizer makes that slow): stop reading
 * once past the window.
 */
static int native_vmas(void *ctx, struct replay_vma *out, int max)
{
	struct replay_vma *cur = NULL, vma;
	char *line = NULL;
	size_t cap = 0;
	unsigned long start;
	int n = 0;
	FILE *f;

	(void)ctx;
	f = fopen("/proc/self/smaps", "re");
	if (!f)
		return -1;
	while (getline(&line, &cap, f) >= 0) {
		if (cur && !strncmp(line, "VmFlags:", 8)) {
			copy_vmflags(cur->flags, sizeof(cur->flags), line + 8);
			cur = NULL;
			continue;
		}
		if (!parse_header(line, &start, &vma))
			continue;
		cur = NULL;
		if (start >= WINDOW_END)
			break;
		if (start >= REPLAY_WINDOW_BASE && n < max) {
			out[n] = vma;
			cur = &out[n++];
		}
	}
	free(line);
	fclose(f);
	return n;
}

const struct replay_backend replay_backend_native = {
	.name	= "native",
	.open	= native_open,
	.close	= native_close,
	.reset	= native_reset,
	.apply	= native_apply,
	.vmas	= native_vmas,
};
