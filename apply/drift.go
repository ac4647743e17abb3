package apply

import (
	"nixvirt.dev/nixvirt/compiler"
	"nixvirt.dev/nixvirt/internal/xmldoc"
)

// Drift is a change made to an object nixvirt owns behind its back
// (virsh edit, virt-manager): its mark still says the definition nixvirt
// gave it, but libvirt stores something else. To see it, apply records,
// right after each define, what libvirt stored (the persistent
// definition, normalized as plans show it: without nixvirt's mark,
// device addresses, security labels, and a pool's sizes), in the state
// directory (<connection>.defined.json), keyed by kind and UUID with the
// hash of the definition nixvirt gave. A later plan compares the stored
// definition with that record: a difference is drift, planned as a
// redefine with the configuration's definition (and a restart by the
// entry's policy), its diff going from what libvirt has now to what it
// had after nixvirt's define.
//
// A record whose hash is not the object's mark (another machine's
// nixvirt defined it since) is not compared. An owned object without a
// record (defined by an older nixvirt, or a lost state directory) gets
// one, from what libvirt has, on the next apply that leaves it unchanged.
// A pool's definition is judged with what libvirt adds or rewrites when
// it starts (its target's permissions, from the directory) left aside:
// only what nixvirt's record says that libvirt no longer does is drift.

// definedRecord is what libvirt stored right after nixvirt's define.
type definedRecord struct {
	// Hash is the hash of the definition nixvirt gave (Wanted.Hash).
	Hash string `json:"hash"`
	// Stored is the persistent definition libvirt stored, normalized.
	Stored string `json:"stored"`
	// Raw is the hash of that definition as libvirt wrote it: while
	// libvirt still writes exactly that, it has not drifted, and the plan
	// need not normalize it (most of a no-op plan's work otherwise).
	// Records written before it have none.
	Raw string `json:"raw,omitempty"`
	// ShutdownTimeout is a domain's entry's shutdown timeout (seconds),
	// which the domain is given if it is pruned: by then its entry is
	// gone. nil for other kinds and in records written before it (0 is
	// a timeout: forced off at once).
	ShutdownTimeout *int `json:"shutdownTimeout,omitempty"`
}

// definedAs is the record of what libvirt stored (liveXML) for an object
// nixvirt defined for the entry w.
func definedAs(k compiler.Kind, w *Wanted, liveXML string) definedRecord {
	rec := definedRecord{Hash: w.Hash, Stored: storedForm(k, liveXML), Raw: hashOf(liveXML)}
	if k == compiler.KindDomain {
		timeout := w.ShutdownTimeout
		rec.ShutdownTimeout = &timeout
	}
	return rec
}

// sameRecord: a and b say the same.
func sameRecord(a, b definedRecord) bool {
	at, bt := a.ShutdownTimeout, b.ShutdownTimeout
	a.ShutdownTimeout, b.ShutdownTimeout = nil, nil
	return a == b && (at == nil) == (bt == nil) && (at == nil || *at == *bt)
}

// recordedTimeout is the shutdown timeout recorded for an owned domain
// whose mark's hash is hash; false when there is none (no record, a
// record of another definition, or one written before timeouts were).
func (s *State) recordedTimeout(uri string, uuid, hash string) (int, bool) {
	rec := s.definedOf(uri, compiler.KindDomain, uuid)
	if rec.Hash == "" || rec.Hash != hash || rec.ShutdownTimeout == nil {
		return 0, false
	}
	return *rec.ShutdownTimeout, true
}

type definedFile struct {
	Objects map[string]definedRecord `json:"objects"`
}

func definedKey(k compiler.Kind, uuid string) string { return string(k) + "/" + canonicalUUID(uuid) }

// storedForm is a persistent definition as drift is judged on it: as
// plans show it, and for a pool without its sizes, which change as
// volumes do.
func storedForm(k compiler.Kind, liveXML string) string {
	t, err := xmldoc.Parse([]byte(liveXML))
	if err != nil {
		return liveXML
	}
	normalize(k, t, false)
	if k == compiler.KindPool {
		t.RemoveChildren("capacity", "allocation", "available")
	}
	return t.Render()
}

