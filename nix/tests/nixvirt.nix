# nixvirt's lib against NixVirt's, on the same plain stand-in packages.
# testdata/nixvirt holds NixVirt's files (github:AshleyYakeley/NixVirt at
# 6d213ab42f72ba41c2eb4e6bdb97581c0642d942, unchanged, MIT: its LICENSE).
#
# Each attribute is a kind, the CUE source nixvirt's lib compiles (`ours`),
# and NixVirt's XML for the same input (`nixvirt`); nix/check.sh exports
# the first, imports and exports the second, and compares the two. The
# cases are ./lib-cases.nix through both libs, and NixVirt's own checks
# that exercise its lib (templates and lib.xml) through nixvirt's: the
# others are vocabulary, tested with nixvirt export in cmd/nixvirt.
let
  nixvirtDir = ../../testdata/nixvirt;
  cue = import ../cue.nix;

  # NixVirt's checks stand in QEMU_PATH, OVMFFull_FD_PATH and "BUILD name"
  # for store paths; libvirt takes only absolute paths.
  standIns = { qemu = "/stand-in/qemu"; ovmf = "/stand-in/OVMFFull.fd"; build = "/stand-in/build/"; };
  packages = {
    qemu = standIns.qemu;
    OVMFFull.fd = standIns.ovmf;
    runCommand = name: _env: _script: standIns.build + name;
    cdrtools = "/stand-in/cdrtools";
    virtio-win = "/stand-in/virtio-win";
  };
  ours = import ../lib.nix { pkgs = packages; nixvirt = null; };
  theirs = import (nixvirtDir + "/lib.nix") { inherit packages; };

  ourCases = import ./lib-cases.nix ours;
  cases = builtins.mapAttrs
    (name: c: {
      inherit (c) kind;
      ours = cue.source c.definition;
      nixvirt = theirs.${c.kind}.getXML (import ./lib-cases.nix theirs).${name}.definition;
    })
    (removeAttrs ourCases (builtins.filter (name: ourCases.${name}.beyondNixVirt or false) (builtins.attrNames ourCases)));

  # NixVirt's checks that exercise its lib. template-windows-2 adds NixVirt's
  # qemu-commandline spelling, a vocabulary matter.
  checks = [ "domain/template-linux-1" "domain/template-linux-2" "domain/template-windows-1" "domain/template-windows-3" "domain/win11" "network/bridge" ];
  check = path:
    let
      dir = nixvirtDir + "/checks/${path}";
      expected = builtins.readFile (dir + "/expected.xml");
    in
    {
      name = "nixvirt-" + builtins.replaceStrings [ "/" ] [ "-" ] path;
      value = {
        kind = builtins.head (builtins.split "/" path);
        ours = cue.source (import (dir + "/input.nix") ours);
        nixvirt = builtins.replaceStrings [ "QEMU_PATH" "OVMFFull_FD_PATH" "BUILD " ] [ standIns.qemu standIns.ovmf standIns.build ] expected;
      };
    };
in
cases // builtins.listToAttrs (map check checks)
