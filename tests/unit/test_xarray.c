// SPDX-License-Identifier: MIT
/*
 * Unit tests for the sparse array of the page cache (src/lib/xarray.c).
 *
 *   empty           nothing to load, find or erase, no node
 *   far apart       0 and 2^35 - 1, 0 and ULONG_MAX: the nodes are the
 *                   two paths and no more, and go back as entries go
 *   heights         64^k - 1 needs k nodes, 64^k one level more
 *   store/insert    replace, -EBUSY, NULL erases, error-like entries
 *   walks           xa_find / xa_for_each_range: order, inclusive bounds,
 *                   starts inside empty spans, ULONG_MAX at the edge
 *   erase in walk   every node freed at the end
 *   model           random stores and erases against a sorted array,
 *                   with the node count bounded by height x entries
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <mmsim/xarray.h>

#define V(i)	xa_mk_value(i)

/* The height a tree needs for index (one node per level of a path). */
static unsigned long height_for(unsigned long index)
{
	unsigned long h = 1;

	while (h * XA_CHUNK_SHIFT < 64 && (index >> (h * XA_CHUNK_SHIFT)))
		h++;
	return h;
}

static int check_no_leak_setup(void **state)
{
	long *live = malloc(sizeof(*live));

	if (!live)
		return -1;
	*live = xa_live_nodes();
	*state = live;
	return 0;
}

/* Every node of every test's arrays is back. */
static int check_no_leak_teardown(void **state)
{
	long live = *(long *)*state;

	free(*state);
	assert_int_equal(xa_live_nodes(), live);
	return 0;
}

#define XA_TEST(fn) \
	cmocka_unit_test_setup_teardown(fn, check_no_leak_setup, \
					check_no_leak_teardown)

/* --- basics -------------------------------------------------------------- */

static void empty_array(void **state)
{
	struct xarray xa = XARRAY_INIT;
	unsigned long index = 0;

	assert_true(xa_empty(&xa));
	assert_null(xa_load(&xa, 0));
	assert_null(xa_load(&xa, ~0UL));
	assert_null(xa_find(&xa, &index, ~0UL));
	assert_int_equal(index, 0);
	assert_null(xa_erase(&xa, 12345));
	assert_int_equal(xa.xa_nr_nodes, 0);
	xa_destroy(&xa);
}

/*
 * 2^35 - 1 alone: a root of shift 30 and one node per level below it,
 * six.  Index 0 shares only the root: five more.  Erasing the far one
 * frees its path and shrinks the root down to index 0's leaf.
 */
static void far_apart_35_bits(void **state)
{
	const unsigned long far = (1UL << 35) - 1;
	struct xarray xa = XARRAY_INIT;

	assert_null(xa_store(&xa, far, V(far)));
	assert_int_equal(xa.xa_nr_nodes, height_for(far));
	assert_int_equal(xa.xa_nr_nodes, 6);
	assert_null(xa_store(&xa, 0, V(0)));
	assert_int_equal(xa.xa_nr_nodes, 11);

	assert_ptr_equal(xa_load(&xa, far), V(far));
	assert_ptr_equal(xa_load(&xa, 0), V(0));
	assert_null(xa_load(&xa, 1));
	assert_null(xa_load(&xa, far - 1));
	assert_null(xa_load(&xa, far + 1));
	assert_null(xa_load(&xa, 1UL << 34));
	assert_null(xa_load(&xa, ~0UL));

	assert_ptr_equal(xa_erase(&xa, far), V(far));
	assert_int_equal(xa.xa_nr_nodes, 1);
	assert_ptr_equal(xa_load(&xa, 0), V(0));
	assert_null(xa_load(&xa, far));
	assert_ptr_equal(xa_erase(&xa, 0), V(0));
	assert_int_equal(xa.xa_nr_nodes, 0);
	assert_true(xa_empty(&xa));
}

/* The whole index space: 0 then ULONG_MAX grows the root to shift 60. */
static void far_apart_full_width(void **state)
{
	struct xarray xa = XARRAY_INIT;
	unsigned long index;

	assert_null(xa_store(&xa, 0, V(1)));
	assert_int_equal(xa.xa_nr_nodes, 1);
	assert_null(xa_store(&xa, ~0UL, V(2)));
	assert_int_equal(xa.xa_nr_nodes, 11 + 10);
	assert_ptr_equal(xa_load(&xa, 0), V(1));
	assert_ptr_equal(xa_load(&xa, ~0UL), V(2));

	index = 1;
	assert_ptr_equal(xa_find(&xa, &index, ~0UL), V(2));
	assert_int_equal(index, ~0UL);
	assert_null(xa_find_after(&xa, &index, ~0UL));
	assert_int_equal(index, ~0UL);

	/* Erase the low one first: the root stays (slot 15 in use). */
	assert_ptr_equal(xa_erase(&xa, 0), V(1));
	assert_int_equal(xa.xa_nr_nodes, 11);
	assert_ptr_equal(xa_erase(&xa, ~0UL), V(2));
	assert_int_equal(xa.xa_nr_nodes, 0);
}

