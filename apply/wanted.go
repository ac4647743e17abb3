package apply

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"regexp"
	"strings"

	"libvirt.org/go/libvirtxml"

	"nixvirt.dev/nixvirt/compiler"
)

// markNS is the namespace of nixvirt's ownership mark in <metadata>.
const markNS = "https://nixvirt.dev/xmlns/managed/1"

// Wanted is one object of the configuration, ready to compare and define.
type Wanted struct {
	Kind compiler.Kind
	Name string
	UUID string
	// Owner is the configuration's owner, which the mark records.
	Owner string
	// XML is the definition with the filled-in UUID and MACs and, for
	// domains and networks, nixvirt's ownership mark.
	XML string
	// Definition is XML without the mark: what the mark records.
	Definition string
	// UserXML is the definition as compiled, before nixvirt fills in a
	// UUID or MACs: what an object nixvirt does not own is compared with.
	UserXML string
	// Hash identifies the definition (without the mark): an owned object
	// whose mark has this hash is unchanged.
	Hash string

	Active          *bool // nil: leave as is
	Restart         *bool // nil: only when the definition changed
	Autostart       *bool // nil: leave as is
	ShutdownTimeout int   // seconds
	// Live: changes libvirt can make to the running object are made to it
	// and to its definition together (see livechanges.go).
	Live bool

	Volumes []WantedVolume // pools only

	// WaitFor is what apply waits for after starting a domain; nil for
	// nothing.
	WaitFor *compiler.WaitFor

	// SecretValue says where a secret's value comes from; nil for none.
	SecretValue *compiler.SecretValue

	// Absent: the entry says present: false; the object is deleted if
	// nixvirt owns it. Removing a domain keeps NVRAM and TPM state unless
	// KeepNvram or KeepTPM is false.
	Absent    bool
	KeepNvram bool
	KeepTPM   bool
}

// WantedVolume is one volume entry of a pool.
type WantedVolume struct {
	Name    string
	Present bool
	XML     string // "" when the entry only says present: false
	// Content is the declared content, nil for none; Replace lets apply
	// recreate the volume when its recorded content differs.
	Content *compiler.Content
	Replace bool
	// Capacity is the declared capacity in bytes, 0 for none.
	Capacity uint64
	// Seed is set for a domain's cloud-init seed, which nixvirt adds to
	// the pool.
	Seed *seedVolume
}

// prepare fills in what the user may leave out and libvirt would choose
// differently on every define: the UUID (derived from the connection and
// name) and, as NixVirt does, each interface's MAC (derived from the UUID
// and the interface's index), so that a definition is stable across runs.
func prepare(uri string, k compiler.Kind, docXML string) (name, uuid, out string, err error) {
	switch k {
	case compiler.KindDomain:
		var d libvirtxml.Domain
		if err = d.Unmarshal(docXML); err != nil {
			return
		}
		if d.UUID == "" {
			d.UUID = derivedUUID(uri, k, d.Name)
		}
		if d.Devices != nil {
			for i := range d.Devices.Interfaces {
				iface := &d.Devices.Interfaces[i]
				if iface.MAC == nil || iface.MAC.Address == "" {
					iface.MAC = &libvirtxml.DomainInterfaceMAC{Address: derivedMAC(d.UUID, uint32(i))}
				}
			}
		}
		name, uuid = d.Name, d.UUID
		out, err = d.Marshal()
	case compiler.KindNetwork:
		var n libvirtxml.Network
		if err = n.Unmarshal(docXML); err != nil {
			return
		}
		if n.UUID == "" {
			n.UUID = derivedUUID(uri, k, n.Name)
		}
		mode := ""
		if n.Forward != nil {
			mode = n.Forward.Mode
		}
		if n.MAC == nil && (mode == "" || mode == "nat" || mode == "route") {
			n.MAC = &libvirtxml.NetworkMAC{Address: derivedMAC(n.UUID, 0)}
		}
		name, uuid = n.Name, n.UUID
		out, err = n.Marshal()
	case compiler.KindPool:
		var p libvirtxml.StoragePool
		if err = p.Unmarshal(docXML); err != nil {
			return
		}
		if p.UUID == "" {
			p.UUID = derivedUUID(uri, k, p.Name)
		}
		name, uuid = p.Name, p.UUID
		out, err = p.Marshal()
	}
	uuid = canonicalUUID(uuid)
	return
}

// derivedMAC is NixVirt's: 52:54:00 and the first three bytes of
// sha256(UUID bytes, index as 4 bytes big-endian).
func derivedMAC(uuid string, index uint32) string {
	raw, _ := hex.DecodeString(strings.ReplaceAll(uuid, "-", ""))
	h := sha256.New()
	h.Write(raw)
	h.Write([]byte{byte(index >> 24), byte(index >> 16), byte(index >> 8), byte(index)})
	b := h.Sum(nil)
	return fmt.Sprintf("52:54:00:%02x:%02x:%02x", b[0], b[1], b[2])
}

