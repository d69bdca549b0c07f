// SPDX-License-Identifier: MIT
/*
 * Red-black trees, written from the textbook algorithm (Cormen, Leiserson,
 * Rivest and Stein, "Introduction to Algorithms", chapter 13) and given the
 * interface of the kernel's rbtree so that mmsim code reads like the kernel.
 *
 * The colour sits in bit 0 of __rb_parent_color (RB_RED = 0, RB_BLACK = 1);
 * bit 1 is never used.  A NULL child counts as a black leaf.
 *
 * Augmentation: every rotation reports (old, new) with new now old's parent,
 * and erase propagates along the path whose subtree lost a node before it
 * rebalances, so rotations always start from correct values.  Plain trees
 * use callbacks that do nothing, which keeps a single copy of each algorithm.
 *
 * Lockless readers (see <mmsim/rbtree.h>): every store of a link below is
 * a WRITE_ONCE, or for child links rb_assign_child() (a release); reads
 * stay plain, since only the writer, who holds the tree's lock, reads
 * links here.  Within a rotation the inner links are rewritten first and
 * the link from above that makes the rotated subtree reachable is stored
 * last, as lib/rbtree.c does, so a racing walk may miss nodes but never
 * reaches a half-linked one (see <mmsim/rbtree.h> for what it may do).
 */
#include <mmsim/rbtree.h>

#define RB_COLOR_MASK	((uintptr_t)1)
#define RB_FLAGS_MASK	((uintptr_t)3)

static inline int rb_color(const struct rb_node *node)
{
	return node->__rb_parent_color & RB_COLOR_MASK;
}

static inline bool rb_is_red(const struct rb_node *node)
{
	return node && rb_color(node) == RB_RED;
}

static inline void rb_set_color(struct rb_node *node, int color)
{
	WRITE_ONCE(node->__rb_parent_color,
		   (node->__rb_parent_color & ~RB_COLOR_MASK) | (uintptr_t)color);
}

static inline void rb_set_parent(struct rb_node *node, struct rb_node *parent)
{
	WRITE_ONCE(node->__rb_parent_color,
		   (uintptr_t)parent | (uintptr_t)rb_color(node));
}

/*
 * Make parent (or the root, if parent is NULL) point at new instead of old:
 * the store that publishes new in old's place.
 */
static inline void rb_change_child(struct rb_node *old, struct rb_node *new,
				   struct rb_node *parent, struct rb_root *root)
{
	if (!parent)
		rb_assign_child(root->rb_node, new);
	else if (parent->rb_left == old)
		rb_assign_child(parent->rb_left, new);
	else
		rb_assign_child(parent->rb_right, new);
}

/*
 * node(a, right(b, c)) becomes right(node(a, b), c): right moves up into
 * node's place.  Colours stay with their nodes; the caller recolours.
 * A lockless walk through node meanwhile misses right and c until the
 * last store makes right reachable from above.
 */
static void rb_rotate_left(struct rb_node *node, struct rb_root *root,
			   const struct rb_augment_callbacks *augment)
{
	struct rb_node *right = node->rb_right;
	struct rb_node *parent = rb_parent(node);
	struct rb_node *inner = right->rb_left;

	rb_assign_child(node->rb_right, inner);
	rb_assign_child(right->rb_left, node);
	if (inner)
		rb_set_parent(inner, node);
	rb_set_parent(right, parent);
	rb_set_parent(node, right);
	rb_change_child(node, right, parent, root);
	augment->rotate(node, right);
}

/* The mirror image of rb_rotate_left(). */
static void rb_rotate_right(struct rb_node *node, struct rb_root *root,
			    const struct rb_augment_callbacks *augment)
{
	struct rb_node *left = node->rb_left;
	struct rb_node *parent = rb_parent(node);
	struct rb_node *inner = left->rb_right;

	rb_assign_child(node->rb_left, inner);
	rb_assign_child(left->rb_right, node);
	if (inner)
		rb_set_parent(inner, node);
	rb_set_parent(left, parent);
	rb_set_parent(node, left);
	rb_change_child(node, left, parent, root);
	augment->rotate(node, left);
}

/*
 * The freshly linked node is red, so the only property that can fail is
 * "a red node has no red child", between node and its parent.  A red uncle
 * lets us push the problem two levels up by recolouring; a black uncle is
 * fixed for good by at most two rotations.
 */
