// Package iso9660 writes small ISO 9660 images holding a flat set of
// files in the root directory, with Joliet and Rock Ridge extensions, the
// way a NoCloud cloud-init seed needs them: Linux reads the Rock Ridge
// names, Windows (cloudbase-init) the Joliet ones, and anything else the
// plain 8.3 names.
//
// The Go modules that write ISO 9660 were not usable for this: one writes
// no extensions at all, the other stamps the volume descriptors with the
// current time and copies ctime, atime and owner from a scratch directory
// into the Rock Ridge records, so the same files never give the same
// image. Here every timestamp is fixed and every owner is 0, so an image
// is a pure function of its files and its digest is stable.
//
// Layout (2048-byte sectors): 0–15 system area, 16 primary volume
// descriptor, 17 Joliet supplementary volume descriptor, 18 terminator,
// 19–22 the four path tables, 23 the Rock Ridge continuation area (the ER
// record, too long for the root's own record), then the primary root
// directory, the Joliet root directory and the file contents.
package iso9660

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"sort"
	"strings"
	"unicode/utf16"
)

const sectorSize = 2048

// Timestamp written everywhere a date is asked for: 2000-01-01 00:00:00
// UTC. A fixed date keeps images reproducible; it is not the Unix epoch
// because some readers treat a zero date as "not specified".
var fixedDate = [6]int{2000, 1, 1, 0, 0, 0}

// File is one file of the root directory.
type File struct {
	// Name is the full name, as Rock Ridge and Joliet show it.
	Name string
	// Data is the content.
	Data []byte
}

// Image describes the image to write.
type Image struct {
	// VolumeID is the volume label (at most 32 characters for the
	// primary descriptor and 16 for Joliet).
	VolumeID string
	Files    []File
}

// Sectors of the fixed part of the layout.
const (
	sectorPVD            = 16
	sectorJolietSVD      = 17
	sectorTerminator     = 18
	sectorPathL          = 19
	sectorPathM          = 20
	sectorJolietPathL    = 21
	sectorJolietPathM    = 22
	sectorContinuation   = 23
	firstDirectorySector = 24
)

// Rock Ridge's extension reference, as RRIP 1991A states it.
const (
	rripID         = "RRIP_1991A"
	rripDescriptor = "THE ROCK RIDGE INTERCHANGE PROTOCOL PROVIDES SUPPORT FOR POSIX FILE SYSTEM SEMANTICS"
	rripSource     = "PLEASE CONTACT DISC PUBLISHER FOR SPECIFICATION SOURCE.  SEE PUBLISHER IDENTIFIER IN PRIMARY VOLUME DESCRIPTOR FOR CONTACT INFORMATION."
)

// POSIX modes recorded in the Rock Ridge PX entries: read-only for all,
// as the medium is.
const (
	modeDirectory = 0o040555
	modeFile      = 0o100444
)

// entry is a file placed in the image.
type entry struct {
	File
	shortName string // ECMA-119 level 1 identifier, "NAME.EXT;1"
	sector    uint32
}

