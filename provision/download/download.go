// Package download fetches volume content declared as {url, sha256} (or
// sha512) into a cache kept under nixvirt's state directory, and verifies
// content declared as {file, sha256?}.
//
// The checksum of a URL is the digest of the bytes the server sends: for
// a compressed image that is the .xz or .gz file, which is the checksum
// cloud images publish (Debian publishes SHA512SUMS, others SHA256SUMS).
// Nothing is handed over before it matches. A file
// whose name (the URL's path) ends in .xz or .gz is then unpacked, and
// the unpacked file is what the cache keeps and Fetch returns. The cache
// is keyed by the declared digest (and whether the file is unpacked), so
// a second Fetch of the same content makes no request at all, whatever
// the URL. An interrupted download is resumed with a
// Range request, in the same call (a cut connection) or the next one (a
// killed nixvirt).
package download

import (
	"compress/gzip"
	"context"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/http"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/ulikunitz/xz"
)

// Source is content declared by URL.
type Source struct {
	// URL is an http or https URL. Redirects are followed.
	URL string
	// SHA256 or SHA512 (exactly one) is the hex digest of the bytes the
	// URL serves (before any unpacking).
	SHA256, SHA512 string
}

// checksum is the digest a Source declares: its algorithm's name, as the
// configuration spells it, and the hex digest in lower case.
type checksum struct{ algo, hex string }

var (
	hexDigest  = map[string]*regexp.Regexp{"sha256": hexSHA256, "sha512": regexp.MustCompile(`^[0-9a-f]{128}$`)}
	digestName = map[string]string{"sha256": "SHA-256", "sha512": "SHA-512"}
	digestLen  = map[string]int{"sha256": 64, "sha512": 128}
	newHash    = map[string]func() hash.Hash{"sha256": sha256.New, "sha512": sha512.New}
)

func (src Source) checksum() (checksum, error) {
	var c checksum
	switch {
	case src.SHA256 != "" && src.SHA512 != "":
		return c, errors.New("content: give sha256 or sha512, not both")
	case src.SHA512 != "":
		c = checksum{"sha512", strings.ToLower(src.SHA512)}
	case src.SHA256 != "":
		c = checksum{"sha256", strings.ToLower(src.SHA256)}
	default:
		return c, errors.New("content: a url needs the checksum of what it serves, sha256 or sha512")
	}
	if !hexDigest[c.algo].MatchString(c.hex) {
		return c, fmt.Errorf("content.%s %q is not a %s digest in hex (%d characters)", c.algo, c.hex, digestName[c.algo], digestLen[c.algo])
	}
	return c, nil
}

// Cache downloads into Dir. The zero values of the limits mean the
// defaults below.
type Cache struct {
	// Dir holds the cache: <sha256> is a finished file, <sha256>.unxz
	// and <sha256>.gunzip one unpacked, <sha256>.part a download under
	// way and <sha256>.lock the lock of whoever downloads it.
	Dir string
	// Client makes the requests; nil means one with connection and
	// response-header timeouts.
	Client *http.Client
	// Timeout bounds one Fetch, retries included (default 2 hours).
	Timeout time.Duration
	// MaxSize bounds the bytes downloaded and, separately, the bytes
	// unpacked (default 64 GiB).
	MaxSize int64
	// Attempts is how many requests one Fetch makes before giving up on
	// connections that keep breaking (default 5).
	Attempts int
	// RetryDelay is the wait before the second request, doubled before
	// each further one (default 1s).
	RetryDelay time.Duration
	// StallTimeout ends a request that receives nothing for that long,
	// to be retried (default 1 minute).
	StallTimeout time.Duration
}

const (
	defaultTimeout  = 2 * time.Hour
	defaultMaxSize  = 64 << 30
	defaultAttempts = 5
	defaultDelay    = time.Second
	defaultStall    = time.Minute
)

var defaultClient = &http.Client{Transport: &http.Transport{
	Proxy:                 http.ProxyFromEnvironment,
	ResponseHeaderTimeout: time.Minute,
	TLSHandshakeTimeout:   30 * time.Second,
	IdleConnTimeout:       time.Minute,
}}

var hexSHA256 = regexp.MustCompile(`^[0-9a-f]{64}$`)

