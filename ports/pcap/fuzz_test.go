package pcap

import (
	"bytes"
	"encoding/binary"
	"testing"
)

// FuzzReader feeds arbitrary bytes to the classic pcap and pcapng parsers:
// they must return records or an error, never panic or over-read dst.
func FuzzReader(f *testing.F) {
	le, be := binary.LittleEndian, binary.BigEndian
	f.Add(classicFile(le, false, 1, record{ts: 1e9, data: frame(60, 1)}, record{data: frame(20, 2), orig: 80}))
	f.Add(classicFile(be, true, 101, record{ts: 5, data: frame(40, 3)}))
	for _, bo := range []binary.AppendByteOrder{le, be} {
		g := &ngFile{bo: bo}
		g.shb().block(0x0bad, []byte{1, 2, 3}).
			idb(1, 0, g.opt(9, []byte{9}), g.opt(14, bo.AppendUint64(nil, 3))).
			idb(101, 64, g.opt(9, []byte{0x80 | 10})).
			epb(0, 1<<40, record{data: frame(60, 4)}, g.opt(1, []byte("c")), g.opt(0, nil)).
			epb(1, 99, record{data: frame(30, 5)}).
			spb(record{data: frame(100, 6)})
		f.Add(g.b)
	}
	f.Fuzz(func(t *testing.T, file []byte) {
		r, err := NewReader(bytes.NewReader(file))
		if err != nil {
			return
		}
		r.LinkType()
		dst := make([]byte, 128)
		for range 1000 {
			n, rec, err := r.Next(dst)
			if err != nil {
				return
			}
			if n < 0 || n > len(dst) || n > rec.CapLen || rec.CapLen > MaxRecord || (n < rec.CapLen && n != len(dst)) {
				t.Fatalf("n=%d rec=%+v", n, rec)
			}
		}
	})
}
