package pcap

import "encoding/binary"

// Helpers that build capture files field by field, independently of
// Writer, so the Reader is checked against the formats, not against itself.

type record struct {
	ts   int64 // Unix ns
	data []byte
	orig int // 0: len(data)
}

func (r record) origLen() int {
	if r.orig == 0 {
		return len(r.data)
	}
	return r.orig
}

// classicFile builds a classic pcap file.
func classicFile(bo binary.AppendByteOrder, nano bool, link uint32, recs ...record) []byte {
	magic := uint32(magicMicro)
	if nano {
		magic = magicNano
	}
	b := bo.AppendUint32(nil, magic)
	b = bo.AppendUint16(b, 2)
	b = bo.AppendUint16(b, 4)
	b = bo.AppendUint32(b, 0) // thiszone
	b = bo.AppendUint32(b, 0) // sigfigs
	b = bo.AppendUint32(b, 65535)
	b = bo.AppendUint32(b, link)
	for _, r := range recs {
		frac := r.ts % 1e9
		if !nano {
			frac /= 1e3
		}
		b = bo.AppendUint32(b, uint32(r.ts/1e9))
		b = bo.AppendUint32(b, uint32(frac))
		b = bo.AppendUint32(b, uint32(len(r.data)))
		b = bo.AppendUint32(b, uint32(r.origLen()))
		b = append(b, r.data...)
	}
	return b
}

// ngFile builds a pcapng file block by block.
type ngFile struct {
	bo binary.AppendByteOrder
	b  []byte
}

func pad4(b []byte) []byte {
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	return b
}

func (g *ngFile) block(typ uint32, body []byte) *ngFile {
	body = pad4(body)
	total := uint32(12 + len(body))
	g.b = g.bo.AppendUint32(g.b, typ)
	g.b = g.bo.AppendUint32(g.b, total)
	g.b = append(g.b, body...)
	g.b = g.bo.AppendUint32(g.b, total)
	return g
}

func (g *ngFile) opt(code uint16, val []byte) []byte {
	o := g.bo.AppendUint16(nil, code)
	o = g.bo.AppendUint16(o, uint16(len(val)))
	return pad4(append(o, val...))
}

func (g *ngFile) shb() *ngFile {
	b := g.bo.AppendUint32(nil, bomMagic)
	b = g.bo.AppendUint16(b, 1)
	b = g.bo.AppendUint16(b, 0)
	b = g.bo.AppendUint64(b, ^uint64(0))                 // section length unknown
	b = append(b, g.opt(4, []byte("fastipsec test"))...) // shb_userappl
	b = append(b, g.opt(0, nil)...)
	return g.block(blockSHB, b)
}

func (g *ngFile) idb(link uint16, snap uint32, opts ...[]byte) *ngFile {
	b := g.bo.AppendUint16(nil, link)
	b = g.bo.AppendUint16(b, 0)
	b = g.bo.AppendUint32(b, snap)
	for _, o := range opts {
		b = append(b, o...)
	}
	if len(opts) > 0 {
		b = append(b, g.opt(0, nil)...)
	}
	return g.block(blockIDB, b)
}

func (g *ngFile) epb(iface uint32, ticks uint64, r record, opts ...[]byte) *ngFile {
	b := g.bo.AppendUint32(nil, iface)
	b = g.bo.AppendUint32(b, uint32(ticks>>32))
	b = g.bo.AppendUint32(b, uint32(ticks))
	b = g.bo.AppendUint32(b, uint32(len(r.data)))
	b = g.bo.AppendUint32(b, uint32(r.origLen()))
	b = pad4(append(b, r.data...))
	for _, o := range opts {
		b = append(b, o...)
	}
	return g.block(blockEPB, b)
}

func (g *ngFile) spb(r record) *ngFile {
	b := g.bo.AppendUint32(nil, uint32(r.origLen()))
	return g.block(blockSPB, append(b, r.data...))
}

// frame returns n bytes of a recognisable pattern.
func frame(n int, seed byte) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = seed + byte(i)
	}
	return b
}
