#!/usr/bin/env bash
# The whole test suite: generated files up to date, formatting, vet, and
# every Go test and testscript script (exported XML is checked by
# virt-xml-validate from libvirt-clients).
set -euo pipefail
cd "$(dirname "$0")"

# Where a check needs something from the network that cannot be had: on a
# developer's machine it is skipped with a warning, in CI (CI=true) it fails,
# so that CI never passes without having run it.
unavailable() {
	if [ "${CI:-}" = true ]; then
		echo "error: $1" >&2
		exit 1
	fi
	echo "warning: $1" >&2
}

# Regenerating needs the pinned libvirt grammars from Debian's archive
# (internal/cmd/schemagen/libvirt-rng.sh). If they cannot be had, the tests
# still run on the committed schemas and, outside CI, only this check is
# skipped.
if sh internal/cmd/schemagen/libvirt-rng.sh >/dev/null; then
	generated() { cat schemas/*_gen.cue compiler/fastschema/*.cue compiler/gocheck/*_gen.go | sha256sum; }
	before=$(generated)
	go generate ./...
	if [ "$(generated)" != "$before" ]; then
		echo "go generate changed the generated schemas; commit the result:" >&2
		git diff --stat -- 'schemas/*_gen.cue' compiler/fastschema 'compiler/gocheck/*_gen.go' >&2
		exit 1
	fi
else
	unavailable "libvirt's grammars could not be fetched; regeneration not checked"
fi
# libvirt's own test documents, for the import/export round trip.
if corpus=$(sh testdata/corpus/fetch.sh); then
	export NIXVIRT_CORPUS="$corpus"
else
	unavailable "libvirt's test documents could not be fetched; the corpus round trip is skipped"
fi

unformatted=$(gofmt -l . || true)
if [ -n "$unformatted" ]; then
	echo "not gofmt-formatted:" >&2
	echo "$unformatted" >&2
	exit 1
fi
go vet ./...
go vet -tags nolibvirt ./cmd/nixvirt

# Linters at pinned versions, fetched through the Go module proxy.
# errcheck's exceptions, each with its reason, are in .errcheck-excludes.
go run honnef.co/go/tools/cmd/staticcheck@v0.8.2 ./...
go run github.com/kisielk/errcheck@v1.30.0 -ignoretests -exclude .errcheck-excludes ./...
# The build without libvirt (its tests are the whole build's: TestBuildWithoutLibvirt).
go run honnef.co/go/tools/cmd/staticcheck@v0.8.2 -tests=false -tags nolibvirt ./cmd/nixvirt
go run github.com/kisielk/errcheck@v1.30.0 -ignoretests -tags nolibvirt -exclude .errcheck-excludes ./cmd/nixvirt

# Hand-written CUE is cue-formatted (generated schemas are written so).
go run cuelang.org/go/cmd/cue@v0.17.1 fmt --check \
	schemas/config.cue schemas/schemas.cue templates/*.cue examples/*/*.cue

# The Nix layer, as far as Debian's nix-bin can check it (no nixpkgs).
bin=$(mktemp -d)
trap 'rm -rf "$bin"' EXIT
go build -o "$bin/nixvirt-libvirt" ./cmd/nixvirt
go build -tags nolibvirt -o "$bin/nixvirt-cue" ./cmd/nixvirt
go build -o "$bin/nixvirt" ./cmd/nixvirt-front
NIXVIRT="$bin/nixvirt" sh nix/check.sh

# The compiler package compares the whole corpus through CUE; the default
# ten minutes is too close on a loaded machine.
go test -count=1 -timeout 18m ./...
# The Go checker against the exact schema on arbitrary JSON, for a bounded
# time (TestGoCheckerMatchesSchema above covers the goldens and the corpus).
go test -count=1 -run '^$' -fuzz FuzzGoChecker -fuzztime 20s ./compiler
