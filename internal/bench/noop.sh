#!/usr/bin/env bash
# Whole-process benchmark of a no-op apply: nixvirt, installed as its three
# builds, applies N typical domains (internal/cmd/noopinput) that the host
# already has, from NixVirt's settings file as the Nix modules write it
# (each definition an XML file), from the same settings with the
# definitions inline (JSON), and from a CUE #Config, beside NixVirt's own
# module helper applying another N domains of its own from its settings
# file, when a NixVirt tree and python3 with libvirt, lxml and xmldiff are
# there. `nixvirt` answers these from the memo of the run before
# (internal/noopmemo); the whole build, nixvirt-libvirt, run directly for
# the settings file, shows what a run without one costs.
#
#   URI=qemu:///system PREFIX=nvxbench bash internal/bench/noop.sh [RUNS] [N]
#   NIXVIRT_TREE=/path/to/NixVirt ...    # NixVirt's checkout (tool/ in it)
#   BEFORE=/path/to/older/nixvirt ...    # also time another nixvirt build
#                                        # (with its own state directory: the
#                                        # two would replace each other's
#                                        # compile records)
#   OWNER=name ...                       # nixvirt's owner (default nvx-PREFIX)
#
# It defines 2N inactive domains named PREFIX-x-NNN and PREFIX-n-NNN on URI
# (owner nvx-PREFIX for nixvirt's) and undefines them again at the end; it
# touches no other object. NixVirt's helper deletes every object of a kind
# its settings do not list, so it runs through nixvirt-helper-scoped.py,
# which leaves it only the objects named PREFIX-n-. The commands run
# alternately, RUNS times each (default 7); it prints the median wall time,
# the peak resident memory of that run, and the ratio to NixVirt's helper.
# A measuring tool for people, not a test: CI does not run it.
set -euo pipefail
cd "$(dirname "$0")/../.."
runs=${1:-7}
n=${2:-100}
uri=${URI:-qemu:///system}
prefix=${PREFIX:-nvxbench}
owner=${OWNER:-nvx-$prefix}
tree=${NIXVIRT_TREE:-}
work=$(mktemp -d)
export NIXVIRT_STATE_DIR=$work/state
# Claims are made and read as on a real host, in a directory of the run's
# own rather than root's /var/lib/nixvirt-owners.
export NIXVIRT_OWNERS_DIR=$work/owners
# before: another build, with its own state directory.
before=(env "NIXVIRT_STATE_DIR=$work/state-before" "${BEFORE:-}")

cleanup() {
	for name in $(virsh -c "$uri" list --all --name); do
		case $name in
		"$prefix"-x-* | "$prefix"-n-*) virsh -c "$uri" undefine "$name" >/dev/null ;;
		esac
	done
	rm -rf "$work"
}
trap cleanup EXIT

if [ ! -x /usr/bin/time ]; then
	echo "noop.sh: needs GNU time (apt-get install time)" >&2
	exit 1
fi
go build -o "$work/nixvirt-libvirt" ./cmd/nixvirt
go build -tags nolibvirt -o "$work/nixvirt-cue" ./cmd/nixvirt
go build -o "$work/nixvirt" ./cmd/nixvirt-front
mkdir "$work/times"
go run ./internal/cmd/noopinput -n "$n" -prefix "$prefix" -dir "$work" -uri "$uri"
# The Nix modules' files are in the Nix store, long unchanged: nixvirt's
# compile record trusts the stat of a file that had not changed for 5 s
# when it was recorded, and reads the others every time.
sleep 6
have_helper=
if [ -n "$tree" ] && [ -f "$tree/tool/nixvirt-module-helper" ] &&
	/usr/bin/python3 -c 'import libvirt, lxml, xmldiff.main' 2>/dev/null; then
	have_helper=1
fi

# run NAME CMD...: one run; appends "microseconds kilobytes" to
# $work/times/NAME.
run() {
	local name=$1
	shift
	local start end
	start=$(date +%s%N)
	/usr/bin/time -f %M -o "$work/mem" "$@" >"$work/out" 2>"$work/err" || {
		echo "noop.sh: $name failed:" >&2
		cat "$work/out" "$work/err" >&2
		exit 1
	}
	end=$(date +%s%N)
	case $name in
	nixvirt* | whole* | before*)
		grep -q '^Apply complete: 0 added, 0 changed, 0 destroyed, 0 failed.$' "$work/out" || {
			echo "noop.sh: $name was not a no-op:" >&2
			cat "$work/out" >&2
			exit 1
		}
		;;
	esac
	echo "$(((end - start) / 1000)) $(tail -1 "$work/mem")" >>"$work/times/$name"
}

median() {
	sort -n "$work/times/$1" | awk '{t[NR]=$1; m[NR]=$2} END {i=int((NR+1)/2); printf "%.3f %.0f", t[i]/1e6, m[i]/1024}'
}

forms="settings inline cue"
args() {
	case $1 in
	settings) echo "--connect $uri $work/settings.json" ;;
	inline) echo "--connect $uri $work/inline.json" ;;
	cue) echo "$work/host.cue" ;;
	esac
}

# Define both sets, then two untimed runs of each command (nixvirt records
# each input's compiled configuration on its first apply, and leaves a memo
# of the first that changes nothing).
"$work/nixvirt" apply --yes --owner "$owner" $(args settings) >/dev/null
helper=(/usr/bin/python3 internal/bench/nixvirt-helper-scoped.py "$tree" "$prefix-n-" --connect "$uri" "$work/nixvirt-settings.json")
[ -n "$have_helper" ] && "${helper[@]}"
for f in $forms $forms; do
	"$work/nixvirt" apply --yes --owner "$owner" $(args "$f") >/dev/null
	[ -n "${BEFORE:-}" ] && "${before[@]}" apply --yes --owner "$owner" $(args "$f") >/dev/null
done

for i in $(seq "$runs"); do
	for f in $forms; do
		run "nixvirt-$f" "$work/nixvirt" apply --yes --owner "$owner" $(args "$f")
		[ -n "${BEFORE:-}" ] && run "before-$f" "${before[@]}" apply --yes --owner "$owner" $(args "$f")
	done
	run whole-settings "$work/nixvirt-libvirt" apply --yes --owner "$owner" $(args settings)
	[ -n "$have_helper" ] && run helper "${helper[@]}"
done

helper_t=-
helper_m=-
[ -n "$have_helper" ] && read -r helper_t helper_m <<<"$(median helper)"
printf '%-42s %8s %7s %7s\n' "no-op apply of $n domains" seconds MB ratio
[ -n "$have_helper" ] && printf '%-42s %8s %7s %7s\n' "NixVirt's module helper" "$helper_t" "$helper_m" 1
for who in nixvirt whole before; do
	[ "$who" = before ] && [ -z "${BEFORE:-}" ] && continue
	for f in $forms; do
		[ -f "$work/times/$who-$f" ] || continue
		case $f in
		settings) what="settings file, XML files" ;;
		inline) what="settings file, inline JSON" ;;
		cue) what="CUE #Config" ;;
		esac
		read -r t m <<<"$(median "$who-$f")"
		ratio=-
		[ -n "$have_helper" ] && ratio=$(awk -v a="$t" -v b="$helper_t" 'BEGIN {printf "%.2f", a/b}')
		label=$who
		[ "$who" = whole ] && label="nixvirt-libvirt (no memo)"
		printf '%-42s %8s %7s %7s\n' "$label, $what" "$t" "$m" "$ratio"
	done
done
