// SPDX-License-Identifier: MIT
/*
 * The registry of fault-locking strategies (src/strategy/strategies.def
 * and fault_strategy_register()), the selection of mutants by name, the
 * per-CPU fault event counters, and the lock assertions that accept a
 * strategy's fault lock (see <mmsim/strategy.h>).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <mmsim/strategy.h>

#include "mm/internal.h"

#define STRATEGY(file, name) extern const struct fault_strategy file##_strategy;
#include "strategy/strategies.def"
#undef STRATEGY

#define MAX_STRATEGIES	32

static const struct fault_strategy *strategies[MAX_STRATEGIES] = {
#define STRATEGY(file, name) &file##_strategy,
#include "strategy/strategies.def"
#undef STRATEGY
};

/* The names of strategies.def, to check each file's .name against. */
static const char *const def_names[] = {
#define STRATEGY(file, name) name,
#include "strategy/strategies.def"
#undef STRATEGY
};

#define NR_BUILTIN	(sizeof(def_names) / sizeof(def_names[0]))

static unsigned int nr_strategies = NR_BUILTIN;
static pthread_mutex_t register_lock = PTHREAD_MUTEX_INITIALIZER;

const char *fault_strategy_check(const struct fault_strategy *s)
{
	if (!s->name || !*s->name)
		return "no name";
	if (!s->vma_free)
		return "no vma_free";
	if (!s->vm_write_begin != !s->vm_write_end)
		return "vm_write_begin and vm_write_end go together";
	if (!s->vma_start_write != !s->vma_end_write_all)
		return "vma_start_write and vma_end_write_all go together";
	if (!s->vma_free_defer_begin != !s->vma_free_defer_end)
		return "vma_free_defer_begin and _end go together";
	if (!s->vma_cache_alloc != !s->vma_cache_free)
		return "vma_cache_alloc and vma_cache_free go together";
	if (!s->tree_write_begin != !s->tree_write_end)
		return "tree_write_begin and tree_write_end go together";
	if (!s->lock_vma_under_rcu != !s->vma_end_read)
		return "lock_vma_under_rcu and vma_end_read go together";
	if (s->lock_vma_under_rcu && s->lockless_fault != do_vma_lock_fault)
		return "lock_vma_under_rcu wants lockless_fault = do_vma_lock_fault";
	/*
	 * mremap's move_vma ends the source's outer section after unmapping
	 * it: the VMA must still be there (see vma_free_defer_begin).
	 */
	if (s->vm_write_begin && s->vma_free != NULL &&
	    !s->vma_free_defer_begin && s->lockless_fault)
		return "write sections with a lockless fault need vma_free_defer_begin";
	if (s->nr_events > NR_FAULT_EVENTS - FAULT_STRATEGY_EVENTS)
		return "too many events";
	if (s->nr_events && !s->events)
		return "nr_events without events";
	if (s->lockless_fault && (s->event_lockless < FAULT_STRATEGY_EVENTS ||
	    s->event_lockless >= FAULT_STRATEGY_EVENTS + s->nr_events))
		return "a lockless fault needs its event_lockless slot";
	if (s->nr_mutants && !s->mutants)
		return "nr_mutants without mutants";
	return NULL;
}

/* Checked once, on first use: a broken built-in strategy stops the run. */
static void check_builtin(void)
{
	static atomic_bool checked;
	const char *why;

	if (atomic_load_explicit(&checked, memory_order_acquire))
		return;
	for (unsigned int i = 0; i < NR_BUILTIN; i++) {
		why = fault_strategy_check(strategies[i]);
		if (!why && strcmp(strategies[i]->name, def_names[i]))
			why = "its .name is not the name in strategies.def";
		if (why) {
			fprintf(stderr, "mmsim: strategy %s: %s\n",
				def_names[i], why);
			BUG();
		}
	}
	atomic_store_explicit(&checked, true, memory_order_release);
}

unsigned int fault_strategy_count(void)
{
	check_builtin();
	return __atomic_load_n(&nr_strategies, __ATOMIC_ACQUIRE);
}

const struct fault_strategy *fault_strategy_get(unsigned int i)
{
	return i < fault_strategy_count() ? strategies[i] : NULL;
}

const struct fault_strategy *fault_strategy_find(const char *name)
{
	unsigned int n = fault_strategy_count();

	for (unsigned int i = 0; i < n; i++)
		if (!strcmp(strategies[i]->name, name))
			return strategies[i];
	return NULL;
}

int fault_strategy_register(const struct fault_strategy *s)
{
	int err = 0;

	if (fault_strategy_check(s))
		return -EINVAL;
	pthread_mutex_lock(&register_lock);
	if (fault_strategy_find(s->name))
		err = -EEXIST;
	else if (nr_strategies == MAX_STRATEGIES)
		err = -ENOSPC;
	else {
		strategies[nr_strategies] = s;
		__atomic_store_n(&nr_strategies, nr_strategies + 1,
				 __ATOMIC_RELEASE);
	}
	pthread_mutex_unlock(&register_lock);
	return err;
}

