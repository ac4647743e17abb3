package compiler

import "nixvirt.dev/nixvirt/compiler/gocheck"

// The document kinds and their table are package gocheck's (kind.go
// there), which the build of nixvirt without CUE uses too; the rest of
// nixvirt names them here.

// Kind is a libvirt document kind.
type Kind = gocheck.Kind

// KindInfo is everything nixvirt knows about a kind in one place.
type KindInfo = gocheck.KindInfo

// The kinds.
const (
	KindDomain  = gocheck.KindDomain
	KindNetwork = gocheck.KindNetwork
	KindPool    = gocheck.KindPool
	KindVolume  = gocheck.KindVolume
	KindSecret  = gocheck.KindSecret
)

var (
	// Kinds lists the document kinds in the order apply defines them.
	Kinds = gocheck.Kinds
	// TopLevelKinds are the kinds a connection lists, in apply order.
	TopLevelKinds = gocheck.TopLevelKinds
	// StopOrder is the order in which objects stop and are deleted.
	StopOrder = gocheck.StopOrder
)

// ParseKind checks a --kind flag value.
func ParseKind(s string) (Kind, error) { return gocheck.ParseKind(s) }

// KindOfRoot is the kind of a document from its root element.
func KindOfRoot(root string) (Kind, bool) { return gocheck.KindOfRoot(root) }

// ConnectionFileName is a connection URI as one file name (see
// gocheck.ConnectionFileName).
func ConnectionFileName(uri string) string { return gocheck.ConnectionFileName(uri) }
