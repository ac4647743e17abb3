// Package cpuset writes sets of host CPUs in libvirt's cpuset syntax. It
// stands apart, without libvirt, so that the front (package rpcread) and
// package live write a host's CPUs alike: a memo compares them as text.
package cpuset

import (
	"strconv"
	"strings"
)

// Format writes a map of host CPUs in libvirt's cpuset syntax, as libvirt
// writes one: ranges and single CPUs, in order ("0-3,6").
func Format(cpus map[int]bool) string {
	highest := -1
	for n, on := range cpus {
		if on {
			highest = max(highest, n)
		}
	}
	var parts []string
	for n := 0; n <= highest; n++ {
		if !cpus[n] {
			continue
		}
		first := n
		for n < highest && cpus[n+1] {
			n++
		}
		if first == n {
			parts = append(parts, strconv.Itoa(n))
		} else {
			parts = append(parts, strconv.Itoa(first)+"-"+strconv.Itoa(n))
		}
	}
	return strings.Join(parts, ",")
}
