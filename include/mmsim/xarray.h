/* SPDX-License-Identifier: MIT */
/*
 * A sparse array of pointers indexed by unsigned long (the kernel's
 * <linux/xarray.h>, the part the page cache needs): a radix tree of
 * 64-slot nodes, as tall as the largest index present requires.  Every
 * operation costs in proportion to the tree's height (at most 11 levels
 * for 64-bit indices) and, for xa_find(), to the slots skipped on the
 * way to the next entry: never in proportion to the span of indices.
 *
 * An entry is any non-NULL pointer whose low two bits are not 10 (those
 * are xa_store()'s errors): an aligned pointer, or a value entry
 * (xa_mk_value()).  A NULL slot is an absent entry.
 *
 * Nodes are allocated when a store needs them and freed as soon as they
 * hold nothing; the tree shrinks when its root is left with index 0's
 * subtree alone.
 *
 * Locking: none inside.  The kernel's xarray carries its own xa_lock;
 * here the caller serializes every call on one array with a lock of its
 * own (the page cache: address_space.i_pages_lock) or by owning the array
 * outright.  Readers are not RCU-safe: a lookup too needs that lock.
 */
#ifndef MMSIM_XARRAY_H
#define MMSIM_XARRAY_H

#include <stdbool.h>
#include <stddef.h>

#define XA_CHUNK_SHIFT	6
#define XA_CHUNK_SIZE	(1UL << XA_CHUNK_SHIFT)
#define XA_CHUNK_MASK	(XA_CHUNK_SIZE - 1)

/*
 * One node: XA_CHUNK_SIZE slots, each covering 1 << shift indices.  With
 * shift 0 the slots hold entries, otherwise child nodes.
 */
struct xa_node {
	unsigned char shift;		/* index bits below this level */
	unsigned char offset;		/* our slot in parent */
	unsigned char count;		/* non-NULL slots */
	struct xa_node *parent;		/* NULL for the root */
	void *slots[XA_CHUNK_SIZE];
};

struct xarray {
	struct xa_node *xa_head;	/* the root node, NULL when empty */
	unsigned long xa_nr_nodes;	/* nodes of this array, for tests */
};

#define XARRAY_INIT	{ .xa_head = NULL, .xa_nr_nodes = 0 }

static inline void xa_init(struct xarray *xa)
{
	xa->xa_head = NULL;
	xa->xa_nr_nodes = 0;
}

static inline bool xa_empty(const struct xarray *xa)
{
	return xa->xa_head == NULL;
}

/*
 * Errors from xa_store() are encoded in the returned pointer, as in the
 * kernel (an entry never has bit 1 set).
 */
static inline void *xa_mk_err(int errno_)
{
	return (void *)(((unsigned long)-errno_ << 2) | 2UL);
}

static inline bool xa_is_err(const void *entry)
{
	return ((unsigned long)entry & 3UL) == 2UL;
}

/* The errno of an xa_store() result: 0 unless xa_is_err(). */
static inline int xa_err(const void *entry)
{
	if (!xa_is_err(entry))
		return 0;
	return -(int)((unsigned long)entry >> 2);
}

/* An integer as an entry (bit 0 set), as the kernel's value entries. */
static inline void *xa_mk_value(unsigned long v)
{
	return (void *)((v << 1) | 1UL);
}

static inline unsigned long xa_to_value(const void *entry)
{
	return (unsigned long)entry >> 1;
}

void *xa_load(const struct xarray *xa, unsigned long index);
void *xa_store(struct xarray *xa, unsigned long index, void *entry);
int xa_insert(struct xarray *xa, unsigned long index, void *entry);
void *xa_erase(struct xarray *xa, unsigned long index);
void *xa_find(const struct xarray *xa, unsigned long *indexp,
	      unsigned long max);
void *xa_find_after(const struct xarray *xa, unsigned long *indexp,
		    unsigned long max);
void xa_destroy(struct xarray *xa);
long xa_live_nodes(void);

/*
 * Every present entry with index in [start, last], in index order; the
 * body may erase the current entry (each step looks the next one up from
 * the root).
 */
#define xa_for_each_range(xa, index, entry, start, last)		\
	for (index = (start), entry = xa_find(xa, &index, last);	\
	     entry; entry = xa_find_after(xa, &index, last))

#define xa_for_each(xa, index, entry) \
	xa_for_each_range(xa, index, entry, 0, ~0UL)

#endif /* MMSIM_XARRAY_H */
