package apply

import (
	"libvirt.org/go/libvirt"

	"nixvirt.dev/nixvirt/compiler"
	"nixvirt.dev/nixvirt/provision/volume"
)

// The libvirt connection fills and grows volumes (volumeFiller) with
// provision/volume, and rescans pools (poolRefresher); each call counts
// as a write. It also reads a running pool's definition (poolRunner).

func (h *libvirtHost) volumeByName(pool, name string) (*libvirt.StorageVol, error) {
	p, err := h.conn.LookupStoragePoolByName(pool)
	if err != nil {
		return nil, err
	}
	defer p.Free()
	return p.LookupStorageVolByName(name)
}

func (h *libvirtHost) UploadVolume(pool, name, path string) error {
	h.writes.Add(1)
	v, err := h.volumeByName(pool, name)
	if err != nil {
		return err
	}
	defer v.Free()
	_, err = volume.Upload(h.conn, v, path)
	return err
}

func (h *libvirtHost) CloneVolume(pool, xml string, from compiler.VolumeRef) error {
	h.writes.Add(1)
	src, err := h.volumeByName(from.Pool, from.Volume)
	if err != nil {
		return err
	}
	defer src.Free()
	p, err := h.conn.LookupStoragePoolByName(pool)
	if err != nil {
		return err
	}
	defer p.Free()
	v, err := volume.CloneFrom(p, xml, src)
	if err != nil {
		return err
	}
	return v.Free()
}

func (h *libvirtHost) GrowVolume(pool, name string, capacity uint64) error {
	h.writes.Add(1)
	v, err := h.volumeByName(pool, name)
	if err != nil {
		return err
	}
	defer v.Free()
	_, err = volume.Grow(v, capacity)
	return err
}

func (h *libvirtHost) RefreshPool(pool string) error {
	h.writes.Add(1)
	p, err := h.conn.LookupStoragePoolByName(pool)
	if err != nil {
		return err
	}
	defer p.Free()
	return p.Refresh(0)
}

func (h *libvirtHost) RunningPoolXML(uuid string) (string, error) {
	p, err := h.conn.LookupStoragePoolByUUIDString(uuid)
	if err != nil {
		return "", err
	}
	defer p.Free()
	return p.GetXMLDesc(0)
}
