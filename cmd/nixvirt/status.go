//go:build !nolibvirt

package main

import (
	"fmt"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"nixvirt.dev/nixvirt/apply"
	"nixvirt.dev/nixvirt/compiler"
	"nixvirt.dev/nixvirt/internal/jsondoc"
)

func newStatusCmd(c *Command) *cobra.Command {
	var uri, output, owner string
	cmd := &cobra.Command{
		Use:   "status [--connect URI [NAME...]] [CONFIG...]",
		Short: connectingShort["status"],
		Long: `status shows, for each object, whether it is defined and running and, for a
running domain, the addresses of its interfaces (from DHCP leases, the guest
agent and the host's ARP table). It changes nothing.

With --connect URI it reads that connection: the objects NAME... or, without
names, every object nixvirt owns there (--owner: only that owner's).
Otherwise it reads the objects of a configuration, given as plan takes it
(--owner is then its owner, over its owner field, as for plan).`,
		Example: `  nixvirt status --connect qemu:///system web
  nixvirt status --connect qemu:///system --owner nixos
  nixvirt status ./host`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if output != "text" && output != "json" {
				return fmt.Errorf("--output %q: want text or json", output)
			}
			targets := map[string][]apply.ObjectKey{}
			ours := map[string]bool{}
			if uri != "" {
				if owner != "" {
					if err := compiler.CheckOwnerName(owner); err != nil {
						return fmt.Errorf("--owner: %v", err)
					}
				}
				for _, a := range args {
					targets[uri] = append(targets[uri], apply.ObjectKey{Name: a})
				}
				ours[uri] = len(args) == 0
			} else {
				f := hostFlags{output: "text", owner: owner}
				wanted, err := f.wanted(c, args)
				if err != nil {
					return err
				}
				for u := range wanted.Objects {
					targets[u] = wanted.StatusKeys(u)
				}
			}
			var uris []string
			for u := range targets {
				uris = append(uris, u)
			}
			for u := range ours {
				if targets[u] == nil {
					uris = append(uris, u)
				}
			}
			sort.Strings(uris)
			st := apply.OpenState(apply.StateDir())
			var all []apply.ObjectStatus
			for _, u := range uris {
				h, err := apply.Connect(u)
				if err != nil {
					return err
				}
				got, err := apply.Status(h, st, targets[u], ours[u], owner)
				h.Close()
				if err != nil {
					return err
				}
				all = append(all, got...)
			}
			if output == "json" {
				return jsondoc.Write(c.stdout, statusDocument(all))
			}
			if len(all) == 0 {
				// --connect without names: nixvirt owns nothing there.
				whose := "nixvirt's"
				if owner != "" {
					whose = fmt.Sprintf("owner %q", owner)
				}
				fmt.Fprintf(c.stdout, "%s\n  no objects of %s\n", strings.Join(uris, ", "), whose)
				return nil
			}
			conn := ""
			for _, s := range all {
				if s.Connection != conn {
					conn = s.Connection
					fmt.Fprintln(c.stdout, conn)
				}
				state := "not defined"
				switch {
				case s.Active:
					state = "running"
				case s.Defined && s.Kind == compiler.KindSecret:
					// A secret never runs.
					state = "defined"
				case s.Defined:
					state = "stopped"
				}
				if s.Kind == "" {
					// A name given with --connect that no object has.
					fmt.Fprintf(c.stdout, "  %q: no object of that name\n", s.Name)
					continue
				}
				fmt.Fprintf(c.stdout, "  %s %q: %s\n", s.Kind, s.Name, state)
				for _, i := range s.Interfaces {
					addrs := strings.Join(i.Addresses, " ")
					if addrs == "" {
						addrs = "(no address yet)"
					}
					fmt.Fprintf(c.stdout, "      %s %s\n", i.MAC, addrs)
				}
			}
			return nil
		},
	}
	cmd.Flags().StringVarP(&uri, "connect", "c", "", "read this libvirt URI (the arguments are then object names)")
	cmd.Flags().StringVar(&output, "output", "text", "text or json")
	cmd.Flags().StringVar(&owner, "owner", "", "with --connect and no names, list only this owner's objects (every owner's without it); with a configuration, its owner over its owner field, as for plan")
	return cmd
}

type jsonStatus struct {
	FormatVersion string             `json:"format_version"`
	Objects       []jsonObjectStatus `json:"objects"`
}

type jsonObjectStatus struct {
	Connection string          `json:"connection"`
	Kind       string          `json:"kind,omitempty"`
	Name       string          `json:"name"`
	Defined    bool            `json:"defined"`
	Active     bool            `json:"active"`
	Interfaces []jsonInterface `json:"interfaces"`
}

type jsonInterface struct {
	MAC       string   `json:"mac"`
	Addresses []string `json:"addresses"`
}

func statusDocument(all []apply.ObjectStatus) jsonStatus {
	out := jsonStatus{FormatVersion: jsondoc.FormatVersion, Objects: []jsonObjectStatus{}}
	for _, s := range all {
		o := jsonObjectStatus{Connection: s.Connection, Kind: string(s.Kind), Name: s.Name, Defined: s.Defined, Active: s.Active, Interfaces: []jsonInterface{}}
		for _, i := range s.Interfaces {
			o.Interfaces = append(o.Interfaces, jsonInterface{MAC: i.MAC, Addresses: append([]string{}, i.Addresses...)})
		}
		out.Objects = append(out.Objects, o)
	}
	return out
}
