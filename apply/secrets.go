package apply

import (
	"errors"
	"fmt"
	"strings"

	"libvirt.org/go/libvirt"
	"libvirt.org/go/libvirtxml"

	"nixvirt.dev/nixvirt/compiler"
	"nixvirt.dev/nixvirt/provision/secret"
)

// Secrets are planned apart from the other kinds: a libvirt secret has no
// <metadata> and no name, never runs, and holds a value that libvirt does
// not give back when it is private. nixvirt records the secrets it
// defines in its state (secretRecord): the entry's name, the owner, the
// definition it gave and a keyed digest of the value it set, never the
// value. The value is read from its file or environment variable when
// plan compares it and again when apply sets it, and leaves nixvirt only
// into libvirt (provision/secret).

// SetValue sets a secret's value.
const SetValue Action = "set-value"

const (
	// ReasonValueNew: the secret is created, or taken over without a
	// record of its value: its value is set.
	ReasonValueNew ReasonCode = "value-new"
	// ReasonValueChanged: the value's digest differs from the one nixvirt
	// recorded when it set it.
	ReasonValueChanged ReasonCode = "value-changed"
	// ReasonUsageChanged: the secret's usage changed, which libvirt does
	// not change on a defined secret: it is undefined and defined again,
	// losing its value, which is set again.
	ReasonUsageChanged ReasonCode = "usage-changed"
)

// ProblemSecretValue: the secret's value cannot be read (Detail: why,
// naming its file or variable, never the value).
const ProblemSecretValue ProblemCode = "secret-value"

// ProblemUsageTaken: the secret is new (no secret has its UUID) and
// another secret (Detail: its UUID; Problem.Holder: whose it is) has its
// usage, which libvirt gives one secret only: defining it would fail.
const ProblemUsageTaken ProblemCode = "usage-taken"

// ProblemSecretUsage: the secret's usage changes, which libvirt does only
// by undefining the secret and so losing its value, and the value could
// not be had again (Detail: why: the entry gives none, or another secret
// holds the new usage, so that libvirt would refuse the new definition).
const ProblemSecretUsage ProblemCode = "secret-usage"

// secretRecord is what nixvirt gave a secret it owns.
type secretRecord struct {
	// Owner is the configuration that defined the secret.
	Owner string `json:"owner,omitempty"`
	// Name is the entry's name: libvirt knows the secret by UUID only.
	Name       string `json:"name"`
	Hash       string `json:"hash"`
	Definition string `json:"definition"`
	// Value is the keyed digest of the value nixvirt set (see
	// provision/secret), "" before it set one.
	Value string `json:"value,omitempty"`
}

