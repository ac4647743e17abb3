// Package templates embeds nixvirt's CUE templates (#PC, #Q35, #Linux,
// #Windows, #Bridge) so that user packages can import
// "nixvirt.dev/nixvirt/templates" with no registry; see args.cue for how
// a template is called.
package templates

import "embed"

// Files holds the template package's CUE sources.
//
//go:embed *.cue
var Files embed.FS
