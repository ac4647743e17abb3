package main

import (
	"bytes"
	"strings"
	"testing"
)

// TestRootRefusesArguments: nixvirt without a command takes no
// arguments. Words after "--" are no command, so `nixvirt -- apply` is a
// usage error (exit 1, as an unknown command), not the help and exit 0;
// nixvirt alone, or with "--" only, still shows the help.
func TestRootRefusesArguments(t *testing.T) {
	for _, tc := range []struct {
		args     []string
		code     int
		stdout   string
		stderr   string
		noStdout bool
	}{
		{args: []string{"--", "apply"}, code: 1, noStdout: true,
			stderr: `unknown command "apply" for "nixvirt": a command goes before "--", which ends the commands and flags (nixvirt apply -- ARGS)`},
		{args: []string{"--", "apply", "settings.json"}, code: 1, noStdout: true, stderr: `unknown command "apply" for "nixvirt"`},
		{args: []string{"aply"}, code: 1, noStdout: true, stderr: "unknown command \"aply\" for \"nixvirt\"\n\nDid you mean this?\n\tapply"},
		{args: nil, code: 0, stdout: "Available Commands:"},
		{args: []string{"--"}, code: 0, stdout: "Available Commands:"},
	} {
		var stdout, stderr bytes.Buffer
		code := newRootCmd(&stdout, &stderr, t.TempDir()).execute(tc.args)
		if code != tc.code {
			t.Errorf("nixvirt %q: exit code %d, want %d (stderr %q)", tc.args, code, tc.code, stderr.String())
		}
		if !strings.Contains(stderr.String(), tc.stderr) {
			t.Errorf("nixvirt %q: stderr %q, want it to say %q", tc.args, stderr.String(), tc.stderr)
		}
		if !strings.Contains(stdout.String(), tc.stdout) || tc.noStdout && stdout.Len() > 0 {
			t.Errorf("nixvirt %q: stdout %q, want %q", tc.args, stdout.String(), tc.stdout)
		}
	}
}
