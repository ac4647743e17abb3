package apply

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"libvirt.org/go/libvirtxml"

	"nixvirt.dev/nixvirt/compiler"
)

func (k keepOpen) Unwrap() Host { return k.Host }

// uploadsRecorded is a test-driver host that records uploads, which the
// test driver does not support, and fills volumes otherwise as libvirt
// does.
type uploadsRecorded struct {
	keepOpen
	uploads *[]string
}

func (u uploadsRecorded) UploadVolume(pool, name, path string) error {
	*u.uploads = append(*u.uploads, pool+"/"+name)
	return nil
}

func (u uploadsRecorded) CloneVolume(pool, xml string, from compiler.VolumeRef) error {
	return u.Host.(volumeFiller).CloneVolume(pool, xml, from)
}

func (u uploadsRecorded) GrowVolume(pool, name string, capacity uint64) error {
	return u.Host.(volumeFiller).GrowVolume(pool, name, capacity)
}

func (th *testHost) recordUploads() *[]string {
	var uploads []string
	th.wrap = func(h Host) Host { return uploadsRecorded{keepOpen{h}, &uploads} }
	return &uploads
}

// poolWith is a configuration of one active dir pool with volumes.
func poolWith(volumes string) string {
	return `pools: store: {
		definition: {type: "dir", target: path: "/var/lib/nvt-store"}
		active: true
		volumes: {` + volumes + `}
	}`
}

func TestVolumeCloneThenNothing(t *testing.T) {
	th := newTestHost(t)
	cfg := poolWith(`
		"base.img": definition: capacity: {count: 1, unit: "MiB"}
		"copy.img": {definition: capacity: {count: 1, unit: "MiB"}, content: clone: {pool: "store", volume: "base.img"}}`)
	_, lines := th.apply(cfg)
	if got := strings.Join(lines, "\n"); !strings.Contains(got, "volume copy.img created") {
		t.Fatalf("apply said:\n%s", got)
	}
	if got := actions(th.plan(cfg)); got != "" {
		t.Fatalf("second plan: %s", got)
	}
	// Another source is another content: shown, and not overwritten.
	other := poolWith(`
		"base.img": definition: capacity: {count: 1, unit: "MiB"}
		"base2.img": definition: capacity: {count: 1, unit: "MiB"}
		"copy.img": {definition: capacity: {count: 1, unit: "MiB"}, content: clone: {pool: "store", volume: "base2.img"}}`)
	p := th.plan(other)
	var text bytes.Buffer
	RenderText(&text, p)
	if !strings.Contains(text.String(), `! volume "copy.img" in pool "store" cannot be planned: the declared content differs from what the volume holds (clone:store/base.img); apply never overwrites a volume: add replace: true`) {
		t.Fatalf("plan:\n%s", text.String())
	}
	// plan fails for it as apply does, rather than saying "No changes".
	if p.Problems() != 1 || !strings.Contains(text.String(), "Plan incomplete: 1 object(s) cannot be planned") {
		t.Errorf("%d problems; plan:\n%s", p.Problems(), text.String())
	}
	res := Apply(context.Background(), th.wanted(other), th.connect, Options{State: th.st}, func(Outcome) {})
	if len(res.Failed) != 1 || res.Failed[0].Kind != compiler.KindVolume || res.Failed[0].Name != "store/copy.img" {
		t.Fatalf("failures: %v", res.Failed)
	}
	replaced := strings.Replace(other, `content: clone`, `replace: true, content: clone`, 1)
	if got := actions(th.plan(replaced)); got != "pool/store:replace-volume:copy.img" {
		t.Fatalf("plan with replace: %s", got)
	}
	th.apply(replaced)
	if got := actions(th.plan(replaced)); got != "" {
		t.Fatalf("plan after replacing: %s", got)
	}
}

