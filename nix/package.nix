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
  vendorHash = "sha256-uuF8DCRQmoIJWcPAQxKimtuO30zEgMb6vXuyGLXlpcw=";

  subPackages = [ "cmd/nixvirt" ];

  nativeBuildInputs = [ pkg-config ];
  buildInputs = [ libvirt ];

  ldflags = [ "-s" "-w" "-X main.version=${version}" ];

  # The whole build is installed as nixvirt-libvirt, and nixvirt is built
  # again without libvirt (-tags nolibvirt): it starts without loading
  # libvirt's libraries and hands the commands that connect to
  # nixvirt-libvirt beside it.
  postInstall = ''
    mv "$out/bin/nixvirt" "$out/bin/nixvirt-libvirt"
    go build -tags nolibvirt -ldflags "$ldflags" -o "$out/bin/nixvirt" ./cmd/nixvirt
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
