#!/bin/sh
# SPDX-License-Identifier: MIT
# Run a stress command that must be caught: pass when it ends with a
# FAILURE line and exit status 1 (caught by a check) or 3 (a hang ended by
# the watchdog), or when a sanitizer reported it (ASan, TSan, UBSan: any
# non-zero exit status); fail when it succeeds, crashes unexplained, or
# says nothing.
#
#   expect_fail.sh MMSIM stress --mutant NAME ...
out=$("$@" 2>&1)
status=$?
printf '%s\n' "$out"
last=$(printf '%s\n' "$out" | grep -E '^(SUCCESS|FAILURE)' | tail -n 1)
if [ "$status" -ne 0 ] &&
   printf '%s\n' "$out" | grep -qE 'ERROR: AddressSanitizer|WARNING: ThreadSanitizer|runtime error:'; then
	echo "expect_fail: caught by a sanitizer, as it must be (exit status $status)"
	exit 0
fi
case "$status" in
1|3)	;;
*)	echo "expect_fail: exit status $status, want 1 or 3" >&2
	exit 1 ;;
esac
case "$last" in
FAILURE*)
	echo "expect_fail: caught, as it must be (exit status $status)"
	exit 0 ;;
esac
echo "expect_fail: no FAILURE line" >&2
exit 1
