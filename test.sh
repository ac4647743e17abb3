#!/usr/bin/env bash
# The whole test suite: generated files up to date, formatting, vet, and
# every Go test and testscript script (exported XML is checked by
# virt-xml-validate from libvirt-clients).
set -euo pipefail
cd "$(dirname "$0")"

# Regenerating needs the pinned libvirt grammars from Debian's archive
# (internal/cmd/schemagen/libvirt-rng.sh). If they cannot be had, the tests
# still run on the committed schemas and only this check is skipped.
if sh internal/cmd/schemagen/libvirt-rng.sh >/dev/null; then
	generated() { cat schemas/*_gen.cue compiler/fastschema/*.cue compiler/gocheck_gen.go | sha256sum; }
	before=$(generated)
	go generate ./...
	if [ "$(generated)" != "$before" ]; then
		echo "go generate changed the generated schemas; commit the result:" >&2
		git diff --stat -- 'schemas/*_gen.cue' compiler/fastschema compiler/gocheck_gen.go >&2
		exit 1
	fi
else
	echo "warning: libvirt's grammars could not be fetched; regeneration not checked" >&2
fi
# libvirt's own test documents, for the import/export round trip.
if corpus=$(sh testdata/corpus/fetch.sh); then
	export NIXVIRT_CORPUS="$corpus"
else
	echo "warning: libvirt's test documents could not be fetched; the corpus round trip is skipped" >&2
fi

unformatted=$(gofmt -l . || true)
if [ -n "$unformatted" ]; then
	echo "not gofmt-formatted:" >&2
	echo "$unformatted" >&2
	exit 1
fi
go vet ./...

# The Nix layer, as far as Debian's nix-bin can check it (no nixpkgs).
bin=$(mktemp -d)
trap 'rm -rf "$bin"' EXIT
go build -o "$bin/nixvirt" ./cmd/nixvirt
NIXVIRT="$bin/nixvirt" sh nix/check.sh

go test -count=1 ./...
