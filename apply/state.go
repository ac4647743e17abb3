package apply

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"nixvirt.dev/nixvirt/compiler"
	"nixvirt.dev/nixvirt/internal/xmldoc"
)

// State is nixvirt's record of what it owns where libvirt keeps no
// metadata: storage pools. It lives in a directory on the machine that
// runs nixvirt (StateDir), one file per connection.
//
// The directory decides what nixvirt deletes and is written by root during
// activation, so it must be the user's alone: one owned by another user or
// writable by others is refused, files are created without following
// symbolic links, and a record that cannot be read is an error, never an
// empty record.
type State struct {
	dir   string
	mu    sync.Mutex
	pools map[string]map[string]poolRecord   // uri → pool UUID → record
	vols  map[string]map[string]volumeRecord // uri → volumeKey → record (volumes.go)
	errs  map[string]error                   // uri → why its record cannot be read
	// defined are the records of what libvirt stored after each define
	// (drift.go), by uri; unsavedDefined the connections whose records
	// changed since saveDefined last wrote them.
	defined        map[string]map[string]definedRecord
	unsavedDefined map[string]bool

	// secrets are the secrets nixvirt defined (secrets.go): uri → secret
	// UUID → record.
	secrets map[string]map[string]secretRecord

	// owners is the owners directory (OwnersDir, claims.go), ownersNamed
	// whether $NIXVIRT_OWNERS_DIR or a test named it; claimed the claims
	// read, by uri.
	owners      string
	ownersNamed bool
	claimed     map[string]map[string]claim
	others      map[string]recordsElsewhere
	// claimsLocked are the connections whose claims lock an apply holds
	// (lockClaims).
	claimsLocked map[string]bool

	// unsavedVolumes are the connections whose volume records changed
	// since the record was last written, lastSave when that was, and
	// flushEvery how old that write may be when a volume is filled before
	// the fill is written at once (setVolume); saves counts the writes.
	unsavedVolumes map[string]bool
	lastSave       map[string]time.Time
	flushEvery     time.Duration
	saves          int
}

// poolRecord is what nixvirt gave a pool it owns.
type poolRecord struct {
	// Owner is the configuration that defined the pool; records written
	// before owners existed have none and are DefaultOwner's.
	Owner      string `json:"owner,omitempty"`
	Hash       string `json:"hash"`
	Definition string `json:"definition"`
	// Previous is the definition the pool had when nixvirt wrote the
	// record, just before it gave libvirt Definition (recordPoolFirst):
	// until the record is written again, the pool is nixvirt's with
	// either.
	Previous string `json:"previous,omitempty"`
}

// StateDir is where the state and the locks live: $NIXVIRT_STATE_DIR,
// else /var/lib/nixvirt for root, else $XDG_STATE_HOME/nixvirt.
func StateDir() string {
	if d := os.Getenv("NIXVIRT_STATE_DIR"); d != "" {
		return d
	}
	if os.Geteuid() == 0 {
		return "/var/lib/nixvirt"
	}
	if d := os.Getenv("XDG_STATE_HOME"); d != "" {
		return filepath.Join(d, "nixvirt")
	}
	home, _ := os.UserHomeDir()
	return filepath.Join(home, ".local", "state", "nixvirt")
}

// OpenState reads the state under dir.
func OpenState(dir string) *State {
	return &State{dir: dir, pools: map[string]map[string]poolRecord{}, vols: map[string]map[string]volumeRecord{}, errs: map[string]error{},
		secrets: map[string]map[string]secretRecord{}, owners: OwnersDir(), ownersNamed: os.Getenv("NIXVIRT_OWNERS_DIR") != "",
		unsavedVolumes: map[string]bool{}, lastSave: map[string]time.Time{}, flushEvery: time.Second}
}

func (s *State) file(uri, ext string) string {
	return filepath.Join(s.dir, compiler.ConnectionFileName(uri)+ext)
}

type stateFile struct {
	// Pools maps a pool UUID to the definition nixvirt gave it.
	Pools map[string]poolRecord `json:"pools"`
	// Volumes maps a pool UUID and volume name to what nixvirt put in
	// the volume (see volumeRecord).
	Volumes map[string]volumeRecord `json:"volumes,omitempty"`
	// Secrets maps a secret's UUID to what nixvirt gave it.
	Secrets map[string]secretRecord `json:"secrets,omitempty"`
}

