package iso9660

import (
	"bytes"
	"encoding/binary"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// isoinfo runs genisoimage's isoinfo, a reader independent of this
// package, on image. CI installs it; elsewhere the test is skipped.
func isoinfo(t *testing.T, image []byte, args ...string) string {
	t.Helper()
	if _, err := exec.LookPath("isoinfo"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("isoinfo (Debian package genisoimage) is needed in CI")
		}
		t.Skip("isoinfo (Debian package genisoimage) is not installed")
	}
	path := filepath.Join(t.TempDir(), "image.iso")
	if err := os.WriteFile(path, image, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("isoinfo", append([]string{"-i", path}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("isoinfo %v: %v\n%s", args, err, out)
	}
	return string(out)
}

var sample = Image{VolumeID: "cidata", Files: []File{
	{Name: "user-data", Data: []byte("#cloud-config\nhostname: web\n")},
	{Name: "meta-data", Data: []byte("instance-id: web\n")},
	{Name: "network-config", Data: bytes.Repeat([]byte("version: 2\n"), 400)}, // more than a sector
	{Name: "empty", Data: nil},
}}

func TestImageReadByIsoinfo(t *testing.T) {
	img, err := Write(sample)
	if err != nil {
		t.Fatal(err)
	}
	if len(img)%sectorSize != 0 {
		t.Errorf("image size %d is not a whole number of sectors", len(img))
	}
	desc := isoinfo(t, img, "-d")
	for _, want := range []string{"Volume id: cidata", "Joliet with UCS level 3 found", "Rock Ridge signatures version 1 found", "Logical block size is: 2048"} {
		if !strings.Contains(desc, want) {
			t.Errorf("isoinfo -d lacks %q:\n%s", want, desc)
		}
	}
	// Each tree shows its own names, and each name gives the content.
	trees := []struct {
		flag  string
		names map[string]string // name in this tree → name given
	}{
		{"-R", map[string]string{"user-data": "user-data", "meta-data": "meta-data", "network-config": "network-config", "empty": "empty"}},
		{"-J", map[string]string{"user-data": "user-data", "meta-data": "meta-data", "network-config": "network-config", "empty": "empty"}},
		{"", map[string]string{"USER_DAT.;1": "user-data", "META_DAT.;1": "meta-data", "NETWORK_.;1": "network-config", "EMPTY.;1": "empty"}},
	}
	for _, tree := range trees {
		var flags []string
		if tree.flag != "" {
			flags = []string{tree.flag}
		}
		listing := isoinfo(t, img, append(flags, "-l")...)
		for name, given := range tree.names {
			if !strings.Contains(listing, " "+name+" \n") {
				t.Errorf("isoinfo %s -l does not list %q:\n%s", tree.flag, name, listing)
			}
			got := isoinfo(t, img, append(flags, "-x", "/"+name)...)
			var want []byte
			for _, f := range sample.Files {
				if f.Name == given {
					want = f.Data
				}
			}
			if got != string(want) {
				t.Errorf("isoinfo %s -x /%s: got %d bytes, want %d", tree.flag, name, len(got), len(want))
			}
		}
	}
	// Rock Ridge gives the POSIX attributes: read-only, owned by root.
	if listing := isoinfo(t, img, "-R", "-l"); !strings.Contains(listing, "-r--r--r--   1    0    0              28 Jan  1 2000") {
		t.Errorf("Rock Ridge attributes of user-data not as written:\n%s", listing)
	}
}

func TestImageIsAFunctionOfItsFiles(t *testing.T) {
	first, err := Write(sample)
	if err != nil {
		t.Fatal(err)
	}
	reversed := Image{VolumeID: sample.VolumeID}
	for i := len(sample.Files) - 1; i >= 0; i-- {
		reversed.Files = append(reversed.Files, sample.Files[i])
	}
	second, err := Write(reversed)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(first, second) {
		t.Error("the same files in another order gave another image")
	}
	changed := Image{VolumeID: sample.VolumeID, Files: append([]File{{Name: "user-data", Data: []byte("#cloud-config\n")}}, sample.Files[1:]...)}
	third, err := Write(changed)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(first, third) {
		t.Error("another content gave the same image")
	}
}

func TestWriteRefusesBadNames(t *testing.T) {
	for _, tc := range []struct {
		img  Image
		want string
	}{
		{Image{VolumeID: "cidata", Files: []File{{Name: "a/b"}}}, `"a/b" is not a plain file name`},
		{Image{VolumeID: "cidata", Files: []File{{Name: ".."}}}, `".." is not a plain file name`},
		{Image{VolumeID: "cidata", Files: []File{{Name: "user-data"}, {Name: "user_data"}}}, `"user-data" and "user_data" both become "USER_DAT.;1"`},
		{Image{VolumeID: "", Files: nil}, "volume label"},
		{Image{VolumeID: "cidata", Files: []File{{Name: strings.Repeat("x", 65)}}}, "longer than 64"},
	} {
		_, err := Write(tc.img)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Write(%v): error %v, want one containing %s", tc.img.Files, err, tc.want)
		}
	}
}

// TestRootRecordEntries checks the system use entries of the root's "."
// record, which readers use to detect Rock Ridge: SP first (SUSP
// requires it), CE last (go-diskfs, for one, follows it only there), and
// the ER it points to naming RRIP_1991A.
func TestRootRecordEntries(t *testing.T) {
	img, err := Write(sample)
	if err != nil {
		t.Fatal(err)
	}
	pvd := img[sectorPVD*sectorSize:]
	root := int(binary.LittleEndian.Uint32(pvd[156+2:])) * sectorSize
	rec := img[root : root+int(img[root])]
	su := rec[34:] // 33 bytes and the one-byte identifier 0x00
	var sigs []string
	var ce []byte
	for i := 0; i+4 <= len(su) && su[i+2] > 0; i += int(su[i+2]) {
		sigs = append(sigs, string(su[i:i+2]))
		if string(su[i:i+2]) == "CE" {
			ce = su[i : i+28]
		}
	}
	if got := strings.Join(sigs, " "); got != "SP PX TF CE" {
		t.Fatalf("root record entries %q, want SP PX TF CE", got)
	}
	at := int(binary.LittleEndian.Uint32(ce[4:]))*sectorSize + int(binary.LittleEndian.Uint32(ce[12:]))
	length := int(binary.LittleEndian.Uint32(ce[20:]))
	er := img[at : at+length]
	if string(er[:2]) != "ER" || int(er[2]) != length || string(er[8:8+er[4]]) != "RRIP_1991A" {
		t.Errorf("continuation area holds %q, want the ER entry of RRIP_1991A", er[:min(len(er), 20)])
	}
}
