{ ... }:
{
  name = "empty";
}
