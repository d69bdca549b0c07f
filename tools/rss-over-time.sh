#!/bin/sh
# SPDX-License-Identifier: MIT
# Run a command and print its resident memory every INTERVAL seconds,
# then its exit status: how a long campaign's memory behaves.
#
#   tools/rss-over-time.sh [-i INTERVAL] -- COMMAND [ARGS...]
#
# Lines "rss T_SECONDS KB" go to standard error, the command's own output
# to standard output.  Exit status: the command's.
set -u
interval=60
while [ $# -gt 0 ]; do
	case $1 in
	-i) interval=$2; shift 2 ;;
	--) shift; break ;;
	*) echo "usage: $0 [-i INTERVAL] -- COMMAND [ARGS...]" >&2; exit 2 ;;
	esac
done
[ $# -gt 0 ] || { echo "usage: $0 [-i INTERVAL] -- COMMAND [ARGS...]" >&2; exit 2; }
"$@" &
pid=$!
start=$(date +%s)
while kill -0 "$pid" 2>/dev/null; do
	kb=$(awk '/^VmRSS:/ { print $2 }' "/proc/$pid/status" 2>/dev/null)
	[ -n "$kb" ] && echo "rss $(( $(date +%s) - start )) $kb" >&2
	sleep "$interval"
done
wait "$pid"
