package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// parityCase is one call of a template, written once as JSON arguments and
// given to both NixVirt's Nix template and nixvirt's CUE template, with an
// optional override written in each language.
type parityCase struct {
	name     string
	template string // the CUE definition: #PC, #Q35, #Linux, #Windows or #Bridge
	args     string // JSON
	// cueOverride is unified with the template (T); nixOverride is a Nix
	// expression of the template's output t.
	cueOverride, nixOverride string
	// differs, when set, is why nixvirt's XML is not NixVirt's (the README
	// lists it); the test checks that it still is not.
	differs string
	// nixFails, when set, is why NixVirt cannot write XML for this call;
	// the test checks that its generator still fails and that nixvirt
	// exports the call.
	nixFails string
}

// nixTemplates are NixVirt's names for nixvirt's templates.
var nixTemplates = map[string]string{
	"#PC":      "lib.domain.templates.pc",
	"#Q35":     "lib.domain.templates.q35",
	"#Linux":   "lib.domain.templates.linux",
	"#Windows": "lib.domain.templates.windows",
	"#Bridge":  "lib.network.templates.bridge",
}

const (
	win = `"name": "win", "uuid": "a67f3ed6-fdad-462a-8c3b-d970db34d8da", "nvram_path": "/vms/win_VARS.fd"`
	vm  = `"name": "vm", "uuid": "2904419d-b283-4cfd-9f2c-7c3713ff809f"`
	net = `"uuid": "d2102492-5797-429b-aa31-96b1b0d6f8e8", "subnet_byte": 74`
	// everyDomainArg sets every argument the domain templates share.
	everyDomainArg = `"vcpu": {"count": 3, "placement": "static"}, "memory": {"count": 3, "unit": "GiB"},
		"storage_vol": "/vms/disk.qcow2", "backing_vol": "/vms/base.qcow2", "install_vol": "/iso/install.iso",
		"bridge_name": "br-lab", "net_iface_mac": "52:54:00:12:34:56", "virtio_drive": false, "virtio_net": true, "virtio_video": false`
)

