package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"cuelang.org/go/cue"
	"cuelang.org/go/cue/errors"
	"cuelang.org/go/cue/token"
	"github.com/spf13/pflag"

	"nixvirt.dev/nixvirt/compiler"
)

// withHint adds, to an error about the shape of the whole input, a line
// that says what the user most likely meant: a single document checked as
// a whole-host configuration (use --kind), several documents checked as
// one (use -e), a configuration checked as a document (leave out --kind).
// k is the --kind given, "" for a #Config; hasKind says whether the
// command takes --kind at all (plan and apply do not).
func withHint(s *compiler.Schema, v cue.Value, k compiler.Kind, hasKind bool, err error) error {
	if err == nil || v.Kind() != cue.StructKind {
		return err
	}
	var labels []string
	it, ferr := v.Fields()
	if ferr != nil {
		return err
	}
	for it.Next() {
		labels = append(labels, it.Selector().String())
	}
	if len(labels) == 0 {
		return err
	}
	var hint string
	switch {
	case looksLikeSettings(v, labels):
		hint = "this looks like NixVirt's settings file for one connection (domains, networks, pools): give its connection with --connect URI, e.g. --connect qemu:///system"
	case k == "" && !v.LookupPath(cue.ParsePath("connections")).Exists():
		lk := likelyKind(s, v, labels)
		hint = fmt.Sprintf("this looks like a single %s document, not a whole-host configuration (it has no connections): use --kind %s", lk, lk)
		if !hasKind {
			hint = fmt.Sprintf("this looks like a single %s document; plan and apply take a whole-host configuration (connections: URI: %ss: NAME: definition: …); check the document with nixvirt vet --kind %s", lk, lk, lk)
		}
	case k != "" && noneAllowed(s.Def(k.Definition()), labels):
		if v.LookupPath(cue.ParsePath("connections")).Exists() {
			hint = "this is a whole-host configuration (#Config): leave out --kind"
		} else {
			hint = fmt.Sprintf("the input holds several values (%s), not one %s: choose one with -e %s", strings.Join(labels, ", "), k, labels[0])
		}
	}
	if hint == "" {
		return err
	}
	return errors.Append(errors.Promote(err, ""), errors.Newf(token.NoPos, "hint: %s", hint))
}

// looksLikeSettings reports whether v is shaped as NixVirt's settings file
// for one connection: only its lists of domains, networks and pools.
func looksLikeSettings(v cue.Value, labels []string) bool {
	lists := 0
	for _, l := range labels {
		switch l {
		case "domains", "networks", "pools":
			if f := v.LookupPath(cue.ParsePath(l)); f.IncompleteKind() == cue.ListKind {
				lists++
			}
		default:
			return false
		}
	}
	return lists > 0
}

// noneAllowed reports whether the definition has a field for none of the
// labels.
func noneAllowed(def cue.Value, labels []string) bool {
	for _, l := range labels {
		if def.Allows(cue.ParsePath(l).Selectors()[0]) {
			return false
		}
	}
	return true
}

// likelyKind is the kind whose document allows most of v's fields (its
// labels); of
// those that allow as many, the one v checks best against (the fewest
// errors). Counting errors alone misleads: one mistake in a domain can
// count as many errors as a domain checked as a network.
func likelyKind(s *compiler.Schema, v cue.Value, labels []string) compiler.Kind {
	best, most, fewest := compiler.KindDomain, -1, -1
	for _, k := range []compiler.Kind{compiler.KindDomain, compiler.KindNetwork, compiler.KindPool, compiler.KindVolume} {
		def := s.Def(k.Definition())
		allowed := 0
		for _, l := range labels {
			if def.Allows(cue.ParsePath(l).Selectors()[0]) {
				allowed++
			}
		}
		if allowed < most {
			continue
		}
		_, err := s.Check(v, k)
		n := len(errors.Errors(err))
		if allowed > most || n < fewest {
			best, most, fewest = k, allowed, n
		}
	}
	return best
}

// settingsFileError explains a --connect input that is not NixVirt's
// settings file (JSON): a CUE file or package names its connections
// itself, so the advice is the same command line without --connect.
func settingsFileError(c *Command, uri string, arg string) error {
	p := arg
	if !filepath.IsAbs(p) {
		p = filepath.Join(c.dir, p)
	}
	fi, err := os.Stat(p)
	if !strings.HasSuffix(arg, ".cue") && (err != nil || !fi.IsDir()) {
		return nil
	}
	what := arg + " is CUE"
	if err == nil && fi.IsDir() {
		what = arg + " is a CUE package"
	}
	return fmt.Errorf("--connect %s takes NixVirt's per-connection settings file, which is JSON, and %s, which names its connections itself (connections: %q: domains: …): leave --connect out: %s", uri, what, uri, c.withoutConnect())
}

// withoutConnect is the command line being run, in its plain form, with
// --connect left out.
func (c *Command) withoutConnect() string {
	cmd := c.running
	if cmd == nil {
		return "nixvirt"
	}
	words := []string{cmd.CommandPath()}
	cmd.Flags().Visit(func(f *pflag.Flag) {
		switch {
		case f.Name == "connect":
		case f.Value.Type() == "bool":
			words = append(words, "--"+f.Name)
		default:
			words = append(words, "--"+f.Name, f.Value.String())
		}
	})
	return strings.Join(append(words, c.runningArgs...), " ")
}
