package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"

	"nixvirt.dev/nixvirt/internal/testconfig"
)

// BenchmarkExportOut runs `nixvirt export --out` in-process on a
// configuration of n typical domains, from loading the file to writing
// the XML files.
func BenchmarkExportOut(b *testing.B) {
	for _, n := range []int{1, 100, 1000} {
		dir := b.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "host.cue"), []byte(testconfig.Domains(n)), 0o644); err != nil {
			b.Fatal(err)
		}
		b.Run(fmt.Sprintf("domains=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				c := newRootCmd(io.Discard, io.Discard, dir)
				c.root.SetArgs([]string{"export", "--out", filepath.Join(dir, "out"), "host.cue"})
				if err := c.root.Execute(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkExportOutJSON is BenchmarkExportOut for the same domains given
// as JSON in NixVirt's settings shape: the Go checker's path, no CUE.
func BenchmarkExportOutJSON(b *testing.B) {
	for _, n := range []int{1, 100, 1000} {
		dir := b.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "host.json"), testconfig.DomainsJSON(n), 0o644); err != nil {
			b.Fatal(err)
		}
		b.Run(fmt.Sprintf("domains=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				c := newRootCmd(io.Discard, io.Discard, dir)
				c.root.SetArgs([]string{"export", "--out", filepath.Join(dir, "out"), "host.json"})
				if err := c.root.Execute(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkExportOutTemplate is BenchmarkExportOut for the same domains
// written in CUE with a template of the user's own: CUE evaluates the
// values, the Go checker checks them and writes the XML.
func BenchmarkExportOutTemplate(b *testing.B) {
	for _, n := range []int{1, 100, 1000} {
		dir := b.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "host.cue"), []byte(testconfig.DomainsTemplate(n)), 0o644); err != nil {
			b.Fatal(err)
		}
		b.Run(fmt.Sprintf("domains=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				c := newRootCmd(io.Discard, io.Discard, dir)
				c.root.SetArgs([]string{"export", "--out", filepath.Join(dir, "out"), "host.cue"})
				if err := c.root.Execute(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