/*
 * The last index of each height, 64^k - 1, needs exactly k nodes, and
 * 64^k one more.  After a taller tree shrinks back, the last index of
 * the smaller height is still found.
 */
static void height_boundaries(void **state)
{
	struct xarray xa = XARRAY_INIT;
	unsigned long k, top;

	for (k = 1; k < 11; k++) {
		top = (1UL << (k * XA_CHUNK_SHIFT)) - 1;
		assert_null(xa_store(&xa, top, V(k)));
		assert_int_equal(xa.xa_nr_nodes, k);
		assert_int_equal(height_for(top), k);
		assert_null(xa_store(&xa, top + 1, V(k + 1)));
		assert_int_equal(xa.xa_nr_nodes, 2 * k + 1);

		assert_ptr_equal(xa_erase(&xa, top + 1), V(k + 1));
		assert_int_equal(xa.xa_nr_nodes, k);
		assert_ptr_equal(xa_load(&xa, top), V(k));
		assert_ptr_equal(xa_erase(&xa, top), V(k));
		assert_true(xa_empty(&xa));
	}
	assert_null(xa_store(&xa, ~0UL, V(1)));
	assert_int_equal(xa.xa_nr_nodes, 11);
	assert_ptr_equal(xa_erase(&xa, ~0UL), V(1));
	assert_int_equal(xa.xa_nr_nodes, 0);
}

static void store_insert_erase(void **state)
{
	struct xarray xa = XARRAY_INIT;
	int x;

	assert_int_equal(xa_insert(&xa, 70, V(1)), 0);
	assert_int_equal(xa_insert(&xa, 70, V(2)), -EBUSY);
	assert_ptr_equal(xa_load(&xa, 70), V(1));
	assert_ptr_equal(xa_store(&xa, 70, &x), V(1));
	assert_ptr_equal(xa_load(&xa, 70), &x);
	assert_int_equal(xa_insert(&xa, 71, NULL), -EINVAL);
	assert_int_equal(xa_err(xa_store(&xa, 71, xa_mk_err(-ENOMEM))),
			 -EINVAL);
	assert_null(xa_load(&xa, 71));
	assert_int_equal(xa.xa_nr_nodes, 2);

	/* Storing NULL erases; erasing nothing changes nothing. */
	assert_ptr_equal(xa_store(&xa, 70, NULL), &x);
	assert_true(xa_empty(&xa));
	assert_null(xa_erase(&xa, 70));
	assert_int_equal(xa.xa_nr_nodes, 0);

	/* xa_destroy frees the nodes of a full tree, not the entries. */
	assert_null(xa_store(&xa, 3, V(3)));
	assert_null(xa_store(&xa, 1UL << 40, V(4)));
	xa_destroy(&xa);
	assert_true(xa_empty(&xa));
	assert_int_equal(xa.xa_nr_nodes, 0);
}

/* --- walks --------------------------------------------------------------- */

static const unsigned long walk_idx[] = {
	5, 63, 64, 4095, 4096, 1UL << 20, (1UL << 35) - 1, 1UL << 35,
	~0UL - 1, ~0UL,
};
#define NR_WALK	(sizeof(walk_idx) / sizeof(walk_idx[0]))

/* The entries xa_for_each_range sees in [first, last] are walk_idx's. */
static void check_range(struct xarray *xa, unsigned long first,
			unsigned long last)
{
	unsigned long index, i = 0, seen = 0;
	void *entry;

	xa_for_each_range(xa, index, entry, first, last) {
		while (i < NR_WALK && walk_idx[i] < first)
			i++;
		assert_true(i < NR_WALK);
		assert_int_equal(index, walk_idx[i]);
		assert_ptr_equal(entry, V(walk_idx[i] & 0xffff));
		i++;
		seen++;
	}
	for (i = 0; i < NR_WALK; i++)
		if (walk_idx[i] >= first && walk_idx[i] <= last)
			seen--;
	assert_int_equal(seen, 0);
}

static void walk_ranges(void **state)
{
	struct xarray xa = XARRAY_INIT;
	unsigned long i, j, index;
	void *entry;

	for (i = 0; i < NR_WALK; i++)
		assert_null(xa_store(&xa, walk_idx[i],
				     V(walk_idx[i] & 0xffff)));
	/* Every range between two interesting bounds, both ways round. */
	for (i = 0; i < NR_WALK; i++) {
		for (j = 0; j < NR_WALK; j++) {
			check_range(&xa, walk_idx[i], walk_idx[j]);
			check_range(&xa, walk_idx[i] + 1, walk_idx[j]);
			check_range(&xa, walk_idx[i], walk_idx[j] - 1);
		}
	}
	check_range(&xa, 0, ~0UL);
	check_range(&xa, 6, 62);		/* nothing */
	check_range(&xa, 65, (1UL << 35) - 2);
	check_range(&xa, 1UL << 36, ~0UL - 2);	/* a huge empty span */

	/* xa_find leaves *indexp alone when it finds nothing. */
	index = 6;
	assert_null(xa_find(&xa, &index, 62));
	assert_int_equal(index, 6);
	index = 100;
	assert_null(xa_find(&xa, &index, 50));
	assert_int_equal(index, 100);

	/* Erasing during the walk: every node goes. */
	i = 0;
	xa_for_each(&xa, index, entry) {
		assert_int_equal(index, walk_idx[i++]);
		assert_non_null(xa_erase(&xa, index));
	}
	assert_int_equal(i, NR_WALK);
	assert_true(xa_empty(&xa));
	assert_int_equal(xa.xa_nr_nodes, 0);
}

