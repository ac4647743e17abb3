package compiler

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzImportExport feeds arbitrary bytes to import, and what import
// accepts through vet and export: neither may panic, whatever the input.
func FuzzImportExport(f *testing.F) {
	// libvirt's own test documents, when fetched (testdata/corpus), are
	// the best seeds; they are never committed.
	if root := os.Getenv("NIXVIRT_CORPUS"); root != "" {
		for _, d := range corpusDirs {
			seeds, _ := filepath.Glob(filepath.Join(root, d, "*.xml"))
			for _, s := range seeds {
				if data, err := os.ReadFile(s); err == nil {
					f.Add(data)
				}
			}
		}
	}
	f.Add([]byte(`<domain type="kvm"><name>x</name><memory unit="GiB">1</memory><os><type arch="x86_64">hvm</type></os><devices><disk type="file" device="disk"><source file="/a"/><target dev="vda"/></disk></devices></domain>`))
	f.Add([]byte(`<network><name>n</name><ip address="10.0.0.1" netmask="255.255.255.0"><dhcp><range start="10.0.0.2" end="10.0.0.9"/></dhcp></ip></network>`))
	f.Add([]byte(`<pool type="dir"><name>p</name><target><path>/x</path></target></pool>`))
	f.Add([]byte(`<volume><name>v</name><capacity unit="G">1</capacity></volume>`))
	f.Add([]byte(`<domain><metadata><a:b xmlns:a="urn:a">&lt;</a:b></metadata></domain>`))
	s, err := LoadSchema()
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		k, x, err := s.Import("fuzz.xml", data)
		if err != nil {
			return
		}
		src, err := FormatCUE(x, "")
		if err != nil {
			t.Fatalf("import produced CUE that does not format: %v", err)
		}
		Run(func(s *Schema) error {
			v := s.Context().CompileBytes(src)
			if v.Err() != nil {
				return v.Err()
			}
			u, err := s.Check(v, k)
			if err != nil {
				return err
			}
			_, err = s.Export(u, k)
			return err
		})
	})
}
