// Package schemas embeds nixvirt's CUE definitions (#Domain, #Network,
// #Pool, #Volume, #Config) so that the binary is self-contained. The
// *_gen.cue files come from libvirt's RelaxNG grammars; regenerate them
// with `go generate ./schemas`.
package schemas

import "embed"

//go:generate go run ../internal/cmd/schemagen -rng /usr/share/libvirt/schemas -out .

// Files holds the schema package's CUE sources.
//
//go:embed *.cue
var Files embed.FS
