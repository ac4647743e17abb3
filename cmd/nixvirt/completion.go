package main

import (
	"sort"

	"github.com/spf13/cobra"

	"nixvirt.dev/nixvirt/compiler"
)

// addCompletions teaches cobra's shell completion (nixvirt completion
// bash|zsh|fish) the values of nixvirt's flags, and the names of the
// objects of the host that import --connect names.
func addCompletions(root *cobra.Command) {
	kinds := []string{"domain", "network", "pool", "volume", "secret"}
	for _, cmd := range root.Commands() {
		for flag, values := range map[string][]string{
			"kind":    kinds,
			"output":  {"text", "json"},
			"connect": {"qemu:///system", "qemu:///session", "test:///default"},
		} {
			if cmd.Flags().Lookup(flag) != nil {
				// It fails only for a flag that does not exist, checked above.
				_ = cmd.RegisterFlagCompletionFunc(flag, cobra.FixedCompletions(values, cobra.ShellCompDirectiveNoFileComp))
			}
		}
		if cmd.Name() == "import" {
			cmd.ValidArgsFunction = completeImportArgs
		}
	}
}

// completeImportArgs completes XML files, or with --connect the names of
// the host's objects (of --kind, if given) that are not named yet.
func completeImportArgs(cmd *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
	uri, _ := cmd.Flags().GetString("connect")
	if uri == "" {
		return []string{"xml"}, cobra.ShellCompDirectiveFilterFileExt
	}
	kinds := []compiler.Kind{compiler.KindNetwork, compiler.KindPool, compiler.KindDomain}
	if kind, _ := cmd.Flags().GetString("kind"); kind != "" {
		k, err := compiler.ParseKind(kind)
		if err != nil {
			return nil, cobra.ShellCompDirectiveError
		}
		kinds = []compiler.Kind{k}
	}
	names, err := liveNames(uri, kinds, args)
	if err != nil {
		return nil, cobra.ShellCompDirectiveError
	}
	sort.Strings(names)
	return names, cobra.ShellCompDirectiveNoFileComp
}