// Write returns the image as bytes. It refuses names that are empty,
// contain a slash or a NUL, collide in their 8.3 form or are too long
// for a directory record.
func Write(img Image) ([]byte, error) {
	if img.VolumeID == "" || len(img.VolumeID) > 16 {
		return nil, fmt.Errorf("iso9660: volume label %q must have 1 to 16 characters", img.VolumeID)
	}
	entries := make([]*entry, 0, len(img.Files))
	seen := map[string]string{}
	for _, f := range img.Files {
		if f.Name == "" || strings.ContainsAny(f.Name, "/\x00") || f.Name == "." || f.Name == ".." {
			return nil, fmt.Errorf("iso9660: file name %q is not a plain file name", f.Name)
		}
		if len(f.Name) > 64 {
			return nil, fmt.Errorf("iso9660: file name %q is longer than 64 characters", f.Name)
		}
		short := shortName(f.Name)
		if other, ok := seen[short]; ok {
			return nil, fmt.Errorf("iso9660: file names %q and %q both become %q", other, f.Name, short)
		}
		seen[short] = f.Name
		entries = append(entries, &entry{File: f, shortName: short})
	}

	// Directory records are sorted by their identifier (ECMA-119 9.3),
	// each tree by its own identifiers.
	primary := append([]*entry(nil), entries...)
	sort.Slice(primary, func(i, j int) bool { return primary[i].shortName < primary[j].shortName })
	joliet := append([]*entry(nil), entries...)
	sort.Slice(joliet, func(i, j int) bool {
		return bytes.Compare(ucs2(joliet[i].Name), ucs2(joliet[j].Name)) < 0
	})

	// Sizes of the two root directories decide where the data starts;
	// the records do not depend on the file sectors' values, only on
	// their count, so lay them out once with zero sectors to measure.
	primarySectors := uint32(len(packDirectory(primaryRecords(primary, 0, 0))) / sectorSize)
	jolietSectors := uint32(len(packDirectory(jolietRecords(joliet, 0, 0))) / sectorSize)
	primaryRoot := uint32(firstDirectorySector)
	jolietRoot := primaryRoot + primarySectors
	next := jolietRoot + jolietSectors
	// Contents follow in name order, so the order the caller listed the
	// files in does not change the image. An empty file has no extent;
	// its record points at sector 0 with length 0.
	for _, e := range primary {
		if len(e.Data) == 0 {
			continue
		}
		e.sector = next
		next += sectorsFor(len(e.Data))
	}
	total := next

	out := make([]byte, int(total)*sectorSize)
	put := func(sector uint32, b []byte) { copy(out[int(sector)*sectorSize:], b) }

	primaryDir := packDirectory(primaryRecords(primary, primaryRoot, primarySectors))
	jolietDir := packDirectory(jolietRecords(joliet, jolietRoot, jolietSectors))
	put(primaryRoot, primaryDir)
	put(jolietRoot, jolietDir)
	for _, e := range entries {
		put(e.sector, e.Data)
	}

	put(sectorPVD, volumeDescriptor(img.VolumeID, false, total, primaryRoot, primarySectors))
	put(sectorJolietSVD, volumeDescriptor(img.VolumeID, true, total, jolietRoot, jolietSectors))
	terminator := make([]byte, sectorSize)
	terminator[0] = 255
	copy(terminator[1:], "CD001")
	terminator[6] = 1
	put(sectorTerminator, terminator)
	put(sectorPathL, pathTable(primaryRoot, binary.LittleEndian))
	put(sectorPathM, pathTable(primaryRoot, binary.BigEndian))
	put(sectorJolietPathL, pathTable(jolietRoot, binary.LittleEndian))
	put(sectorJolietPathM, pathTable(jolietRoot, binary.BigEndian))
	put(sectorContinuation, extensionReference())
	return out, nil
}

func sectorsFor(n int) uint32 { return uint32((n + sectorSize - 1) / sectorSize) }

// shortName maps a name to an ECMA-119 level 1 file identifier: at most
// eight d-characters, a dot, at most three, and the version ";1", the
// same mapping genisoimage uses ("user-data" becomes "USER_DAT.;1").
func shortName(name string) string {
	base, ext := name, ""
	if i := strings.LastIndexByte(name, '.'); i > 0 {
		base, ext = name[:i], name[i+1:]
	}
	dchars := func(s string, max int) string {
		var b strings.Builder
		for _, r := range strings.ToUpper(s) {
			if b.Len() == max {
				break
			}
			if r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' {
				b.WriteRune(r)
			} else {
				b.WriteByte('_')
			}
		}
		return b.String()
	}
	return dchars(base, 8) + "." + dchars(ext, 3) + ";1"
}

// ucs2 encodes s as Joliet wants it: UCS-2 big-endian.
func ucs2(s string) []byte {
	u := utf16.Encode([]rune(s))
	b := make([]byte, 2*len(u))
	for i, c := range u {
		binary.BigEndian.PutUint16(b[2*i:], c)
	}
	return b
}

// bothEndian32 and bothEndian16 write ECMA-119's "both-byte order"
// numbers (7.3.3, 7.2.3): little-endian then big-endian.
func bothEndian32(b []byte, v uint32) {
	binary.LittleEndian.PutUint32(b, v)
	binary.BigEndian.PutUint32(b[4:], v)
}

func bothEndian16(b []byte, v uint16) {
	binary.LittleEndian.PutUint16(b, v)
	binary.BigEndian.PutUint16(b[2:], v)
}

