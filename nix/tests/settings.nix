# A NixVirt-shaped connection, as a NixVirt user's module options hold it
# after the module system fills in defaults: lists, XML-path definitions,
# nulls, and nixvirt's additions: attrset definitions, cloud-init, waitFor,
# volume content and secrets.
let
  settings = import ../settings.nix { };
in
settings.settingsFor {
  domains = [
    { definition = ./web.xml; active = true; restart = null; autostart = null; shutdownTimeout = null; present = true; name = null; keepNvram = null; keepTpm = null; }
    {
      definition = {
        type = "test";
        name = "db";
        uuid = "0c2d6f0e-2b4a-4c55-8d2e-5b9f3a1c7e42";
        memory = { count = 256; unit = "MiB"; };
        os = { type = "hvm"; };
        devices.interface = { type = "network"; source.network = "lab"; };
      };
      active = false;
      restart = false;
      autostart = true;
      shutdownTimeout = 30;
      present = true;
      name = null;
      keepNvram = null;
      keepTpm = null;
      live = false;
      cloudInit = {
        pool = "vms";
        userData = { users = [{ name = "admin"; ssh_authorized_keys = [ "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAdminKey admin@host" ]; }]; };
        metaData = null;
        networkConfig = "version: 2\nethernets:\n  eth0:\n    dhcp4: true\n";
      };
      waitFor = { address = true; timeout = 120; };
    }
    { definition = null; name = "old"; present = false; active = null; restart = null; autostart = null; shutdownTimeout = null; keepNvram = false; keepTpm = null; }
  ];
  networks = [
    { definition = ./lab.xml; active = true; restart = null; autostart = null; present = true; name = null; }
  ];
  # Volume content as the module's options hold it: each kind with the
  # options of the others null.
  pools = [{
    definition = { type = "dir"; name = "vms"; uuid = "4b2c4a49-7d1e-4c2b-9a55-0e5f3b6d8c11"; target.path = "/var/lib/vms"; };
    active = true; restart = null; autostart = null; present = true; name = null;
    volumes = [
      { name = null; present = true; replace = false;
        definition = { name = "base.qcow2"; capacity = { count = 10; unit = "GiB"; }; target.format.type = "qcow2"; };
        content = { file = null; url = "https://images.example.org/debian-12-generic-amd64.qcow2"; sha256 = "0f2e4d8b6a1c3e5f7092b4d6f8a0c2e4b6d8f0a2c4e6b8d0f2a4c6e8b0d2f4a6"; clone = null; };
      }
      { name = null; present = true; replace = true;
        definition = { name = "web.qcow2"; capacity = { count = 10; unit = "GiB"; }; target.format.type = "qcow2"; };
        content = { file = null; url = null; sha256 = null; clone = { pool = "vms"; volume = "base.qcow2"; }; };
      }
      { name = null; present = true; replace = false;
        definition = { name = "seed.img"; capacity = { count = 1; unit = "MiB"; }; target.format.type = "raw"; };
        content = { file = "/var/lib/nixvirt/seed.img"; url = null; sha256 = null; clone = null; };
      }
    ];
  }];
  # Secrets, which NixVirt has not: a value from the activation's
  # environment (nix/check.sh sets it for the plan), and one to delete.
  secrets = [
    { name = "disk-key"; present = true;
      definition = { private = true; ephemeral = false; usage = { type = "volume"; volume = "/var/lib/vms/web.luks"; }; };
      value = { file = null; env = "NIXVIRT_CHECK_SECRET"; };
    }
    { name = "old-key"; present = false; definition = null; value = null; }
  ];
}
