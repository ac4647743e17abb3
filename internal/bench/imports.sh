#!/usr/bin/env bash
# Whole-process benchmark of CUE that imports nixvirt's own packages, what
# users write: N typical domains (internal/testconfig) with each definition
# written as schemas.#Domain & {…} (schema-each), as one schemas.#Config &
# {…} (schema-config), and N Linux guests from nixvirt's template
# (templates.#Linux & {#args: …}, templates); beside them the same domains
# in CUE importing nothing (template.cue, the plain-values path) and
# NixVirt's own generator over the typical definitions (nix-instantiate
# --eval --strict of generate-xml/domain.nix, all in one evaluation) when
# nix-instantiate and a NixVirt tree are present.
#
#   bash internal/bench/imports.sh [RUNS] [SIZES]     # default 3 runs; "10 100 1000"
#   BEFORE=/path/to/older/nixvirt bash internal/bench/imports.sh
#   TIMEOUT=60 ...   # seconds a run may take (default 60); a command that
#                    # times out is not run at the larger sizes
#
# Each command runs `export --out` and `vet`; the commands alternate, RUNS
# times each, and the median wall time is printed with the peak resident
# memory (GNU time's %M) of that run and the ratio to NixVirt's generator.
# The machine's load (uptime) is printed before and after: compare figures
# of one run only. A measuring tool for people, not a test: CI does not
# run it.
set -euo pipefail
cd "$(dirname "$0")/../.."
runs=${1:-3}
sizes=${2:-10 100 1000}
limit=${TIMEOUT:-60}
tree=${NIXVIRT_TREE:-$PWD/testdata/nixvirt}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

go build -o "$work/nixvirt" ./cmd/nixvirt
builds=(now)
declare -A binary=([now]=$work/nixvirt)
if [ -n "${BEFORE:-}" ]; then
	builds+=(before)
	binary[before]=$BEFORE
fi
have_nix=
if command -v nix-instantiate >/dev/null && [ -f "$tree/generate-xml/domain.nix" ]; then
	have_nix=1
fi
if [ ! -x /usr/bin/time ]; then
	echo "imports.sh: needs GNU time (apt-get install time)" >&2
	exit 1
fi

# measure NAME CMD...: one run; appends "microseconds kilobytes" to
# $work/NAME, or "timeout" when it took longer than the limit.
measure() {
	local name=$1
	shift
	local start end rc=0
	start=$(date +%s%N)
	/usr/bin/time -f %M -o "$work/mem" timeout "$limit" "$@" >/dev/null 2>"$work/err" || rc=$?
	end=$(date +%s%N)
	if [ "$rc" = 124 ]; then
		echo timeout >>"$work/$name"
		return
	fi
	if [ "$rc" != 0 ]; then
		echo "imports.sh: $name failed:" >&2
		cat "$work/err" >&2
		exit 1
	fi
	echo "$(((end - start) / 1000)) $(tail -1 "$work/mem")" >>"$work/$name"
}

# median NAME: "seconds MB" of the median run, or "timeout -".
median() {
	if grep -q timeout "$work/$1"; then
		echo "timeout -"
		return
	fi
	sort -n "$work/$1" | awk '{t[NR]=$1; m[NR]=$2} END {i=int((NR+1)/2); printf "%.3f %.0f", t[i]/1e6, m[i]/1024}'
}

echo "load before: $(uptime)"
declare -A timedout
printf '%-44s %9s %7s %9s\n' work seconds MB "/NixVirt"
for n in $sizes; do
	d=$work/n$n
	mkdir -p "$d"
	go run ./internal/cmd/benchinput -n "$n" -dir "$d"
	rows=()
	for i in $(seq "$runs"); do
		for style in schema-each schema-config templates template.cue; do
			for b in "${builds[@]}"; do
				for cmd in export vet; do
					row="$style $cmd $b"
					[ -n "${timedout[$row]:-}" ] && continue
					[ "$i" = 1 ] && rows+=("$row")
					if [ "$cmd" = export ]; then
						rm -rf "$d/out"
						measure "$n $row" "${binary[$b]}" export --out "$d/out" "$d/$style"
					else
						measure "$n $row" "${binary[$b]}" vet "$d/$style"
					fi
				done
			done
		done
		if [ -n "$have_nix" ]; then
			measure "$n nix" nix-instantiate --eval --strict -E \
				"map (import $tree/generate-xml/domain.nix) (builtins.fromJSON (builtins.readFile $d/nixvirt.json))"
		fi
	done
	nt=-
	[ -n "$have_nix" ] && read -r nt _ <<<"$(median "$n nix")"
	[ -n "$have_nix" ] && printf '%-44s %8ss %7s\n' "$n domains, NixVirt generate-xml" "$nt" "$(median "$n nix" | cut -d' ' -f2)"
	for row in "${rows[@]}"; do
		read -r t m <<<"$(median "$n $row")"
		ratio=-
		if [ "$t" = timeout ]; then
			timedout[$row]=1
			t=">$limit"
		elif [ -n "$have_nix" ]; then
			ratio=$(awk -v a="$t" -v b="$nt" 'BEGIN {printf "%.2f", a/b}')
		fi
		set -- $row
		printf '%-44s %8ss %7s %9s\n' "$n domains, $1, $2 ($3)" "$t" "$m" "$ratio"
	done
done
echo "load after: $(uptime)"
