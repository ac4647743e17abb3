package apply

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"nixvirt.dev/nixvirt/compiler"
)

// Pools and secrets carry no mark in libvirt: libvirt 9.0 gives neither a
// <metadata> element, and the fields they do have either change what the
// object does (a pool's source and target) or are the user's own text (a
// secret's description). Their owner is recorded in a state directory
// instead, and a host can have several: the NixOS module's as root, a
// Home Manager user's, a second root configuration's with its own
// $NIXVIRT_STATE_DIR. Each would see the others' pools and secrets as
// nobody's, take them over by naming them and then prune them.
//
// So every state directory also claims, in one host-wide place (the
// owners directory, OwnersDir), the pools and secrets it records: a file
// per connection mapping each one's UUID to the state directory and owner
// that record it. Every configuration reads it; a pool or secret claimed
// from another state directory is another configuration's, whatever this
// state directory says, and is refused, listed and never pruned like a
// domain of another owner.
//
// The claim only points at a record; the record stays the truth. A claim
// whose state directory no longer exists, whose readable record no longer
// names the object (an apply killed between the claim and the record, or
// between forgetting the record and the claim, or a state directory
// removed to forget everything), or whose record no longer describes the
// live object (a pool redefined outside nixvirt, which its own
// configuration would not touch either: ownsPool) is stale and ignored. A
// record that cannot be read (a root state directory, read by a user)
// keeps its claim. Claims are written before the record they point at, so the
// order record-before-define that keeps an object nixvirt's through a kill
// holds for the claim too. State directories written before claims
// existed claim their records on their next plan or apply (claimRecorded);
// one of them that another configuration has claimed since is that
// configuration's, and this one leaves it alone.

// claim says which state directory and owner record a pool or secret.
type claim struct {
	StateDir string `json:"stateDir"`
	Owner    string `json:"owner"`
}

// claimsFile is one connection's claims, keyed by claimKey.
type claimsFile struct {
	Claims map[string]claim `json:"claims"`
}

func claimKey(k compiler.Kind, uuid string) string {
	if k != compiler.KindSecret {
		k = compiler.KindPool
	}
	return string(k) + "/" + canonicalUUID(uuid)
}

// systemOwnersDir is root's owners directory, which every user also reads.
// It is not inside root's state directory, which is root's alone. (A
// variable only so that a test can give root's another place.)
var systemOwnersDir = "/var/lib/nixvirt-owners"

// OwnersDir is the host-wide owners directory: $NIXVIRT_OWNERS_DIR, else
// /var/lib/nixvirt-owners for root, else the user's
// $XDG_STATE_HOME/nixvirt/owners. It does not follow $NIXVIRT_STATE_DIR:
// it is what the state directories of one user have in common. A user
// who is not root also reads root's (never writing it), so that a Home
// Manager configuration on qemu:///system leaves the NixOS module's pools
// and secrets alone.
func OwnersDir() string {
	if d := os.Getenv("NIXVIRT_OWNERS_DIR"); d != "" {
		return d
	}
	if os.Geteuid() == 0 {
		return systemOwnersDir
	}
	if d := os.Getenv("XDG_STATE_HOME"); d != "" {
		return filepath.Join(d, "nixvirt", "owners")
	}
	home, _ := os.UserHomeDir()
	return filepath.Join(home, ".local", "state", "nixvirt", "owners")
}

// claimsFor are the owners directories that hold a connection's claims,
// the one this user writes first; none for the test driver when no owners
// directory was named: its objects live in one process, so no other state
// directory can hold one of them, and claims of parallel test runs would
// only collide.
func (s *State) claimsFor(uri string) []string {
	if s.owners == "" || strings.HasPrefix(uri, "test:") && !s.ownersNamed {
		return nil
	}
	dirs := []string{s.owners}
	if !s.ownersNamed && s.owners != systemOwnersDir {
		dirs = append(dirs, systemOwnersDir)
	}
	return dirs
}

