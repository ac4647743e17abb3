package gocheck

import "strings"

// BadName says why an object name is refused, or "" when it is not: the
// rule of schemas.#ObjectName, checked again here for the names that the
// schema cannot see (a list entry's definition, an XML file's <name>),
// because export --out writes files named after them.
func BadName(name string) string {
	switch {
	case name == "":
		return "libvirt needs a name"
	case name == "." || name == "..":
		return "it names a directory, where export --out writes a file"
	case strings.Contains(name, "/"):
		return "libvirt refuses '/' in names"
	case strings.Contains(name, "\n"):
		return "libvirt refuses newlines in names"
	}
	return ""
}
