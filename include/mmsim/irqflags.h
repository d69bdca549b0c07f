/* SPDX-License-Identifier: MIT */
/*
 * Soft-masked interrupts (<linux/irqflags.h>, as powerpc does it).
 *
 * local_irq_disable() sets a flag of the calling simulated CPU.  An IPI
 * (a POSIX signal) that arrives while the flag is set is only recorded as
 * pending; local_irq_enable() and local_irq_restore() to the enabled state
 * run it.  The flag is read by the CPU's own signal handler, so it is an
 * atomic with signal fences rather than a plain variable.
 */
#ifndef MMSIM_IRQFLAGS_H
#define MMSIM_IRQFLAGS_H

#include <stdbool.h>

void local_irq_disable(void);
void local_irq_enable(void);
bool irqs_disabled(void);
unsigned long arch_local_irq_save(void);
void arch_local_irq_restore(unsigned long flags);

#define local_irq_save(flags)	 do { (flags) = arch_local_irq_save(); } while (0)
#define local_irq_restore(flags) arch_local_irq_restore(flags)

#endif /* MMSIM_IRQFLAGS_H */
