package gocheck

import (
	"fmt"
	"sort"

	"libvirt.org/go/libvirtxml"
)

// Kind is a libvirt document kind.
type Kind string

const (
	KindDomain  Kind = "domain"
	KindNetwork Kind = "network"
	KindPool    Kind = "pool"
	KindVolume  Kind = "volume"
	KindSecret  Kind = "secret"
)

// KindInfo is everything nixvirt knows about a kind in one place: every
// stage that handles kinds reads this table rather than listing them.
type KindInfo struct {
	Kind Kind
	// Definition is the schema definition of a document ("#Domain"),
	// EntryDefinition that of a #Config entry ("#DomainEntry").
	Definition, EntryDefinition string
	// Root is the root element of the libvirt XML document.
	Root string
	// Plural is the kind's key in a connection of #Config ("domains");
	// volumes sit under their pool's entry.
	Plural string
	// TopLevel: the kind is listed on a connection and defined on its own
	// (volumes belong to a pool).
	TopLevel bool
	// StopRank orders stops and deletions: a domain stops before the
	// networks and pools it uses (volumes are deleted with their pool's
	// steps).
	StopRank int
	// RestartsForChange: a running object takes a new definition or name
	// only when it restarts (a domain, a network); a pool takes them
	// running.
	RestartsForChange bool
	// Metadata: the document has <metadata>, where nixvirt keeps its
	// ownership mark (pools and secrets are recorded in the state
	// directory instead).
	Metadata bool
	// Unnamed: the document has no <name> (a secret is known by its UUID
	// and usage): the entry's key or name is nixvirt's name for it.
	Unnamed bool
	// newDocument returns an empty value of the libvirtxml type.
	newDocument func() libvirtxml.Document
}

// kindTable is in apply order: networks and pools before the volumes in
// them, and all of them and secrets before the domains that use them.
var kindTable = []KindInfo{
	{Kind: KindNetwork, Definition: "#Network", EntryDefinition: "#NetworkEntry", Root: "network", Plural: "networks",
		TopLevel: true, StopRank: 1, RestartsForChange: true, Metadata: true, newDocument: func() libvirtxml.Document { return &libvirtxml.Network{} }},
	{Kind: KindPool, Definition: "#Pool", EntryDefinition: "#PoolEntry", Root: "pool", Plural: "pools",
		TopLevel: true, StopRank: 2, newDocument: func() libvirtxml.Document { return &libvirtxml.StoragePool{} }},
	{Kind: KindVolume, Definition: "#Volume", EntryDefinition: "#VolumeEntry", Root: "volume", Plural: "volumes",
		newDocument: func() libvirtxml.Document { return &libvirtxml.StorageVolume{} }},
	{Kind: KindSecret, Definition: "#Secret", EntryDefinition: "#SecretEntry", Root: "secret", Plural: "secrets",
		TopLevel: true, StopRank: 3, Unnamed: true, newDocument: func() libvirtxml.Document { return &libvirtxml.Secret{} }},
	{Kind: KindDomain, Definition: "#Domain", EntryDefinition: "#DomainEntry", Root: "domain", Plural: "domains",
		TopLevel: true, StopRank: 0, RestartsForChange: true, Metadata: true, newDocument: func() libvirtxml.Document { return &libvirtxml.Domain{} }},
}

// Kinds lists the document kinds in the order apply defines them.
var Kinds = func() []Kind {
	var out []Kind
	for _, i := range kindTable {
		out = append(out, i.Kind)
	}
	return out
}()

// TopLevelKinds are the kinds a connection lists, in apply order
// (networks, pools, secrets, domains).
var TopLevelKinds = func() []Kind {
	var out []Kind
	for _, i := range kindTable {
		if i.TopLevel {
			out = append(out, i.Kind)
		}
	}
	return out
}()

// StopOrder is the order in which objects stop and are deleted (see
// KindInfo.StopRank).
var StopOrder = func() []Kind {
	out := append([]Kind(nil), TopLevelKinds...)
	sort.SliceStable(out, func(i, j int) bool { return out[i].Info().StopRank < out[j].Info().StopRank })
	return out
}()

// Info returns the kind's row of the table.
func (k Kind) Info() KindInfo {
	for _, i := range kindTable {
		if i.Kind == k {
			return i
		}
	}
	panic("unknown kind " + string(k))
}

// Definition is the schema definition of the kind.
func (k Kind) Definition() string { return k.Info().Definition }

// Plural is the kind's key in #Config.
func (k Kind) Plural() string { return k.Info().Plural }

// HasMetadata reports whether the kind's documents have <metadata>.
func (k Kind) HasMetadata() bool { return k.Info().Metadata }

// Order is the kind's rank in apply order: lower is defined first.
func (k Kind) Order() int {
	for n, i := range kindTable {
		if i.Kind == k {
			return n
		}
	}
	return len(kindTable)
}

// ParseKind checks a --kind flag value.
func ParseKind(s string) (Kind, error) {
	for _, k := range Kinds {
		if string(k) == s {
			return k, nil
		}
	}
	return "", fmt.Errorf("unknown kind %q: want domain, network, pool, volume or secret", s)
}

// KindOfRoot is the kind of a document from its root element.
func KindOfRoot(root string) (Kind, bool) {
	for _, i := range kindTable {
		if i.Root == root {
			return i.Kind, true
		}
	}
	return "", false
}

// NewDocument is an empty value of the kind's libvirtxml type.
func NewDocument(k Kind) libvirtxml.Document { return k.Info().newDocument() }
