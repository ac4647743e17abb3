# The flake's system-less lib, as NixVirt users call it, on a stand-in
# nixpkgs (./nixpkgs): each attribute is a case of ./lib-cases.nix, its
# kind and the CUE source that lib's writeXML compiles; nix/check.sh
# exports each with nixvirt and compares it with lib/<name>.xml.
let
  nixvirt = import ../../default.nix { nixpkgs = ./nixpkgs; };
  cue = import ../cue.nix;
in
builtins.mapAttrs (_: c: { inherit (c) kind; source = cue.source c.definition; }) (import ./lib-cases.nix nixvirt.lib)
