package apply

import (
	"encoding/json"

	"nixvirt.dev/nixvirt/compiler"
)

// The journal is apply's record of begun work, one file per connection
// in the state directory (<connection>.journal.json): the objects it
// stopped and means to start again. An entry is written before the stop
// and removed once the object runs again, so that when apply is killed
// (SIGKILL, a power cut) or fails in between, the next plan shows the
// object as to be started and the next apply starts it: a domain apply
// stopped to restart it, or one attached to a network that restarts,
// never stays off because apply did not finish.

// Stopped is an object an apply stopped and had not started again yet.
type Stopped struct {
	Kind compiler.Kind `json:"kind"`
	UUID string        `json:"uuid"`
	Name string        `json:"name"`
	// For is why it was stopped: StoppedToRestart or StoppedForNetwork.
	For string `json:"for"`
	// Network names the network that restarts, for StoppedForNetwork.
	Network string `json:"network,omitempty"`
}

// Why an object is in the journal.
const (
	// StoppedToRestart: the object itself restarts.
	StoppedToRestart = "restart"
	// StoppedForNetwork: a running domain attached to a network that
	// restarts (it may be one nixvirt does not own).
	StoppedForNetwork = "network-restart"
)

type journalFile struct {
	Stopped []Stopped `json:"stopped"`
}

// Unfinished lists what an interrupted or failed apply on a connection
// stopped and did not start again: the next apply starts each one that
// still exists and is stopped (unless its entry says active: false).
// It is empty when the last apply finished its work.
func (s *State) Unfinished(uri string) ([]Stopped, error) {
	if s == nil {
		return nil, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.readJournal(uri)
}

func (s *State) readJournal(uri string) ([]Stopped, error) {
	exists, err := s.checkDir(false)
	if err != nil || !exists {
		return nil, err
	}
	name := s.file(uri, ".journal.json")
	var jf journalFile
	if err := readStateFile(name, "journal", &jf, "remove it, and start by hand what an interrupted apply left stopped"); err != nil {
		return nil, err
	}
	return jf.Stopped, nil
}

// journal changes a connection's journal under the state's lock: edit
// gets its entries and returns the new ones, which are saved at once.
func (s *State) journal(uri string, edit func([]Stopped) []Stopped) error {
	if s == nil {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	old, err := s.readJournal(uri)
	if err != nil {
		return err
	}
	entries := edit(old)
	if len(entries) == 0 && len(old) == 0 {
		return nil
	}
	if _, err := s.checkDir(true); err != nil {
		return err
	}
	if entries == nil {
		entries = []Stopped{}
	}
	data, _ := json.MarshalIndent(journalFile{Stopped: entries}, "", "  ")
	return writeFileAtomic(s.file(uri, ".journal.json"), append(data, '\n'))
}

// beginStops records objects about to be stopped, before they are.
func (s *State) beginStops(uri string, objs ...Stopped) error {
	if len(objs) == 0 {
		return nil
	}
	return s.journal(uri, func(old []Stopped) []Stopped {
		for _, o := range objs {
			old = append(dropStopped(old, o.Kind, o.UUID), o)
		}
		return old
	})
}

// endStop forgets an object: it runs again, or no longer needs to.
func (s *State) endStop(uri string, k compiler.Kind, uuid string) error {
	return s.journal(uri, func(old []Stopped) []Stopped { return dropStopped(old, k, uuid) })
}

// keepStops keeps only the entries keep accepts.
func (s *State) keepStops(uri string, keep func(Stopped) bool) error {
	return s.journal(uri, func(old []Stopped) []Stopped {
		var out []Stopped
		for _, o := range old {
			if keep(o) {
				out = append(out, o)
			}
		}
		return out
	})
}

func dropStopped(entries []Stopped, k compiler.Kind, uuid string) []Stopped {
	var out []Stopped
	for _, e := range entries {
		if !(e.Kind == k && canonicalUUID(e.UUID) == canonicalUUID(uuid)) {
			out = append(out, e)
		}
	}
	return out
}

// planUnfinished adds to a connection's plan the starts that finish what
// an earlier apply began: every object in the journal that still exists
// and is stopped is started again, unless its entry keeps it stopped
// (active: false) or deletes it. An object the configuration does not
// name (a domain nixvirt does not own, stopped for a network restart)
// gets a change of its own; it is not listed as left alone.
func planUnfinished(uri string, journal []Stopped, changes []*planned, live map[compiler.Kind][]Live, seen map[string]bool, prunes func(compiler.Kind, *Live) bool) []*planned {
	for _, e := range journal {
		var l *Live
		for i := range live[e.Kind] {
			if canonicalUUID(live[e.Kind][i].UUID) == canonicalUUID(e.UUID) {
				l = &live[e.Kind][i]
			}
		}
		if l == nil || l.Active {
			continue
		}
		var c *planned
		for _, p := range changes {
			if p.Kind == e.Kind && p.live != nil && canonicalUUID(p.live.UUID) == canonicalUUID(e.UUID) {
				c = p
			}
		}
		switch {
		case c != nil && (c.Problem != nil || c.has(Start) || c.has(Stop) || c.has(Delete) || c.has(Restart)):
		case c != nil && c.wanted != nil && c.wanted.Active != nil && !*c.wanted.Active:
		case c != nil:
			c.add(Start, because(ReasonUnfinished))
		case prunes(e.Kind, l):
		default:
			c = &planned{Change: &Change{Connection: uri, Kind: e.Kind, Name: l.Name, UUID: canonicalUUID(l.UUID)}, live: l}
			c.add(Start, because(ReasonUnfinished))
			seen[string(e.Kind)+"/"+l.UUID] = true
			changes = append(changes, c)
		}
	}
	return changes
}
