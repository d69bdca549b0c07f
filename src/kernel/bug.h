/* SPDX-License-Identifier: MIT */
/*
 * BUG_ON, WARN_ON and VM_BUG_ON: a broken invariant stops the run with a
 * message naming the file and line, as the kernel's would stop the machine.
 */
#ifndef MMSIM_KERNEL_BUG_H
#define MMSIM_KERNEL_BUG_H

#include <stdbool.h>

void __mmsim_bug(const char *file, int line, const char *cond)
	__attribute__((noreturn));
void __mmsim_warn(const char *file, int line, const char *cond);

#define BUG()		__mmsim_bug(__FILE__, __LINE__, "BUG()")
#define BUG_ON(c)	do { if (__builtin_expect(!!(c), 0)) \
				__mmsim_bug(__FILE__, __LINE__, #c); } while (0)
#define WARN_ON(c)	({ bool __w = !!(c); \
			   if (__builtin_expect(__w, 0)) \
				__mmsim_warn(__FILE__, __LINE__, #c); \
			   __w; })
#define VM_BUG_ON(c)	BUG_ON(c)
#define VM_WARN_ON(c)	WARN_ON(c)

#define likely(x)	__builtin_expect(!!(x), 1)
#define unlikely(x)	__builtin_expect(!!(x), 0)

#ifndef min
#define min(a, b)	({ typeof(a) __a = (a); typeof(b) __b = (b); \
			   __a < __b ? __a : __b; })
#define max(a, b)	({ typeof(a) __a = (a); typeof(b) __b = (b); \
			   __a > __b ? __a : __b; })
#endif

#endif /* MMSIM_KERNEL_BUG_H */
