package apply

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"libvirt.org/go/libvirtxml"

	"nixvirt.dev/nixvirt/compiler"
	"nixvirt.dev/nixvirt/provision/download"
	"nixvirt.dev/nixvirt/provision/nocloud"
)

// Volume actions beyond creating and deleting.
const (
	// ReplaceVolume deletes a volume and creates it again with its
	// declared content (replace: true, or a cloud-init seed).
	ReplaceVolume Action = "replace-volume"
	// GrowVolume sets a larger capacity (Step.Capacity).
	GrowVolume Action = "grow-volume"
)

const (
	// ReasonContentChanged: the declared content differs from what
	// nixvirt put in the volume, and the entry says replace: true.
	ReasonContentChanged ReasonCode = "content-changed"
	// ReasonSeedChanged: a text of the cloud-init seed of domain Name
	// changed.
	ReasonSeedChanged ReasonCode = "seed-changed"
	// ReasonCapacityGrows: the entry's capacity is larger than the
	// volume's.
	ReasonCapacityGrows ReasonCode = "capacity-grows"
)

const (
	// ProblemContentDiffers: the declared content differs from what the
	// volume got (Detail: the recorded digest, "" when nixvirt put
	// nothing in it), and the entry does not say replace: true.
	ProblemContentDiffers ProblemCode = "content-differs"
	// ProblemShrink: the entry's capacity is smaller than the volume's
	// (Detail: both, in bytes).
	ProblemShrink ProblemCode = "volume-shrink"
	// ProblemContentUnreadable: the declared file cannot be read or does
	// not match its sha256 (Detail: why).
	ProblemContentUnreadable ProblemCode = "content-unreadable"
	// ProblemSeedTaken: a domain's cloud-init seed volume is named as a
	// volume that holds what nixvirt did not write as a seed (Detail: the
	// domain), which apply does not overwrite.
	ProblemSeedTaken ProblemCode = "seed-volume-taken"
)

// VolumeProblem is why one volume of a pool cannot be planned; the pool
// and its other volumes are planned as usual.
type VolumeProblem struct {
	Volume string
	Problem
}

// VolumeProblemText words a volume's problem.
func VolumeProblemText(pool string, vp VolumeProblem) string {
	switch vp.Code {
	case ProblemContentDiffers:
		got := "content nixvirt did not put there"
		if vp.Detail != "" {
			got = vp.Detail
		}
		return fmt.Sprintf("the declared content differs from what the volume holds (%s); apply never overwrites a volume: add replace: true to recreate it", got)
	case ProblemShrink:
		return fmt.Sprintf("capacity %s: volumes are grown, never shrunk", vp.Detail)
	case ProblemContentUnreadable:
		return vp.Detail
	case ProblemSeedTaken:
		return fmt.Sprintf("the cloud-init seed of domain %q is this volume's name, but nixvirt did not write it as a seed; apply never overwrites it: rename or delete the volume, or give cloudInit another pool", vp.Detail)
	}
	return string(vp.Code)
}

// volumeRecord is what nixvirt put in a volume: the content's digest
// ("sha256:HEX" of a file or a download, "sha512:HEX" of a download,
// "clone:POOL/VOLUME", or "seed:" and the seed's digest). It is what tells a second apply that
// nothing is to be uploaded; libvirt keeps no such thing.
type volumeRecord struct {
	Content string `json:"content"`
}

func volumeKey(poolUUID, name string) string { return canonicalUUID(poolUUID) + "/" + name }

