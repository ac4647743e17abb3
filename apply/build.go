package apply

import (
	"fmt"

	"nixvirt.dev/nixvirt/compiler"
)

// Desired is what a configuration wants of each connection.
type Desired struct {
	// Objects are keyed by URI; a connection without objects is there too.
	Objects map[string][]*Wanted
	// Managed are the kinds each connection lists (not absent, not null):
	// only those are pruned.
	Managed map[string]map[compiler.Kind]bool
	// Owner is the configuration's owner: it prunes, redefines and stops
	// only objects marked as its own.
	Owner string
	// ShutdownTimeout is each connection's: how long a domain that is
	// pruned is given to shut down.
	ShutdownTimeout map[string]int
}

// Build compiles a decoded configuration into what each of its
// connections should have. A configuration that names no owner has
// DefaultOwner.
func Build(s *compiler.Schema, cfg *compiler.Config) (*Desired, error) {
	d := &Desired{Objects: map[string][]*Wanted{}, Managed: map[string]map[compiler.Kind]bool{},
		Owner: cfg.Owner, ShutdownTimeout: map[string]int{}}
	if d.Owner == "" {
		d.Owner = DefaultOwner
	}
	for _, c := range cfg.Connections {
		d.Objects[c.URI] = []*Wanted{}
		d.ShutdownTimeout[c.URI] = c.ShutdownTimeout
		d.Managed[c.URI] = map[compiler.Kind]bool{}
		for _, k := range c.Managed {
			d.Managed[c.URI][k] = true
		}
	}
	out := d.Objects
	pools := map[string]*Wanted{} // uri + "\x00" + pool name
	for _, o := range cfg.Objects {
		docXML, err := s.Compile(o)
		if err != nil {
			return nil, err
		}
		e := o.Entry
		if o.Kind == compiler.KindVolume {
			p := pools[o.Connection+"\x00"+o.Pool]
			if p == nil {
				return nil, fmt.Errorf("%s: volume %q: pool %q is not in the configuration", o.Connection, o.Name, o.Pool)
			}
			if e.Present && docXML == "" {
				return nil, fmt.Errorf("%s: volume %q of pool %q has no definition to create it from", o.Connection, o.Name, o.Pool)
			}
			p.Volumes = append(p.Volumes, WantedVolume{Name: o.Name, Present: e.Present, XML: docXML,
				Content: e.Content, Replace: e.Replace, Capacity: volumeCapacity(docXML)})
			continue
		}
		if e.Present && e.CloudInit != nil {
			if docXML, err = addSeed(o, docXML, pools); err != nil {
				return nil, err
			}
		}
		if !e.Present {
			w := &Wanted{Kind: o.Kind, Name: o.Name, Absent: true, KeepNvram: e.KeepNvram, KeepTPM: e.KeepTPM, ShutdownTimeout: e.ShutdownTimeout}
			out[o.Connection] = append(out[o.Connection], w)
			continue
		}
		if o.Kind == compiler.KindSecret {
			w, err := wantedSecret(o.Connection, o, docXML, d.Owner)
			if err != nil {
				return nil, err
			}
			out[o.Connection] = append(out[o.Connection], w)
			continue
		}
		name, uuid, prepared, err := prepare(o.Connection, o.Kind, docXML)
		if err != nil {
			return nil, fmt.Errorf("%s: %s %q: %v", o.Connection, o.Kind, o.Name, err)
		}
		w := &Wanted{Kind: o.Kind, Name: name, UUID: uuid, Owner: d.Owner, Hash: hashOf(prepared), Definition: prepared, UserXML: docXML,
			Active: e.Active, Restart: e.Restart, Autostart: e.Autostart, ShutdownTimeout: e.ShutdownTimeout, WaitFor: e.WaitFor, Live: e.Live}
		w.XML, err = withMark(o.Kind, prepared, w.Hash, w.Owner, w.UUID)
		if err != nil {
			return nil, err
		}
		if o.Kind == compiler.KindPool {
			pools[o.Connection+"\x00"+o.Name] = w
		}
		out[o.Connection] = append(out[o.Connection], w)
	}
	return d, nil
}

// addSeed builds a domain's cloud-init seed as a volume of its pool,
// which the configuration must list on the same connection, and attaches
// it to the domain's definition as a read-only CD-ROM.
func addSeed(o compiler.Object, docXML string, pools map[string]*Wanted) (string, error) {
	ci := o.Entry.CloudInit
	p := pools[o.Connection+"\x00"+ci.Pool]
	if p == nil {
		return "", fmt.Errorf("%s: domain %q: cloudInit.pool %q is not a pool of this connection in the configuration (nixvirt keeps the seed in a pool it manages)", o.Connection, o.Name, ci.Pool)
	}
	seed, err := buildSeed(o.Name, ci)
	if err != nil {
		return "", fmt.Errorf("%s: domain %q: %v", o.Connection, o.Name, err)
	}
	for _, v := range p.Volumes {
		if v.Name == seed.Name {
			return "", fmt.Errorf("%s: domain %q: pool %q declares volume %q, which is where nixvirt keeps the domain's cloud-init seed", o.Connection, o.Name, ci.Pool, seed.Name)
		}
	}
	p.Volumes = append(p.Volumes, seed)
	return withSeedDisk(docXML, ci.Pool, seed.Name)
}
