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
		if v == "" || v == "(devel)" {
			v = buildVersion(bi)
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

// buildVersion is the main module's version, or for a build from a
// source tree (which Go calls "(devel)") the commit it was built from, so
// that a bug report still says which nixvirt it is.
func buildVersion(bi *debug.BuildInfo) string {
	settings := map[string]string{}
	for _, s := range bi.Settings {
		settings[s.Key] = s.Value
	}
	rev := settings["vcs.revision"]
	if bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	if rev == "" {
		return "(devel)"
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	v := "(devel) commit " + rev
	if t := settings["vcs.time"]; t != "" {
		v += " of " + t
	}
	if settings["vcs.modified"] == "true" {
		v += ", with uncommitted changes"
	}
	return v
}
