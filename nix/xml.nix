# NixVirt's XML combinators (lib.xml), for free-form XML such as a
# domain's <metadata>: an element is a function from its indentation depth
# to its text, so elements nest and indent without a tree type.
#
#   with lib.xml; toText (elem "app:info" [ (attr "xmlns:app" "urn:x") ] [ (elem "v" [ ] "1") ])
#
# Pure builtins.
let
  inherit (builtins) concatStringsSep isList isNull isString map replaceStrings typeOf;

  escape = replaceStrings [ "&" "<" ">" "'" "\"" ] [ "&amp;" "&lt;" "&gt;" "&apos;" "&quot;" ];

  line = depth: text: concatStringsSep "" (builtins.genList (_: "  ") depth) + text + "\n";
in
rec {
  # none is no XML at all.
  none = _depth: "";

  # opt c x is x when c holds, and none otherwise.
  opt = cond: x: if cond then x else none;

  # many xs is the elements (or attributes) xs one after another.
  many = xs: depth: concatStringsSep "" (map (x: x depth) xs);

  # attr name value is an attribute, for elem's second argument.
  attr = name: value: _depth: " ${name}='${escape value}'";

  # elem name attrs body is an element; body is null or "" (an empty
  # element), a string (its text), or a list of elements.
  elem = name: attrs: body: depth:
    let
      open = "<" + name + many attrs depth;
      children = if isList body then many body (depth + 1) else "";
    in
    if isNull body || body == "" || (isList body && children == "") then line depth (open + "/>")
    else if isString body then line depth (open + ">" + escape body + "</" + name + ">")
    else if isList body then line depth (open + ">") + children + line depth ("</" + name + ">")
    else throw "lib.xml.elem ${name}: the body must be null, a string or a list of elements, not a ${typeOf body}";

  # toText x is the text of x at the outermost level.
  toText = x: x 0;
}