/* --- against a model ----------------------------------------------------- */

#define NR_MODEL_OPS	20000
#define MODEL_MAX	512

/* xorshift64: deterministic, so a failure replays exactly. */
static uint64_t prng_state = 88172645463325252ULL;

static uint64_t prng(void)
{
	uint64_t x = prng_state;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	prng_state = x;
	return x;
}

/* Indices from narrow clusters and from the whole space. */
static unsigned long random_index(void)
{
	uint64_t r = prng();

	switch (r & 3) {
	case 0:
		return (r >> 8) & 255;
	case 1:
		return ((1UL << 35) - 128) + ((r >> 8) & 255);
	case 2:
		return ~0UL - ((r >> 8) & 63);
	default:
		return r >> (r & 63 ? 2 : 0);
	}
}

struct model {
	unsigned long idx[MODEL_MAX];
	unsigned long nr;
};

static long model_find(const struct model *m, unsigned long index)
{
	unsigned long i;

	for (i = 0; i < m->nr; i++)
		if (m->idx[i] == index)
			return i;
	return -1;
}

static void model_add(struct model *m, unsigned long index)
{
	unsigned long i = m->nr++;

	while (i && m->idx[i - 1] > index) {
		m->idx[i] = m->idx[i - 1];
		i--;
	}
	m->idx[i] = index;
}

static void model_del(struct model *m, long at)
{
	memmove(&m->idx[at], &m->idx[at + 1],
		(m->nr - at - 1) * sizeof(m->idx[0]));
	m->nr--;
}

/* The walk sees exactly the model, and the tree is no bigger than paths. */
static void model_check(struct xarray *xa, const struct model *m)
{
	unsigned long index, i = 0;
	void *entry;

	xa_for_each(xa, index, entry) {
		assert_true(i < m->nr);
		assert_int_equal(index, m->idx[i]);
		assert_ptr_equal(entry, V(index >> 2));
		i++;
	}
	assert_int_equal(i, m->nr);
	assert_true(xa->xa_nr_nodes <= 11 * m->nr);
	assert_int_equal(xa_empty(xa), m->nr == 0);
}

/*
 * Four phases: in the first and third, steps insert random indices or
 * erase ones likely absent, until the model holds MODEL_MAX; in the
 * second and fourth, they erase present ones (or likely absent ones), so
 * the tree shrinks back node by node.
 */
static void random_against_model(void **state)
{
	struct xarray xa = XARRAY_INIT;
	struct model *m = calloc(1, sizeof(*m));
	unsigned long op, index, max_nr = 0;
	long at;

	assert_non_null(m);
	for (op = 0; op < NR_MODEL_OPS; op++) {
		bool grow = (op / (NR_MODEL_OPS / 4)) % 2 == 0;

		index = random_index();
		switch (prng() % 4) {
		case 0:
		case 1:
			if (!grow && m->nr)
				goto erase_present;
			at = model_find(m, index);
			if (at >= 0 || m->nr == MODEL_MAX) {
				assert_int_equal(xa_insert(&xa, index, V(0)),
						 at >= 0 ? -EBUSY : 0);
				if (at < 0)	/* undo: the model is full */
					assert_ptr_equal(xa_erase(&xa, index),
							 V(0));
				break;
			}
			assert_int_equal(xa_insert(&xa, index, V(index >> 2)),
					 0);
			model_add(m, index);
			break;
		case 2:
			if (grow || !m->nr)
				break;
erase_present:
			at = prng() % m->nr;
			index = m->idx[at];
			assert_ptr_equal(xa_erase(&xa, index), V(index >> 2));
			model_del(m, at);
			break;
		default:
			at = model_find(m, index);
			assert_int_equal(xa_erase(&xa, index) != NULL, at >= 0);
			if (at >= 0)
				model_del(m, at);
			break;
		}
		assert_int_equal(xa_load(&xa, index) != NULL,
				 model_find(m, index) >= 0);
		if (op % 97 == 0)
			model_check(&xa, m);
		max_nr = m->nr > max_nr ? m->nr : max_nr;
	}
	model_check(&xa, m);
	/* The run grew a big tree and emptied most of it again. */
	assert_int_equal(max_nr, MODEL_MAX);
	while (m->nr) {
		assert_non_null(xa_erase(&xa, m->idx[m->nr - 1]));
		m->nr--;
	}
	assert_int_equal(xa.xa_nr_nodes, 0);
	free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		XA_TEST(empty_array),
		XA_TEST(far_apart_35_bits),
		XA_TEST(far_apart_full_width),
		XA_TEST(height_boundaries),
		XA_TEST(store_insert_erase),
		XA_TEST(walk_ranges),
		XA_TEST(random_against_model),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
