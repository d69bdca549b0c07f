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

/*
 * data_race_begin/end: the reads between them may race with writers by
 * design, and what they read is validated afterwards (a seqcount retry
 * throws it away).  The kernel's KCSAN treats a seqlock read section so
 * (kcsan_atomic_next in read_seqcount_begin); ThreadSanitizer is told to
 * ignore this thread's accesses meanwhile.  Only for a section that
 * reads, and whose result cannot be used unvalidated.
 */
#ifdef MMSIM_TSAN
void __tsan_ignore_thread_begin(void);
void __tsan_ignore_thread_end(void);
#define data_race_begin()	__tsan_ignore_thread_begin()
#define data_race_end()		__tsan_ignore_thread_end()
#else
#define data_race_begin()	do { } while (0)
#define data_race_end()		do { } while (0)
#endif

#endif /* MMSIM_COMPILER_H */
