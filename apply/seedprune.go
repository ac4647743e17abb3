package apply

import (
	"strings"

	"libvirt.org/go/libvirtxml"

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

// seedRemoval is a seed volume to delete once its domain is undefined.
type seedRemoval struct {
	pool, poolUUID, volume string
}

// planSeedRemovals adds to each domain that is deleted the removal of its
// cloud-init seed volume, when nixvirt built it: the domain's definition
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
			if !strings.HasPrefix(st.volume(uri, p.UUID, name).Content, "seed:") || !hasVolume(h, pool, name) {
				continue
			}
			c.seeds = append(c.seeds, seedRemoval{pool: pool, poolUUID: canonicalUUID(p.UUID), volume: name})
			c.Actions = append(c.Actions, Step{Action: DeleteSeed, Volume: name, Reasons: []Reason{{Code: ReasonSeedOfDeletedDomain, Name: pool}}})
		}
	}
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

// deleteSeeds deletes the seed volumes of a domain just undefined and
// forgets nixvirt's record of them. A failure is the domain's: it is
// deleted, and its seed is left for the user (or the next apply of a
// domain of that name) to deal with.
func (ex *executor) deleteSeeds(c *planned) {
	for _, s := range c.seeds {
		if err := ex.h.DeleteVolume(s.pool, s.volume); err != nil {
			ex.addFailure(c, "delete its cloud-init seed volume "+s.volume+" in pool "+s.pool, err)
			continue
		}
		ex.note(c, Step{Action: DeleteSeed, Volume: s.volume, Reasons: []Reason{{Code: ReasonSeedOfDeletedDomain, Name: s.pool}}})
		if err := ex.st.setVolume(ex.h.URI(), s.poolUUID, s.volume, volumeRecord{}); err != nil {
			ex.addFailure(c, "forget nixvirt's record of volume "+s.volume, err)
		}
	}
}
