#!/usr/bin/env bash
# Whole-process benchmark: nixvirt's export and vet of 1, 100 and 1000
# typical domains given as JSON in NixVirt's vocabulary (internal/testconfig),
# and their export from CUE, written out and with a template of the user's
# (and N guests of nixvirt's templates.#Linux, each with a name, UUID, pool
# volume and MAC: other documents than the typical domains),
# beside NixVirt's own generator (nix-instantiate --eval --strict of
# generate-xml/domain.nix over the same definitions, all in one evaluation)
# when nix-instantiate and a NixVirt tree are present.
#
#   bash internal/bench/compare.sh [RUNS]        # default 7 runs per command
#   NIXVIRT_TREE=/path/to/NixVirt bash internal/bench/compare.sh
#   BENCH_CUE=0 bash internal/bench/compare.sh # leave out the CUE rows
#   SIZES="1 100" bash internal/bench/compare.sh # other numbers of domains
#
# The commands run alternately, RUNS times each, and the median wall time
# is printed with the peak resident memory (GNU time's %M) of the median
# run. NixVirt's tree defaults to the vendored testdata/nixvirt. This is a
# measuring tool for people, not a test: CI does not run it.
set -euo pipefail
cd "$(dirname "$0")/../.."
runs=${1:-7}
tree=${NIXVIRT_TREE:-$PWD/testdata/nixvirt}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# As installed: the front (no cue, no libvirt) as nixvirt, with the build
# without libvirt and the whole one beside it.
go build -o "$work/nixvirt-libvirt" ./cmd/nixvirt
go build -tags nolibvirt -o "$work/nixvirt-cue" ./cmd/nixvirt
go build -o "$work/nixvirt" ./cmd/nixvirt-front
nixvirt=$work/nixvirt
have_nix=
if command -v nix-instantiate >/dev/null && [ -f "$tree/generate-xml/domain.nix" ]; then
	have_nix=1
fi
if [ ! -x /usr/bin/time ]; then
	echo "compare.sh: needs GNU time (apt-get install time)" >&2
	exit 1
fi

# measure NAME CMD...: one run; appends "seconds kilobytes" to $work/NAME.
measure() {
	local name=$1
	shift
	local start end
	start=$(date +%s%N)
	/usr/bin/time -f %M -o "$work/mem" "$@" >/dev/null 2>"$work/err" || {
		echo "compare.sh: $name failed:" >&2
		cat "$work/err" >&2
		exit 1
	}
	end=$(date +%s%N)
	echo "$(((end - start) / 1000)) $(tail -1 "$work/mem")" >>"$work/$name"
}

# median NAME: "seconds MB" of the median run.
median() {
	sort -n "$work/$1" | awk '{t[NR]=$1; m[NR]=$2} END {i=int((NR+1)/2); printf "%.3f %.0f", t[i]/1e6, m[i]/1024}'
}

printf '%-42s %9s %7s %9s %7s %7s\n' work nixvirt MB NixVirt MB ratio
for n in ${SIZES:-1 100 1000}; do
	d=$work/n$n
	mkdir -p "$d"
	go run ./internal/cmd/benchinput -n "$n" -dir "$d"
	names=()
	for i in $(seq "$runs"); do
		if [ "$n" = 1 ]; then
			measure "export$n" "$nixvirt" export --kind domain "$d/one.json"
		else
			rm -rf "$d/out"
			measure "export$n" "$nixvirt" export --out "$d/out" "$d/host.json"
		fi
		measure "vet$n" "$nixvirt" vet "$d/host.json"
		if [ "${BENCH_CUE:-1}" != 0 ]; then
			rm -rf "$d/out"
			measure "cue$n" "$nixvirt" export --out "$d/out" "$d/host.cue"
			rm -rf "$d/out"
			measure "template$n" "$nixvirt" export --out "$d/out" "$d/template.cue"
			rm -rf "$d/out"
			measure "templates$n" "$nixvirt" export --out "$d/out" "$d/templates"
		fi
		if [ -n "$have_nix" ]; then
			measure "nix$n" nix-instantiate --eval --strict -E \
				"map (import $tree/generate-xml/domain.nix) (builtins.fromJSON (builtins.readFile $d/nixvirt.json))"
		fi
	done
	nix="- -"
	[ -n "$have_nix" ] && nix=$(median "nix$n")
	cmds="export vet"
	[ "${BENCH_CUE:-1}" != 0 ] && cmds="$cmds cue template templates"
	for cmd in $cmds; do
		case $cmd in
		export) what="export, JSON" ;;
		vet) what="vet, JSON" ;;
		cue) what="export --out, CUE" ;;
		template) what="export --out, CUE template" ;;
		templates) what="export --out, templates.#Linux" ;;
		esac
		read -r t m <<<"$(median "$cmd$n")"
		read -r nt nm <<<"$nix"
		ratio=-
		[ -n "$have_nix" ] && ratio=$(awk -v a="$t" -v b="$nt" 'BEGIN {printf "%.2f", a/b}')
		printf '%-42s %8ss %7s %8ss %7s %7s\n' "$n domains, $what" "$t" "$m" "$nt" "$nm" "$ratio"
	done
done