void fault_strategy_list(FILE *out, const char *indent, bool verbose)
{
	unsigned int n = fault_strategy_count();

	for (unsigned int i = 0; i < n; i++) {
		if (verbose)
			fprintf(out, "%s%-16s %s\n", indent, strategies[i]->name,
				strategies[i]->help ? strategies[i]->help : "");
		else
			fprintf(out, "%s%s\n", indent, strategies[i]->name);
	}
}

const struct fault_strategy *fault_strategy_default(void)
{
	const char *name = getenv("MMSIM_STRATEGY");
	const struct fault_strategy *s;

	if (!name || !*name)
		return &classic_strategy;
	s = fault_strategy_find(name);
	if (!s) {
		/* A typo must not silently test the wrong thing. */
		fprintf(stderr, "mmsim: MMSIM_STRATEGY=%s: no such strategy; "
			"the strategies are:\n", name);
		fault_strategy_list(stderr, "  ", false);
		BUG();
	}
	return s;
}

/* --- mutants ------------------------------------------------------------- */

/* Is name a word of the space-separated list? */
static bool word_in(const char *list, const char *name)
{
	size_t len = strlen(name);

	for (const char *p = list; (p = strstr(p, name)); p += len)
		if ((p == list || p[-1] == ' ') && (!p[len] || p[len] == ' '))
			return true;
	return false;
}

bool fault_strategy_has_mutant(const struct fault_strategy *s,
			       const char *mutant)
{
	for (unsigned int i = 0; i < s->nr_mutants; i++)
		if (!strcmp(s->mutants[i].name, mutant))
			return true;
	for (int m = 0; m < NR_MUTANTS; m++) {
		const struct mmsim_mutant_desc *c = &mmsim_core_mutants[m];

		if (strcmp(c->name, mutant))
			continue;
		if (!c->strategies)
			return true;
		if (!strcmp(c->strategies, "lockless"))
			return s->lockless_fault != NULL;
		return word_in(c->strategies, s->name);
	}
	return false;
}

/* Which strategies a core mutant applies to, for --help. */
static const char *core_mutant_scope(const struct mmsim_mutant_desc *m)
{
	if (!m->strategies)
		return "every strategy";
	if (!strcmp(m->strategies, "lockless"))
		return "every lockless strategy";
	return m->strategies;
}

void mmsim_mutant_list(FILE *out, int indent)
{
	unsigned int n = fault_strategy_count();

	for (int m = 1; m < NR_MUTANTS; m++)
		fprintf(out, "%*s%-24s %s [%s]\n", indent, "",
			mmsim_core_mutants[m].name, mmsim_core_mutants[m].help,
			core_mutant_scope(&mmsim_core_mutants[m]));
	for (unsigned int i = 0; i < n; i++)
		for (unsigned int j = 0; j < strategies[i]->nr_mutants; j++)
			fprintf(out, "%*s%-24s %s [%s]\n", indent, "",
				strategies[i]->mutants[j].name,
				strategies[i]->mutants[j].help,
				strategies[i]->name);
}

void mmsim_mutant_list_for(FILE *out, const struct fault_strategy *s)
{
	for (int m = 1; m < NR_MUTANTS; m++)
		if (fault_strategy_has_mutant(s, mmsim_core_mutants[m].name))
			fprintf(out, "%s\n", mmsim_core_mutants[m].name);
	for (unsigned int j = 0; j < s->nr_mutants; j++)
		fprintf(out, "%s\n", s->mutants[j].name);
}

int mmsim_set_mutant(const char *name)
{
	unsigned int n = fault_strategy_count();

	for (int m = 0; m < NR_MUTANTS; m++) {
		if (!strcmp(name, mmsim_core_mutants[m].name)) {
			mmsim_mutant_select(&mmsim_core_mutants[m]);
			return 0;
		}
	}
	for (unsigned int i = 0; i < n; i++) {
		const struct fault_strategy *s = strategies[i];

		for (unsigned int j = 0; j < s->nr_mutants; j++) {
			if (!strcmp(name, s->mutants[j].name)) {
				mmsim_mutant_select(&s->mutants[j]);
				return 0;
			}
		}
	}
	return -EINVAL;
}

/* --- fault events ---------------------------------------------------------- */

const char *const vma_lock_event_names[] = {
	[VMA_LOCK_SUCCESS - FAULT_STRATEGY_EVENTS] = "vma_lock_success",
	[VMA_LOCK_ABORT - FAULT_STRATEGY_EVENTS] = "vma_lock_abort",
	[VMA_LOCK_RETRY - FAULT_STRATEGY_EVENTS] = "vma_lock_retry",
	[VMA_LOCK_MISS - FAULT_STRATEGY_EVENTS] = "vma_lock_miss",
};

void count_fault_event(unsigned int ev)
{
	VM_BUG_ON(ev >= NR_FAULT_EVENTS);
	atomic_fetch_add_explicit(&this_cpu()->fault_events[ev], 1,
				  memory_order_relaxed);
}

