//go:build nolibvirt

package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"nixvirt.dev/nixvirt/compiler"
	"nixvirt.dev/nixvirt/internal/handover"
)

// Built with -tags nolibvirt, nixvirt leaves libvirt out. Loading libvirt
// and the 50-odd libraries it needs costs a process about 25 ms before
// main runs, more than vet or export of one document take, so this build
// runs vet, export, import of files and version itself and hands plan,
// apply, status and import --connect over to the whole build, installed
// beside it as nixvirt-libvirt, by exec: same arguments, same streams,
// same process, so its exit code and signals are the command's own
// (package handover). Installed, it is nixvirt-cue, which the front build
// (cmd/nixvirt-front, installed as nixvirt) hands what it does not run.

// libvirtName is the file name of the whole build that this one runs.
const libvirtName = handover.LibvirtName

func connectingCmds(*Command) []*cobra.Command {
	var cmds []*cobra.Command
	for _, name := range []string{"plan", "apply", "status"} {
		cmd := &cobra.Command{
			Use:                name,
			Short:              connectingShort[name],
			DisableFlagParsing: true,
			RunE: func(*cobra.Command, []string) error {
				return execLibvirt(os.Args[1:])
			},
		}
		cmd.SetHelpFunc(func(*cobra.Command, []string) {
			if err := execLibvirt(os.Args[1:]); err != nil {
				fmt.Fprintln(os.Stderr, "nixvirt:", err)
				os.Exit(1)
			}
		})
		cmds = append(cmds, cmd)
	}
	return cmds
}

// handOver hands shell completion (cobra's hidden __complete command)
// over whole when nixvirt-libvirt is there: completing import --connect
// names lists a host. Without it, this build completes what it can.
func handOver(args []string) (int, bool) {
	if len(args) == 0 || (args[0] != cobra.ShellCompRequestCmd && args[0] != cobra.ShellCompNoDescRequestCmd) {
		return 0, false
	}
	if _, err := libvirtPath(); err != nil {
		return 0, false
	}
	if err := execLibvirt(args); err != nil {
		fmt.Fprintln(os.Stderr, "nixvirt:", err)
		return 1, true
	}
	return 0, true
}

func doImportHost(*Command, string, string, bool, []string) error {
	return execLibvirt(os.Args[1:])
}

func liveNames(string, []compiler.Kind, []string) ([]string, error) {
	return nil, fmt.Errorf("listing a host needs %s", libvirtName)
}

// execLibvirt replaces this process with nixvirt-libvirt running args. It
// returns only when that cannot be done.
func execLibvirt(args []string) error {
	path, err := libvirtPath()
	if err != nil {
		return err
	}
	if handover.HandedAs() == libvirtName {
		return fmt.Errorf("%s is built with -tags nolibvirt too, so it cannot talk to libvirt: build it without the tag (go build -o %s ./cmd/nixvirt)", path, path)
	}
	return handover.Exec(path, libvirtName, args)
}

// libvirtPath finds nixvirt-libvirt beside this executable, else on PATH.
func libvirtPath() (string, error) {
	path, err := handover.Find(libvirtName)
	if path != "" || err != nil {
		return path, err
	}
	self := handover.Self()
	where := "beside this nixvirt"
	if self != "" {
		where = "beside " + self
	}
	return "", fmt.Errorf("this nixvirt is built without libvirt (-tags nolibvirt) and hands plan, apply, status and import --connect to %s, which is neither %s nor on PATH: build it with go build -o %s ./cmd/nixvirt", libvirtName, where, filepath.Join(filepath.Dir(self), libvirtName))
}
