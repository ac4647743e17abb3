//go:build !cgo

package stdout

// wasClosed cannot be known without cgo: Go's runtime has put /dev/null on
// a closed stdout before any Go code runs.
const wasClosed = false