void fault_events_read(unsigned long out[NR_FAULT_EVENTS])
{
	memset(out, 0, NR_FAULT_EVENTS * sizeof(out[0]));
	for (int cpu = 0; cpu < NR_CPUS; cpu++)
		for (int ev = 0; ev < NR_FAULT_EVENTS; ev++)
			out[ev] += atomic_load_explicit(
				&mmsim_cpus[cpu].fault_events[ev],
				memory_order_relaxed);
}

void fault_events_reset(void)
{
	for (int cpu = 0; cpu < NR_CPUS; cpu++)
		for (int ev = 0; ev < NR_FAULT_EVENTS; ev++)
			atomic_store_explicit(&mmsim_cpus[cpu].fault_events[ev],
					      0, memory_order_relaxed);
}

const char *fault_event_name(const struct fault_strategy *s, unsigned int ev)
{
	if (ev == FAULT_PAGE_FAULTS)
		return "page-faults";
	if (ev - FAULT_STRATEGY_EVENTS < s->nr_events)
		return s->events[ev - FAULT_STRATEGY_EVENTS];
	return "?";
}

unsigned long fault_events_lockless(const struct fault_strategy *s,
				    const unsigned long ev[NR_FAULT_EVENTS])
{
	return s->lockless_fault ? ev[s->event_lockless] : 0;
}

/* Counts, right-aligned, with the share of all page faults, as perf stat. */
void fault_events_print(FILE *out, const struct fault_strategy *s,
			const unsigned long ev[NR_FAULT_EVENTS])
{
	unsigned long total = ev[FAULT_PAGE_FAULTS];
	unsigned int n = FAULT_STRATEGY_EVENTS + s->nr_events;

	fprintf(out, "\n Fault events (%s):\n\n", s->name);
	for (unsigned int i = 0; i < n; i++) {
		fprintf(out, "  %15lu      %-20s", ev[i],
			fault_event_name(s, i));
		if (i != FAULT_PAGE_FAULTS && total)
			fprintf(out, " # %6.2f%% of page-faults",
				100.0 * ev[i] / total);
		fputc('\n', out);
	}
	fputc('\n', out);
}

/* --- lock assertions ------------------------------------------------------ */

/* What a fault reads of the VMA it holds (see vma_read_stable_begin()). */
struct vma_read_snapshot {
	unsigned long vm_start, vm_end, vm_pgoff, vm_flags, vm_page_prot;
	struct anon_vma *anon_vma;
};

static __thread struct vma_read_snapshot read_snap;
static __thread const struct vm_area_struct *read_snap_vma;

static void vma_read_snapshot(struct vm_area_struct *vma,
			      struct vma_read_snapshot *s)
{
	s->vm_start = READ_ONCE(vma->vm_start);
	s->vm_end = READ_ONCE(vma->vm_end);
	s->vm_pgoff = READ_ONCE(vma->vm_pgoff);
	s->vm_flags = READ_ONCE(vma->vm_flags);
	s->vm_page_prot = READ_ONCE(vma->vm_page_prot.pgprot);
	s->anon_vma = __atomic_load_n(&vma->anon_vma, __ATOMIC_RELAXED);
}

/*
 * A debugging check, as lockdep's are: on when lockdep is (stress,
 * explore, the tests that ask for it), one branch otherwise.
 */
void vma_read_stable_begin(struct vm_area_struct *vma)
{
	if (!atomic_load_explicit(&lockdep_enabled, memory_order_relaxed))
		return;
	vma_read_snapshot(vma, &read_snap);
	read_snap_vma = vma;
}

void vma_read_stable_end(struct vm_area_struct *vma)
{
	struct vma_read_snapshot now;

	if (read_snap_vma != vma)
		return;		/* not recorded: not attached when locked */
	vma_read_snapshot(vma, &now);
	WARN_ON(memcmp(&now, &read_snap, sizeof(now)));
	read_snap_vma = NULL;
}

bool vma_fault_locked(struct mm_struct *mm, struct vm_area_struct *vma)
{
	if (rwsem_is_locked(&mm->mmap_lock))
		return true;
	return vma_fault_locked_by_me(mm, vma);
}

bool vma_fault_locked_by_me(struct mm_struct *mm, struct vm_area_struct *vma)
{
	const struct fault_strategy *s = mm->strategy;

	if (s->lock_vma_under_rcu && vma_lock_held_by_me(mm, vma))
		return true;
	return s->fault_lock_held && s->fault_lock_held(mm, vma);
}

void vma_assert_fault_locked(struct mm_struct *mm, struct vm_area_struct *vma)
{
	BUG_ON(!vma_fault_locked(mm, vma));
}

void vma_assert_write_locked(struct vm_area_struct *vma)
{
	const struct fault_strategy *s = vma->vm_mm->strategy;

	mmap_assert_write_locked(vma->vm_mm);
	if (s->vma_write_locked)
		BUG_ON(!s->vma_write_locked(vma));
}
