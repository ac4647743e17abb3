package compiler

import (
	"reflect"
	"testing"

	"cuelang.org/go/cue"
)

// TestEntryDefaults decodes entries of both schema variants: defaults come
// from the schema, and a connection's shutdownTimeout is its domains'.
func TestEntryDefaults(t *testing.T) {
	fast := mustSchema(t)
	exact, err := fast.Precise()
	if err != nil {
		t.Fatal(err)
	}
	yes, no := true, false
	for _, s := range []*Schema{fast, exact} {
		v := s.Context().CompileString(`
connections: "test:///a": {
	domains: {
		plain: definition: {type: "test", os: type: "hvm"}
		set: {definition: {type: "test", os: type: "hvm"}, active: true, restart: null, autostart: false, shutdownTimeout: 5, live: false}
		gone: {present: false, keepTpm: false}
	}
	networks: n: definition: {bridge: name: "virbr-n"}
	pools: p: {definition: {type: "dir", target: path: "/x"}, volumes: [{name: "v", present: false}]}
}
connections: "test:///b": {shutdownTimeout: 90, domains: d: definition: {type: "test", os: type: "hvm"}}`)
		u, err := s.CheckConfig(v)
		if err != nil {
			t.Fatal(err)
		}
		cfg, err := s.Config(u, t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]Entry{
			"test:///a/domain/plain": {Present: true, ShutdownTimeout: 60, KeepNvram: true, KeepTPM: true, Live: true},
			"test:///a/domain/set":   {Present: true, Active: &yes, Autostart: &no, ShutdownTimeout: 5, KeepNvram: true, KeepTPM: true},
			"test:///a/domain/gone":  {Present: false, ShutdownTimeout: 60, KeepNvram: true, KeepTPM: false, Live: true},
			"test:///a/network/n":    {Present: true, ShutdownTimeout: 60, Live: true},
			"test:///a/pool/p":       {Present: true, ShutdownTimeout: 60},
			"test:///a/volume/v":     {Present: false, ShutdownTimeout: 60},
			"test:///b/domain/d":     {Present: true, ShutdownTimeout: 90, KeepNvram: true, KeepTPM: true, Live: true},
		}
		if len(cfg.Objects) != len(want) {
			t.Fatalf("precise=%v: %d objects, want %d", s.precise, len(cfg.Objects), len(want))
		}
		for _, o := range cfg.Objects {
			key := o.Connection + "/" + string(o.Kind) + "/" + o.Name
			if !reflect.DeepEqual(o.Entry, want[key]) {
				t.Errorf("precise=%v: %s: got %+v, want %+v", s.precise, key, o.Entry, want[key])
			}
		}
		wantConns := []Connection{
			{URI: "test:///a", Managed: []Kind{KindNetwork, KindPool, KindDomain}, ShutdownTimeout: 60},
			{URI: "test:///b", Managed: []Kind{KindDomain}, ShutdownTimeout: 90},
		}
		if !reflect.DeepEqual(cfg.Connections, wantConns) {
			t.Errorf("precise=%v: connections %+v, want %+v", s.precise, cfg.Connections, wantConns)
		}
	}
}

// TestConfigOwner decodes #Config.owner, in both schema variants, and
// checks owner names given outside a configuration (--owner) against the
// same #Owner.
func TestConfigOwner(t *testing.T) {
	fast := mustSchema(t)
	exact, err := fast.Precise()
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []*Schema{fast, exact} {
		for src, want := range map[string]string{
			`owner: "nixos", connections: "test:///a": {}`: "nixos",
			`connections: "test:///a": {}`:                 "",
		} {
			u, err := s.CheckConfig(s.Context().CompileString(src))
			if err != nil {
				t.Fatal(err)
			}
			cfg, err := s.Config(u, t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			if cfg.Owner != want {
				t.Errorf("%s: owner %q, want %q", src, cfg.Owner, want)
			}
		}
		if _, err := s.CheckConfig(s.Context().CompileString(`owner: "Nix OS", connections: "test:///a": {}`)); err == nil {
			t.Error(`owner "Nix OS" accepted`)
		}
	}
	for name, ok := range map[string]bool{"nixos": true, "home-manager": true, "a.b_c-1": true, "-x": false, "Nixos": false, "a/b": false, "": false} {
		if err := fast.CheckOwner(name); (err == nil) != ok {
			t.Errorf("CheckOwner(%q): %v", name, err)
		}
	}
}

// The --owner check of the fast path and the schema's #Owner are one rule.
func TestOwnerPatternIsTheSchemas(t *testing.T) {
	s, err := LoadSchema()
	if err != nil {
		t.Fatal(err)
	}
	exact, err := s.Precise()
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"nixos", "home-manager", "a.b_c-1", "9lab", "", "NixOS", "-x", "a b", "a/b"} {
		v := exact.Def("#Owner").Unify(exact.Context().Encode(name))
		schemaOK := v.Validate(cue.Concrete(true)) == nil
		if goOK := CheckOwnerName(name) == nil; goOK != schemaOK {
			t.Errorf("owner %q: Go check says %v, #Owner says %v", name, goOK, schemaOK)
		}
	}
}
