// SPDX-License-Identifier: MIT
/*
 * The sparse array of include/mmsim/xarray.h (the kernel's lib/xarray.c,
 * as far as the page cache needs it): a radix tree of 64-slot nodes.
 *
 * The root's shift is the smallest that covers the largest index stored
 * so far: storing past it stacks new roots on top (the old root becomes
 * slot 0 of the new one); erasing shrinks it back while the root holds
 * only slot 0.  A node is freed as soon as its last slot empties, so the
 * tree holds at most height nodes per present entry.
 *
 * No locking here: the caller serializes all calls on one array (for the
 * page cache, under mapping->i_pages_lock).
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>

#include <mmsim/xarray.h>

#define BITS_PER_LONG	(8 * (int)sizeof(unsigned long))

/* Nodes of every array alive, for leak checks in tests. */
static atomic_long xa_nodes_alive;

long xa_live_nodes(void)
{
	return atomic_load(&xa_nodes_alive);
}

static struct xa_node *xa_node_alloc(struct xarray *xa,
				     struct xa_node *parent,
				     unsigned int shift, unsigned int offset)
{
	struct xa_node *node = calloc(1, sizeof(*node));

	if (!node)
		return NULL;
	node->shift = shift;
	node->offset = offset;
	node->parent = parent;
	xa->xa_nr_nodes++;
	atomic_fetch_add(&xa_nodes_alive, 1);
	return node;
}

static void xa_node_free(struct xarray *xa, struct xa_node *node)
{
	xa->xa_nr_nodes--;
	atomic_fetch_sub(&xa_nodes_alive, 1);
	free(node);
}

/* The slot of node that index falls in. */
static unsigned int xa_offset(unsigned long index, const struct xa_node *node)
{
	return (index >> node->shift) & XA_CHUNK_MASK;
}

/* The first index node covers, node being on index's path. */
static unsigned long xa_node_base(const struct xa_node *node,
				  unsigned long index)
{
	unsigned int bits = node->shift + XA_CHUNK_SHIFT;

	if (bits >= BITS_PER_LONG)
		return 0;
	return index & ~((1UL << bits) - 1);
}

/* The largest index a tree with root head can hold. */
static unsigned long xa_max_index(const struct xa_node *head)
{
	unsigned int bits = head->shift + XA_CHUNK_SHIFT;

	if (bits >= BITS_PER_LONG)
		return ~0UL;
	return (1UL << bits) - 1;
}

/*
 * While the root holds only its slot 0 (indices below the child's span),
 * the child can be the root (xas_shrink).
 */
static void xa_shrink(struct xarray *xa)
{
	struct xa_node *head, *child;

	while ((head = xa->xa_head) && head->shift && head->count == 1 &&
	       head->slots[0]) {
		child = head->slots[0];
		child->parent = NULL;
		child->offset = 0;
		xa->xa_head = child;
		xa_node_free(xa, head);
	}
}

/*
 * Free node if it holds nothing, then its parent if that leaves it empty,
 * and so on up; then shrink the root.  Keeps the tree at most height
 * nodes per entry after an erase, or after a store that failed half way.
 */
static void xa_prune(struct xarray *xa, struct xa_node *node)
{
	struct xa_node *parent;

	while (node && !node->count) {
		parent = node->parent;
		if (parent) {
			parent->slots[node->offset] = NULL;
			parent->count--;
		} else {
			xa->xa_head = NULL;
		}
		xa_node_free(xa, node);
		node = parent;
	}
	xa_shrink(xa);
}

/*
 * Make the tree tall enough for index (xas_expand): an empty tree gets a
 * root of just the height index needs; a tree too short gets new roots
 * stacked on it, each with the old root in its slot 0.
 */
static int xa_expand(struct xarray *xa, unsigned long index)
{
	struct xa_node *head = xa->xa_head, *node;
	unsigned int shift = 0;

	if (!head) {
		while (shift + XA_CHUNK_SHIFT < BITS_PER_LONG &&
		       (index >> shift) > XA_CHUNK_MASK)
			shift += XA_CHUNK_SHIFT;
		node = xa_node_alloc(xa, NULL, shift, 0);
		if (!node)
			return -ENOMEM;
		xa->xa_head = node;
		return 0;
	}
	while (index > xa_max_index(head)) {
		node = xa_node_alloc(xa, NULL, head->shift + XA_CHUNK_SHIFT, 0);
		if (!node)
			return -ENOMEM;
		node->slots[0] = head;
		node->count = 1;
		head->parent = node;
		head->offset = 0;
		xa->xa_head = head = node;
	}
	return 0;
}

/* The leaf (shift 0) node on index's path, or NULL if there is none. */
static struct xa_node *xa_find_leaf(const struct xarray *xa,
				    unsigned long index)
{
	struct xa_node *node = xa->xa_head;

	if (!node || index > xa_max_index(node))
		return NULL;
	while (node && node->shift)
		node = node->slots[xa_offset(index, node)];
	return node;
}

/*
 * The leaf node on index's path, allocating the nodes missing on it.
 * NULL when out of memory, with the nodes allocated so far freed again.
 */
