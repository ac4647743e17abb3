# NixOS and Home Manager modules with NixVirt's options, so that a NixVirt
# configuration evaluates unchanged; activation runs `nixvirt apply`.
#
# Beyond NixVirt: a definition may also be a CUE file or an attrset in
# nixvirt's vocabulary (compiled to XML at build time, so a mistake fails
# the build with nixvirt's error), and entries take autostart,
# shutdownTimeout, present, keepNvram, keepTpm and live, domains cloudInit
# and waitFor, volumes content and replace; a connection takes prune and
# secrets; the objects are owned by owner (nixos, home-manager), and
# takeOver moves another owner's to it.
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

      liveOptions = {
        live = lib.mkOption {
          type = with lib.types; nullOr bool;
          default = null;
          description = "false: every change of the running object restarts it (per restart), none is made live (null: live where libvirt can)";
        };
      };

      # userData, metaData and networkConfig: a string is written as it
      # is, an attrset as YAML (userData as #cloud-config).
      cloudInitText = with lib.types; either str (attrsOf anything);

      domainOptions = liveOptions // {
        cloudInit = lib.mkOption {
          type = with lib.types; nullOr (submodule {
            options = {
              pool = lib.mkOption {
                type = str;
                description = "the pool, one of this connection's pools, that holds the seed volume <name>-cidata.iso";
              };
              userData = lib.mkOption {
                type = cloudInitText;
                description = "user-data: a string as it is (a #cloud-config, a script), or an attrset written as #cloud-config YAML";
              };
              metaData = lib.mkOption {
                type = nullOr cloudInitText;
                default = null;
                description = "meta-data (string or attrset); instance-id and local-hostname (the domain's name) are added when missing";
              };
              networkConfig = lib.mkOption {
                type = nullOr cloudInitText;
                default = null;
                description = "network-config (string or attrset), or null for cloud-init's default";
              };
            };
          });
          default = null;
          description = "a cloud-init NoCloud seed, built by nixvirt and attached to the domain as a read-only CD-ROM; a change rebuilds it (a guest that already booted reads it only with a new instance-id)";
        };
        waitFor = lib.mkOption {
          type = with lib.types; nullOr (submodule {
            options = {
              address = lib.mkOption {
                type = bool;
                default = true;
                description = "wait until every interface of the domain has an address";
              };
              timeout = lib.mkOption {
                type = ints.positive;
                default = 300;
                description = "the longest wait, in seconds";
              };
            };
          });
          default = null;
          description = "what apply waits for after starting the domain (null: nothing)";
        };
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
              content = lib.mkOption {
                type = nullOr (submodule {
                  options = {
                    file = lib.mkOption {
                      type = nullOr path;
                      default = null;
                      description = "a file of the host to upload when activating: a path or an absolute path string, named as it is (never copied into the store)";
                    };
                    url = lib.mkOption {
                      type = nullOr (strMatching "^https?://.*");
                      default = null;
                      description = "a URL to download (into nixvirt's cache when activating; .xz and .gz are unpacked by name)";
                    };
                    sha256 = lib.mkOption {
                      type = nullOr (strMatching "^[0-9a-fA-F]{64}$");
                      default = null;
                      description = "the hex SHA-256 of the file (checked before anything is created) or of the bytes the URL sends (required with url)";
                    };
                    clone = lib.mkOption {
                      type = nullOr (submodule {
                        options = {
                          pool = lib.mkOption { type = str; description = "the pool of the volume to copy"; };
                          volume = lib.mkOption { type = str; description = "the volume to copy"; };
                        };
                      });
                      default = null;
                      description = "another volume to copy (libvirt's create-from)";
                    };
                  };
                });
                default = null;
                description = "what fills the volume when it is created: one of {file; sha256?}, {url; sha256} or {clone = {pool; volume}}; it is recorded, and an existing volume is never overwritten unless replace is true";
              };
              replace = lib.mkOption {
                type = bool;
                default = false;
                description = "delete and recreate an existing volume whose recorded content differs from content";
              };
            };
          });
          default = [ ];
          description = "volumes to create if missing (never overwritten unless replace is true)";
        };
      };

      # Secrets are not in NixVirt. Their value is read when activating,
      # from a file of the host or an environment variable of the
      # activation, and never reaches the store.
      secretsOption = lib.mkOption {
        type = with lib.types; nullOr (listOf (submodule {
          options = {
            name = lib.mkOption {
              type = str;
              description = "nixvirt's name for the secret (libvirt secrets have none); its UUID is derived from it unless the definition gives one";
            };
            definition = lib.mkOption {
              type = nullOr definitionType;
              default = null;
              description = "the secret (usage, private, ephemeral): a libvirt XML file, a CUE file, or an attrset in nixvirt's vocabulary";
            };
            present = lib.mkOption {
              type = bool;
              default = true;
              description = "false deletes the secret, if nixvirt defined it";
            };
            value = lib.mkOption {
              type = nullOr (submodule {
                options = {
                  file = lib.mkOption {
                    type = nullOr path;
                    default = null;
                    description = "a file of the host whose bytes are the value, read when activating (never copied into the store)";
                  };
                  env = lib.mkOption {
                    type = nullOr str;
                    default = null;
                    description = "an environment variable of the activation that holds the value";
                  };
                };
              });
              default = null;
              description = "where the value comes from, one of file and env: it is set when the secret is created and again when it changes, and never printed";
            };
          };
        }));
        default = null;
        description = "libvirt secrets (null: not managed)";
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
            # --owner on plan too, so that it shows what apply does.
            flags = lib.optionalString (!cfg.connections.${uri}.prune) " --no-prune"
              + " --owner ${lib.escapeShellArg cfg.owner}"
              + lib.optionalString cfg.takeOver " --take-over";
            # nixvirt answers an apply that would change nothing from the
            # memo the last such apply left (while the host, the files and
            # nixvirt's records are as they were), without loading CUE or
            # libvirt's library; otherwise it hands the command line to
            # nixvirt-libvirt, the build that plans and applies.
            # apply reports one line per object; verbose shows the plan,
            # with each change's diff and reason, before it.
            plan = lib.optionalString cfg.verbose ''
              nixvirt plan${flags} --connect ${lib.escapeShellArg uri} ${file} || true
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
            if ! nixvirt apply --yes${flags} --connect ${lib.escapeShellArg uri} ${file}; then
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
        owner = lib.mkOption {
          type = strMatching "^[a-z0-9][a-z0-9._-]*$";
          default = if isHomeManager then "home-manager" else "nixos";
          description = ''
            The owner of the objects this configuration defines (nixvirt apply --owner):
            only this owner's objects are pruned, redefined or stopped, and objects of
            another owner (the other module's, a CUE configuration's) are listed and never
            touched. Objects that an older nixvirt, or another owner, defined are not this
            owner's: set takeOver = true for one activation (or owner = "default", the
            owner of objects an older nixvirt defined) to manage them.
          '';
        };
        takeOver = lib.mkOption {
          type = bool;
          default = false;
          description = ''
            Move the objects the connections name from their owner to this one
            (nixvirt apply --take-over). A host whose objects an older nixvirt (or the other
            module) defined needs one activation with takeOver = true, or owner = "default";
            until then nothing is deleted: objects of another owner are only listed.
          '';
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
              networks = mkObjectOption { singular = "network"; plural = "networks"; extraOptions = liveOptions; };
              pools = mkObjectOption { singular = "pool"; plural = "pools"; extraOptions = volumeOptions; };
              secrets = secretsOption;
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
