// Package nocloud builds cloud-init NoCloud seeds: an ISO 9660 image
// labelled "cidata" holding user-data, meta-data and, when given,
// network-config. The image is written in-process (provision/iso9660) and
// is a pure function of the texts, so Digest can be compared with the one
// recorded for the seed volume to know whether it must be rebuilt.
package nocloud

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"

	"go.yaml.in/yaml/v3"

	"nixvirt.dev/nixvirt/provision/iso9660"
)

// VolumeLabel is the label cloud-init's NoCloud data source (and
// cloudbase-init's) looks for.
const VolumeLabel = "cidata"

// VolumeName is the name of the volume that holds domain's seed.
func VolumeName(domain string) string { return domain + "-cidata.iso" }

// Seed is what the guest will read.
type Seed struct {
	// Hostname is the default for meta-data's local-hostname and
	// instance-id (usually the domain's name).
	Hostname string
	// UserData is the user-data file. A string is written as it is (a
	// cloud-config, a script or a MIME multipart); any other value (a
	// map, a struct, a *yaml.Node to keep the order of keys) is written
	// as YAML after a "#cloud-config" line.
	UserData any
	// MetaData is the meta-data file: nil, a YAML string or structured
	// data as for UserData. instance-id and local-hostname are added when
	// it lacks them.
	MetaData any
	// NetworkConfig is the network-config file: nil for none, else a
	// YAML string or structured data.
	NetworkConfig any
}

// File is one file of the seed, under the name cloud-init reads.
type File = iso9660.File

// Files returns the seed's files as they will be written, in a fixed
// order: user-data, meta-data, network-config when given.
func (s Seed) Files() ([]File, error) {
	if s.UserData == nil {
		return nil, fmt.Errorf("cloudInit.userData is required")
	}
	user, err := text(s.UserData, "#cloud-config\n")
	if err != nil {
		return nil, fmt.Errorf("cloudInit.userData: %w", err)
	}
	meta, err := s.metaData()
	if err != nil {
		return nil, fmt.Errorf("cloudInit.metaData: %w", err)
	}
	files := []File{{Name: "user-data", Data: []byte(user)}, {Name: "meta-data", Data: []byte(meta)}}
	if s.NetworkConfig != nil {
		network, err := text(s.NetworkConfig, "")
		if err != nil {
			return nil, fmt.Errorf("cloudInit.networkConfig: %w", err)
		}
		files = append(files, File{Name: "network-config", Data: []byte(network)})
	}
	return files, nil
}

// Digest identifies the seed's files: "sha256:" and the hex digest of
// each file's name, length and content in Files' order. The image is a
// function of these files, so equal digests mean equal images.
func (s Seed) Digest() (string, error) {
	files, err := s.Files()
	if err != nil {
		return "", err
	}
	return digest(files), nil
}

func digest(files []File) string {
	h := sha256.New()
	fmt.Fprintf(h, "nixvirt nocloud seed 1\n")
	for _, f := range files {
		fmt.Fprintf(h, "%s\n%d\n", f.Name, len(f.Data))
		h.Write(f.Data)
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil))
}

// Image is a built seed.
type Image struct {
	// ISO is the ISO 9660 image.
	ISO []byte
	// Digest is Seed.Digest of the seed it was built from.
	Digest string
}

// Build writes the seed's image.
func (s Seed) Build() (Image, error) {
	files, err := s.Files()
	if err != nil {
		return Image{}, err
	}
	iso, err := iso9660.Write(iso9660.Image{VolumeID: VolumeLabel, Files: files})
	if err != nil {
		return Image{}, err
	}
	return Image{ISO: iso, Digest: digest(files)}, nil
}

// text renders a file's value: a string as it is, anything else as YAML
// after header.
func text(v any, header string) (_ string, err error) {
	if s, ok := v.(string); ok {
		return s, nil
	}
	// yaml.Marshal panics on values it cannot represent (functions,
	// channels) instead of returning an error.
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("cannot be written as YAML: %v", r)
		}
	}()
	b, err := yaml.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("cannot be written as YAML: %w", err)
	}
	return header + string(b), nil
}

// metaData renders meta-data with instance-id and local-hostname
// filled in when absent. A text keeps its own formatting; the missing
// keys are appended to it.
func (s Seed) metaData() (string, error) {
	meta := ""
	if s.MetaData != nil {
		var err error
		if meta, err = text(s.MetaData, ""); err != nil {
			return "", err
		}
	}
	var keys map[string]any
	if err := yaml.Unmarshal([]byte(meta), &keys); err != nil {
		return "", fmt.Errorf("is not a YAML mapping: %w", err)
	}
	var missing []string
	for _, key := range []string{"instance-id", "local-hostname"} {
		if _, ok := keys[key]; !ok {
			missing = append(missing, key)
		}
	}
	if len(missing) == 0 {
		return meta, nil
	}
	if s.Hostname == "" {
		return "", fmt.Errorf("lacks %s and no host name was given to fill it in", strings.Join(missing, " and "))
	}
	if meta != "" && !strings.HasSuffix(meta, "\n") {
		meta += "\n"
	}
	for _, key := range missing {
		line, err := yaml.Marshal(map[string]string{key: s.Hostname})
		if err != nil {
			return "", err
		}
		meta += string(line)
	}
	return meta, nil
}
