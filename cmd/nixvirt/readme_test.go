package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"nixvirt.dev/nixvirt/compiler"
)

// readmeChecks says how each CUE example of the README, in order, is run:
// the files it is written to (its text replaces {{example}}) and the
// commands, each expected to succeed unless it starts with "!".
var readmeChecks = []struct {
	files    map[string]string
	commands [][]string
}{
	{ // the tour's domain, with its deliberate mistake
		files:    map[string]string{"web.cue": "{{example}}"},
		commands: [][]string{{"!", "vet", "--kind", "domain", "web.cue"}},
	},
	{ // the tour's #Config package, with the XML file it names
		files:    map[string]string{"host/host.cue": "{{example}}", "host/legacy.xml": `<domain type="kvm"><name>legacy</name><memory unit="MiB">128</memory><os><type>hvm</type></os></domain>`},
		commands: [][]string{{"vet", "./host"}, {"export", "--out", "out", "./host"}},
	},
	{ // the templates
		files: map[string]string{"templates.cue": "{{example}}"},
		commands: [][]string{
			{"export", "--kind", "domain", "-e", "web", "templates.cue"},
			{"export", "--kind", "domain", "-e", "win11", "templates.cue"},
			{"export", "--kind", "domain", "-e", "old", "templates.cue"},
			{"export", "--kind", "domain", "-e", "new", "templates.cue"},
			{"export", "--kind", "network", "-e", "lab", "templates.cue"},
		},
	},
	{ // a disk added to a template's
		files:    map[string]string{"disks.cue": "{{example}}"},
		commands: [][]string{{"export", "--kind", "domain", "-e", "big", "disks.cue"}},
	},
}

// TestReadmeExamples runs every CUE example of the README as it is
// written, so that each pastes and runs; the tour's error is the one the
// README shows.
func TestReadmeExamples(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	readme := string(data)
	blocks := regexp.MustCompile("(?s)```cue\n(.*?)```").FindAllStringSubmatch(readme, -1)
	if len(blocks) != len(readmeChecks) {
		t.Fatalf("README has %d CUE examples, readmeChecks runs %d: say how a new one runs", len(blocks), len(readmeChecks))
	}
	for i, check := range readmeChecks {
		dir := t.TempDir()
		for name, text := range check.files {
			p := filepath.Join(dir, name)
			os.MkdirAll(filepath.Dir(p), 0o755)
			if err := os.WriteFile(p, []byte(strings.ReplaceAll(text, "{{example}}", blocks[i][1])), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		for _, args := range check.commands {
			fail := args[0] == "!"
			if fail {
				args = args[1:]
			}
			var stdout, stderr strings.Builder
			c := newRootCmd(&stdout, &stderr, dir)
			c.root.SetArgs(args)
			err := c.root.Execute()
			if err != nil && err != errPrinted {
				compiler.PrintError(&stderr, err, dir)
			}
			switch {
			case fail && err == nil:
				t.Errorf("example %d: nixvirt %s succeeded", i+1, strings.Join(args, " "))
			case !fail && err != nil:
				t.Errorf("example %d: nixvirt %s: %s", i+1, strings.Join(args, " "), stderr.String())
			case fail:
				// The README shows this error after the command.
				shown := "$ nixvirt " + strings.Join(args, " ") + "\n" + stderr.String()
				if !strings.Contains(readme, shown) {
					t.Errorf("example %d: the README does not show what nixvirt %s prints:\n%s", i+1, strings.Join(args, " "), stderr.String())
				}
			}
		}
	}
}