func (s *State) volume(uri, poolUUID, name string) volumeRecord {
	if s == nil {
		return volumeRecord{}
	}
	if _, err := s.load(uri); err != nil {
		return volumeRecord{}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.vols[uri][volumeKey(poolUUID, name)]
}

// setVolume records (rec.Content != "") or forgets what a volume holds.
// The record is written with the step's (saveVolumes), or at once for a
// fill when the last write is older than flushEvery (see state.go).
func (s *State) setVolume(uri, poolUUID, name string, rec volumeRecord) error {
	if _, err := s.load(uri); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	key := volumeKey(poolUUID, name)
	if _, had := s.vols[uri][key]; !had && rec.Content == "" {
		return nil
	}
	if rec.Content == "" {
		delete(s.vols[uri], key)
	} else {
		s.vols[uri][key] = rec
	}
	s.unsavedVolumes[uri] = true
	if rec.Content != "" && time.Since(s.lastSave[uri]) >= s.flushEvery {
		return s.save(uri)
	}
	return nil
}

// contentDigest is what a volume's record says when it holds v's
// content; "" when v declares none. A file without a declared sha256 is
// read to compute it.
func contentDigest(v WantedVolume) (string, error) {
	switch c := v.Content; {
	case v.Seed != nil:
		return "seed:" + v.Seed.Digest, nil
	case c == nil:
		return "", nil
	case c.Clone != nil:
		return "clone:" + c.Clone.Pool + "/" + c.Clone.Volume, nil
	case c.URL != "" && c.SHA512 != "":
		return "sha512:" + strings.ToLower(c.SHA512), nil
	case c.URL != "":
		return "sha256:" + strings.ToLower(c.SHA256), nil
	case c.SHA256 != "":
		return "sha256:" + strings.ToLower(c.SHA256), nil
	}
	sum, err := download.VerifyFile(v.Content.File, "")
	if err != nil {
		return "", err
	}
	return "sha256:" + sum, nil
}

// contentText says where a volume's content comes from, for plans.
func contentText(v WantedVolume) string {
	switch c := v.Content; {
	case v.Seed != nil:
		return "cloud-init seed of domain " + v.Seed.Domain
	case c == nil:
		return ""
	case c.Clone != nil:
		return fmt.Sprintf("copy of volume %q in pool %q", c.Clone.Volume, c.Clone.Pool)
	case c.URL != "":
		return "from " + c.URL
	}
	return "from " + v.Content.File
}

// planVolume plans an existing volume the entry keeps: its content, when
// declared, against the record, and its capacity against the live one.
func planVolume(uri string, c *planned, v WantedVolume, live LiveVolume, st *State) {
	problem := func(code ProblemCode, detail string) {
		c.VolumeProblems = append(c.VolumeProblems, VolumeProblem{Volume: v.Name, Problem: Problem{Code: code, Detail: detail}})
	}
	want, err := contentDigest(v)
	if err != nil {
		problem(ProblemContentUnreadable, err.Error())
		return
	}
	if want != "" {
		got := st.volume(uri, c.UUID, v.Name).Content
		switch {
		case got == want:
		case v.Seed != nil && !strings.HasPrefix(got, "seed:"):
			problem(ProblemSeedTaken, v.Seed.Domain)
			return
		case v.Seed != nil:
			c.Actions = append(c.Actions, Step{Action: ReplaceVolume, Volume: v.Name, Content: contentText(v),
				Reasons: []Reason{{Code: ReasonSeedChanged, Name: v.Seed.Domain}}})
			return
		case v.Replace:
			c.Actions = append(c.Actions, Step{Action: ReplaceVolume, Volume: v.Name, Content: contentText(v),
				Reasons: []Reason{because(ReasonContentChanged)}})
			return
		default:
			problem(ProblemContentDiffers, got)
			return
		}
	}
	if v.Seed != nil || v.Capacity == 0 {
		return
	}
	have := volumeCapacity(live.XML)
	switch {
	case v.Capacity > have:
		c.Actions = append(c.Actions, Step{Action: GrowVolume, Volume: v.Name, Capacity: v.Capacity,
			Reasons: []Reason{because(ReasonCapacityGrows)}})
	case v.Capacity < have:
		problem(ProblemShrink, fmt.Sprintf("%d bytes is smaller than the volume's %d", v.Capacity, have))
	}
}

// volumeCapacity is the capacity, in bytes, a volume definition declares;
// 0 when it declares none.
func volumeCapacity(volXML string) uint64 {
	var v libvirtxml.StorageVolume
	if v.Unmarshal(volXML) != nil || v.Capacity == nil {
		return 0
	}
	return sizeBytes(v.Capacity.Value, v.Capacity.Unit)
}

// sizeBytes converts a count in one of libvirt's units ("bytes", "KiB"
// or "K" for 1024, "KB" for 1000, and so on up to E) to bytes.
func sizeBytes(n uint64, unit string) uint64 {
	u := strings.ToLower(unit)
	if u == "" || u == "b" || u == "byte" || u == "bytes" {
		return n
	}
	power := strings.IndexByte("kmgtpe", u[0]) + 1
	if power == 0 {
		return n
	}
	base := uint64(1024)
	if len(u) == 2 && u[1] == 'b' {
		base = 1000
	}
	for ; power > 0; power-- {
		n *= base
	}
	return n
}

// volumeFiller is what filling and growing volumes needs of a host
// beyond Host: streams and create-from, which only a libvirt connection
// has.
type volumeFiller interface {
	// UploadVolume writes the file at path into the volume.
	UploadVolume(pool, name, path string) error
	// CloneVolume creates the volume xml describes as a copy of from.
	CloneVolume(pool, xml string, from compiler.VolumeRef) error
	// GrowVolume sets a larger capacity; it refuses a smaller one.
	GrowVolume(pool, name string, capacity uint64) error
}

// poolRefresher is a Host that can rescan a running pool's volumes.
type poolRefresher interface {
	// RefreshPool makes libvirt scan the pool's volumes again; the pool
	// keeps running.
	RefreshPool(pool string) error
}

// hostAs is h as a T, or the host h wraps (a test double's) as one.
func hostAs[T any](h Host) (T, bool) {
	t, ok := h.(T)
	if u, wraps := h.(interface{ Unwrap() Host }); wraps && !ok {
		t, ok = u.Unwrap().(T)
	}
	return t, ok
}

// contentFiles are the local files volume content is uploaded from, by
// pool change and volume name: downloads and declared files, verified,
// and seed images written into the state directory.
type contentFiles map[*planned]map[string]string

// fetchContent downloads and verifies the content of every volume apply
// is to fill, before any object is changed: a wrong checksum fails its
// pool and creates nothing in it.
func (ex *executor) fetchContent(changes []*planned) contentFiles {
	files := contentFiles{}
	for _, c := range changes {
		if c.Kind != compiler.KindPool || c.wanted == nil || c.Problem != nil {
			continue
		}
		for _, s := range c.Actions {
			if s.Action != CreateVolume && s.Action != ReplaceVolume {
				continue
			}
			v := c.wanted.volume(s.Volume)
			path, err := ex.contentFile(v)
			if err != nil {
				ex.fail(c, "prepare the content of volume "+s.Volume, err)
				break
			}
			if path != "" {
				if files[c] == nil {
					files[c] = map[string]string{}
				}
				files[c][s.Volume] = path
			}
		}
	}
	return files
}

func (ex *executor) contentFile(v WantedVolume) (string, error) {
	switch c := v.Content; {
	case v.Seed != nil:
		if _, err := ex.st.checkDir(true); err != nil {
			return "", err
		}
		path := filepath.Join(ex.st.dir, "seed-"+strings.TrimPrefix(v.Seed.Digest, "sha256:")+".iso")
		// A leftover of a killed run is rebuilt, never trusted.
		if err := os.Remove(path); err != nil && !os.IsNotExist(err) {
			return "", err
		}
		return path, writeFileAtomic(path, v.Seed.ISO)
	case c == nil || c.Clone != nil:
		return "", nil
	case c.URL != "":
		if _, err := ex.st.checkDir(true); err != nil {
			return "", err
		}
		cache := &download.Cache{Dir: filepath.Join(ex.st.dir, "cache")}
		return cache.Fetch(ex.finish, download.Source{URL: c.URL, SHA256: c.SHA256, SHA512: c.SHA512})
	}
	if _, err := download.VerifyFile(v.Content.File, v.Content.SHA256); err != nil {
		return "", err
	}
	return v.Content.File, nil
}

// volumes creates, fills, replaces, grows and deletes a pool's volumes.
func (ex *executor) volumes(c *planned, files contentFiles) {
	w := c.wanted
	h := ex.h
	var pending []Step
	for _, s := range c.Actions {
		switch s.Action {
		case CreateVolume, DeleteVolume, ReplaceVolume, GrowVolume:
			pending = append(pending, s)
		}
	}
	if len(pending) == 0 {
		return
	}
	ex.unsavedVolumes = append(ex.unsavedVolumes, c)
	// A copy or an overlay is made after the volumes of the pool it may
	// be made from, whatever the order of the entries.
	sort.SliceStable(pending, func(i, j int) bool {
		return !dependsOnVolume(w.volume(pending[i].Volume)) && dependsOnVolume(w.volume(pending[j].Volume))
	})
	if c.has(RefreshPool) {
		if r, ok := hostAs[poolRefresher](h); ok {
			if err := r.RefreshPool(w.Name); err != nil {
				ex.fail(c, "refresh", err)
				return
			}
			ex.note(c, Step{Action: RefreshPool})
		}
	}
	// The pool may have been inactive when planned, or refreshed: list
	// again.
	existing := map[string]bool{}
	vols, err := h.Volumes(w.Name)
	if err != nil {
		ex.fail(c, "list volumes", err)
		return
	}
	for _, v := range vols {
		existing[v.Name] = true
	}
	filler, _ := h.(volumeFiller)
	if u, ok := h.(interface{ Unwrap() Host }); ok && filler == nil {
		filler, _ = u.Unwrap().(volumeFiller)
	}
	for _, s := range pending {
		v := w.volume(s.Volume)
		switch {
		case s.Action == ReplaceVolume && existing[s.Volume]:
			if err := h.DeleteVolume(w.Name, s.Volume); err != nil {
				ex.fail(c, "replace volume "+s.Volume, err)
				return
			}
			fallthrough
		case s.Action == CreateVolume && !existing[s.Volume], s.Action == ReplaceVolume:
			if err := ex.createVolume(c, v, files[c][s.Volume], filler); err != nil {
				ex.fail(c, "create volume "+s.Volume, err)
				return
			}
			ex.note(c, Step{Action: s.Action, Volume: s.Volume})
		case s.Action == CreateVolume:
			// Planned as missing, but there now: never overwritten.
			ex.note(c, Step{Action: CreateVolume, Volume: s.Volume, Reasons: []Reason{because(ReasonVolumeFound)}})
		case s.Action == GrowVolume && existing[s.Volume]:
			if filler == nil {
				ex.fail(c, "grow volume "+s.Volume, fmt.Errorf("this connection cannot resize volumes"))
				return
			}
			if err := filler.GrowVolume(w.Name, s.Volume, s.Capacity); err != nil {
				ex.fail(c, "grow volume "+s.Volume, err)
				return
			}
			ex.note(c, Step{Action: GrowVolume, Volume: s.Volume, Capacity: s.Capacity})
		case s.Action == DeleteVolume && existing[s.Volume]:
			if err := h.DeleteVolume(w.Name, s.Volume); err != nil {
				ex.fail(c, "delete volume "+s.Volume, err)
				return
			}
			ex.note(c, Step{Action: DeleteVolume, Volume: s.Volume})
			if err := ex.st.setVolume(h.URI(), w.UUID, s.Volume, volumeRecord{}); err != nil {
				ex.addFailure(c, "forget nixvirt's record of volume "+s.Volume, err)
			}
		}
	}
}

// createVolume creates a volume and fills it from path (a file) or its
// clone source, grows it to its declared capacity, and records its
// content.
func (ex *executor) createVolume(c *planned, v WantedVolume, path string, filler volumeFiller) error {
	w, h := c.wanted, ex.h
	digest, err := contentDigest(v)
	if err != nil {
		return err
	}
	if digest != "" && filler == nil {
		return fmt.Errorf("this connection cannot fill volumes (%s)", contentText(v))
	}
	switch {
	case v.Content != nil && v.Content.Clone != nil:
		if err := filler.CloneVolume(w.Name, v.XML, *v.Content.Clone); err != nil {
			return err
		}
	case path != "":
		// The volume must hold the whole file: its capacity is at least
		// the file's size until the upload tells libvirt the image's own.
		fi, err := os.Stat(path)
		if err != nil {
			return err
		}
		x, err := withCapacityAtLeast(v.XML, uint64(fi.Size()))
		if err != nil {
			return err
		}
		if err := h.CreateVolume(w.Name, x); err != nil {
			return err
		}
		if err := filler.UploadVolume(w.Name, v.Name, path); err != nil {
			// The volume was created empty just now: it goes, so that the
			// next apply fills it again rather than see it as there.
			if derr := h.DeleteVolume(w.Name, v.Name); derr != nil {
				return fmt.Errorf("%v; deleting the half-filled volume failed too (delete it by hand): %v", err, libvirtMessage(derr))
			}
			return err
		}
		if v.Seed != nil {
			// Rebuilt from its texts whenever it is needed.
			_ = os.Remove(path)
		}
	default:
		if err := h.CreateVolume(w.Name, v.XML); err != nil {
			return err
		}
	}
	if digest != "" && v.Capacity > 0 && v.Seed == nil {
		if err := filler.GrowVolume(w.Name, v.Name, v.Capacity); err != nil {
			return err
		}
	}
	return ex.st.setVolume(h.URI(), w.UUID, v.Name, volumeRecord{Content: digest})
}

// withCapacityAtLeast is a volume definition whose capacity is at least
// size bytes, with no allocation (the upload allocates what it writes).
func withCapacityAtLeast(volXML string, size uint64) (string, error) {
	var v libvirtxml.StorageVolume
	if err := v.Unmarshal(volXML); err != nil {
		return "", err
	}
	if v.Capacity == nil || sizeBytes(v.Capacity.Value, v.Capacity.Unit) < size {
		v.Capacity = &libvirtxml.StorageVolumeSize{Value: size, Unit: "bytes"}
	}
	v.Allocation = &libvirtxml.StorageVolumeSize{Value: 0, Unit: "bytes"}
	return v.Marshal()
}

// dependsOnVolume reports whether a volume is made from another: a copy,
// or an overlay on a backing store.
func dependsOnVolume(v WantedVolume) bool {
	return v.Content != nil && v.Content.Clone != nil || strings.Contains(v.XML, "<backingStore>")
}

func (w *Wanted) volume(name string) WantedVolume {
	for _, v := range w.Volumes {
		if v.Name == name {
			return v
		}
	}
	return WantedVolume{Name: name}
}

// seedVolume is the cloud-init seed of a domain, as a volume of its pool.
type seedVolume struct {
	Domain string
	Digest string
	ISO    []byte
}

// buildSeed builds a domain's seed volume and returns its entry.
func buildSeed(domain string, ci *compiler.CloudInit) (WantedVolume, error) {
	img, err := nocloud.Seed{Hostname: domain, UserData: ci.UserData, MetaData: ci.MetaData, NetworkConfig: ci.NetworkConfig}.Build()
	if err != nil {
		return WantedVolume{}, err
	}
	name := nocloud.VolumeName(domain)
	vx, err := (&libvirtxml.StorageVolume{Name: name,
		Capacity: &libvirtxml.StorageVolumeSize{Value: uint64(len(img.ISO)), Unit: "bytes"},
		Target:   &libvirtxml.StorageVolumeTarget{Format: &libvirtxml.StorageVolumeTargetFormat{Type: "raw"}}}).Marshal()
	if err != nil {
		return WantedVolume{}, err
	}
	return WantedVolume{Name: name, Present: true, XML: vx, Seed: &seedVolume{Domain: domain, Digest: img.Digest, ISO: img.ISO}}, nil
}

// withSeedDisk adds to a domain definition the read-only CD-ROM of its
// seed volume, unless a disk uses that volume already: on SATA (IDE
// where the domain's disks are), on the first free sdX (hdX) target.
func withSeedDisk(domXML, pool, volume string) (string, error) {
	var d libvirtxml.Domain
	if err := d.Unmarshal(domXML); err != nil {
		return "", err
	}
	if d.Devices == nil {
		d.Devices = &libvirtxml.DomainDeviceList{}
	}
	bus, prefix := "sata", "sd"
	used := map[string]bool{}
	for _, disk := range d.Devices.Disks {
		if s := disk.Source; s != nil && s.Volume != nil && s.Volume.Pool == pool && s.Volume.Volume == volume {
			return domXML, nil
		}
		if disk.Target != nil {
			used[disk.Target.Dev] = true
			if disk.Target.Bus == "ide" {
				bus, prefix = "ide", "hd"
			}
		}
	}
	dev := ""
	for c := 'a'; c <= 'z' && dev == ""; c++ {
		if !used[prefix+string(c)] {
			dev = prefix + string(c)
		}
	}
	disk := libvirtxml.DomainDisk{Device: "cdrom",
		Source:   &libvirtxml.DomainDiskSource{Volume: &libvirtxml.DomainDiskSourceVolume{Pool: pool, Volume: volume}},
		Target:   &libvirtxml.DomainDiskTarget{Dev: dev, Bus: bus},
		ReadOnly: &libvirtxml.DomainDiskReadOnly{}}
	if d.Type == "kvm" || d.Type == "qemu" {
		disk.Driver = &libvirtxml.DomainDiskDriver{Name: "qemu", Type: "raw"}
	}
	d.Devices.Disks = append(d.Devices.Disks, disk)
	return d.Marshal()
}

// volumeFailures are a pool's volume problems as failures of apply.
func volumeFailures(c *Change) []Failure {
	var out []Failure
	for _, vp := range c.VolumeProblems {
		p := vp.Problem
		out = append(out, Failure{Connection: c.Connection, Kind: compiler.KindVolume, Name: c.Name + "/" + vp.Volume, Problem: &p})
	}
	return out
}
