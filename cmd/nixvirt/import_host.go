//go:build !nolibvirt

package main

import (
	"fmt"

	"nixvirt.dev/nixvirt/apply"
	"nixvirt.dev/nixvirt/compiler"
)

func doImportHost(c *Command, uri, kindFlag string, config bool, names []string) error {
	s, err := compiler.LoadSchema()
	if err != nil {
		return err
	}
	// A secret's value cannot be read back, so a host's secrets are
	// declared rather than imported.
	var kinds []compiler.Kind
	for _, k := range compiler.TopLevelKinds {
		if k != compiler.KindSecret {
			kinds = append(kinds, k)
		}
	}
	if kindFlag != "" {
		k, err := compiler.ParseKind(kindFlag)
		if err != nil {
			return fmt.Errorf("import --connect: unknown kind %q: want domain, network or pool", kindFlag)
		}
		if k == compiler.KindVolume {
			return fmt.Errorf("import --connect: volumes are imported with their pools (--kind pool)")
		}
		if k == compiler.KindSecret {
			return fmt.Errorf("import --connect: secrets are not imported (libvirt does not give their values back): declare each with its value's file or environment variable")
		}
		kinds = []compiler.Kind{k}
	}
	h, err := apply.Connect(uri)
	if err != nil {
		return err
	}
	defer h.Close()
	objs, err := apply.ImportHost(s, h, kinds, names, config)
	if err != nil {
		return err
	}
	if !config {
		docs := make([]imported, len(objs))
		for i, o := range objs {
			docs[i] = imported{kind: o.Kind, name: o.Name, expr: o.Definition}
		}
		return writeDocs(c, docs)
	}
	body, err := compiler.FormatCUE(apply.HostConfig(uri, objs), "")
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(c.stdout, "// Imported from %s by nixvirt import.\npackage host\n\nimport \"nixvirt.dev/nixvirt/schemas\"\n\nschemas.#Config\n\n%s", uri, body)
	return err
}
