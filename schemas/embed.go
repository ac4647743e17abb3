// Package schemas embeds nixvirt's CUE definitions (#Domain, #Network,
// #Pool, #Volume, #Config) so that the binary is self-contained. The
// *_gen.cue files come from libvirt 11.3's RelaxNG grammars (Debian
// bookworm-backports, fetched by internal/cmd/schemagen/libvirt-rng.sh)
// and libvirtxml; regenerate them with `go generate ./schemas`.
package schemas

import "embed"

//go:generate sh -c "go run ../internal/cmd/schemagen -rng \"$(sh ../internal/cmd/schemagen/libvirt-rng.sh)\" -out . -words ../compiler/gocheck/patternwords_gen.go"
//go:generate go run ../internal/cmd/gocheck -in . -out ../compiler/gocheck/gocheck_gen.go
//go:generate go run ../internal/cmd/fastschema -in . -out ../compiler/fastschema

// Files holds the schema package's CUE sources.
//
//go:embed *.cue
var Files embed.FS
