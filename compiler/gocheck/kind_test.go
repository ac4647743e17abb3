package gocheck

import (
	"reflect"
	"testing"
)

// TestKindTable checks the orders that apply relies on.
func TestKindTable(t *testing.T) {
	if got, want := Kinds, []Kind{KindNetwork, KindPool, KindVolume, KindSecret, KindDomain}; !reflect.DeepEqual(got, want) {
		t.Errorf("Kinds = %v, want %v", got, want)
	}
	if got, want := StopOrder, []Kind{KindDomain, KindNetwork, KindPool, KindSecret}; !reflect.DeepEqual(got, want) {
		t.Errorf("StopOrder = %v, want %v", got, want)
	}
	for _, k := range Kinds {
		if r, ok := KindOfRoot(k.Info().Root); !ok || r != k {
			t.Errorf("KindOfRoot(%q) = %v", k.Info().Root, r)
		}
		if NewDocument(k).Unmarshal("<"+k.Info().Root+"/>") != nil {
			t.Errorf("%s: libvirtxml type does not read <%s/>", k, k.Info().Root)
		}
	}
}

// TestBadName is the rule for names the schema cannot see.
func TestBadName(t *testing.T) {
	for name, bad := range map[string]bool{
		"": true, ".": true, "..": true, "a/b": true, "/": true, "a\nb": true,
		"web": false, "web 2.0 (test)": false, "...": false, ".hidden": false, "a.qcow2": false,
	} {
		if why := BadName(name); (why != "") != bad {
			t.Errorf("BadName(%q) = %q, want refused=%v", name, why, bad)
		}
	}
}
