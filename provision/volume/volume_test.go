package volume

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"libvirt.org/go/libvirt"
)

func testPool(t *testing.T) (*libvirt.Connect, *libvirt.StoragePool) {
	t.Helper()
	conn, err := libvirt.NewConnect("test:///default")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	pool, err := conn.LookupStoragePoolByName("default-pool")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pool.Free() })
	return conn, pool
}

func volXML(name string, capacity uint64) string {
	return fmt.Sprintf(`<volume><name>%s</name><capacity unit="bytes">%d</capacity><allocation>0</allocation><target><format type="raw"/></target></volume>`, name, capacity)
}

func TestCloneFrom(t *testing.T) {
	_, pool := testPool(t)
	source, err := pool.StorageVolCreateXML(volXML("base.img", 1<<20), 0)
	if err != nil {
		t.Fatal(err)
	}
	clone, err := CloneFrom(pool, volXML("clone.img", 1<<20), source)
	if err != nil {
		t.Fatal(err)
	}
	if name, _ := clone.GetName(); name != "clone.img" {
		t.Errorf("clone is named %q", name)
	}
	_, err = CloneFrom(pool, volXML("clone.img", 1<<20), source)
	if err == nil || !strings.Contains(err.Error(), `in pool "default-pool" as a copy of volume "base.img" in pool "default-pool"`) {
		t.Errorf("a clone onto an existing name: error %v", err)
	}
}

func TestGrowNeverShrinks(t *testing.T) {
	_, pool := testPool(t)
	vol, err := pool.StorageVolCreateXML(volXML("grow.img", 2<<20), 0)
	if err != nil {
		t.Fatal(err)
	}
	grew, err := Grow(vol, 2<<20)
	if err != nil || grew {
		t.Errorf("Grow to the same capacity: grew %v, error %v", grew, err)
	}
	_, err = Grow(vol, 1<<20)
	if err == nil || !strings.Contains(err.Error(), `volume "grow.img" in pool "default-pool": capacity 1048576 bytes is smaller than the volume's 2097152: volumes are grown, never shrunk`) {
		t.Errorf("Grow to a smaller capacity: error %v", err)
	}
	if err := CheckGrow(5, 6); err != nil {
		t.Errorf("CheckGrow(5, 6): %v", err)
	}
	// The test driver cannot resize; growing is tested end to end
	// (TestE2EUploadGrowClone).
}

func TestSectionFollowsHoles(t *testing.T) {
	f, err := os.Create(filepath.Join(t.TempDir(), "sparse.raw"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	const mib = 1 << 20
	if _, err := f.WriteAt(bytes.Repeat([]byte{1}, mib), mib); err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(3 * mib); err != nil {
		t.Fatal(err)
	}
	inData, length, err := section(f)
	if err != nil {
		t.Fatal(err)
	}
	if inData && length == 3*mib {
		t.Skip("this file system does not report holes (no SEEK_DATA)")
	}
	type sec struct {
		inData bool
		length int64
	}
	var got []sec
	for {
		inData, length, err := section(f)
		if err != nil {
			t.Fatal(err)
		}
		if length == 0 {
			break
		}
		got = append(got, sec{inData, length})
		if _, err := f.Seek(length, io.SeekCurrent); err != nil {
			t.Fatal(err)
		}
		if len(got) > 10 {
			t.Fatalf("no end after %v", got)
		}
	}
	want := []sec{{false, mib}, {true, mib}, {false, mib}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("sections %v, want %v", got, want)
	}
}