static struct xa_node *xa_create_leaf(struct xarray *xa, unsigned long index)
{
	struct xa_node *node, *child;
	unsigned int off;

	if (xa_expand(xa, index))
		goto fail;
	node = xa->xa_head;
	while (node->shift) {
		off = xa_offset(index, node);
		child = node->slots[off];
		if (!child) {
			child = xa_node_alloc(xa, node,
					      node->shift - XA_CHUNK_SHIFT, off);
			if (!child) {
				xa_prune(xa, node);
				return NULL;
			}
			node->slots[off] = child;
			node->count++;
		}
		node = child;
	}
	return node;
fail:
	/* A root stacked before the failure may hold slot 0 alone. */
	xa_shrink(xa);
	return NULL;
}

/* The entry at index, or NULL. */
void *xa_load(const struct xarray *xa, unsigned long index)
{
	struct xa_node *leaf = xa_find_leaf(xa, index);

	return leaf ? leaf->slots[xa_offset(index, leaf)] : NULL;
}

/*
 * Erase the entry at index; return it (NULL if there was none).  The
 * nodes this empties are freed.
 */
void *xa_erase(struct xarray *xa, unsigned long index)
{
	struct xa_node *leaf = xa_find_leaf(xa, index);
	unsigned int off;
	void *old;

	if (!leaf)
		return NULL;
	off = xa_offset(index, leaf);
	old = leaf->slots[off];
	if (!old)
		return NULL;
	leaf->slots[off] = NULL;
	leaf->count--;
	xa_prune(xa, leaf);
	return old;
}

/*
 * Store entry at index; return the entry it replaced (NULL if none), or
 * xa_mk_err(-ENOMEM) when a node could not be allocated (nothing then
 * changed), xa_mk_err(-EINVAL) for an entry that looks like an error.
 * Storing NULL erases.
 */
void *xa_store(struct xarray *xa, unsigned long index, void *entry)
{
	struct xa_node *leaf;
	unsigned int off;
	void *old;

	if (!entry)
		return xa_erase(xa, index);
	if (xa_is_err(entry))
		return xa_mk_err(-EINVAL);
	leaf = xa_create_leaf(xa, index);
	if (!leaf)
		return xa_mk_err(-ENOMEM);
	off = xa_offset(index, leaf);
	old = leaf->slots[off];
	leaf->slots[off] = entry;
	if (!old)
		leaf->count++;
	return old;
}

/* Store entry at index if it is free: 0, -EBUSY, -ENOMEM or -EINVAL. */
int xa_insert(struct xarray *xa, unsigned long index, void *entry)
{
	if (!entry || xa_is_err(entry))
		return -EINVAL;
	if (xa_load(xa, index))
		return -EBUSY;
	return xa_err(xa_store(xa, index, entry));
}

/*
 * The first entry at an index in [*indexp, max], with *indexp set to its
 * index; NULL (and *indexp unchanged) if there is none.  Empty slots are
 * skipped a node's span at a time: the cost is the height times the
 * slots looked at, not the width of the range.
 */
void *xa_find(const struct xarray *xa, unsigned long *indexp,
	      unsigned long max)
{
	struct xa_node *node = xa->xa_head;
	unsigned long index = *indexp, first;
	unsigned int off;

	if (!node || index > max || index > xa_max_index(node))
		return NULL;
	off = xa_offset(index, node);
	for (;;) {
		while (off < XA_CHUNK_SIZE && !node->slots[off])
			off++;
		if (off == XA_CHUNK_SIZE) {
			/* Nothing left here: on to the parent's next slot. */
			if (!node->parent)
				return NULL;
			off = node->offset + 1;
			node = node->parent;
			continue;
		}
		/* A slot after index's own starts at its first index. */
		first = xa_node_base(node, index) +
			((unsigned long)off << node->shift);
		if (first > index)
			index = first;
		if (index > max)
			return NULL;
		if (!node->shift) {
			*indexp = index;
			return node->slots[off];
		}
		node = node->slots[off];
		off = xa_offset(index, node);
	}
}

/* The first entry after *indexp, up to max (xa_for_each's next step). */
void *xa_find_after(const struct xarray *xa, unsigned long *indexp,
		    unsigned long max)
{
	unsigned long index = *indexp;
	void *entry;

	if (index >= max)
		return NULL;
	index++;
	entry = xa_find(xa, &index, max);
	if (entry)
		*indexp = index;
	return entry;
}

static void xa_free_subtree(struct xarray *xa, struct xa_node *node)
{
	unsigned int off;

	if (node->shift) {
		for (off = 0; off < XA_CHUNK_SIZE; off++)
			if (node->slots[off])
				xa_free_subtree(xa, node->slots[off]);
	}
	xa_node_free(xa, node);
}

/*
 * Free every node; the entries are the caller's and are left alone
 * (the page cache has taken its pages out first).
 */
void xa_destroy(struct xarray *xa)
{
	if (xa->xa_head)
		xa_free_subtree(xa, xa->xa_head);
	xa->xa_head = NULL;
}
