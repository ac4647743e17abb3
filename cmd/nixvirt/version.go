package main

import (
	"fmt"
	"runtime/debug"

	"github.com/spf13/cobra"
)

// version is set by the Nix build and release builds (-ldflags -X).
var version = ""

func newVersionCmd(c *Command) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "print nixvirt's version and the versions it was built with",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			fmt.Fprint(c.stdout, versionText())
			return nil
		},
	}
}

// versionText is what `nixvirt version` and `nixvirt --version` print.
func versionText() string {
	v := version
	deps := map[string]string{}
	if bi, ok := debug.ReadBuildInfo(); ok {
		if v == "" {
			v = bi.Main.Version
		}
		for _, d := range bi.Deps {
			deps[d.Path] = d.Version
		}
	}
	if v == "" {
		v = "(devel)"
	}
	return fmt.Sprintf("nixvirt %s\ncue %s\nlibvirtxml %s\n", v, deps["cuelang.org/go"], deps["libvirt.org/go/libvirtxml"])
}
