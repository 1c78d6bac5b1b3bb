package pcap

import (
	"bufio"
	"encoding/binary"
	"io"
)

// EPB flags direction values (epb_flags bits 0-1).
const (
	DirUnknown  = 0
	DirInbound  = 1
	DirOutbound = 2
)

const optEPBFlags = 2 // epb_flags

// NgWriter writes a pcapng file (little endian, one section, one
// interface, microsecond timestamps) whose Enhanced Packet Blocks can say
// each packet's direction, which classic pcap cannot. It is not safe for
// concurrent use.
type NgWriter struct {
	bw   *bufio.Writer
	link LinkType
	buf  [40]byte
}

// NewNgWriter writes the section header and one interface description
// (named name when not empty) for the link type. Errors surface on
// WritePacket or Flush.
func NewNgWriter(w io.Writer, lt LinkType, name string) *NgWriter {
	wr := &NgWriter{bw: bufio.NewWriterSize(w, 64<<10), link: lt}
	le := binary.LittleEndian
	var shb [28]byte
	le.PutUint32(shb[0:], blockSHB)
	le.PutUint32(shb[4:], 28)
	le.PutUint32(shb[8:], bomMagic)
	le.PutUint16(shb[12:], 1)
	le.PutUint64(shb[16:], ^uint64(0)) // section length unknown
	le.PutUint32(shb[24:], 28)
	wr.bw.Write(shb[:])
	opt := []byte{}
	if name != "" && len(name) < 256 {
		o := make([]byte, 4+(len(name)+3)&^3)
		le.PutUint16(o[0:], 2) // if_name
		le.PutUint16(o[2:], uint16(len(name)))
		copy(o[4:], name)
		opt = append(append(opt, o...), 0, 0, 0, 0) // opt_endofopt
	}
	total := 20 + len(opt)
	idb := make([]byte, total)
	le.PutUint32(idb[0:], blockIDB)
	le.PutUint32(idb[4:], uint32(total))
	le.PutUint16(idb[8:], uint16(lt))
	le.PutUint32(idb[12:], Snaplen)
	copy(idb[16:], opt)
	le.PutUint32(idb[total-4:], uint32(total))
	wr.bw.Write(idb)
	return wr
}

// LinkType returns the interface's link type.
func (w *NgWriter) LinkType() LinkType { return w.link }

// WritePacket writes one Enhanced Packet Block: timestamp ts (Unix
// nanoseconds), direction dir (DirInbound, DirOutbound or DirUnknown),
// the concatenation of head and data as the packet (head may be nil:
// a link-layer header kept apart from the packet), cut at Snaplen; orig is
// the packet's length on the wire (head included).
func (w *NgWriter) WritePacket(ts int64, dir int, head, data []byte, orig int) error {
	caplen := min(len(head)+len(data), Snaplen)
	pad := (4 - caplen%4) % 4
	opts := 0
	if dir != DirUnknown {
		opts = 8 + 4 // epb_flags + opt_endofopt
	}
	total := 32 + caplen + pad + opts
	le := binary.LittleEndian
	us := uint64(ts / 1e3)
	b := w.buf[:28]
	le.PutUint32(b[0:], blockEPB)
	le.PutUint32(b[4:], uint32(total))
	le.PutUint32(b[8:], 0) // interface 0
	le.PutUint32(b[12:], uint32(us>>32))
	le.PutUint32(b[16:], uint32(us))
	le.PutUint32(b[20:], uint32(caplen))
	le.PutUint32(b[24:], uint32(max(orig, caplen)))
	w.bw.Write(b)
	h := head[:min(len(head), caplen)]
	w.bw.Write(h)
	w.bw.Write(data[:caplen-len(h)])
	var tail [4 + 12 + 4]byte
	t := tail[:pad]
	if opts > 0 {
		o := tail[pad : pad+opts]
		le.PutUint16(o[0:], optEPBFlags)
		le.PutUint16(o[2:], 4)
		le.PutUint32(o[4:], uint32(dir))
		t = tail[:pad+opts]
	}
	t = append(t, 0, 0, 0, 0)
	le.PutUint32(t[len(t)-4:], uint32(total))
	_, err := w.bw.Write(t)
	return err
}

// Flush writes buffered blocks to the underlying writer.
func (w *NgWriter) Flush() error { return w.bw.Flush() }
