package download

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

func sum(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// server serves files by path on 127.0.0.1, with Range support, and
// records the requests it got.
type server struct {
	*httptest.Server
	mu       sync.Mutex
	requests []*http.Request
	files    map[string][]byte
	// handle, when set, answers instead of the file server.
	handle func(w http.ResponseWriter, r *http.Request, n int) bool
}

func newServer(t *testing.T, files map[string][]byte) *server {
	s := &server{files: files}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.requests = append(s.requests, r)
		n := len(s.requests)
		s.mu.Unlock()
		if s.handle != nil && s.handle(w, r, n) {
			return
		}
		data, ok := s.files[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		http.ServeContent(w, r, r.URL.Path, time.Time{}, bytes.NewReader(data))
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *server) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.requests)
}

func newCache(t *testing.T) *Cache {
	return &Cache{Dir: filepath.Join(t.TempDir(), "cache"), Timeout: 10 * time.Second, RetryDelay: 10 * time.Millisecond}
}

func fetchBytes(t *testing.T, c *Cache, src Source) []byte {
	t.Helper()
	path, err := c.Fetch(context.Background(), src)
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

var image = bytes.Repeat([]byte("0123456789abcdef"), 64<<10/16) // 64 KiB

func TestFetchFollowsRedirects(t *testing.T) {
	s := newServer(t, map[string][]byte{"/images/disk.raw": image})
	s.handle = func(w http.ResponseWriter, r *http.Request, _ int) bool {
		switch r.URL.Path {
		case "/latest":
			http.Redirect(w, r, "/mirror", http.StatusFound)
		case "/mirror":
			http.Redirect(w, r, "/images/disk.raw", http.StatusMovedPermanently)
		default:
			return false
		}
		return true
	}
	got := fetchBytes(t, newCache(t), Source{URL: s.URL + "/latest", SHA256: sum(image)})
	if !bytes.Equal(got, image) {
		t.Errorf("got %d bytes, want the %d of the image", len(got), len(image))
	}
	if s.count() != 3 {
		t.Errorf("%d requests, want 3 (two redirects and the file)", s.count())
	}
}

func TestFetchResumesAfterACutConnection(t *testing.T) {
	s := newServer(t, map[string][]byte{"/disk.raw": image})
	half := len(image) / 2
	s.handle = func(w http.ResponseWriter, r *http.Request, n int) bool {
		if n > 1 {
			return false
		}
		// The first answer promises everything and breaks off halfway.
		w.Header().Set("Content-Length", strconv.Itoa(len(image)))
		w.WriteHeader(http.StatusOK)
		w.Write(image[:half])
		w.(http.Flusher).Flush()
		panic(http.ErrAbortHandler)
	}
	got := fetchBytes(t, newCache(t), Source{URL: s.URL + "/disk.raw", SHA256: sum(image)})
	if !bytes.Equal(got, image) {
		t.Fatalf("got %d bytes, want the %d of the image", len(got), len(image))
	}
	if s.count() != 2 {
		t.Fatalf("%d requests, want 2", s.count())
	}
	if r := s.requests[1].Header.Get("Range"); r != "bytes="+strconv.Itoa(half)+"-" {
		t.Errorf("second request asked for range %q, want the rest from byte %d", r, half)
	}
}

func TestFetchResumesAfterAStall(t *testing.T) {
	s := newServer(t, map[string][]byte{"/disk.raw": image})
	half := len(image) / 2
	s.handle = func(w http.ResponseWriter, r *http.Request, n int) bool {
		if n > 1 {
			return false
		}
		// The first answer sends half, then nothing until the client
		// gives up.
		w.Header().Set("Content-Length", strconv.Itoa(len(image)))
		w.WriteHeader(http.StatusOK)
		w.Write(image[:half])
		w.(http.Flusher).Flush()
		<-r.Context().Done()
		return true
	}
	c := newCache(t)
	c.StallTimeout = 200 * time.Millisecond
	start := time.Now()
	got := fetchBytes(t, c, Source{URL: s.URL + "/disk.raw", SHA256: sum(image)})
	if !bytes.Equal(got, image) {
		t.Fatalf("got %d bytes, want the %d of the image", len(got), len(image))
	}
	if s.count() != 2 || s.requests[1].Header.Get("Range") != "bytes="+strconv.Itoa(half)+"-" {
		t.Errorf("%d requests, the second for range %q; want 2, the second for the rest", s.count(), s.requests[len(s.requests)-1].Header.Get("Range"))
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("a stall of 200ms took %v to overcome", d)
	}
}

func TestFetchResumesAnEarlierRunsDownload(t *testing.T) {
	s := newServer(t, map[string][]byte{"/disk.raw": image})
	c := newCache(t)
	if err := os.MkdirAll(c.Dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(c.Dir, sum(image)+".part"), image[:1000], 0o600); err != nil {
		t.Fatal(err)
	}
	got := fetchBytes(t, c, Source{URL: s.URL + "/disk.raw", SHA256: sum(image)})
	if !bytes.Equal(got, image) {
		t.Fatalf("got %d bytes, want the %d of the image", len(got), len(image))
	}
	if r := s.requests[0].Header.Get("Range"); r != "bytes=1000-" {
		t.Errorf("request asked for range %q, want bytes=1000-", r)
	}
	if _, err := os.Stat(filepath.Join(c.Dir, sum(image)+".part")); !os.IsNotExist(err) {
		t.Errorf("the partial download is still there: %v", err)
	}
}

func TestFetchRefusesAWrongChecksum(t *testing.T) {
	s := newServer(t, map[string][]byte{"/disk.raw": image})
	c := newCache(t)
	wrong := sum([]byte("something else"))
	_, err := c.Fetch(context.Background(), Source{URL: s.URL + "/disk.raw", SHA256: strings.ToUpper(wrong)})
	if err == nil {
		t.Fatal("a download with the wrong checksum was accepted")
	}
	for _, want := range []string{s.URL + "/disk.raw", "sha256 of the download is " + sum(image), "content.sha256 says " + wrong} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	entries, _ := os.ReadDir(c.Dir)
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".lock") {
			t.Errorf("the cache keeps %s after a checksum mismatch", e.Name())
		}
	}
}

