//go:build !linux

package noopmemo

// StatOf cannot tell a file's change time here: records hash every file.
func StatOf(string) (FileStat, bool) { return FileStat{}, false }
