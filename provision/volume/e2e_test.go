package volume

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"libvirt.org/go/libvirt"

	"nixvirt.dev/nixvirt/provision/nocloud"
)

// e2ePool connects to a real libvirtd (NIXVIRT_E2E_URI, e.g.
// qemu:///system) and starts a transient directory pool of the test's own,
// named nvxprov-…, under a temporary directory. The volumes the test
// appends to *vols and the pool are removed at the end.
func e2ePool(t *testing.T, vols *[]*libvirt.StorageVol) (*libvirt.Connect, *libvirt.StoragePool) {
	t.Helper()
	uri := os.Getenv("NIXVIRT_E2E_URI")
	if uri == "" {
		t.Skip("NIXVIRT_E2E_URI is not set (.ci/run sets it to qemu:///system after starting libvirtd)")
	}
	conn, err := libvirt.NewConnect(uri)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	poolName := fmt.Sprintf("nvxprov-%s-%d", strings.ToLower(strings.TrimPrefix(t.Name(), "TestE2E")), os.Getpid())
	pool, err := conn.StoragePoolCreateXML(fmt.Sprintf(`<pool type="dir"><name>%s</name><target><path>%s</path></target></pool>`, poolName, dir), 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for _, v := range *vols {
			if err := v.Delete(0); err != nil {
				t.Errorf("removing %s: %v", Describe(v), err)
			}
			v.Free()
		}
		// A transient pool disappears when destroyed.
		if err := pool.Destroy(); err != nil {
			t.Errorf("removing pool %s: %v", poolName, err)
		}
		pool.Free()
	})
	return conn, pool
}

// TestE2EUploadGrowClone uploads raw and qcow2 images, grows them,
// refuses to shrink them and clones one, on a real libvirtd.
func TestE2EUploadGrowClone(t *testing.T) {
	var vols []*libvirt.StorageVol
	conn, pool := e2ePool(t, &vols)

	// A 4 MiB raw image with 1 MiB of data in its second MiB.
	const mib = 1 << 20
	image := filepath.Join(t.TempDir(), "image.raw")
	data := bytes.Repeat([]byte("nixvirt!"), mib/8)
	f, err := os.Create(image)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt(data, mib); err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(4 * mib); err != nil {
		t.Fatal(err)
	}
	f.Close()

	vol, err := pool.StorageVolCreateXML(volXML("nvxprov-disk.raw", 4*mib), 0)
	if err != nil {
		t.Fatal(err)
	}
	vols = append(vols, vol)
	sparse, err := Upload(conn, vol, image)
	if err != nil {
		t.Fatal(err)
	}
	if !sparse {
		t.Error("the upload was not sparse")
	}
	path, err := vol.GetPath()
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	want := make([]byte, 4*mib)
	copy(want[mib:], data)
	if !bytes.Equal(got, want) {
		t.Errorf("the volume does not hold the image (%d bytes)", len(got))
	}
	info, err := vol.GetInfo()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("capacity %d, allocation %d after a sparse upload", info.Capacity, info.Allocation)
	if info.Allocation >= 2*mib {
		t.Errorf("allocation %d: the holes were written out", info.Allocation)
	}

	grew, err := Grow(vol, 8*mib)
	if err != nil || !grew {
		t.Fatalf("Grow to 8 MiB: grew %v, error %v", grew, err)
	}
	if info, _ := vol.GetInfo(); info.Capacity != 8*mib {
		t.Errorf("capacity %d after growing to %d", info.Capacity, 8*mib)
	}
	if _, err := Grow(vol, 4*mib); err == nil || !strings.Contains(err.Error(), "never shrunk") {
		t.Errorf("Grow to a smaller capacity: error %v", err)
	}
	if info, _ := vol.GetInfo(); info.Capacity != 8*mib {
		t.Errorf("capacity %d after a refused shrink", info.Capacity)
	}

	// A qcow2 image says its own virtual size: once uploaded into a
	// smaller qcow2 volume, the volume has the image's capacity, and
	// growing and the refusal to shrink start from there.
	qcow2 := filepath.Join(t.TempDir(), "image.qcow2")
	if out, err := exec.Command("qemu-img", "create", "-q", "-f", "qcow2", qcow2, "64M").CombinedOutput(); err != nil {
		t.Fatalf("qemu-img: %v\n%s", err, out)
	}
	qvol, err := pool.StorageVolCreateXML(`<volume><name>nvxprov-disk.qcow2</name><capacity unit="bytes">1048576</capacity><allocation>0</allocation><target><format type="qcow2"/></target></volume>`, 0)
	if err != nil {
		t.Fatal(err)
	}
	vols = append(vols, qvol)
	if _, err := Upload(conn, qvol, qcow2); err != nil {
		t.Fatal(err)
	}
	if info, _ := qvol.GetInfo(); info.Capacity != 64*mib {
		t.Errorf("capacity %d after uploading a 64 MiB qcow2 image", info.Capacity)
	}
	if _, err := Grow(qvol, 32*mib); err == nil || !strings.Contains(err.Error(), "never shrunk") {
		t.Errorf("Grow of the qcow2 volume to less than its image: error %v", err)
	}
	if grew, err := Grow(qvol, 128*mib); err != nil || !grew {
		t.Errorf("Grow of the qcow2 volume: grew %v, error %v", grew, err)
	}

	clone, err := CloneFrom(pool, volXML("nvxprov-clone.raw", 8*mib), vol)
	if err != nil {
		t.Fatal(err)
	}
	vols = append(vols, clone)
	clonePath, _ := clone.GetPath()
	cloned, err := os.ReadFile(clonePath)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(cloned[:4*mib], want) {
		t.Error("the clone does not hold the source's content")
	}
}

