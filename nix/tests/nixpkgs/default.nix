# A stand-in for nixpkgs, for evaluating the flake's outputs with Debian's
# nix-bin and no network: nixpkgs' real lib (./lib), and packages that are
# plain store paths which are never built. writeText is builtins.toFile,
# so the files the modules write can be read back; runCommand is a file
# holding what the build would be given (its environment and script), so
# that a test can read what it would do.
{ system ? "x86_64-linux", ... }:
let
  package = name: {
    type = "derivation";
    inherit name;
    outPath = "/nix/store/${builtins.substring 0 32 (builtins.hashString "sha256" name)}-${name}";
  };
in
{
  stdenv.hostPlatform.system = system;
  libvirt = package "libvirt";
  qemu = package "qemu";
  qemu-utils = package "qemu-utils";
  swtpm = package "swtpm";
  cdrtools = package "cdrtools";
  virtio-win = package "virtio-win";
  OVMFFull.fd = package "OVMFFull-fd";
  writeText = builtins.toFile;
  runCommand = name: env: script: {
    type = "derivation";
    inherit name;
    outPath = builtins.toFile name (builtins.toJSON { inherit env script; });
  };
  # The only package the flake calls is nixvirt itself.
  callPackage = _file: _args: package "nixvirt";
}
