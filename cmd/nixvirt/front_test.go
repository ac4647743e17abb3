package main

import (
	"encoding/json"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"nixvirt.dev/nixvirt/internal/testconfig"
)

// buildThree builds nixvirt as it is installed: the front
// (cmd/nixvirt-front) as nixvirt, the build without libvirt beside it as
// nixvirt-cue and the whole build as nixvirt-libvirt.
func buildThree(t *testing.T) (dir string) {
	t.Helper()
	if testing.Short() {
		t.Skip("builds nixvirt three times")
	}
	dir = t.TempDir()
	copyFile(t, builtBinary(t, "../nixvirt-front"), filepath.Join(dir, "nixvirt"))
	copyFile(t, builtBinary(t, "-tags", "nolibvirt", "."), filepath.Join(dir, "nixvirt-cue"))
	copyFile(t, builtBinary(t, "."), filepath.Join(dir, libvirtBuildName))
	return dir
}

// frontFixtures are the files the command lines of TestFrontMatchesWholeBuild
// read: valid and invalid JSON documents of every kind, whole-host
// configurations, NixVirt settings files (inline definitions and XML files)
// and a CUE document.
func frontFixtures(t *testing.T) map[string]string {
	t.Helper()
	one, err := json.Marshal(testconfig.Domain(0))
	if err != nil {
		t.Fatal(err)
	}
	return map[string]string{
		"domain.json":      string(one),
		"network.json":     `{"name": "lab", "forward": {"mode": "nat"}, "ip": {"address": "10.231.0.1", "netmask": "255.255.255.0"}}`,
		"pool.json":        `{"type": "dir", "name": "vms", "target": {"path": "/var/lib/vms"}}`,
		"volume.json":      `{"name": "a.qcow2", "capacity": {"count": 1, "unit": "GiB"}, "target": {"format": {"type": "qcow2"}}}`,
		"secret.json":      `{"ephemeral": false, "private": true, "usage": {"type": "volume", "volume": "/var/lib/vms/a.qcow2"}}`,
		"bad.json":         `{"type": "kvm", "name": "web", "memory": {"count": "x"}}`,
		"typo.json":        `{"type": "kvm", "name": "web", "memroy": {"count": 1, "unit": "GiB"}}`,
		"badip.json":       `{"name": "lab", "uuid": "c7a5fdbd", "ip": {"address": "10.0.300.1", "netmask": "255.255.255.0"}}`,
		"manybad.json":     `{"connections": {"test:///default": {"domains": {"web": {"definition": {"type": "kvm", "uuid": "c7a5fdbd", "memory": {"count": -4, "unit": "XB"}, "os": {"type": "hvm"}, "bogus": 1}}, "old": {"definition": "old.xml"}}}}}`,
		"notjson.json":     `{"type": "kvm",`,
		"latin1.json":      "{\"type\": \"kvm\", \"name\": \"caf\xe9\"}",
		"host.json":        string(testconfig.DomainsJSON(3)),
		"web.cue":          `type: "kvm", name: "web", memory: {count: 1, unit: "GiB"}, os: type: "hvm"` + "\n",
		"settings.json":    `{"domains": [{"active": true, "definition": {"type": "kvm", "name": "web", "memory": {"count": 1, "unit": "GiB"}, "os": {"type": "hvm"}}, "restart": null}], "networks": null, "pools": [{"active": true, "definition": {"type": "dir", "name": "vms", "target": {"path": "/var/lib/nvxfront"}}, "volumes": [{"definition": {"name": "a.img", "capacity": {"count": 1, "unit": "GiB"}}, "name": null, "present": true}, {"definition": null, "name": "old.img", "present": false}]}]}`,
		"settings":         `{"domains": [{"definition": {"type": "kvm", "name": "web", "memory": {"count": 1, "unit": "GiB"}, "os": {"type": "hvm"}}}]}`,
		"settings.cue":     `{"domains": []}`,
		"xmlsettings.json": `{"domains": [{"active": true, "definition": "web.xml", "restart": null}], "networks": [{"definition": "lab.xml"}]}`,
		"badsettings.json": `{"domains": [{"definition": {"type": "kvm", "name": "web"}, "active": "yes"}]}`,
		"web.xml":          "<domain type=\"kvm\"><name>web</name><memory unit=\"GiB\">1</memory><os><type>hvm</type></os></domain>\n",
		"lab.xml":          "<network><name>lab</name><bridge name=\"virbr-nvxfr\"/></network>\n",
		"multi.json": `{"connections": {
  "test:///default": {
    "shutdownTimeout": 30,
    "networks": {"lab": {"definition": {"forward": {"mode": "nat"}}, "active": true, "restart": null}},
    "pools": [{"definition": {"type": "dir", "name": "vms", "target": {"path": "/var/lib/vms"}}, "autostart": true,
      "volumes": [{"name": "a.qcow2", "definition": {"capacity": {"count": 1, "unit": "GiB"}, "name": "a.qcow2"}},
                  {"name": "b.img", "definition": {"capacity": {"count": 2, "unit": "GiB"}, "name": "b.img"}},
                  {"name": "old.img", "present": false, "definition": null}]},
              {"definition": {"type": "dir", "name": "isos", "target": {"path": "/var/lib/isos"}},
      "volumes": {"c.iso": {"definition": {"capacity": {"count": 1, "unit": "MiB"}}}}}],
    "domains": {
      "web": {"definition": {"type": "kvm", "os": {"type": "hvm"}, "memory": {"count": 1, "unit": "GiB"}, "description": null}, "shutdownTimeout": 5, "keepNvram": false},
      "gone": {"present": false}
    }
  },
  "qemu:///session": {"domains": [{"definition": {"type": "kvm", "name": "desk", "os": {"type": "hvm"}, "memory": {"count": 2, "unit": "GiB"}}}]},
  "qemu+ssh://root@host/system": {"networks": []}
}}`,
	}
}

