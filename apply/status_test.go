package apply

import (
	"testing"

	"nixvirt.dev/nixvirt/compiler"
)

func TestStatusOfConfiguredAndOwnedObjects(t *testing.T) {
	th := newTestHost(t)
	th.apply(`
	networks: lab: {definition: {bridge: name: "virbr-nvt2", ip: {address: "10.211.8.1", netmask: "255.255.255.0"}}, active: true}
	domains: vm: {
		definition: {type: "test", memory: {count: 64, unit: "MiB"}, os: type: "hvm"
			devices: interface: {type: "network", source: network: "lab"}}
		active: true
	}`)
	got, err := Status(th.host, th.st, []ObjectKey{{Name: "manual"}, {Kind: compiler.KindDomain, Name: "gone"}}, true, "")
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]ObjectStatus{}
	for _, s := range got {
		seen[string(s.Kind)+"/"+s.Name] = s
	}
	if s := seen["domain/vm"]; !s.Active || len(s.Interfaces) != 1 || len(s.Interfaces[0].Addresses) == 0 {
		t.Errorf("vm: %+v", s)
	}
	if s := seen["network/lab"]; !s.Active {
		t.Errorf("lab: %+v", s)
	}
	if s, ok := seen["domain/manual"]; !ok || !s.Defined {
		t.Errorf("a named object nixvirt does not own: %+v", s)
	}
	if s, ok := seen["domain/gone"]; !ok || s.Defined {
		t.Errorf("a named object that does not exist: %+v", s)
	}
	if _, ok := seen["network/manualnet"]; ok {
		t.Errorf("an object neither named nor owned is shown")
	}
}
