package apply

import (
	"fmt"

	"nixvirt.dev/nixvirt/compiler"
)

// keepManagedSaves refuses to delete or rename a domain that has a
// managed save image: libvirt deletes the image (the guest's saved memory)
// with the definition, and renaming is done by undefining the old name.
// nixvirt never deletes one, so the object is refused with what to do,
// and plan says so before apply.
func keepManagedSaves(h Host, changes []*planned) error {
	for _, c := range changes {
		if c.Kind != compiler.KindDomain || c.live == nil || c.Problem != nil || c.live.Active {
			// A running domain has no managed save image: starting it
			// consumed the image.
			continue
		}
		op := ""
		switch {
		case c.has(Delete):
			op = "delete"
		case c.has(Rename):
			// The name it has now, which virsh knows it by.
			op = "rename:" + c.live.Name
		default:
			continue
		}
		has, err := h.HasManagedSave(c.live.UUID)
		if err != nil {
			return fmt.Errorf("%s: domain %q: cannot tell whether it has a managed save image: %s", h.URI(), c.live.Name, libvirtMessage(err))
		}
		if has {
			c.fail(ProblemManagedSave, op)
		}
	}
	return nil
}
