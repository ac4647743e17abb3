# The flake's outputs for users without flakes, with nixpkgs from NIX_PATH
# (`<nixpkgs>`), as flake-compat gives them but fetching nothing:
#
#   imports = [ (import /path/to/nixvirt).nixosModules.default ];
#   (import /path/to/nixvirt).lib.domain.templates.linux { … }
#   import /path/to/nixvirt { nixpkgs = /path/to/nixpkgs; }   # another nixpkgs
let
  outputsWith = nixpkgs:
    let
      lib = import (nixpkgs + "/lib");
      # What a flake input gives that flake.nix uses.
      nixpkgsInput = {
        inherit lib;
        outPath = nixpkgs;
        legacyPackages = lib.genAttrs [ "x86_64-linux" "aarch64-linux" ] (system: import nixpkgs { inherit system; });
      };
      self = (import ./flake.nix).outputs { inherit self; nixpkgs = nixpkgsInput; } // { outPath = ./.; };
    in
    self;
in
outputsWith <nixpkgs> // {
  __functor = _: { nixpkgs ? <nixpkgs> }: outputsWith nixpkgs;
}
