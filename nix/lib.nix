# NixVirt's lib: lib.{domain,network,pool,volume}.{getXML,writeXML},
# lib.domain.templates, lib.network.templates, lib.xml and
# lib.guest-install.
#
# A definition is an attrset in nixvirt's vocabulary (NixVirt's), such as
# a template returns; writeXML turns it into XML by running nixvirt at
# build time, so a mistake fails the build with nixvirt's error.
{ pkgs, nixvirt }:
let
  cue = import ./cue.nix;

  writeXML = kind: def:
    pkgs.runCommand "nixvirt-${kind}-${def.name or kind}.xml"
      {
        nativeBuildInputs = [ nixvirt ];
        source = cue.source def;
        passAsFile = [ "source" ];
      } ''
      mkdir -p pkg
      cp "$sourcePath" pkg/definition.cue
      cd pkg
      nixvirt export --kind ${kind} -e definition . > "$out"
    '';

  objtype = kind: {
    writeXML = writeXML kind;
    # getXML reads what writeXML built (import from derivation).
    getXML = def: builtins.readFile (writeXML kind def);
  };

  guest-install = {
    # The virtio-win drivers as a CD image, for a Windows guest's installer.
    virtio-win.iso = pkgs.runCommand "virtio-win.iso" { nativeBuildInputs = [ pkgs.cdrtools ]; } ''
      mkisofs -J -V VIRTIO-WIN -o "$out" ${pkgs.virtio-win}
    '';
  };

  templates = import ./templates.nix {
    hostPaths = {
      emulator = "${pkgs.qemu}/bin/qemu-system-x86_64";
      ovmf_code = "${pkgs.OVMFFull.fd}/FV/OVMF_CODE.ms.fd";
      ovmf_vars = "${pkgs.OVMFFull.fd}/FV/OVMF_VARS.ms.fd";
      virtio_win_iso = "${guest-install.virtio-win.iso}";
    };
  };
in
{
  domain = objtype "domain" // { templates = templates.domain; };
  network = objtype "network" // { templates = templates.network; };
  pool = objtype "pool";
  volume = objtype "volume";
  # Not in NixVirt: a libvirt secret (a module's secrets.*.definition).
  secret = objtype "secret";
  xml = import ./xml.nix;
  inherit guest-install;
}
