/* SPDX-License-Identifier: MIT */
/*
 * A small lock validator in the spirit of lockdep: locks are grouped in
 * classes by name (the expression they were initialised with, e.g.
 * "&mm->mmap_lock", or "vm_sequence" for a VMA's sequence count, which
 * lockdep also treats as a lock); every acquisition that can wait, made
 * while other locks are held, adds "held class -> new class" edges to a
 * graph; an edge that closes a cycle is a possible deadlock (AB-BA),
 * reported at once, before the deadlock happens, as lockdep does.
 *
 * Off by default (the hot paths then pay one branch); tests and the
 * stress command switch it on.
 */
#ifndef MMSIM_LOCKDEP_H
#define MMSIM_LOCKDEP_H

#include <stdatomic.h>
#include <stdbool.h>

#define LOCKDEP_MAX_CLASSES	64

extern atomic_int lockdep_enabled;

void lockdep_enable(bool on);
/* Check and record the order of a new acquisition of class name. */
void lockdep_acquire(const char *name);
/* Possible circular dependencies found so far (each pair once). */
long lockdep_violations(void);
/* The first report, for a FAILURE line ("" when none). */
const char *lockdep_first_report(void);
/* Forget every class and edge (tests). */
void lockdep_reset(void);

/*
 * How many WARN_ONs fired so far (a warning prints and lets the run go
 * on, as the kernel's; the stress test fails on any).
 */
long mmsim_warnings(void);

#endif /* MMSIM_LOCKDEP_H */
