{ ... }:
{
  name = "My Main Drive";
  capacity = { count = 27; unit = "GB"; };
}
