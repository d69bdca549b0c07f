// SPDX-License-Identifier: MIT
/*
 * The sanitizers' settings this project relies on, compiled into every
 * binary of a sanitizer build, so that a run by hand behaves as under
 * ctest: with no *SAN_OPTIONS set, the first report stops the run, and
 * liburcu's known races (tools/tsan.supp) are not reported.  The runtime
 * parses these first and the environment's *SAN_OPTIONS after them, so a
 * user's own options still win, key by key.
 *
 * CMake adds this file to the sources of every target linking mmsim_core
 * (an INTERFACE source): in the static library, nothing would reference
 * these functions and the linker would leave them out.
 */
#include "tsan_suppressions.h"	/* generated from tools/tsan.supp */

const char *__asan_default_options(void);
const char *__ubsan_default_options(void);
const char *__tsan_default_options(void);
const char *__tsan_default_suppressions(void);

const char *__asan_default_options(void)
{
	return "detect_leaks=1:abort_on_error=1";
}

const char *__ubsan_default_options(void)
{
	return "print_stacktrace=1:halt_on_error=1";
}

const char *__tsan_default_options(void)
{
	return "halt_on_error=1:second_deadlock_stack=1";
}

const char *__tsan_default_suppressions(void)
{
	return MMSIM_TSAN_SUPPRESSIONS;
}
