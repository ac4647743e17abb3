package apply

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

var symbols = map[Action]string{
	Create: "+", CreateVolume: "+", Redefine: "~", Adopt: "~", Refresh: "~", Rename: "~", Autostart: "~",
	Start: "▶", Stop: "■", Restart: "↻", Delete: "-", DeleteVolume: "-",
}

var verbs = map[Action]string{
	Create: "will be created", Redefine: "will be redefined", Adopt: "will be taken over",
	Refresh: "will have nixvirt's record of it rewritten",
	Rename:  "will be renamed", Start: "will be started", Stop: "will be stopped",
	Restart: "will restart", Delete: "will be deleted",
}

// colours of the action symbols, for a terminal.
var colours = map[string]string{"+": "\x1b[32m", "-": "\x1b[31m", "~": "\x1b[33m", "↻": "\x1b[33m", "▶": "\x1b[32m", "■": "\x1b[31m"}

func paint(colour bool, symbol string) string {
	if c, ok := colours[symbol]; ok && colour {
		return c + symbol + "\x1b[0m"
	}
	return symbol
}

// RenderText writes the plan as people read terraform's: a heading per
// change, its reasons, the diff of its definition, and a summary line.
// The connections that could not be planned (p.Errors) are for the caller
// to print where errors go.
func RenderText(w io.Writer, p *Plan) { renderText(w, p, false) }

// RenderTextColour is RenderText with coloured action symbols, for a
// terminal.
func RenderTextColour(w io.Writer, p *Plan) { renderText(w, p, true) }

func renderText(w io.Writer, p *Plan, colour bool) {
	conn := ""
	for _, c := range p.Changes {
		if len(c.Steps) == 0 && c.Error == "" {
			continue
		}
		if c.Connection != conn {
			conn = c.Connection
			fmt.Fprintf(w, "%s\n", conn)
		}
		if c.Error != "" {
			fmt.Fprintf(w, "  ! %s %q cannot be planned: %s\n", c.Kind, c.Name, c.Error)
			continue
		}
		for _, s := range c.Steps {
			switch s.Action {
			case CreateVolume:
				fmt.Fprintf(w, "  %s volume %q in pool %q will be created\n", paint(colour, "+"), s.Volume, c.Name)
			case DeleteVolume:
				fmt.Fprintf(w, "  %s volume %q in pool %q will be deleted\n", paint(colour, "-"), s.Volume, c.Name)
			case Autostart:
				fmt.Fprintf(w, "  %s %s %q autostart will be set to %v\n", paint(colour, "~"), c.Kind, c.Name, *s.On)
			default:
				fmt.Fprintf(w, "  %s %s %q %s\n", paint(colour, symbols[s.Action]), c.Kind, c.Name, verbs[s.Action])
			}
			if s.Reason != "" && s.Action != Autostart {
				fmt.Fprintf(w, "      # (%s)\n", s.Reason)
			}
		}
		if c.Diff != "" {
			for _, line := range strings.Split(strings.TrimSuffix(c.Diff, "\n"), "\n") {
				fmt.Fprintf(w, "      %s\n", line)
			}
		}
	}
	for _, u := range p.Unmanaged {
		fmt.Fprintf(w, "  · %s %q on %s is not nixvirt's and is left alone\n", u.Kind, u.Name, u.Connection)
	}
	add, change, destroy := p.Counts()
	if len(p.Errors) > 0 {
		fmt.Fprintf(w, "Plan incomplete: %d connection(s) could not be read; %d to add, %d to change, %d to destroy on the others.\n", len(p.Errors), add, change, destroy)
		return
	}
	if add+change+destroy == 0 {
		fmt.Fprintln(w, "No changes. The hosts match the configuration.")
		return
	}
	fmt.Fprintf(w, "Plan: %d to add, %d to change, %d to destroy.\n", add, change, destroy)
}

// RenderJSON writes the plan as JSON for scripts.
func RenderJSON(w io.Writer, p *Plan) error {
	add, change, destroy := p.Counts()
	out := struct {
		*Plan
		Summary map[string]int `json:"summary"`
	}{p, map[string]int{"add": add, "change": change, "destroy": destroy}}
	if out.Changes == nil {
		out.Changes = []*Change{}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(out)
}