// record is one directory record before packing.
type record struct {
	sector    uint32
	size      uint32
	directory bool
	id        []byte
	systemUse []byte
}

// bytes encodes a directory record (ECMA-119 9.1).
func (r record) bytes() []byte {
	n := 33 + len(r.id)
	if len(r.id)%2 == 0 {
		n++ // padding field: the system use area starts at an even offset
	}
	n += len(r.systemUse)
	if n%2 == 1 {
		n++
	}
	b := make([]byte, n)
	b[0] = byte(n)
	bothEndian32(b[2:], r.sector)
	bothEndian32(b[10:], r.size)
	recordingDate(b[18:])
	if r.directory {
		b[25] = 0x02
	}
	bothEndian16(b[28:], 1)
	b[32] = byte(len(r.id))
	copy(b[33:], r.id)
	copy(b[33+len(r.id)+(1-len(r.id)%2):], r.systemUse)
	return b
}

// recordingDate writes the seven-byte date of a directory record
// (ECMA-119 9.1.5), which is also Rock Ridge's short TF form.
func recordingDate(b []byte) {
	b[0] = byte(fixedDate[0] - 1900)
	for i := 1; i < 6; i++ {
		b[i] = byte(fixedDate[i])
	}
	b[6] = 0 // offset from UTC in 15-minute steps
}

// packDirectory lays records into whole sectors: a record never crosses
// a sector boundary (ECMA-119 6.8.1.1).
func packDirectory(records []record) []byte {
	var out []byte
	used := 0
	for _, r := range records {
		b := r.bytes()
		if used+len(b) > sectorSize {
			out = append(out, make([]byte, sectorSize-used)...)
			used = 0
		}
		out = append(out, b...)
		used += len(b)
	}
	return append(out, make([]byte, sectorSize-used)...)
}

// primaryRecords are the root directory's records in the primary tree,
// with their Rock Ridge entries. The root's "." record carries the SUSP
// indicator SP and a continuation entry CE pointing at the ER record.
func primaryRecords(files []*entry, root, rootSectors uint32) []record {
	rootSize := rootSectors * sectorSize
	// CE comes last, as genisoimage and xorriso write it: SUSP allows it
	// anywhere, but some readers (go-diskfs) follow it only there.
	self := append(suspIndicator(), posixAttributes(modeDirectory, 2)...)
	self = append(self, timestamps()...)
	self = append(self, continuation(sectorContinuation, 0, len(extensionReferenceEntry()))...)
	parent := append(posixAttributes(modeDirectory, 2), timestamps()...)
	records := []record{
		{sector: root, size: rootSize, directory: true, id: []byte{0}, systemUse: self},
		{sector: root, size: rootSize, directory: true, id: []byte{1}, systemUse: parent},
	}
	for _, f := range files {
		su := append(posixAttributes(modeFile, 1), timestamps()...)
		su = append(su, alternateName(f.Name)...)
		records = append(records, record{sector: f.sector, size: uint32(len(f.Data)), id: []byte(f.shortName), systemUse: su})
	}
	return records
}

// jolietRecords are the root directory's records in the Joliet tree:
// UCS-2 names without a version suffix, no system use entries.
func jolietRecords(files []*entry, root, rootSectors uint32) []record {
	rootSize := rootSectors * sectorSize
	records := []record{
		{sector: root, size: rootSize, directory: true, id: []byte{0}},
		{sector: root, size: rootSize, directory: true, id: []byte{1}},
	}
	for _, f := range files {
		records = append(records, record{sector: f.sector, size: uint32(len(f.Data)), id: ucs2(f.Name)})
	}
	return records
}

// suspEntry starts a SUSP entry: signature, length, version 1.
func suspEntry(sig string, length int) []byte {
	b := make([]byte, length)
	copy(b, sig)
	b[2] = byte(length)
	b[3] = 1
	return b
}

// suspIndicator is SUSP's SP entry (SUSP 5.3): check bytes BE EF, no
// bytes skipped.
func suspIndicator() []byte {
	b := suspEntry("SP", 7)
	b[4], b[5], b[6] = 0xBE, 0xEF, 0
	return b
}

// continuation is SUSP's CE entry (SUSP 5.1): where the rest of a
// record's system use entries are, here the ER entry.
func continuation(sector uint32, offset, length int) []byte {
	b := suspEntry("CE", 28)
	bothEndian32(b[4:], sector)
	bothEndian32(b[12:], uint32(offset))
	bothEndian32(b[20:], uint32(length))
	return b
}