// derivedUUID is a stable UUID (version 5 layout) for an object the user
// gave no UUID, so that its identity does not change between runs.
func derivedUUID(uri string, k compiler.Kind, name string) string {
	b := sha256.Sum256([]byte("nixvirt\x00" + uri + "\x00" + string(k) + "\x00" + name))
	b[6] = b[6]&0x0f | 0x50
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// canonicalUUID is a UUID in lower case with its dashes: plans compare
// UUIDs as libvirt writes them, and as users may (32 hex digits).
func canonicalUUID(u string) string {
	u = strings.ToLower(u)
	if len(u) == 32 && strings.Trim(u, "0123456789abcdef") == "" {
		return u[0:8] + "-" + u[8:12] + "-" + u[12:16] + "-" + u[16:20] + "-" + u[20:32]
	}
	return u
}

func hashOf(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:16])
}

// mark is nixvirt's ownership element: the owner (the configuration
// that defined the object) and the object's own UUID, so that a copy
// carrying the mark is not taken for the original (see holderOf); the
// hash of the definition nixvirt gave the object, and that definition, so
// that a later plan can show what changed in the user's terms rather than
// against libvirt's expanded XML.
type mark struct {
	XMLName    xml.Name `xml:"https://nixvirt.dev/xmlns/managed/1 managed"`
	Owner      string   `xml:"owner,attr,omitempty"`
	UUID       string   `xml:"uuid,attr,omitempty"`
	Hash       string   `xml:"hash,attr"`
	Definition string   `xml:",chardata"`
}

// withMark adds the ownership mark to a domain's or network's metadata.
func withMark(k compiler.Kind, docXML, hash, owner, uuid string) (string, error) {
	var esc strings.Builder
	xml.EscapeText(&esc, []byte(docXML))
	m := fmt.Sprintf(`<nixvirt:managed xmlns:nixvirt=%q owner=%q uuid=%q hash=%q>%s</nixvirt:managed>`, markNS, owner, uuid, hash, esc.String())
	switch k {
	case compiler.KindDomain:
		var d libvirtxml.Domain
		if err := d.Unmarshal(docXML); err != nil {
			return "", err
		}
		if d.Metadata == nil {
			d.Metadata = &libvirtxml.DomainMetadata{}
		}
		d.Metadata.XML = stripMark(d.Metadata.XML) + m
		return d.Marshal()
	case compiler.KindNetwork:
		var n libvirtxml.Network
		if err := n.Unmarshal(docXML); err != nil {
			return "", err
		}
		if n.Metadata == nil {
			n.Metadata = &libvirtxml.NetworkMetadata{}
		}
		n.Metadata.XML = stripMark(n.Metadata.XML) + m
		return n.Marshal()
	}
	return docXML, nil
}

var markRE = regexp.MustCompile(`(?s)<([A-Za-z0-9_.-]+:)?managed\b[^>]*` + regexp.QuoteMeta(markNS) + `[^>]*?(/>|>.*?</([A-Za-z0-9_.-]+:)?managed>)`)

func stripMark(metadata string) string { return markRE.ReplaceAllString(metadata, "") }

// markOf reads the ownership mark of a live domain or network: its hash,
// or "" when nixvirt does not own the object.
func markOf(k compiler.Kind, liveXML string) string {
	return readMark(k, liveXML).Hash
}

// readMark reads the whole mark; its Hash is "" when there is none.
//
// It finds the mark in the text rather than decoding the whole
// definition, which every plan does for every object of the host: in
// XML as libvirt writes it, a raw "<" only ever starts a tag (the mark's
// own definition, and any text, has it escaped), and only <metadata>
// holds elements of other namespaces, so the first element in nixvirt's
// namespace is the mark, in <metadata>.
func readMark(k compiler.Kind, liveXML string) mark {
	if k != compiler.KindDomain && k != compiler.KindNetwork {
		return mark{}
	}
	// Each mention of the namespace in turn: another element (of another
	// namespace, named managed too) may mention it before the mark.
	for from := 0; ; {
		i := strings.Index(liveXML[from:], markNS)
		if i < 0 {
			return mark{}
		}
		i += from
		if m, ok := readMarkFast(liveXML, i); ok {
			return m
		}
		if m, ok := readMarkAt(liveXML, i); ok {
			return m
		}
		from = i + len(markNS)
	}
}

// readMarkAt decodes the mark that the mention of nixvirt's namespace at
// i belongs to: from the tag that holds it (the mark itself, or an
// element that declares the prefix around it), the first element named
// managed that mentions the namespace, decoded by encoding/xml.
func readMarkAt(liveXML string, i int) (mark, bool) {
	start := max(strings.LastIndexByte(liveXML[:i], '<'), 0)
	found := markRE.FindString(liveXML[start:])
	var m mark
	if found == "" || xml.Unmarshal([]byte(found), &m) != nil {
		return mark{}, false
	}
	return m, true
}