func TestVolumeCapacityGrowAndShrink(t *testing.T) {
	th := newTestHost(t)
	th.apply(poolWith(`"data.img": definition: capacity: {count: 1, unit: "MiB"}`))
	p := th.plan(poolWith(`"data.img": definition: capacity: {count: 2, unit: "MiB"}`))
	if got := actions(p); got != "pool/store:grow-volume:data.img" {
		t.Fatalf("larger capacity: %s", got)
	}
	if s := p.Changes[0].Actions[0]; s.Capacity != 2<<20 {
		t.Fatalf("grows to %d", s.Capacity)
	}
	p = th.plan(poolWith(`"data.img": definition: capacity: {count: 512, unit: "KiB"}`))
	if len(p.Changes[0].VolumeProblems) != 1 || p.Changes[0].VolumeProblems[0].Code != ProblemShrink {
		t.Fatalf("smaller capacity: %+v", p.Changes[0])
	}
	var text bytes.Buffer
	RenderText(&text, p)
	if !strings.Contains(text.String(), `capacity 524288 bytes is smaller than the volume's 1048576: volumes are grown, never shrunk`) {
		t.Fatalf("plan:\n%s", text.String())
	}
	var js bytes.Buffer
	RenderJSON(&js, p)
	if !strings.Contains(js.String(), `"code": "volume-shrink"`) {
		t.Fatalf("json:\n%s", js.String())
	}
}

func TestSeedVolumeAttachedAndRebuiltOnChange(t *testing.T) {
	th := newTestHost(t)
	domain := func(user string) string {
		return poolWith(``) + `
		domains: vm1: {
			definition: {type: "test", memory: {count: 64, unit: "MiB"}, os: type: "hvm"}
			cloudInit: {pool: "store", userData: {` + user + `}}
		}`
	}
	uploads := th.recordUploads()
	_, lines := th.apply(domain(`users: [{name: "ops"}]`))
	if got := strings.Join(lines, "\n"); !strings.Contains(got, "volume vm1-cidata.iso created") || len(*uploads) != 1 {
		t.Fatalf("apply said:\n%s\nuploads: %v", got, *uploads)
	}
	var d libvirtxml.Domain
	if err := d.Unmarshal(th.live(compiler.KindDomain, "vm1").XML); err != nil {
		t.Fatal(err)
	}
	var cd *libvirtxml.DomainDisk
	for i := range d.Devices.Disks {
		if d.Devices.Disks[i].Device == "cdrom" {
			cd = &d.Devices.Disks[i]
		}
	}
	if cd == nil || cd.ReadOnly == nil || cd.Source.Volume == nil || cd.Source.Volume.Volume != "vm1-cidata.iso" || cd.Source.Volume.Pool != "store" {
		t.Fatalf("no read-only seed CD-ROM: %s", th.live(compiler.KindDomain, "vm1").XML)
	}
	if got := actions(th.plan(domain(`users: [{name: "ops"}]`))); got != "" {
		t.Fatalf("unchanged seed: %s", got)
	}
	p := th.plan(domain(`users: [{name: "admin"}]`))
	if got := actions(p); got != "pool/store:replace-volume:vm1-cidata.iso" {
		t.Fatalf("changed seed: %s", got)
	}
	var text bytes.Buffer
	RenderText(&text, p)
	if !strings.Contains(text.String(), `a guest that already booted reads it only if cloud-init runs again`) {
		t.Fatalf("plan:\n%s", text.String())
	}
	th.apply(domain(`users: [{name: "admin"}]`))
	if len(*uploads) != 2 {
		t.Fatalf("uploads: %v", *uploads)
	}
	th.apply(domain(`users: [{name: "admin"}]`))
	if len(*uploads) != 2 {
		t.Fatalf("an unchanged seed was uploaded again: %v", *uploads)
	}
}

func TestFileContentChecksumMismatchCreatesNothing(t *testing.T) {
	th := newTestHost(t)
	file := filepath.Join(t.TempDir(), "disk.raw")
	os.WriteFile(file, []byte("not what was declared"), 0o644)
	cfg := poolWith(`"disk.img": {definition: capacity: {count: 1, unit: "MiB"}, content: {file: "` + file + `", sha256: "` + strings.Repeat("0", 64) + `"}}`)
	res := Apply(context.Background(), th.wanted(cfg), th.connect, Options{State: th.st}, func(Outcome) {})
	if len(res.Failed) != 1 || !strings.Contains(res.Failed[0].String(), "sha256 is") {
		t.Fatalf("failures: %v", res.Failed)
	}
	if th.live(compiler.KindPool, "store") != nil {
		t.Fatal("the pool was defined although its volume's content was wrong")
	}
}

