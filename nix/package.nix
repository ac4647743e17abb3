# nixvirt, built with buildGoModule against nixpkgs' libvirt (cgo).
{ lib
, buildGoModule
, pkg-config
, libvirt
, version ? "0.1.0"
}:

buildGoModule {
  pname = "nixvirt";
  inherit version;

  src = lib.cleanSource ./..;

  # The NAR hash of `go mod vendor`; nix/vendor-hash.sh computes it and CI
  # checks that it is current.
  vendorHash = "sha256-ZZL4wM2xZ7U0u+MFmwcZPLe8JjOpvAXXBfXEEfDNjLY=";

  subPackages = [ "cmd/nixvirt" "cmd/nixvirt-front" ];

  nativeBuildInputs = [ pkg-config ];
  buildInputs = [ libvirt ];

  ldflags = [ "-s" "-w" "-X main.version=${version}" ];

  # Three builds (README, "Three builds"): the whole build is installed as
  # nixvirt-libvirt; cmd/nixvirt again without libvirt (-tags nolibvirt) as
  # nixvirt-cue, which starts without loading libvirt's libraries; and the
  # front, cmd/nixvirt-front, without cue either, as nixvirt: it vets and
  # exports valid JSON itself and hands every other command to the other
  # two beside it.
  postInstall = ''
    mv "$out/bin/nixvirt" "$out/bin/nixvirt-libvirt"
    go build -tags nolibvirt -ldflags "$ldflags" -o "$out/bin/nixvirt-cue" ./cmd/nixvirt
    mv "$out/bin/nixvirt-front" "$out/bin/nixvirt"
  '';

  # The test suite needs libvirt's test driver and virt-xml-validate;
  # checks.tests in the flake runs it.
  doCheck = false;

  meta = {
    description = "Declare libvirt machines, networks, pools and volumes in CUE, check them, and apply them idempotently";
    mainProgram = "nixvirt";
    platforms = lib.platforms.linux;
  };
}
