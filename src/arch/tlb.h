/* SPDX-License-Identifier: MIT */
/* Internal to src/arch: one CPU's TLB, used by tlb.c and mmu.c. */
#ifndef MMSIM_ARCH_TLB_H
#define MMSIM_ARCH_TLB_H

#include <mmsim/cpu.h>

/* The caller is the TLB's CPU, with interrupts disabled. */
struct tlb_entry *tlb_lookup(struct mmsim_tlb *tlb, unsigned long vpn);
void tlb_fill(struct mmsim_tlb *tlb, unsigned long vpn, unsigned long pte);
void tlb_invalidate(struct mmsim_tlb *tlb, unsigned long vpn);

/*
 * The calling CPU's task starts / stops sleeping (a wait for a sleeping
 * lock): shootdowns meanwhile skip it and it flushes its TLB on waking
 * (lazy TLB mode, see tlb.c).  Between the two it touches no user memory.
 * Also meant for <mmsim/tlb.h>, where the sleeping locks can reach them
 * (proposed to the lead).
 */
void enter_lazy_tlb(void);
void leave_lazy_tlb(void);

#endif /* MMSIM_ARCH_TLB_H */
