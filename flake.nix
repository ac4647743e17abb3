{
  description = "nixvirt: libvirt machines, networks, pools and volumes declared in CUE, checked, and applied idempotently";

  inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-unstable";

  outputs = { self, nixpkgs }:
    let
      systems = [ "x86_64-linux" "aarch64-linux" ];
      forAllSystems = f: nixpkgs.lib.genAttrs systems (system: f nixpkgs.legacyPackages.${system});
      modules = import ./nix/modules.nix { inherit self; };
      libFor = system: import ./nix/lib.nix {
        pkgs = nixpkgs.legacyPackages.${system};
        nixvirt = self.packages.${system}.default;
      };
    in
    {
      packages = forAllSystems (pkgs: rec {
        nixvirt = pkgs.callPackage ./nix/package.nix { };
        default = nixvirt;
      });

      apps = forAllSystems (pkgs: {
        default = {
          type = "app";
          program = "${self.packages.${pkgs.stdenv.hostPlatform.system}.default}/bin/nixvirt";
        };
      });

      nixosModules.default = modules.nixosModule;
      homeModules.default = modules.homeModule;

      # NixVirt's lib, in NixVirt's shape (lib.domain.writeXML …), built
      # with x86_64-linux's packages as NixVirt's is (its templates are
      # x86_64 guests); and the same for each system, lib.<system>.….
      lib = libFor "x86_64-linux" // nixpkgs.lib.genAttrs systems libFor;

      checks = forAllSystems (pkgs:
        let
          nixvirt = self.packages.${pkgs.stdenv.hostPlatform.system}.default;
        in
        {
          # The Go tests and testscript goldens (test driver, virt-xml-validate).
          tests = nixvirt.overrideAttrs (old: {
            doCheck = true;
            nativeCheckInputs = [ pkgs.libvirt ];
            checkFlags = [ "-skip" "E2E|Corpus" ];
          });
          # The pure conversion from module options to nixvirt's settings.
          settings = pkgs.runCommand "nixvirt-settings-test" { nativeBuildInputs = [ nixvirt ]; } ''
            cp ${pkgs.writeText "settings.json" (builtins.toJSON (import ./nix/tests/settings.nix))} settings.json
            diff -u ${./nix/tests/settings.json} settings.json
            touch $out
          '';
        });

      formatter = forAllSystems (pkgs: pkgs.nixpkgs-fmt);

      devShells = forAllSystems (pkgs: {
        default = pkgs.mkShell {
          inputsFrom = [ self.packages.${pkgs.stdenv.hostPlatform.system}.default ];
          packages = [ pkgs.go pkgs.gopls pkgs.cue pkgs.libvirt ];
        };
      });
    };
}
