#!/bin/sh
# SPDX-License-Identifier: MIT
#
# Every fault-locking strategy against classic (and, with -n, the host
# kernel) on the workloads of the speculative-fault series
# (docs/benchmarks.md), in one table.
#
#   tools/bench-table.sh [-t SECONDS] [-c "1 2 4 8"] [-w "ebizzy page_fault1"]
#                        [-r REPEATS] [-S STRATEGY]... [-n] [-m] [BUILD_DIR]
#
# The strategies are those of src/strategy/strategies.def, or those given
# with -S (classic is always added: every ratio is to it).  For each
# workload and number of simulated CPUs it runs
#
#   mmsim bench WORKLOAD --strategy S --cpus N --seconds T --json
#
# for classic and each other strategy S, and with -n once more as
#
#   mmsim bench WORKLOAD --native --cpus N --seconds T --json
#
# keeping only that run's host-kernel line (strategy "native"; its
# simulated side is classic, measured on its own already; a workload
# with no native side, such as find_vma, is skipped for native).  All of
# that REPEATS times (default 1), repeat r starting at the (r mod k)th of
# the k runs (classic, the strategies, native) and going round, so that
# drift of a shared machine weighs on all alike; a row shows the mean of
# the repeats' rates, faults and aborts summed.
#
# It prints one row per workload, strategy (native included) and CPU
# count: records/s (ebizzy), faults/s (page_fault1) or ops/s (others;
# find_vma as find_vma/10 and find_vma/65530, its VMA counts), the share
# of faults handled without the mmap lock ("lockless %": the JSON's spf
# over faults; "-" when there are no faults or for native, which cannot
# tell), the non-zero abort reasons.  Then, per workload and CPU count,
# each strategy's rate over classic's (native/classic too) and
# classic/native (how mmsim compares with the host).  Then the series'
# targets for every strategy but classic: ebizzy >= 1.5x classic at 2
# CPUs and >= 2x at 8, >= 95% of its faults lockless at every CPU count
# above 1; page_fault1 at 2 CPUs no slower than classic (>= 1.0x, "within
# noise" from 0.95x).  A target whose CPU count was not run is shown as
# not measured.
#
# -m also prints the results as two Markdown tables (README-ready): the
# rates, a column per strategy and native; the ratios to classic with
# each strategy's lockless %, and classic/native.
#
# BUILD_DIR defaults to build/default (the optimized preset).  Each run
# takes about T seconds (default 3), a native run about 2T (both sides,
# rounds alternating).
#
# Exit status: 0 when every run worked (targets missed are reported, not
# failed), 1 when a run failed, 2 on bad arguments.
set -u

seconds=3
cpus_list="1 2 4 8"
workloads="ebizzy page_fault1"
repeats=1
given=
native=0
markdown=0
usage() {
	awk 'NR > 2 && !/^#/ { exit } NR > 2 { sub(/^# ?/, ""); print }' "$0"
	exit 2
}
while getopts t:c:w:r:S:nmh opt; do
	case $opt in
	t) seconds=$OPTARG ;;
	c) cpus_list=$OPTARG ;;
	w) workloads=$OPTARG ;;
	r) repeats=$OPTARG ;;
	S) given="$given $OPTARG" ;;
	n) native=1 ;;
	m) markdown=1 ;;
	*) usage ;;
	esac
done
shift $((OPTIND - 1))
[ $# -le 1 ] || usage
case $repeats in
''|*[!0-9]*|0) echo "bench-table: bad -r '$repeats'" >&2; exit 2 ;;
esac
src=$(cd "$(dirname "$0")/.." && pwd)
registry=$(sed -n 's/^STRATEGY([a-z0-9_]*, "\([a-z0-9-]*\)")$/\1/p' \
	   "$src/src/strategy/strategies.def" | tr '\n' ' ')
if [ -z "$registry" ]; then
	echo "bench-table: no strategies in $src/src/strategy/strategies.def" >&2
	exit 2
