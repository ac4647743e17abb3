//go:build !nolibvirt

package main

import (
	"github.com/spf13/cobra"

	"nixvirt.dev/nixvirt/apply"
	"nixvirt.dev/nixvirt/compiler"
)

// This build links libvirt and runs every command itself. It is the whole
// of nixvirt, and what the build with -tags nolibvirt (nolibvirt.go) runs,
// under the name nixvirt-libvirt, for the commands that talk to libvirt.

func connectingCmds(c *Command) []*cobra.Command {
	return []*cobra.Command{newPlanCmd(c), newApplyCmd(c), newStatusCmd(c)}
}

// handOver has nothing to hand over: this build runs every command.
func handOver([]string) (int, bool) { return 0, false }

// liveNames lists the names of uri's objects of the kinds, leaving out
// those already named.
func liveNames(uri string, kinds []compiler.Kind, named []string) ([]string, error) {
	h, err := apply.Connect(uri)
	if err != nil {
		return nil, err
	}
	defer h.Close()
	seen := map[string]bool{}
	for _, a := range named {
		seen[a] = true
	}
	var names []string
	for _, k := range kinds {
		live, err := h.List(k)
		if err != nil {
			return nil, err
		}
		for _, l := range live {
			if !seen[l.Name] {
				names = append(names, l.Name)
			}
		}
	}
	return names, nil
}
