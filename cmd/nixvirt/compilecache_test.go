//go:build !nolibvirt

package main

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"nixvirt.dev/nixvirt/apply"
	"nixvirt.dev/nixvirt/compiler"
)

// cacheCase is a directory with a configuration, planned the way plan and
// apply compile it (hostFlags.wanted) with the state in the directory.
type cacheCase struct {
	t     *testing.T
	dir   string
	flags hostFlags
	args  []string
}

func newCacheCase(t *testing.T, files map[string]string, args ...string) *cacheCase {
	t.Helper()
	dir := t.TempDir()
	t.Setenv("NIXVIRT_STATE_DIR", filepath.Join(dir, "state"))
	for name, src := range files {
		write(t, filepath.Join(dir, name), src)
	}
	return &cacheCase{t: t, dir: dir, flags: hostFlags{output: "text", record: true}, args: args}
}

func write(t *testing.T, name, src string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(name, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	// A file changed within a tick of a compile's start is not recorded
	// (compileCache.began): the tests' compiles come a tick later.
	time.Sleep(2 * clockTick)
}

// TestCompileCacheNotRecordedAfterAChange: a file whose change time is
// after the compile began (so perhaps changed after the compile read it)
// leaves no record, so the next run compiles again.
func TestCompileCacheNotRecordedAfterAChange(t *testing.T) {
	if _, ok := statOf("."); !ok {
		t.Skip("no change times here")
	}
	cc := cueCase(t, "host")
	defer func(f func() time.Time) { compileStarted = f }(compileStarted)
	compileStarted = func() time.Time { return time.Now().Add(-time.Hour) }
	cc.wanted()
	if _, hit := cc.wanted(); hit {
		t.Error("a record was written of files that changed after the compile began")
	}
	compileStarted = time.Now
	cc.wanted()
	if _, hit := cc.wanted(); !hit {
		t.Error("no record of files that had not changed since the compile began")
	}
}

// wanted compiles the configuration and reports whether it came from
// the record.
func (cc *cacheCase) wanted() (*apply.Desired, bool) {
	cc.t.Helper()
	c := newRootCmd(io.Discard, io.Discard, cc.dir)
	before := compileCacheHits.Load()
	d, err := cc.flags.wanted(c, cc.args)
	if err != nil {
		cc.t.Fatal(err)
	}
	return d, compileCacheHits.Load() > before
}

// domain is the one domain of a configuration.
func domain(t *testing.T, d *apply.Desired) *apply.Wanted {
	t.Helper()
	for _, ws := range d.Objects {
		for _, w := range ws {
			if w.Kind == compiler.KindDomain {
				return w
			}
		}
	}
	t.Fatal("no domain")
	return nil
}

const cacheHostCUE = `package host

import "example.com/site/tmpl"

connections: "test:///default": domains: web: {
	definition: tmpl.Small & {uuid: "7e2e0000-0000-4000-8000-0000000000c1"}
	active: false
}
`

const cacheTemplateCUE = `package tmpl

Small: {type: "test", memory: {count: 64, unit: "MiB"}, os: type: "hvm"}
`

func cueCase(t *testing.T, args ...string) *cacheCase {
	return newCacheCase(t, map[string]string{
		"cue.mod/module.cue": "module: \"example.com/site@v0\"\nlanguage: version: \"v0.17.0\"\n",
		"host/host.cue":      cacheHostCUE,
		"tmpl/tmpl.cue":      cacheTemplateCUE,
	}, args...)
}

// TestCompileCacheHitsUnchangedInput: a second compile of the same input
// by the same nixvirt is taken from the record, and is the same.
func TestCompileCacheHitsUnchangedInput(t *testing.T) {
	for name, cc := range map[string]*cacheCase{
		"cue package": cueCase(t, "host"),
		"cue file":    cueCase(t, "host/host.cue"),
		"settings with XML files": newCacheCase(t, map[string]string{
			"settings.json": `{"domains": [{"definition": "web.xml", "active": false}]}`,
			"web.xml":       `<domain type="test"><name>web</name><memory unit="MiB">64</memory><os><type>hvm</type></os></domain>`,
		}, "settings.json"),
		"settings inline": newCacheCase(t, map[string]string{
			"settings.json": `{"domains": [{"definition": {"type": "test", "name": "web", "memory": {"count": 64, "unit": "MiB"}, "os": {"type": "hvm"}}}]}`,
		}, "settings.json"),
	} {
		t.Run(name, func(t *testing.T) {
			cc.t = t
			if strings.HasPrefix(name, "settings") {
				cc.flags.connect = "test:///default"
			}
			first, hit := cc.wanted()
			if hit {
				t.Fatal("the first compile hit a record")
			}
			second, hit := cc.wanted()
			if !hit {
				t.Fatal("an unchanged input was compiled again")
			}
			if a, b := domain(t, first), domain(t, second); a.XML != b.XML || a.Hash != b.Hash || a.UserXML != b.UserXML {
				t.Errorf("the record differs from the compiled configuration:\n%+v\n%+v", a, b)
			}
			if !reflect.DeepEqual(first, second) {
				t.Errorf("the record differs from the compiled configuration:\n%+v\n%+v", first, second)
			}
		})
	}
}

// TestCompileCacheMisses: whatever the compiled configuration depends on
// that changed makes it compile anew, with the change.
func TestCompileCacheMisses(t *testing.T) {
	cases := []struct {
		name   string
		setup  func() *cacheCase
		change func(cc *cacheCase)
		check  func(t *testing.T, d *apply.Desired)
	}{
		{"entry field", func() *cacheCase { return cueCase(t, "host") }, func(cc *cacheCase) {
			write(t, filepath.Join(cc.dir, "host/host.cue"), strings.Replace(cacheHostCUE, "active: false", "active: true\n\tautostart: true", 1))
		}, func(t *testing.T, d *apply.Desired) {
			if w := domain(t, d); w.Active == nil || !*w.Active || w.Autostart == nil || !*w.Autostart {
				t.Errorf("active/autostart not read anew: %v %v", w.Active, w.Autostart)
			}
		}},
		{"imported template", func() *cacheCase { return cueCase(t, "host") }, func(cc *cacheCase) {
			write(t, filepath.Join(cc.dir, "tmpl/tmpl.cue"), strings.Replace(cacheTemplateCUE, "64", "128", 1))
		}, func(t *testing.T, d *apply.Desired) {
			if w := domain(t, d); !strings.Contains(w.XML, ">128<") {
				t.Errorf("the template's change is not in the definition:\n%s", w.XML)
			}
		}},
		{"template imported by a file argument", func() *cacheCase { return cueCase(t, "host/host.cue") }, func(cc *cacheCase) {
			write(t, filepath.Join(cc.dir, "tmpl/tmpl.cue"), strings.Replace(cacheTemplateCUE, "64", "128", 1))
		}, func(t *testing.T, d *apply.Desired) {
			if w := domain(t, d); !strings.Contains(w.XML, ">128<") {
				t.Errorf("the template's change is not in the definition:\n%s", w.XML)
			}
		}},
		{"file added to the package", func() *cacheCase { return cueCase(t, "host") }, func(cc *cacheCase) {
			write(t, filepath.Join(cc.dir, "host/more.cue"), "package host\n\nconnections: \"test:///default\": domains: web: autostart: true\n")
		}, func(t *testing.T, d *apply.Desired) {
			if w := domain(t, d); w.Autostart == nil || !*w.Autostart {
				t.Error("the new file's autostart is not read")
			}
		}},
		{"XML file", func() *cacheCase {
			cc := newCacheCase(t, map[string]string{
				"settings.json": `{"domains": [{"definition": "web.xml"}]}`,
				"web.xml":       `<domain type="test"><name>web</name><memory unit="MiB">64</memory><os><type>hvm</type></os></domain>`,
			}, "settings.json")
			cc.flags.connect = "test:///default"
			return cc
		}, func(cc *cacheCase) {
			write(t, filepath.Join(cc.dir, "web.xml"), `<domain type="test"><name>web</name><memory unit="MiB">96</memory><os><type>hvm</type></os></domain>`)
		}, func(t *testing.T, d *apply.Desired) {
			if w := domain(t, d); !strings.Contains(w.XML, ">96<") {
				t.Errorf("the XML file's change is not in the definition:\n%s", w.XML)
			}
		}},
		{"settings entry", func() *cacheCase {
			cc := newCacheCase(t, map[string]string{
				"settings.json": `{"domains": [{"definition": {"type": "test", "name": "web", "memory": {"count": 64, "unit": "MiB"}, "os": {"type": "hvm"}}}]}`,
			}, "settings.json")
			cc.flags.connect = "test:///default"
			return cc
		}, func(cc *cacheCase) {
			write(t, filepath.Join(cc.dir, "settings.json"), `{"domains": [{"definition": {"type": "test", "name": "web", "memory": {"count": 64, "unit": "MiB"}, "os": {"type": "hvm"}}, "restart": true}]}`)
		}, func(t *testing.T, d *apply.Desired) {
			if w := domain(t, d); w.Restart == nil || !*w.Restart {
				t.Error("restart is not read anew")
			}
		}},
		{"package overlaid in cue.mod/usr", func() *cacheCase {
			return newCacheCase(t, map[string]string{
				"cue.mod/module.cue":               "module: \"example.com/site@v0\"\nlanguage: version: \"v0.17.0\"\n",
				"cue.mod/pkg/ext.test/foo/foo.cue": "package foo\n\nauto: *false | bool\n",
				"host/host.cue": `package host

import "ext.test/foo"

connections: "test:///default": domains: web: {
	definition: {type: "test", uuid: "7e2e0000-0000-4000-8000-0000000000c1", memory: {count: 64, unit: "MiB"}, os: type: "hvm"}
	autostart: foo.auto
}
`,
			}, "host")
		}, func(cc *cacheCase) {
			// CUE takes the package from pkg and usr together.
			write(t, filepath.Join(cc.dir, "cue.mod/usr/ext.test/foo/more.cue"), "package foo\n\nauto: true\n")
		}, func(t *testing.T, d *apply.Desired) {
			if w := domain(t, d); w.Autostart == nil || !*w.Autostart {
				t.Error("the overlay's value is not read")
			}
		}},
		{"nixvirt build", func() *cacheCase { return cueCase(t, "host") }, func(cc *cacheCase) {
			old := buildIdentity
			buildIdentity = func() string { return old() + " rebuilt" }
			t.Cleanup(func() { buildIdentity = old })
		}, nil},
		{"owner flag", func() *cacheCase { return cueCase(t, "host") }, func(cc *cacheCase) {
			cc.flags.owner = "lab"
		}, func(t *testing.T, d *apply.Desired) {
			if d.Owner != "lab" || domain(t, d).Owner != "lab" {
				t.Errorf("owner %q, want lab", d.Owner)
			}
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cc := c.setup()
			cc.t = t
			cc.wanted()
			if _, hit := cc.wanted(); !hit {
				t.Fatal("no record to miss")
			}
			c.change(cc)
			d, hit := cc.wanted()
			if hit {
				t.Fatal("a changed input was taken from the record")
			}
			if c.check != nil {
				c.check(t, d)
			}
		})
	}
}

// TestCompileCacheNotRecordedWithoutApply: plan and apply --dry-run
// (record false) leave no record, and stdin is never recorded.
func TestCompileCacheNotRecordedWithoutApply(t *testing.T) {
	cc := cueCase(t, "host")
	cc.flags.record = false
	cc.wanted()
	if _, hit := cc.wanted(); hit {
		t.Error("plan recorded its compile")
	}
	if entries, _ := os.ReadDir(filepath.Join(cc.dir, "state")); len(entries) != 0 {
		t.Errorf("plan wrote the state directory: %v", entries)
	}
}

// keepOpen is a connection that a whole test shares: the test driver
// keeps a host only as long as its connection.
type keepOpen struct{ apply.Host }

func (keepOpen) Close() error { return nil }

// TestCompileCacheNoopApply: an apply of a recorded configuration still
// plans against the host: unchanged it makes no libvirt write at all, and
// a change made to the domain outside nixvirt (virsh edit) is still
// drift, put back.
func TestCompileCacheNoopApply(t *testing.T) {
	host := `<node><domain type="test"><name>other</name><uuid>7e2e0000-0000-4000-8000-0000000000c9</uuid><memory unit="MiB">64</memory><os><type>hvm</type></os></domain></node>`
	cc := newCacheCase(t, map[string]string{
		"host.xml": host,
		"settings.json": `{"domains": [{"definition": {"type": "test", "name": "web", "uuid": "7e2e0000-0000-4000-8000-0000000000c1",
			"memory": {"count": 64, "unit": "MiB"}, "os": {"type": "hvm"}}, "active": false}]}`,
	}, "settings.json")
	uri := "test://" + filepath.Join(cc.dir, "host.xml")
	cc.flags.connect = uri
	h, err := apply.Connect(uri)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	connect := func(string) (apply.Host, error) { return keepOpen{h}, nil }
	opts := apply.Options{Prune: true, State: apply.OpenState(filepath.Join(cc.dir, "state"))}
	run := func() *apply.Result {
		d, _ := cc.wanted()
		return apply.Apply(context.Background(), d, connect, opts, func(apply.Outcome) {})
	}
	if res := run(); res.Added != 1 || len(res.Failed) > 0 {
		t.Fatalf("first apply: %+v", res)
	}
	writes := h.Writes()
	if _, hit := cc.wanted(); !hit {
		t.Fatal("the unchanged settings were compiled again")
	}
	if res := run(); res.Added+res.Changed+res.Destroyed != 0 || len(res.Failed) > 0 || h.Writes() != writes {
		t.Fatalf("no-op apply from the record: %+v, %d libvirt writes", res, h.Writes()-writes)
	}

	// virsh edit: the stored definition changes, the mark stays.
	x, err := h.Definition(compiler.KindDomain, "7e2e0000-0000-4000-8000-0000000000c1")
	if err != nil {
		t.Fatal(err)
	}
	edited := strings.Replace(x, "<memory unit='KiB'>65536</memory>", "<memory unit='KiB'>131072</memory>", 1)
	if edited == x {
		t.Fatalf("cannot edit the memory of:\n%s", x)
	}
	if err := h.Define(compiler.KindDomain, edited); err != nil {
		t.Fatal(err)
	}
	d, hit := cc.wanted()
	if !hit {
		t.Fatal("the unchanged settings were compiled again")
	}
	p := apply.MakePlan(d, connect, opts)
	if len(p.Changes) != 1 || len(p.Changes[0].Actions) == 0 || p.Changes[0].Actions[0].Action != apply.Redefine ||
		p.Changes[0].Actions[0].Reasons[0].Code != apply.ReasonDrifted {
		t.Fatalf("drift not planned from the record: %+v", p.Changes)
	}
}

// TestCompileCacheSkipsEmbed: a package that embeds files (@embed) is
// never recorded, since the files it embeds are read while evaluating and
// a change to one must be seen.
func TestCompileCacheSkipsEmbed(t *testing.T) {
	cc := newCacheCase(t, map[string]string{
		"cue.mod/module.cue": "module: \"example.com/site@v0\"\nlanguage: version: \"v0.17.0\"\n",
		"host/host.cue": `@extern(embed)

package host

_size: _ @embed(file=size.json)

connections: "test:///default": domains: web: {
	definition: {type: "test", name: "web", uuid: "7e2e0000-0000-4000-8000-0000000000c2", memory: {count: _size.m, unit: "MiB"}, os: type: "hvm"}
	active: false
}
`,
		"host/size.json": `{"m": 70}`,
	}, "host")
	if _, hit := cc.wanted(); hit {
		t.Fatal("the first compile hit a record")
	}
	write(t, filepath.Join(cc.dir, "host/size.json"), `{"m": 72}`)
	d, hit := cc.wanted()
	if hit {
		t.Fatal("a package that embeds a file was taken from a record")
	}
	if w := domain(t, d); !strings.Contains(w.XML, ">72<") {
		t.Errorf("the embedded file's change is not in the definition:\n%s", w.XML)
	}
}

// TestCompileRecordDefinitionsApart: a record keeps its objects'
// definitions after its JSON, not in it, and gives back each one where it
// was, on every connection; the configuration recorded is left as it
// is; a record whose definitions are not as long as its JSON says, or not
// as many, is not used.
func TestCompileRecordDefinitionsApart(t *testing.T) {
	w := func(name string) *apply.Wanted {
		return &apply.Wanted{Kind: compiler.KindDomain, Name: name, Hash: "h-" + name,
			XML: "<domain><name>" + name + "</name><metadata/></domain>", Definition: "<domain><name>" + name + "</name></domain>",
			UserXML: "<domain>\n<name>" + name + "</name>\n</domain>"}
	}
	d := &apply.Desired{Owner: "lab", Objects: map[string][]*apply.Wanted{
		"test:///b": {w("b1")}, "test:///a": {w("a1"), w("a2")}, "test:///none": {},
	}}
	want := &apply.Desired{Owner: "lab", Objects: map[string][]*apply.Wanted{
		"test:///b": {w("b1")}, "test:///a": {w("a1"), w("a2")}, "test:///none": {},
	}}
	bare, docs, lengths := splitDocs(d)
	if !reflect.DeepEqual(d, want) {
		t.Fatal("splitDocs changed the configuration it records")
	}
	for _, ws := range bare.Objects {
		for _, o := range ws {
			if o.XML != "" || o.Definition != "" || o.UserXML != "" {
				t.Fatalf("a definition stayed in the JSON: %+v", o)
			}
		}
	}
	if !joinDocs(bare, string(docs), lengths) || !reflect.DeepEqual(bare, want) {
		t.Fatalf("joined back: %+v", bare)
	}
	for name, bad := range map[string]struct {
		docs    string
		lengths []int
	}{
		"short":    {string(docs[:len(docs)-1]), lengths},
		"long":     {string(docs) + "x", lengths},
		"fewer":    {string(docs), lengths[1:]},
		"negative": {string(docs), append([]int{-1}, lengths[1:]...)},
		"none":     {"", nil},
	} {
		bare, _, _ := splitDocs(d)
		if joinDocs(bare, bad.docs, bad.lengths) {
			t.Errorf("%s: a record whose definitions do not match was used", name)
		}
	}

	// On disk: one line of JSON without them, then the definitions.
	cc := newCacheCase(t, map[string]string{
		"settings.json": `{"domains": [{"definition": {"type": "test", "name": "web", "memory": {"count": 64, "unit": "MiB"}, "os": {"type": "hvm"}}}]}`,
	}, "settings.json")
	cc.flags.connect = "test:///default"
	first, _ := cc.wanted()
	files, _ := filepath.Glob(filepath.Join(cc.dir, "state", "compiled-*.json"))
	if len(files) != 1 {
		t.Fatalf("records: %v", files)
	}
	data, err := os.ReadFile(files[0])
	if err != nil {
		t.Fatal(err)
	}
	line, rest, _ := strings.Cut(string(data), "\n")
	if strings.Contains(line, "<domain") || !strings.HasPrefix(rest, domain(t, first).XML) {
		t.Errorf("record:\n%s", data)
	}
	if second, hit := cc.wanted(); !hit || !reflect.DeepEqual(first, second) {
		t.Errorf("from the record (hit %v): %+v, want %+v", hit, second, first)
	}
	// Cut short: compiled anew.
	if err := os.WriteFile(files[0], data[:len(data)-1], 0o600); err != nil {
		t.Fatal(err)
	}
	if _, hit := cc.wanted(); hit {
		t.Error("a record cut short was used")
	}
}

// TestCompileCacheStat: a file that had settled when it was recorded, and
// whose stat is unchanged, is not read again; one changed since is,
// however it was changed (the same size and modification time
// included), and one that had just changed when it was recorded is read
// every time.
func TestCompileCacheStat(t *testing.T) {
	xml := `<domain type="test"><name>web</name><memory unit="MiB">64</memory><os><type>hvm</type></os></domain>`
	files := map[string]string{
		"settings.json": `{"domains": [{"definition": "web.xml", "active": false}]}`,
		"web.xml":       xml,
	}
	hashed := func(cc *cacheCase) (bool, int64) {
		before := filesHashed.Load()
		_, hit := cc.wanted()
		return hit, filesHashed.Load() - before
	}

	// Just written: no stat stands for them.
	cc := newCacheCase(t, files, "settings.json")
	cc.flags.connect = "test:///default"
	cc.wanted()
	if hit, n := hashed(cc); !hit || n != 2 {
		t.Errorf("files just written: hit %v, %d files read, want both", hit, n)
	}

	defer func(s time.Duration) { settled = s }(settled)
	settled = 0
	cc = newCacheCase(t, files, "settings.json")
	cc.flags.connect = "test:///default"
	cc.wanted()
	if hit, n := hashed(cc); !hit || n != 0 {
		t.Errorf("settled files: hit %v, %d files read, want none", hit, n)
	}
	// The same size and modification time, other bytes: its change
	// time tells (a tick of the clock later).
	name := filepath.Join(cc.dir, "web.xml")
	fi, err := os.Stat(name)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond)
	write(t, name, strings.Replace(xml, "64", "65", 1))
	if err := os.Chtimes(name, fi.ModTime(), fi.ModTime()); err != nil {
		t.Fatal(err)
	}
	d, hit := cc.wanted()
	if hit || !strings.Contains(domain(t, d).UserXML, "65") {
		t.Errorf("a file changed in place: hit %v, definition %s", hit, domain(t, d).UserXML)
	}
}