static void rb_insert_fixup(struct rb_node *node, struct rb_root *root,
			    const struct rb_augment_callbacks *augment)
{
	struct rb_node *parent, *gparent, *uncle;

	while ((parent = rb_parent(node)) && rb_is_red(parent)) {
		/* A red node is never the root, so gparent exists. */
		gparent = rb_parent(parent);

		if (parent == gparent->rb_left) {
			uncle = gparent->rb_right;
			if (rb_is_red(uncle)) {
				rb_set_color(parent, RB_BLACK);
				rb_set_color(uncle, RB_BLACK);
				rb_set_color(gparent, RB_RED);
				node = gparent;
				continue;
			}
			if (node == parent->rb_right) {
				/* Bring the inner grandchild to the outside. */
				rb_rotate_left(parent, root, augment);
				parent = node;
			}
			rb_set_color(parent, RB_BLACK);
			rb_set_color(gparent, RB_RED);
			rb_rotate_right(gparent, root, augment);
		} else {
			uncle = gparent->rb_left;
			if (rb_is_red(uncle)) {
				rb_set_color(parent, RB_BLACK);
				rb_set_color(uncle, RB_BLACK);
				rb_set_color(gparent, RB_RED);
				node = gparent;
				continue;
			}
			if (node == parent->rb_left) {
				rb_rotate_right(parent, root, augment);
				parent = node;
			}
			rb_set_color(parent, RB_BLACK);
			rb_set_color(gparent, RB_RED);
			rb_rotate_left(gparent, root, augment);
		}
		break;
	}
	rb_set_color(root->rb_node, RB_BLACK);
}

/*
 * A black node was removed from above node (which may be NULL, hence the
 * separate parent): every path through node is one black short.  Either
 * node is red and simply turns black, or we borrow from the sibling's side
 * by rotations, or, if the sibling's side has nothing to spare, make it one
 * black short as well and hand the problem to the parent.
 */
static void rb_erase_fixup(struct rb_node *node, struct rb_node *parent,
			   struct rb_root *root,
			   const struct rb_augment_callbacks *augment)
{
	struct rb_node *sibling;

	while (node != root->rb_node && !rb_is_red(node)) {
		/*
		 * When node is NULL, "node == parent->rb_left" is still right:
		 * the sibling's side is at least one black deep, so the two
		 * children cannot both be NULL.
		 */
		if (node == parent->rb_left) {
			sibling = parent->rb_right;
			if (rb_is_red(sibling)) {
				/* Make the sibling black; the deficit stays. */
				rb_set_color(sibling, RB_BLACK);
				rb_set_color(parent, RB_RED);
				rb_rotate_left(parent, root, augment);
				sibling = parent->rb_right;
			}
			if (rb_is_black(sibling->rb_left) &&
			    rb_is_black(sibling->rb_right)) {
				rb_set_color(sibling, RB_RED);
				node = parent;
				parent = rb_parent(node);
				continue;
			}
			if (rb_is_black(sibling->rb_right)) {
				/* Turn the sibling's red child outwards. */
				rb_set_color(sibling->rb_left, RB_BLACK);
				rb_set_color(sibling, RB_RED);
				rb_rotate_right(sibling, root, augment);
				sibling = parent->rb_right;
			}
			rb_set_color(sibling, rb_color(parent));
			rb_set_color(parent, RB_BLACK);
			rb_set_color(sibling->rb_right, RB_BLACK);
			rb_rotate_left(parent, root, augment);
		} else {
			sibling = parent->rb_left;
			if (rb_is_red(sibling)) {
				rb_set_color(sibling, RB_BLACK);
				rb_set_color(parent, RB_RED);
				rb_rotate_right(parent, root, augment);
				sibling = parent->rb_left;
			}
			if (rb_is_black(sibling->rb_left) &&
			    rb_is_black(sibling->rb_right)) {
				rb_set_color(sibling, RB_RED);
				node = parent;
				parent = rb_parent(node);
				continue;
			}
			if (rb_is_black(sibling->rb_left)) {
				rb_set_color(sibling->rb_right, RB_BLACK);
				rb_set_color(sibling, RB_RED);
				rb_rotate_left(sibling, root, augment);
				sibling = parent->rb_left;
			}
			rb_set_color(sibling, rb_color(parent));
			rb_set_color(parent, RB_BLACK);
			rb_set_color(sibling->rb_left, RB_BLACK);
			rb_rotate_right(parent, root, augment);
		}
		/* The deficit is repaid: nothing above needs to change. */
		return;
	}
	if (node)
		rb_set_color(node, RB_BLACK);
}