// loadDefined reads a connection's records once; a file that cannot be
// read is an error naming it.
func (s *State) loadDefined(uri string) (map[string]definedRecord, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.defined == nil {
		s.defined = map[string]map[string]definedRecord{}
	}
	if m, ok := s.defined[uri]; ok {
		return m, nil
	}
	m, err := s.readDefined(uri)
	if err != nil {
		return nil, err
	}
	s.defined[uri] = m
	return m, nil
}

func (s *State) readDefined(uri string) (map[string]definedRecord, error) {
	m := map[string]definedRecord{}
	exists, err := s.checkDir(false)
	if err != nil || !exists {
		return m, err
	}
	name := s.file(uri, ".defined.json")
	var df definedFile
	if err := readStateFile(name, "record", &df, "remove it; the next apply records the definitions anew, and does not see changes made before"); err != nil {
		return nil, err
	}
	for k, v := range df.Objects {
		m[k] = v
	}
	return m, nil
}

// definedOf is the record of an object; Hash is "" when there is none.
func (s *State) definedOf(uri string, k compiler.Kind, uuid string) definedRecord {
	if s == nil {
		return definedRecord{}
	}
	m, err := s.loadDefined(uri)
	if err != nil {
		return definedRecord{}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return m[definedKey(k, uuid)]
}

// setDefined records (rec.Hash != "") or forgets what libvirt stored for
// an object. The connection's records are written by saveDefined, once
// per step of an apply (see saveDefined for why that is safe).
func (s *State) setDefined(uri string, k compiler.Kind, uuid string, rec definedRecord) error {
	if s == nil {
		return nil
	}
	m, err := s.loadDefined(uri)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	key := definedKey(k, uuid)
	if old, ok := m[key]; ok && sameRecord(old, rec) || !ok && rec.Hash == "" {
		return nil
	}
	if rec.Hash == "" {
		delete(m, key)
	} else {
		m[key] = rec
	}
	s.markUnsaved(uri)
	return nil
}

// checkDefined reports whether a connection's records can be read.
func (s *State) checkDefined(uri string) error {
	if s == nil {
		return nil
	}
	_, err := s.loadDefined(uri)
	return err
}

// planDrift compares an owned object that the configuration leaves
// unchanged (its mark's hash is prevHash) with the record of what libvirt
// stored after nixvirt's define. It returns whether it drifted, with the
// diff; needsRecord is true when there is no usable record, for apply to
// write one.
func planDrift(uri string, st *State, k compiler.Kind, l *Live, prevHash string) (drifted bool, before, after string, needsRecord bool) {
	rec := st.definedOf(uri, k, l.UUID)
	if rec.Hash == "" || rec.Hash != prevHash {
		return false, "", "", true
	}
	if rec.Raw != "" && rec.Raw == hashOf(l.XML) {
		return false, "", "", false
	}
	now := storedForm(k, l.XML)
	if now == rec.Stored || k == compiler.KindPool && onlyAdds(withoutLibvirtRewrites(now), withoutLibvirtRewrites(rec.Stored)) {
		return false, "", "", false
	}
	return true, now, rec.Stored, false
}

// onlyAdds reports whether a pool's definition now only adds to the one
// recorded: libvirt fills in a pool's target permissions from its
// directory whenever the pool starts, also when an admin starts it.
func onlyAdds(now, recorded string) bool {
	n, err1 := xmldoc.Parse([]byte(now))
	r, err2 := xmldoc.Parse([]byte(recorded))
	if err1 != nil || err2 != nil {
		return false
	}
	// Both are indented: the spaces between elements are no text.
	trimText(n)
	trimText(r)
	return contains(n, r)
}

// recordDefined records what libvirt stored for an object nixvirt has
// just defined with the definition of hash.
func (ex *executor) recordDefined(c *planned) error {
	x, err := ex.h.Definition(c.Kind, c.wanted.UUID)
	if err != nil {
		return err
	}
	ex.unsaved = append(ex.unsaved, c)
	return ex.st.setDefined(ex.h.URI(), c.Kind, c.wanted.UUID, definedAs(c.Kind, c.wanted, x))
}
