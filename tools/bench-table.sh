#!/bin/sh
# SPDX-License-Identifier: MIT
#
# spf-srcu against classic on the workloads of the speculative-fault
# series (docs/benchmarks.md), in one table.
#
#   tools/bench-table.sh [-t SECONDS] [-c "1 2 4 8"] [-w "ebizzy page_fault1"]
#                        [-r REPEATS] [BUILD_DIR]
#
# For each workload and number of simulated CPUs it runs
#
#   mmsim bench WORKLOAD --strategy S --cpus N --seconds T --json
#
# with S = classic, then spf-srcu, REPEATS times (default 1), every other
# repeat in the opposite order so that drift of a shared machine weighs
# on both alike; a row shows the mean of the repeats' rates.  It prints
# one row per workload, strategy and CPU count: records/s
# (ebizzy) or faults/s (page_fault1), the share of faults completed
# speculatively, the non-zero abort reasons; then the ratios
# spf-srcu/classic and the series' targets: ebizzy >= 1.5x at 2 CPUs and
# >= 2x at 8, >= 95% of its faults speculative; page_fault1 at 2 CPUs no
# slower with spf-srcu.  BUILD_DIR defaults to build/default (the
# optimized preset).  Each run takes about T seconds (default 3).
#
# Exit status: 0 when every run worked (targets missed are reported, not
# failed), 1 when a run failed, 2 on bad arguments.
set -u

seconds=3
cpus_list="1 2 4 8"
workloads="ebizzy page_fault1"
repeats=1
usage() {
	awk 'NR > 2 && !/^#/ { exit } NR > 2 { sub(/^# ?/, ""); print }' "$0"
	exit 2
}
while getopts t:c:w:r:h opt; do
	case $opt in
	t) seconds=$OPTARG ;;
	c) cpus_list=$OPTARG ;;
	w) workloads=$OPTARG ;;
	r) repeats=$OPTARG ;;
	*) usage ;;
	esac
done
shift $((OPTIND - 1))
[ $# -le 1 ] || usage
case $repeats in
''|*[!0-9]*|0) echo "bench-table: bad -r '$repeats'" >&2; exit 2 ;;
esac
src=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$src/build/default}
mmsim=$build/mmsim
if [ ! -x "$mmsim" ]; then
	echo "bench-table: no $mmsim (build it first)" >&2
	exit 2
fi
results=$(mktemp "${TMPDIR:-/tmp}/bench-table.XXXXXX") || exit 2
merged=$(mktemp "${TMPDIR:-/tmp}/bench-table.XXXXXX") || exit 2
trap 'rm -f "$results" "$merged"' EXIT

# One JSON result line -> "workload strategy cpus ops_per_s faults spf aborts"
# (aborts as reason=count,... or -).
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
		print field("workload"), field("strategy"), field("cpus"),
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
			print key, rate[key] / n[key], faults[key], spf[key],
			      (ab == "" ? "-" : ab)
		}
	}' "$1"
}

failed=0
for w in $workloads; do
	for n in $cpus_list; do
		r=0
		while [ $r -lt "$repeats" ]; do
			order="classic spf-srcu"
			[ $((r % 2)) -eq 1 ] && order="spf-srcu classic"
			r=$((r + 1))
			for s in $order; do
				out=$("$mmsim" bench "$w" --strategy "$s" \
					--cpus "$n" --seconds "$seconds" \
					--json 2>&1)
				st=$?
				line=$(printf '%s\n' "$out" | flatten)
				if [ $st -ne 0 ] || [ -z "$line" ]; then
					printf '%s\n' "$out" >&2
					echo "bench-table: $w $s --cpus $n" \
					     "failed (exit $st)" >&2
					failed=1
					continue
				fi
				echo "$line" >>"$results"
			done
		done
	done
done
merge "$results" >"$merged"

awk '
function metric(w) { return w == "ebizzy" ? "records/s" : "faults/s" }
function pct(spf, faults) { return faults > 0 ? 100 * spf / faults : 0 }
{
	key = $1 " " $2 " " $3
	rate[key] = $4
	share[key] = pct($6, $5)
	row[NR] = $0
	if (!($1 in seen)) {
		seen[$1] = 1
		order[++nw] = $1
	}
	if (!(($1 " " $3) in seenc)) {
		seenc[$1 " " $3] = 1
		cpus[$1, ++nc[$1]] = $3
	}
}
END {
	printf "%-12s %-9s %4s %14s %-10s %7s  %s\n", "workload",
	       "strategy", "cpus", "rate", "metric", "spf %", "aborts (non-zero)"
	for (i = 1; i <= NR; i++) {
		split(row[i], f, " ")
		printf "%-12s %-9s %4d %14.0f %-10s %6.1f%%  %s\n", f[1], f[2],
		       f[3], f[4], metric(f[1]), pct(f[6], f[5]), f[7]
	}
	print ""
	print "ratio spf-srcu/classic:"
	for (i = 1; i <= nw; i++) {
		w = order[i]
		line = sprintf("  %-12s", w)
		for (j = 1; j <= nc[w]; j++) {
			c = cpus[w, j]
			a = rate[w " spf-srcu " c]
			b = rate[w " classic " c]
			line = line sprintf("  %s CPU%s %s", c, c == 1 ? ": " : "s:",
					    b > 0 && a != "" ? sprintf("%.2fx", a / b) : "n/a")
		}
		print line
	}
	print ""
	print "targets:"
	target("ebizzy", 2, 1.5)
	target("ebizzy", 8, 2.0)
	for (j = 1; j <= nc["ebizzy"]; j++) {
		c = cpus["ebizzy", j]
		k = "ebizzy spf-srcu " c
		if (c > 1 && (k in share))
			printf "  ebizzy spf-srcu %d CPUs: %.1f%% speculative " \
			       "(want >= 95%%): %s\n", c, share[k],
			       (share[k] >= 95 ? "met" : "MISSED")
	}
	target("page_fault1", 2, 1.0)
}
function target(w, c, want,    a, b) {
	a = rate[w " spf-srcu " c]
	b = rate[w " classic " c]
	if (a == "" || b == "" || b == 0)
		return
	printf "  %s at %d CPUs: spf-srcu/classic %.2fx (want >= %.1fx): %s\n",
	       w, c, a / b, want, (a / b >= want ? "met" : "MISSED")
}' "$merged"
echo
echo "($mmsim, --seconds $seconds per run, $repeats repeat(s) each," \
     "$(nproc) host cores)"
exit $failed
