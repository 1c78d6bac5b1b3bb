package pcap

import (
	"bufio"
	"encoding/binary"
	"io"
)

// Snaplen is the snapshot length Writer declares and truncates to.
const Snaplen = 65535

// Writer writes a classic pcap file with microsecond timestamps, in
// little-endian byte order, through a buffer. It is not safe for
// concurrent use.
type Writer struct {
	bw   *bufio.Writer
	link LinkType
	hdr  [16]byte
}

// NewWriter writes the file header to w for the given link type. Errors
// surface on WritePacket or Flush.
func NewWriter(w io.Writer, lt LinkType) *Writer {
	wr := &Writer{bw: bufio.NewWriterSize(w, 64<<10), link: lt}
	var h [24]byte
	le := binary.LittleEndian
	le.PutUint32(h[0:], magicMicro)
	le.PutUint16(h[4:], 2)
	le.PutUint16(h[6:], 4)
	le.PutUint32(h[16:], Snaplen)
	le.PutUint32(h[20:], uint32(lt))
	wr.bw.Write(h[:])
	return wr
}

// LinkType returns the link type written in the header.
func (w *Writer) LinkType() LinkType { return w.link }

// WritePacket writes one record with timestamp ts (Unix nanoseconds);
// data beyond Snaplen is cut, and the record keeps the original length.
func (w *Writer) WritePacket(ts int64, data []byte) error {
	sec, ns := ts/1e9, ts%1e9
	if ns < 0 {
		sec, ns = sec-1, ns+1e9
	}
	caplen := min(len(data), Snaplen)
	le := binary.LittleEndian
	le.PutUint32(w.hdr[0:], uint32(sec))
	le.PutUint32(w.hdr[4:], uint32(ns/1e3))
	le.PutUint32(w.hdr[8:], uint32(caplen))
	le.PutUint32(w.hdr[12:], uint32(len(data)))
	w.bw.Write(w.hdr[:])
	_, err := w.bw.Write(data[:caplen])
	return err
}

// Flush writes buffered records to the underlying writer.
func (w *Writer) Flush() error { return w.bw.Flush() }