func TestVolumeRecordsSurviveAndCorruptOnesStop(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	st := OpenState(dir)
	uri := "test:///default"
	if err := st.setVolume(uri, "c7a5fdbd-cdaf-9455-926a-d65c16db1809", "a.img", volumeRecord{Content: "sha256:ab"}); err != nil {
		t.Fatal(err)
	}
	if got := OpenState(dir).volume(uri, "C7A5FDBD-CDAF-9455-926A-D65C16DB1809", "a.img"); got.Content != "sha256:ab" {
		t.Fatalf("read back %+v", got)
	}
	file := OpenState(dir).file(uri, ".json")
	os.WriteFile(file, []byte(`{"pools": {}, "volumes": {"x/a.img": {"content": ""}}}`), 0o600)
	if err := OpenState(dir).check(uri); err == nil || !strings.Contains(err.Error(), "is corrupt (volume x/a.img has no content digest)") {
		t.Fatalf("corrupt record: %v", err)
	}
}

// A domain's seed goes with the domain, pruned or present: false, and
// only a seed nixvirt built: a volume of that name the user declared (or
// one of a domain that stays) is kept.
func TestSeedVolumeDeletedWithItsDomain(t *testing.T) {
	for _, gone := range []string{`domains: {}`, `domains: vm1: present: false`} {
		th := newTestHost(t)
		th.recordUploads()
		seeded := poolWith(`"vm2-cidata.iso": definition: capacity: {count: 1, unit: "MiB"}`) + `
		domains: vm1: {
			definition: {type: "test", memory: {count: 64, unit: "MiB"}, os: type: "hvm"}
			cloudInit: {pool: "store", userData: "#cloud-config\n"}
		}
		domains: vm2: definition: {type: "test", memory: {count: 64, unit: "MiB"}, os: type: "hvm",
			devices: disk: {type: "volume", device: "cdrom", source: {pool: "store", volume: "vm2-cidata.iso"}, target: {dev: "sda", bus: "sata"}}}`
		th.apply(seeded)
		// The user's own vm2-cidata.iso is no seed of nixvirt's: pruning
		// vm2 keeps it (the entry keeps declaring it, so it is not hers
		// to delete either way).
		without := poolWith(`"vm2-cidata.iso": definition: capacity: {count: 1, unit: "MiB"}`) + "\n" + gone
		p := th.plan(without)
		got := strings.Fields(actions(p))
		sort.Strings(got)
		if want := "domain/vm1:delete domain/vm1:delete-seed:vm1-cidata.iso domain/vm2:delete"; strings.Join(got, " ") != want {
			t.Fatalf("plan: %s, want %s", got, want)
		}
		if a, _, d := p.Counts(); a != 0 || d != 3 {
			t.Fatalf("counts: %d added, %d destroyed", a, d)
		}
		var text bytes.Buffer
		RenderText(&text, p)
		if !strings.Contains(text.String(), "  - volume \"vm1-cidata.iso\" in pool \"store\" will be deleted\n      # (the cloud-init seed nixvirt built for this domain, which is deleted)\n") {
			t.Fatalf("plan:\n%s", text.String())
		}
		_, lines := th.apply(without)
		if got := strings.Join(lines, "\n"); !strings.Contains(got, "domain/vm1 deleted, seed volume store/vm1-cidata.iso deleted") {
			t.Fatalf("apply said:\n%s", got)
		}
		vols, err := th.host.Volumes("store")
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, v := range vols {
			names = append(names, v.Name)
		}
		if strings.Join(names, " ") != "vm2-cidata.iso" {
			t.Fatalf("volumes left: %v", names)
		}
		if rec := th.st.volume(th.uri, th.live(compiler.KindPool, "store").UUID, "vm1-cidata.iso"); rec.Content != "" {
			t.Fatalf("the seed's record stays: %+v", rec)
		}
		if got := actions(th.plan(without)); got != "" {
			t.Fatalf("second plan: %s", got)
		}
	}
}

