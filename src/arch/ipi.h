/* SPDX-License-Identifier: MIT */
/* Internal to src/arch: the IPI signal and the per-CPU helpers of ipi.c. */
#ifndef MMSIM_ARCH_IPI_H
#define MMSIM_ARCH_IPI_H

#include <signal.h>
#include <mmsim/cpu.h>

#define MMSIM_IPI_SIGNAL SIGUSR1

void mmsim_ipi_init(void);
/* A CPU going offline runs the requests already queued for it. */
void mmsim_ipi_drain_offline(struct mmsim_cpu *c);
unsigned long mmsim_now_ns(void);

/*
 * Bracket one turn of a wait loop of c (c's own thread, interrupts
 * enabled): senders skip the signal meanwhile, and both run what is
 * posted, so nothing sent during the turn waits beyond it.
 */
void mmsim_ipi_poll_begin(struct mmsim_cpu *c);
void mmsim_ipi_poll_end(struct mmsim_cpu *c);

/* Has a request been posted to c since it last looked? */
static inline bool mmsim_ipi_posted(struct mmsim_cpu *c)
{
	return atomic_load_explicit(&c->ipi_posted, memory_order_relaxed) !=
	       atomic_load_explicit(&c->ipi_seen, memory_order_relaxed);
}

#endif /* MMSIM_ARCH_IPI_H */
