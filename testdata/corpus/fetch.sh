#!/bin/sh
# Prints the directory of libvirt's own test documents (Debian 12's
# libvirt 9.0 source package), downloading and unpacking them first if
# needed. They are a test corpus for import and export, cached outside the
# repository; none is committed. apt runs with a state of its own.
set -eu
. "$(dirname "$0")/../../internal/debian/apt.sh"
version=9.0.0-4+deb12u2
cache=${NIXVIRT_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/nixvirt}
# The name changes when what is unpacked does, so that caches are refilled.
dir=$cache/libvirt-corpus-$version-2
if [ ! -f "$dir/.complete" ]; then
	work=$(mktemp -d)
	trap 'rm -rf "$work"' EXIT
	apt_isolated "$work" deb-src "bookworm bookworm-updates"
	# shellcheck disable=SC2086
	(cd "$work" && apt-get $apt_opts source --download-only -qq "libvirt=$version" >&2) ||
		# A point release replaces the version: take the current one.
		(cd "$work" && apt-get $apt_opts source --download-only -qq libvirt >&2)
	tarball=$(ls "$work"/libvirt_*.orig.tar.xz)
	rm -rf "$dir"
	mkdir -p "$dir"
	tar -xJf "$tarball" -C "$dir" --strip-components=1 --wildcards \
		'*/tests/qemuxml2argvdata/*.xml' '*/tests/genericxml2xmlindata/*.xml' \
		'*/tests/domainschemadata/*.xml' '*/tests/lxcxml2xmldata/*.xml' \
		'*/tests/networkxml2xmlin/*.xml' '*/tests/storagepoolxml2xmlin/*.xml' \
		'*/tests/storagevolxml2xmlin/*.xml' \
		'*/tests/networkxml2confdata/*.xml' # targets of networkxml2xmlin's links
	touch "$dir/.complete"
fi
echo "$dir"
