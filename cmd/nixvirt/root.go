package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"nixvirt.dev/nixvirt/compiler"
	"nixvirt.dev/nixvirt/internal/stdout"
)

// Command holds what every subcommand shares: its streams and working
// directory. Tests build a fresh tree per run; there are no globals.
type Command struct {
	root   *cobra.Command
	stdout *outputWriter
	stderr io.Writer
	stdin  io.Reader
	dir    string
	// args is the command line run (after the program's name), for the
	// memo of a plan or apply that changed nothing (memo.go).
	args []string
	// running is the command being run and runningArgs its arguments,
	// for advice that restates the command line.
	running     *cobra.Command
	runningArgs []string
}

// exitCode is a command's exit status other than 0 and 1, such as plan's 2
// with --detailed-exitcode.
type exitCode int

func (e exitCode) Error() string { return "exit" }

// errPrinted marks a failure already reported to the user.
var errPrinted = errors.New("error already printed")

func newRootCmd(stdout, stderr io.Writer, dir string) *Command {
	c := &Command{stdout: &outputWriter{w: stdout}, stderr: stderr, stdin: os.Stdin, dir: dir}
	c.root = &cobra.Command{
		Use:   "nixvirt",
		Short: "declare libvirt machines, networks, pools and volumes in CUE",
		Long: `nixvirt checks libvirt domains, networks, storage pools and volumes written
in CUE (or NixVirt's JSON), compiles them to libvirt XML, and reconciles hosts.

Arguments are .cue files, package directories (default ".") or .json files.`,
		SilenceUsage:  true,
		SilenceErrors: true,
		// nixvirt alone shows its help. It runs, rather than being a mere
		// group of commands, so that cobra checks its arguments: words
		// after "--" are left out of the command lookup, and a group would
		// show its help for `nixvirt -- apply` and exit 0.
		RunE: func(*cobra.Command, []string) error { return pflag.ErrHelp },
		Args: rootArgs,
		PersistentPreRun: func(cmd *cobra.Command, args []string) {
			c.running, c.runningArgs = cmd, args
		},
	}
	c.root.SetOut(c.stdout)
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

// rootArgs refuses any argument of nixvirt without a command, as cobra
// does for an unknown command (exit code 1, as every usage error), and
// says why a command after "--" is none.
func rootArgs(cmd *cobra.Command, args []string) error {
	if len(args) == 0 {
		return nil
	}
	if cmd.Flags().ArgsLenAtDash() == 0 {
		return fmt.Errorf("unknown command %q for %q: a command goes before \"--\", which ends the commands and flags (%s %s -- ARGS)", args[0], cmd.CommandPath(), cmd.CommandPath(), args[0])
	}
	msg := fmt.Sprintf("unknown command %q for %q", args[0], cmd.CommandPath())
	if cmd.SuggestionsMinimumDistance <= 0 {
		cmd.SuggestionsMinimumDistance = 2 // cobra's own default
	}
	if s := cmd.SuggestionsFor(args[0]); len(s) > 0 {
		msg += "\n\nDid you mean this?\n\t" + strings.Join(s, "\n\t")
	}
	return errors.New(msg)
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
	return newRootCmd(stdout.Writer(), os.Stderr, dir).execute(os.Args[1:])
}

// outputWriter is a command's stdout, which keeps its first failure: a
// command that printed only part of its results has failed, whether or
// not the code that printed them looked at the error.
type outputWriter struct {
	w   io.Writer
	err error
}

func (o *outputWriter) Write(p []byte) (int, error) {
	if o.err != nil {
		return 0, o.err
	}
	n, err := o.w.Write(p)
	if err != nil {
		o.err = fmt.Errorf("writing the output: %w", err)
	}
	return n, o.err
}

// execute runs the command line args and returns the exit code.
func (c *Command) execute(args []string) int {
	c.root.SetArgs(args)
	c.args = append([]string{}, args...)
	err := c.root.Execute()
	if c.stdout.err != nil && !errors.Is(err, c.stdout.err) {
		// The output is incomplete, whatever the command went on to do.
		if err != nil && err != errPrinted && !errors.As(err, new(exitCode)) {
			c.printError(err)
		}
		c.printError(c.stdout.err)
		return 1
	}
	if err != nil {
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
