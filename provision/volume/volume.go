// Package volume fills and sizes storage volumes through libvirt: upload
// a local file into a volume (as a sparse stream, so the holes of a raw
// image cost neither transfer nor disk space), create a volume as a copy
// of another, and grow a volume, never shrink it.
package volume

import (
	"errors"
	"fmt"
	"io"
	"os"
	"syscall"

	"libvirt.org/go/libvirt"
)

// Describe names a volume for messages: `volume "NAME" in pool "POOL"`.
func Describe(vol *libvirt.StorageVol) string {
	name, err := vol.GetName()
	if err != nil {
		name = "?"
	}
	pool, err := vol.LookupPoolByVolume()
	if err != nil {
		return fmt.Sprintf("volume %q", name)
	}
	defer pool.Free()
	poolName, err := pool.GetName()
	if err != nil {
		return fmt.Sprintf("volume %q", name)
	}
	return fmt.Sprintf("volume %q in pool %q", name, poolName)
}

// Upload writes the file at path into vol from its first byte. Holes of
// the file are sent as holes where the connection supports sparse
// streams, and written out as zeros elsewhere. It reports whether the
// upload was sparse.
func Upload(conn *libvirt.Connect, vol *libvirt.StorageVol, path string) (sparse bool, err error) {
	f, err := os.Open(path)
	if err != nil {
		return false, err
	}
	defer func() { _ = f.Close() }() // read only
	info, err := f.Stat()
	if err != nil {
		return false, err
	}
	size := uint64(info.Size())
	sparse = true
	err = upload(conn, vol, f, size, true)
	if isUnsupported(err) {
		sparse = false
		if _, err = f.Seek(0, io.SeekStart); err == nil {
			err = upload(conn, vol, f, size, false)
		}
	}
	if err != nil {
		return false, err
	}
	// libvirt learns the new capacity and format of an uploaded image
	// (a qcow2 file says its own virtual size) only when it refreshes the
	// pool, which it otherwise does later in a thread of its own: until
	// then GetInfo, Grow and libvirt's own shrink check see the old size.
	pool, err := vol.LookupPoolByVolume()
	if err != nil {
		return sparse, fmt.Errorf("%s: %w", Describe(vol), err)
	}
	defer pool.Free()
	if err := pool.Refresh(0); err != nil {
		return sparse, fmt.Errorf("refreshing the pool after uploading into %s: %w", Describe(vol), err)
	}
	return sparse, nil
}

func upload(conn *libvirt.Connect, vol *libvirt.StorageVol, f *os.File, size uint64, sparse bool) error {
	stream, err := conn.NewStream(0)
	if err != nil {
		return fmt.Errorf("uploading %s into %s: %w", f.Name(), Describe(vol), err)
	}
	defer stream.Free()
	var flags libvirt.StorageVolUploadFlags
	if sparse {
		flags = libvirt.STORAGE_VOL_UPLOAD_SPARSE_STREAM
	}
	if err := vol.Upload(stream, 0, size, flags); err != nil {
		if sparse && isUnsupported(err) {
			return err
		}
		return fmt.Errorf("uploading %s into %s: %w", f.Name(), Describe(vol), err)
	}
	// A Go error inside a callback reaches libvirt only as -1; keep it
	// to report it rather than libvirt's generic message.
	var readErr error
	read := func(_ *libvirt.Stream, n int) ([]byte, error) {
		buf := make([]byte, n)
		got, err := f.Read(buf)
		if err != nil && err != io.EOF {
			readErr = err
			return nil, err
		}
		return buf[:got], nil
	}
	if sparse {
		err = stream.SparseSendAll(read, func(*libvirt.Stream) (bool, int64, error) {
			inData, length, err := section(f)
			if err != nil {
				readErr = err
			}
			return inData, length, err
		}, func(_ *libvirt.Stream, length int64) error {
			_, err := f.Seek(length, io.SeekCurrent)
			if err != nil {
				readErr = err
			}
			return err
		})
	} else {
		err = stream.SendAll(read)
	}
	if err == nil {
		err = stream.Finish()
	}
	if err != nil {
		_ = stream.Abort() // the upload's own error is the one to report
		if readErr != nil {
			err = readErr
		}
		return fmt.Errorf("uploading %s into %s: %w", f.Name(), Describe(vol), err)
	}
	return nil
}