func parityCases() []parityCase {
	cases := []parityCase{
		{name: "bridge/defaults", template: "#Bridge", args: `{` + net + `}`},
		{name: "bridge/all", template: "#Bridge", args: `{"name": "lab", "bridge_name": "virbr9", ` + net + `,
			"dhcp_hosts": [{"name": "a", "mac": "52:54:00:74:10:01", "ip": "192.168.74.11"}, {"ip": "192.168.74.12", "name": "b"}]}`},
		{name: "bridge/subnet-string", template: "#Bridge", args: `{"uuid": "d2102492-5797-429b-aa31-96b1b0d6f8e8", "subnet_byte": "75"}`},
		{name: "bridge/one-dhcp-host", template: "#Bridge", args: `{` + net + `, "dhcp_hosts": {"mac": "52:54:00:74:10:03", "ip": "192.168.74.13"}}`},
		{name: "bridge/override-range", template: "#Bridge", args: `{` + net + `}`,
			cueOverride: `{ip: dhcp: range: end: "192.168.74.100"}`,
			nixOverride: `t // { ip = t.ip // { dhcp = t.ip.dhcp // { range = t.ip.dhcp.range // { end = "192.168.74.100"; }; }; }; }`},
		{name: "bridge/override-forward", template: "#Bridge", args: `{` + net + `}`,
			cueOverride: `{forward: mode: "route"}`,
			nixOverride: `t // { forward = { mode = "route"; }; }`},
	}
	for _, tpl := range []string{"#PC", "#Q35", "#Linux", "#Windows"} {
		base := vm
		if tpl == "#Windows" {
			base = win
		}
		short := strings.ToLower(strings.TrimPrefix(tpl, "#"))
		cases = append(cases,
			parityCase{name: short + "/defaults", template: tpl, args: `{` + base + `}`},
			parityCase{name: short + "/all", template: tpl, args: `{` + base + `, ` + everyDomainArg + `}`},
			parityCase{name: short + "/virtio-video-null", template: tpl, args: `{` + base + `, "virtio_video": null}`},
			parityCase{name: short + "/virtio-drive", template: tpl, args: `{` + base + `, "storage_vol": "/vms/d.qcow2", "virtio_drive": true}`},
			parityCase{name: short + "/volumes-pool", template: tpl, args: `{` + base + `,
				"storage_vol": {"pool": "vms", "volume": "d.qcow2"}}`},
			parityCase{name: short + "/backing-store", template: tpl, args: `{` + base + `, "storage_vol": "/vms/d.qcow2",
				"backing_vol": {"type": "volume", "format": {"type": "qcow2"}, "source": {"pool": "base", "volume": "b.qcow2"}}}`},
			parityCase{name: short + "/override-vcpu", template: tpl, args: `{` + base + `}`,
				cueOverride: `{vcpu: count: 8, memory: count: 16}`,
				nixOverride: `t // { vcpu = { count = 8; }; memory = t.memory // { count = 16; }; }`},
			parityCase{name: short + "/override-mac", template: tpl, args: `{` + base + `}`,
				cueOverride: `{devices: interface: mac: address: "52:54:00:aa:bb:cc"}`,
				nixOverride: `t // { devices = t.devices // { interface = t.devices.interface // { mac = { address = "52:54:00:aa:bb:cc"; }; }; }; }`},
			parityCase{name: short + "/override-model", template: tpl, args: `{` + base + `}`,
				cueOverride: `{devices: interface: model: type: "e1000e"}`,
				nixOverride: `t // { devices = t.devices // { interface = t.devices.interface // { model = { type = "e1000e"; }; }; }; }`},
			parityCase{name: short + "/override-network", template: tpl, args: `{` + base + `}`,
				cueOverride: `{devices: interface: {type: "network", source: network: "default"}}`,
				nixOverride: `t // { devices = t.devices // { interface = { type = "network"; source = { network = "default"; }; }; }; }`},
			parityCase{name: short + "/override-listen", template: tpl, args: `{` + base + `}`,
				cueOverride: `{devices: graphics: listen: {type: "address", address: "0.0.0.0"}}`,
				nixOverride: `t // { devices = t.devices // { graphics = t.devices.graphics // { listen = { type = "address"; address = "0.0.0.0"; }; }; }; }`},
			parityCase{name: short + "/override-graphics", template: tpl, args: `{` + base + `}`,
				cueOverride: `{devices: graphics: {type: "vnc", port: -1}}`,
				nixOverride: `t // { devices = t.devices // { graphics = { type = "vnc"; port = -1; }; }; }`},
			parityCase{name: short + "/override-video", template: tpl, args: `{` + base + `}`,
				cueOverride: `{devices: video: model: {type: "qxl", heads: 2}}`,
				nixOverride: `t // { devices = t.devices // { video = { model = { type = "qxl"; heads = 2; }; }; }; }`},
			parityCase{name: short + "/override-sound-audio", template: tpl, args: `{` + base + `}`,
				cueOverride: `{devices: {sound: model: "ich6", audio: {id: 1, type: "none"}}}`,
				nixOverride: `t // { devices = t.devices // { sound = { model = "ich6"; }; audio = { id = 1; type = "none"; }; }; }`},
			parityCase{name: short + "/override-lists", template: tpl, args: `{` + base + `}`,
				cueOverride: `{devices: {input: [{type: "tablet", bus: "usb"}], redirdev: [], channel: []}, os: boot: [{dev: "hd"}], clock: timer: []}`,
				nixOverride: `t // { os = t.os // { boot = [ { dev = "hd"; } ]; }; clock = t.clock // { timer = [ ]; }; devices = t.devices // { input = [ { type = "tablet"; bus = "usb"; } ]; redirdev = [ ]; channel = [ ]; }; }`},
			parityCase{name: short + "/override-features", template: tpl, args: `{` + base + `}`,
				cueOverride: `{features: kvm: hidden: state: true, cpu: mode: "host-model", devices: emulator: "/usr/bin/kvm"}`,
				nixOverride: `t // { features = t.features // { kvm = { hidden = { state = true; }; }; }; cpu = { mode = "host-model"; }; devices = t.devices // { emulator = "/usr/bin/kvm"; }; }`},
		)
	}
	cases = append(cases,
		parityCase{name: "pc/install-file-source", template: "#PC", args: `{` + vm + `, "install_vol": {"file": "/iso/i.iso", "startupPolicy": "optional"}}`},
		parityCase{name: "pc/volume-mode", template: "#PC", args: `{` + vm + `, "storage_vol": {"pool": "vms", "volume": "d.qcow2", "mode": "host"}}`,
			differs: "NixVirt's generator drops a disk source's mode; nixvirt writes what the user wrote"},
		parityCase{name: "pc/memory-extra", template: "#PC", args: `{` + vm + `, "memory": {"count": 2, "unit": "GiB", "dumpCore": "off"}}`,
			differs: "NixVirt's generator drops memory's dumpCore; nixvirt writes what the user wrote"},
		parityCase{name: "linux/virtio-net-false", template: "#Linux", args: `{` + vm + `, "virtio_net": false}`},
		parityCase{name: "linux/override-rng", template: "#Linux", args: `{` + vm + `}`,
			cueOverride: `{devices: rng: backend: source: "/dev/random"}`,
			nixOverride: `t // { devices = t.devices // { rng = t.devices.rng // { backend = t.devices.rng.backend // { source = "/dev/random"; }; }; }; }`},
		parityCase{name: "windows/install-virtio", template: "#Windows", args: `{` + win + `, "install_virtio": true}`},
		parityCase{name: "windows/override-firmware", template: "#Windows", args: `{` + win + `}`,
			cueOverride: `{os: loader: path: "/fw/CODE.fd", features: hyperv: vendor_id: value: "nixvirt", clock: offset: "utc"}`,
			nixOverride: `t // { os = t.os // { loader = t.os.loader // { path = "/fw/CODE.fd"; }; }; clock = t.clock // { offset = "utc"; };
				features = t.features // { hyperv = t.features.hyperv // { vendor_id = { state = true; value = "nixvirt"; }; }; }; }`},
		parityCase{name: "windows/override-tpm", template: "#Windows", args: `{` + win + `}`,
			cueOverride: `{devices: tpm: {model: "tpm-tis", backend: {type: "emulator", version: "2.0"}}}`,
			nixOverride: `t // { devices = t.devices // { tpm = { model = "tpm-tis"; backend = { type = "emulator"; version = "2.0"; }; }; }; }`},
		parityCase{name: "windows/secure-boot", template: "#Windows", args: `{` + win + `, "secure_boot": true}`,
			differs: "secure_boot is nixvirt's own argument (a secure loader and SMM); NixVirt ignores it"},
		parityCase{name: "windows/install-pool", template: "#Windows", args: `{` + win + `, "install_vol": {"pool": "iso", "volume": "win.iso"}}`,
			nixFails: "NixVirt's Windows template takes only a path as install_vol"},
	)
	return cases
}