// extensionReferenceEntry is SUSP's ER entry (SUSP 5.5) naming RRIP 1991A.
func extensionReferenceEntry() []byte {
	n := 8 + len(rripID) + len(rripDescriptor) + len(rripSource)
	b := suspEntry("ER", n)
	b[4], b[5], b[6], b[7] = byte(len(rripID)), byte(len(rripDescriptor)), byte(len(rripSource)), 1
	copy(b[8:], rripID+rripDescriptor+rripSource)
	return b
}

// extensionReference is the continuation area's sector: the ER entry.
func extensionReference() []byte {
	b := extensionReferenceEntry()
	return append(b, make([]byte, sectorSize-len(b))...)
}

// posixAttributes is Rock Ridge's PX entry in its RRIP 1991A form
// (mode, links, uid, gid; no serial number).
func posixAttributes(mode uint32, links uint32) []byte {
	b := suspEntry("PX", 36)
	bothEndian32(b[4:], mode)
	bothEndian32(b[12:], links)
	// uid and gid stay 0 (root): the files belong to nobody in particular.
	return b
}

// timestamps is Rock Ridge's TF entry with modify, access and attribute
// change times in the short form, all the fixed date.
func timestamps() []byte {
	b := suspEntry("TF", 5+3*7)
	b[4] = 0x02 | 0x04 | 0x08
	for i := 0; i < 3; i++ {
		recordingDate(b[5+7*i:])
	}
	return b
}

// alternateName is Rock Ridge's NM entry: the file's real name.
func alternateName(name string) []byte {
	b := suspEntry("NM", 5+len(name))
	copy(b[5:], name)
	return b
}

// pathTable is a path table holding only the root (ECMA-119 9.4).
func pathTable(root uint32, order binary.ByteOrder) []byte {
	b := make([]byte, sectorSize)
	b[0] = 1 // length of the directory identifier
	order.PutUint32(b[2:], root)
	order.PutUint16(b[6:], 1) // parent directory number: the root itself
	return b
}

const pathTableSize = 10

// volumeDescriptor is the primary volume descriptor (ECMA-119 8.4), or
// with joliet the supplementary one with UCS-2 level 3 escapes.
func volumeDescriptor(label string, joliet bool, totalSectors, root, rootSectors uint32) []byte {
	b := make([]byte, sectorSize)
	text := func(field []byte, s string) {
		if joliet {
			for i := 0; i+1 < len(field); i += 2 {
				field[i], field[i+1] = 0, ' '
			}
			copy(field, ucs2(s))
			return
		}
		for i := range field {
			field[i] = ' '
		}
		copy(field, s)
	}
	b[0] = 1
	pathL, pathM := uint32(sectorPathL), uint32(sectorPathM)
	if joliet {
		b[0] = 2
		copy(b[88:], "%/E") // UCS-2 level 3
		pathL, pathM = sectorJolietPathL, sectorJolietPathM
	}
	copy(b[1:], "CD001")
	b[6] = 1
	text(b[8:40], "")
	text(b[40:72], label)
	bothEndian32(b[80:], totalSectors)
	bothEndian16(b[120:], 1)
	bothEndian16(b[124:], 1)
	bothEndian16(b[128:], sectorSize)
	bothEndian32(b[132:], pathTableSize)
	binary.LittleEndian.PutUint32(b[140:], pathL)
	binary.BigEndian.PutUint32(b[148:], pathM)
	copy(b[156:190], record{sector: root, size: rootSectors * sectorSize, directory: true, id: []byte{0}}.bytes())
	text(b[190:318], "")
	text(b[318:446], "")
	text(b[446:574], "NIXVIRT")
	text(b[574:702], "")
	text(b[702:739], "")
	text(b[739:776], "")
	text(b[776:813], "")
	date := fmt.Sprintf("%04d%02d%02d%02d%02d%02d00", fixedDate[0], fixedDate[1], fixedDate[2], fixedDate[3], fixedDate[4], fixedDate[5])
	copy(b[813:], date) // creation
	copy(b[830:], date) // modification
	copy(b[847:], "0000000000000000")
	copy(b[864:], date) // effective
	b[881] = 1
	return b
}
