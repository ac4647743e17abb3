package apply

import (
	"fmt"
	"testing"
	"time"

	"nixvirt.dev/nixvirt/compiler"
)

// A pruned domain is given the shutdown timeout its entry had, as nixvirt
// recorded it, not the connection's: the entry is gone, but its owner
// chose how long the guest may take to shut down. The record follows a
// timeout changed without a new definition; without a record (a lost
// state directory) the connection's timeout applies.
func TestPrunedDomainStopsWithItsEntrysTimeout(t *testing.T) {
	const vm = `domains: vm: {
		definition: {type: "test", uuid: "44444444-2222-4333-8444-555555555555", memory: {count: 64, unit: "MiB"}, os: type: "hvm"}
		active: true
		shutdownTimeout: %d
	}`
	const uuid = "44444444-2222-4333-8444-555555555555"
	const without = "shutdownTimeout: 60\ndomains: {}"
	prune := func(th *testHost) time.Duration {
		t.Helper()
		stops := stopTimeouts{keepOpen{th.host}, map[string]time.Duration{}}
		res := Apply(t.Context(), th.wanted(without), func(string) (Host, error) { return stops, nil }, Options{Prune: true, State: th.st}, func(Outcome) {})
		if len(res.Failed) > 0 || res.Destroyed != 1 {
			t.Fatalf("prune: %+v", res)
		}
		return stops.got[uuid]
	}

	th := newTestHost(t)
	th.apply(fmt.Sprintf(vm, 5))
	if got := prune(th); got != 5*time.Second {
		t.Errorf("pruned with %v, want the entry's 5s", got)
	}

	// The timeout changes, the definition does not: the record follows.
	th = newTestHost(t)
	th.apply(fmt.Sprintf(vm, 5))
	th.apply(fmt.Sprintf(vm, 9))
	if got := prune(th); got != 9*time.Second {
		t.Errorf("pruned with %v, want the entry's last 9s", got)
	}

	// No record: the connection's timeout.
	th = newTestHost(t)
	th.apply(fmt.Sprintf(vm, 5))
	th.st = OpenState(t.TempDir())
	if got := prune(th); got != 60*time.Second {
		t.Errorf("pruned without a record with %v, want the connection's 60s", got)
	}

	// A record of another definition (its hash is not the mark's) says
	// nothing of this one's entry.
	th = newTestHost(t)
	th.apply(fmt.Sprintf(vm, 5))
	three := 3
	if err := th.st.setDefined(th.uri, compiler.KindDomain, uuid, definedRecord{Hash: "another", Stored: "x", ShutdownTimeout: &three}); err != nil {
		t.Fatal(err)
	}
	if got := prune(th); got != 60*time.Second {
		t.Errorf("pruned with another definition's record with %v, want the connection's 60s", got)
	}
}