// TestTemplateParity gives each template call to NixVirt's vendored Nix
// template and to nixvirt's CUE template, with the same host paths, and
// compares the XML NixVirt's generator writes for the first with the XML
// nixvirt exports for the second (libvirtxml-normalised).
func TestTemplateParity(t *testing.T) {
	paths := fmt.Sprintf(`{emulator: %q, ovmf_code: %q, ovmf_vars: %q, virtio_win_iso: %q}`,
		nixvirtStandIns[0].ours+"/bin/qemu-system-x86_64",
		nixvirtStandIns[1].ours+"/FV/OVMF_CODE.ms.fd", nixvirtStandIns[1].ours+"/FV/OVMF_VARS.ms.fd",
		nixvirtStandIns[2].ours+"virtio-win.iso")
	for _, c := range parityCases() {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			kind := "domain"
			hostPaths := " & " + paths
			if c.template == "#Bridge" {
				kind, hostPaths = "network", ""
			}
			dir := t.TempDir()
			override := c.cueOverride
			if override == "" {
				override = "{}"
			}
			cue := fmt.Sprintf("package parity\n\nimport \"nixvirt.dev/nixvirt/templates\"\n\nlet T = templates.%s & {#args: %s%s}\nresult: T & %s\n",
				c.template, c.args, hostPaths, override)
			writeFile(t, filepath.Join(dir, "parity.cue"), cue)
			ours, failure := exportKind(t, dir, kind, "-e", "result", ".")
			if failure != "" {
				t.Fatalf("nixvirt's template:\n%s\n%s", cue, failure)
			}

			nixOverride := c.nixOverride
			if nixOverride == "" {
				nixOverride = "t"
			}
			nix := fmt.Sprintf("lib:\nlet t = %s (builtins.fromJSON ''%s'');\nin %s\n", nixTemplates[c.template], c.args, nixOverride)
			input := filepath.Join(dir, "input.nix")
			writeFile(t, input, nix)
			theirs, err := nixvirtXML(t, input, kind)
			if c.nixFails != "" {
				if err == nil {
					t.Errorf("NixVirt now writes XML for this (%s): remove nixFails", c.nixFails)
				}
				return
			}
			if err != nil {
				t.Fatalf("NixVirt's template:\n%s\n%v", nix, err)
			}
			same, diff := sameDocument(t, kind, theirs, ours)
			switch {
			case c.differs == "" && !same:
				t.Errorf("nixvirt's template differs from NixVirt's:\n%s", diff)
			case c.differs != "" && same:
				t.Errorf("listed as a difference (%s), but the XML is now NixVirt's", c.differs)
			}
		})
	}
}

// nixvirtXML is the XML NixVirt's own generator writes for input (a Nix
// file holding a function of NixVirt's lib).
func nixvirtXML(t *testing.T, input, kind string) (string, error) {
	t.Helper()
	file, err := evalNixVirtArgs(t, input, "--argstr", "xmlOf", kind)
	if err != nil {
		return "", err
	}
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var xml string
	if err := json.Unmarshal(data, &xml); err != nil {
		t.Fatalf("NixVirt's XML from %s: %v", input, err)
	}
	return xml, nil
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}
