/* SPDX-License-Identifier: MIT */
/*
 * READ_ONCE / WRITE_ONCE (<linux/compiler.h>): one untorn access the
 * compiler may not merge, repeat or drop.  Fields that a lockless reader
 * (the speculative fault) reads while a writer under the mmap lock changes
 * them are accessed this way on both sides, as relaxed atomics, so that
 * ThreadSanitizer sees intended races as such.  Ordering comes from the
 * seqcounts around them, not from these.
 */
#ifndef MMSIM_COMPILER_H
#define MMSIM_COMPILER_H

#define READ_ONCE(x)		__atomic_load_n(&(x), __ATOMIC_RELAXED)
#define WRITE_ONCE(x, val)	__atomic_store_n(&(x), (val), __ATOMIC_RELAXED)

#endif /* MMSIM_COMPILER_H */
