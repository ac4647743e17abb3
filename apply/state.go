package apply

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sync"
	"syscall"
)

// State is nixvirt's record of what it owns where libvirt keeps no
// metadata: storage pools. It lives in a directory on the machine that
// runs nixvirt (StateDir), one file per connection.
type State struct {
	dir   string
	mu    sync.Mutex
	pools map[string]map[string]poolRecord // uri → pool UUID → record
}

// poolRecord is what nixvirt gave a pool it owns.
type poolRecord struct {
	Hash       string `json:"hash"`
	Definition string `json:"definition"`
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
	return &State{dir: dir, pools: map[string]map[string]poolRecord{}}
}

var unsafeFileChars = regexp.MustCompile(`[^A-Za-z0-9._-]`)

func (s *State) file(uri, ext string) string {
	return filepath.Join(s.dir, unsafeFileChars.ReplaceAllString(uri, "_")+ext)
}

type stateFile struct {
	// Pools maps a pool UUID to the definition nixvirt gave it.
	Pools map[string]poolRecord `json:"pools"`
}

func (s *State) load(uri string) map[string]poolRecord {
	s.mu.Lock()
	defer s.mu.Unlock()
	if p, ok := s.pools[uri]; ok {
		return p
	}
	var f stateFile
	if data, err := os.ReadFile(s.file(uri, ".json")); err == nil {
		json.Unmarshal(data, &f)
	}
	if f.Pools == nil {
		f.Pools = map[string]poolRecord{}
	}
	s.pools[uri] = f.Pools
	return f.Pools
}

func (s *State) pool(uri, uuid string) poolRecord {
	pools := s.load(uri)
	s.mu.Lock()
	defer s.mu.Unlock()
	return pools[canonicalUUID(uuid)]
}

func (s *State) poolHash(uri, uuid string) string { return s.pool(uri, uuid).Hash }

// setPool records (rec.Hash != "") or forgets a pool, and saves the state
// at once, so that an interrupted apply keeps what it did.
func (s *State) setPool(uri, uuid string, rec poolRecord) error {
	pools := s.load(uri)
	s.mu.Lock()
	defer s.mu.Unlock()
	if rec.Hash == "" {
		delete(pools, canonicalUUID(uuid))
	} else {
		pools[canonicalUUID(uuid)] = rec
	}
	if err := os.MkdirAll(s.dir, 0o755); err != nil {
		return err
	}
	data, _ := json.MarshalIndent(stateFile{Pools: pools}, "", "  ")
	tmp := s.file(uri, ".json.tmp")
	if err := os.WriteFile(tmp, append(data, '\n'), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, s.file(uri, ".json"))
}

// lock takes the lock of one connection, so that two applies against one
// host from this machine run one after the other.
func (s *State) lock(uri string) (unlock func(), err error) {
	if err := os.MkdirAll(s.dir, 0o755); err != nil {
		return nil, fmt.Errorf("cannot create %s: %v", s.dir, err)
	}
	f, err := os.OpenFile(s.file(uri, ".lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, err
	}
	return func() {
		syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	}, nil
}
