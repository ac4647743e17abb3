#!/bin/sh
# Prints the directory holding the RelaxNG grammars of the libvirt version
# nixvirt's schemas are generated from, downloading them first if needed.
#
# The grammars come from Debian's libvirt-common package in bookworm-backports
# (libvirt 11.3; Debian 12 itself ships 9.0). apt runs with a state of its
# own under the cache directory, so the host's package lists are untouched.
# Nothing downloaded is committed.
set -eu
. "$(dirname "$0")/../../../internal/debian/apt.sh"
version=11.3.0-2~bpo12+1
cache=${NIXVIRT_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/nixvirt}
dir=$cache/libvirt-rng-$version
if [ ! -f "$dir/domain.rng" ]; then
	work=$(mktemp -d)
	trap 'rm -rf "$work"' EXIT
	apt_isolated "$work" deb "bookworm-backports"
	# shellcheck disable=SC2086
	(cd "$work" && apt-get $apt_opts download -qq "libvirt-common=$version" >&2) || {
		echo "libvirt-rng.sh: libvirt-common $version is not in bookworm-backports any more;" >&2
		echo "pin the version it has now in $0 and run go generate ./schemas" >&2
		exit 1
	}
	dpkg-deb -x "$work"/libvirt-common_*.deb "$work/root"
	mkdir -p "$dir"
	cp "$work"/root/usr/share/libvirt/schemas/*.rng "$dir/"
fi
echo "$dir"
