#!/bin/sh
# SPDX-License-Identifier: MIT
#
# Which mutant does `mmsim stress` catch, by what, and how fast?  And
# does `mmsim explore` (every schedule of a store against one system
# call, in the first build given) catch it?
#
#   tools/mutant-table.sh [-t SECONDS] [-c CPUS] [-s SEED] [-l LOGDIR]
#                         [-S STRATEGY]... [-u MUTANT]... BUILD_DIR...
#
# For each strategy (default: every one of src/strategy/strategies.def)
# it runs the correct code and then every mutant that applies to the
# strategy (`mmsim stress --strategy S --list-mutants`, but
# rwsem-no-reader-turn, which only a unit test can show), in each build
# directory given (each holds an `mmsim`; plain, ASan or TSan), as
#
#   mmsim stress --strategy S --mutant M --cpus 4 --seconds T --seed 1
#
# and prints one row per mutant: for each build, what caught it (TSan,
# ASan, UBSan, data check, invariant (validate_mm), leak check, lockdep,
# watchdog, BUG_ON, crash...) and after how many seconds; then what
# `mmsim explore --strategy S --mutant M` says in the first build (the
# writer and schedule that caught it, or "all pass"); then "caught" if
# any of them caught it.  A hang is ended by the stress run's watchdog
# (exit status 3), or by timeout(1) after T + 120 s.  The logs stay in
# LOGDIR (default: a new directory under $TMPDIR).
#
# -u MUTANT: a mutant known not to be caught yet (README and the issue
# notes say why): it is run and shown all the same, but a miss does not
# fail the table (and a catch is shown as news).
#
# Exit status: 0 when the correct code passes in every build and every
# mutant not given with -u is caught by at least one; 1 otherwise; 2 on
# bad arguments.
set -u

seconds=20
cpus=4
seed=1
logdir=
strategies=
known_uncaught=
usage() {
	awk 'NR > 2 && !/^#/ { exit } NR > 2 { sub(/^# ?/, ""); print }' "$0"
	exit 2
}
while getopts t:c:s:l:S:u:h opt; do
	case $opt in
	u) known_uncaught="$known_uncaught $OPTARG " ;;
	t) seconds=$OPTARG ;;
	c) cpus=$OPTARG ;;
	s) seed=$OPTARG ;;
	l) logdir=$OPTARG ;;
	S) strategies="$strategies $OPTARG" ;;
	*) usage ;;
	esac
done
shift $((OPTIND - 1))
[ $# -ge 1 ] || usage
[ -n "$strategies" ] ||
	strategies=$(sed -n 's/^STRATEGY([a-z0-9_]*, "\([a-z0-9-]*\)")$/\1/p' \
		     "$(dirname "$0")/../src/strategy/strategies.def")
first=$1
for b in "$@"; do
	if [ ! -x "$b/mmsim" ]; then
		echo "mutant-table: no $b/mmsim (build it first)" >&2
		exit 2
	fi
done
[ -n "$logdir" ] || logdir=$(mktemp -d "${TMPDIR:-/tmp}/mutant-table.XXXXXX")
mkdir -p "$logdir" || exit 2

# The sanitizer builds carry their settings and TSan suppressions
# (src/kernel/sanitizer_options.c): nothing to set here.

# The mutants that apply to a strategy, as the first build knows them.
mutants_of() {
	"$first/mmsim" stress --strategy "$1" --list-mutants |
		grep -v '^rwsem-no-reader-turn$'
}

# One explore run; prints "status seconds".
explore_one() {	# build strategy mutant log
	t0=$(now)
	timeout 900 "$1/mmsim" explore --strategy "$2" --mutant "$3" \
		>"$4" 2>&1
	st=$?
	t1=$(now)
	echo "$st $(echo "$t1 $t0" | awk '{ printf "%.1f", $1 - $2 }')"
}

# The explore cell: the writer and the schedule, or how many passed.
explore_cell() {	# status seconds log
	last=$(grep -E '^(SUCCESS|FAILURE)' "$3" | tail -n 1)
	case $last in
	SUCCESS)
		n=$(awk '/ schedules / { n += $5 } END { print n + 0 }' "$3")
		echo "all $n pass ${2}s" ;;
	'FAILURE: target '*)
		echo "$last" | sed -E 's/^FAILURE: target ([a-z]+), writer ([a-z-]+): F stopped at point ([0-9]+) \(([a-z-]+)\), W at point ([0-9]+).*/\2 (\1) F@\3 W@\5/' |
			awk -v s="$2" '{ print $0 " " s "s" }' ;;
	*)
		by=$(classify "$1" "$3")
		echo "${by:-exit $1} ${2}s" ;;
	esac
}