// checkDir refuses a state directory that another user could write in, or
// that is not the current user's: either would let someone else decide
// what nixvirt deletes, or plant a symbolic link that root writes through.
// create makes it (mode 0700) when it is missing.
func (s *State) checkDir(create bool) (exists bool, err error) {
	fi, err := os.Lstat(s.dir)
	if os.IsNotExist(err) && create {
		if err = os.MkdirAll(s.dir, 0o700); err != nil {
			return false, fmt.Errorf("cannot create the state directory: %v", err)
		}
		fi, err = os.Lstat(s.dir)
	}
	if os.IsNotExist(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("state directory %s: %v", s.dir, err)
	}
	if fi.Mode()&os.ModeSymlink != 0 {
		// A link the user made on purpose (e.g. onto another disk) is
		// judged by where it leads.
		if fi, err = os.Stat(s.dir); err != nil {
			return false, fmt.Errorf("state directory %s: %v", s.dir, err)
		}
	}
	if !fi.IsDir() {
		return false, fmt.Errorf("state directory %s is not a directory", s.dir)
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && int(st.Uid) != os.Geteuid() {
		return false, fmt.Errorf("state directory %s belongs to user %d, not to this user (%d): refusing to trust it; give nixvirt its own directory ($NIXVIRT_STATE_DIR)", s.dir, st.Uid, os.Geteuid())
	}
	if fi.Mode().Perm()&0o022 != 0 {
		return false, fmt.Errorf("state directory %s is writable by other users (mode %04o): refusing to trust it; chmod go-w %s", s.dir, fi.Mode().Perm(), s.dir)
	}
	return true, nil
}

// load reads a connection's record once. A record that cannot be read or
// parsed is an error naming the file: read as empty, it would make every
// pool nixvirt owns look like someone else's.
func (s *State) load(uri string) (map[string]poolRecord, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if p, ok := s.pools[uri]; ok {
		return p, s.errs[uri]
	}
	sf, err := s.read(uri)
	if sf.Pools == nil {
		sf.Pools = map[string]poolRecord{}
	}
	if sf.Volumes == nil {
		sf.Volumes = map[string]volumeRecord{}
	}
	if sf.Secrets == nil {
		sf.Secrets = map[string]secretRecord{}
	}
	s.pools[uri], s.vols[uri], s.errs[uri] = sf.Pools, sf.Volumes, err
	s.secrets[uri] = sf.Secrets
	return sf.Pools, err
}

func (s *State) read(uri string) (stateFile, error) {
	exists, err := s.checkDir(false)
	if err != nil || !exists {
		return stateFile{}, err
	}
	name := s.file(uri, ".json")
	var sf stateFile
	if err := readStateFile(name, "record", &sf, "restore it, or remove it to make nixvirt forget which pools it defined"); err != nil {
		return stateFile{}, err
	}
	for uuid, rec := range sf.Pools {
		if rec.Hash == "" || rec.Definition == "" {
			return stateFile{}, fmt.Errorf("nixvirt's record %s is corrupt (pool %s has no hash or definition): restore it, or remove it to make nixvirt forget which pools it defined", name, uuid)
		}
	}
	for uuid, rec := range sf.Secrets {
		if rec.Hash == "" || rec.Definition == "" || rec.Name == "" {
			return stateFile{}, fmt.Errorf("nixvirt's record %s is corrupt (secret %s has no name, hash or definition): restore it, or remove it to make nixvirt forget which secrets it defined", name, uuid)
		}
	}
	for key, rec := range sf.Volumes {
		if rec.Content == "" {
			return stateFile{}, fmt.Errorf("nixvirt's record %s is corrupt (volume %s has no content digest): restore it, or remove it to make nixvirt forget what it put in its volumes", name, key)
		}
	}
	return sf, nil
}

// check reports whether a connection's record can be read; plan and apply
// stop on it before anything else.
func (s *State) check(uri string) error {
	if s == nil {
		return nil
	}
	_, err := s.load(uri)
	return err
}

func (s *State) pool(uri, uuid string) poolRecord {
	pools, _ := s.load(uri)
	s.mu.Lock()
	defer s.mu.Unlock()
	return pools[canonicalUUID(uuid)]
}

// ownsPool reports whether nixvirt owns a live pool. A pool carries no
// mark of its own, so the record stands for it only when the pool is the
// one recorded: the same UUID and name, and still the definition nixvirt
// gave it, but for what libvirt itself rewrites (withoutLibvirtRewrites).
// A record for a pool nixvirt did not define, or one changed since in
// anything else (its type, source or target directory), never makes
// nixvirt delete or redefine it as its own.
func (s *State) ownsPool(uri string, l *Live) bool {
	rec := s.pool(uri, l.UUID)
	if rec.Hash == "" {
		return false
	}
	return isPool(l, rec.Definition) || rec.Previous != "" && isPool(l, rec.Previous)
}

// poolAsRecorded is the hash and definition nixvirt last gave a pool it
// owns. A record still naming the pool's previous definition was written
// by an apply killed around the define (recordPoolFirst); unless libvirt
// has the new definition as it was given (the pool has not started since,
// so nothing is rewritten), the pool has no hash: its definition is still
// to be given.
func (s *State) poolAsRecorded(uri string, l *Live) (hash, definition string) {
	rec := s.pool(uri, l.UUID)
	if rec.Previous == "" || sameDefinition(compiler.KindPool, l.XML, rec.Definition) {
		return rec.Hash, rec.Definition
	}
	return "", rec.Previous
}

// isPool reports whether a live pool is the one a definition describes:
// the same name and UUID, and nothing else different but what libvirt
// rewrites.
func isPool(l *Live, definition string) bool {
	var def struct {
		Name string `xml:"name"`
		UUID string `xml:"uuid"`
	}
	if xml.Unmarshal([]byte(definition), &def) != nil {
		return false
	}
	return def.Name == l.Name && canonicalUUID(def.UUID) == canonicalUUID(l.UUID) &&
		sameAsDefined(compiler.KindPool, l.XML, definition)
}

// recordPoolFirst records a pool as nixvirt's before libvirt gets its new
// definition, so that an apply killed at any point after the define
// leaves it nixvirt's; the record names the definition the pool has
// until then too (Previous), so that it stays nixvirt's when the apply is
// killed before. It returns the record it replaced, for
// putBackPoolRecord.
func (ex *executor) recordPoolFirst(c *planned) (poolRecord, error) {
	uri, w := ex.h.URI(), c.wanted
	prev := ex.st.pool(uri, w.UUID)
	rec := poolRecord{Owner: w.Owner, Hash: w.Hash, Definition: w.Definition}
	if c.live != nil {
		rec.Previous = c.live.XML
	}
	return prev, ex.st.setPool(uri, w.UUID, rec)
}

// putBackPoolRecord puts back the record recordPoolFirst replaced, once
// libvirt refused the pool's new definition (or nixvirt did not give it).
func (ex *executor) putBackPoolRecord(c *planned, written bool, prev poolRecord) {
	if !written {
		return
	}
	if err := ex.st.setPool(ex.h.URI(), c.wanted.UUID, prev); err != nil {
		ex.addFailure(c, "putting back nixvirt's record of the pool", err)
	}
}

// sameAsDefined compares an object's live definition with one nixvirt
// gave it, as sameDefinition does, leaving aside what libvirt rewrites in
// a pool's (withoutLibvirtRewrites): a pool that differs only there is
// as nixvirt defined it, and redefining it would change nothing.
func sameAsDefined(k compiler.Kind, liveXML, defXML string) bool {
	if k == compiler.KindPool {
		liveXML, defXML = withoutLibvirtRewrites(liveXML), withoutLibvirtRewrites(defXML)
	}
	return sameDefinition(k, liveXML, defXML)
}

// withoutLibvirtRewrites is a pool's definition without its target's
// permissions: whenever the pool starts (also when an admin starts it),
// libvirt writes the directory's mode, owner and group into the
// persistent definition over the ones it was given, so they cannot tell
// whether the pool is still the one nixvirt defined. A definition that
// cannot be parsed is returned as it is, and then matches nothing.
func withoutLibvirtRewrites(def string) string {
	t, err := xmldoc.Parse([]byte(def))
	if err != nil {
		return def
	}
	if target := t.Child("target"); target != nil {
		target.RemoveChildren("permissions")
	}
	return t.Render()
}

// setPool records (rec.Hash != "") or forgets a pool, and saves the state
// at once, so that an interrupted apply keeps what it did.
func (s *State) setPool(uri, uuid string, rec poolRecord) error {
	pools, err := s.load(uri)
	if err != nil {
		return err
	}
	if rec.Hash != "" {
		if err := s.claimObject(uri, compiler.KindPool, uuid, rec.Owner); err != nil {
			return err
		}
	}
	s.mu.Lock()
	if rec.Hash == "" {
		delete(pools, canonicalUUID(uuid))
	} else {
		pools[canonicalUUID(uuid)] = rec
	}
	err = s.save(uri)
	s.mu.Unlock()
	if err == nil && rec.Hash == "" {
		err = s.releaseObject(uri, compiler.KindPool, uuid)
	}
	return err
}

// save writes a connection's record; the caller holds s.mu and has
// loaded it.
func (s *State) save(uri string) error {
	if _, err := s.checkDir(true); err != nil {
		return err
	}
	data, _ := json.MarshalIndent(stateFile{Pools: s.pools[uri], Volumes: s.vols[uri], Secrets: s.secrets[uri]}, "", "  ")
	if err := writeFileAtomic(s.file(uri, ".json"), append(data, '\n')); err != nil {
		return err
	}
	s.saves++
	s.lastSave[uri] = time.Now()
	delete(s.unsavedVolumes, uri)
	return nil
}

// saveVolumes writes a connection's record when volume records changed
// since it was last written.
func (s *State) saveVolumes(uri string) error {
	if s == nil {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.unsavedVolumes[uri] {
		return nil
	}
	return s.save(uri)
}

// What nixvirt must never lose is the record that makes an object it
// created its own: lost, the object would be nobody's, and nixvirt would
// neither recognise nor prune it. Domains and networks carry that record
// themselves (nixvirt's mark, in the definition libvirt stores with the
// define). Pools and secrets carry nothing: their record (setPool,
// setSecret) is written and synced before libvirt gets a definition that
// the old record would not recognise (a new pool or secret, any new
// definition of a pool, a secret defined again with another usage), and
// the old record is put back when libvirt refuses it. Each of these
// writes the connection's whole record, as they come: they are one per
// pool or secret. (This is the invariant
// TestKilledAroundDefineLosesNoPoolOrSecret and
// TestKilledBeforeRecordsAreWrittenLosesNoDomain check.)
//
// Volume content digests are recorded once a volume is filled: recorded
// before, a volume whose filling was cut short would pass for complete.
// They are written with the step's other records (saveVolumes), not one
// write of the whole record per volume, which made a pool of 300 cloned
// volumes take 1.8 s rather than 0.05 s; but a fill is written at once
// when the record was last written more than flushEvery (a second) ago, so
// that an apply killed among long uploads loses the digests of at most a
// second's fills, and each upload longer than that is written as before.
// A filled volume whose digest was lost is never overwritten: the next
// plan says it holds content nixvirt did not record (replace: true fills
// it again). Forgetting the records of deleted volumes waits for the step
// too: one left by a kill names a volume that is gone.
//
// The records of what libvirt stored after each define (drift.go) are only
// the point from which drift is judged, and are many: one per object, so
// that writing the whole file for each object would make an apply of n new
// objects write n files of up to n records. They are kept in memory and
// written once per step of an apply (saveDefined). An apply killed before
// that loses some of them, and that is all it loses: an object nixvirt owns
// that has no record, or a record of an older definition of it, gets one
// from what libvirt has on the next apply (needsRecord), just as after an
// upgrade or a lost state directory.

// markUnsaved notes that a connection's records of what libvirt stored
// changed; the caller holds s.mu.
func (s *State) markUnsaved(uri string) {
	if s.unsavedDefined == nil {
		s.unsavedDefined = map[string]bool{}
	}
	s.unsavedDefined[uri] = true
}

// saveDefined writes a connection's records of what libvirt stored, when
// they changed since they were last written.
func (s *State) saveDefined(uri string) error {
	if s == nil {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.unsavedDefined[uri] {
		return nil
	}
	if _, err := s.checkDir(true); err != nil {
		return err
	}
	data, _ := json.MarshalIndent(definedFile{Objects: s.defined[uri]}, "", "  ")
	if err := writeFileAtomic(s.file(uri, ".defined.json"), append(data, '\n')); err != nil {
		return err
	}
	delete(s.unsavedDefined, uri)
	return nil
}

// writeFileAtomic writes a file through a new temporary file beside it
// (O_EXCL, so never through a link someone left there), then renames it
// into place, so that a reader sees the old record or the new one.
func writeFileAtomic(name string, data []byte) error {
	return writeFileAtomicMode(name, data, 0o600)
}

// writeFileAtomicMode is writeFileAtomic giving the file a mode: the
// owners directory's claims are for every user to read (claims.go).
func writeFileAtomicMode(name string, data []byte, mode os.FileMode) error {
	var b [8]byte
	rand.Read(b[:])
	tmp := fmt.Sprintf("%s.%x.tmp", name, b)
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL|syscall.O_NOFOLLOW, mode)
	if err != nil {
		return fmt.Errorf("cannot write nixvirt's record: %v", err)
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, name)
	}
	if err != nil {
		_ = os.Remove(tmp) // best effort: the record itself is untouched
		return fmt.Errorf("cannot write nixvirt's record %s: %v", name, err)
	}
	return nil
}

// lock takes the lock of one connection, so that two applies against one
// host from this machine run one after the other.
func (s *State) lock(uri string) (unlock func(), err error) {
	if _, err := s.checkDir(true); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(s.file(uri, ".lock"), os.O_CREATE|os.O_RDWR|syscall.O_NOFOLLOW, 0o600)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		_ = f.Close()
		return nil, err
	}
	return func() {
		// Closing the file releases the lock whatever the unlock says.
		_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		_ = f.Close()
	}, nil
}

