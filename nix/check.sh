#!/bin/sh
# What of the Nix layer can be checked without nixpkgs (Debian's nix-bin,
# no network): every .nix file parses; the conversion from module options
# to nixvirt's settings evaluates to the golden, which nixvirt vets and
# plans; the flake's lib (through default.nix, on a stand-in nixpkgs)
# gives definitions nixvirt exports to the goldens, and the documents
# NixVirt's lib gives for the same input and in its own checks; the
# modules, under nixpkgs' real lib.evalModules, set the golden unit and
# scripts (with the owner, take-over and entry options they pass on); and
# nix/package.nix's vendorHash is current.
set -eu
cd "$(dirname "$0")/.."
nixvirt=${NIXVIRT:-nixvirt}
# Debian's nix.conf names a build-users group that a machine without a
# Nix daemon lacks; nothing here builds, so none is needed (and Nix stops
# warning about it at every evaluation).
export NIX_CONFIG="build-users-group ="
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

for f in flake.nix default.nix nix/*.nix nix/tests/*.nix nix/tests/nixpkgs/*.nix; do
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
# The secret's value comes from the activation's environment.
NIXVIRT_CHECK_SECRET=check-value NIXVIRT_STATE_DIR="$work/state" "$nixvirt" plan --connect test:///default "$work/settings.json" >"$work/plan.txt"
if ! cmp -s nix/tests/plan.txt "$work/plan.txt"; then
	echo "the settings are planned otherwise than nix/tests/plan.txt:" >&2
	diff nix/tests/plan.txt "$work/plan.txt" >&2 || true
	exit 1
fi

# cases FILE ATTR… writes, for each attribute of the Nix file FILE (an
# attrset of {kind; …}), a line "NAME KIND PATH…" with each ATTR's string
# written to a file in the store.
cases() {
	file=$1
	shift
	attrs=$(printf '"%s" ' "$@")
	nix-instantiate --read-write-mode --eval --strict -E "
		let c = import ./$file; in builtins.concatStringsSep \"\" (map (name:
			builtins.concatStringsSep \" \" ([ name c.\${name}.kind ]
				++ map (a: builtins.toFile \"\${name}-\${a}\" c.\${name}.\${a}) [ $attrs ]) + \"\\n\")
			(builtins.attrNames c))" | sed 's/^"//; s/"$//; s/\\n/\n/g' | sed '/^$/d'
}
# export_cue KIND FILE writes the XML nixvirt exports for a CUE file
# holding `definition`.
export_cue() {
	dir=$(mktemp -d -p "$work")
	cp "$2" "$dir/definition.cue"
	(cd "$dir" && "$nixvirt" export --kind "$1" -e definition .)
}

# The system-less lib on a stand-in nixpkgs: templates, // extensions,
# path literals and lib.xml, each compiled as lib's writeXML compiles it.
cases nix/tests/lib.nix source >"$work/lib.cases"
while read -r name kind source; do
	export_cue "$kind" "$source" >"$work/$name.xml"
	if ! cmp -s "nix/tests/lib/$name.xml" "$work/$name.xml"; then
		echo "lib's $name exports otherwise than nix/tests/lib/$name.xml:" >&2
		diff "nix/tests/lib/$name.xml" "$work/$name.xml" >&2 || true
		exit 1
	fi
	virt-xml-validate "$work/$name.xml" "$kind" >/dev/null 2>&1
done <"$work/lib.cases"
if [ "$(ls nix/tests/lib | wc -l)" != "$(wc -l <"$work/lib.cases")" ]; then
	echo "nix/tests/lib holds goldens that nix/tests/lib.nix no longer makes" >&2
	exit 1
fi

# The same, and NixVirt's own checks of its lib, against NixVirt's lib: the
# same documents once nixvirt has read both.
cases nix/tests/nixvirt.nix ours nixvirt >"$work/nixvirt.cases"
# The checks whose XML libvirt refuses must fail to export, with an error at
# a line of the definition.
refused=$(awk '$1 !~ /^#/ && $2 == "refused" { gsub("/", "-", $1); print "nixvirt-" $1 }' testdata/nixvirtcheck/outcomes.txt)
while read -r name kind ours theirs; do
	if printf '%s\n' "$refused" | grep -qx "$name"; then
		if export_cue "$kind" "$ours" >/dev/null 2>"$work/$name.err" \
			|| ! grep -Eq '/definition\.cue:[0-9]+:[0-9]+' "$work/$name.err"; then
			echo "nixvirt's lib gives $name, whose XML libvirt refuses, without an error at a line of it:" >&2
			cat "$work/$name.err" >&2
			exit 1
		fi
		continue
	fi
	export_cue "$kind" "$ours" >"$work/$name.ours.xml"
	"$nixvirt" import "$theirs" >"$work/$name.cue"
	"$nixvirt" export --kind "$kind" "$work/$name.cue" >"$work/$name.theirs.xml"
	if ! cmp -s "$work/$name.theirs.xml" "$work/$name.ours.xml"; then
		echo "nixvirt's lib gives $name otherwise than NixVirt's (nix/tests/nixvirt.nix):" >&2
		diff "$work/$name.theirs.xml" "$work/$name.ours.xml" >&2 || true
		exit 1
	fi
done <"$work/nixvirt.cases"
[ -s "$work/nixvirt.cases" ]

# NixVirt ignores a template argument it does not know: lib names it.
nix-instantiate --eval --strict -E '(import ./default.nix { nixpkgs = ./nix/tests/nixpkgs; }).lib.domain.templates.linux { name = "a"; uuid = "2904419d-b283-4cfd-9f2c-7c3713ff809f"; consoleDevices = [ ]; }' >/dev/null 2>"$work/unknown.err"
if ! grep -q "warning: nixvirt: lib.domain.templates.linux: unknown argument consoleDevices is ignored" "$work/unknown.err"; then
	echo "lib's templates do not name an unknown argument:" >&2
	cat "$work/unknown.err" >&2
	exit 1
fi

# The NixOS and Home Manager modules under nixpkgs' lib.evalModules.
report=$(nix-instantiate --read-write-mode --eval -E 'import ./nix/tests/modules.nix { }' | tr -d '"')
if ! cmp -s nix/tests/modules.txt "$report"; then
	echo "the modules set otherwise than nix/tests/modules.txt:" >&2
	diff nix/tests/modules.txt "$report" >&2 || true
	exit 1
fi
# A CUE file outside the store cannot be compiled by the build: said so.
if nix-instantiate --read-write-mode --eval -E 'import ./nix/tests/modules.nix { extraConfig.virtualisation.libvirt.connections."qemu:///system".domains = [{ definition = "/etc/nixvirt/web.cue"; }]; }' >/dev/null 2>"$work/cue.err" \
	|| ! grep -q "the domain definition /etc/nixvirt/web.cue is a CUE file outside the store" "$work/cue.err"; then
	echo "the modules take a CUE file outside the store without saying they cannot compile it:" >&2
	cat "$work/cue.err" >&2
	exit 1
fi
# verbose is a boolean, as in NixVirt.
if nix-instantiate --read-write-mode --eval -E 'import ./nix/tests/modules.nix { extraConfig.virtualisation.libvirt.verbose = "yes"; }' >/dev/null 2>"$work/verbose.err" \
	|| ! grep -q "virtualisation.libvirt.verbose' is not of type \`boolean'" "$work/verbose.err"; then
	echo "the modules take verbose = \"yes\":" >&2
	cat "$work/verbose.err" >&2
	exit 1
fi
# The owner is a name nixvirt takes, checked when the options are.
if nix-instantiate --read-write-mode --eval -E 'import ./nix/tests/modules.nix { extraConfig.virtualisation.libvirt.owner = "NixOS"; }' >/dev/null 2>"$work/owner.err" \
	|| ! grep -q "virtualisation.libvirt.owner' is not of type \`string matching the pattern" "$work/owner.err"; then
	echo "the modules take owner = \"NixOS\":" >&2
	cat "$work/owner.err" >&2
	exit 1
fi
# A volume's content.file given as a path is the host's file, named by its
# absolute path and not copied into the store (nixvirt would resolve a
# relative one against the settings file, in the store).
file=$(nix-instantiate --eval --strict -E '
	let
		s = (import ./nix/settings.nix { }).settingsFor { pools = [{ name = "p"; volumes = [{ name = "v"; content = { file = ./nix/tests/lab.xml; }; }]; }]; };
		file = (builtins.head (builtins.head s.pools).volumes).content.file;
	in if builtins.hasContext file then "copied into the store: ${file}" else file')
if [ "$file" != "\"$PWD/nix/tests/lab.xml\"" ]; then
	echo "settings.nix gives content.file = ./nix/tests/lab.xml as $file" >&2
	exit 1
fi

want=$(sed -n 's/.*vendorHash = "\(.*\)";/\1/p' nix/package.nix)
have=$(sh nix/vendor-hash.sh 2>/dev/null | tail -n 1)
if [ "$want" != "$have" ]; then
	echo "nix/package.nix has vendorHash $want, go mod vendor gives $have" >&2
	exit 1
fi
echo "nix: all files parse; settings, plan, lib and module goldens match; vendorHash is current"