/*
 * Unlink a node with at most one child by splicing the child into its place.
 * Returns the parent the rebalance starts from (through *parentp) and
 * whether a black node left the tree.
 */
static bool rb_splice_out(struct rb_node *node, struct rb_root *root,
			  struct rb_node **childp, struct rb_node **parentp,
			  const struct rb_augment_callbacks *augment)
{
	struct rb_node *child = node->rb_left ? node->rb_left : node->rb_right;
	struct rb_node *parent = rb_parent(node);

	rb_change_child(node, child, parent, root);
	if (child)
		rb_set_parent(child, parent);
	/* Only parent's subtree and those above it lost a node. */
	if (parent)
		augment->propagate(parent, NULL);

	*childp = child;
	*parentp = parent;
	return rb_color(node) == RB_BLACK;
}

/*
 * Unlink a node with two children: its in-order successor (the leftmost
 * node of its right subtree, which has no left child) leaves its own spot
 * and takes over node's position, colour and augmented value.  Seen from
 * the tree's shape, it is the successor's old spot that disappeared.
 */
static bool rb_replace_by_successor(struct rb_node *node,
				    struct rb_root *root,
				    struct rb_node **childp,
				    struct rb_node **parentp,
				    const struct rb_augment_callbacks *augment)
{
	struct rb_node *successor = node->rb_right;
	struct rb_node *child, *parent;
	bool black;

	while (successor->rb_left)
		successor = successor->rb_left;
	child = successor->rb_right;
	black = rb_color(successor) == RB_BLACK;

	if (successor == node->rb_right) {
		/* It keeps its right subtree and just moves up. */
		parent = successor;
	} else {
		parent = rb_parent(successor);
		rb_assign_child(parent->rb_left, child);
		if (child)
			rb_set_parent(child, parent);
		rb_assign_child(successor->rb_right, node->rb_right);
		rb_set_parent(node->rb_right, successor);
	}
	rb_assign_child(successor->rb_left, node->rb_left);
	rb_set_parent(node->rb_left, successor);
	WRITE_ONCE(successor->__rb_parent_color, node->__rb_parent_color);
	/* Last: a walk that reaches node still finds both its subtrees. */
	rb_change_child(node, successor, rb_parent(node), root);

	/*
	 * Below the successor, the path down to its old spot lost the
	 * successor itself; the successor's own subtree and everything above
	 * it lost node.  Propagating the lower path first (stopping short of
	 * the successor) means the successor is then recomputed from correct
	 * children, and an early stop on either path is safe: an unchanged
	 * value means nothing above it changed either.
	 */
	augment->copy(node, successor);
	if (parent != successor)
		augment->propagate(parent, successor);
	augment->propagate(successor, NULL);

	*childp = child;
	*parentp = parent;
	return black;
}

static void rb_erase_common(struct rb_node *node, struct rb_root *root,
			    const struct rb_augment_callbacks *augment)
{
	struct rb_node *child, *parent;
	bool black;

	if (node->rb_left && node->rb_right)
		black = rb_replace_by_successor(node, root, &child, &parent,
						augment);
	else
		black = rb_splice_out(node, root, &child, &parent, augment);

	/* Removing a red node cannot change any black height. */
	if (black)
		rb_erase_fixup(child, parent, root, augment);
}

static void rb_dummy_propagate(struct rb_node *node, struct rb_node *stop)
{
	(void)node;
	(void)stop;
}

static void rb_dummy_copy(struct rb_node *old, struct rb_node *new)
{
	(void)old;
	(void)new;
}

static void rb_dummy_rotate(struct rb_node *old, struct rb_node *new)
{
	(void)old;
	(void)new;
}

static const struct rb_augment_callbacks rb_dummy_callbacks = {
	.propagate	= rb_dummy_propagate,
	.copy		= rb_dummy_copy,
	.rotate		= rb_dummy_rotate,
};

void rb_insert_color(struct rb_node *node, struct rb_root *root)
{
	rb_insert_fixup(node, root, &rb_dummy_callbacks);
}

void rb_erase(struct rb_node *node, struct rb_root *root)
{
	rb_erase_common(node, root, &rb_dummy_callbacks);
}

/*
 * As in the kernel, the caller has already folded the new node's value into
 * its ancestors on the way down, so only the rotations need reporting.
 */
