# What lib.domain.templates.linux returns, extended with // as NixVirt users
# do; lib's writeXML compiles it with nix/cue.nix and nixvirt export.
{
  __nixvirt = {
    template = "#Linux";
    args = {
      name = "web";
      uuid = "c7a5fdbd-cdaf-9455-926a-d65c16db1809";
      storage_vol = { pool = "vms"; volume = "web.qcow2"; };
      emulator = "/nix/store/00000000000000000000000000000000-qemu/bin/qemu-system-x86_64";
    };
  };
  memory = { count = 8; unit = "GiB"; };
}
