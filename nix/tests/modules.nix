# The NixOS and Home Manager modules under nixpkgs' real lib.evalModules
# (testdata/nixpkgs-lib), with a NixVirt user's configuration and stand-in
# declarations for the options the modules set, which NixOS and Home
# Manager would declare. The result, which nix/check.sh compares with
# modules.txt, is a file with what the modules set, and the content of
# every file in the store their scripts name (settings files, and what the
# builds they depend on would run).
#
# extraConfig is added to the NixOS configuration, for tests of what the
# options refuse.
{ extraConfig ? { } }:
let
  pkgs = import ./nixpkgs { system = "x86_64-linux"; };
  nixvirt = import ../../default.nix { nixpkgs = ./nixpkgs; };
  lib = import ./nixpkgs/lib;
  inherit (lib) mkOption types;

  # Home Manager adds lib.hm; entryAfter is its DAG entry.
  hmLib = lib.extend (_: _: { hm.dag.entryAfter = after: data: { inherit after data; before = [ ]; }; });

  nixosOptions = {
    options = {
      environment.systemPackages = mkOption { type = types.listOf types.package; default = [ ]; };
      virtualisation.libvirtd = {
        enable = mkOption { type = types.bool; default = false; };
        package = mkOption { type = types.package; };
        qemu.swtpm.enable = mkOption { type = types.bool; default = false; };
      };
      systemd.services = mkOption {
        type = types.attrsOf (types.submodule {
          options = {
            description = mkOption { type = types.str; default = ""; };
            serviceConfig = mkOption { type = types.attrsOf types.str; default = { }; };
            wantedBy = mkOption { type = types.listOf types.str; default = [ ]; };
            requires = mkOption { type = types.listOf types.str; default = [ ]; };
            after = mkOption { type = types.listOf types.str; default = [ ]; };
            script = mkOption { type = types.lines; default = ""; };
          };
        });
        default = { };
      };
    };
  };

  homeOptions = {
    options.home = {
      packages = mkOption { type = types.listOf types.package; default = [ ]; };
      activation = mkOption { type = types.attrsOf types.anything; default = { }; };
    };
  };

  # A NixVirt configuration: XML files as paths and as a host path read at
  # activation, a template extended with //, pool volumes; and nixvirt's
  # additions: volume content, cloud-init, waitFor, an owner of its own.
  web = nixvirt.lib.domain.templates.linux {
    name = "web";
    uuid = "c7a5fdbd-cdaf-9455-926a-d65c16db1809";
    storage_vol = /var/lib/vms/web.qcow2;
  };
  systemConfig = {
    virtualisation.libvirt = {
      enable = true;
      verbose = true;
      swtpm.enable = true;
      connections."qemu:///system" = {
        networks = [{ definition = ./lab.xml; active = true; }];
        pools = [{
          definition = "/var/lib/nixvirt/vms-pool.xml";
          active = true;
          volumes = [
            { definition = "/var/lib/nixvirt/web-disk.xml"; }
            { name = "old.qcow2"; present = false; }
            {
              definition = { name = "base.qcow2"; capacity = { count = 10; unit = "GiB"; }; target.format.type = "qcow2"; };
              content = { url = "https://images.example.org/debian-12-generic-amd64.qcow2"; sha256 = "0f2e4d8b6a1c3e5f7092b4d6f8a0c2e4b6d8f0a2c4e6b8d0f2a4c6e8b0d2f4a6"; };
            }
            {
              definition = { name = "db.qcow2"; capacity = { count = 10; unit = "GiB"; }; target.format.type = "qcow2"; };
              content.clone = { pool = "vms"; volume = "base.qcow2"; };
              replace = true;
            }
            {
              definition = { name = "seed.img"; capacity = { count = 1; unit = "MiB"; }; target.format.type = "raw"; };
              content.file = "/var/lib/nixvirt/seed.img";
            }
          ];
        }];
        domains = [
          { definition = ./web.xml; active = false; }
          { definition = "/var/lib/nixvirt/legacy.xml"; restart = false; }
          {
            definition = web // { memory = { count = 8; unit = "GiB"; }; };
            active = true;
            cloudInit = {
              pool = "vms";
              userData = { users = [{ name = "admin"; ssh_authorized_keys = [ "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAdminKey admin@host" ]; }]; };
              metaData = "instance-id: web-1\n";
              networkConfig = { version = 2; ethernets.eth0.dhcp4 = true; };
            };
            waitFor = { };
          }
        ];
      };
    };
  };
  homeConfig = {
    virtualisation.libvirt = {
      enable = true;
      # The module's own owner, and a take-over (from an older nixvirt's
      # default owner, say).
      takeOver = true;
      connections."qemu:///session".domains = [{ definition = ./web.xml; }];
      # A secret (not in NixVirt), its value a file of the host.
      connections."qemu:///session".secrets = [{
        name = "backup-key";
        definition = { private = true; ephemeral = false; usage = { type = "ceph"; name = "backup"; }; };
        value.file = "/run/keys/backup";
      }];
    };
  };

  system = (lib.evalModules {
    modules = [ nixvirt.nixosModules.default nixosOptions systemConfig extraConfig { _module.args.pkgs = pkgs; } ];
  }).config;

  # The store files a text names, and theirs in turn; the stand-in
  # packages are no files.
  storeFiles = text:
    let
      matches = builtins.filter builtins.isList (builtins.split "(${builtins.storeDir}/[a-z0-9]+-[a-zA-Z0-9+._?=-]+)" text);
    in
    builtins.filter builtins.pathExists (map builtins.head matches);
  closure = text:
    let
      add = found: path:
        if found ? ${path} then found
        else
          let content = builtins.readFile path;
          in builtins.foldl' add (found // { ${path} = content; }) (storeFiles content);
    in
    builtins.foldl' add { } (storeFiles text);

  home = (hmLib.evalModules {
    modules = [ nixvirt.homeModules.default homeOptions homeConfig { _module.args.pkgs = pkgs; } ];
  }).config;

  # The report: each value, then each script and store file in full, so
  # that a change reads as a diff of the golden.
  pretty = lib.generators.toPretty { };
  section = title: text: "=== ${title}\n${text}\n";
  files = script: lib.concatStrings (lib.mapAttrsToList section (closure script));
  service = system.systemd.services.nixvirt;
  activation = home.home.activation.nixvirt;
in
builtins.toFile "modules.txt" (lib.concatStrings [
  (section "NixOS: virtualisation.libvirtd" (pretty system.virtualisation.libvirtd))
  (section "NixOS: environment.systemPackages" (pretty (map toString system.environment.systemPackages)))
  (section "NixOS: systemd.services.nixvirt" (pretty (removeAttrs service [ "script" ])))
  (section "NixOS: systemd.services.nixvirt.script" service.script)
  (files service.script)
  (section "Home Manager: home.packages" (pretty (map toString home.home.packages)))
  (section "Home Manager: home.activation.nixvirt" (pretty (removeAttrs activation [ "data" ])))
  (section "Home Manager: home.activation.nixvirt.data" activation.data)
  (files activation.data)
])