func (s *State) secret(uri, uuid string) secretRecord {
	if s == nil {
		return secretRecord{}
	}
	if _, err := s.load(uri); err != nil {
		return secretRecord{}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.secrets[uri][canonicalUUID(uuid)]
}

// setSecret records (rec.Hash != "") or forgets a secret, and saves at
// once.
func (s *State) setSecret(uri, uuid string, rec secretRecord) error {
	if _, err := s.load(uri); err != nil {
		return err
	}
	if rec.Hash != "" {
		if err := s.claimObject(uri, compiler.KindSecret, uuid, rec.Owner); err != nil {
			return err
		}
	}
	s.mu.Lock()
	if rec.Hash == "" {
		delete(s.secrets[uri], canonicalUUID(uuid))
	} else {
		s.secrets[uri][canonicalUUID(uuid)] = rec
	}
	err := s.save(uri)
	s.mu.Unlock()
	if err == nil && rec.Hash == "" {
		err = s.releaseObject(uri, compiler.KindSecret, uuid)
	}
	return err
}

// forget drops nixvirt's record of an object it deleted, for the kinds
// recorded in the state rather than marked (pools, secrets).
func (s *State) forget(uri string, k compiler.Kind, uuid string) error {
	switch {
	case k == compiler.KindSecret:
		return s.setSecret(uri, uuid, secretRecord{})
	case !k.HasMetadata():
		return s.setPool(uri, uuid, poolRecord{})
	}
	return nil
}

// secretHolder reads who owns a live secret: its record, when the record
// is of this very secret (the UUID, and the usage nixvirt gave it).
func secretHolder(st *State, uri string, l *Live) holder {
	rec := st.secret(uri, l.UUID)
	if rec.Hash == "" || usageOf(rec.Definition) != usageOf(l.XML) {
		return holder{}
	}
	return holder{marked: true, owner: ownerOrDefault(rec.Owner), hash: rec.Hash}
}

// usageOf is a secret's usage, "type id", "" for none.
func usageOf(doc string) string {
	var s libvirtxml.Secret
	if s.Unmarshal(doc) != nil || s.Usage == nil {
		return ""
	}
	id := s.Usage.Volume + s.Usage.Name + s.Usage.Target
	return s.Usage.Type + " " + id
}

// usedBy is the live secret, other than the entry's own, that has the
// usage the entry gives, which libvirt would refuse to give another:
// nil when none has, or the usage names nothing (type none).
func usedBy(live []Live, w *Wanted) *Live {
	u := usageOf(w.Definition)
	if u == "" || strings.HasSuffix(u, " ") {
		return nil
	}
	for i := range live {
		if canonicalUUID(live[i].UUID) != w.UUID && usageOf(live[i].XML) == u {
			return &live[i]
		}
	}
	return nil
}

// nameSecrets gives the live secrets nixvirt recorded the name of their
// entry; the others are shown by their usage, or by UUID.
func nameSecrets(st *State, uri string, live []Live) {
	for i := range live {
		l := &live[i]
		if rec := st.secret(uri, l.UUID); rec.Hash != "" && usageOf(rec.Definition) == usageOf(l.XML) {
			l.Name = rec.Name
			continue
		}
		if u := usageOf(l.XML); u != "" {
			l.Name = u
		} else {
			l.Name = canonicalUUID(l.UUID)
		}
	}
}

// wantedSecret is a secret entry ready to compare and define: its UUID
// (derived from the connection and the entry's name when the definition
// has none) filled in.
func wantedSecret(uri string, o compiler.Object, docXML, owner string) (*Wanted, error) {
	var s libvirtxml.Secret
	if err := s.Unmarshal(docXML); err != nil {
		return nil, fmt.Errorf("%s: secret %q: %v", uri, o.Name, err)
	}
	if s.UUID == "" {
		s.UUID = derivedUUID(uri, compiler.KindSecret, o.Name)
	}
	s.UUID = canonicalUUID(s.UUID)
	prepared, err := s.Marshal()
	if err != nil {
		return nil, fmt.Errorf("%s: secret %q: %v", uri, o.Name, err)
	}
	return &Wanted{Kind: compiler.KindSecret, Name: o.Name, UUID: s.UUID, Owner: owner, XML: prepared, Definition: prepared,
		UserXML: docXML, Hash: hashOf(prepared), SecretValue: o.Entry.SecretValue}, nil
}

// secretSource is where an entry's value comes from.
func secretSource(v *compiler.SecretValue) secret.Source {
	return secret.Source{File: v.File, Env: v.Env}
}

// planSecret plans a secret entry: define it (or take it over) as other
// objects are, and set its value when nixvirt has not set this very value
// (by its digest).
func planSecret(uri string, w *Wanted, live []Live, opts Options) *planned {
	c := &planned{Change: &Change{Connection: uri, Kind: w.Kind, Name: w.Name, UUID: w.UUID}, wanted: w}
	var value secret.Value
	if w.SecretValue != nil {
		v, err := secret.Read(secretSource(w.SecretValue))
		if err != nil {
			c.fail(ProblemSecretValue, err.Error())
			return c
		}
		value = v
	}
	var l *Live
	for i := range live {
		if canonicalUUID(live[i].UUID) == w.UUID {
			l = &live[i]
		}
	}
	setValue := func(code ReasonCode) {
		if w.SecretValue != nil {
			c.Actions = append(c.Actions, Step{Action: SetValue, Reasons: []Reason{because(code)}})
		}
	}
	if l == nil {
		if other := usedBy(live, w); other != nil {
			c.fail(ProblemUsageTaken, other.UUID)
			c.Problem.Usage = usageOf(w.Definition)
			c.Problem.Holder = opts.holderOfProblem(holderOf(w.Kind, other, opts.State, uri))
			if h := c.Problem.Holder; h != nil && h.StateDir == "" {
				h.Name = opts.State.secret(uri, other.UUID).Name
			}
			return c
		}
		c.add(Create)
		c.After = readable(w.Kind, w.Definition)
		setValue(ReasonValueNew)
		return c
	}
	c.live = l
	hd := holderOf(w.Kind, l, opts.State, uri)
	if opts.anotherOwners(hd) && !opts.TakeOver {
		c.fail(opts.otherOwnerProblem(hd))
		return c
	}
	isOwned := opts.mine(hd)
	rec := opts.State.secret(uri, l.UUID)
	// before is what the diff compares with: the definition nixvirt gave
	// when the configuration changed, libvirt's when it did (drift).
	before := l.XML
	switch {
	case isOwned && rec.Hash != w.Hash:
		c.add(Redefine, because(ReasonDefinitionChanged))
		before = rec.Definition
	case isOwned && !sameDefinition(w.Kind, l.XML, w.UserXML):
		c.add(Redefine, because(ReasonDrifted))
	case !isOwned && !equivalent(w.Kind, l.XML, w.UserXML):
		c.add(Redefine, because(ReasonTakeOverDiffers))
	case !isOwned:
		c.add(Adopt, because(ReasonTakeOverIdentical))
	}
	if opts.anotherOwners(hd) {
		takenFrom(c.Change, hd.owner)
	}
	recreate := c.has(Redefine) && usageOf(l.XML) != usageOf(w.Definition)
	if recreate {
		for _, other := range live {
			if canonicalUUID(other.UUID) != w.UUID && usageOf(other.XML) == usageOf(w.Definition) {
				c.fail(ProblemSecretUsage, fmt.Sprintf("its new usage (%s) is secret %s's, so libvirt would refuse it once this one is undefined and its value lost", usageOf(w.Definition), other.UUID))
				return c
			}
		}
		if w.SecretValue == nil {
			c.fail(ProblemSecretUsage, "the entry gives no value to set again: add value: {file: …} or {env: …}, or change the usage by hand (virsh secret-undefine, secret-define, secret-set-value)")
			return c
		}
	}
	for i := range c.Actions {
		if recreate && c.Actions[i].Action == Redefine {
			c.Actions[i].Reasons = append(c.Actions[i].Reasons, because(ReasonUsageChanged))
		}
	}
	if c.has(Redefine) {
		c.Before, c.After = readable(w.Kind, before), readable(w.Kind, w.Definition)
		c.Diff = unifiedDiff("current", "wanted", c.Before, c.After)
	}
	if w.SecretValue == nil {
		return c
	}
	switch {
	case recreate || !isOwned || rec.Value == "":
		setValue(ReasonValueNew)
	default:
		d, err := secret.LoadDigester(opts.State.dir)
		if err != nil {
			c.fail(ProblemSecretValue, err.Error())
			return c
		}
		if !d.Matches(value, rec.Value) {
			setValue(ReasonValueChanged)
		}
	}
	return c
}

// secretSetter is what setting a secret's value needs of a host beyond
// Host: only a libvirt connection has it.
type secretSetter interface {
	SetSecretValue(uuid string, v secret.Value) error
}

func (h *libvirtHost) SetSecretValue(uuid string, v secret.Value) error {
	h.writes.Add(1)
	sec, err := h.conn.LookupSecretByUUIDString(uuid)
	if err != nil {
		return err
	}
	defer func() { _ = sec.Free() }() // releases the handle only
	return secret.Set(sec, v)
}

// listSecrets lists a connection's secrets; a driver without secrets (the
// test driver) has none.
func (h *libvirtHost) listSecrets() ([]Live, error) {
	secs, err := h.conn.ListAllSecrets(0)
	var lerr libvirt.Error
	if errors.As(err, &lerr) && lerr.Code == libvirt.ERR_NO_SUPPORT {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []Live
	for i := range secs {
		s := &secs[i]
		uuid, err := s.GetUUIDString()
		var x string
		if err == nil {
			x, err = s.GetXMLDesc(0)
		}
		_ = s.Free() // releases the handle only
		if gone(err) {
			// Removed by someone else between the list and the read.
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, Live{UUID: uuid, Name: uuid, XML: x})
	}
	return out, nil
}

// secret defines a secret, records it as nixvirt's and sets its value, as
// planned. The record comes right after the define, so that a value that
// cannot be set leaves a secret nixvirt owns, whose value the next apply
// sets.
func (ex *executor) secret(c *planned) {
	w, h, uri := c.wanted, ex.h, ex.h.URI()
	// The digest of the value libvirt holds stays true whoever set it;
	// it changes only when this apply sets the value.
	rec := ex.st.secret(uri, w.UUID)
	if c.live == nil {
		rec.Value = ""
	}
	prev := rec
	rec.Owner, rec.Name, rec.Hash, rec.Definition = w.Owner, w.Name, w.Hash, w.Definition
	for _, a := range []Action{Create, Redefine, Adopt} {
		if !c.has(a) {
			continue
		}
		// A secret that libvirt is to have anew (created, or defined again
		// with another usage) is recorded first: its record is all that
		// makes it nixvirt's, so an apply killed right after libvirt
		// defined it must not leave it without one. One that libvirt then
		// refuses gets its old record back.
		recreate := a == Redefine && usageOf(c.live.XML) != usageOf(w.XML)
		if a == Create || recreate {
			rec.Value = ""
			if err := ex.st.setSecret(uri, w.UUID, rec); err != nil {
				ex.fail(c, "record the secret as nixvirt's", err)
				return
			}
		}
		putBack := func() {
			if err := ex.st.setSecret(uri, w.UUID, prev); err != nil {
				ex.addFailure(c, "putting back nixvirt's record of the secret", err)
			}
		}
		if recreate {
			if undefined, err := ex.recreateSecret(c); err != nil {
				if undefined {
					// libvirt lost the value with the definition: the
					// record must not claim it, so that the next apply
					// sets it again.
					prev.Value = ""
				}
				putBack()
				return
			}
		} else if a != Adopt {
			if err := h.Define(c.Kind, w.XML); err != nil {
				ex.fail(c, "define", err)
				if a == Create {
					putBack()
				}
				return
			}
		}
		if err := ex.st.setSecret(uri, w.UUID, rec); err != nil {
			ex.fail(c, "record the secret as nixvirt's", err)
			return
		}
		ex.note(c, Step{Action: a})
	}
	if !c.has(SetValue) {
		return
	}
	setter, _ := h.(secretSetter)
	if u, ok := h.(interface{ Unwrap() Host }); ok && setter == nil {
		setter, _ = u.Unwrap().(secretSetter)
	}
	if setter == nil {
		ex.fail(c, "set its value", fmt.Errorf("this connection cannot set secret values"))
		return
	}
	v, err := secret.Read(secretSource(w.SecretValue))
	if err != nil {
		ex.fail(c, "read its value", err)
		return
	}
	d, err := secret.OpenDigester(ex.st.dir)
	if err != nil {
		ex.fail(c, "set its value", err)
		return
	}
	if err := setter.SetSecretValue(w.UUID, v); err != nil {
		ex.fail(c, "set its value", err)
		return
	}
	rec.Value = d.Digest(v)
	if err := ex.st.setSecret(uri, w.UUID, rec); err != nil {
		ex.fail(c, "record the digest of its value", err)
		return
	}
	ex.note(c, Step{Action: SetValue})
}

// recreateSecret undefines a secret and defines it with its new usage
// (libvirt keeps the usage of a defined secret). A define that fails puts
// the old definition back, without its value, which is lost; undefined
// says whether the secret was undefined, and so its value lost.
func (ex *executor) recreateSecret(c *planned) (undefined bool, err error) {
	h := ex.h
	if err := h.Undefine(c.Kind, c.live.UUID, false, false); err != nil {
		ex.fail(c, "undefine it to change its usage", err)
		return false, err
	}
	if err := h.Define(c.Kind, c.wanted.XML); err != nil {
		ex.fail(c, "define it with its new usage", err)
		if rerr := h.Define(c.Kind, c.live.XML); rerr != nil {
			ex.addFailure(c, "putting back its old definition (it is undefined now)", rerr)
		} else {
			ex.addFailure(c, "its old definition is back, without its value (set it again by applying once the usage is right)", err)
		}
		return true, err
	}
	return false, nil
}
