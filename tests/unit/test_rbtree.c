// SPDX-License-Identifier: MIT
/*
 * Unit tests for the red-black tree (src/kernel/rbtree.c).
 *
 * Every mutation is checked against a model that is obviously right (a
 * sorted array of node pointers) and, for augmented trees, against values
 * recomputed from scratch, so a bug shows up at the operation that caused
 * it rather than thousands of operations later.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include <mmsim/rbtree.h>

#define NR_OPS		20000
#define MAX_KEY		5000

/* xorshift64: deterministic, so a failure replays exactly. */
static uint64_t prng_state;

static void prng_seed(uint64_t seed)
{
	prng_state = seed ? seed : 1;
}

static uint64_t prng(void)
{
	uint64_t x = prng_state;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	prng_state = x;
	return x;
}

static unsigned long prng_below(unsigned long n)
{
	return (unsigned long)(prng() % n);
}

/* --- plain trees ---------------------------------------------------------- */

struct knode {
	struct rb_node rb;
	unsigned long key;
};

#define to_knode(n)	rb_entry(n, struct knode, rb)

/* Equal keys go right, so a duplicate sorts after the ones already there. */
static void knode_insert(struct rb_root *root, struct knode *kn)
{
	struct rb_node **link = &root->rb_node, *parent = NULL;

	while (*link) {
		parent = *link;
		if (kn->key < to_knode(parent)->key)
			link = &parent->rb_left;
		else
			link = &parent->rb_right;
	}
	rb_link_node(&kn->rb, parent, link);
	rb_insert_color(&kn->rb, root);
}

static struct knode *knode_new(unsigned long key)
{
	struct knode *kn = malloc(sizeof(*kn));

	assert_non_null(kn);
	kn->key = key;
	RB_CLEAR_NODE(&kn->rb);
	return kn;
}

/* The model: node pointers in in-order sequence. */
struct model {
	struct rb_node **nodes;
	size_t nr;
	size_t cap;
};

static void model_init(struct model *m, size_t cap)
{
	m->nodes = calloc(cap, sizeof(*m->nodes));
	assert_non_null(m->nodes);
	m->nr = 0;
	m->cap = cap;
}

static void model_insert_at(struct model *m, size_t idx, struct rb_node *node)
{
	assert_true(m->nr < m->cap);
	memmove(&m->nodes[idx + 1], &m->nodes[idx],
		(m->nr - idx) * sizeof(*m->nodes));
	m->nodes[idx] = node;
	m->nr++;
}

static void model_remove_at(struct model *m, size_t idx)
{
	memmove(&m->nodes[idx], &m->nodes[idx + 1],
		(m->nr - idx - 1) * sizeof(*m->nodes));
	m->nr--;
}

static size_t model_find(const struct model *m, const struct rb_node *node)
{
	size_t i;

	for (i = 0; i < m->nr; i++)
		if (m->nodes[i] == node)
			return i;
	fail_msg("node %p is not in the model", (const void *)node);
	return 0;
}