// Whence values of lseek(2) that package syscall does not name.
const (
	seekData = 3
	seekHole = 4
)

// section tells, at f's current offset, whether it is in data or in a
// hole and how many bytes the section has left: what libvirt's sparse
// stream asks before each chunk. At the end of the file it is a hole of
// length 0. A file system without SEEK_DATA makes the whole file data.
func section(f *os.File) (inData bool, length int64, err error) {
	cur, err := f.Seek(0, io.SeekCurrent)
	if err != nil {
		return false, 0, err
	}
	end, err := f.Seek(0, io.SeekEnd)
	if err != nil {
		return false, 0, err
	}
	defer func() {
		if _, serr := f.Seek(cur, io.SeekStart); err == nil {
			err = serr
		}
	}()
	if cur >= end {
		return false, 0, nil
	}
	fd := int(f.Fd())
	data, err := syscall.Seek(fd, cur, seekData)
	switch {
	case errors.Is(err, syscall.ENXIO):
		// No data after cur: the rest of the file is a hole.
		return false, end - cur, nil
	case errors.Is(err, syscall.EINVAL):
		return true, end - cur, nil
	case err != nil:
		return false, 0, err
	case data > cur:
		return false, data - cur, nil
	}
	hole, err := syscall.Seek(fd, cur, seekHole)
	if err != nil {
		return false, 0, err
	}
	return true, hole - cur, nil
}

func isUnsupported(err error) bool {
	var lerr libvirt.Error
	return errors.As(err, &lerr) && (lerr.Code == libvirt.ERR_NO_SUPPORT || lerr.Code == libvirt.ERR_ARGUMENT_UNSUPPORTED)
}

// CloneFrom creates in pool the volume volXML describes, as a copy of
// source (libvirt's create-from: the content and, for most pools, the
// allocation of source).
func CloneFrom(pool *libvirt.StoragePool, volXML string, source *libvirt.StorageVol) (*libvirt.StorageVol, error) {
	vol, err := pool.StorageVolCreateXMLFrom(volXML, source, 0)
	if err != nil {
		name, _ := pool.GetName()
		return nil, fmt.Errorf("creating a volume in pool %q as a copy of %s: %w", name, Describe(source), err)
	}
	return vol, nil
}

// CheckGrow tells whether a volume of capacity have may be given
// capacity want: equal or larger is fine, smaller is an error, because
// shrinking would cut off whatever the guest keeps at the end of its
// disk.
func CheckGrow(have, want uint64) error {
	if want < have {
		return fmt.Errorf("capacity %d bytes is smaller than the volume's %d: volumes are grown, never shrunk", want, have)
	}
	return nil
}

// Grow sets vol's capacity to want when that is larger than what it has,
// and reports whether it did. A smaller want is an error (CheckGrow).
func Grow(vol *libvirt.StorageVol, want uint64) (bool, error) {
	info, err := vol.GetInfo()
	if err != nil {
		return false, fmt.Errorf("%s: %w", Describe(vol), err)
	}
	if err := CheckGrow(info.Capacity, want); err != nil {
		return false, fmt.Errorf("%s: %w", Describe(vol), err)
	}
	if want == info.Capacity {
		return false, nil
	}
	// No STORAGE_VOL_RESIZE_SHRINK: libvirt itself refuses to shrink.
	if err := vol.Resize(want, 0); err != nil {
		return false, fmt.Errorf("growing %s from %d to %d bytes: %w", Describe(vol), info.Capacity, want, err)
	}
	return true, nil
}
