# lib.domain.templates and lib.network.templates: NixVirt's templates as
# plain attrsets, with NixVirt's arguments, defaults and output, so that
# a result can be read (`(templates.windows args).features`) and extended
# with `//` exactly as with NixVirt. Their XML is NixVirt's (nix/check.sh
# compares it with NixVirt's own templates, vendored in testdata/nixvirt),
# which is also what nixvirt's CUE templates (templates/*.cue) give.
#
# hostPaths are the files on the host the guests use (store paths in the
# flake). Pure builtins.
{ hostPaths }:
let
  inherit (builtins) attrNames filter isAttrs isNull isPath isString trace;

  # NixVirt ignores an argument it does not know; a switching user's build
  # must not break on one that never had an effect, but it is named.
  warnUnknown = template: known: args: result:
    let unknown = filter (n: !(builtins.elem n known)) (attrNames args);
    in builtins.foldl'
      (r: n: trace "warning: nixvirt: lib.${template}: unknown argument ${n} is ignored" r)
      result
      unknown;

  # A volume argument: a file (path or string), a pool volume
  # {pool; volume; …}, or any other disk <source> ({file; startupPolicy}).
  diskType = vol: if isAttrs vol && vol ? volume then "volume" else "file";
  diskSource = vol: if isString vol || isPath vol then { file = vol; } else vol;

  # backing_vol is a qcow2 image's file (path or string), or a whole
  # <backingStore> as an attrset.
  backingStore = vol:
    if isNull vol || isAttrs vol then vol
    else { type = "file"; format.type = "qcow2"; source.file = vol; backingStore = { }; };

  systemDisk = { storage_vol, backing_vol, virtio_drive, ... }: {
    type = diskType storage_vol;
    device = "disk";
    driver = { name = "qemu"; type = "qcow2"; cache = "none"; discard = "unmap"; };
    source = diskSource storage_vol;
    backingStore = backingStore backing_vol;
    target = if virtio_drive then { dev = "vda"; bus = "virtio"; } else { dev = "sda"; bus = "sata"; };
  };
  systemDisks = a: if isNull a.storage_vol then [ ] else [ (systemDisk a) ];

  spiceChannel = { type = "spicevmc"; target = { type = "virtio"; name = "com.redhat.spice.0"; }; };

  # virtio_video: true is virtio with 3D (needs /dev/dri on the host), null
  # virtio without 3D, false QXL.
  video = v: {
    model =
      if isNull v then { type = "virtio"; heads = 1; primary = true; }
      else if v then { type = "virtio"; heads = 1; primary = true; acceleration.accel3d = true; }
      else { type = "qxl"; ram = 65536; vram = 65536; vgamem = 16384; heads = 1; primary = true; };
  };

  # The arguments every domain template takes, with the defaults of
  # templates.pc and templates.q35; each template changes some defaults.
  domainDefaults = {
    vcpu = { count = 2; };
    memory = { count = 2; unit = "GiB"; };
    storage_vol = null;
    backing_vol = null;
    install_vol = null;
    bridge_name = "virbr0";
    net_iface_mac = null;
    virtio_drive = true;
    virtio_net = false;
    virtio_video = true;
  };
  domainArgs = [ "name" "uuid" ] ++ attrNames domainDefaults;

  machine = machineType: cdromTarget: a: {
    type = "kvm";
    inherit (a) name uuid vcpu memory;
    os = { type = "hvm"; arch = "x86_64"; machine = machineType; boot = [{ dev = "cdrom"; } { dev = "hd"; }]; };
    features = { acpi = { }; apic = { }; };
    cpu.mode = "host-passthrough";
    clock = {
      offset = "utc";
      timer = [
        { name = "rtc"; tickpolicy = "catchup"; }
        { name = "pit"; tickpolicy = "delay"; }
        { name = "hpet"; present = false; }
      ];
    };
    devices = {
      emulator = hostPaths.emulator;
      disk = systemDisks a ++ [{
        type = diskType a.install_vol;
        device = "cdrom";
        driver = { name = "qemu"; type = "raw"; };
        source = if isNull a.install_vol then null else diskSource a.install_vol;
        target = cdromTarget;
        readonly = true;
      }];
      interface = {
        type = "bridge";
        model = if a.virtio_net then { type = "virtio"; } else null;
        mac = if isNull a.net_iface_mac then null else { address = a.net_iface_mac; };
        source.bridge = a.bridge_name;
      };
      channel = [ spiceChannel ];
      input = [
        { type = "tablet"; bus = "usb"; }
        { type = "mouse"; bus = "ps2"; }
        { type = "keyboard"; bus = "ps2"; }
      ];
      graphics = {
        type = "spice";
        autoport = true;
        listen = if a.virtio_video == true then { type = "none"; } else { type = "address"; address = "127.0.0.1"; };
        image.compression = false;
        gl = if isNull a.virtio_video then null else { enable = a.virtio_video; };
      };
      sound.model = "ich9";
      audio = { id = 1; type = "spice"; };
      video = video a.virtio_video;
      redirdev = builtins.genList (_: { bus = "usb"; type = "spicevmc"; }) 4;
    };
  };

  # A template: its name for warnings, its defaults, extra argument names,
  # and what it makes of the arguments.
  template = { name, defaults, extraArgs ? [ ], make }: args:
    warnUnknown name (domainArgs ++ extraArgs) args (make (domainDefaults // defaults // args));

  pc = template { name = "domain.templates.pc"; defaults = { }; make = machine "pc" { dev = "hdc"; bus = "ide"; }; };
  q35 = template { name = "domain.templates.q35"; defaults = { }; make = machine "q35" { dev = "sdc"; bus = "sata"; }; };

  linux = template {
    name = "domain.templates.linux";
    defaults = { vcpu = { count = 4; }; memory = { count = 4; unit = "GiB"; }; };
    make = a:
      let
        # NixVirt's Linux template always has a virtio network card.
        m = machine "q35" { dev = "sdc"; bus = "sata"; } (a // { virtio_net = true; });
      in
      m // {
        devices = m.devices // {
          channel = m.devices.channel ++ [{ type = "unix"; target = { type = "virtio"; name = "org.qemu.guest_agent.0"; }; }];
          rng = { model = "virtio"; backend = { model = "random"; source = "/dev/urandom"; }; };
        };
      };
  };

  windows = template {
    name = "domain.templates.windows";
    defaults = { memory = { count = 4; unit = "GiB"; }; virtio_drive = false; install_virtio = false; secure_boot = false; };
    # secure_boot (nixvirt's, as in templates.#Windows) enforces Secure
    # Boot: a secure loader and SMM, which NixVirt's template has not.
    extraArgs = [ "nvram_path" "install_virtio" "secure_boot" ];
    make = a:
      let
        m = machine "q35" { dev = "sdc"; bus = "sata"; } a;
        cdrom = dev: vol: {
          type = diskType vol;
          device = "cdrom";
          driver = { name = "qemu"; type = "raw"; };
          source =
            if isNull vol then null
            # The installer must be there: startupPolicy is for files.
            else if isString vol || isPath vol then { file = vol; startupPolicy = "mandatory"; }
            else vol;
          target = { bus = "sata"; inherit dev; };
          readonly = true;
        };
      in
      m // {
        os = m.os // {
          loader = { readonly = true; type = "pflash"; path = hostPaths.ovmf_code; }
            // (if a.secure_boot then { secure = true; } else { });
          nvram = {
            template = hostPaths.ovmf_vars;
            path = a.nvram_path or (throw "nixvirt: lib.domain.templates.windows: the argument nvram_path is required");
          };
        };
        features = m.features // (if a.secure_boot then { smm.state = true; } else { }) // {
          hyperv = {
            mode = "custom";
            relaxed.state = true;
            vapic.state = true;
            spinlocks = { state = true; retries = 8191; };
            vpindex.state = true;
            runtime.state = true;
            synic.state = true;
            stimer = { state = true; direct.state = true; };
            reset.state = true;
            vendor_id = { state = true; value = "KVM Hv"; };
            frequencies.state = true;
            reenlightenment.state = true;
            tlbflush.state = true;
            ipi.state = true;
          };
        };
        clock = m.clock // { offset = "localtime"; timer = m.clock.timer ++ [{ name = "hypervclock"; present = true; }]; };
        pm = { suspend-to-mem.enabled = false; suspend-to-disk.enabled = false; };
        devices = m.devices // {
          disk = systemDisks a
            ++ [ (cdrom "hdc" a.install_vol) ]
            ++ (if a.install_virtio then [ (cdrom "hdd" { file = hostPaths.virtio_win_iso; }) ] else [ ]);
          channel = m.devices.channel ++ [{
            type = "spiceport";
            source.channel = "org.spice-space.webdav.0";
            target = { type = "virtio"; name = "org.spice-space.webdav.0"; };
          }];
          tpm = { model = "tpm-crb"; backend = { type = "emulator"; version = "2.0"; }; };
        };
      };
  };

  bridge = args@{ uuid, subnet_byte, name ? "default", bridge_name ? "virbr0", dhcp_hosts ? null, ... }:
    let prefix = "192.168.${toString subnet_byte}.";
    in warnUnknown "network.templates.bridge" [ "name" "uuid" "bridge_name" "subnet_byte" "dhcp_hosts" ] args {
      inherit name uuid;
      forward = { mode = "nat"; nat.port = { start = 1024; end = 65535; }; };
      bridge.name = bridge_name;
      ip = {
        address = "${prefix}1";
        netmask = "255.255.255.0";
        dhcp = {
          range = { start = "${prefix}2"; end = "${prefix}254"; };
          host = dhcp_hosts;
        };
      };
    };
in
{
  domain = {
    inherit pc q35 linux windows;
    # The templates' system disk, which NixVirt's lib also exports.
    mkstorage = virtio_drive: storage_vol: backing_vol: systemDisk { inherit virtio_drive storage_vol backing_vol; };
  };
  network = { inherit bridge; };
}
