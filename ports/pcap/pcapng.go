package pcap

import (
	"encoding/binary"
	"fmt"
	"io"
	"math/bits"
)

// pcapng block types and limits (draft-ietf-opsawg-pcapng).
const (
	blockSHB  = 0x0a0d0d0a // section header; the same in both byte orders
	blockIDB  = 1          // interface description
	blockSPB  = 3          // simple packet
	blockEPB  = 6          // enhanced packet
	bomMagic  = 0x1a2b3c4d
	maxBlock  = 16 << 20 // larger blocks are taken as corruption
	maxIfaces = 1024     // interfaces per section

	optEnd      = 0
	optTsresol  = 9
	optTsoffset = 14
)

// iface is one interface of the current section.
type iface struct {
	link  LinkType
	snap  uint32
	shift int    // binary resolution 2^-shift s; -1 for decimal
	mul   uint64 // decimal resolution: ns = ticks * mul / div
	div   uint64
	off   int64 // if_tsoffset, ns
}

// setRes applies an if_tsresol value.
func (f *iface) setRes(v byte) error {
	if v&0x80 != 0 {
		if v&0x7f > 63 {
			return fmt.Errorf("%w: if_tsresol 2^-%d", ErrFormat, v&0x7f)
		}
		f.shift = int(v & 0x7f)
		return nil
	}
	if v > 19 {
		return fmt.Errorf("%w: if_tsresol 10^-%d", ErrFormat, v)
	}
	f.shift, f.mul, f.div = -1, 1, 1
	for e := int(v); e < 9; e++ {
		f.mul *= 10
	}
	for e := int(v); e > 9; e-- {
		f.div *= 10
	}
	return nil
}

// time converts a timestamp in interface ticks to Unix nanoseconds.
func (f *iface) time(ticks uint64) int64 {
	var ns uint64
	if f.shift >= 0 {
		s := uint(f.shift)
		hi, lo := bits.Mul64(ticks&(1<<s-1), 1e9)
		ns = (ticks>>s)*1e9 + (lo>>s | hi<<(64-s))
	} else {
		ns = ticks * f.mul / f.div
	}
	return int64(ns) + f.off
}

// start reads blocks up to the first interface description, so the link
// type is known before the first packet.
func (r *Reader) start() error {
	for len(r.ifaces) == 0 {
		if _, _, _, err := r.block(nil); err != nil {
			if err == io.EOF {
				return nil
			}
			return err
		}
	}
	return nil
}

// block reads one block; ok reports a packet block, copied into dst.
func (r *Reader) block(dst []byte) (n int, rec Record, ok bool, err error) {
	h := r.tmp[:8]
	if err := r.read(h, true); err != nil {
		return 0, rec, false, err
	}
	if binary.LittleEndian.Uint32(h) == blockSHB {
		return 0, rec, false, r.shb(binary.LittleEndian.Uint32(h[4:]))
	}
	typ, total := r.bo.Uint32(h), r.bo.Uint32(h[4:])
	if total < 12 || total%4 != 0 || total > maxBlock {
		return 0, rec, false, fmt.Errorf("%w: block type %#x of length %d", ErrFormat, typ, total)
	}
	body := int(total) - 12
	switch typ {
	case blockIDB:
		err = r.idb(body)
	case blockEPB:
		n, rec, err = r.epb(dst, body)
		ok = true
	case blockSPB:
		n, rec, err = r.spb(dst, body)
		ok = true
	default:
		err = r.skip(body)
	}
	if err == nil {
		err = r.trailer(total)
	}
	if err != nil {
		return 0, Record{}, false, err
	}
	return n, rec, ok, nil
}

// shb reads a section header after its type; rawTotal is its length
// field as little-endian (the byte order is only known after the BOM).
func (r *Reader) shb(rawTotal uint32) error {
	p := r.tmp[8:24]
	if err := r.read(p, false); err != nil {
		return err
	}
	total := rawTotal
	switch {
	case binary.LittleEndian.Uint32(p) == bomMagic:
		r.bo = binary.LittleEndian
	case binary.BigEndian.Uint32(p) == bomMagic:
		r.bo = binary.BigEndian
		total = bits.ReverseBytes32(rawTotal)
	default:
		return fmt.Errorf("%w: section header byte-order magic %#x", ErrFormat, binary.BigEndian.Uint32(p))
	}
	if total < 28 || total%4 != 0 || total > maxBlock {
		return fmt.Errorf("%w: section header of length %d", ErrFormat, total)
	}
	if v := r.bo.Uint16(p[4:]); v != 1 {
		return fmt.Errorf("%w: pcapng version %d", ErrFormat, v)
	}
	r.ifaces = r.ifaces[:0]
	if err := r.skip(int(total) - 28); err != nil {
		return err
	}
	return r.trailer(total)
}

