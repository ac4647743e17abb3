package apply

import (
	"bytes"
	"reflect"
	"strings"
	"testing"
	"time"

	"libvirt.org/go/libvirt"
)

func TestCollectAddressesSkipsLinkLocalAndMatchesMACInAnyCase(t *testing.T) {
	out, seen := map[string][]string{}, map[string]bool{}
	collectAddresses(out, seen, []libvirt.DomainInterface{
		{Hwaddr: "52:54:00:AB:CD:EF", Addrs: []libvirt.DomainIPAddress{{Addr: "fe80::1"}, {Addr: "169.254.3.4"}, {Addr: "10.211.0.5"}}},
		{Hwaddr: "00:00:00:00:00:00", Addrs: []libvirt.DomainIPAddress{{Addr: "127.0.0.1"}}},
	})
	collectAddresses(out, seen, []libvirt.DomainInterface{
		{Hwaddr: "52:54:00:ab:cd:ef", Addrs: []libvirt.DomainIPAddress{{Addr: "10.211.0.5"}, {Addr: "fd00::5"}}},
	})
	want := map[string][]string{"52:54:00:ab:cd:ef": {"10.211.0.5", "fd00::5"}}
	if !reflect.DeepEqual(out, want) {
		t.Fatalf("got %v, want %v", out, want)
	}
}

type noAddresses struct{ calls *int }

func (n noAddresses) Addresses(string) (map[string][]string, error) {
	if n.calls != nil {
		*n.calls++
	}
	return map[string][]string{}, nil
}

// fakeClock makes waitForAddresses' clock one that moves only when it
// sleeps.
func fakeClock(t *testing.T) *time.Duration {
	t.Helper()
	var slept time.Duration
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	now = func() time.Time { return start.Add(slept) }
	sleep = func(d time.Duration) { slept += d }
	t.Cleanup(func() { now, sleep = time.Now, time.Sleep })
	return &slept
}

func TestWaitForAddressesGivesUpWithinItsTimeout(t *testing.T) {
	slept := fakeClock(t)
	calls := 0
	_, err := waitForAddresses(noAddresses{&calls}, "u", []string{"52:54:00:00:00:01"}, 700*time.Millisecond, 500*time.Millisecond)
	if err == nil || !strings.Contains(err.Error(), "no address within 700ms on interface 52:54:00:00:00:01") {
		t.Fatalf("err = %v", err)
	}
	// Asked at 0, 500 ms and 700 ms: the last sleep is cut to the deadline.
	if *slept != 700*time.Millisecond || calls != 3 {
		t.Fatalf("gave up after %s and %d reads, want 700ms and 3", *slept, calls)
	}
}

func TestWaitForAddressOnTheTestDriver(t *testing.T) {
	th := newTestHost(t)
	cfg := `
	// The test driver makes up a lease in the network's range, and
	// crashes on a network without one.
	networks: lab: {definition: {bridge: name: "virbr-nvt1", ip: {address: "10.211.7.1", netmask: "255.255.255.0"}}, active: true}
	domains: vm: {
		definition: {type: "test", memory: {count: 64, unit: "MiB"}, os: type: "hvm"
			devices: interface: {type: "network", source: network: "lab"}}
		active: true
		waitFor: timeout: 5
	}`
	p := th.plan(cfg)
	if got := actions(p); !strings.Contains(got, "domain/vm:start domain/vm:wait-address") {
		t.Fatalf("plan: %s", got)
	}
	var text bytes.Buffer
	RenderText(&text, p)
	if !strings.Contains(text.String(), `… domain "vm": apply will wait up to 5s for an address on every interface`) {
		t.Fatalf("plan:\n%s", text.String())
	}
	res, lines := th.apply(cfg)
	if len(res.Addresses) != 1 || len(res.Addresses[0].Interfaces) != 1 || len(res.Addresses[0].Interfaces[0].Addresses) == 0 {
		t.Fatalf("addresses: %+v\n%s", res.Addresses, strings.Join(lines, "\n"))
	}
	if !strings.Contains(strings.Join(lines, "\n"), "domain/vm created, started, addresses 52:54:00:") {
		t.Fatalf("apply said:\n%s", strings.Join(lines, "\n"))
	}
	var js bytes.Buffer
	RenderResultJSON(&js, res)
	if !strings.Contains(js.String(), `"addresses": [`) || !strings.Contains(js.String(), `"mac": "52:54:00:`) {
		t.Fatalf("json:\n%s", js.String())
	}
	// Running already: nothing to start, nothing to wait for.
	if got := actions(th.plan(cfg)); got != "" {
		t.Fatalf("second plan: %s", got)
	}
}