type frontCase struct {
	args []string
	// byFront: the front runs it itself (it must, alone, give the same
	// result); otherwise it may hand it over.
	byFront bool
}

// streamCase is a command line whose input or output is not a plain
// file, which the front hands over.
type streamCase struct {
	args []string
	// fifo names a fixture that is given as a named pipe, its bytes
	// written once.
	fifo string
	// closedStdout runs the command with its stdout closed (>&-).
	closedStdout bool
	// code is the exit code wanted.
	code int
}

// TestFrontMatchesWholeBuild runs command lines through the front, as
// installed with nixvirt-cue and nixvirt-libvirt beside it, and through the
// whole build, each in a fresh copy of the fixtures, and wants the same
// stdout, stderr, exit code and files. The command lines the front runs
// itself run a third time through the front alone, which would fail had
// it handed them over.
func TestFrontMatchesWholeBuild(t *testing.T) {
	bins := buildThree(t)
	front, whole := filepath.Join(bins, "nixvirt"), filepath.Join(bins, libvirtBuildName)
	alone := filepath.Join(t.TempDir(), "nixvirt")
	copyFile(t, front, alone)
	repo, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	fixtures := frontFixtures(t)
	outside := t.TempDir()
	env := []string{"NO_COLOR=1", "PATH=/usr/bin:/bin"}
	var cases []frontCase
	for _, k := range []string{"domain", "network", "pool", "volume", "secret"} {
		cases = append(cases,
			frontCase{[]string{"export", "--kind", k, k + ".json"}, true},
			frontCase{[]string{"export", "--kind=" + k, k + ".json"}, true},
			frontCase{[]string{"vet", "--kind", k, k + ".json"}, true},
			frontCase{[]string{"vet", k + ".json", "--kind=" + k, "--output", "json"}, true},
		)
	}
	cases = append(cases,
		frontCase{[]string{"export", "--out", "out", "host.json"}, true},
		frontCase{[]string{"export", "--out=out", "multi.json"}, true},
		frontCase{[]string{"export", "multi.json", "--out", filepath.Join(outside, "out")}, true},
		frontCase{[]string{"vet", "multi.json"}, true},
		frontCase{[]string{"vet", "--output=json", "host.json"}, true},
		frontCase{[]string{"vet", "--output", "text", "host.json"}, true},
		frontCase{[]string{"vet", "--connect", "test:///default", "settings.json"}, true},
		frontCase{[]string{"vet", "--connect=qemu:///system", "settings", "--output", "json"}, true},
		frontCase{[]string{"export", "--connect", "qemu:///system", "--out", "out", "settings.json"}, true},
		frontCase{[]string{"export", "--out", "out", "--connect=test:///default", "settings"}, true},

		// What the front hands over: errors, CUE, XML files, other
		// commands and flags.
		frontCase{[]string{"export", "--kind", "domain", "bad.json"}, false},
		frontCase{[]string{"vet", "--kind", "domain", "bad.json", "--output", "json"}, false},
		frontCase{[]string{"vet", "--kind", "domain", "typo.json"}, false},
		frontCase{[]string{"vet", "--kind", "network", "badip.json"}, false},
		frontCase{[]string{"export", "--kind", "network", "badip.json"}, false},
		frontCase{[]string{"vet", "manybad.json"}, false},
		frontCase{[]string{"vet", "--output", "json", "manybad.json"}, false},
		frontCase{[]string{"vet", "--kind", "domain", "notjson.json"}, false},
		frontCase{[]string{"vet", "--kind", "domain", "latin1.json"}, false},
		frontCase{[]string{"vet", "--kind", "network", "domain.json"}, false},
		frontCase{[]string{"vet", "--kind", "machine", "domain.json"}, false},
		frontCase{[]string{"vet", "--kind", "domain", "nosuchfile.json"}, false},
		frontCase{[]string{"vet", "nosuchfile.json"}, false},
		frontCase{[]string{"vet", "--kind", "domain", "domain.json", "bad.json"}, false},
		frontCase{[]string{"vet", "--kind", "domain"}, false},
		frontCase{[]string{"vet", "--kind", "domain", "web.cue"}, false},
		frontCase{[]string{"export", "--kind", "domain", "web.cue"}, false},
		frontCase{[]string{"vet", "--kind", "domain", "-e", "type", "domain.json"}, false},
		frontCase{[]string{"vet", "--kind", "domain", "--kind", "domain", "domain.json"}, false},
		frontCase{[]string{"vet", "--kind=", "host.json"}, false},
		frontCase{[]string{"vet", "--output", "yaml", "host.json"}, false},
		frontCase{[]string{"vet", "--no-such-flag", "host.json"}, false},
		frontCase{[]string{"vet", "--kind", "domain", "--", "domain.json"}, false},
		frontCase{[]string{"vet", "host.json", "--kind"}, false},
		frontCase{[]string{"export", "host.json"}, false},
		frontCase{[]string{"export", "--kind", "domain", "--out", "out", "domain.json"}, false},
		frontCase{[]string{"export", "--kind", "domain", "--connect", "test:///default", "domain.json"}, false},
		frontCase{[]string{"export", "--out", "out", "--output", "json", "host.json"}, false},
		frontCase{[]string{"export", "--out", "domain.json", "host.json"}, false},
		frontCase{[]string{"vet", "--connect", "test:///default", "settings.cue"}, false},
		frontCase{[]string{"vet", "--connect", "test:///default", "xmlsettings.json"}, false},
		frontCase{[]string{"export", "--connect", "test:///default", "--out", "out", "xmlsettings.json"}, false},
		frontCase{[]string{"vet", "--connect", "test:///default", "badsettings.json"}, false},
		frontCase{[]string{"vet", "--connect", "test:///default", "badsettings.json", "--output", "json"}, false},
		frontCase{[]string{"vet", "-c", "test:///default", "settings.json"}, false},
		frontCase{[]string{"vet", filepath.Join(repo, "examples", "host")}, false},
		frontCase{[]string{"export", "--out", "out", filepath.Join(repo, "examples", "host")}, false},
		frontCase{[]string{"vet"}, false},
		frontCase{[]string{"import", "web.xml"}, false},
		frontCase{[]string{"plan", "--connect", "test:///default", "settings.json"}, false},
		frontCase{[]string{"plan", "--output", "json", filepath.Join(repo, "examples", "host")}, false},
		frontCase{[]string{"apply", "--yes", "--connect", "test:///default", "settings.json"}, false},
		frontCase{[]string{"status", "--connect", "test:///default", "test"}, false},
		frontCase{[]string{"import", "--connect", "test:///default", "--kind", "network"}, false},
		frontCase{[]string{"__complete", "vet", "--output", ""}, false},
		frontCase{[]string{"help", "vet"}, false},
		frontCase{[]string{"help", "apply"}, false},
		frontCase{[]string{"vet", "--help"}, false},
		frontCase{[]string{"--help"}, false},
		frontCase{[]string{}, false},
		frontCase{[]string{"version"}, false},
		frontCase{[]string{"--version"}, false},
		frontCase{[]string{"nosuchcommand"}, false},
	)
	for _, c := range cases {
		t.Run(strings.Join(c.args, " "), func(t *testing.T) {
			want, wantFiles := runInCopy(t, whole, fixtures, env, c.args)
			got, gotFiles := runInCopy(t, front, fixtures, env, c.args)
			if got != want {
				t.Errorf("through the front:\n%+v\nthe whole build:\n%+v", got, want)
			}
			if gotFiles != wantFiles {
				t.Errorf("files through the front:\n%s\nthe whole build's:\n%s", gotFiles, wantFiles)
			}
			if c.byFront {
				if want.code != 0 {
					t.Fatalf("the front is to run it, but it fails: %+v", want)
				}
				if got, gotFiles := runInCopy(t, alone, fixtures, env, c.args); got != want || gotFiles != wantFiles {
					t.Errorf("the front alone does not run it:\n%+v\n%s", got, gotFiles)
				}
			}
			os.RemoveAll(filepath.Join(outside, "out"))
		})
	}
	streams := []streamCase{
		// A pipe gives its bytes once: whoever reads it keeps them
		// (invalid JSON was read again, and waited for ever).
		{args: []string{"vet", "--kind", "domain", "notjson.json"}, fifo: "notjson.json", code: 1},
		{args: []string{"vet", "--kind", "domain", "bad.json"}, fifo: "bad.json", code: 1},
		{args: []string{"export", "--kind", "domain", "domain.json"}, fifo: "domain.json", code: 0},
		{args: []string{"vet", "--kind", "domain", "web.cue"}, fifo: "web.cue", code: 0},
		{args: []string{"vet", "--connect", "test:///default", "badsettings.json"}, fifo: "badsettings.json", code: 1},
		{args: []string{"export", "--out", "out", "host.json"}, fifo: "host.json", code: 0},
		{args: []string{"vet", "--kind", "domain", "settings"}, fifo: "settings", code: 1},
		// A closed stdout fails the command that writes to it.
		{args: []string{"export", "--kind", "domain", "domain.json"}, closedStdout: true, code: 1},
		{args: []string{"export", "--kind", "domain", "web.cue"}, closedStdout: true, code: 1},
		{args: []string{"vet", "--kind", "domain", "domain.json", "--output", "json"}, closedStdout: true, code: 1},
		{args: []string{"vet", "--kind", "domain", "domain.json"}, closedStdout: true, code: 0},
		{args: []string{"import", "web.xml"}, closedStdout: true, code: 1},
		{args: []string{"version"}, closedStdout: true, code: 1},
	}
	for _, c := range streams {
		what := "pipe " + c.fifo
		if c.closedStdout {
			what = "stdout closed"
		}
		t.Run(what+" "+strings.Join(c.args, " "), func(t *testing.T) {
			want, wantFiles := runStreamInCopy(t, whole, fixtures, env, c)
			got, gotFiles := runStreamInCopy(t, front, fixtures, env, c)
			if got != want {
				t.Errorf("through the front:\n%+v\nthe whole build:\n%+v", got, want)
			}
			if gotFiles != wantFiles {
				t.Errorf("files through the front:\n%s\nthe whole build's:\n%s", gotFiles, wantFiles)
			}
			if want.code != c.code {
				t.Errorf("exit %d, want %d: %+v", want.code, c.code, want)
			}
		})
	}
}

