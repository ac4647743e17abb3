package gocheck

// The settings of a configuration's entries and connections, decoded once
// with the schema's defaults filled in; later stages never read CUE
// values. The Go checker decodes those of plain JSON entries (fastpath.go),
// package compiler the rest.

// Entry is an object's entry in #Config, decoded once with the schema's
// defaults filled in; later stages never read CUE values.
type Entry struct {
	// Present: false deletes the object if nixvirt defined it.
	Present bool
	// Active: true starts, false stops, nil leaves the object as it is.
	Active *bool
	// Restart: true always, false never, nil when the definition changed.
	Restart *bool
	// Autostart sets libvirt's flag; nil leaves it.
	Autostart *bool
	// ShutdownTimeout is the seconds of ACPI shutdown before a forced
	// stop: the entry's, else its connection's.
	ShutdownTimeout int
	// KeepNvram and KeepTPM: deleting the domain keeps its NVRAM and TPM
	// state.
	KeepNvram, KeepTPM bool
	// Content is a volume's declared content, nil for none; Replace lets
	// apply recreate a volume whose recorded content differs.
	Content *Content
	Replace bool
	// CloudInit is a domain's seed, WaitFor what apply waits for after
	// starting it; nil for none.
	CloudInit *CloudInit
	WaitFor   *WaitFor
	// Live: a change libvirt can make to the running domain or network is
	// made to it and to its definition together; false treats every
	// change as one that needs a restart.
	Live bool
	// SecretValue says where a secret's value comes from; nil for none.
	SecretValue *SecretValue
}

// Connection is one connection of a configuration.
type Connection struct {
	URI string
	// Managed are the kinds the connection lists (not absent, not null):
	// only those are pruned.
	Managed []Kind
	// ShutdownTimeout is the default of its domain entries.
	ShutdownTimeout int
}

// Content is what a volume entry declares it holds: exactly one of File,
// URL and Clone.
type Content struct {
	// File is an absolute path (a relative one is resolved against the
	// file that names it); SHA256 is its hex digest when declared.
	File string
	// URL is downloaded; SHA256 or SHA512 is of the bytes the server
	// sends.
	URL            string
	SHA256, SHA512 string
	// Clone names the volume it is a copy of.
	Clone *VolumeRef
}

// SecretValue says where a secret's value comes from: exactly one of
// File (an absolute path; a relative one is resolved against the file that
// names it) and Env (an environment variable).
type SecretValue struct{ File, Env string }

// VolumeRef names a volume of a pool on the same connection.
type VolumeRef struct{ Pool, Volume string }

// CloudInit is a domain's NoCloud seed. A text is a string or, when the
// configuration gives a struct, a *yaml.Node in the configuration's key
// order.
type CloudInit struct {
	Pool                              string
	UserData, MetaData, NetworkConfig any
}

// WaitFor is what apply waits for after starting a domain.
type WaitFor struct {
	Address bool
	// Timeout is in seconds.
	Timeout int
}
