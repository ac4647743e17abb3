# Evaluates a NixVirt definition the way NixVirt's checks/checks.nix does,
# with the same stand-in packages, and returns the attrset as plain JSON
# data for `nixvirt export --kind …`: paths become strings (NixVirt's
# toString semantics, nothing is copied into a store) and NixVirt's
# lib.xml elements (functions of an indentation level) become their text.
#
#   nix-instantiate --eval --strict --json eval.nix --arg input ./check/input.nix \
#     --argstr qemu /stand-in/qemu --argstr ovmf /stand-in/OVMFFull.fd --argstr build /stand-in/build
#
# input is a file holding a function of NixVirt's lib, as every check's
# input.nix is. NixVirt's checks.nix stands in "QEMU_PATH" for QEMU,
# "OVMFFull_FD_PATH" for OVMF and "BUILD name" for a built file; libvirt
# refuses those as paths, so the caller gives absolute stand-ins and reads
# NixVirt's expected XML with the same substitution.
#
# With xmlOf = "domain" (…), the result is instead the XML NixVirt's own
# generator writes for the definition.
{ input, qemu, ovmf, build, xmlOf ? null }:
let
  packages = {
    writeTextFile = { name, text }: text;
    runCommand = name: args: script: build + "/" + name;
    inherit qemu;
    OVMFFull.fd = ovmf;
  };
  nixvirtLib = import ../nixvirt/lib.nix { inherit packages; };

  isXML = builtins.isFunction;
  xmlText = e: e 0;
  plain = v:
    if builtins.isPath v then toString v
    else if isXML v then xmlText v
    else if builtins.isList v then
      (if v != [ ] && builtins.all isXML v
      then builtins.concatStringsSep "" (map xmlText v)
      else map plain v)
    else if builtins.isAttrs v then
      builtins.mapAttrs (_: plain) v
    else v;
  definition = import input nixvirtLib;
in
if xmlOf == null then plain definition else nixvirtLib.${xmlOf}.getXML definition
