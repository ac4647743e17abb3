// Package xmlfiles is where export puts its XML: stdout for one
// document, and under --out one file per object of a whole-host
// configuration, written here. It is shared by cmd/nixvirt and the front
// build (cmd/nixvirt-front), which must write the same files.
package xmlfiles

import (
	"os"
	"path/filepath"
	"sync"

	"nixvirt.dev/nixvirt/compiler/gocheck"
)

// Document is one XML document to write: to stdout (File "") or to File
// under --out.
type Document struct {
	File, XML string
}

// ObjectFile is an object's file under --out:
// <connection>/<plural>/[<pool>/]<name>.xml, the connection's directory
// never "." or ".." whatever the configuration's key (vet refuses such
// keys; this keeps the files inside --out regardless).
func ObjectFile(connection string, k gocheck.Kind, pool, name string) string {
	return filepath.Join(gocheck.ConnectionFileName(connection), k.Plural(), pool, name+".xml")
}

// Write writes the documents under dir. Creating a file costs more
// than compiling its XML on some filesystems, so a few goroutines write at
// once; the directories are made first, each once.
func Write(dir string, docs []Document) error {
	made := map[string]bool{}
	for _, d := range docs {
		sub := filepath.Dir(filepath.Join(dir, d.File))
		if !made[sub] {
			if err := os.MkdirAll(sub, 0o755); err != nil {
				return err
			}
			made[sub] = true
		}
	}
	work := make(chan Document)
	errs := make(chan error, 1)
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for d := range work {
				if err := writeFile(filepath.Join(dir, d.File), d.XML); err != nil {
					select {
					case errs <- err:
					default:
					}
				}
			}
		}()
	}
	for _, d := range docs {
		work <- d
	}
	close(work)
	wg.Wait()
	select {
	case err := <-errs:
		return err
	default:
		return nil
	}
}

// writeFile writes one document. A symbolic link in its place is
// replaced, not followed: the files under --out are export's, and writing
// through a link left there would overwrite whatever it points at (the
// configuration itself, say).
func writeFile(name, xml string) error {
	if fi, err := os.Lstat(name); err == nil && fi.Mode()&os.ModeSymlink != 0 {
		if err := os.Remove(name); err != nil {
			return err
		}
	}
	return os.WriteFile(name, []byte(xml), 0o644)
}
