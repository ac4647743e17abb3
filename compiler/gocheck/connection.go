package gocheck

import (
	"regexp"
	"strings"
)

var unsafeFileChars = regexp.MustCompile(`[^A-Za-z0-9._-]`)

// ConnectionFileName is a connection URI as one file name: every
// character other than letters, digits, '.', '_' and '-' becomes '_', and
// a name of only dots (never a configuration's, which vet refuses) has
// them replaced too, so that it is never "." or "..". The state directory
// and export --out name a connection's files by it.
func ConnectionFileName(uri string) string {
	d := unsafeFileChars.ReplaceAllString(uri, "_")
	if strings.Trim(d, ".") == "" {
		d = strings.ReplaceAll(d, ".", "_")
	}
	return d
}
