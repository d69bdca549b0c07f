#!/bin/sh
# SPDX-License-Identifier: MIT
# Check that mmsim can be used as an installed library: install it into a
# temporary prefix, then build examples/out-of-tree against that prefix
# twice, with CMake (find_package, CMAKE_PREFIX_PATH) and with pkg-config
# (PKG_CONFIG_PATH, the example's Makefile), and run every program of each.
# Exit status 0 when all of it works, non-zero at the first failure.
#
#   tools/check-install.sh                   configure and build mmsim in
#                                            build/install-check/build first
#   tools/check-install.sh --build-dir DIR   install an existing build (DIR
#                                            has been built; ctest -L install)
#   --work DIR    where the prefix and the examples' builds go (default:
#                 build/install-check, or DIR/install-check with --build-dir)
#
# Nothing is written outside the work directory (and, with the first form,
# build/install-check/build).
set -eu

src=$(cd "$(dirname "$0")/.." && pwd)
builddir=
work=
while [ $# -gt 0 ]; do
	case $1 in
	--build-dir) builddir=$2; shift 2 ;;
	--work) work=$2; shift 2 ;;
	-h|--help) sed -n '3,17p' "$0"; exit 0 ;;
	*) echo "check-install: unknown argument $1" >&2; exit 2 ;;
	esac
done

step() { printf '\n== check-install: %s\n' "$*"; }

if [ -z "$builddir" ]; then
	work=${work:-$src/build/install-check}
	builddir=$work/build
	step "configure and build mmsim in $builddir"
	# As the default preset: optimized, with jemalloc.
	cmake -S "$src" -B "$builddir" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	      -DMMSIM_JEMALLOC=ON
	cmake --build "$builddir" --target mmsim -j "${JOBS:-2}"
else
	builddir=$(cd "$builddir" && pwd)
	work=${work:-$builddir/install-check}
fi
mkdir -p "$work"
work=$(cd "$work" && pwd)
prefix=$work/prefix

step "install into $prefix"
rm -rf "$prefix" "$work/cmake" "$work/pkgconfig"
cmake --install "$builddir" --prefix "$prefix"
find "$prefix" -type f | sed "s|^$prefix/|  |" | sort

# Build the examples with mmsim's own compiler (a sanitizer build's
# library needs that compiler's sanitizer runtime).
cc=$(sed -n 's/^CMAKE_C_COMPILER:[A-Z]*=//p' "$builddir/CMakeCache.txt")
cc=${cc:-cc}

step "each installed header compiles alone with only $prefix/include"
for h in "$prefix"/include/mmsim/*.h; do
	printf '#include <mmsim/%s>\n' "${h##*/}" |
		"$cc" -std=gnu11 -fsyntax-only -I"$prefix/include" -x c -
done

step "examples/out-of-tree with CMake (find_package(mmsim))"
cmake -S "$src/examples/out-of-tree" -B "$work/cmake" \
      -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_C_COMPILER="$cc"
found=$(sed -n 's/^mmsim_DIR:[A-Z]*=//p' "$work/cmake/CMakeCache.txt")
case $found in
"$prefix"/*) echo "mmsim_DIR=$found" ;;
*) echo "check-install: find_package found mmsim at '$found', not in $prefix" >&2
   exit 1 ;;
esac
cmake --build "$work/cmake"
ctest --test-dir "$work/cmake" --output-on-failure

step "examples/out-of-tree with pkg-config (Makefile)"
pc=$(find "$prefix" -name mmsim.pc)
[ -n "$pc" ] || { echo "check-install: no mmsim.pc installed" >&2; exit 1; }
PKG_CONFIG_PATH=${pc%/mmsim.pc} \
	make -C "$src/examples/out-of-tree" O="$work/pkgconfig" CC="$cc" check

step "OK"