// readClaims reads one owners directory's claims of a connection. The
// directory and its claims file must be trustworthy as a state directory
// is (trustOwners), but root's may be read by a user: then they must be
// root's.
func readClaims(dir, uri string) (map[string]claim, error) {
	fi, err := os.Stat(dir)
	if os.IsNotExist(err) || os.IsPermission(err) && os.Geteuid() != 0 {
		// Root's, kept from this user: nothing of it can be read.
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("owners directory %s: %v", dir, err)
	}
	if err := trustOwners("owners directory", dir, fi); err != nil {
		return nil, err
	}
	name := filepath.Join(dir, compiler.ConnectionFileName(uri)+".json")
	if f, err := os.OpenFile(name, os.O_RDONLY|syscall.O_NOFOLLOW, 0); os.IsPermission(err) {
		// Root's, kept from this user: nothing of it can be read.
		return nil, nil
	} else if err == nil {
		_ = f.Close() // only opened to see whether it can be
	}
	var cf claimsFile
	if err := readTrustedStateFile(name, "claims file", &cf,
		"restore it from a backup; remove it only if every configuration that owns pools or secrets on this host applies again before any other does: until one has, another can take over its pools and secrets",
		func(fi os.FileInfo) error { return trustOwners("claims file", name, fi) }); err != nil {
		return nil, err
	}
	return cf.Claims, nil
}

// trustOwners refuses an owners directory or claims file (what) that a
// user other than this one or root owns, or that other users can write:
// its claims decide which pools and secrets every configuration leaves
// alone, so whoever could write them could make nixvirt take over, or
// never prune, what they like.
func trustOwners(what, name string, fi os.FileInfo) error {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && int(st.Uid) != os.Geteuid() && st.Uid != 0 {
		return fmt.Errorf("%s %s belongs to user %d, neither this user nor root: refusing to trust its claims; check them, then give it to root or to this user (chown)", what, name, st.Uid)
	}
	if fi.Mode().Perm()&0o022 != 0 {
		return fmt.Errorf("%s %s is writable by other users (mode %04o): refusing to trust its claims; check them, then chmod go-w %s", what, name, fi.Mode().Perm(), name)
	}
	return nil
}

