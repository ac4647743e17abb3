package apply

import (
	"fmt"

	"cuelang.org/go/cue"

	"nixvirt.dev/nixvirt/compiler"
)

// Build compiles the objects of a checked configuration into what each
// of its connections should have, keyed by URI; a connection without
// objects is there too, empty.
func Build(s *compiler.Schema, uris []string, objs []compiler.Object) (map[string][]*Wanted, error) {
	out := map[string][]*Wanted{}
	for _, u := range uris {
		out[u] = nil
	}
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
	return out, nil
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