now() {
	date +%s.%N
}

# What caught a run, from its exit status and its log: a comma list.
classify() {	# status log
	st=$1
	log=$2
	by=
	add() { by="${by:+$by, }$1"; }
	grep -q 'WARNING: ThreadSanitizer' "$log" && add TSan
	grep -q 'ERROR: AddressSanitizer' "$log" && add ASan
	grep -q 'ERROR: LeakSanitizer' "$log" && add LSan
	grep -q 'runtime error:' "$log" && add UBSan
	grep -q 'mmsim: kernel BUG at' "$log" && add BUG_ON
	last=$(grep -E '^(SUCCESS|FAILURE)' "$log" | tail -n 1)
	case $last in
	'FAILURE: watchdog:'*|'FAILURE: hang:'*) add watchdog ;;
	'FAILURE: invariant:'*) add 'invariant (validate_mm)' ;;
	'FAILURE: leak:'*) add 'leak check' ;;
	'FAILURE: lockdep:'*) add lockdep ;;
	'FAILURE: warning:'*) add WARN_ON ;;
	'FAILURE: crash:'*)
		case $by in *BUG_ON*|*San*) ;; *) add crash ;; esac ;;
	'FAILURE: syscall:'*) add 'syscall check' ;;
	'FAILURE: set-up: no fault completed speculatively'*) add 'no SPF' ;;
	'FAILURE: set-up:'*) add set-up ;;
	FAILURE*) add 'data check' ;;
	SUCCESS) ;;
	*)
		case $st in
		124) add 'hang (timeout)' ;;
		3) add watchdog ;;
		0) ;;
		*) [ -n "$by" ] || add "exit $st" ;;
		esac ;;
	esac
	[ "$st" = 3 ] && case $by in *watchdog*) ;; *) add watchdog ;; esac
	echo "$by"
}

# One run; prints "status seconds".
run_one() {	# build strategy mutant log
	t0=$(now)
	timeout $((${seconds%.*} + 120)) "$1/mmsim" stress --strategy "$2" \
		--mutant "$3" --cpus "$cpus" --seconds "$seconds" \
		--seed "$seed" >"$4" 2>&1
	st=$?
	t1=$(now)
	echo "$st $(echo "$t1 $t0" | awk '{ printf "%.1f", $1 - $2 }')"
}

bad=0
cell_w=26
printf '%-14s %-24s' strategy mutant
for b in "$@"; do
	printf ' %-*s' $cell_w "$(basename "$b")"
done
printf ' %-34s %s\n' explore caught
for s in $strategies; do
	for m in none $(mutants_of "$s"); do
		caught=no
		name=$m
		[ "$m" = none ] && name='(correct code)'
		printf '%-14s %-24s' "$s" "$name"
		for b in "$@"; do
			log="$logdir/$(basename "$b").$s.$m.log"
			res=$(run_one "$b" "$s" "$m" "$log")
			st=${res% *}
			secs=${res#* }
			by=$(classify "$st" "$log")
			if [ "$m" = none ]; then
				if [ "$st" = 0 ] && [ -z "$by" ]; then
					cell="SUCCESS ${secs}s"
				else
					cell="FAILED: ${by:-exit $st} ${secs}s"
					bad=1
				fi
			elif [ "$st" = 0 ]; then
				cell="not caught ${secs}s"
			else
				cell="${by:-exit $st} ${secs}s"
				caught=yes
			fi
			printf ' %-*s' $cell_w "$cell"
		done
		log="$logdir/explore.$s.$m.log"
		res=$(explore_one "$1" "$s" "$m" "$log")
		st=${res% *}
		cell=$(explore_cell "$st" "${res#* }" "$log")
		if [ "$m" = none ]; then
			[ "$st" = 0 ] || { bad=1; cell="FAILED: $cell"; }
		elif [ "$st" != 0 ]; then
			caught=yes
		fi
		printf ' %-34s' "$cell"
		if [ "$m" = none ]; then
			printf ' -\n'
		else
			case "$known_uncaught " in
			*" $m "*)
				[ $caught = yes ] && caught='yes (known uncaught!)'
				[ $caught = no ] && caught='no (known)' ;;
			*)
				[ $caught = yes ] || bad=1 ;;
			esac
			printf ' %s\n' "$caught"
		fi
	done
done
echo "logs: $logdir"
exit $bad