// runInCopy runs bin in a fresh directory holding the fixtures, and
// returns what it printed (the directory's path and bin's replaced) and
// every file of the directory and of --out's absolute example, listed
// with their contents.
func runInCopy(t *testing.T, bin string, fixtures map[string]string, env []string, args []string) (ran, string) {
	t.Helper()
	return runStreamInCopy(t, bin, fixtures, env, streamCase{args: args})
}

// runStreamInCopy is runInCopy with c's pipe and closed stdout.
func runStreamInCopy(t *testing.T, bin string, fixtures map[string]string, env []string, c streamCase) (ran, string) {
	t.Helper()
	args := c.args
	dir := t.TempDir()
	for name, body := range fixtures {
		if name == c.fifo {
			continue
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if c.fifo != "" {
		stop := feedFIFO(t, filepath.Join(dir, c.fifo), fixtures[c.fifo])
		defer stop()
	}
	// A state directory of its own: apply keeps records there.
	env = append(env, "NIXVIRT_STATE_DIR="+filepath.Join(dir, ".state"))
	var r ran
	if c.fifo != "" || c.closedStdout {
		r = runStreams(t, bin, dir, env, c.closedStdout, args...)
	} else {
		r = runBinary(t, bin, dir, env, args...)
	}
	r.stdout = strings.ReplaceAll(r.stdout, dir, "WORK")
	r.stderr = strings.ReplaceAll(r.stderr, dir, "WORK")
	var files strings.Builder
	roots := []string{dir}
	for i, a := range args {
		if filepath.IsAbs(a) && filepath.Base(a) == "out" && i > 0 && args[i-1] == "--out" {
			roots = append(roots, a)
		}
	}
	for _, root := range roots {
		_ = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			rel, _ := filepath.Rel(root, p)
			if _, fixture := fixtures[rel]; (fixture || strings.HasPrefix(rel, ".state")) && root == dir {
				return nil
			}
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			files.WriteString("-- " + rel + " --\n" + string(data))
			return nil
		})
		if root != dir {
			// The absolute --out of the next run starts empty.
			os.RemoveAll(root)
		}
	}
	return r, files.String()
}

