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
 * it before touching anything, or when it provably stops inside the window
 * (replay_refusal(), shared with the mmsim backend so that both refuse the
 * same lines); madvise(), which skips holes, is clipped to the window.
 * The result is what the kernel would say if nothing were mapped outside
 * the window, which is also how mmsim sees its own address space.
 *
 * The simulated task has no CAP_SYS_RAWIO; this process drops it from its
 * effective set, so that the host kernel refuses MAP_FIXED below
 * vm.mmap_min_addr (-EPERM) as it would for the simulated task.
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <linux/capability.h>

/* <mmsim/mm.h> spells it the kernel's way, with the same value. */
#undef RLIM_INFINITY
#include <mmsim/mm.h>
#include "replay.h"

#define WINDOW_END	(REPLAY_WINDOW_BASE + REPLAY_WINDOW_SIZE)

struct native_ctx {
	unsigned int levels;
	unsigned long task_size;	/* the host's TASK_SIZE */
	unsigned long mmap_min_addr;	/* 0 if we may map below it */
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

/*
 * Drop CAP_SYS_RAWIO from the effective set, which lets a task map below
 * vm.mmap_min_addr (cap_mmap_addr()); returns whether it is not there.
 */
static bool drop_cap_sys_rawio(void)
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];
	const unsigned int bit = 1U << (CAP_SYS_RAWIO % 32);

	if (syscall(SYS_capget, &hdr, data))
		return false;
	if (!(data[CAP_SYS_RAWIO / 32].effective & bit))
		return true;
	data[CAP_SYS_RAWIO / 32].effective &= ~bit;
	if (syscall(SYS_capset, &hdr, data))
		return false;
	if (syscall(SYS_capget, &hdr, data))
		return false;
	return !(data[CAP_SYS_RAWIO / 32].effective & bit);
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
	/*
	 * Without the drop, a MAP_FIXED below vm.mmap_min_addr would map:
	 * say there is no such bound, and those lines are refused.
	 */
	native_ctx.mmap_min_addr = 0;
	if (drop_cap_sys_rawio())
		native_ctx.mmap_min_addr = replay_host_mmap_min_addr(0);
	else
		fprintf(stderr, "replay native: cannot drop CAP_SYS_RAWIO: "
			"lines below vm.mmap_min_addr will be refused\n");
	native_reset(&native_ctx);
	return &native_ctx;
}

static void native_close(void *ctx)
{
	native_reset(ctx);
}

static long native_mmap(const struct replay_op *op, unsigned long addr)
{
	int flags = MAP_ANONYMOUS;
	long ret;

	flags |= op->shared ? MAP_SHARED : MAP_PRIVATE;
	flags |= op->kind == REPLAY_MMAPNR ? MAP_FIXED_NOREPLACE : MAP_FIXED;
	ret = raw_mmap(addr, op->len, op->prot, flags);
	if (ret < 0)
		return ret;
	return ret - (long)REPLAY_WINDOW_BASE;
}

static long native_mprotect(const struct replay_op *op, unsigned long addr)
{
	return native_syscall_ret(syscall(SYS_mprotect, addr, op->len,
					  op->prot));
}

static long native_mlock(const struct replay_op *op, unsigned long addr)
{
	long nr = op->kind == REPLAY_MLOCK ? SYS_mlock : SYS_munlock;

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

	/* replay_refusal() let through only those starting in the window. */
	if (offset_in_page(addr) || (op->len && !alen) || end <= addr ||
	    in_window(addr, alen) || addr >= c->task_size)
		return native_syscall_ret(syscall(SYS_madvise, addr, op->len,
						  op->advice));
	ret = native_syscall_ret(syscall(SYS_madvise, addr, WINDOW_END - addr,
					 op->advice));
	return ret ? ret : -ENOMEM;
}

static long native_mremap(const struct replay_op *op, unsigned long addr)
{
	unsigned long new_addr = REPLAY_WINDOW_BASE + op->new_off;
	long ret;

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
	const char *why;

	/* replay_run() asked already; this process's memory is at stake. */
	why = replay_refusal(&replay_backend_native, ctx, op);
	if (why) {
		fprintf(stderr, "replay native: refused: %s\n", why);
		return REPLAY_REFUSED;
	}

	switch (op->kind) {
	case REPLAY_MMAP:
	case REPLAY_MMAPNR:
		return native_mmap(op, addr);
	case REPLAY_MUNMAP:
		return raw_munmap(addr, op->len);
	case REPLAY_MPROTECT:
		return native_mprotect(op, addr);
	case REPLAY_MREMAP:
		return native_mremap(op, addr);
	case REPLAY_MADVISE:
		return native_madvise(c, op, addr);
	case REPLAY_MLOCK:
	case REPLAY_MUNLOCK:
		return native_mlock(op, addr);
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

static void native_limits(void *ctx, struct replay_limits *lim)
{
	struct native_ctx *c = ctx;

	lim->task_size = c->task_size;
	lim->mmap_min_addr = c->mmap_min_addr;
}

const struct replay_backend replay_backend_native = {
	.name	= "native",
	.limits	= native_limits,
	.open	= native_open,
	.close	= native_close,
	.reset	= native_reset,
	.apply	= native_apply,
	.vmas	= native_vmas,
};
