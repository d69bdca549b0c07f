#!/bin/sh
# SPDX-License-Identifier: MIT
# A signal that ends a long run early: the run must stop its CPUs, check
# the mm as at its end, print its counters and the INTERRUPTED line, and
# exit with 128 + the signal's number (130 for SIGINT, 143 for SIGTERM).
#
#   interrupt.sh INT|TERM MMSIM stress --seconds 60 ...
sig=$1
shift
case $sig in
INT)	want=130 ;;
TERM)	want=143 ;;
*)	echo "interrupt: signal INT or TERM, not '$sig'" >&2; exit 2 ;;
esac
out=$(mktemp "${TMPDIR:-/tmp}/mmsim-interrupt.XXXXXX") || exit 2
trap 'rm -f "$out"' EXIT
"$@" >"$out" 2>&1 &
pid=$!
sleep 1
kill -s "$sig" "$pid"
start=$(date +%s)
wait "$pid"
status=$?
cat "$out"
if [ $(( $(date +%s) - start )) -gt 30 ]; then
	echo "interrupt: the run took more than 30 s to end" >&2
	exit 1
fi
if [ "$status" -ne "$want" ]; then
	echo "interrupt: exit status $status, want $want" >&2
	exit 1
fi
if ! grep -q '^stress: .* faults (' "$out"; then
	echo "interrupt: no counters" >&2
	exit 1
fi
if ! tail -n 1 "$out" | grep -q "^INTERRUPTED: SIG$sig after"; then
	echo "interrupt: the last line is not INTERRUPTED: SIG$sig" >&2
	exit 1
fi
echo "interrupt: stopped early with its summary, as it must"