// Fetch returns the path of the verified (and unpacked) content of src
// in the cache, downloading it first unless it is there already.
func (c *Cache) Fetch(ctx context.Context, src Source) (string, error) {
	sum, err := src.checksum()
	if err != nil {
		return "", err
	}
	// A SHA-256 names its cache entries by itself, as before there were
	// others; a SHA-512 is longer, and prefixed besides.
	want := sum.hex
	if sum.algo != "sha256" {
		want = sum.algo + "-" + sum.hex
	}
	u, err := url.Parse(src.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("content.url %q is not an http or https URL", src.URL)
	}
	// The same bytes unpacked or not are two cache entries.
	ext := path.Ext(u.Path)
	final := filepath.Join(c.Dir, want+unpackedSuffix[ext])
	if _, err := os.Stat(final); err == nil {
		return final, nil
	}
	if err := os.MkdirAll(c.Dir, 0o700); err != nil {
		return "", fmt.Errorf("download cache: %w", err)
	}
	timeout := c.Timeout
	if timeout == 0 {
		timeout = defaultTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	// One nixvirt at a time downloads a given file; a second one waits
	// (within its time) and then finds it in the cache.
	unlock, err := lockFile(ctx, filepath.Join(c.Dir, want+".lock"))
	if err != nil {
		return "", fmt.Errorf("download cache: %w", err)
	}
	defer unlock()
	if _, err := os.Stat(final); err == nil {
		return final, nil
	}
	part := filepath.Join(c.Dir, want+".part")
	if err := c.download(ctx, src.URL, part); err != nil {
		return "", err
	}
	got, err := fileDigest(part, sum.algo)
	if err != nil {
		return "", err
	}
	if got != sum.hex {
		// A wrong file is not worth resuming: start afresh next time.
		_ = os.Remove(part) // best effort: a leftover is only restarted
		return "", fmt.Errorf("%s: %s of the download is %s, but content.%s says %s", src.URL, sum.algo, got, sum.algo, sum.hex)
	}
	if err := c.unpack(part, final, ext); err != nil {
		return "", fmt.Errorf("%s: %w", src.URL, err)
	}
	_ = os.Remove(part) // unpacked: the download is no longer needed
	return final, nil
}

func (c *Cache) maxSize() int64 {
	if c.MaxSize > 0 {
		return c.MaxSize
	}
	return defaultMaxSize
}

// download brings the whole of rawURL into part, resuming what part
// already holds, and retrying when a connection breaks.
func (c *Cache) download(ctx context.Context, rawURL, part string) error {
	attempts := c.Attempts
	if attempts == 0 {
		attempts = defaultAttempts
	}
	delay := c.RetryDelay
	if delay == 0 {
		delay = defaultDelay
	}
	var err error
	for i := 0; i < attempts; i++ {
		if i > 0 {
			select {
			case <-time.After(delay):
				delay *= 2
			case <-ctx.Done():
			}
		}
		var done bool
		done, err = c.request(ctx, rawURL, part)
		if done || ctx.Err() != nil {
			break
		}
		var permanent *permanentError
		if errors.As(err, &permanent) {
			break
		}
	}
	if ctx.Err() != nil {
		return fmt.Errorf("%s: download not finished within the time allowed: %w", rawURL, ctx.Err())
	}
	if err != nil {
		return fmt.Errorf("%s: %w", rawURL, err)
	}
	return nil
}

// permanentError is a failure that another request would repeat.
type permanentError struct{ error }

// request makes one GET, from where part ends, and appends the body to
// part. It reports whether the whole file is now there.
func (c *Cache) request(ctx context.Context, rawURL, part string) (bool, error) {
	f, err := os.OpenFile(part, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return false, &permanentError{err}
	}
	defer func() { _ = f.Close() }() // read only
	have, err := f.Seek(0, io.SeekEnd)
	if err != nil {
		return false, &permanentError{err}
	}
	stall := c.StallTimeout
	if stall == 0 {
		stall = defaultStall
	}
	// The request ends when nothing arrives for stall: each read that
	// brings bytes pushes the deadline back.
	reqCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	stalled := time.AfterFunc(stall, cancel)
	defer stalled.Stop()
	req, err := http.NewRequestWithContext(reqCtx, http.MethodGet, rawURL, nil)
	if err != nil {
		return false, &permanentError{err}
	}
	if have > 0 {
		req.Header.Set("Range", fmt.Sprintf("bytes=%d-", have))
	}
	client := c.Client
	if client == nil {
		client = defaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		if reqCtx.Err() != nil && ctx.Err() == nil {
			return false, fmt.Errorf("no answer for %v", stall)
		}
		return false, err
	}
	defer func() { _ = resp.Body.Close() }()
	switch {
	case resp.StatusCode == http.StatusPartialContent && have > 0:
		start, err := rangeStart(resp.Header.Get("Content-Range"))
		if err != nil || start != have {
			return false, &permanentError{fmt.Errorf("server answered range %q to a request from byte %d", resp.Header.Get("Content-Range"), have)}
		}
	case resp.StatusCode == http.StatusRequestedRangeNotSatisfiable && have > 0:
		// part already holds everything (a previous run stopped between
		// the last byte and the check).
		return true, nil
	case resp.StatusCode == http.StatusOK:
		// A server that ignores Range sends everything again.
		if err := f.Truncate(0); err != nil {
			return false, &permanentError{err}
		}
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			return false, &permanentError{err}
		}
		have = 0
	default:
		err := fmt.Errorf("server answered %s", resp.Status)
		if resp.StatusCode >= 400 && resp.StatusCode < 500 {
			return false, &permanentError{err}
		}
		return false, err
	}
	limit := c.maxSize() - have
	body := &progressReader{r: resp.Body, progress: func() { stalled.Reset(stall) }}
	n, err := io.Copy(f, io.LimitReader(body, limit+1))
	if n > limit {
		return false, &permanentError{fmt.Errorf("more than %d bytes: refused", c.maxSize())}
	}
	if err != nil {
		if reqCtx.Err() != nil && ctx.Err() == nil {
			return false, fmt.Errorf("no data for %v after %d bytes", stall, have+n)
		}
		return false, err
	}
	if resp.ContentLength >= 0 && n < resp.ContentLength {
		return false, fmt.Errorf("connection closed after %d of %d bytes", have+n, have+resp.ContentLength)
	}
	return true, f.Sync()
}

