package main

import (
	"runtime/debug"
	"testing"
)

func TestBuildVersion(t *testing.T) {
	for _, c := range []struct {
		main     string
		settings map[string]string
		want     string
	}{
		{"v0.3.0", map[string]string{"vcs.revision": "0123456789abcdef"}, "v0.3.0"},
		{"(devel)", nil, "(devel)"},
		{"(devel)", map[string]string{"vcs.revision": "0123456789abcdef0123", "vcs.time": "2026-11-26T17:00:00Z"},
			"(devel) commit 0123456789ab of 2026-11-26T17:00:00Z"},
		{"", map[string]string{"vcs.revision": "abc", "vcs.modified": "true"}, "(devel) commit abc, with uncommitted changes"},
	} {
		bi := &debug.BuildInfo{Main: debug.Module{Version: c.main}}
		for k, v := range c.settings {
			bi.Settings = append(bi.Settings, debug.BuildSetting{Key: k, Value: v})
		}
		if got := buildVersion(bi); got != c.want {
			t.Errorf("buildVersion(%q, %v) = %q, want %q", c.main, c.settings, got, c.want)
		}
	}
}
