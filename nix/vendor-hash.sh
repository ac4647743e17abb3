#!/bin/sh
# Prints the vendorHash of the flake's buildGoModule: the NAR hash of the
# vendor directory `go mod vendor` makes, which is what nixpkgs' goModules
# derivation produces. CI checks that nix/package.nix carries it.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp "$root/go.mod" "$root/go.sum" "$work/"
# go mod vendor vendors what the packages import: copy the Go sources.
(cd "$root" && find . -name "*.go" -not -path "./vendor/*" -print0 | tar -cf - --null -T -) | tar -C "$work" -xf -
(cd "$work" && GOFLAGS=-mod=mod GOTOOLCHAIN=local go mod vendor)
nix --extra-experimental-features nix-command hash path "$work/vendor"
