/* SPDX-License-Identifier: MIT */
/*
 * Red-black trees with optional augmentation, in the shape of the kernel's
 * <linux/rbtree.h> and <linux/rbtree_augmented.h>: the caller links a node
 * where its own search ended (rb_link_node) and then asks the tree to
 * rebalance (rb_insert_color / rb_insert_augmented).  Augmented trees keep a
 * per-node value computed from the node and its subtrees; the callbacks keep
 * it right across rotations, and the caller propagates after changing a
 * node's own key data.
 */
#ifndef MMSIM_RBTREE_H
#define MMSIM_RBTREE_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

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

#define RB_EMPTY_ROOT(root)	((root)->rb_node == NULL)
/* A node that is not in any tree points to itself. */
#define RB_EMPTY_NODE(node) \
	((node)->__rb_parent_color == (uintptr_t)(node))
#define RB_CLEAR_NODE(node) \
	((node)->__rb_parent_color = (uintptr_t)(node))

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

static inline void rb_link_node(struct rb_node *node, struct rb_node *parent,
				struct rb_node **rb_link)
{
	node->__rb_parent_color = (uintptr_t)parent;	/* red */
	node->rb_left = node->rb_right = NULL;
	*rb_link = node;
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
 * Check the red-black properties (root black, no red node with a red child,
 * equal black height on every path, parent pointers consistent).  Returns
 * the black height, or -1 if the tree is broken.  For validate_mm() and tests.
 */
int rb_check_tree(const struct rb_root *root);

#endif /* MMSIM_RBTREE_H */
