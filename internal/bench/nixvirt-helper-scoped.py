#!/usr/bin/python3
# Runs NixVirt's module helper (tool/nixvirt-module-helper of a NixVirt
# tree) unchanged but for one thing: the objects it would delete as "old"
# are only those whose name starts with PREFIX. The helper deletes every
# object of a kind that its settings file does not list, which on a shared
# host would remove everyone else's; the measured work is the same (it
# still lists all objects, and names are read without a libvirt call).
#
#   nixvirt-helper-scoped.py TREE PREFIX --connect URI settings.json
import runpy
import sys

tree, prefix = sys.argv[1], sys.argv[2]
sys.path.insert(0, tree + "/tool")
import nixvirt  # noqa: E402  (NixVirt's module, from the tree)

everything = nixvirt.ObjectConnection.getAll


def scoped(self):
    return filter(lambda o: o._lvobj.name().startswith(prefix), everything(self))


nixvirt.ObjectConnection.getAll = scoped
sys.argv = [tree + "/tool/nixvirt-module-helper"] + sys.argv[3:]
runpy.run_path(sys.argv[0], run_name="__main__")
