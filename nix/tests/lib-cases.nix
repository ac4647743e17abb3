# What NixVirt users write with its lib, as test cases: each is a
# definition's kind and the definition, made with the lib given (nixvirt's,
# or NixVirt's for the comparison in ./nixvirt.nix, which leaves out the
# cases marked beyondNixVirt).
lib:
let
  domain = definition: { kind = "domain"; inherit definition; };
  network = definition: { kind = "network"; inherit definition; };

  windowsArgs = {
    name = "win";
    uuid = "a67f3ed6-fdad-462a-8c3b-d970db34d8da";
    storage_vol = { pool = "vms"; volume = "win.qcow2"; };
    install_vol = /var/lib/iso/win11.iso;
    nvram_path = /var/lib/libvirt/qemu/nvram/win_VARS.fd;
  };
  windows = lib.domain.templates.windows windowsArgs;
  two = lib.domain.templates.q35 {
    name = "two";
    uuid = "3d6d5e31-7c66-4f7a-8d81-5a9a6abd9d45";
    storage_vol = /var/lib/vms/two.qcow2;
  };
  linux = lib.domain.templates.linux {
    name = "web";
    uuid = "c7a5fdbd-cdaf-9455-926a-d65c16db1809";
    storage_vol = { pool = "vms"; volume = "web.qcow2"; };
  };
in
{
  pc = domain (lib.domain.templates.pc { name = "old"; uuid = "2c5c4d20-6b55-4e69-9c70-4f8f5fac8c33"; });

  # Path literals name the host's files; they are not copied into the store.
  q35-paths = domain (lib.domain.templates.q35 {
    name = "new";
    uuid = "3d6d5e31-7c66-4f7a-8d81-5a9a6abd9d44";
    storage_vol = /var/lib/vms/new.qcow2;
    backing_vol = /var/lib/vms/base.qcow2;
    install_vol = /var/lib/iso/debian.iso;
    net_iface_mac = "52:54:00:3d:6d:5e";
    virtio_video = false;
  });

  # virtio video without 3D, a pool volume, vCPUs with more than a count.
  linux-no3d = domain (lib.domain.templates.linux {
    name = "db";
    uuid = "2904419d-b283-4cfd-9f2c-7c3713ff809f";
    vcpu = { count = 6; };
    memory = { count = 6; unit = "GiB"; };
    storage_vol = { pool = "vms"; volume = "db.qcow2"; };
    virtio_video = null;
  });

  # NixVirt's other argument forms: vcpu with attributes, a disk source
  # as a whole, a backingStore as a whole, a volume CD-ROM.
  linux-forms = domain (lib.domain.templates.linux {
    name = "forms";
    uuid = "6a1f4c2e-8d3b-4e5f-9a7c-1b2d3e4f5a6b";
    vcpu = { placement = "static"; count = 2; };
    memory = { count = 3; unit = "GiB"; };
    storage_vol = { file = /var/lib/vms/forms.qcow2; };
    backing_vol = { type = "file"; format.type = "raw"; source.file = /var/lib/vms/base.img; };
    install_vol = { pool = "iso"; volume = "debian.iso"; };
    virtio_net = false;
  });

  # An installer volume on Windows, which NixVirt's template takes only as
  # a file: not compared.
  windows-install-volume = domain (lib.domain.templates.windows (windowsArgs // {
    install_vol = { pool = "iso"; volume = "win11.iso"; };
  })) // { beyondNixVirt = true; };

  # A template extended with //, replacing what it sets.
  linux-extended = domain (linux // {
    memory = { count = 8; unit = "GiB"; };
    devices = linux.devices // {
      interface = { type = "network"; source.network = "lab"; model.type = "virtio"; };
    };
  });

  windows-virtio = domain (lib.domain.templates.windows (windowsArgs // {
    storage_vol = /var/lib/vms/win.qcow2;
    install_virtio = true;
  }));

  # nixvirt's secure_boot, which NixVirt does not have: not compared.
  windows-secure-boot = domain (lib.domain.templates.windows (windowsArgs // { secure_boot = true; })) // { beyondNixVirt = true; };

  # A second disk made as the templates make theirs.
  q35-mkstorage = domain (two // {
    devices = two.devices // {
      disk = two.devices.disk ++ [ (lib.domain.templates.mkstorage false { pool = "vms"; volume = "data.qcow2"; } null) ];
    };
  });

  # A template's parts are read and extended (NixVirt's template-windows-3).
  windows-features = domain (windows // {
    features = { kvm.hidden.state = true; } // windows.features;
  });

  # lib.xml builds free-form <metadata> (NixVirt's win11 check).
  metadata = domain (lib.domain.templates.pc { name = "meta"; uuid = "ee43005c-2e7b-4af2-bfae-8c52eeb22672"; } // {
    metadata = with lib.xml; [
      (elem "app:app" [ (attr "xmlns:app" "https://example.org/app") ] [
        (elem "state" [ ] "installed")
        (elem "tag" [ (attr "id" "a&b") ] [ ])
        (opt false (elem "never" [ ] null))
      ])
    ];
  });

  bridge = network (lib.network.templates.bridge {
    name = "lab";
    bridge_name = "virbr71";
    uuid = "5f0e8a47-66b2-4d59-9c3c-2f1b1c8e9d01";
    subnet_byte = 71;
    dhcp_hosts = [
      { name = "web"; mac = "52:54:00:00:47:10"; ip = "192.168.71.10"; }
      { name = "db"; ip = "192.168.71.11"; }
    ];
  });
}
