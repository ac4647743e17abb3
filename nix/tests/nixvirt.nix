# nixvirt's lib against NixVirt's, on the same plain stand-in packages.
# testdata/nixvirt holds NixVirt's files (github:AshleyYakeley/NixVirt at
# 6d213ab42f72ba41c2eb4e6bdb97581c0642d942, unchanged, MIT: its LICENSE).
#
# Each attribute is a kind, the CUE source nixvirt's lib compiles (`ours`),
# and NixVirt's XML for the same input (`nixvirt`); nix/check.sh exports
# the first, imports and exports the second, and compares the two. The
# cases are ./lib-cases.nix through both libs, and every one of NixVirt's
# own checks through nixvirt's lib.
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

  # Every one of NixVirt's checks. Those whose XML libvirt refuses
  # (testdata/nixvirtcheck/outcomes.txt) must fail to export, with an
  # error at a line of the definition: nix/check.sh reads the list there.
  dirs = path: let entries = builtins.readDir path; in builtins.filter (name: entries.${name} == "directory") (builtins.attrNames entries);
  checks = builtins.concatMap (kind: map (name: "${kind}/${name}") (dirs (nixvirtDir + "/checks/${kind}"))) (dirs (nixvirtDir + "/checks"));
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