fi
[ -n "$given" ] || given=$registry
# classic first (every ratio is to it), then the others once each, in
# the order given.
strategies=classic
for s in $given; do
	case " $registry " in
	*" $s "*) ;;
	*)
		[ "$s" = native ] && echo "bench-table: native is -n" >&2
		echo "bench-table: unknown strategy '$s' (one of:" \
		     "${registry% })" >&2
		exit 2 ;;
	esac
	case " $strategies " in
	*" $s "*) ;;
	*) strategies="$strategies $s" ;;
	esac
done
build=${1:-$src/build/default}
mmsim=$build/mmsim
if [ ! -x "$mmsim" ]; then
	echo "bench-table: no $mmsim (build it first)" >&2
	exit 2
fi
results=$(mktemp "${TMPDIR:-/tmp}/bench-table.XXXXXX") || exit 2
merged=$(mktemp "${TMPDIR:-/tmp}/bench-table.XXXXXX") || exit 2
trap 'rm -f "$results" "$merged"' EXIT

# JSON result lines -> "workload strategy cpus ops_per_s faults spf aborts"
# (aborts as reason=count,... or -; find_vma's workload as find_vma/VMAS).
flatten() {
	awk '
	function field(name,    re, v) {
		re = "\"" name "\":[^,}]*"
		if (!match($0, re))
			return ""
		v = substr($0, RSTART + length(name) + 3,
			   RLENGTH - length(name) - 3)
		gsub(/"/, "", v)
		return v
	}
	/"ops_per_s"/ {
		ab = "-"
		if (match($0, /"aborts":\{[^}]*\}/)) {
			ab = substr($0, RSTART + 10, RLENGTH - 11)
			gsub(/"/, "", ab)
			gsub(/:/, "=", ab)
			if (ab == "")
				ab = "-"
		}
		w = field("workload")
		if (field("vmas") != "")
			w = w "/" field("vmas")
		print w, field("strategy"), field("cpus"),
		      field("ops_per_s"), field("faults"), field("spf"), ab
	}'
}

# Repeats of one workload, strategy and CPU count -> one line: the mean
# rate; faults, spf and each abort reason summed.
merge() {
	awk '
	{
		key = $1 " " $2 " " $3
		if (!(key in n))
			order[++nk] = key
		n[key]++
		rate[key] += $4
		faults[key] += $5
		spf[key] += $6
		if ($7 == "-")
			next
		m = split($7, pairs, ",")
		for (i = 1; i <= m; i++) {
			split(pairs[i], kv, "=")
			if (!((key, kv[1]) in cnt))
				reasons[key] = reasons[key] \
					(reasons[key] == "" ? "" : " ") kv[1]
			cnt[key, kv[1]] += kv[2]
		}
	}
	END {
		for (k = 1; k <= nk; k++) {
			key = order[k]
			ab = ""
			m = split(reasons[key], rs, " ")
			for (i = 1; i <= m; i++)
				ab = ab (i > 1 ? "," : "") rs[i] "=" cnt[key, rs[i]]
			printf "%s %.1f %.0f %.0f %s\n", key,
			       rate[key] / n[key], faults[key], spf[key],
			       (ab == "" ? "-" : ab)
		}
	}' "$1"
}

# rotate R WORD... -> the words from the (R mod count)th on, then the rest
# (called in $(...): its variables stay there).
rotate() {
	r=$1
	shift
	i=$((r % $#))
	head=
	tail=
	for word; do
		if [ "$i" -gt 0 ]; then
			tail="$tail $word"
			i=$((i - 1))
		else
			head="$head $word"
		fi
	done
	echo "$head$tail"
}

failed=0
no_native=
for w in $workloads; do
	for n in $cpus_list; do
		r=0
		while [ $r -lt "$repeats" ]; do
			runs=$strategies
			if [ $native -eq 1 ]; then
				case " $no_native " in
				*" $w "*) ;;
				*) runs="$runs native" ;;
				esac
			fi
			# shellcheck disable=SC2086 # one word each
			for s in $(rotate $r $runs); do
				if [ "$s" = native ]; then
					out=$("$mmsim" bench "$w" --native \
						--cpus "$n" --seconds "$seconds" \
						--json 2>&1)
					st=$?
					line=$(printf '%s\n' "$out" | flatten |
					       awk '$2 == "native"')
					if [ $st -eq 0 ] && [ -z "$line" ]; then
						echo "bench-table: $w has no" \
						     "native side, skipped" \
						     "for native" >&2
						no_native="$no_native $w"
						continue
					fi
				else
					out=$("$mmsim" bench "$w" --strategy "$s" \
						--cpus "$n" --seconds "$seconds" \
						--json 2>&1)
					st=$?
					line=$(printf '%s\n' "$out" | flatten)
				fi
				if [ $st -ne 0 ] || [ -z "$line" ]; then
					printf '%s\n' "$out" >&2
					echo "bench-table: $w $s --cpus $n" \
					     "failed (exit $st)" >&2
					failed=1
					continue
				fi
				echo "$line" >>"$results"
			done
			r=$((r + 1))
		done
	done
done
merge "$results" >"$merged"

runs=$strategies
[ $native -eq 1 ] && runs="$runs native"
awk -v runs="$runs" -v markdown=$markdown '
function metric(w) {
	return w == "ebizzy" ? "records/s" : w == "page_fault1" ? "faults/s" : \
	       "ops/s"
}
function lockless(k) {
	return (k in rate) && faults[k] > 0 && k !~ / native / ? \
	       sprintf("%.1f%%", share[k]) : "-"
}
function ratio(a, b) {
	return (a in rate) && (b in rate) && rate[b] > 0 ? \
	       sprintf("%.2fx", rate[a] / rate[b]) : "n/a"
}
function commas(x,    s, out) {
	s = sprintf("%.0f", x)
	out = ""
	while (length(s) > 3) {
		out = "," substr(s, length(s) - 2) out
		s = substr(s, 1, length(s) - 3)
	}
	return s out
}
function cpulabel(c) { return c (c == 1 ? " CPU" : " CPUs") }
{
	key = $1 " " $2 " " $3
	rate[key] = $4
	faults[key] = $5
	share[key] = $5 > 0 ? 100 * $6 / $5 : 0
	ab[key] = $7
	if (!($1 in seen)) {
		seen[$1] = 1
		order[++nw] = $1
	}
	if (!($3 in seenc)) {
		seenc[$3] = 1
		cpus[++nc] = $3
	}
}
END {
	ns = split(runs, strat, " ")
	printf "%-14s %-14s %4s %14s %-9s %10s  %s\n", "workload",
	       "strategy", "cpus", "rate", "metric", "lockless %",
	       "aborts (non-zero)"
	for (i = 1; i <= nw; i++)
		for (s = 1; s <= ns; s++)
			for (j = 1; j <= nc; j++) {
				k = order[i] " " strat[s] " " cpus[j]
				if (!(k in rate))
					continue
				printf "%-14s %-14s %4d %14.0f %-9s %10s  %s\n",
				       order[i], strat[s], cpus[j], rate[k],
				       metric(order[i]), lockless(k), ab[k]
			}

	print ""
	line = sprintf("%-14s %-24s", "ratios", "")
	for (j = 1; j <= nc; j++)
		line = line sprintf(" %8s", cpulabel(cpus[j]))
	print line
	for (i = 1; i <= nw; i++) {
		w = order[i]
		for (s = 2; s <= ns; s++)
			ratio_row(w, strat[s], "classic")
		if (strat[ns] == "native")
			ratio_row(w, "classic", "native")
	}

	print ""
	print "targets (every strategy with a lockless fault):"
	for (s = 2; s <= ns; s++) {
		if (strat[s] == "native")
			continue
		target(strat[s], "ebizzy", 2, 1.5, 0)
		target(strat[s], "ebizzy", 8, 2.0, 0)
		if ("ebizzy" in seen)
			for (j = 1; j <= nc; j++) {
				c = cpus[j]
				k = "ebizzy " strat[s] " " c
				if (c > 1 && (k in rate) && faults[k] > 0)
					printf "  %-14s ebizzy at %s: %.1f%% of " \
					       "faults lockless (want >= 95%%): " \
					       "%s\n", strat[s], cpulabel(c),
					       share[k],
					       (share[k] >= 95 ? "met" : "MISSED")
			}
		target(strat[s], "page_fault1", 2, 1.0, 0.95)
	}

	if (markdown)
		print_markdown()
}
# One line of ratios, unless none of them could be taken.
function ratio_row(w, a, b,    line, j, x, any) {
	line = sprintf("%-14s %-24s", w, a "/" b)
	for (j = 1; j <= nc; j++) {
		x = ratio(w " " a " " cpus[j], w " " b " " cpus[j])
		any += x != "n/a"
		line = line sprintf(" %8s", x)
	}
	if (any)
		print line
}
function target(s, w, c, want, noise,    a, b, x, verdict) {
	if (!(w in seen))
		return
	a = w " " s " " c
	b = w " classic " c
	if (!(a in rate) || !(b in rate) || rate[b] == 0) {
		printf "  %-14s %s at %s: not measured\n", s, w, cpulabel(c)
		return
	}
	x = rate[a] / rate[b]
	verdict = x >= want ? "met" : \
		  noise > 0 && x >= noise ? "within noise" : "MISSED"
	printf "  %-14s %s at %s: %.2fx classic (want >= %.1fx): %s\n",
	       s, w, cpulabel(c), x, want, verdict
}
function print_markdown(    i, j, s, w, c, k, line, sep) {
	print ""
	print "Markdown:"
	print ""
	line = "| workload | CPUs |"
	sep = "|---|---:|"
	for (s = 1; s <= ns; s++) {
		line = line " " strat[s] " |"
		sep = sep "---:|"
	}
	print line
	print sep
	for (i = 1; i <= nw; i++)
		for (j = 1; j <= nc; j++) {
			w = order[i]
			c = cpus[j]
			line = "| " w " (" metric(w) ") | " c " |"
			k = 0
			for (s = 1; s <= ns; s++)
				if ((w " " strat[s] " " c) in rate)
					k++
			if (!k)
				continue
			for (s = 1; s <= ns; s++)
				line = line " " \
				       ((w " " strat[s] " " c) in rate ? \
					commas(rate[w " " strat[s] " " c]) : \
					"-") " |"
			print line
		}
	print ""
	line = "| workload | CPUs |"
	sep = "|---|---:|"
	for (s = 2; s <= ns; s++) {
		line = line " " strat[s] " / classic |"
		sep = sep "---:|"
		if (strat[s] != "native") {
			line = line " " strat[s] " lockless |"
			sep = sep "---:|"
		}
	}
	if (strat[ns] == "native") {
		line = line " classic / native |"
		sep = sep "---:|"
	}
	print line
	print sep
	for (i = 1; i <= nw; i++)
		for (j = 1; j <= nc; j++) {
			w = order[i]
			c = cpus[j]
			if (!((w " classic " c) in rate))
				continue
			line = "| " w " | " c " |"
			for (s = 2; s <= ns; s++) {
				k = w " " strat[s] " " c
				line = line " " md(ratio(k, w " classic " c)) " |"
				if (strat[s] != "native")
					line = line " " md(lockless(k)) " |"
			}
			if (strat[ns] == "native")
				line = line " " \
				       md(ratio(w " classic " c, w " native " c)) " |"
			print line
		}
}
function md(x) { return x == "n/a" ? "-" : x }
' "$merged"
echo
echo "($mmsim, --seconds $seconds per run, $repeats repeat(s) each," \
     "$(nproc) host cores)"
exit $failed
