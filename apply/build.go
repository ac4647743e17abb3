package apply

import (
	"fmt"

	"cuelang.org/go/cue"

	"nixvirt.dev/nixvirt/compiler"
)

// Desired is what a configuration wants of each connection.
type Desired struct {
	// Objects are keyed by URI; a connection without objects is there too.
	Objects map[string][]*Wanted
	// Managed are the kinds each connection lists (not absent, not null):
	// only those are pruned.
	Managed map[string]map[compiler.Kind]bool
}

// Build compiles a checked configuration (u, and its objects) into what
// each of its connections should have.
func Build(s *compiler.Schema, u cue.Value, objs []compiler.Object) (*Desired, error) {
	d := &Desired{Objects: map[string][]*Wanted{}, Managed: map[string]map[compiler.Kind]bool{}}
	for _, uri := range compiler.Connections(u) {
		d.Objects[uri] = []*Wanted{}
		d.Managed[uri] = map[compiler.Kind]bool{}
		for _, k := range compiler.Managed(u, uri) {
			d.Managed[uri][k] = true
		}
	}
	out := d.Objects
	pools := map[string]*Wanted{} // uri + "\x00" + pool name
	for _, o := range objs {
		docXML, err := s.Compile(o)
		if err != nil {
			return nil, err
		}
		if o.Kind == compiler.KindVolume {
			p := pools[o.Connection+"\x00"+o.Pool]
			if p == nil {
				return nil, fmt.Errorf("%s: volume %q: pool %q is not in the configuration", o.Connection, o.Name, o.Pool)
			}
			present := true
			if b, ok := boolField(o.Entry, "present"); ok {
				present = *b
			}
			if present && docXML == "" {
				return nil, fmt.Errorf("%s: volume %q of pool %q has no definition to create it from", o.Connection, o.Name, o.Pool)
			}
			p.Volumes = append(p.Volumes, WantedVolume{Name: o.Name, Present: present, XML: docXML})
			continue
		}
		if o.Absent {
			w := &Wanted{Kind: o.Kind, Name: o.Name, Absent: true, KeepNvram: true, KeepTPM: true, ShutdownTimeout: 60}
			if b, ok := boolField(o.Entry, "keepNvram"); ok {
				w.KeepNvram = *b
			}
			if b, ok := boolField(o.Entry, "keepTpm"); ok {
				w.KeepTPM = *b
			}
			out[o.Connection] = append(out[o.Connection], w)
			continue
		}
		name, uuid, prepared, err := prepare(o.Connection, o.Kind, docXML)
		if err != nil {
			return nil, fmt.Errorf("%s: %s %q: %v", o.Connection, o.Kind, o.Name, err)
		}
		w := &Wanted{Kind: o.Kind, Name: name, UUID: uuid, Hash: hashOf(prepared), Definition: prepared, UserXML: docXML, ShutdownTimeout: 60}
		w.XML, err = withMark(o.Kind, prepared, w.Hash)
		if err != nil {
			return nil, err
		}
		w.Active, _ = boolField(o.Entry, "active")
		w.Restart, _ = boolField(o.Entry, "restart")
		w.Autostart, _ = boolField(o.Entry, "autostart")
		if t := o.Entry.LookupPath(cue.ParsePath("shutdownTimeout")); t.Exists() {
			if n, err := t.Int64(); err == nil {
				w.ShutdownTimeout = int(n)
			}
		}
		if o.Kind == compiler.KindPool {
			pools[o.Connection+"\x00"+o.Name] = w
		}
		out[o.Connection] = append(out[o.Connection], w)
	}
	return d, nil
}

// boolField reads an optional bool (or null) of an entry.
func boolField(entry cue.Value, name string) (*bool, bool) {
	v := entry.LookupPath(cue.ParsePath(name))
	if !v.Exists() {
		return nil, false
	}
	v, _ = v.Default()
	b, err := v.Bool()
	if err != nil {
		return nil, false // null: leave as is
	}
	return &b, true
}
