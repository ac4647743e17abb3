package apply

import (
	"nixvirt.dev/nixvirt/apply/live"
	"nixvirt.dev/nixvirt/compiler"
)

// A running pool is not restarted for a change of its definition (unless
// its entry says restart: true): libvirt reads a pool's definition when
// the pool starts. The plan says so for a redefine, as a next-boot part,
// and until the pool restarts it lists the difference as pending, as it
// does for domains and networks.

// poolNextBoot is why a pool's new definition waits.
const poolNextBoot = "libvirt reads a pool's definition when the pool starts; nixvirt restarts a running pool only with restart: true"

// poolRunner is a Host that reads a running pool's definition.
type poolRunner interface {
	// RunningPoolXML is the definition the running pool has, as libvirt
	// reports it.
	RunningPoolXML(uuid string) (string, error)
}

// planPoolParts adds the next-boot part of a running pool nixvirt owns
// whose definition changes, or that still runs with an older one.
func planPoolParts(h Host, c *planned) {
	if c.Kind != compiler.KindPool || c.live == nil || !c.live.Active || !c.facts.Owned || c.Problem != nil ||
		c.has(Restart) || c.has(Stop) || c.has(Delete) || c.has(Rename) {
		return
	}
	part := Part{Class: live.NextBoot, Path: "pool", Reason: poolNextBoot, Pending: true}
	if c.has(Redefine) {
		c.Parts = []Part{part}
		return
	}
	r, ok := hostAs[poolRunner](h)
	if !ok {
		return
	}
	running, err := r.RunningPoolXML(c.live.UUID)
	if err != nil {
		return
	}
	// libvirt adds to a running pool what it reads from its target (the
	// directory's permissions) and its sizes: the running definition
	// differs when it lacks or changes what the persistent one says.
	// Its target's permissions are what libvirt writes into the persistent
	// one at each start, not a definition waiting for it.
	if !onlyAdds(storedForm(compiler.KindPool, running), storedForm(compiler.KindPool, withoutLibvirtRewrites(c.live.XML))) {
		c.Parts = []Part{part}
	}
}