// claims are the live claims of a connection, the first owners directory
// winning, stale ones left out; read once per State.
func (s *State) claims(uri string) (map[string]claim, error) {
	s.mu.Lock()
	if c, ok := s.claimed[uri]; ok {
		s.mu.Unlock()
		return c, nil
	}
	s.mu.Unlock()
	out := map[string]claim{}
	dirs := s.claimsFor(uri)
	for i := len(dirs) - 1; i >= 0; i-- {
		c, err := readClaims(dirs[i], uri)
		if err != nil {
			return nil, err
		}
		for k, v := range c {
			out[k] = v
		}
	}
	for k, c := range out {
		if c.StateDir != s.absDir() && !s.elsewhere(c.StateDir, uri).holds(k, nil) {
			delete(out, k)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.claimed == nil {
		s.claimed = map[string]map[string]claim{}
	}
	s.claimed[uri] = out
	return out, nil
}

// recordsElsewhere is what another state directory records of a
// connection, as far as this user can read it.
type recordsElsewhere struct {
	// gone: no such directory or no record of the connection, so that
	// its claims are stale; unreadable: its record cannot be read (it is
	// root's, read by a user, or corrupt), so that its claims stand.
	gone, unreadable bool
	records          stateFile
}

func readRecordsElsewhere(dir, uri string) recordsElsewhere {
	if _, err := os.Stat(dir); os.IsNotExist(err) {
		return recordsElsewhere{gone: true}
	}
	f, err := os.OpenFile(filepath.Join(dir, compiler.ConnectionFileName(uri)+".json"), os.O_RDONLY|syscall.O_NOFOLLOW, 0)
	if os.IsNotExist(err) {
		return recordsElsewhere{gone: true}
	}
	if err != nil {
		return recordsElsewhere{unreadable: true}
	}
	data, err := readWhole(f)
	_ = f.Close() // read only: nothing to lose
	var r recordsElsewhere
	if err != nil || json.Unmarshal(data, &r.records) != nil {
		return recordsElsewhere{unreadable: true}
	}
	return r
}

// holds reports whether the other state directory still owns the object
// a claim names (key): its record names it and, given the live object l,
// describes it as that directory's own configuration judges (ownsPool,
// secretHolder). A record of a pool redefined outside nixvirt since, or a
// record left behind, holds nothing there, and so nothing here.
func (r recordsElsewhere) holds(key string, l *Live) bool {
	switch {
	case r.gone:
		return false
	case r.unreadable:
		return true
	}
	kind, uuid, _ := strings.Cut(key, "/")
	if kind == string(compiler.KindSecret) {
		rec, ok := r.records.Secrets[uuid]
		return ok && (l == nil || usageOf(rec.Definition) == usageOf(l.XML))
	}
	rec, ok := r.records.Pools[uuid]
	return ok && (l == nil || isPool(l, rec.Definition) || rec.Previous != "" && isPool(l, rec.Previous))
}

// elsewhere is another state directory's records of a connection, read
// once per State.
func (s *State) elsewhere(dir, uri string) recordsElsewhere {
	s.mu.Lock()
	r, ok := s.others[dir+"\x00"+uri]
	s.mu.Unlock()
	if ok {
		return r
	}
	r = readRecordsElsewhere(dir, uri)
	s.mu.Lock()
	if s.others == nil {
		s.others = map[string]recordsElsewhere{}
	}
	s.others[dir+"\x00"+uri] = r
	s.mu.Unlock()
	return r
}

// absDir is the state directory as claims name it.
func (s *State) absDir() string {
	d, err := filepath.Abs(s.dir)
	if err != nil {
		return s.dir
	}
	if r, err := filepath.EvalSymlinks(d); err == nil {
		return r
	}
	return d
}

// claimedElsewhere is the claim of another state directory on a live
// object, if that directory still owns it.
func (s *State) claimedElsewhere(uri string, k compiler.Kind, l *Live) (claim, bool) {
	if s == nil {
		return claim{}, false
	}
	c, err := s.claims(uri)
	if err != nil {
		return claim{}, false
	}
	key := claimKey(k, l.UUID)
	cl, ok := c[key]
	return cl, ok && cl.StateDir != s.absDir() && s.elsewhere(cl.StateDir, uri).holds(key, l)
}

// claimsMode is the mode of an owners directory (dir) or claims file:
// root's are readable by every user (never writable), since a user's
// configuration on qemu:///system reads them; a user's are private, as
// nobody else reads them.
func claimsMode(dir bool) os.FileMode {
	switch {
	case os.Geteuid() != 0 && dir:
		return 0o700
	case os.Geteuid() != 0:
		return 0o600
	case dir:
		return 0o755
	}
	return 0o644
}

// lockClaims takes the lock of this user's claims of a connection, for
// the whole of an apply: two applies from different state directories
// then never both plan an object as nobody's and both claim it.
// writeClaims takes it for a plan.
func (s *State) lockClaims(uri string) (unlock func(), err error) {
	dirs := s.claimsFor(uri)
	if len(dirs) == 0 {
		return func() {}, nil
	}
	if err := os.MkdirAll(dirs[0], claimsMode(true)); err != nil {
		return nil, fmt.Errorf("cannot create the owners directory: %v", err)
	}
	if _, err := readClaims(dirs[0], uri); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(filepath.Join(dirs[0], compiler.ConnectionFileName(uri)+".lock"), os.O_CREATE|os.O_RDWR|syscall.O_NOFOLLOW, 0o600)
	if err != nil {
		return nil, fmt.Errorf("cannot lock the owners directory: %v", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("cannot lock the owners directory: %v", err)
	}
	s.mu.Lock()
	if s.claimsLocked == nil {
		s.claimsLocked = map[string]bool{}
	}
	s.claimsLocked[uri] = true
	// Claims and records read before the lock may be another apply's
	// old ones.
	delete(s.claimed, uri)
	s.others = nil
	s.mu.Unlock()
	return func() {
		s.mu.Lock()
		delete(s.claimsLocked, uri)
		s.mu.Unlock()
		_ = f.Close() // closing the file releases the lock
	}, nil
}

// writeClaims changes this user's claims of a connection, under their
// lock: change gets the current claims (stale ones of other state
// directories dropped) and edits them.
func (s *State) writeClaims(uri string, change func(map[string]claim)) error {
	dirs := s.claimsFor(uri)
	if len(dirs) == 0 {
		return nil
	}
	s.mu.Lock()
	locked := s.claimsLocked[uri]
	s.mu.Unlock()
	if !locked {
		unlock, err := s.lockClaims(uri)
		if err != nil {
			return err
		}
		defer unlock()
	}
	dir := dirs[0]
	c, err := readClaims(dir, uri)
	if err != nil {
		return err
	}
	if c == nil {
		c = map[string]claim{}
	}
	for k, cl := range c {
		if cl.StateDir != s.absDir() && !readRecordsElsewhere(cl.StateDir, uri).holds(k, nil) {
			delete(c, k)
		}
	}
	change(c)
	data, _ := json.MarshalIndent(claimsFile{Claims: c}, "", "  ")
	if err := writeFileAtomicMode(filepath.Join(dir, compiler.ConnectionFileName(uri)+".json"), append(data, '\n'), claimsMode(false)); err != nil {
		return err
	}
	s.mu.Lock()
	delete(s.claimed, uri)
	s.mu.Unlock()
	return nil
}

// claimObject claims an object for this state directory and owner, before
// its record is written; the planner has made sure it is not another
// configuration's unless --take-over moves it.
func (s *State) claimObject(uri string, k compiler.Kind, uuid, owner string) error {
	return s.writeClaims(uri, func(c map[string]claim) {
		c[claimKey(k, uuid)] = claim{StateDir: s.absDir(), Owner: ownerOrDefault(owner)}
	})
}

// releaseObject drops this state directory's claim of an object whose
// record it forgot.
func (s *State) releaseObject(uri string, k compiler.Kind, uuid string) error {
	return s.writeClaims(uri, func(c map[string]claim) {
		if c[claimKey(k, uuid)].StateDir == s.absDir() {
			delete(c, claimKey(k, uuid))
		}
	})
}

// claimRecorded claims what this state directory recorded before claims
// existed (or while its owners directory was lost), leaving alone what
// another configuration has claimed meanwhile.
func (s *State) claimRecorded(uri string) error {
	if s == nil || len(s.claimsFor(uri)) == 0 {
		return nil
	}
	if _, err := s.load(uri); err != nil {
		return err
	}
	want := map[string]claim{}
	s.mu.Lock()
	for uuid, rec := range s.pools[uri] {
		want[claimKey(compiler.KindPool, uuid)] = claim{StateDir: s.absDir(), Owner: ownerOrDefault(rec.Owner)}
	}
	for uuid, rec := range s.secrets[uri] {
		want[claimKey(compiler.KindSecret, uuid)] = claim{StateDir: s.absDir(), Owner: ownerOrDefault(rec.Owner)}
	}
	s.mu.Unlock()
	c, err := s.claims(uri)
	if err != nil {
		return err
	}
	missing := false
	for k := range want {
		if _, ok := c[k]; !ok {
			missing = true
		}
	}
	if !missing {
		return nil
	}
	return s.writeClaims(uri, func(c map[string]claim) {
		for k, cl := range want {
			if _, ok := c[k]; !ok {
				c[k] = cl
			}
		}
	})
}