// TestE2ESeedVolume uploads a NoCloud seed into a volume as apply will,
// and reads the volume back with isoinfo: label, Rock Ridge and Joliet
// names, content.
func TestE2ESeedVolume(t *testing.T) {
	var vols []*libvirt.StorageVol
	conn, pool := e2ePool(t, &vols)
	if _, err := exec.LookPath("isoinfo"); err != nil {
		t.Fatal("isoinfo (Debian package genisoimage) is needed to read the seed back")
	}
	seed, err := nocloud.Seed{Hostname: "nvxprov-web", UserData: map[string]any{"hostname": "nvxprov-web"}}.Build()
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "seed.iso")
	if err := os.WriteFile(file, seed.ISO, 0o600); err != nil {
		t.Fatal(err)
	}
	vol, err := pool.StorageVolCreateXML(fmt.Sprintf(`<volume><name>%s</name><capacity unit="bytes">%d</capacity><allocation>0</allocation><target><format type="raw"/></target></volume>`, nocloud.VolumeName("nvxprov-web"), len(seed.ISO)), 0)
	if err != nil {
		t.Fatal(err)
	}
	vols = append(vols, vol)
	if _, err := Upload(conn, vol, file); err != nil {
		t.Fatal(err)
	}
	path, err := vol.GetPath()
	if err != nil {
		t.Fatal(err)
	}
	isoinfo := func(args ...string) string {
		out, err := exec.Command("isoinfo", append([]string{"-i", path}, args...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("isoinfo %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	if d := isoinfo("-d"); !strings.Contains(d, "Volume id: cidata\n") || !strings.Contains(d, "Joliet") || !strings.Contains(d, "Rock Ridge") {
		t.Errorf("the seed volume is not a cidata image with Joliet and Rock Ridge:\n%s", d)
	}
	for _, tree := range []string{"-R", "-J"} {
		if got := isoinfo(tree, "-x", "/user-data"); got != "#cloud-config\nhostname: nvxprov-web\n" {
			t.Errorf("isoinfo %s: user-data %q", tree, got)
		}
		if got := isoinfo(tree, "-x", "/meta-data"); got != "instance-id: nvxprov-web\nlocal-hostname: nvxprov-web\n" {
			t.Errorf("isoinfo %s: meta-data %q", tree, got)
		}
	}
}