// A domain that stays but drops cloudInit loses its seed once it is
// redefined without it: stopped, at once; running, only when it no longer
// has the seed attached (after a restart), the plan saying meanwhile that
// it is kept.
func TestSeedVolumeDeletedWhenItsDomainDropsCloudInit(t *testing.T) {
	for _, running := range []bool{false, true} {
		th := newTestHost(t)
		th.recordUploads()
		active := fmt.Sprintf("active: %v, restart: false", running)
		seeded := poolWith(``) + `
		domains: vm1: {
			definition: {type: "test", memory: {count: 64, unit: "MiB"}, os: type: "hvm"}
			cloudInit: {pool: "store", userData: "#cloud-config\n"}
			` + active + `
		}`
		dropped := poolWith(``) + `
		domains: vm1: {
			definition: {type: "test", memory: {count: 64, unit: "MiB"}, os: type: "hvm"}
			` + active + `
		}`
		th.apply(seeded)
		seedVolumes := func() string {
			t.Helper()
			vols, err := th.host.Volumes("store")
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, v := range vols {
				names = append(names, v.Name)
			}
			return strings.Join(names, " ")
		}
		if got := seedVolumes(); got != "vm1-cidata.iso" {
			t.Fatalf("volumes after the first apply: %s", got)
		}
		p := th.plan(dropped)
		var text bytes.Buffer
		RenderText(&text, p)
		if !running {
			if got := actions(p); got != "domain/vm1:redefine domain/vm1:delete-seed:vm1-cidata.iso" {
				t.Fatalf("plan: %s\n%s", got, text.String())
			}
			if !strings.Contains(text.String(), "  - volume \"vm1-cidata.iso\" in pool \"store\" will be deleted\n      # (the cloud-init seed nixvirt built for this domain, which no longer has cloudInit; deleted after the domain is redefined without it)\n") {
				t.Fatalf("plan:\n%s", text.String())
			}
			_, lines := th.apply(dropped)
			if got := strings.Join(lines, "\n"); !strings.Contains(got, "domain/vm1 redefined, seed volume store/vm1-cidata.iso deleted") {
				t.Fatalf("apply said:\n%s", got)
			}
		} else {
			// The CD-ROM leaves the running domain at its next boot: the
			// seed stays until then.
			if got := actions(p); strings.Contains(got, "delete-seed") || !strings.Contains(text.String(), "cloud-init seed volume store/vm1-cidata.iso: kept while the running domain has it attached") {
				t.Fatalf("plan of a running domain: %s\n%s", got, text.String())
			}
			th.apply(dropped)
			if got := seedVolumes(); got != "vm1-cidata.iso" {
				t.Fatalf("the seed of a running domain went: %s", got)
			}
			var again bytes.Buffer
			RenderText(&again, th.plan(dropped))
			if !strings.Contains(again.String(), "kept while the running domain has it attached") {
				t.Fatalf("plan while it runs:\n%s", again.String())
			}
			uuid := th.live(compiler.KindDomain, "vm1").UUID
			if err := th.host.Stop(context.Background(), compiler.KindDomain, uuid, 0); err != nil {
				t.Fatal(err)
			}
			if err := th.host.Start(compiler.KindDomain, uuid); err != nil {
				t.Fatal(err)
			}
			if got := actions(th.plan(dropped)); got != "domain/vm1:delete-seed:vm1-cidata.iso" {
				t.Fatalf("plan after the restart: %s", got)
			}
			th.apply(dropped)
		}
		if got := seedVolumes(); got != "" {
			t.Fatalf("volumes left: %s", got)
		}
		if rec := th.st.volume(th.uri, th.live(compiler.KindPool, "store").UUID, "vm1-cidata.iso"); rec.Content != "" {
			t.Fatalf("the seed's record stays: %+v", rec)
		}
		if got := actions(th.plan(dropped)); got != "" {
			t.Fatalf("plan after: %s", got)
		}
	}
}

// A seed never overwrites a volume of its name that nixvirt did not write
// as a seed (an administrator's, or one a configuration declared): the
// plan says so, and apply leaves the volume.
func TestSeedNeverOverwritesAnotherVolume(t *testing.T) {
	th := newTestHost(t)
	th.apply(poolWith(`"vm1-cidata.iso": definition: capacity: {count: 1, unit: "MiB"}`))
	// The volume stays when its entry goes: apply deletes no volume that
	// present: false does not name.
	cfg := poolWith(``) + `
	domains: vm1: {
		definition: {type: "test", memory: {count: 64, unit: "MiB"}, os: type: "hvm"}
		cloudInit: {pool: "store", userData: {users: [{name: "ops"}]}}
	}`
	uploads := th.recordUploads()
	p := th.plan(cfg)
	if strings.Contains(actions(p), "replace-volume") {
		t.Fatalf("plan replaces the volume: %s", actions(p))
	}
	var text bytes.Buffer
	RenderText(&text, p)
	if !strings.Contains(text.String(), `the cloud-init seed of domain "vm1" is this volume's name, but nixvirt did not write it as a seed`) {
		t.Fatalf("plan:\n%s", text.String())
	}
	res := Apply(context.Background(), th.wanted(cfg), th.connect, Options{State: th.st}, func(Outcome) {})
	if len(res.Failed) != 1 || !strings.Contains(res.Failed[0].String(), "did not write it as a seed") {
		t.Fatalf("failures: %v", res.Failed)
	}
	if len(*uploads) != 0 {
		t.Fatalf("the volume was written: %v", *uploads)
	}
}

