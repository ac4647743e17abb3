package nocloud

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

func TestFilesFillInMetaData(t *testing.T) {
	for _, tc := range []struct {
		name     string
		meta     any
		wantMeta string
	}{
		{"absent", nil, "instance-id: web\nlocal-hostname: web\n"},
		{"text without the keys", "public-keys: []", "public-keys: []\ninstance-id: web\nlocal-hostname: web\n"},
		{"text with instance-id", "instance-id: iid-2\n", "instance-id: iid-2\nlocal-hostname: web\n"},
		{"structured with both", map[string]string{"instance-id": "i-1", "local-hostname": "h"}, "instance-id: i-1\nlocal-hostname: h\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			files, err := Seed{Hostname: "web", UserData: "#cloud-config\n", MetaData: tc.meta}.Files()
			if err != nil {
				t.Fatal(err)
			}
			if len(files) != 2 || files[1].Name != "meta-data" {
				t.Fatalf("files %v, want user-data and meta-data", files)
			}
			if got := string(files[1].Data); got != tc.wantMeta {
				t.Errorf("meta-data %q, want %q", got, tc.wantMeta)
			}
		})
	}
}

func TestStructuredUserDataIsCloudConfig(t *testing.T) {
	user := map[string]any{
		"users":    []any{map[string]any{"name": "ops", "ssh_authorized_keys": []string{"ssh-ed25519 AAAA ops@example"}}},
		"packages": []string{"nginx"},
	}
	files, err := Seed{Hostname: "web", UserData: user, NetworkConfig: map[string]any{"version": 2}}.Files()
	if err != nil {
		t.Fatal(err)
	}
	got := string(files[0].Data)
	if !strings.HasPrefix(got, "#cloud-config\n") {
		t.Fatalf("user-data does not start with #cloud-config:\n%s", got)
	}
	var back map[string]any
	if err := yaml.Unmarshal(files[0].Data, &back); err != nil {
		t.Fatalf("user-data is not YAML: %v\n%s", err, got)
	}
	if back["packages"].([]any)[0] != "nginx" {
		t.Errorf("user-data lost its content:\n%s", got)
	}
	if len(files) != 3 || files[2].Name != "network-config" || string(files[2].Data) != "version: 2\n" {
		t.Errorf("network-config: %v", files)
	}
}

func TestSeedErrorsNameTheField(t *testing.T) {
	for _, tc := range []struct {
		seed Seed
		want string
	}{
		{Seed{Hostname: "web"}, "cloudInit.userData is required"},
		{Seed{Hostname: "web", UserData: "", MetaData: "- a list"}, "cloudInit.metaData: is not a YAML mapping"},
		{Seed{UserData: ""}, "cloudInit.metaData: lacks instance-id and local-hostname"},
		{Seed{Hostname: "web", UserData: func() {}}, "cloudInit.userData: cannot be written as YAML"},
	} {
		_, err := tc.seed.Build()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Build(%+v): error %v, want one containing %q", tc.seed, err, tc.want)
		}
	}
}

func TestDigestFollowsEveryText(t *testing.T) {
	base := Seed{Hostname: "web", UserData: "#cloud-config\n", MetaData: "instance-id: a\n", NetworkConfig: "version: 2\n"}
	d0, err := base.Digest()
	if err != nil {
		t.Fatal(err)
	}
	again, _ := base.Digest()
	if d0 != again || !strings.HasPrefix(d0, "sha256:") {
		t.Fatalf("digest %q then %q", d0, again)
	}
	variants := []Seed{base, base, base, base}
	variants[0].UserData = "#cloud-config\npackages: [nginx]\n"
	variants[1].MetaData = "instance-id: b\n"
	variants[2].NetworkConfig = nil
	variants[3].Hostname = "db" // local-hostname is filled in from it
	for i, v := range variants {
		d, err := v.Digest()
		if err != nil {
			t.Fatal(err)
		}
		if d == d0 {
			t.Errorf("variant %d has the same digest as the base seed", i)
		}
	}
	img, err := base.Build()
	if err != nil {
		t.Fatal(err)
	}
	if img.Digest != d0 {
		t.Errorf("Build's digest %s, Digest %s", img.Digest, d0)
	}
}

// TestImageReadByIsoinfo reads the seed back with genisoimage's isoinfo,
// as the guest would: by label, by Rock Ridge names (Linux) and by
// Joliet names (Windows' cloudbase-init).
func TestImageReadByIsoinfo(t *testing.T) {
	if _, err := exec.LookPath("isoinfo"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("isoinfo (Debian package genisoimage) is needed in CI")
		}
		t.Skip("isoinfo (Debian package genisoimage) is not installed")
	}
	seed := Seed{Hostname: "web", UserData: map[string]any{"hostname": "web"}, NetworkConfig: "version: 2\n"}
	img, err := seed.Build()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "seed.iso")
	if err := os.WriteFile(path, img.ISO, 0o644); err != nil {
		t.Fatal(err)
	}
	run := func(args ...string) string {
		out, err := exec.Command("isoinfo", append([]string{"-i", path}, args...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("isoinfo %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	desc := run("-d")
	for _, want := range []string{"Volume id: cidata\n", "Joliet with UCS level 3 found", "Rock Ridge signatures version 1 found"} {
		if !strings.Contains(desc, want) {
			t.Errorf("isoinfo -d lacks %q:\n%s", want, desc)
		}
	}
	want := map[string]string{
		"user-data":      "#cloud-config\nhostname: web\n",
		"meta-data":      "instance-id: web\nlocal-hostname: web\n",
		"network-config": "version: 2\n",
	}
	for _, tree := range []string{"-R", "-J"} {
		for name, content := range want {
			if got := run(tree, "-x", "/"+name); got != content {
				t.Errorf("isoinfo %s -x /%s: %q, want %q", tree, name, got, content)
			}
		}
	}
}

func TestVolumeName(t *testing.T) {
	if got := VolumeName("web"); got != "web-cidata.iso" {
		t.Errorf("VolumeName(web) = %q", got)
	}
}
