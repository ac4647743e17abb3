package apply

import (
	"bytes"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"syscall"
)

// The compiled configuration of the last apply of an input lives in the
// state directory (compiled-<key>.json), so that an apply of an input
// that did not change since (a no-op, as every activation of an
// unchanged system is) need not compile it again: the caller records
// what the compilation read and checks it before it trusts the record
// (cmd/nixvirt's compile cache). It is kept with the state because it
// decides what apply defines: the directory's checks (State) hold for it.

func (s *State) compiledFile(key string) string {
	return filepath.Join(s.dir, "compiled-"+key+".json")
}

// ReadCompiled reads the record of key: its first line, JSON, into v,
// and returns what follows it (see WriteCompiled); false when there is
// none or it cannot be read (it is then compiled anew, and rewritten).
func (s *State) ReadCompiled(key string, v any) ([]byte, bool) {
	if s == nil {
		return nil, false
	}
	if exists, err := s.checkDir(false); err != nil || !exists {
		return nil, false
	}
	f, err := os.OpenFile(s.compiledFile(key), os.O_RDONLY|syscall.O_NOFOLLOW, 0)
	if err != nil {
		return nil, false
	}
	data, err := readWhole(f)
	_ = f.Close() // read only: nothing to lose
	if err != nil {
		return nil, false
	}
	line, rest, _ := bytes.Cut(data, []byte("\n"))
	if json.Unmarshal(line, v) != nil {
		return nil, false
	}
	return rest, true
}

// WriteCompiled records v for key, as one line of JSON, followed by
// rest: bytes the caller keeps out of the JSON (text it would otherwise
// escape and unescape). The JSON has no HTML escapes (\u003c for "<"),
// which made XML in it a third larger and twice as slow to read.
func (s *State) WriteCompiled(key string, v any, rest []byte) error {
	if s == nil {
		return nil
	}
	if _, err := s.checkDir(true); err != nil {
		return err
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return err
	}
	buf.Write(rest)
	return writeFileAtomic(s.compiledFile(key), buf.Bytes())
}

// readWhole reads a file at once into a buffer of its size, which
// io.ReadAll would grow (and clear) a dozen times for a record of a
// hundred definitions.
func readWhole(f *os.File) ([]byte, error) {
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	data := make([]byte, 0, fi.Size()+1)
	for {
		n, err := f.Read(data[len(data):cap(data)])
		data = data[:len(data)+n]
		if err == io.EOF {
			return data, nil
		}
		if err != nil {
			return nil, err
		}
		if len(data) == cap(data) {
			// It grew since: read on.
			data = append(data, 0)[:len(data)]
		}
	}
}