/* First index whose key is greater than key: where knode_insert() puts it. */
static size_t model_upper_bound(const struct model *m, unsigned long key,
				unsigned long (*key_of)(const struct rb_node *))
{
	size_t lo = 0, hi = m->nr;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (key_of(m->nodes[mid]) <= key)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static unsigned long knode_key(const struct rb_node *node)
{
	return to_knode(node)->key;
}

static int tree_height(const struct rb_node *node)
{
	int l, r;

	if (!node)
		return 0;
	l = tree_height(node->rb_left);
	r = tree_height(node->rb_right);
	return 1 + (l > r ? l : r);
}

/*
 * The tree is valid, holds exactly the model's nodes in the model's order
 * both ways round, and is as shallow as a red-black tree must be
 * (height <= 2 * log2(n + 1)).
 */
static void check_tree_matches(const struct rb_root *root,
			       const struct model *m)
{
	struct rb_node *node;
	uint64_t n1 = m->nr + 1;
	size_t i;
	int h;

	assert_int_not_equal(rb_check_tree(root), -1);
	assert_int_equal(RB_EMPTY_ROOT(root), m->nr == 0);

	for (i = 0, node = rb_first(root); node; node = rb_next(node), i++) {
		assert_true(i < m->nr);
		assert_ptr_equal(node, m->nodes[i]);
	}
	assert_int_equal(i, m->nr);

	for (i = m->nr, node = rb_last(root); node; node = rb_prev(node)) {
		assert_true(i > 0);
		assert_ptr_equal(node, m->nodes[--i]);
	}
	assert_int_equal(i, 0);

	h = tree_height(root->rb_node);
	assert_true(h < 64);
	assert_true((UINT64_C(1) << h) <= n1 * n1);
}

/* No node left in the tree may still point at a node that was taken out. */
static void check_not_referenced(const struct model *m,
				 const struct rb_node *gone)
{
	size_t i;

	for (i = 0; i < m->nr; i++) {
		const struct rb_node *node = m->nodes[i];

		assert_ptr_not_equal(rb_parent(node), gone);
		assert_ptr_not_equal(node->rb_left, gone);
		assert_ptr_not_equal(node->rb_right, gone);
	}
}

static void free_knodes(struct model *m)
{
	size_t i;

	for (i = 0; i < m->nr; i++)
		free(to_knode(m->nodes[i]));
	free(m->nodes);
	m->nodes = NULL;
	m->nr = 0;
}

/*
 * Insert probability 3/4 for the first half of the run and 1/4 for the
 * second, so the tree grows to a few thousand nodes and shrinks back to
 * (nearly) empty, passing through every size on the way.
 */
static bool want_insert(int op, size_t nr)
{
	if (nr == 0)
		return true;
	return prng_below(4) < (op < NR_OPS / 2 ? 3u : 1u);
}

static void test_random_against_model(void **state)
{
	struct rb_root root = RB_ROOT;
	struct model m;
	int op;

	(void)state;
	prng_seed(0x9e3779b97f4a7c15ULL);
	model_init(&m, NR_OPS);

	for (op = 0; op < NR_OPS; op++) {
		if (want_insert(op, m.nr)) {
			struct knode *kn = knode_new(prng_below(MAX_KEY + 1));
			size_t idx = model_upper_bound(&m, kn->key, knode_key);

			knode_insert(&root, kn);
			assert_false(RB_EMPTY_NODE(&kn->rb));
			model_insert_at(&m, idx, &kn->rb);
		} else {
			size_t idx = prng_below(m.nr);
			struct rb_node *node = m.nodes[idx];

			rb_erase(node, &root);
			model_remove_at(&m, idx);
			check_not_referenced(&m, node);
			free(to_knode(node));
		}
		check_tree_matches(&root, &m);
	}

	/* Drain whatever is left, always taking the root. */
	while (m.nr) {
		struct rb_node *node = root.rb_node;

		rb_erase(node, &root);
		model_remove_at(&m, model_find(&m, node));
		free(to_knode(node));
		check_tree_matches(&root, &m);
	}
	assert_null(root.rb_node);
	free_knodes(&m);
}

/* Sorted input is the classic worst case for an unbalanced tree. */
static void test_sequential(void **state)
{
	struct rb_root root = RB_ROOT;
	struct model m;
	unsigned long k;
	const unsigned long n = 1000;

	(void)state;
	model_init(&m, n);
	for (k = 0; k < n; k++) {
		struct knode *kn = knode_new(k);

		knode_insert(&root, kn);
		model_insert_at(&m, m.nr, &kn->rb);
		check_tree_matches(&root, &m);
	}
	/* Erase from the front, then from the back of what is left. */
	while (m.nr > n / 2) {
		struct rb_node *node = m.nodes[0];

		rb_erase(node, &root);
		model_remove_at(&m, 0);
		free(to_knode(node));
		check_tree_matches(&root, &m);
	}
	while (m.nr) {
		struct rb_node *node = m.nodes[m.nr - 1];

		rb_erase(node, &root);
		model_remove_at(&m, m.nr - 1);
		free(to_knode(node));
		check_tree_matches(&root, &m);
	}
	assert_true(RB_EMPTY_ROOT(&root));
	assert_int_equal(rb_check_tree(&root), 0);

	/* Descending input. */
	for (k = n; k-- > 0;) {
		struct knode *kn = knode_new(k);

		knode_insert(&root, kn);
		model_insert_at(&m, 0, &kn->rb);
		check_tree_matches(&root, &m);
	}
	free_knodes(&m);
}

/* --- augmented trees ------------------------------------------------------ */

struct anode {
	struct rb_node rb;
	unsigned long key;
	unsigned long value;
	unsigned long subtree_max;	/* max of value over the subtree */
	unsigned long subtree_size;	/* number of nodes in the subtree */
};

#define to_anode(n)	rb_entry(n, struct anode, rb)

static struct {
	unsigned long propagate, copy, rotate;
} aug_calls;

static unsigned long max_compute(const struct anode *an)
{
	unsigned long max = an->value;

	if (an->rb.rb_left && to_anode(an->rb.rb_left)->subtree_max > max)
		max = to_anode(an->rb.rb_left)->subtree_max;
	if (an->rb.rb_right && to_anode(an->rb.rb_right)->subtree_max > max)
		max = to_anode(an->rb.rb_right)->subtree_max;
	return max;
}

/*
 * Stop as soon as a value does not change, as the kernel's generated
 * callbacks do: this is what makes a wrongly ordered propagate visible.
 */
static void max_propagate(struct rb_node *rb, struct rb_node *stop)
{
	aug_calls.propagate++;
	while (rb != stop) {
		struct anode *an = to_anode(rb);
		unsigned long max = max_compute(an);

		if (max == an->subtree_max)
			break;
		an->subtree_max = max;
		rb = rb_parent(rb);
	}
}

static void max_copy(struct rb_node *old, struct rb_node *new)
{
	aug_calls.copy++;
	to_anode(new)->subtree_max = to_anode(old)->subtree_max;
}

static void max_rotate(struct rb_node *old, struct rb_node *new)
{
	aug_calls.rotate++;
	assert_ptr_equal(rb_parent(old), new);
	to_anode(new)->subtree_max = to_anode(old)->subtree_max;
	to_anode(old)->subtree_max = max_compute(to_anode(old));
}

static const struct rb_augment_callbacks max_callbacks = {
	.propagate	= max_propagate,
	.copy		= max_copy,
	.rotate		= max_rotate,
};

/*
 * A second augmentation, the subtree size.  Unlike a maximum it changes on
 * every path that lost a node, so it also catches propagation done in an
 * order that a maximum happens to forgive (a successor recomputed before
 * the path below it is).
 */
static unsigned long size_of(const struct rb_node *rb)
{
	return rb ? to_anode(rb)->subtree_size : 0;
}

static unsigned long size_compute(const struct anode *an)
{
	return 1 + size_of(an->rb.rb_left) + size_of(an->rb.rb_right);
}

static void size_propagate(struct rb_node *rb, struct rb_node *stop)
{
	aug_calls.propagate++;
	while (rb != stop) {
		struct anode *an = to_anode(rb);
		unsigned long size = size_compute(an);

		if (size == an->subtree_size)
			break;
		an->subtree_size = size;
		rb = rb_parent(rb);
	}
}

static void size_copy(struct rb_node *old, struct rb_node *new)
{
	aug_calls.copy++;
	to_anode(new)->subtree_size = to_anode(old)->subtree_size;
}

static void size_rotate(struct rb_node *old, struct rb_node *new)
{
	aug_calls.rotate++;
	assert_ptr_equal(rb_parent(old), new);
	to_anode(new)->subtree_size = to_anode(old)->subtree_size;
	to_anode(old)->subtree_size = size_compute(to_anode(old));
}

static const struct rb_augment_callbacks size_callbacks = {
	.propagate	= size_propagate,
	.copy		= size_copy,
	.rotate		= size_rotate,
};

/* Which augmentation a tree carries, and how to verify it from scratch. */
struct aug_kind {
	const struct rb_augment_callbacks *cb;
	unsigned long (*check)(const struct rb_node *rb);
};

static unsigned long anode_key(const struct rb_node *node)
{
	return to_anode(node)->key;
}

/*
 * Fold the new node into each ancestor on the way down, as kernel callers
 * do.  Both augmentations are kept up to date here; only the one whose
 * callbacks the tree is given survives the rotations.
 */
static void anode_insert(struct rb_root *root, struct anode *an,
			 const struct aug_kind *kind)
{
	struct rb_node **link = &root->rb_node, *parent = NULL;

	an->subtree_max = an->value;
	an->subtree_size = 1;
	while (*link) {
		struct anode *p = to_anode(*link);

		parent = *link;
		if (p->subtree_max < an->value)
			p->subtree_max = an->value;
		p->subtree_size++;
		if (an->key < p->key)
			link = &parent->rb_left;
		else
			link = &parent->rb_right;
	}
	rb_link_node(&an->rb, parent, link);
	rb_insert_augmented(&an->rb, root, kind->cb);
}

static struct anode *anode_new(unsigned long key, unsigned long value)
{
	struct anode *an = malloc(sizeof(*an));

	assert_non_null(an);
	an->key = key;
	an->value = value;
	an->subtree_max = 0;
	an->subtree_size = 0;
	RB_CLEAR_NODE(&an->rb);
	return an;
}

/* Recompute every augmented value from scratch, bottom up. */
static unsigned long check_max(const struct rb_node *rb)
{
	const struct anode *an;
	unsigned long max, sub;

	if (!rb)
		return 0;
	an = to_anode(rb);
	max = an->value;
	sub = check_max(rb->rb_left);
	if (sub > max)
		max = sub;
	sub = check_max(rb->rb_right);
	if (sub > max)
		max = sub;
	assert_int_equal(an->subtree_max, max);
	return max;
}

static unsigned long check_size(const struct rb_node *rb)
{
	unsigned long size;

	if (!rb)
		return 0;
	size = 1 + check_size(rb->rb_left) + check_size(rb->rb_right);
	assert_int_equal(to_anode(rb)->subtree_size, size);
	return size;
}

static const struct aug_kind max_kind = {
	.cb	= &max_callbacks,
	.check	= check_max,
};

static const struct aug_kind size_kind = {
	.cb	= &size_callbacks,
	.check	= check_size,
};

static void check_aug_tree(const struct rb_root *root, const struct model *m,
			   const struct aug_kind *kind)
{
	check_tree_matches(root, m);
	kind->check(root->rb_node);
}

/* Walk down at random; stop at a leaf. */
static struct rb_node *random_leaf(const struct rb_root *root)
{
	struct rb_node *node = root->rb_node;

	for (;;) {
		struct rb_node *l = node->rb_left, *r = node->rb_right;

		if (!l && !r)
			return node;
		if (!l)
			node = r;
		else if (!r)
			node = l;
		else
			node = prng_below(2) ? r : l;
	}
}

/* Walk down at random; return the last node seen with two children. */
static struct rb_node *random_full_node(const struct rb_root *root)
{
	struct rb_node *node = root->rb_node, *full = NULL;

	while (node) {
		if (node->rb_left && node->rb_right) {
			full = node;
			if (!prng_below(3))
				break;
		}
		node = prng_below(2) ? node->rb_right : node->rb_left;
	}
	return full;
}

struct erase_stats {
	unsigned long root, leaf, full, succ_is_child, succ_deeper;
};

static void classify_erase(const struct rb_root *root,
			   const struct rb_node *node, struct erase_stats *st)
{
	if (node == root->rb_node)
		st->root++;
	if (!node->rb_left && !node->rb_right)
		st->leaf++;
	if (node->rb_left && node->rb_right) {
		st->full++;
		if (node->rb_right->rb_left)
			st->succ_deeper++;
		else
			st->succ_is_child++;
	}
}

static struct rb_node *pick_victim(const struct rb_root *root,
				   const struct model *m)
{
	struct rb_node *node = NULL;

	switch (prng_below(4)) {
	case 0:
		node = root->rb_node;
		break;
	case 1:
		node = random_leaf(root);
		break;
	case 2:
		node = random_full_node(root);
		break;
	}
	return node ? node : m->nodes[prng_below(m->nr)];
}

static void run_augmented(const struct aug_kind *kind, uint64_t seed)
{
	struct rb_root root = RB_ROOT;
	struct erase_stats st = { 0 };
	struct model m;
	size_t i;
	int op;

	memset(&aug_calls, 0, sizeof(aug_calls));
	prng_seed(seed);
	model_init(&m, NR_OPS);

	for (op = 0; op < NR_OPS; op++) {
		if (want_insert(op, m.nr)) {
			/* Few distinct values, so maxima tie often too. */
			unsigned long value = prng_below(2) ?
				prng_below(1000000) : prng_below(8);
			struct anode *an = anode_new(prng_below(MAX_KEY + 1),
						     value);
			size_t idx = model_upper_bound(&m, an->key, anode_key);

			anode_insert(&root, an, kind);
			model_insert_at(&m, idx, &an->rb);
		} else {
			struct rb_node *node = pick_victim(&root, &m);

			classify_erase(&root, node, &st);
			rb_erase_augmented(node, &root, kind->cb);
			model_remove_at(&m, model_find(&m, node));
			check_not_referenced(&m, node);
			free(to_anode(node));
		}
		check_aug_tree(&root, &m, kind);
	}

	while (m.nr) {
		struct rb_node *node = pick_victim(&root, &m);

		classify_erase(&root, node, &st);
		rb_erase_augmented(node, &root, kind->cb);
		model_remove_at(&m, model_find(&m, node));
		free(to_anode(node));
		check_aug_tree(&root, &m, kind);
	}

	/* Every interesting shape of erase really happened. */
	assert_true(st.root > 0);
	assert_true(st.leaf > 0);
	assert_true(st.full > 0);
	assert_true(st.succ_is_child > 0);
	assert_true(st.succ_deeper > 0);
	assert_true(aug_calls.rotate > 0);
	assert_true(aug_calls.copy > 0);
	assert_true(aug_calls.propagate > 0);

	for (i = 0; i < m.nr; i++)
		free(to_anode(m.nodes[i]));
	free(m.nodes);
}

/* subtree_max = max(value of node, subtree_max of children) */
static void test_augmented(void **state)
{
	(void)state;
	run_augmented(&max_kind, 0x243f6a8885a308d3ULL);
}

/* subtree_size = 1 + subtree_size of children */
static void test_augmented_size(void **state)
{
	(void)state;
	run_augmented(&size_kind, 0x13198a2e03707344ULL);
}

/*
 * A node whose own value is the maximum of its subtree is erased and
 * replaced by its successor: the successor must not keep that maximum.
 * Small and hand-checkable, to pin both successor shapes down rather than
 * rely on the random run reaching them.
 */
static void erase_key(struct rb_root *root, struct model *m,
		      unsigned long key)
{
	size_t i;

	for (i = 0; i < m->nr; i++) {
		struct rb_node *node = m->nodes[i];

		if (anode_key(node) != key)
			continue;
		assert_non_null(node->rb_left);
		assert_non_null(node->rb_right);
		rb_erase_augmented(node, root, &max_callbacks);
		model_remove_at(m, i);
		free(to_anode(node));
		check_aug_tree(root, m, &max_kind);
		return;
	}
	fail_msg("key %lu not found", key);
}

static void test_augmented_erase_max_holder(void **state)
{
	static const unsigned long keys[] = { 50, 20, 80, 10, 30, 70, 90,
					      60, 75 };
	struct rb_root root = RB_ROOT;
	struct model m;
	size_t i, n = sizeof(keys) / sizeof(keys[0]);

	(void)state;
	model_init(&m, n);
	for (i = 0; i < n; i++) {
		unsigned long value = keys[i];
		struct anode *an;

		/* The root and key 80 carry by far the largest values. */
		if (keys[i] == 50)
			value = 2000;
		else if (keys[i] == 80)
			value = 1000;
		an = anode_new(keys[i], value);
		anode_insert(&root, an, &max_kind);
		model_insert_at(&m, model_upper_bound(&m, keys[i], anode_key),
				&an->rb);
		check_aug_tree(&root, &m, &max_kind);
	}
	assert_int_equal(anode_key(root.rb_node), 50);
	assert_int_equal(to_anode(root.rb_node)->subtree_max, 2000);

	/* The root's successor, 60, sits two levels down in 80 -> 70 -> 60. */
	assert_int_equal(anode_key(root.rb_node->rb_right), 80);
	assert_int_equal(anode_key(root.rb_node->rb_right->rb_left), 70);
	assert_int_equal(anode_key(root.rb_node->rb_right->rb_left->rb_left),
			 60);
	erase_key(&root, &m, 50);
	assert_int_equal(anode_key(root.rb_node), 60);
	assert_int_equal(to_anode(root.rb_node)->subtree_max, 1000);

	/* 80's successor, 90, is its right child. */
	assert_int_equal(anode_key(root.rb_node->rb_right), 80);
	assert_int_equal(anode_key(root.rb_node->rb_right->rb_right), 90);
	assert_null(root.rb_node->rb_right->rb_right->rb_left);
	erase_key(&root, &m, 80);
	assert_int_equal(to_anode(root.rb_node)->subtree_max, 90);

	/* Then empty it, root first each time. */
	while (m.nr) {
		struct rb_node *node = root.rb_node;

		rb_erase_augmented(node, &root, &max_callbacks);
		model_remove_at(&m, model_find(&m, node));
		free(to_anode(node));
		check_aug_tree(&root, &m, &max_kind);
	}
	free(m.nodes);
}

/* --- replace, clear, checker ---------------------------------------------- */

static void build_knode_tree(struct rb_root *root, struct model *m,
			     unsigned long n, uint64_t seed)
{
	unsigned long i;

	prng_seed(seed);
	model_init(m, n + 1);
	for (i = 0; i < n; i++) {
		struct knode *kn = knode_new(prng_below(10 * n));

		knode_insert(root, kn);
		model_insert_at(m, model_upper_bound(m, kn->key, knode_key),
				&kn->rb);
	}
	check_tree_matches(root, m);
}

static void replace_and_check(struct rb_root *root, struct model *m,
			      struct rb_node *victim)
{
	struct knode *kn = knode_new(to_knode(victim)->key);
	size_t idx = model_find(m, victim);
	uintptr_t pc = victim->__rb_parent_color;
	struct rb_node *left = victim->rb_left, *right = victim->rb_right;

	rb_replace_node(victim, &kn->rb, root);
	m->nodes[idx] = &kn->rb;

	/* new took over colour, parent and children exactly. */
	assert_int_equal(kn->rb.__rb_parent_color, pc);
	assert_ptr_equal(kn->rb.rb_left, left);
	assert_ptr_equal(kn->rb.rb_right, right);
	check_not_referenced(m, victim);
	check_tree_matches(root, m);
	free(to_knode(victim));
}

static void test_replace_node(void **state)
{
	struct rb_root root = RB_ROOT;
	struct model m;
	int i;

	(void)state;
	build_knode_tree(&root, &m, 300, 42);

	replace_and_check(&root, &m, root.rb_node);
	replace_and_check(&root, &m, rb_first(&root));
	replace_and_check(&root, &m, rb_last(&root));
	for (i = 0; i < 20; i++) {
		replace_and_check(&root, &m, random_leaf(&root));
		replace_and_check(&root, &m, m.nodes[prng_below(m.nr)]);
	}

	/* The tree must still take inserts and erases after replacing. */
	for (i = 0; i < 300; i++) {
		size_t idx = prng_below(m.nr);
		struct rb_node *node = m.nodes[idx];

		rb_erase(node, &root);
		model_remove_at(&m, idx);
		free(to_knode(node));
		check_tree_matches(&root, &m);
	}
	assert_true(RB_EMPTY_ROOT(&root));
	free(m.nodes);
}

/* Replacing in an augmented tree: the caller hands over the value. */
static void test_replace_node_augmented(void **state)
{
	struct rb_root root = RB_ROOT;
	struct model m;
	int i;

	(void)state;
	prng_seed(7);
	model_init(&m, 201);
	for (i = 0; i < 200; i++) {
		struct anode *an = anode_new(prng_below(1000),
					     prng_below(100000));

		anode_insert(&root, an, &max_kind);
		model_insert_at(&m, model_upper_bound(&m, an->key, anode_key),
				&an->rb);
	}
	check_aug_tree(&root, &m, &max_kind);

	for (i = 0; i < 50; i++) {
		size_t idx = prng_below(m.nr);
		struct anode *old = to_anode(m.nodes[idx]);
		struct anode *new = anode_new(old->key, old->value);

		new->subtree_max = old->subtree_max;
		new->subtree_size = old->subtree_size;
		rb_replace_node(&old->rb, &new->rb, &root);
		m.nodes[idx] = &new->rb;
		check_not_referenced(&m, &old->rb);
		free(old);
		check_aug_tree(&root, &m, &max_kind);
	}
	while (m.nr) {
		struct rb_node *node = pick_victim(&root, &m);

		rb_erase_augmented(node, &root, &max_callbacks);
		model_remove_at(&m, model_find(&m, node));
		free(to_anode(node));
		check_aug_tree(&root, &m, &max_kind);
	}
	free(m.nodes);
}

static void test_clear_and_empty(void **state)
{
	struct rb_root root = RB_ROOT;
	struct knode a, b, c;

	(void)state;
	assert_true(RB_EMPTY_ROOT(&root));
	assert_null(rb_first(&root));
	assert_null(rb_last(&root));
	assert_int_equal(rb_check_tree(&root), 0);

	a.key = 1;
	b.key = 2;
	c.key = 3;
	RB_CLEAR_NODE(&a.rb);
	RB_CLEAR_NODE(&b.rb);
	RB_CLEAR_NODE(&c.rb);
	assert_true(RB_EMPTY_NODE(&a.rb));
	/* A node in no tree has no neighbours. */
	assert_null(rb_next(&a.rb));
	assert_null(rb_prev(&a.rb));

	knode_insert(&root, &b);
	assert_false(RB_EMPTY_NODE(&b.rb));
	assert_false(RB_EMPTY_ROOT(&root));
	assert_int_equal(rb_check_tree(&root), 1);
	assert_true(rb_is_black(&b.rb));
	assert_null(rb_parent(&b.rb));

	knode_insert(&root, &a);
	knode_insert(&root, &c);
	assert_int_equal(rb_check_tree(&root), 1);
	assert_false(rb_is_black(&a.rb));
	assert_false(rb_is_black(&c.rb));
	assert_ptr_equal(rb_first(&root), &a.rb);
	assert_ptr_equal(rb_next(&a.rb), &b.rb);
	assert_ptr_equal(rb_next(&b.rb), &c.rb);
	assert_null(rb_next(&c.rb));
	assert_ptr_equal(rb_prev(&c.rb), &b.rb);
	assert_null(rb_prev(&a.rb));

	/* Erase the root: the tree forgets it; the caller marks it empty. */
	rb_erase(&b.rb, &root);
	assert_false(RB_EMPTY_NODE(&b.rb));
	RB_CLEAR_NODE(&b.rb);
	assert_true(RB_EMPTY_NODE(&b.rb));
	assert_null(rb_next(&b.rb));
	assert_null(rb_prev(&b.rb));
	assert_int_not_equal(rb_check_tree(&root), -1);
	assert_ptr_equal(rb_first(&root), &a.rb);
	assert_ptr_equal(rb_next(&a.rb), &c.rb);
	assert_null(rb_next(&c.rb));
	assert_true(root.rb_node != &b.rb);
	assert_true(a.rb.rb_left != &b.rb && a.rb.rb_right != &b.rb);
	assert_true(c.rb.rb_left != &b.rb && c.rb.rb_right != &b.rb);
	assert_true(rb_parent(&a.rb) != &b.rb && rb_parent(&c.rb) != &b.rb);

	/* A cleared node can go back in. */
	knode_insert(&root, &b);
	assert_false(RB_EMPTY_NODE(&b.rb));
	assert_int_not_equal(rb_check_tree(&root), -1);

	rb_erase(&a.rb, &root);
	RB_CLEAR_NODE(&a.rb);
	rb_erase(&c.rb, &root);
	RB_CLEAR_NODE(&c.rb);
	rb_erase(&b.rb, &root);
	RB_CLEAR_NODE(&b.rb);
	assert_true(RB_EMPTY_ROOT(&root));
	assert_true(RB_EMPTY_NODE(&a.rb) && RB_EMPTY_NODE(&b.rb) &&
		    RB_EMPTY_NODE(&c.rb));
	assert_null(rb_first(&root));
	assert_int_equal(rb_check_tree(&root), 0);
}

static void flip_color(struct rb_node *node)
{
	node->__rb_parent_color ^= 1;
}

static struct rb_node *find_red(const struct model *m)
{
	size_t i;

	for (i = 0; i < m->nr; i++)
		if (!rb_is_black(m->nodes[i]))
			return m->nodes[i];
	return NULL;
}

static void set_node(struct rb_node *node, struct rb_node *parent, int color,
		     struct rb_node *left, struct rb_node *right)
{
	node->__rb_parent_color = (uintptr_t)parent | (uintptr_t)color;
	node->rb_left = left;
	node->rb_right = right;
}

/*
 * Hand-built trees, each breaking exactly one property, so the checker is
 * seen to test each property on its own rather than through its side
 * effects on black heights.
 */
static void test_checker_single_faults(void **state)
{
	struct rb_node a, b, c, d;
	struct rb_root root = { &a };

	(void)state;
	/*
	 *      a(B)
	 *     /    \     black height 1 on every path
	 *   b(R)   c(R)
	 */
	set_node(&a, NULL, RB_BLACK, &b, &c);
	set_node(&b, &a, RB_RED, NULL, NULL);
	set_node(&c, &a, RB_RED, NULL, NULL);
	assert_int_equal(rb_check_tree(&root), 1);

	/* d(R) under b(R): black heights still all 1, but red-red. */
	set_node(&d, &b, RB_RED, NULL, NULL);
	b.rb_left = &d;
	assert_int_equal(rb_check_tree(&root), -1);

	/* d(B) instead: no red-red, but one path has two blacks. */
	set_node(&d, &b, RB_BLACK, NULL, NULL);
	assert_int_equal(rb_check_tree(&root), -1);
	b.rb_left = NULL;
	assert_int_equal(rb_check_tree(&root), 1);

	/* Two black children: still valid, black height 2. */
	set_node(&b, &a, RB_BLACK, NULL, NULL);
	set_node(&c, &a, RB_BLACK, NULL, NULL);
	assert_int_equal(rb_check_tree(&root), 2);

	/* Red root, otherwise consistent. */
	set_node(&a, NULL, RB_RED, &b, &c);
	assert_int_equal(rb_check_tree(&root), -1);
	set_node(&a, NULL, RB_BLACK, &b, &c);

	/* The root must have no parent. */
	set_node(&a, &d, RB_BLACK, &b, &c);
	assert_int_equal(rb_check_tree(&root), -1);
	set_node(&a, NULL, RB_BLACK, &b, &c);

	/* Bit 1 of __rb_parent_color is not ours to set. */
	c.__rb_parent_color |= 2;
	assert_int_equal(rb_check_tree(&root), -1);
	set_node(&c, &a, RB_BLACK, NULL, NULL);

	/* A child pointing back up at its parent. */
	c.rb_right = &a;
	assert_int_equal(rb_check_tree(&root), -1);
	c.rb_right = NULL;
	assert_int_equal(rb_check_tree(&root), 2);
}

/* The checker is only worth something if it can say no. */
static void test_checker_detects_corruption(void **state)
{
	struct rb_root root = RB_ROOT;
	struct rb_node *leaf, *red, *saved;
	uintptr_t saved_pc;
	struct model m;
	int bh;

	(void)state;
	build_knode_tree(&root, &m, 200, 1234);
	bh = rb_check_tree(&root);
	assert_true(bh > 0);

	/* A red root. */
	flip_color(root.rb_node);
	assert_int_equal(rb_check_tree(&root), -1);
	flip_color(root.rb_node);
	assert_int_equal(rb_check_tree(&root), bh);

	/* Any leaf changing colour breaks the black heights. */
	leaf = random_leaf(&root);
	assert_ptr_not_equal(leaf, root.rb_node);
	flip_color(leaf);
	assert_int_equal(rb_check_tree(&root), -1);
	flip_color(leaf);
	assert_int_equal(rb_check_tree(&root), bh);

	/* A red node under a red parent (with black heights also off). */
	red = find_red(&m);
	assert_non_null(red);
	leaf = red->rb_left ? red->rb_left : red->rb_right;
	if (leaf) {
		flip_color(leaf);
		assert_int_equal(rb_check_tree(&root), -1);
		flip_color(leaf);
	}
	flip_color(rb_parent(red));
	assert_int_equal(rb_check_tree(&root), -1);
	flip_color(rb_parent(red));
	assert_int_equal(rb_check_tree(&root), bh);

	/* A parent pointer that leads elsewhere. */
	leaf = random_leaf(&root);
	saved_pc = leaf->__rb_parent_color;
	leaf->__rb_parent_color = (uintptr_t)root.rb_node |
				  (saved_pc & 1);
	if (rb_parent(leaf) == root.rb_node)
		leaf->__rb_parent_color = (uintptr_t)leaf | (saved_pc & 1);
	assert_int_equal(rb_check_tree(&root), -1);
	leaf->__rb_parent_color = saved_pc;
	assert_int_equal(rb_check_tree(&root), bh);

	/* A cycle back to the root must be rejected, not followed. */
	leaf = random_leaf(&root);
	leaf->rb_left = root.rb_node;
	assert_int_equal(rb_check_tree(&root), -1);
	leaf->rb_left = NULL;
	assert_int_equal(rb_check_tree(&root), bh);

	/* Both child slots naming one node. */
	saved = root.rb_node->rb_right;
	root.rb_node->rb_right = root.rb_node->rb_left;
	assert_int_equal(rb_check_tree(&root), -1);
	root.rb_node->rb_right = saved;
	assert_int_equal(rb_check_tree(&root), bh);

	check_tree_matches(&root, &m);
	free_knodes(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_random_against_model),
		cmocka_unit_test(test_sequential),
		cmocka_unit_test(test_augmented),
		cmocka_unit_test(test_augmented_size),
		cmocka_unit_test(test_augmented_erase_max_holder),
		cmocka_unit_test(test_replace_node),
		cmocka_unit_test(test_replace_node_augmented),
		cmocka_unit_test(test_clear_and_empty),
		cmocka_unit_test(test_checker_detects_corruption),
		cmocka_unit_test(test_checker_single_faults),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
