# NixVirt's lib, implemented by running nixvirt at build time:
# lib.{domain,network,pool,volume}.{getXML,writeXML} and
# lib.domain.templates / lib.network.templates, and lib.xml.
#
# A definition is an attrset in nixvirt's vocabulary (NixVirt's), or what a
# template returns: an attrset that names its CUE template and arguments,
# which `//` may extend; those values are unified on top of the template's,
# whose every value is a default.
{ pkgs, nixvirt }:
let
  inherit (pkgs) lib;

  # Host paths the templates take, filled with store paths.
  hostPaths = {
    emulator = "${pkgs.qemu}/bin/qemu-system-x86_64";
    ovmf_code = "${pkgs.OVMFFull.fd}/FV/OVMF_CODE.ms.fd";
    ovmf_vars = "${pkgs.OVMFFull.fd}/FV/OVMF_VARS.ms.fd";
  };

  cue = import ./cue.nix;

  writeXML = kind: def:
    let
      name = def.name or (def.__nixvirt.args.name or kind);
    in
    pkgs.runCommand "nixvirt-${kind}-${name}.xml"
      {
        nativeBuildInputs = [ nixvirt ];
        source = cue.source def;
        passAsFile = [ "source" ];
      } ''
      mkdir -p pkg
      cp "$sourcePath" pkg/definition.cue
      cd pkg
      # A bad attrset fails the build here, with nixvirt's error.
      nixvirt export --kind ${kind} -e definition . > "$out"
    '';

  objtype = kind: {
    writeXML = writeXML kind;
    # getXML reads what writeXML built (import from derivation).
    getXML = def: builtins.readFile (writeXML kind def);
  };

  template = name: args: {
    __nixvirt = { template = name; args = hostPaths // args; };
  };
in
{
  domain = objtype "domain" // {
    templates = {
      pc = template "#PC";
      q35 = template "#Q35";
      linux = template "#Linux";
      windows = template "#Windows";
    };
  };
  network = objtype "network" // {
    templates.bridge = args: { __nixvirt = { template = "#Bridge"; inherit args; }; };
  };
  pool = objtype "pool";
  volume = objtype "volume";

  # xml.toText writes a definition's XML as text at build time.
  xml.toText = kind: def: builtins.readFile (writeXML kind def);
}
