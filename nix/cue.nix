# The CUE source of a definition, for `nixvirt export`. Pure builtins.
#
# A definition is read as NixVirt reads it: an attribute whose value is
# null is absent; a path is its string, so `/var/lib/vms/p.qcow2` names
# the host's file and is never copied into the store; a derivation is its
# store path; `metadata` may be NixVirt's list of lib.xml elements.
let
  xml = import ./xml.nix;
  inherit (builtins) attrNames filter isAttrs isFunction isList isPath listToAttrs map toJSON;

  # plain turns a Nix value into JSON's values; where names the value
  # in an error.
  plain = where: v:
    if isPath v then toString v
    else if isAttrs v && v ? outPath then "${v}"
    else if isAttrs v then
      listToAttrs (map (name: { inherit name; value = plainField where name v.${name}; })
        (filter (name: v.${name} != null) (attrNames v)))
    else if isList v then
      let present = filter (x: x != null) v;
      in builtins.genList (i: plain "${where}.${toString i}" (builtins.elemAt present i)) (builtins.length present)
    else if isFunction v then throw "nixvirt: the definition's ${where} is a function, not a value"
    else v;

  plainField = where: name: value:
    # Indented as NixVirt writes <metadata>, at the depth of a child of
    # the document's root, so a NixVirt-defined domain keeps its bytes.
    if where == "" && name == "metadata" && isList value then "\n" + xml.many value 2 + "  "
    else plain (if where == "" then name else "${where}.${name}") value;
in
{
  inherit plain;

  # source is the CUE package holding a definition as `definition`.
  source = def: ''
    package definition

    definition: ${toJSON (plain "" def)}
  '';
}
