package apply

import (
	"path/filepath"
	"strings"

	"libvirt.org/go/libvirtxml"

	"nixvirt.dev/nixvirt/apply/live"
	"nixvirt.dev/nixvirt/compiler"
	"nixvirt.dev/nixvirt/provision/nocloud"
)

// DeleteSeed deletes the cloud-init seed volume (Step.Volume) that
// nixvirt built for a domain that is deleted; the step's reason names the
// seed's pool.
const DeleteSeed Action = "delete-seed"

// ReasonSeedOfDeletedDomain: the volume is the cloud-init seed nixvirt
// built for the domain, which is deleted (present: false, or pruned);
// Name is the seed's pool.
const ReasonSeedOfDeletedDomain ReasonCode = "seed-of-deleted-domain"

// ReasonSeedNoLongerUsed: the volume is the cloud-init seed nixvirt built
// for the domain, which stays but no longer has cloudInit; Name is the
// seed's pool. It goes after the domain is redefined without it.
const ReasonSeedNoLongerUsed ReasonCode = "seed-no-longer-used"

// seedKeptWhileRunning is why a seed the configuration dropped is still
// there: the running domain has it attached.
const seedKeptWhileRunning = "kept while the running domain has it attached, then deleted by the next apply"

// seedRemoval is a seed volume to delete once its domain is undefined, or
// redefined without it.
type seedRemoval struct {
	pool, poolUUID, volume string
}

// planSeedRemovals adds to each domain that is deleted the removal of its
// cloud-init seed volume, and to each that stays without one the removal
// of its old one (planDroppedSeeds), when nixvirt built it: the domain's definition
// uses the volume named after it, and nixvirt's record of that volume
// says it holds a seed. A seed the configuration still wants (a domain of
// that name is declared again), or in a pool that is stopped or itself
// deleted, is left alone: a pool's files are never deleted with it.
func planSeedRemovals(h Host, changes []*planned, pools []Live, wanted []*Wanted, st *State) {
	if st == nil {
		return
	}
	uri := h.URI()
	leaving := map[string]bool{} // pool UUIDs deleted in this plan
	for _, c := range changes {
		if c.Kind == compiler.KindPool && c.has(Delete) && c.live != nil {
			leaving[canonicalUUID(c.live.UUID)] = true
		}
	}
	for _, c := range changes {
		if c.Kind == compiler.KindDomain && !c.has(Delete) {
			planDroppedSeeds(h, c, pools, leaving, wanted, st)
			continue
		}
		if c.Kind != compiler.KindDomain || !c.has(Delete) || c.live == nil || c.Problem != nil {
			continue
		}
		var d libvirtxml.Domain
		if d.Unmarshal(c.live.XML) != nil || d.Devices == nil {
			continue
		}
		name := nocloud.VolumeName(c.live.Name)
		for _, disk := range d.Devices.Disks {
			if disk.Source == nil || disk.Source.Volume == nil || disk.Source.Volume.Volume != name {
				continue
			}
			pool := disk.Source.Volume.Pool
			var p *Live
			for i := range pools {
				if pools[i].Name == pool {
					p = &pools[i]
				}
			}
			if p == nil || !p.Active || leaving[canonicalUUID(p.UUID)] || wantsVolume(wanted, pool, name) {
				continue
			}
			if !strings.HasPrefix(st.volume(uri, p.UUID, name).Content, "seed:") || !hasVolume(h, pool, name) ||
				usedElsewhere(h, c.live.Name, pool, name) {
				continue
			}
			c.seeds = append(c.seeds, seedRemoval{pool: pool, poolUUID: canonicalUUID(p.UUID), volume: name})
			c.Actions = append(c.Actions, Step{Action: DeleteSeed, Volume: name, Reasons: []Reason{{Code: ReasonSeedOfDeletedDomain, Name: pool}}})
		}
	}
}

// planDroppedSeeds adds to each domain nixvirt owns that stays but no
// longer has cloudInit the removal of the seed nixvirt built for it: a
// volume named after the domain that nixvirt's record says holds a seed,
// which no entry declares and the domain's new definition does not use.
// It goes after the domain is redefined without it. While the running
// domain still has it attached (its removal waits for a restart), it is
// kept, and the plan says so; the first apply after the restart deletes
// it.
func planDroppedSeeds(h Host, c *planned, pools []Live, leaving map[string]bool, wanted []*Wanted, st *State) {
	if c.Kind != compiler.KindDomain || c.wanted == nil || c.wanted.Absent || c.live == nil || c.Problem != nil ||
		!c.facts.Owned || c.has(Delete) {
		return
	}
	uri := h.URI()
	name := nocloud.VolumeName(c.live.Name)
	for i := range pools {
		p := &pools[i]
		// The record first: it is in memory, and only domains that had a
		// seed have one.
		if !strings.HasPrefix(st.volume(uri, p.UUID, name).Content, "seed:") {
			continue
		}
		if !p.Active || leaving[canonicalUUID(p.UUID)] || usesVolume(c.wanted.XML, p.Name, name) ||
			wantsVolume(wanted, p.Name, name) || !hasVolume(h, p.Name, name) || usedElsewhere(h, c.live.Name, p.Name, name) {
			continue
		}
		if runsWithOldDefinition(c) && runningUses(h, c, p.Name, name) {
			c.Parts = append(c.Parts, Part{Class: live.NextBoot, Path: "cloud-init seed volume " + p.Name + "/" + name,
				Reason: seedKeptWhileRunning, Pending: true})
			continue
		}
		c.seeds = append(c.seeds, seedRemoval{pool: p.Name, poolUUID: canonicalUUID(p.UUID), volume: name})
		c.Actions = append(c.Actions, Step{Action: DeleteSeed, Volume: name, Reasons: []Reason{{Code: ReasonSeedNoLongerUsed, Name: p.Name}}})
	}
}