// progressReader calls progress after each read that brought bytes.
type progressReader struct {
	r        io.Reader
	progress func()
}

func (p *progressReader) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	if n > 0 {
		p.progress()
	}
	return n, err
}

// rangeStart reads the first byte position of "bytes FIRST-LAST/SIZE".
func rangeStart(contentRange string) (int64, error) {
	rest, ok := strings.CutPrefix(contentRange, "bytes ")
	first, _, ok2 := strings.Cut(rest, "-")
	if !ok || !ok2 {
		return 0, fmt.Errorf("bad Content-Range %q", contentRange)
	}
	return strconv.ParseInt(first, 10, 64)
}

// unpackedSuffix names the cache entry of a file unpacked by its
// extension.
var unpackedSuffix = map[string]string{".xz": ".unxz", ".gz": ".gunzip"}

// unpack turns the verified download into the cached file: decompressed
// when ext says .xz or .gz, renamed otherwise. The result appears under
// its final name only once complete.
func (c *Cache) unpack(part, final, ext string) error {
	if ext != ".xz" && ext != ".gz" {
		return os.Rename(part, final)
	}
	in, err := os.Open(part)
	if err != nil {
		return err
	}
	defer func() { _ = in.Close() }() // read only
	var r io.Reader
	switch ext {
	case ".xz":
		r, err = xz.NewReader(in)
	case ".gz":
		r, err = gzip.NewReader(in)
	}
	if err != nil {
		return fmt.Errorf("unpacking %s: %w", ext, err)
	}
	tmp := final + ".unpacking"
	out, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	defer func() { _ = os.Remove(tmp) }() // gone once renamed; else a leftover
	limit := c.maxSize()
	n, err := io.Copy(out, io.LimitReader(r, limit+1))
	if err == nil && n > limit {
		err = fmt.Errorf("unpacks to more than %d bytes: refused", limit)
	}
	if err == nil {
		err = out.Sync()
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("unpacking %s: %w", ext, err)
	}
	return os.Rename(tmp, final)
}

// VerifyFile checks content declared as {file, sha256?}: that path is a
// regular file and, when want is not empty, that its sha256 is want. It
// returns the file's sha256 in hex, which is what gets recorded.
func VerifyFile(path, want string) (string, error) {
	if want != "" && !hexSHA256.MatchString(strings.ToLower(want)) {
		return "", fmt.Errorf("content.sha256 %q is not a SHA-256 digest in hex (64 characters)", want)
	}
	info, err := os.Stat(path)
	if err != nil {
		return "", fmt.Errorf("content.file: %w", err)
	}
	if !info.Mode().IsRegular() {
		return "", fmt.Errorf("content.file %s is not a regular file", path)
	}
	got, err := fileSHA256(path)
	if err != nil {
		return "", fmt.Errorf("content.file: %w", err)
	}
	if want != "" && got != strings.ToLower(want) {
		return "", fmt.Errorf("content.file %s: sha256 is %s, but content.sha256 says %s", path, got, strings.ToLower(want))
	}
	return got, nil
}

func fileSHA256(path string) (string, error) { return fileDigest(path, "sha256") }

// fileDigest is the hex digest of a file by algo ("sha256", "sha512").
func fileDigest(path, algo string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer func() { _ = f.Close() }() // read only
	h := newHash[algo]()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// lockFile takes an exclusive advisory lock, waiting for it until ctx
// ends.
func lockFile(ctx context.Context, path string) (func(), error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return func() { _ = f.Close() }, nil // closing releases the lock
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			_ = f.Close()
			return nil, err
		}
		select {
		case <-ctx.Done():
			_ = f.Close()
			return nil, fmt.Errorf("%s is held by another nixvirt: %w", path, ctx.Err())
		case <-time.After(200 * time.Millisecond):
		}
	}
}
