package main

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"
	"nixvirt.dev/nixvirt/compiler"
)

// Command holds what every subcommand shares: its streams and working
// directory. Tests build a fresh tree per run; there are no globals.
type Command struct {
	root   *cobra.Command
	stdout io.Writer
	stderr io.Writer
	stdin  io.Reader
	dir    string
}

// exitCode is a command's exit status other than 0 and 1, such as plan's 2
// with --detailed-exitcode.
type exitCode int

func (e exitCode) Error() string { return "exit" }

// errPrinted marks a failure already reported to the user.
var errPrinted = errors.New("error already printed")

func newRootCmd(stdout, stderr io.Writer, dir string) *Command {
	c := &Command{stdout: stdout, stderr: stderr, stdin: os.Stdin, dir: dir}
	c.root = &cobra.Command{
		Use:   "nixvirt",
		Short: "declare libvirt machines, networks, pools and volumes in CUE",
		Long: `nixvirt checks libvirt domains, networks, storage pools and volumes written
in CUE (or NixVirt's JSON), compiles them to libvirt XML, and reconciles hosts.

Arguments are .cue files, package directories (default ".") or .json files.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	c.root.SetOut(stdout)
	c.root.SetErr(stderr)
	c.root.AddCommand(newVetCmd(c), newExportCmd(c), newImportCmd(c), newVersionCmd(c))
	c.root.AddCommand(connectingCmds(c)...)
	c.root.Version = versionText()
	c.root.SetVersionTemplate("{{.Version}}")
	addCompletions(c.root)
	return c
}

// connectingShort is the one-line help of the commands that talk to
// libvirt, shared by both builds so that their help reads the same.
var connectingShort = map[string]string{
	"plan":   "show what apply would change on the hosts, and why",
	"apply":  "make the hosts match the configuration",
	"status": "show whether objects run, and the addresses of running domains",
}

// Main runs nixvirt with os.Args and returns the exit code.
func Main() int {
	if code, done := handOver(os.Args[1:]); done {
		return code
	}
	dir, err := os.Getwd()
	if err != nil {
		fmt.Fprintln(os.Stderr, "nixvirt:", err)
		return 1
	}
	c := newRootCmd(os.Stdout, os.Stderr, dir)
	c.root.SetArgs(os.Args[1:])
	if err := c.root.Execute(); err != nil {
		var code exitCode
		if errors.As(err, &code) {
			return int(code)
		}
		if err != errPrinted {
			c.printError(err)
		}
		return 1
	}
	return 0
}

// printError prints an error once, in cue's format: the value path and
// message, then the positions relative to the working directory.
func (c *Command) printError(err error) {
	compiler.PrintError(c.stderr, err, c.dir)
}
