package secret

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const password = "hunter2-correct-horse"

// TestValueNeverShows prints a Value every way fmt, log/slog and
// encoding/json can, alone, behind a pointer and inside structs with
// exported and unexported fields, and looks for the value (and its bytes
// in hex and as decimal numbers) in the output.
func TestValueNeverShows(t *testing.T) {
	v := New([]byte(password))
	type holder struct {
		Exported   Value
		unexported Value
		Pointer    *Value
	}
	h := holder{Exported: v, unexported: v, Pointer: &v}
	var outputs []string
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%T", "%p", "%08s", "%-12v"} {
		for _, x := range []any{v, &v, h, &h, []Value{v}, map[string]Value{"k": v}} {
			outputs = append(outputs, fmt.Sprintf(verb, x))
		}
	}
	outputs = append(outputs, v.String(), v.GoString(), fmt.Sprint(v), fmt.Sprintln(h))
	for _, x := range []any{v, h, &h} {
		b, err := json.Marshal(x)
		if err != nil {
			t.Fatal(err)
		}
		outputs = append(outputs, string(b))
	}
	var logged bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&logged, nil))
	logger.Info("setting", "value", v, "holder", h)
	slog.New(slog.NewTextHandler(&logged, nil)).Info("setting", "value", v)
	outputs = append(outputs, logged.String())
	outputs = append(outputs, fmt.Errorf("setting %v: %w", v, errors.New("failed")).Error())

	forbidden := []string{password, fmt.Sprintf("%x", password), fmt.Sprintf("%X", password), fmt.Sprint([]byte(password))[1:20]}
	for _, out := range outputs {
		for _, f := range forbidden {
			if strings.Contains(out, f) {
				t.Errorf("output shows the value: %s", out)
			}
		}
	}
	if !strings.Contains(fmt.Sprint(v), Redacted) {
		t.Errorf("fmt.Sprint(v) = %q, want %q", fmt.Sprint(v), Redacted)
	}
	if string(v.reveal()) != password {
		t.Error("reveal does not give the value back")
	}
}

func TestReadNamesTheSourceNotTheValue(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good")
	empty := filepath.Join(dir, "empty")
	big := filepath.Join(dir, "big")
	os.WriteFile(good, []byte(password), 0o600)
	os.WriteFile(empty, nil, 0o600)
	os.WriteFile(big, bytes.Repeat([]byte(password), MaxSize/len(password)+1), 0o600)
	t.Setenv("NVXPROV_SECRET", password)
	t.Setenv("NVXPROV_EMPTY", "")

	for _, src := range []Source{{File: good}, {Env: "NVXPROV_SECRET"}} {
		v, err := Read(src)
		if err != nil || string(v.reveal()) != password {
			t.Errorf("Read(%+v): %v", src, err)
		}
	}
	for _, tc := range []struct {
		src  Source
		want string
	}{
		{Source{}, "value: give file or env"},
		{Source{File: good, Env: "NVXPROV_SECRET"}, "not both"},
		{Source{File: filepath.Join(dir, "missing")}, "value.file: open " + filepath.Join(dir, "missing") + ": no such file"},
		{Source{File: empty}, "value.file: " + empty + " is empty"},
		{Source{File: big}, "value.file: " + big + " is larger than 65536 bytes"},
		{Source{File: dir}, "is not a regular file"},
		{Source{Env: "NVXPROV_UNSET"}, "value.env: environment variable NVXPROV_UNSET is not set"},
		{Source{Env: "NVXPROV_EMPTY"}, "environment variable NVXPROV_EMPTY is empty"},
	} {
		_, err := Read(tc.src)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Read(%+v): error %v, want one containing %q", tc.src, err, tc.want)
		} else if strings.Contains(fmt.Sprintf("%+v %#v", err, err), password) {
			t.Errorf("Read(%+v): error shows the value: %v", tc.src, err)
		}
	}
}

func TestDigest(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	d, err := OpenDigester(dir)
	if err != nil {
		t.Fatal(err)
	}
	info, err := os.Stat(filepath.Join(dir, keyFile))
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode().Perm() != 0o600 {
		t.Errorf("key file mode %v, want 0600", info.Mode().Perm())
	}
	v := New([]byte(password))
	digest := d.Digest(v)
	if !strings.HasPrefix(digest, "hmac-sha256:") || strings.Contains(digest, password) {
		t.Errorf("digest %q", digest)
	}
	// The same key next time: the digest is stable across runs.
	again, err := OpenDigester(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !again.Matches(v, digest) {
		t.Error("the digest does not match the same value after reopening")
	}
	if again.Matches(New([]byte(password+"\n")), digest) {
		t.Error("another value matches the digest")
	}
	// Another machine's key gives another digest: the record alone is
	// no oracle for guesses.
	other, err := OpenDigester(filepath.Join(t.TempDir(), "state"))
	if err != nil {
		t.Fatal(err)
	}
	if other.Digest(v) == digest {
		t.Error("two keys give the same digest")
	}
	if d.Matches(v, strings.TrimPrefix(digest, "hmac-sha256:")) {
		t.Error("a digest without its scheme matches")
	}
}