// feedFIFO makes name a named pipe and writes body to it once, for the
// one reader that opens it; stop ends the writer if none did.
func feedFIFO(t *testing.T, name, body string) (stop func()) {
	t.Helper()
	if err := syscall.Mkfifo(name, 0o644); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		f, err := os.OpenFile(name, os.O_WRONLY, 0)
		if err != nil {
			return
		}
		defer f.Close()
		_, _ = f.WriteString(body) // a reader that stops early is its own failure
	}()
	return func() {
		select {
		case <-done:
		default:
			// Nobody opened it: a reader unblocks the writer.
			if f, err := os.OpenFile(name, os.O_RDONLY|syscall.O_NONBLOCK, 0); err == nil {
				<-done
				f.Close()
			}
		}
	}
}

// runStreams runs bin as runBinary does, with its stdout closed as the
// shell's >&- closes it when closedStdout, and fails the test when it runs
// for more than a minute (a command waiting on a pipe read twice).
func runStreams(t *testing.T, bin, dir string, env []string, closedStdout bool, args ...string) ran {
	t.Helper()
	devnull, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	defer devnull.Close()
	files := []*os.File{devnull, nil, nil}
	var readers []*os.File
	for i := 1; i <= 2; i++ {
		if i == 1 && closedStdout {
			continue
		}
		r, w, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		defer w.Close()
		files[i] = w
		readers = append(readers, r)
	}
	p, err := os.StartProcess(bin, append([]string{bin}, args...), &os.ProcAttr{Dir: dir, Env: append(os.Environ(), env...), Files: files})
	for _, f := range files[1:] {
		if f != nil {
			f.Close()
		}
	}
	if err != nil {
		t.Fatal(err)
	}
	timer := time.AfterFunc(time.Minute, func() { _ = p.Kill() })
	defer timer.Stop()
	outs := make([]chan string, len(readers))
	for i, r := range readers {
		outs[i] = make(chan string, 1)
		go func(r *os.File, out chan<- string) {
			data, _ := io.ReadAll(r)
			out <- string(data)
		}(r, outs[i])
	}
	var got []string
	for _, out := range outs {
		got = append(got, <-out)
	}
	st, err := p.Wait()
	if err != nil {
		t.Fatal(err)
	}
	if !st.Exited() {
		t.Fatalf("%s %s: %v (did it wait on a pipe read twice?)", bin, strings.Join(args, " "), st)
	}
	stdout, stderr := "", got[len(got)-1]
	if !closedStdout {
		stdout = got[0]
	}
	return ran{stdout, strings.ReplaceAll(stderr, bin, "BIN"), st.ExitCode()}
}

