//go:build !nolibvirt

package main

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"sort"
	"sync/atomic"
	"time"

	"nixvirt.dev/nixvirt/apply"
	"nixvirt.dev/nixvirt/compiler"
	"nixvirt.dev/nixvirt/internal/noopmemo"
)

// The compile cache lets plan and apply skip compiling a configuration
// whose input did not change since the last apply of it: the activation
// of an unchanged system runs `nixvirt apply` on the same files every
// time, and compiling them (CUE evaluation, or NixVirt's XML files through
// the schema) was most of such a no-op apply.
//
// apply records, in the state directory, the compiled configuration with
// everything the compilation depended on: this nixvirt's build (version,
// executable and its size and time), the command line (working directory,
// arguments, --connect, -e, --owner), the bytes of every file it read
// (the configuration's files, the CUE packages they import, the module
// file, the XML files definitions name) and which .cue files each
// package directory holds. A later plan or apply uses the record only if
// all of it is the same now; anything else (a template edited, an entry's
// active or autostart changed, a file added to a package, another nixvirt)
// compiles anew. Only compiling is skipped: the plan still reads every
// object and compares it as always (marks, drift, live changes).

// compileRecord is what apply records of a compiled configuration.
type compileRecord struct {
	Build string `json:"build"`
	// Files are the hashes of the files the compilation read, Dirs of
	// the .cue file names of each package directory, by path.
	Files map[string]string `json:"files"`
	Dirs  map[string]string `json:"dirs"`
	// Desired is the configuration as apply takes it, definitions
	// prepared and marked; Notes the objects whose XML file had what
	// libvirt reports left out, for the note the command prints.
	Desired *apply.Desired `json:"desired"`
	Notes   []compiledNote `json:"notes,omitempty"`
	// Docs are the lengths of the definitions kept after the JSON
	// (splitDocs); records written before it have none.
	Docs []int `json:"docs,omitempty"`
	// Stats are what stat said of the files that had not changed for a
	// while when they were recorded (settled): a file whose stat says
	// the same is not read again.
	Stats map[string]fileStat `json:"stats,omitempty"`
}

// fileStat is what stat says of a file (noopmemo.FileStat): a settled
// file whose stat is as recorded has the bytes it had.
type fileStat = noopmemo.FileStat

// statOf is what stat says of a file; false where it cannot tell.
func statOf(name string) (fileStat, bool) { return noopmemo.StatOf(name) }

// settled is how long a file must have been unchanged when it is
// recorded for its stat to stand for its bytes: far longer than a tick
// of any file system's clock.
var settled = 5 * time.Second

// compiledNote is what noteReported says of an object.
type compiledNote struct {
	Kind     compiler.Kind `json:"kind"`
	XMLName  string        `json:"xmlName"`
	Reported []string      `json:"reported"`
}

// compileCacheHits counts the configurations taken from a record, for
// the tests.
var compileCacheHits atomic.Int64

// compileCache is the record of one command line's input.
type compileCache struct {
	state *apply.State
	key   string
	// began is when compiling began. The files are hashed after it, so a
	// file changed meanwhile would be recorded with bytes the compilation
	// never read: a record is written only when every file it names last
	// changed (by its ctime) before began.
	began time.Time
	// used is the record taken (load) or written (store).
	used *compileRecord
}

// recorded is the record taken or written, nil for none.
func (cc *compileCache) recorded() *compileRecord {
	if cc == nil {
		return nil
	}
	return cc.used
}

// compileStarted is the clock of began; a variable for the tests.
var compileStarted = time.Now

// clockTick is more than the coarsest tick of the clock that stamps a
// file's change time (the kernel's jiffy, up to 10 ms), by which a change
// after began can carry an earlier time.
const clockTick = 50 * time.Millisecond

// buildIdentity tells this nixvirt from any other build: a record written
// by another one is not used. A variable for the tests.
var buildIdentity = func() string {
	id := versionText()
	if exe, err := os.Executable(); err == nil {
		if fi, err := os.Stat(exe); err == nil {
			id += fmt.Sprintf("%s %d %d", exe, fi.Size(), fi.ModTime().UnixNano())
		}
	}
	return id
}

// compileCache is the cache of this command line, nil when its input
// cannot be cached: it comes from stdin or a pipe.
func (f *hostFlags) compileCache(c *Command, in compiler.Input) *compileCache {
	for _, a := range in.Args {
		// stdin, and pipes (kept in Streams): other bytes at every run.
		if _, stream := in.Streams[a]; a == "-" || stream {
			return nil
		}
	}
	h := sha256.New()
	for _, s := range append([]string{"nixvirt compile cache 1", c.dir, f.connect, f.expr, f.owner}, in.Args...) {
		fmt.Fprintf(h, "%d:%s\n", len(s), s)
	}
	return &compileCache{state: f.options().State, key: hex.EncodeToString(h.Sum(nil)[:16]), began: compileStarted()}
}

