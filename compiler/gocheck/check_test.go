package gocheck

import (
	"reflect"
	"regexp"
	"testing"
)

// TestEnumeration: the patterns read as words match what their regular
// expressions match, and the others are left to regexp.
func TestEnumeration(t *testing.T) {
	for re, words := range map[string][]string{
		"^(?:kvm|qemu|x86_64|armv7-l)$": {"kvm", "qemu", "x86_64", "armv7-l"},
		"^(?:yes)$":                     {"yes"},
		"^(?:a.b|c)$":                   nil,
		"^(?:a|(b|c))$":                 nil,
		"^(?:a|)$":                      nil,
		"^(?:a|b)":                      nil,
		"(?:a|b)$":                      nil,
		"^(?:[a-z]+)$":                  nil,
		"^(?:a|b)$|^c$":                 nil,
	} {
		got, ok := enumeration(re)
		if ok != (words != nil) || !reflect.DeepEqual(got, words) {
			t.Errorf("enumeration(%q) = %q, %v; want %q", re, got, ok, words)
		}
		for _, s := range []string{"kvm", "qemu", "x86_64", "armv7-l", "yes", "a", "b", "c", "a.b", "axb", "", "kvmx", "xkvm", "KVM"} {
			if want := regexp.MustCompile(re).MatchString(s); pattern(re).MatchString(s) != want {
				t.Errorf("%q on %q: want %v", re, s, want)
			}
		}
	}
}
