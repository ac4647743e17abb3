# A NixVirt-shaped connection, as a NixVirt user's module options hold it
# after the module system fills in defaults: lists, XML-path definitions,
# nulls, and (nixvirt's addition) an attrset definition.
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
    }
    { definition = null; name = "old"; present = false; active = null; restart = null; autostart = null; shutdownTimeout = null; keepNvram = false; keepTpm = null; }
  ];
  networks = [
    { definition = ./lab.xml; active = true; restart = null; autostart = null; present = true; name = null; }
  ];
  pools = null;
}
