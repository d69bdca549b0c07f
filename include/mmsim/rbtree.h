/* SPDX-License-Identifier: MIT */
/*
 * Red-black trees with optional augmentation, in the shape of the kernel's
 * <linux/rbtree.h> and <linux/rbtree_augmented.h>: the caller links a node
 * where its own search ended (rb_link_node) and then asks the tree to
 * rebalance (rb_insert_color / rb_insert_augmented).  Augmented trees keep a
 * per-node value computed from the node and its subtrees; the callbacks keep
 * it right across rotations, and the caller propagates after changing a
 * node's own key data.
 *
 * Lockless readers.  The speculative fault walks a VMA tree without the
 * lock that serialises its writers, under a seqcount that tells it
 * afterwards whether a writer ran (the SPF series' mm_seq).  As in the
 * kernel's lib/rbtree.c, every store of a link is therefore a single
 * untorn store (never a plain one a reader could see half done), and the
 * stores of a rotation leave the child link that makes the rotated
 * subtree reachable for last: a concurrent walk may miss nodes, but never
 * follows a link to a node not yet filled in.  Child links are stored
 * with release semantics (the kernel relies on the wmb of
 * write_seqlock() before the publishing store, which C11 and
 * ThreadSanitizer only see as a release), so that a reader who loads a
 * link with rb_*_lockless() (acquire) sees the node behind it initialised.
 */
#ifndef MMSIM_RBTREE_H
#define MMSIM_RBTREE_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include <mmsim/compiler.h>

struct rb_node {
	uintptr_t __rb_parent_color;	/* parent pointer | colour bit */
	struct rb_node *rb_right;
	struct rb_node *rb_left;
} __attribute__((aligned(sizeof(long))));

struct rb_root {
	struct rb_node *rb_node;
};

#define RB_ROOT		((struct rb_root) { NULL })
#define RB_RED		0
#define RB_BLACK	1

#define rb_parent(r)	((struct rb_node *)((r)->__rb_parent_color & ~3UL))
#define rb_entry(ptr, type, member) \
	((type *)((char *)(ptr) - offsetof(type, member)))
#define rb_entry_safe(ptr, type, member) \
	({ typeof(ptr) ____ptr = (ptr); \
	   ____ptr ? rb_entry(____ptr, type, member) : NULL; })

#define RB_EMPTY_ROOT(root)	(READ_ONCE((root)->rb_node) == NULL)
/*
 * A node that is not in any tree points to itself.  A lockless reader
 * tests this to know that a node it found was erased since (the VMA is
 * dead), so the clearing store is a release: whoever sees it also sees
 * the erase that came before it in program order.
 */
#define RB_EMPTY_NODE(node) \
	(READ_ONCE((node)->__rb_parent_color) == (uintptr_t)(node))
#define RB_CLEAR_NODE(node) \
	__atomic_store_n(&(node)->__rb_parent_color, (uintptr_t)(node), \
			 __ATOMIC_RELEASE)

/*
 * Store a child link (or a root's node): the store that makes node
 * reachable to a lockless reader, hence a release (rcu_assign_pointer()).
 */
#define rb_assign_child(link, node) \
	__atomic_store_n(&(link), (node), __ATOMIC_RELEASE)

/*
 * Augmentation callbacks.  propagate(node, stop) recomputes the augmented
 * value of node and of its ancestors up to (not including) stop, stopping
 * early when a value does not change.  copy(old, new) copies the augmented
 * value of old into new (new takes old's place).  rotate(old, new): new
 * becomes old's parent; set new's value to old's, then recompute old's.
 */
struct rb_augment_callbacks {
	void (*propagate)(struct rb_node *node, struct rb_node *stop);
	void (*copy)(struct rb_node *old, struct rb_node *new);
	void (*rotate)(struct rb_node *old, struct rb_node *new);
};

/*
 * Link node, red and childless, at *rb_link below parent.  The node is
 * filled in before the link that publishes it is stored.
 */
static inline void rb_link_node(struct rb_node *node, struct rb_node *parent,
				struct rb_node **rb_link)
{
	WRITE_ONCE(node->__rb_parent_color, (uintptr_t)parent);	/* red */
	WRITE_ONCE(node->rb_left, NULL);
	WRITE_ONCE(node->rb_right, NULL);
	rb_assign_child(*rb_link, node);
}

void rb_insert_color(struct rb_node *node, struct rb_root *root);
void rb_erase(struct rb_node *node, struct rb_root *root);
void rb_insert_augmented(struct rb_node *node, struct rb_root *root,
			 const struct rb_augment_callbacks *augment);
void rb_erase_augmented(struct rb_node *node, struct rb_root *root,
			const struct rb_augment_callbacks *augment);
/* Put new in victim's place, keeping colour, links and augmented value. */
void rb_replace_node(struct rb_node *victim, struct rb_node *new,
		     struct rb_root *root);

struct rb_node *rb_first(const struct rb_root *root);
struct rb_node *rb_last(const struct rb_root *root);
struct rb_node *rb_next(const struct rb_node *node);
struct rb_node *rb_prev(const struct rb_node *node);

static inline bool rb_is_black(const struct rb_node *node)
{
	return !node || (node->__rb_parent_color & 1);
}

/*
 * --- lockless readers ------------------------------------------------------
 *
 * A walk without the writers' lock loads every link with these (acquire:
 * pairs with rb_assign_child()), never with plain loads.  Its result means
 * something only if the seqcount the writers bump says that no writer ran
 * meanwhile; a walk racing a writer may miss nodes, or pass some twice
 * (an erased node's successor takes over its right subtree while a walk
 * is below it), which is why lockless walks are bounded in depth.
 */
static inline struct rb_node *rb_root_node_lockless(const struct rb_root *root)
{
	return __atomic_load_n(&root->rb_node, __ATOMIC_ACQUIRE);
}

static inline struct rb_node *rb_left_lockless(const struct rb_node *node)
{
	return __atomic_load_n(&node->rb_left, __ATOMIC_ACQUIRE);
}

static inline struct rb_node *rb_right_lockless(const struct rb_node *node)
{
	return __atomic_load_n(&node->rb_right, __ATOMIC_ACQUIRE);
}

/*
 * The leftmost node for which cmp(key, node) == 0, walking without the
 * writers' lock (the kernel's rb_find_first(), made safe to race):
 * cmp(key, node) < 0 means the match, if any, lies left of node; > 0 that
 * it lies right of it; 0 that node matches (and a leftmost one may lie to
 * its left).  find_vma() is cmp = "addr < vm_end ? 0 : 1".
 *
 * The walk stops after RB_MAX_DEPTH nodes: a tree that deep can only be
 * one being rewritten under us, and the caller, which must validate the
 * result with its seqcount anyway, then retries or gives up.
 */
struct rb_node *rb_find_first_lockless(const void *key,
				       const struct rb_root *root,
				       int (*cmp)(const void *key,
						  const struct rb_node *node));

/*
 * Check the red-black properties (root black, no red node with a red child,
 * equal black height on every path, parent pointers consistent).  Returns
 * the black height, or -1 if the tree is broken.  For validate_mm() and tests.
 */
int rb_check_tree(const struct rb_root *root);

/*
 * Deepest a valid tree can be: the height is at most twice log2 of the node
 * count, and fewer than 2^64 nodes fit in memory.
 */
#define RB_MAX_DEPTH	128

#endif /* MMSIM_RBTREE_H */