// idb reads an interface description body.
func (r *Reader) idb(body int) error {
	if body < 8 {
		return fmt.Errorf("%w: interface block of %d bytes", ErrFormat, body)
	}
	if len(r.ifaces) >= maxIfaces {
		return fmt.Errorf("%w: too many interfaces", ErrFormat)
	}
	p := r.tmp[8:16]
	if err := r.read(p, false); err != nil {
		return err
	}
	f := iface{link: LinkType(r.bo.Uint16(p)), snap: r.bo.Uint32(p[4:]), shift: -1, mul: 1000, div: 1}
	rest := body - 8
	for rest >= 4 {
		o := r.tmp[8:12]
		if err := r.read(o, false); err != nil {
			return err
		}
		code, olen := r.bo.Uint16(o), int(r.bo.Uint16(o[2:]))
		rest -= 4
		if code == optEnd {
			break
		}
		plen := (olen + 3) &^ 3
		if plen > rest {
			return fmt.Errorf("%w: interface option %d overruns its block", ErrFormat, code)
		}
		rest -= plen
		v := r.tmp[8 : 8+min(plen, 8)]
		switch {
		case code == optTsresol && olen == 1, code == optTsoffset && olen == 8:
			if err := r.read(v, false); err != nil {
				return err
			}
			if code == optTsoffset {
				f.off = int64(r.bo.Uint64(v)) * 1e9
			} else if err := f.setRes(v[0]); err != nil {
				return err
			}
		default:
			if err := r.skip(plen); err != nil {
				return err
			}
		}
	}
	r.ifaces = append(r.ifaces, f)
	return r.skip(rest)
}

// epb reads an enhanced packet body.
func (r *Reader) epb(dst []byte, body int) (int, Record, error) {
	if body < 20 {
		return 0, Record{}, fmt.Errorf("%w: packet block of %d bytes", ErrFormat, body)
	}
	p := r.tmp[8:28]
	if err := r.read(p, false); err != nil {
		return 0, Record{}, err
	}
	id, caplen := r.bo.Uint32(p), r.bo.Uint32(p[12:])
	if id >= uint32(len(r.ifaces)) {
		return 0, Record{}, fmt.Errorf("%w: packet on undeclared interface %d", ErrFormat, id)
	}
	if caplen > MaxRecord || 20+int(caplen) > body {
		return 0, Record{}, fmt.Errorf("%w: packet of %d bytes in a block of %d", ErrFormat, caplen, body)
	}
	f := &r.ifaces[id]
	rec := Record{
		Time:     f.time(uint64(r.bo.Uint32(p[4:]))<<32 | uint64(r.bo.Uint32(p[8:]))),
		CapLen:   int(caplen),
		OrigLen:  int(r.bo.Uint32(p[16:])),
		LinkType: f.link,
		Iface:    int(id),
	}
	n, err := r.data(dst, rec.CapLen, body-20-rec.CapLen)
	return n, rec, err
}

// spb reads a simple packet body (interface 0, no timestamp).
func (r *Reader) spb(dst []byte, body int) (int, Record, error) {
	if body < 4 || len(r.ifaces) == 0 {
		return 0, Record{}, fmt.Errorf("%w: simple packet block without interface", ErrFormat)
	}
	p := r.tmp[8:12]
	if err := r.read(p, false); err != nil {
		return 0, Record{}, err
	}
	f := &r.ifaces[0]
	orig := r.bo.Uint32(p)
	caplen := min(uint64(orig), uint64(body-4))
	if f.snap != 0 {
		caplen = min(caplen, uint64(f.snap))
	}
	if caplen > MaxRecord {
		return 0, Record{}, fmt.Errorf("%w: packet of %d bytes", ErrFormat, caplen)
	}
	rec := Record{CapLen: int(caplen), OrigLen: int(orig), LinkType: f.link}
	n, err := r.data(dst, rec.CapLen, body-4-rec.CapLen)
	return n, rec, err
}

// trailer checks the block's closing length field.
func (r *Reader) trailer(total uint32) error {
	p := r.tmp[28:32]
	if err := r.read(p, false); err != nil {
		return err
	}
	if got := r.bo.Uint32(p); got != total {
		return fmt.Errorf("%w: block length %d, trailer says %d", ErrFormat, total, got)
	}
	return nil
}