void rb_insert_augmented(struct rb_node *node, struct rb_root *root,
			 const struct rb_augment_callbacks *augment)
{
	rb_insert_fixup(node, root, augment);
}

void rb_erase_augmented(struct rb_node *node, struct rb_root *root,
			const struct rb_augment_callbacks *augment)
{
	rb_erase_common(node, root, augment);
}

/*
 * The tree's shape does not change, so colours and augmented values stay
 * valid as long as new sorts where victim did and the caller has given new
 * victim's augmented value.
 */
void rb_replace_node(struct rb_node *victim, struct rb_node *new,
		     struct rb_root *root)
{
	struct rb_node *parent = rb_parent(victim);

	/* Field by field: each store untorn, new complete before it is linked. */
	WRITE_ONCE(new->__rb_parent_color, victim->__rb_parent_color);
	WRITE_ONCE(new->rb_left, victim->rb_left);
	WRITE_ONCE(new->rb_right, victim->rb_right);
	if (victim->rb_left)
		rb_set_parent(victim->rb_left, new);
	if (victim->rb_right)
		rb_set_parent(victim->rb_right, new);
	rb_change_child(victim, new, parent, root);
}

struct rb_node *rb_find_first_lockless(const void *key,
				       const struct rb_root *root,
				       int (*cmp)(const void *key,
						  const struct rb_node *node))
{
	struct rb_node *node = rb_root_node_lockless(root);
	struct rb_node *match = NULL;
	int depth;

	for (depth = 0; node && depth < RB_MAX_DEPTH; depth++) {
		int c = cmp(key, node);

		if (c <= 0) {
			if (!c)
				match = node;
			node = rb_left_lockless(node);
		} else {
			node = rb_right_lockless(node);
		}
	}
	return match;
}

struct rb_node *rb_first(const struct rb_root *root)
{
	struct rb_node *node = root->rb_node;

	if (!node)
		return NULL;
	while (node->rb_left)
		node = node->rb_left;
	return node;
}

struct rb_node *rb_last(const struct rb_root *root)
{
	struct rb_node *node = root->rb_node;

	if (!node)
		return NULL;
	while (node->rb_right)
		node = node->rb_right;
	return node;
}

struct rb_node *rb_next(const struct rb_node *node)
{
	struct rb_node *parent;

	/* A cleared node is in no tree and has no neighbours. */
	if (RB_EMPTY_NODE(node))
		return NULL;

	if (node->rb_right) {
		node = node->rb_right;
		while (node->rb_left)
			node = node->rb_left;
		return (struct rb_node *)node;
	}
	/* Climb until we come up from a left child. */
	while ((parent = rb_parent(node)) && node == parent->rb_right)
		node = parent;
	return parent;
}

struct rb_node *rb_prev(const struct rb_node *node)
{
	struct rb_node *parent;

	if (RB_EMPTY_NODE(node))
		return NULL;

	if (node->rb_left) {
		node = node->rb_left;
		while (node->rb_right)
			node = node->rb_right;
		return (struct rb_node *)node;
	}
	while ((parent = rb_parent(node)) && node == parent->rb_left)
		node = parent;
	return parent;
}

/*
 * Returns the number of black nodes on every path from node down to a NULL
 * leaf, or -1.  Requiring each child's parent pointer to lead back to the
 * node we came from, and the two children to differ, means no node can be
 * reached twice, so a corrupted tree with a cycle is rejected, not looped on.
 */
static int rb_check_subtree(const struct rb_node *node,
			    const struct rb_node *parent, int depth)
{
	int left, right;

	if (!node)
		return 0;
	if (depth > RB_MAX_DEPTH)
		return -1;
	if (rb_parent(node) != parent)
		return -1;
	if (node->__rb_parent_color & (RB_FLAGS_MASK & ~RB_COLOR_MASK))
		return -1;
	if (node->rb_left && node->rb_left == node->rb_right)
		return -1;
	if (rb_is_red(node) && rb_is_red(parent))
		return -1;

	left = rb_check_subtree(node->rb_left, node, depth + 1);
	if (left < 0)
		return -1;
	right = rb_check_subtree(node->rb_right, node, depth + 1);
	if (right != left)
		return -1;
	return left + rb_color(node);
}

int rb_check_tree(const struct rb_root *root)
{
	const struct rb_node *node = root->rb_node;

	if (node && rb_is_red(node))
		return -1;
	return rb_check_subtree(node, NULL, 0);
}
