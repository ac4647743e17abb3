# Sourced by the scripts that fetch from Debian's archive (libvirt's
# grammars, libvirt's test documents). apt_isolated WORK TYPE SUITES
# prepares an apt state of its own under WORK, for one source of TYPE
# (deb or deb-src) and SUITES, so the host's package lists are untouched,
# and sets apt_opts for `apt-get $apt_opts …`.
apt_isolated() {
	mkdir -p "$1/lists/partial" "$1/archives/partial"
	cat >"$1/isolated.sources" <<SRC
Types: $2
URIs: http://deb.debian.org/debian
Suites: $3
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
	apt_opts="-o Dir::Etc::sourcelist=$1/isolated.sources -o Dir::Etc::sourceparts=- \
		-o Dir::State::Lists=$1/lists -o Dir::Cache::archives=$1/archives \
		-o Dir::Cache::pkgcache= -o Dir::Cache::srcpkgcache= -o APT::Sandbox::User=root"
	# shellcheck disable=SC2086
	apt-get $apt_opts update -qq >&2
}
