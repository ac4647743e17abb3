# NixOS and Home Manager modules with NixVirt's options, so that a NixVirt
# configuration evaluates unchanged; activation runs `nixvirt apply`.
#
# Beyond NixVirt: a definition may also be a CUE file or an attrset in
# nixvirt's vocabulary (compiled to XML at build time, so a mistake fails
# the build with nixvirt's error), and entries take autostart,
# shutdownTimeout, present, keepNvram and keepTpm; a connection takes prune.
{ self }:
let
  module = isHomeManager: { config, lib, pkgs, ... }:
    let
      cfg = config.virtualisation.libvirt;
      nixvirt = self.packages.${pkgs.stdenv.hostPlatform.system}.default;
      nixvirtLib = import ./lib.nix { inherit pkgs nixvirt; };
      defaultURI = if isHomeManager then "qemu:///session" else "qemu:///system";

      # An XML file stays an XML file (NixVirt): a path is copied into the
      # store, and an absolute-path string outside the store is left for
      # nixvirt apply to read at activation. A CUE file or an attrset is
      # compiled to an XML file in the store.
      definitionOf = kind: d:
        if builtins.isAttrs d && !(d ? outPath) then "${nixvirtLib.${kind}.writeXML d}"
        else if lib.hasSuffix ".cue" (toString d) then
          if settings.readAtActivation d then
            throw "virtualisation.libvirt: the ${kind} definition ${d} is a CUE file outside the store, which the build cannot compile: give it as a path (${d} without quotes)"
          else
            "${pkgs.runCommand "nixvirt-${kind}.xml" { nativeBuildInputs = [ nixvirt ]; } ''
            nixvirt export --kind ${kind} ${d} > "$out"
          ''}"
        else if settings.readAtActivation d then d
        else "${d}";
      settings = import ./settings.nix { inherit definitionOf; };

      definitionType = with lib.types; either path (attrsOf anything);

      mkObjectOption = { singular, plural, extraOptions ? { } }: lib.mkOption {
        type = with lib.types; nullOr (listOf (submodule {
          options = extraOptions // {
            definition = lib.mkOption {
              type = nullOr definitionType;
              default = null;
              description = "the ${singular}: a libvirt XML file (NixVirt), a CUE file, or an attrset in nixvirt's vocabulary";
            };
            active = lib.mkOption {
              type = nullOr bool;
              default = null;
              description = "state to put the ${singular} in (or null to leave it)";
            };
            restart = lib.mkOption {
              type = nullOr bool;
              default = null;
              description = "whether to restart on activation (or null to restart only when changed)";
            };
            autostart = lib.mkOption {
              type = nullOr bool;
              default = null;
              description = "libvirt's autostart flag (or null to leave it)";
            };
            present = lib.mkOption {
              type = bool;
              default = true;
              description = "false deletes the ${singular}, if nixvirt defined it";
            };
            name = lib.mkOption {
              type = nullOr str;
              default = null;
              description = "the ${singular}'s name, for present = false without a definition";
            };
          };
        }));
        default = null;
        description = "libvirt ${plural} (null: not managed)";
      };

      domainOptions = {
        shutdownTimeout = lib.mkOption {
          type = with lib.types; nullOr ints.unsigned;
          default = null;
          description = "seconds an ACPI shutdown may take before the domain is forced off (60)";
        };
        keepNvram = lib.mkOption {
          type = with lib.types; nullOr bool;
          default = null;
          description = "with present = false: whether to keep the NVRAM (kept unless false)";
        };
        keepTpm = lib.mkOption {
          type = with lib.types; nullOr bool;
          default = null;
          description = "with present = false: whether to keep the TPM state (kept unless false)";
        };
      };

      volumeOptions = {
        volumes = lib.mkOption {
          type = with lib.types; listOf (submodule {
            options = {
              present = lib.mkOption {
                type = bool;
                default = true;
                description = "whether the volume should exist";
              };
              name = lib.mkOption {
                type = nullOr str;
                default = null;
                description = "name of the volume (for present = false)";
              };
              definition = lib.mkOption {
                type = nullOr definitionType;
                default = null;
                description = "the volume: XML file, CUE file or attrset";
              };
            };
          });
          default = [ ];
          description = "volumes to create if missing (never overwritten)";
        };
      };

      connectionFiles = lib.mapAttrs
        (uri: c: pkgs.writeText "nixvirt-settings.json" (builtins.toJSON (settings.settingsFor c)))
        cfg.connections;

      # The settings are checked when the configuration is built, so that a
      # mistake fails the build rather than the activation; definitions
      # read at activation are checked then.
      checked = pkgs.runCommand "nixvirt-settings-checked" { nativeBuildInputs = [ nixvirt ]; } (
        lib.concatStrings (lib.mapAttrsToList
          (uri: c:
            let file = pkgs.writeText "nixvirt-settings-checked.json" (builtins.toJSON (settings.buildCheckedSettingsFor c));
            in "nixvirt vet --connect ${lib.escapeShellArg uri} ${file}\n")
          cfg.connections) + "touch $out\n");

      script = ''
        export PATH=${lib.makeBinPath ([ nixvirt pkgs.qemu-utils ] ++ lib.optional cfg.swtpm.enable pkgs.swtpm)}:$PATH
        status=0
      '' + lib.concatStrings (lib.mapAttrsToList
        (uri: file:
          let
            prune = if cfg.connections.${uri}.prune then "" else " --no-prune";
            # apply reports one line per object; verbose shows the plan,
            # with each change's diff and reason, before it.
            plan = lib.optionalString cfg.verbose ''
              nixvirt plan${prune} --connect ${lib.escapeShellArg uri} ${file} || true
            '';
          in
          ''
            # --yes: an activation never waits for an answer, even when
            # run from a terminal (home-manager switch).
            # Checked at build time (this reference makes it a dependency):
            # ${checked}
          ''
          + plan
          + ''
            if ! nixvirt apply --yes${prune} --connect ${lib.escapeShellArg uri} ${file}; then
              echo "nixvirt: applying ${uri} failed (see above); the rest of the activation goes on" >&2
              status=1
            fi
          '')
        connectionFiles);
    in
    {
      options.virtualisation.libvirt = with lib.types; {
        enable = lib.mkOption {
          type = bool;
          default = false;
          description = "Enable management of libvirt objects";
        };
        package = lib.mkOption {
          type = package;
          default = pkgs.libvirt;
          description = "libvirt package to use";
        };
        verbose = lib.mkOption {
          type = bool;
          default = false;
          description = "Verbose output during module activation (for debugging): the plan, with diffs, before each apply";
        };
        swtpm.enable = lib.mkOption {
          type = bool;
          default = false;
          description = "Make software TPM emulator available to libvirt";
        };
        connections = lib.mkOption {
          type = attrsOf (submodule {
            options = {
              domains = mkObjectOption { singular = "domain"; plural = "domains"; extraOptions = domainOptions; };
              networks = mkObjectOption { singular = "network"; plural = "networks"; };
              pools = mkObjectOption { singular = "pool"; plural = "pools"; extraOptions = volumeOptions; };
              prune = lib.mkOption {
                type = bool;
                default = true;
                description = "delete objects nixvirt defined that left this connection's lists";
              };
            };
          });
          default = { };
          description = "set of objects, keyed by hypervisor connection URI (e.g. \"${defaultURI}\")";
        };
      };

      config = lib.mkIf cfg.enable (
        if isHomeManager then {
          home.packages = [ nixvirt ];
          # A failing apply is reported and does not stop the activation.
          home.activation.nixvirt = lib.hm.dag.entryAfter [ "writeBoundary" ] (script + "true\n");
        } else {
          environment.systemPackages = [ nixvirt ];
          virtualisation.libvirtd = {
            enable = true;
            package = lib.mkDefault cfg.package;
            qemu.swtpm.enable = lib.mkIf cfg.swtpm.enable true;
          };
          systemd.services.nixvirt = {
            description = "Configure libvirt objects (nixvirt)";
            serviceConfig.Type = "oneshot";
            wantedBy = [ "multi-user.target" ];
            requires = [ "libvirtd.service" ];
            after = [ "libvirtd.service" ];
            script = script + "exit $status\n";
          };
        }
      );
    };
in
{
  nixosModule = module false;
  homeModule = module true;
}