// load returns the recorded configuration if nothing it depends on
// changed, with the objects to note (noteReported).
func (cc *compileCache) load() (*apply.Desired, []compiler.Object, bool) {
	if cc == nil {
		return nil, nil, false
	}
	var rec compileRecord
	docs, ok := cc.state.ReadCompiled(cc.key, &rec)
	if !ok || rec.Build != buildIdentity() || len(rec.Files) == 0 || rec.Desired == nil || !joinDocs(rec.Desired, string(docs), rec.Docs) {
		return nil, nil, false
	}
	for name, sum := range rec.Files {
		if st, ok := rec.Stats[name]; ok {
			if now, ok := statOf(name); ok && now == st {
				continue
			}
		}
		if fileHash(name) != sum {
			return nil, nil, false
		}
	}
	for dir, sum := range rec.Dirs {
		if dirHash(dir) != sum {
			return nil, nil, false
		}
	}
	compileCacheHits.Add(1)
	cc.used = &rec
	var notes []compiler.Object
	for _, n := range rec.Notes {
		notes = append(notes, compiler.Object{Kind: n.Kind, XMLName: n.XMLName, Reported: n.Reported})
	}
	return rec.Desired, notes, true
}

// store records d, built from cfg, with what compiling it read: read,
// and the XML files cfg's objects name. It records nothing for a
// configuration it could not give back as it is: one with a cloud-init
// seed (an ISO image built from documents that are any JSON value), or
// one whose CUE embeds files (read.Opaque).
// Recording is best effort: without a record the next run compiles.
func (cc *compileCache) store(cfg *compiler.Config, d *apply.Desired, read compiler.Inputs) {
	if cc == nil || read.Opaque {
		return
	}
	rec := compileRecord{Build: buildIdentity(), Files: map[string]string{}, Dirs: map[string]string{}}
	var docs []byte
	rec.Desired, docs, rec.Docs = splitDocs(d)
	files := append([]string(nil), read.Files...)
	for _, o := range cfg.Objects {
		if o.Entry.CloudInit != nil {
			return
		}
		if o.XMLFile != "" {
			files = append(files, o.XMLFile)
		}
		if len(o.Reported) > 0 {
			rec.Notes = append(rec.Notes, compiledNote{o.Kind, o.XMLName, o.Reported})
		}
	}
	rec.Stats = map[string]fileStat{}
	for _, name := range files {
		st, statOK := statOf(name)
		if statOK && st.Ctime > cc.began.Add(-clockTick).UnixNano() {
			return // changed while compiling, perhaps after it was read
		}
		sum := fileHash(name)
		if sum == "" {
			return
		}
		rec.Files[name] = sum
		if now, ok := statOf(name); statOK && ok && now == st && time.Since(time.Unix(0, st.Ctime)) > settled {
			rec.Stats[name] = st
		}
	}
	for _, dir := range read.Dirs {
		rec.Dirs[dir] = dirHash(dir)
	}
	if len(rec.Files) == 0 {
		return
	}
	if cc.state.WriteCompiled(cc.key, rec, docs) == nil { // best effort, as above
		cc.used = &rec
	}
}

// The definitions of a record's objects (each one's XML, Definition and
// UserXML) are most of its bytes. They are kept after its JSON, one after
// another, the JSON giving their lengths: read back as parts of one
// string they need no decoding, where unescaping them from JSON was most
// of what an apply from the record spent reading it.

// docFields are the definitions of an object that a record keeps after
// its JSON.
func docFields(w *apply.Wanted) []*string { return []*string{&w.XML, &w.Definition, &w.UserXML} }

// recordOrder is the order of d's objects in a record: by connection,
// each connection's in order.
func recordOrder(d *apply.Desired) []*apply.Wanted {
	uris := make([]string, 0, len(d.Objects))
	for uri := range d.Objects {
		uris = append(uris, uri)
	}
	sort.Strings(uris)
	var out []*apply.Wanted
	for _, uri := range uris {
		out = append(out, d.Objects[uri]...)
	}
	return out
}

// splitDocs is a copy of d without its objects' definitions, with the
// definitions one after another and their lengths.
func splitDocs(d *apply.Desired) (*apply.Desired, []byte, []int) {
	bare := *d
	bare.Objects = map[string][]*apply.Wanted{}
	var docs []byte
	var lengths []int
	copies := map[*apply.Wanted]*apply.Wanted{}
	for uri, ws := range d.Objects {
		bare.Objects[uri] = make([]*apply.Wanted, len(ws))
		for i, w := range ws {
			c := *w
			bare.Objects[uri][i], copies[w] = &c, &c
		}
	}
	for _, w := range recordOrder(d) {
		for _, f := range docFields(copies[w]) {
			docs = append(docs, *f...)
			lengths = append(lengths, len(*f))
			*f = ""
		}
	}
	return &bare, docs, lengths
}

// joinDocs puts the definitions (splitDocs) back into d; false when they
// are not as many, or as long, as the lengths say.
func joinDocs(d *apply.Desired, docs string, lengths []int) bool {
	ws := recordOrder(d)
	if len(lengths) != len(ws)*len(docFields(&apply.Wanted{})) {
		return false
	}
	next := 0
	for _, w := range ws {
		for _, f := range docFields(w) {
			n := lengths[next]
			if n < 0 || n > len(docs) {
				return false
			}
			*f, docs = docs[:n], docs[n:]
			next++
		}
	}
	return docs == ""
}

// filesHashed counts the files fileHash read, for the tests.
var filesHashed atomic.Int64

// fileHash is the hash of a file's bytes, "" when it cannot be read.
func fileHash(name string) string {
	filesHashed.Add(1)
	return noopmemo.FileHash(name)
}

// dirHash is the hash of the names of a package directory's .cue files.
func dirHash(dir string) string { return noopmemo.DirHash(dir) }