func copyFile(t *testing.T, src, dst string) {
	t.Helper()
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, data, 0o755); err != nil {
		t.Fatal(err)
	}
}

// TestFrontAlone: the front hands over to whichever of nixvirt-cue and
// nixvirt-libvirt is there, says what is missing when neither is, and
// refuses, rather than running in a loop, a nixvirt-cue or
// nixvirt-libvirt that is itself the front or (for nixvirt-libvirt) the
// build without libvirt.
func TestFrontAlone(t *testing.T) {
	bins := buildThree(t)
	repo, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	env := []string{"PATH=/usr/bin:/bin", "NIXVIRT_STATE_DIR=" + t.TempDir()}
	install := func(names map[string]string) string {
		dir := t.TempDir()
		for name, build := range names {
			copyFile(t, filepath.Join(bins, build), filepath.Join(dir, name))
		}
		return filepath.Join(dir, "nixvirt")
	}
	check := func(what string, r ran, code int, says ...string) {
		t.Helper()
		if r.code != code {
			t.Errorf("%s: exit %d, want %d: %+v", what, r.code, code, r)
		}
		for _, s := range says {
			if !strings.Contains(r.stderr, s) {
				t.Errorf("%s: stderr does not say %q: %+v", what, s, r)
			}
		}
	}

	// With nixvirt-cue and no nixvirt-libvirt: as the build without
	// libvirt alone (TestBuildWithoutLibvirtAlone).
	nv := install(map[string]string{"nixvirt": "nixvirt", "nixvirt-cue": "nixvirt-cue"})
	check("vet without nixvirt-libvirt", runBinary(t, nv, repo, env, "vet", "./examples/host"), 0)
	check("plan without nixvirt-libvirt", runBinary(t, nv, repo, env, "plan", "./examples/host"), 1, "nixvirt-libvirt, which is neither beside", "go build -o")
	check("import --connect without nixvirt-libvirt", runBinary(t, nv, repo, env, "import", "--connect", "test:///default"), 1, "nixvirt-libvirt")

	// A nixvirt-libvirt built without libvirt.
	nv = install(map[string]string{"nixvirt": "nixvirt", "nixvirt-cue": "nixvirt-cue", libvirtBuildName: "nixvirt-cue"})
	check("plan with a nixvirt-libvirt built without libvirt", runBinary(t, nv, repo, env, "plan", "./examples/host"), 1, "is built with -tags nolibvirt too")
	check("help plan with a nixvirt-libvirt built without libvirt", runBinary(t, nv, repo, env, "help", "plan"), 1, "is built with -tags nolibvirt too")

	// A nixvirt-libvirt that is there but not executable is said to be so,
	// not missing.
	nv = install(map[string]string{"nixvirt": "nixvirt", "nixvirt-cue": "nixvirt-cue", libvirtBuildName: libvirtBuildName})
	if err := os.Chmod(filepath.Join(filepath.Dir(nv), libvirtBuildName), 0o644); err != nil {
		t.Fatal(err)
	}
	check("plan with a nixvirt-libvirt not executable", runBinary(t, nv, repo, env, "plan", "./examples/host"), 1, "-libvirt is not executable: chmod +x")

	// Only nixvirt-libvirt: it runs everything.
	nv = install(map[string]string{"nixvirt": "nixvirt", libvirtBuildName: libvirtBuildName})
	check("vet with only nixvirt-libvirt", runBinary(t, nv, repo, env, "vet", "./examples/host"), 0)
	check("plan with only nixvirt-libvirt", runBinary(t, nv, repo, env, "plan", "./examples/host"), 0)

	// The front alone runs valid JSON, and says what else it needs.
	nv = install(map[string]string{"nixvirt": "nixvirt"})
	doc := filepath.Join(filepath.Dir(nv), "web.json")
	if err := os.WriteFile(doc, []byte(`{"type": "kvm", "name": "web", "memory": {"count": 1, "unit": "GiB"}, "os": {"type": "hvm"}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	check("vet of valid JSON by the front alone", runBinary(t, nv, repo, env, "vet", "--kind", "domain", doc), 0)
	check("vet of CUE by the front alone", runBinary(t, nv, repo, env, "vet", "./examples/host"), 1, "neither of which is beside", "go build -tags nolibvirt -o", "-cue ./cmd/nixvirt")

	// Copies of the front under the others' names.
	nv = install(map[string]string{"nixvirt": "nixvirt", "nixvirt-cue": "nixvirt", libvirtBuildName: libvirtBuildName})
	check("vet with a nixvirt-cue that is the front", runBinary(t, nv, repo, env, "vet", "./examples/host"), 1, "is the front build of nixvirt", "installed as nixvirt-cue", "-tags nolibvirt")
	nv = install(map[string]string{"nixvirt": "nixvirt", "nixvirt-cue": "nixvirt-cue", libvirtBuildName: "nixvirt"})
	check("plan with a nixvirt-libvirt that is the front", runBinary(t, nv, repo, env, "plan", "./examples/host"), 1, "is the front build of nixvirt", "installed as nixvirt-libvirt")
}
