package apply

import (
	"encoding/xml"

	"nixvirt.dev/nixvirt/compiler"
)

// DefaultOwner is the owner of a configuration that names none (no
// #Config.owner, no --owner), and of the objects nixvirt marked before
// marks named their owner: upgrading keeps them the default owner's.
const DefaultOwner = "default"

// holder is who owns a live object, as its mark (a pool: nixvirt's
// record) says.
type holder struct {
	// marked: the object carries nixvirt's mark (or a pool's record).
	marked bool
	// owner is the configuration that defined it: the mark's owner, or
	// DefaultOwner for a mark that names none.
	owner string
	// copyOf is the UUID the mark names when it is not the object's own:
	// the object is a copy of one nixvirt defined (virsh dumpxml, a new
	// name and no UUID, virsh define), and nobody's.
	copyOf string
	// hash is the hash of the definition its owner gave it.
	hash string
	// elsewhere is the state directory of another configuration that
	// claims a pool or secret (claims.go): another configuration's, even
	// under this configuration's owner name.
	elsewhere string
}

// holderOf reads who owns a live object.
func holderOf(k compiler.Kind, l *Live, st *State, uri string) holder {
	if !k.HasMetadata() {
		if c, ok := st.claimedElsewhere(uri, k, l); ok {
			return holder{marked: true, owner: c.Owner, elsewhere: c.StateDir}
		}
	}
	if k == compiler.KindSecret {
		return secretHolder(st, uri, l)
	}
	if !k.HasMetadata() {
		if st == nil || !st.ownsPool(uri, l) {
			return holder{}
		}
		rec := st.pool(uri, l.UUID)
		return holder{marked: true, owner: ownerOrDefault(rec.Owner), hash: rec.Hash}
	}
	m := readMark(k, l.XML)
	if m.Hash == "" {
		return holder{}
	}
	h := holder{marked: true, owner: ownerOrDefault(m.Owner), hash: m.Hash}
	if u := m.uuid(); u != "" && u != canonicalUUID(l.UUID) {
		h.copyOf = u
	}
	return h
}

func ownerOrDefault(o string) string {
	if o == "" {
		return DefaultOwner
	}
	return o
}

// uuid is the UUID of the object the mark was written for: its own
// attribute, or for a mark written before it had one, the UUID of the
// definition it records (nixvirt always fills one in).
func (m mark) uuid() string {
	if m.UUID != "" {
		return canonicalUUID(m.UUID)
	}
	var def struct {
		UUID string `xml:"uuid"`
	}
	if xml.Unmarshal([]byte(m.Definition), &def) != nil {
		return ""
	}
	return canonicalUUID(def.UUID)
}

// mine reports whether the planned configuration owns the object: the
// object carries its owner's mark, written for this very object.
func (o Options) mine(h holder) bool {
	return h.marked && h.copyOf == "" && h.owner == o.owner && h.elsewhere == ""
}

// anotherOwners reports whether the object is another configuration's:
// marked for this object by another owner. Such an object is never
// pruned, redefined or stopped unless --take-over moves it.
func (o Options) anotherOwners(h holder) bool {
	return h.marked && h.copyOf == "" && (h.owner != o.owner || h.elsewhere != "")
}

// otherOwnerProblem is why an object of another configuration is not
// planned: its owner, or for one that another state directory records
// under this very owner name, that directory.
func (o Options) otherOwnerProblem(h holder) (ProblemCode, string) {
	if h.elsewhere != "" && h.owner == o.owner {
		return ProblemOtherStateDir, h.elsewhere
	}
	return ProblemOtherOwner, h.owner
}

// takenFrom adds to the step that writes the object's definition (adopt or
// redefine) that --take-over moves it from another owner.
func takenFrom(c *Change, owner string) {
	for i := range c.Actions {
		if a := c.Actions[i].Action; a == Adopt || a == Redefine {
			c.Actions[i].Reasons = append(c.Actions[i].Reasons, Reason{Code: ReasonTakenFromOwner, Name: owner})
			return
		}
	}
}

// ownedBy reports whether nixvirt defined a live object for owner (for
// any owner when owner is "") and it is not a copy: what `nixvirt status`
// lists as nixvirt's.
func ownedBy(k compiler.Kind, l *Live, st *State, uri, owner string) bool {
	h := holderOf(k, l, st, uri)
	return h.marked && h.copyOf == "" && (owner == "" || h.owner == owner)
}
