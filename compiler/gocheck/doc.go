// Package gocheck is the path of valid JSON input through nixvirt without
// CUE: the Go checker (the schema's grammar as generated tables, walked
// over a JSON document), the JSON reader it walks, the XML tree it writes
// through libvirtxml, and the document kinds and entry settings it
// decodes. Package compiler uses it for its fast path and adds CUE around
// it (CUE that evaluates to plain values, and the exact schema, which
// decides whatever this package is not sure of).
//
// It is a package of its own, importing no cuelang.org/go package, so
// that a program can vet and export JSON without linking cue: Go's
// initialisation of cue's dependencies (decimal constants, protocol
// buffer descriptors, the OCI registry client…) and the pages it touches
// cost a process more than checking one document does. The `nixvirt`
// command that is installed (cmd/nixvirt-front) is such a program;
// TestFrontImportsNoCUE keeps it so.
package gocheck
