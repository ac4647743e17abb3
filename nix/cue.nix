# The CUE source of a definition, for `nixvirt export`. Pure builtins.
let
  # JSON is CUE: values are written with builtins.toJSON.
  withoutTemplate = def: builtins.removeAttrs def [ "__nixvirt" ];
in
{
  source = def:
    if def ? __nixvirt then ''
      package definition

      import "nixvirt.dev/nixvirt/templates"

      definition: templates.${def.__nixvirt.template} & {#args: ${builtins.toJSON def.__nixvirt.args}} & ${builtins.toJSON (withoutTemplate def)}
    '' else ''
      package definition

      definition: ${builtins.toJSON def}
    '';
}