func TestFetchUnpacksByName(t *testing.T) {
	raw, err := os.ReadFile("testdata/image.raw")
	if err != nil {
		t.Fatal(err)
	}
	xzData, err := os.ReadFile("testdata/image.raw.xz") // made by xz(1)
	if err != nil {
		t.Fatal(err)
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(raw)
	zw.Close()
	s := newServer(t, map[string][]byte{"/image.raw.xz": xzData, "/image.raw.gz": gz.Bytes(), "/image.xz.raw": xzData})
	for _, tc := range []struct {
		path string
		sha  string // of the bytes served
		want []byte
	}{
		{"/image.raw.xz", sum(xzData), raw},
		{"/image.raw.gz", sum(gz.Bytes()), raw},
		{"/image.xz.raw", sum(xzData), xzData}, // the name does not end in .xz: kept as it is
	} {
		if got := fetchBytes(t, newCache(t), Source{URL: s.URL + tc.path + "?mirror=1", SHA256: tc.sha}); !bytes.Equal(got, tc.want) {
			t.Errorf("%s: got %d bytes, want %d", tc.path, len(got), len(tc.want))
		}
	}
	// The same bytes, unpacked and not, are two entries of one cache.
	both := newCache(t)
	unpacked := fetchBytes(t, both, Source{URL: s.URL + "/image.raw.xz", SHA256: sum(xzData)})
	kept := fetchBytes(t, both, Source{URL: s.URL + "/image.xz.raw", SHA256: sum(xzData)})
	if !bytes.Equal(unpacked, raw) || !bytes.Equal(kept, xzData) {
		t.Errorf("one cache: unpacked %d bytes (want %d), kept %d (want %d)", len(unpacked), len(raw), len(kept), len(xzData))
	}
	// The checksum is of the compressed bytes: the unpacked one is wrong.
	if _, err := newCache(t).Fetch(context.Background(), Source{URL: s.URL + "/image.raw.xz", SHA256: sum(raw)}); err == nil {
		t.Error("the digest of the unpacked file was accepted for a compressed download")
	}
}

func TestCacheHitMakesNoRequest(t *testing.T) {
	s := newServer(t, map[string][]byte{"/disk.raw": image})
	c := newCache(t)
	src := Source{URL: s.URL + "/disk.raw", SHA256: sum(image)}
	first := fetchBytes(t, c, src)
	before := s.count()
	s.Close()
	// Another URL with the same checksum is the same content.
	second := fetchBytes(t, c, Source{URL: "http://127.0.0.1:1/elsewhere.raw", SHA256: src.SHA256})
	if s.count() != before {
		t.Errorf("a cache hit made %d requests", s.count()-before)
	}
	if !bytes.Equal(first, second) {
		t.Error("the cache returned other content")
	}
}

func TestFetchBounds(t *testing.T) {
	s := newServer(t, map[string][]byte{"/disk.raw": image})
	small := newCache(t)
	small.MaxSize = 1000
	_, err := small.Fetch(context.Background(), Source{URL: s.URL + "/disk.raw", SHA256: sum(image)})
	if err == nil || !strings.Contains(err.Error(), "more than 1000 bytes") {
		t.Errorf("oversized download: error %v", err)
	}

	hang := newServer(t, nil)
	release := make(chan struct{})
	defer close(release)
	hang.handle = func(w http.ResponseWriter, r *http.Request, _ int) bool {
		select {
		case <-release:
		case <-r.Context().Done():
		}
		return true
	}
	slow := newCache(t)
	slow.Timeout = 300 * time.Millisecond
	start := time.Now()
	_, err = slow.Fetch(context.Background(), Source{URL: hang.URL + "/disk.raw", SHA256: sum(image)})
	if err == nil || !strings.Contains(err.Error(), "not finished within the time allowed") {
		t.Errorf("hanging server: error %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("the timeout of 300ms took %v", d)
	}

	// Another nixvirt holding the download's lock is waited for only
	// within the time allowed.
	locked := newCache(t)
	locked.Timeout = 300 * time.Millisecond
	unlock, err := lockFile(context.Background(), filepath.Join(mkdir(t, locked.Dir), sum(image)+".lock"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = locked.Fetch(context.Background(), Source{URL: s.URL + "/disk.raw", SHA256: sum(image)})
	unlock()
	if err == nil || !strings.Contains(err.Error(), "held by another nixvirt") {
		t.Errorf("locked download: error %v", err)
	}

	missing := newCache(t)
	_, err = missing.Fetch(context.Background(), Source{URL: s.URL + "/nothing.raw", SHA256: sum(image)})
	if err == nil || !strings.Contains(err.Error(), "404") {
		t.Errorf("missing file: error %v", err)
	}
	if s.count() != 2 {
		t.Errorf("%d requests in all, want 2: a 404 is not retried", s.count())
	}
}

func mkdir(t *testing.T, dir string) string {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	return dir
}

func sum512(b []byte) string {
	h := sha512.Sum512(b)
	return hex.EncodeToString(h[:])
}

// Debian publishes SHA512SUMS: a sha512 is checked like a sha256, names
// its own cache entry, and a wrong one is refused naming both digests.
func TestFetchWithSHA512(t *testing.T) {
	s := newServer(t, map[string][]byte{"/disk.raw": image})
	c := newCache(t)
	if got := fetchBytes(t, c, Source{URL: s.URL + "/disk.raw", SHA512: strings.ToUpper(sum512(image))}); !bytes.Equal(got, image) {
		t.Fatal("the download is not the image")
	}
	if _, err := os.Stat(filepath.Join(c.Dir, "sha512-"+sum512(image))); err != nil {
		t.Fatalf("no cache entry named by the sha512: %v", err)
	}
	requests := s.count()
	// Cached: no request, whatever the URL.
	fetchBytes(t, c, Source{URL: "http://127.0.0.1:1/elsewhere.raw", SHA512: sum512(image)})
	if s.count() != requests {
		t.Fatal("a cached download was requested again")
	}
	wrong := sum512([]byte("something else"))
	_, err := newCache(t).Fetch(context.Background(), Source{URL: s.URL + "/disk.raw", SHA512: wrong})
	if err == nil || !strings.Contains(err.Error(), "sha512 of the download is "+sum512(image)+", but content.sha512 says "+wrong) {
		t.Fatalf("wrong sha512: %v", err)
	}
}

func TestFetchRefusesBadDeclarations(t *testing.T) {
	c := newCache(t)
	for _, tc := range []struct {
		src  Source
		want string
	}{
		{Source{URL: "ftp://example.org/x", SHA256: sum(nil)}, `content.url "ftp://example.org/x" is not an http or https URL`},
		{Source{URL: "http://127.0.0.1/x", SHA256: "abc"}, `content.sha256 "abc" is not a SHA-256 digest`},
		{Source{URL: "http://127.0.0.1/x", SHA512: sum(nil)}, `content.sha512 "` + sum(nil) + `" is not a SHA-512 digest in hex (128 characters)`},
		{Source{URL: "http://127.0.0.1/x"}, `content: a url needs the checksum of what it serves, sha256 or sha512`},
		{Source{URL: "http://127.0.0.1/x", SHA256: sum(nil), SHA512: sum512(nil)}, `content: give sha256 or sha512, not both`},
	} {
		if _, err := c.Fetch(context.Background(), tc.src); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Fetch(%v): error %v, want %q", tc.src, err, tc.want)
		}
	}
}

func TestVerifyFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "disk.raw")
	if err := os.WriteFile(path, image, 0o600); err != nil {
		t.Fatal(err)
	}
	if got, err := VerifyFile(path, ""); err != nil || got != sum(image) {
		t.Errorf("VerifyFile without a checksum: %s, %v", got, err)
	}
	if _, err := VerifyFile(path, strings.ToUpper(sum(image))); err != nil {
		t.Errorf("VerifyFile with the right checksum: %v", err)
	}
	if _, err := VerifyFile(path, sum(nil)); err == nil || !strings.Contains(err.Error(), "sha256 is "+sum(image)) {
		t.Errorf("VerifyFile with a wrong checksum: %v", err)
	}
	if _, err := VerifyFile(filepath.Dir(path), ""); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("VerifyFile of a directory: %v", err)
	}
}
