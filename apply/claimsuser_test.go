package apply

import (
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"nixvirt.dev/nixvirt/compiler"
)

const (
	rootsPool  = "11111111-2222-4333-8444-000000000001"
	usersPool  = "11111111-2222-4333-8444-000000000002"
	userSystem = "qemu:///system"
)

// A user who is not root (a Home Manager configuration on qemu:///system)
// reads root's claims, though root's state directory is closed to it, and
// so leaves root's pools alone; it writes its own claims in its own owners
// directory, never in root's. The user's part runs as user 65534 in a
// child process.
func TestUserReadsRootsClaims(t *testing.T) {
	if dir := os.Getenv("NVXOWN_ROOT_OWNERS"); dir != "" {
		userReadsRootsClaims(t, dir)
		return
	}
	if os.Geteuid() != 0 {
		t.Skip("needs root, to run its other part as another user")
	}
	base, err := os.MkdirTemp("", "nvxown-claims-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(base) })
	if err := os.Chmod(base, 0o755); err != nil {
		t.Fatal(err)
	}
	rootOwners := filepath.Join(base, "root-owners")
	defer func(d string) { systemOwnersDir = d }(systemOwnersDir)
	systemOwnersDir = rootOwners
	root := OpenState(filepath.Join(base, "root-state"))
	root.owners, root.ownersNamed = rootOwners, false
	rec := poolRecord{Owner: "nixos", Hash: "h", Definition: "<pool type='dir'><name>p</name><uuid>" + rootsPool + "</uuid></pool>"}
	if err := root.setPool(userSystem, rootsPool, rec); err != nil {
		t.Fatal(err)
	}
	home := filepath.Join(base, "home")
	if err := os.Mkdir(home, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(home, 65534, 65534); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(base, "apply.test")
	if err := copyExecutable(bin); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-test.run=^TestUserReadsRootsClaims$", "-test.v")
	cmd.Env = []string{"HOME=" + home, "PATH=/usr/bin:/bin", "NVXOWN_ROOT_OWNERS=" + rootOwners}
	cmd.Dir = home
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "--- PASS: TestUserReadsRootsClaims") {
		t.Fatalf("the user's part: %v\n%s", err, out)
	}
	data, err := os.ReadFile(filepath.Join(rootOwners, compiler.ConnectionFileName(userSystem)+".json"))
	if err != nil || strings.Contains(string(data), usersPool) {
		t.Fatalf("root's claims after the user's: %v\n%s", err, data)
	}
}

// userReadsRootsClaims is the user's part of TestUserReadsRootsClaims.
func userReadsRootsClaims(t *testing.T, rootOwners string) {
	systemOwnersDir = rootOwners
	st := OpenState(StateDir())
	if st.ownersNamed || !strings.HasPrefix(st.owners, os.Getenv("HOME")) {
		t.Fatalf("the user's owners directory: %s", st.owners)
	}
	l := &Live{UUID: rootsPool, Name: "p", XML: "<pool type='dir'><name>p</name><uuid>" + rootsPool + "</uuid></pool>"}
	if c, ok := st.claimedElsewhere(userSystem, compiler.KindPool, l); !ok || c.Owner != "nixos" {
		t.Fatalf("root's pool, seen by a user: %+v %v", c, ok)
	}
	rec := poolRecord{Owner: "home-manager", Hash: "h", Definition: "<pool type='dir'><name>q</name><uuid>" + usersPool + "</uuid></pool>"}
	if err := st.setPool(userSystem, usersPool, rec); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(st.owners, compiler.ConnectionFileName(userSystem)+".json"))
	if err != nil || !strings.Contains(string(data), usersPool) {
		t.Fatalf("the user's claims: %v\n%s", err, data)
	}
	if fi, err := os.Stat(st.owners); err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("the user's owners directory is not private: %v %v", fi, err)
	}
}

// copyExecutable copies the running test binary to name, for another user
// to run.
func copyExecutable(name string) error {
	self, err := os.Executable()
	if err != nil {
		return err
	}
	in, err := os.Open(self)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o755)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