// readStateFile reads one of nixvirt's JSON files in the state directory
// into v, following no link; a file that does not exist leaves v as it
// is. A file that cannot be read or decoded is an error naming it and
// what to do (fix), never "nothing recorded": that could make nixvirt
// forget what it owns.
func readStateFile(name, what string, v any, fix string) error {
	return readTrustedStateFile(name, what, v, fix, nil)
}

// readTrustedStateFile is readStateFile for a file that trust must accept,
// given the opened file's information, before it is read: a claims file,
// which every configuration on the host believes.
func readTrustedStateFile(name, what string, v any, fix string, trust func(os.FileInfo) error) error {
	f, err := os.OpenFile(name, os.O_RDONLY|syscall.O_NOFOLLOW, 0)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("cannot read nixvirt's %s %s: %v", what, name, err)
	}
	defer func() { _ = f.Close() }() // read only: nothing to lose
	if trust != nil {
		fi, err := f.Stat()
		if err != nil {
			return fmt.Errorf("cannot read nixvirt's %s %s: %v", what, name, err)
		}
		if err := trust(fi); err != nil {
			return err
		}
	}
	data, err := readWhole(f)
	if err != nil {
		return fmt.Errorf("cannot read nixvirt's %s %s: %v", what, name, err)
	}
	// Every one of these files is an object: anything else (null, which
	// decodes as nothing at all) is no record of nothing, but a damaged
	// file.
	if k := jsonKind(data); k != "object" && k != "" {
		return fmt.Errorf("nixvirt's %s %s is corrupt (it holds %s, not a JSON object): %s", what, name, k, fix)
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("nixvirt's %s %s is corrupt (%v): %s", what, name, err, fix)
	}
	return nil
}

// jsonKind names the kind of JSON value a document starts with, as far as
// its first character tells: "object", "null", "an array", …; "nothing"
// for an empty one and "" for what is no JSON at all, which decoding
// words better.
func jsonKind(data []byte) string {
	t := bytes.TrimLeft(data, " \t\r\n")
	if len(t) == 0 {
		return "nothing"
	}
	switch t[0] {
	case '{':
		return "object"
	case 'n':
		return "null"
	case '[':
		return "an array"
	case '"':
		return "a string"
	case 't', 'f':
		return "a boolean"
	case '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		return "a number"
	}
	return ""
}
