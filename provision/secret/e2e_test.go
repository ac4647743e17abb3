package secret

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"libvirt.org/go/libvirt"
)

// TestE2ESet sets a secret's value on a real libvirtd (NIXVIRT_E2E_URI)
// and reads it back. The secret is its own (usage volume
// /nvxprov/…) and is removed at the end; it is not private, so that its
// value can be read back.
func TestE2ESet(t *testing.T) {
	uri := os.Getenv("NIXVIRT_E2E_URI")
	if uri == "" {
		t.Skip("NIXVIRT_E2E_URI is not set (.ci/run sets it to qemu:///system after starting libvirtd)")
	}
	conn, err := libvirt.NewConnect(uri)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	usage := fmt.Sprintf("/nvxprov/secret-e2e-%d.img", os.Getpid())
	sec, err := conn.SecretDefineXML(fmt.Sprintf(`<secret ephemeral="no" private="no"><usage type="volume"><volume>%s</volume></usage></secret>`, usage), 0)
	if err != nil {
		t.Fatal(err)
	}
	defer sec.Free()
	defined := true
	defer func() {
		if !defined {
			return
		}
		if err := sec.Undefine(); err != nil {
			t.Errorf("removing the secret for %s: %v", usage, err)
		}
	}()
	for _, value := range []string{password, password + "-changed"} {
		if err := Set(sec, New([]byte(value))); err != nil {
			t.Fatal(err)
		}
		got, err := sec.GetValue(0)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != value {
			t.Errorf("the secret holds %d bytes, not the %d set", len(got), len(value))
		}
	}
	if err := sec.Undefine(); err != nil {
		t.Fatal(err)
	}
	defined = false
	// Setting the value of a secret that is gone fails, naming the
	// secret and not the value.
	err = Set(sec, New([]byte(password)))
	if err == nil {
		t.Fatal("setting an undefined secret succeeded")
	}
	if strings.Contains(err.Error(), password) || !strings.Contains(err.Error(), "setting the value of secret") {
		t.Errorf("error %q", err)
	}
}
