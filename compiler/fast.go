package compiler

import "nixvirt.dev/nixvirt/compiler/gocheck"

// The hot path for valid input: JSON, or CUE that evaluates to plain
// values (cuevalues.go), checked by the Go checker (package gocheck) and
// written to XML with no CUE evaluation and no schema compiled. Whenever
// it is not sure, it answers ok == false and the caller takes the CUE path
// (Run), which decides and explains; so this path never reports an error
// itself, and it only has to be right about what it accepts.

// FastDocument compiles a single document of kind k (`--kind`), or
// reports false.
func FastDocument(in Input, k Kind) (string, bool) {
	root, ok := readFastJSON(in, false)
	if !ok {
		root, ok = readFastCUE(in, k)
	}
	if !ok {
		return "", false
	}
	return gocheck.Document(root, k)
}

// FastConfig checks a whole-host configuration, or with uri set NixVirt's
// settings file for that connection (JSON), and compiles every definition
// (Object.Compiled); it reports false when it is not sure, including for
// definitions that are XML files.
func FastConfig(in Input, uri string) (*Config, bool) {
	root, ok := readFastJSON(in, uri != "")
	if !ok && uri == "" {
		root, ok = readFastCUE(in, "")
	}
	if !ok {
		return nil, false
	}
	fast, ok := gocheck.ConfigOf(root, uri)
	if !ok {
		return nil, false
	}
	cfg := &Config{Connections: fast.Connections}
	for _, o := range fast.Objects {
		cfg.Objects = append(cfg.Objects, Object{Connection: o.Connection, Kind: o.Kind, Name: o.Name, Pool: o.Pool, Entry: o.Entry, Compiled: o.Compiled})
	}
	return cfg, true
}

// readFastJSON is gocheck.ReadJSON, reading a stream's kept bytes
// (Input.Streams) rather than the stream again.
func readFastJSON(in Input, settings bool) (*gocheck.Value, bool) {
	if len(in.Args) == 1 {
		if data, ok := in.Streams[in.Args[0]]; ok {
			if !settings && !allJSON(in.Args) {
				return nil, false
			}
			v, ok := gocheck.ParseJSON(data)
			if ok {
				gocheck.DropNulls(v)
			}
			return v, ok
		}
	}
	return gocheck.ReadJSON(in.Dir, in.Args, in.Stdin, settings)
}
