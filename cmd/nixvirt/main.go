// Command nixvirt declares libvirt virtual machines, networks, storage
// pools and volumes in CUE, checks them, compiles them to libvirt XML and
// reconciles hosts to match.
package main

import "os"

func main() { os.Exit(Main()) }
