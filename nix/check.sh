#!/bin/sh
# What of the Nix layer can be checked without nixpkgs (Debian's nix-bin,
# no network): every .nix file parses; the conversion from module options
# to nixvirt's settings evaluates to the golden, which nixvirt vets and
# plans; lib's template-to-CUE function gives a definition nixvirt exports;
# and nix/package.nix's vendorHash is current.
set -eu
cd "$(dirname "$0")/.."
nixvirt=${NIXVIRT:-nixvirt}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

for f in flake.nix nix/*.nix nix/tests/*.nix; do
	nix-instantiate --parse "$f" >/dev/null
done

nix-instantiate --read-write-mode --eval --strict --json nix/tests/settings.nix >"$work/settings.json"
if ! cmp -s nix/tests/settings.json "$work/settings.json"; then
	echo "nix/tests/settings.nix evaluates to something else than nix/tests/settings.json:" >&2
	diff nix/tests/settings.json "$work/settings.json" >&2 || true
	exit 1
fi
# The JSON the modules hand to nixvirt apply is a contract: vet and plan it.
NIXVIRT_STATE_DIR="$work/state" "$nixvirt" vet --connect test:///default "$work/settings.json"
NIXVIRT_STATE_DIR="$work/state" "$nixvirt" plan --connect test:///default "$work/settings.json" >"$work/plan.txt"
if ! cmp -s nix/tests/plan.txt "$work/plan.txt"; then
	echo "the settings are planned otherwise than nix/tests/plan.txt:" >&2
	diff nix/tests/plan.txt "$work/plan.txt" >&2 || true
	exit 1
fi

# lib.domain.templates.linux { … } // { … }, as lib's writeXML compiles it.
mkdir "$work/definition"
src=$(nix-instantiate --read-write-mode --eval -E 'builtins.toFile "definition.cue" ((import ./nix/cue.nix).source (import ./nix/tests/template.nix))' | tr -d '"')
cp "$src" "$work/definition/definition.cue"
(cd "$work/definition" && "$nixvirt" export --kind domain -e definition .) >"$work/template.xml"
if ! cmp -s nix/tests/template.xml "$work/template.xml"; then
	echo "lib's template definition exports otherwise than nix/tests/template.xml:" >&2
	diff nix/tests/template.xml "$work/template.xml" >&2 || true
	exit 1
fi
virt-xml-validate "$work/template.xml" domain >/dev/null 2>&1

want=$(sed -n 's/.*vendorHash = "\(.*\)";/\1/p' nix/package.nix)
have=$(sh nix/vendor-hash.sh 2>/dev/null | tail -n 1)
if [ "$want" != "$have" ]; then
	echo "nix/package.nix has vendorHash $want, go mod vendor gives $have" >&2
	exit 1
fi
echo "nix: all files parse; settings, plan and template goldens match; vendorHash is current"