// A seed another domain has a disk on (an administrator booting a second
// guest from it) is kept when its own domain goes or drops cloudInit.
func TestSeedKeptWhileAnotherDomainUsesIt(t *testing.T) {
	th := newTestHost(t)
	th.recordUploads()
	other := `
	domains: other: definition: {type: "test", memory: {count: 64, unit: "MiB"}, os: type: "hvm",
		devices: disk: {type: "volume", device: "cdrom", source: {pool: "store", volume: "vm1-cidata.iso"}, target: {dev: "sda", bus: "sata"}}}`
	th.apply(poolWith(``) + `
	domains: vm1: {
		definition: {type: "test", memory: {count: 64, unit: "MiB"}, os: type: "hvm"}
		cloudInit: {pool: "store", userData: "#cloud-config\n"}
	}` + other)
	for _, without := range []string{
		poolWith(``) + other,
		poolWith(``) + other + `
	domains: vm1: definition: {type: "test", memory: {count: 64, unit: "MiB"}, os: type: "hvm"}`,
	} {
		if got := actions(th.plan(without)); strings.Contains(got, "delete-seed") {
			t.Fatalf("plan: %s", got)
		}
	}
}

// The content records of a pool's volumes are written once for the step
// that fills them, not once per volume (each write is the connection's
// whole record, synced), and all of them are on disk when the apply ends;
// so are the forgotten records of the volumes it deletes.
func TestVolumeRecordsWrittenOncePerStep(t *testing.T) {
	th := newTestHost(t)
	th.st.flushEvery = time.Hour
	var vols strings.Builder
	vols.WriteString(`"base.img": definition: capacity: {count: 1, unit: "MiB"}` + "\n")
	for i := 0; i < 40; i++ {
		fmt.Fprintf(&vols, "\"c%d.img\": {definition: capacity: {count: 1, unit: \"MiB\"}, content: clone: {pool: \"store\", volume: \"base.img\"}}\n", i)
	}
	th.apply(poolWith(vols.String()))
	// The pool's record, before and after its define, and the step's.
	if th.st.saves > 3 {
		t.Fatalf("the record was written %d times for 40 volumes", th.st.saves)
	}
	pool := th.live(compiler.KindPool, "store").UUID
	for i := 0; i < 40; i++ {
		if got := OpenState(th.st.dir).volume(th.uri, pool, fmt.Sprintf("c%d.img", i)).Content; got != "clone:store/base.img" {
			t.Fatalf("c%d.img recorded on disk as %q", i, got)
		}
	}
	th.st.saves = 0
	var gone strings.Builder
	gone.WriteString(`"base.img": definition: capacity: {count: 1, unit: "MiB"}` + "\n")
	for i := 0; i < 40; i++ {
		fmt.Fprintf(&gone, "\"c%d.img\": present: false\n", i)
	}
	th.apply(poolWith(gone.String()))
	if vols, err := th.host.Volumes("store"); err != nil || len(vols) != 1 {
		t.Fatalf("volumes left: %d %v", len(vols), err)
	}
	if th.st.saves > 1 {
		t.Fatalf("the record was written %d times for 40 deleted volumes", th.st.saves)
	}
	if got := OpenState(th.st.dir).volume(th.uri, pool, "c0.img").Content; got != "" {
		t.Fatalf("a deleted volume is still recorded on disk: %q", got)
	}
}

// A fill is written at once when the last write is older than flushEvery,
// so that an apply killed during long uploads loses the records of at most
// that long's fills.
func TestVolumeRecordWrittenAfterSlowFill(t *testing.T) {
	th := newTestHost(t)
	th.st.flushEvery = 0
	th.apply(poolWith(`"base.img": definition: capacity: {count: 1, unit: "MiB"}
		"c0.img": {definition: capacity: {count: 1, unit: "MiB"}, content: clone: {pool: "store", volume: "base.img"}}
		"c1.img": {definition: capacity: {count: 1, unit: "MiB"}, content: clone: {pool: "store", volume: "base.img"}}`))
	// The pool's record, before and after its define, and one per fill.
	if th.st.saves != 4 {
		t.Fatalf("the record was written %d times", th.st.saves)
	}
}
