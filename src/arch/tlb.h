/* SPDX-License-Identifier: MIT */
/* Internal to src/arch: one CPU's TLB, used by tlb.c and mmu.c. */
#ifndef MMSIM_ARCH_TLB_H
#define MMSIM_ARCH_TLB_H

#include <mmsim/cpu.h>

/* The caller is the TLB's CPU, with interrupts disabled. */
struct tlb_entry *tlb_lookup(struct mmsim_tlb *tlb, unsigned long vpn);
void tlb_fill(struct mmsim_tlb *tlb, unsigned long vpn, unsigned long pte);
void tlb_invalidate(struct mmsim_tlb *tlb, unsigned long vpn);

#endif /* MMSIM_ARCH_TLB_H */
