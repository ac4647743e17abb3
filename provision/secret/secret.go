// Package secret handles the values of libvirt secrets: reading a value
// from a file or an environment variable, and the digest nixvirt keeps
// to know whether a value changed (libvirt never gives a private value
// back, so the value cannot be compared with what the host holds).
//
// A Value never shows itself: it prints, formats, logs and marshals as
// "(secret)", its bytes sit behind a function so that even fmt's
// reflection over a struct holding one prints an address, and errors
// about a value name its source, never its content. The bytes leave the
// package only through Set, into libvirt. The stored digest is
// an HMAC under a random key kept beside nixvirt's state, so the record
// alone does not let anyone test guesses of the value.
package secret

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"libvirt.org/go/libvirt"
)

// Redacted is what a Value shows instead of itself.
const Redacted = "(secret)"

// MaxSize bounds a value: libvirt secrets are keys and passphrases, and
// a larger file is a wrong path rather than a secret.
const MaxSize = 64 << 10

// Value is a secret value. Its zero value is empty.
type Value struct {
	// A function returning the bytes rather than the bytes: where fmt
	// cannot call Format (a Value in an unexported struct field) it
	// walks the fields by reflection, and it prints a function as its
	// address, whereas a slice or a pointer to one it prints in full.
	bytes func() []byte
}

// Source says where a value comes from: exactly one of File and Env.
type Source struct {
	// File is the path of a file whose bytes, exactly, are the value (a
	// trailing newline is part of it: write the file with printf '%s').
	File string
	// Env is the name of an environment variable holding the value.
	Env string
}

// Read reads the value src names.
func Read(src Source) (Value, error) {
	switch {
	case src.File != "" && src.Env != "":
		return Value{}, errors.New("value: give either file or env, not both")
	case src.File != "":
		return readFile(src.File)
	case src.Env != "":
		v, ok := os.LookupEnv(src.Env)
		if !ok {
			return Value{}, fmt.Errorf("value.env: environment variable %s is not set", src.Env)
		}
		if v == "" {
			return Value{}, fmt.Errorf("value.env: environment variable %s is empty", src.Env)
		}
		if len(v) > MaxSize {
			return Value{}, fmt.Errorf("value.env: environment variable %s is longer than %d bytes", src.Env, MaxSize)
		}
		return New([]byte(v)), nil
	}
	return Value{}, errors.New("value: give file or env")
}

func readFile(path string) (Value, error) {
	f, err := os.Open(path)
	if err != nil {
		// os's errors name the path and the cause, never the content.
		return Value{}, fmt.Errorf("value.file: %w", err)
	}
	defer func() { _ = f.Close() }() // read only
	info, err := f.Stat()
	if err != nil {
		return Value{}, fmt.Errorf("value.file: %w", err)
	}
	if !info.Mode().IsRegular() {
		return Value{}, fmt.Errorf("value.file: %s is not a regular file", path)
	}
	b, err := io.ReadAll(io.LimitReader(f, MaxSize+1))
	if err != nil {
		return Value{}, fmt.Errorf("value.file: %w", err)
	}
	switch {
	case len(b) == 0:
		return Value{}, fmt.Errorf("value.file: %s is empty", path)
	case len(b) > MaxSize:
		return Value{}, fmt.Errorf("value.file: %s is larger than %d bytes", path, MaxSize)
	}
	return New(b), nil
}

// New makes a Value of b (which it keeps; the caller should not change
// it afterwards).
func New(b []byte) Value { return Value{bytes: func() []byte { return b }} }

// reveal returns the bytes. It is unexported so that the only ways out
// of this package are Set (into libvirt) and Digest.
func (v Value) reveal() []byte {
	if v.bytes == nil {
		return nil
	}
	return v.bytes()
}

// Set gives sec the value v. An error names the secret by UUID and
// usage, as libvirt's own errors do, never by value.
func Set(sec *libvirt.Secret, v Value) error {
	if len(v.reveal()) == 0 {
		return errors.New("secret value is empty")
	}
	if err := sec.SetValue(v.reveal(), 0); err != nil {
		uuid, _ := sec.GetUUIDString()
		usage, _ := sec.GetUsageID()
		return fmt.Errorf("setting the value of secret %s (usage %q): %w", uuid, usage, err)
	}
	return nil
}

// String returns Redacted.
func (v Value) String() string { return Redacted }

// GoString returns Redacted.
func (v Value) GoString() string { return Redacted }

// Format writes Redacted whatever the verb and flags.
func (v Value) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, Redacted) }

// LogValue makes log/slog write Redacted.
func (v Value) LogValue() slog.Value { return slog.StringValue(Redacted) }

// MarshalText makes encoders (JSON, YAML, ...) write Redacted.
func (v Value) MarshalText() ([]byte, error) { return []byte(Redacted), nil }

// keyFile is the name of the HMAC key under the state directory.
const keyFile = "secret-digest.key"

// Digester computes the digests kept for secret values.
type Digester struct{ key []byte }

// OpenDigester reads the key from dir, creating it (32 random bytes, mode
// 0600) on first use. dir is nixvirt's state directory.
func OpenDigester(dir string) (*Digester, error) {
	path := filepath.Join(dir, keyFile)
	key, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		key, err = createKey(dir, path)
	}
	if err != nil {
		return nil, fmt.Errorf("secret digest key: %w", err)
	}
	if len(key) != 32 {
		return nil, fmt.Errorf("secret digest key %s has %d bytes, not 32", path, len(key))
	}
	return &Digester{key: key}, nil
}

// LoadDigester reads the key from dir without creating it: nil when there
// is none yet, so that no digest can have been recorded (what plan uses,
// which writes nothing).
func LoadDigester(dir string) (*Digester, error) {
	path := filepath.Join(dir, keyFile)
	key, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("secret digest key: %w", err)
	}
	if len(key) != 32 {
		return nil, fmt.Errorf("secret digest key %s has %d bytes, not 32", path, len(key))
	}
	return &Digester{key: key}, nil
}

// createKey writes a new key, or reads the one another nixvirt wrote
// first.
func createKey(dir, path string) ([]byte, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, err
	}
	tmp, err := os.CreateTemp(dir, keyFile+".*")
	if err != nil {
		return nil, err
	}
	defer func() { _ = os.Remove(tmp.Name()) }() // gone once renamed; else a leftover
	_, err = tmp.Write(key)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, err
	}
	// Link fails when the key exists: then the other one wins.
	if err := os.Link(tmp.Name(), path); err != nil && !errors.Is(err, fs.ErrExist) {
		return nil, err
	}
	return os.ReadFile(path)
}

// digestPrefix names the scheme, so that a change of it is seen as a
// change of digest rather than compared blindly.
const digestPrefix = "hmac-sha256:"

// Digest returns the digest to record for v.
func (d *Digester) Digest(v Value) string {
	m := hmac.New(sha256.New, d.key)
	m.Write(v.reveal())
	return digestPrefix + hex.EncodeToString(m.Sum(nil))
}

// Matches tells whether recorded is v's digest; a nil Digester (no key
// yet) matches nothing.
func (d *Digester) Matches(v Value, recorded string) bool {
	if d == nil || !strings.HasPrefix(recorded, digestPrefix) {
		return false
	}
	return hmac.Equal([]byte(d.Digest(v)), []byte(recorded))
}