// runsWithOldDefinition reports whether a domain still runs with the
// definition it has now once apply has done its steps: it runs, and
// apply neither stops nor restarts it.
func runsWithOldDefinition(c *planned) bool {
	return c.live.Active && !c.has(Stop) && !c.has(Restart)
}

// runningUses reports whether the running domain has the volume attached.
// When the running definition cannot be read, it is taken to: a seed is
// never deleted under a guest.
func runningUses(h Host, c *planned, pool, volume string) bool {
	lh, ok := hostAs[liveHost](h)
	if !ok {
		return true
	}
	running, err := lh.RunningXML(compiler.KindDomain, c.live.UUID)
	if err != nil {
		return true
	}
	return usesVolume(running, pool, volume)
}

// usesVolume reports whether a domain's definition has a disk on the
// volume. A definition that cannot be read is taken to.
func usesVolume(domainXML, pool, volume string) bool {
	return hasDisk(domainXML, func(disk libvirtxml.DomainDisk) bool { return onVolume(disk, pool, volume) })
}

// usedElsewhere reports whether a domain of the host other than self has
// a disk on the volume, by pool and name or as a file of that name (an
// administrator may boot another guest from a seed): its seed is then
// kept. A host that cannot be listed is taken to have one.
func usedElsewhere(h Host, self, pool, volume string) bool {
	domains, err := h.List(compiler.KindDomain)
	if err != nil {
		return true
	}
	onIt := func(disk libvirtxml.DomainDisk) bool {
		return onVolume(disk, pool, volume) ||
			disk.Source != nil && disk.Source.File != nil && filepath.Base(disk.Source.File.File) == volume
	}
	for _, d := range domains {
		if d.Name != self && hasDisk(d.XML, onIt) {
			return true
		}
	}
	return false
}

func onVolume(disk libvirtxml.DomainDisk, pool, volume string) bool {
	return disk.Source != nil && disk.Source.Volume != nil && disk.Source.Volume.Pool == pool && disk.Source.Volume.Volume == volume
}

// hasDisk reports whether a domain's definition has a disk for which on
// is true. A definition that cannot be read is taken to.
func hasDisk(domainXML string, on func(libvirtxml.DomainDisk) bool) bool {
	var d libvirtxml.Domain
	if d.Unmarshal(domainXML) != nil {
		return true
	}
	if d.Devices == nil {
		return false
	}
	for _, disk := range d.Devices.Disks {
		if on(disk) {
			return true
		}
	}
	return false
}

// wantsVolume reports whether the configuration declares the volume in
// the pool (a seed of a domain declared again is one).
func wantsVolume(wanted []*Wanted, pool, volume string) bool {
	for _, w := range wanted {
		if w.Kind == compiler.KindPool && w.Name == pool && !w.Absent {
			for _, v := range w.Volumes {
				if v.Name == volume && v.Present {
					return true
				}
			}
		}
	}
	return false
}

// hasVolume reports whether the pool lists the volume: a record of a seed
// deleted by hand since plans nothing.
func hasVolume(h Host, pool, volume string) bool {
	vols, err := h.Volumes(pool)
	if err != nil {
		return false
	}
	for _, v := range vols {
		if v.Name == volume {
			return true
		}
	}
	return false
}

// deleteSeeds deletes the seed volumes of a domain just undefined, or
// redefined without them, and forgets nixvirt's record of them. A failure
// is the domain's: it is deleted or redefined, and its seed is left for
// the user (or the next apply of a domain of that name) to deal with.
func (ex *executor) deleteSeeds(c *planned) {
	if len(c.seeds) > 0 {
		ex.unsavedVolumes = append(ex.unsavedVolumes, c)
	}
	reason := ReasonSeedOfDeletedDomain
	if !c.has(Delete) {
		reason = ReasonSeedNoLongerUsed
	}
	for _, s := range c.seeds {
		if !c.has(Delete) && runsWithOldDefinition(c) && runningUses(ex.h, c, s.pool, s.volume) {
			// The domain was to let go of it live, and libvirt did not:
			// its removal waits for the restart, and so does the seed.
			continue
		}
		if err := ex.h.DeleteVolume(s.pool, s.volume); err != nil {
			ex.addFailure(c, "delete its cloud-init seed volume "+s.volume+" in pool "+s.pool, err)
			continue
		}
		ex.note(c, Step{Action: DeleteSeed, Volume: s.volume, Reasons: []Reason{{Code: reason, Name: s.pool}}})
		if err := ex.st.setVolume(ex.h.URI(), s.poolUUID, s.volume, volumeRecord{}); err != nil {
			ex.addFailure(c, "forget nixvirt's record of volume "+s.volume, err)
		}
	}
}
