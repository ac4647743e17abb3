// Package jsondoc holds what every JSON document nixvirt prints shares:
// the format's version and the way it is written. It is its own package,
// free of libvirt, because vet prints one too and vet runs in the build of
// nixvirt that leaves libvirt out.
package jsondoc

import (
	"encoding/json"
	"io"
)

// FormatVersion is the version of the JSON documents of plan, apply,
// status and vet (docs/json.md). A new field raises the minor version; a
// field that is removed or changes meaning raises the major one.
const FormatVersion = "1.1"

// Write writes v indented, without HTML escapes, as every JSON document of
// nixvirt is written.
func Write(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// Vet is the document of vet --output json; P is the type of its errors
// (compiler.Problem). The front build, which links no compiler, writes the
// valid one with P = struct{} and no errors.
type Vet[P any] struct {
	FormatVersion string `json:"format_version"`
	Valid         bool   `json:"valid"`
	Errors        []P    `json:"errors"`
}
