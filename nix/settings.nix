# The per-connection settings nixvirt apply reads (`nixvirt apply --connect
# URI settings.json`), from the module's options. Pure builtins, so that it
# can be evaluated and tested without nixpkgs.
#
# definitionOf turns an entry's definition (an XML path, a CUE file, or an
# attrset in nixvirt's vocabulary) into what the settings file holds; the
# modules pass a function that builds CUE files and attrsets into XML at
# build time, the tests the identity.
{ definitionOf ? (kind: d: d) }:
let
  # Options that are null are left out, as `nixvirt apply` reads them the
  # same either way; lists stay lists (NixVirt's shape).
  clean = attrs: builtins.listToAttrs (builtins.filter (a: a.value != null)
    (map (name: { inherit name; value = attrs.${name}; }) (builtins.attrNames attrs)));

  entry = kind: e: clean {
    definition = if e ? definition && e.definition != null then definitionOf kind e.definition else null;
    active = e.active or null;
    restart = e.restart or null;
    autostart = e.autostart or null;
    shutdownTimeout = e.shutdownTimeout or null;
    present = if (e.present or true) then null else false;
    keepNvram = e.keepNvram or null;
    keepTpm = e.keepTpm or null;
    live = e.live or null;
    name = e.name or null;
    cloudInit = if (e.cloudInit or null) != null then clean e.cloudInit else null;
    waitFor = e.waitFor or null;
  };

  # A volume's content is one of {file; sha256?}, {url; sha256} or
  # {clone = {pool; volume}}, with the options of the others null. A file
  # is written as an absolute path: nixvirt resolves a relative one
  # against the settings file, which is in the store, and toString keeps
  # a path literal the host's file rather than copying it into the store.
  content = c: clean (c // {
    file = if (c.file or null) != null then toString c.file else null;
    clone = if (c.clone or null) != null then clean c.clone else null;
  });

  volume = v: clean {
    name = v.name or null;
    present = v.present or true;
    definition = if (v.definition or null) != null then definitionOf "volume" v.definition else null;
    content = if (v.content or null) != null then content v.content else null;
    replace = if (v.replace or false) then true else null;
  };

  pool = p: entry "pool" p // (if (p.volumes or [ ]) == [ ] then { } else { volumes = map volume p.volumes; });

  # A secret (NixVirt has none) is named by its entry, and its value is
  # one of {file} or {env}; a file, like a volume's content, is the host's,
  # named by its absolute path and never copied into the store.
  secret = e: clean {
    name = e.name or null;
    definition = if (e.definition or null) != null then definitionOf "secret" e.definition else null;
    present = if (e.present or true) then null else false;
    value = if (e.value or null) != null then clean (e.value // {
      file = if (e.value.file or null) != null then toString e.value.file else null;
    }) else null;
  };

  kindList = f: l: if l == null then null else map f l;

  # readAtActivation tells a definition given as an absolute-path string
  # outside the store (which NixVirt's types.path allows): a file of the
  # host, which nixvirt apply reads at activation and the build, in its
  # sandbox, cannot.
  readAtActivation = d: builtins.isString d
    && builtins.substring 0 (builtins.stringLength builtins.storeDir + 1) d != builtins.storeDir + "/";
  buildVisible = e: !(readAtActivation (e.definition or null));
  visibleIn = kind: s:
    if s ? ${kind} then { ${kind} = builtins.filter buildVisible s.${kind}; } else { };
in
rec {
  inherit readAtActivation;

  # settingsFor turns one connection's options into its settings.
  settingsFor = c: clean {
    domains = kindList (entry "domain") (c.domains or null);
    networks = kindList (entry "network") (c.networks or null);
    pools = kindList pool (c.pools or null);
    secrets = kindList secret (c.secrets or null);
  };

  # buildCheckedSettingsFor is what of settingsFor the build can check
  # with nixvirt vet: entries whose definition is read at activation are
  # left out (nixvirt apply checks them then).
  buildCheckedSettingsFor = c:
    let
      s = settingsFor c;
      pools = map (p: if p ? volumes then p // { volumes = builtins.filter buildVisible p.volumes; } else p);
    in
    visibleIn "domains" s // visibleIn "networks" s // visibleIn "secrets" s
    // (if s ? pools then { pools = pools (builtins.filter buildVisible s.pools); } else { });
}
