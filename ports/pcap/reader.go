package pcap

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// MaxRecord is the largest packet record Reader accepts; a larger one is
// reported as a corrupt file, so a bad length never makes it allocate or
// skip without bound.
const MaxRecord = 256 << 10

// ErrFormat is wrapped by every error about the file's contents.
var ErrFormat = errors.New("pcap: bad file")

const (
	magicMicro = 0xa1b2c3d4
	magicNano  = 0xa1b23c4d
)

// Record describes one packet returned by Reader.Next.
type Record struct {
	Time     int64    // capture time, Unix nanoseconds (0 if the file has none)
	CapLen   int      // bytes stored in the file
	OrigLen  int      // bytes on the wire
	LinkType LinkType // link type of the capturing interface
	Iface    int      // pcapng interface index; 0 for classic pcap
}

// Reader reads packets from a classic pcap or a pcapng file. It is not
// safe for concurrent use.
type Reader struct {
	br *bufio.Reader
	bo binary.ByteOrder
	ng bool // pcapng; else classic

	// classic pcap
	link  LinkType
	tsMul int64 // 1000 for microsecond files, 1 for nanosecond

	// pcapng
	ifaces []iface
	tmp    [32]byte
}

// NewReader reads the file header from r (and, for pcapng, the blocks up
// to the first interface description) and detects the format.
func NewReader(r io.Reader) (*Reader, error) {
	rd := &Reader{br: bufio.NewReaderSize(r, 64<<10)}
	m, err := rd.br.Peek(4)
	if err != nil {
		return nil, fmt.Errorf("%w: no file header: %w", ErrFormat, err)
	}
	if binary.LittleEndian.Uint32(m) == blockSHB {
		rd.ng = true
		return rd, rd.start()
	}
	h := rd.tmp[:24]
	if _, err := io.ReadFull(rd.br, h); err != nil {
		return nil, fmt.Errorf("%w: short file header: %w", ErrFormat, err)
	}
	switch {
	case binary.LittleEndian.Uint32(h) == magicMicro:
		rd.bo, rd.tsMul = binary.LittleEndian, 1000
	case binary.BigEndian.Uint32(h) == magicMicro:
		rd.bo, rd.tsMul = binary.BigEndian, 1000
	case binary.LittleEndian.Uint32(h) == magicNano:
		rd.bo, rd.tsMul = binary.LittleEndian, 1
	case binary.BigEndian.Uint32(h) == magicNano:
		rd.bo, rd.tsMul = binary.BigEndian, 1
	default:
		return nil, fmt.Errorf("%w: unknown magic %#08x", ErrFormat, binary.BigEndian.Uint32(h))
	}
	if v := rd.bo.Uint16(h[4:]); v != 2 {
		return nil, fmt.Errorf("%w: pcap version %d", ErrFormat, v)
	}
	// The upper bits of the link type field carry FCS information.
	rd.link = LinkType(rd.bo.Uint32(h[20:]) & 0x03ffffff)
	return rd, nil
}

// LinkType returns the link type of the file (pcapng: of its first
// interface); ok is false for a pcapng file with no interface.
func (r *Reader) LinkType() (lt LinkType, ok bool) {
	if !r.ng {
		return r.link, true
	}
	if len(r.ifaces) == 0 {
		return 0, false
	}
	return r.ifaces[0].link, true
}

// Next reads the next packet into dst and returns how many bytes it
// copied. When the packet is longer than dst, the first len(dst) bytes are
// copied and rec.CapLen tells the full length. At the end of the file it
// returns io.EOF; any other error means the file is corrupt or unreadable.
func (r *Reader) Next(dst []byte) (n int, rec Record, err error) {
	if r.ng {
		for {
			n, rec, ok, err := r.block(dst)
			if err != nil || ok {
				return n, rec, err
			}
		}
	}
	h := r.tmp[:16]
	if err := r.read(h, true); err != nil {
		return 0, rec, err
	}
	caplen := r.bo.Uint32(h[8:])
	if caplen > MaxRecord {
		return 0, rec, fmt.Errorf("%w: record of %d bytes", ErrFormat, caplen)
	}
	rec = Record{
		Time:     int64(r.bo.Uint32(h[0:]))*1e9 + int64(r.bo.Uint32(h[4:]))*r.tsMul,
		CapLen:   int(caplen),
		OrigLen:  int(r.bo.Uint32(h[12:])),
		LinkType: r.link,
	}
	n, err = r.data(dst, rec.CapLen, 0)
	return n, rec, err
}

// read fills p; at a clean end of file (nothing read and eofOK) it returns
// io.EOF, otherwise a short read is a truncated file.
func (r *Reader) read(p []byte, eofOK bool) error {
	_, err := io.ReadFull(r.br, p)
	switch {
	case err == nil:
		return nil
	case err == io.EOF && eofOK:
		return io.EOF
	case err == io.EOF || err == io.ErrUnexpectedEOF:
		return fmt.Errorf("%w: truncated", ErrFormat)
	}
	return err
}

// data copies the first len(dst) bytes of a caplen-byte packet into dst
// and skips the rest plus skip more bytes.
func (r *Reader) data(dst []byte, caplen, skip int) (int, error) {
	n := min(len(dst), caplen)
	if err := r.read(dst[:n], false); err != nil {
		return 0, err
	}
	return n, r.skip(caplen - n + skip)
}

// skip discards n bytes.
func (r *Reader) skip(n int) error {
	if _, err := r.br.Discard(n); err != nil {
		if err == io.EOF {
			return fmt.Errorf("%w: truncated", ErrFormat)
		}
		return err
	}
	return nil
}
