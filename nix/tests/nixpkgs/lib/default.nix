# nixpkgs' lib, vendored (see testdata/nixpkgs-lib/README.md).
import ../../../../testdata/nixpkgs-lib/lib
