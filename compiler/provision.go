package compiler

import (
	"path/filepath"
	"regexp"
	"strings"

	"cuelang.org/go/cue"
	"go.yaml.in/yaml/v3"
)

// decodeProvisioning reads the entry fields that provision objects:
// a volume's content and replace, a domain's cloudInit and waitFor, a
// secret's value.
func (s *Schema) decodeProvisioning(e cue.Value, k Kind, dir string, en *Entry) error {
	switch k {
	case KindVolume:
		r, _ := e.LookupPath(cue.ParsePath("replace")).Default()
		en.Replace, _ = r.Bool()
		c := e.LookupPath(cue.ParsePath("content"))
		if !c.Exists() {
			return nil
		}
		var con Content
		str := func(p string) string { v, _ := c.LookupPath(cue.ParsePath(p)).String(); return v }
		con.SHA256, con.SHA512, con.URL = str("sha256"), str("sha512"), str("url")
		switch {
		case con.URL != "" && con.SHA256 == "" && con.SHA512 == "":
			return newPathError(c, "content: a url needs the checksum of what it serves: sha256 or sha512 (cloud images publish SHA256SUMS or SHA512SUMS beside them; copy the line of this file)")
		case con.SHA256 != "" && con.SHA512 != "":
			return newPathError(c, "content: give sha256 or sha512, not both")
		}
		if f := c.LookupPath(cue.ParsePath("file")); f.Exists() {
			con.File, _ = f.String()
			if !filepath.IsAbs(con.File) {
				con.File = filepath.Join(fileDir(f, dir), con.File)
			}
		}
		if cl := c.LookupPath(cue.ParsePath("clone")); cl.Exists() {
			con.Clone = &VolumeRef{Pool: str("clone.pool"), Volume: str("clone.volume")}
		}
		en.Content = &con
	case KindSecret:
		v := e.LookupPath(cue.ParsePath("value"))
		if !v.Exists() {
			return nil
		}
		var sv SecretValue
		if f := v.LookupPath(cue.ParsePath("file")); f.Exists() {
			sv.File, _ = f.String()
			if !filepath.IsAbs(sv.File) {
				sv.File = filepath.Join(fileDir(f, dir), sv.File)
			}
		}
		sv.Env, _ = v.LookupPath(cue.ParsePath("env")).String()
		if (sv.File == "") == (sv.Env == "") {
			return newPathError(v, "value: give either file or env")
		}
		en.SecretValue = &sv
	case KindDomain:
		if w := e.LookupPath(cue.ParsePath("waitFor")); w.Exists() {
			def := s.Def("#WaitFor")
			field := func(name string) cue.Value {
				v := w.LookupPath(cue.ParsePath(name))
				if !v.Exists() {
					v = def.LookupPath(cue.ParsePath(name))
				}
				v, _ = v.Default()
				return v
			}
			addr, _ := field("address").Bool()
			t, err := field("timeout").Int64()
			if err != nil {
				return newPathError(w, "waitFor.timeout: %v", err)
			}
			en.WaitFor = &WaitFor{Address: addr, Timeout: int(t)}
		}
		ci := e.LookupPath(cue.ParsePath("cloudInit"))
		if !ci.Exists() {
			return nil
		}
		var out CloudInit
		out.Pool, _ = ci.LookupPath(cue.ParsePath("pool")).String()
		for _, f := range []struct {
			name string
			to   *any
		}{{"userData", &out.UserData}, {"metaData", &out.MetaData}, {"networkConfig", &out.NetworkConfig}} {
			v := ci.LookupPath(cue.ParsePath(f.name))
			if !v.Exists() {
				continue
			}
			t, err := seedText(v)
			if err != nil {
				return newPathError(v, "cloudInit.%s: %v", f.name, err)
			}
			*f.to = t
		}
		en.CloudInit = &out
	}
	return nil
}

// seedText is a cloud-init text: a string as it is, a struct as a YAML
// node that keeps the configuration's order of keys (JSON is YAML, and
// cue writes fields in their order).
func seedText(v cue.Value) (any, error) {
	if s, err := v.String(); err == nil {
		return s, nil
	}
	js, err := v.MarshalJSON()
	if err != nil {
		return nil, err
	}
	var n yaml.Node
	if err := yaml.Unmarshal(js, &n); err != nil {
		return nil, err
	}
	blockStyle(&n)
	if n.Kind == yaml.DocumentNode && len(n.Content) == 1 {
		return n.Content[0], nil
	}
	return &n, nil
}

// blockStyle drops the flow style the JSON gave every node, so that the
// YAML reads as people write cloud-config. A string loses its quotes
// only where no YAML reader takes it for something else: cloud-init reads
// YAML 1.1, where yes, off or 1:20 are not strings, so those keep them
// (the encoder itself quotes what YAML 1.2 would misread, such as
// "0644"); a text of several lines becomes a literal block.
func blockStyle(n *yaml.Node) {
	if n.Kind == yaml.MappingNode || n.Kind == yaml.SequenceNode {
		n.Style &^= yaml.FlowStyle
	}
	if n.Kind == yaml.ScalarNode && n.Tag == "!!str" && n.Style == yaml.DoubleQuotedStyle {
		switch {
		case strings.Contains(n.Value, "\n"):
			n.Style = yaml.LiteralStyle
		case !yaml11NonString.MatchString(n.Value):
			n.Style = 0
		}
	}
	for _, c := range n.Content {
		blockStyle(c)
	}
}

// yaml11NonString are plain scalars YAML 1.1 reads as booleans or
// numbers where YAML 1.2 reads strings.
var yaml11NonString = regexp.MustCompile(`^(?i:y|yes|n|no|on|off)$|^[-+]?[0-9][0-9_:.]*$`)
