package pcap

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"testing"
)

// readAll returns every record and packet of a file.
func readAll(t *testing.T, file []byte) ([]Record, [][]byte) {
	t.Helper()
	r, err := NewReader(bytes.NewReader(file))
	if err != nil {
		t.Fatalf("NewReader: %v", err)
	}
	var recs []Record
	var data [][]byte
	buf := make([]byte, MaxRecord)
	for {
		n, rec, err := r.Next(buf)
		if err == io.EOF {
			return recs, data
		}
		if err != nil {
			t.Fatalf("Next after %d records: %v", len(recs), err)
		}
		recs = append(recs, rec)
		data = append(data, bytes.Clone(buf[:n]))
	}
}

func TestWriterRoundTrip(t *testing.T) {
	for _, lt := range []LinkType{LinkTypeEthernet, LinkTypeRaw} {
		t.Run(lt.String(), func(t *testing.T) {
			in := []record{
				{ts: 1_700_000_000_123_456_000, data: frame(60, 1)},
				{ts: 1_700_000_001_000_001_000, data: frame(1514, 2)},
				{ts: 0, data: nil},
				{ts: 5_000_000, data: frame(70000, 3)}, // cut at Snaplen
			}
			var f bytes.Buffer
			w := NewWriter(&f, lt)
			for _, r := range in {
				if err := w.WritePacket(r.ts, r.data); err != nil {
					t.Fatal(err)
				}
			}
			if err := w.Flush(); err != nil {
				t.Fatal(err)
			}
			r, _ := NewReader(bytes.NewReader(f.Bytes()))
			if got, ok := r.LinkType(); !ok || got != lt {
				t.Fatalf("link type %v, want %v", got, lt)
			}
			recs, data := readAll(t, f.Bytes())
			if len(recs) != len(in) {
				t.Fatalf("%d records, want %d", len(recs), len(in))
			}
			for i, r := range in {
				want := r.data[:min(len(r.data), Snaplen)]
				if recs[i].Time != r.ts || recs[i].OrigLen != len(r.data) || !bytes.Equal(data[i], want) {
					t.Errorf("record %d: %+v, %d bytes", i, recs[i], len(data[i]))
				}
			}
		})
	}
}

func TestClassic(t *testing.T) {
	const ts = 1_700_000_000_123_456_789
	for _, tc := range []struct {
		name string
		bo   binary.AppendByteOrder
		nano bool
		want int64
	}{
		{"le-micro", binary.LittleEndian, false, ts - 789},
		{"be-micro", binary.BigEndian, false, ts - 789},
		{"le-nano", binary.LittleEndian, true, ts},
		{"be-nano", binary.BigEndian, true, ts},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// FCS bits above the link type must be ignored.
			file := classicFile(tc.bo, tc.nano, 1|1<<26|4<<28,
				record{ts: ts, data: frame(64, 9)},
				record{ts: ts + 1e9, data: frame(40, 7), orig: 1500})
			recs, data := readAll(t, file)
			if len(recs) != 2 {
				t.Fatalf("%d records", len(recs))
			}
			if recs[0].Time != tc.want || recs[1].Time != tc.want+1e9 {
				t.Errorf("times %d %d, want %d", recs[0].Time, recs[1].Time, tc.want)
			}
			if recs[0].LinkType != LinkTypeEthernet || !bytes.Equal(data[0], frame(64, 9)) {
				t.Errorf("record 0: %+v", recs[0])
			}
			if recs[1].CapLen != 40 || recs[1].OrigLen != 1500 || !bytes.Equal(data[1], frame(40, 7)) {
				t.Errorf("record 1: %+v", recs[1])
			}
		})
	}
}

func TestPcapng(t *testing.T) {
	const sec = 1_700_000_000
	for _, bo := range []binary.AppendByteOrder{binary.LittleEndian, binary.BigEndian} {
		t.Run(bo.String(), func(t *testing.T) {
			g := &ngFile{bo: bo}
			g.shb().
				block(0x0bad, []byte("unknown block, skipped")).
				idb(1, 0).                                                                     // 0: ethernet, µs
				idb(101, 65535, g.opt(2, []byte("tun0")), g.opt(9, []byte{9})).                // 1: raw, ns
				idb(228, 0, g.opt(9, []byte{0x80 | 20}), g.opt(14, bo.AppendUint64(nil, 10))). // 2: 2^-20 s, +10 s
				epb(0, sec*1e6+123456, record{data: frame(60, 1)}, g.opt(1, []byte("comment")), g.opt(0, nil)).
				epb(1, sec*1e9+123456789, record{data: frame(41, 2)}).
				epb(2, sec<<20|1<<19, record{data: frame(20, 3), orig: 1400}).
				spb(record{data: frame(61, 4)})
			// A second section in the other byte order starts afresh.
			other := binary.AppendByteOrder(binary.BigEndian)
			if bo == binary.BigEndian {
				other = binary.LittleEndian
			}
			g2 := &ngFile{bo: other}
			g2.shb().idb(229, 0, g2.opt(9, []byte{3})).epb(0, sec*1e3+7, record{data: frame(48, 5)})
			file := append(g.b, g2.b...)

			recs, data := readAll(t, file)
			want := []struct {
				t    int64
				lt   LinkType
				ifc  int
				d    []byte
				orig int
			}{
				{sec*1e9 + 123456000, LinkTypeEthernet, 0, frame(60, 1), 60},
				{sec*1e9 + 123456789, LinkTypeRaw, 1, frame(41, 2), 41},
				{(sec+10)*1e9 + 5e8, LinkTypeIPv4, 2, frame(20, 3), 1400},
				{0, LinkTypeEthernet, 0, frame(61, 4), 61},
				{sec*1e9 + 7e6, LinkTypeIPv6, 0, frame(48, 5), 48},
			}
			if len(recs) != len(want) {
				t.Fatalf("%d records, want %d", len(recs), len(want))
			}
			for i, w := range want {
				r := recs[i]
				if r.Time != w.t || r.LinkType != w.lt || r.Iface != w.ifc || r.OrigLen != w.orig || !bytes.Equal(data[i], w.d) {
					t.Errorf("record %d: %+v, %d bytes; want %+v", i, r, len(data[i]), w)
				}
			}
		})
	}
}

func TestShortDst(t *testing.T) {
	file := classicFile(binary.LittleEndian, false, 1, record{data: frame(100, 1)}, record{data: frame(10, 2)})
	r, err := NewReader(bytes.NewReader(file))
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 30)
	n, rec, err := r.Next(buf)
	if err != nil || n != 30 || rec.CapLen != 100 || !bytes.Equal(buf[:n], frame(30, 1)) {
		t.Fatalf("short dst: n=%d rec=%+v err=%v", n, rec, err)
	}
	n, rec, err = r.Next(buf)
	if err != nil || n != 10 || !bytes.Equal(buf[:n], frame(10, 2)) {
		t.Fatalf("record after short read: n=%d rec=%+v err=%v", n, rec, err)
	}
	if _, _, err := r.Next(buf); err != io.EOF {
		t.Fatalf("at end: %v", err)
	}
}

func TestEmptyPcapng(t *testing.T) {
	g := &ngFile{bo: binary.LittleEndian}
	r, err := NewReader(bytes.NewReader(g.shb().b))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := r.LinkType(); ok {
		t.Fatal("link type of a file without interfaces")
	}
	if _, _, err := r.Next(nil); err != io.EOF {
		t.Fatalf("Next: %v", err)
	}
}

func TestReaderErrors(t *testing.T) {
	le := binary.LittleEndian
	good := classicFile(le, false, 1, record{data: frame(10, 1)})
	big := classicFile(le, false, 1)
	big = le.AppendUint32(big, 0)
	big = le.AppendUint32(big, 0)
	big = le.AppendUint32(big, MaxRecord+1)
	big = le.AppendUint32(big, MaxRecord+1)
	ng := func(f func(g *ngFile)) []byte {
		g := &ngFile{bo: le}
		g.shb()
		f(g)
		return g.b
	}
	badTrailer := ng(func(g *ngFile) { g.idb(1, 0) })
	badTrailer[len(badTrailer)-1] ^= 1

	for _, tc := range []struct {
		name string
		file []byte
	}{
		{"empty", nil},
		{"bad magic", []byte("not a capture file at all")},
		{"short header", good[:20]},
		{"truncated record header", good[:30]},
		{"truncated data", good[:len(good)-1]},
		{"huge record", big},
		{"bad version", append(le.AppendUint32(nil, magicMicro), make([]byte, 20)...)},
		{"bad bom", []byte{0x0a, 0x0d, 0x0d, 0x0a, 28, 0, 0, 0, 1, 2, 3, 4, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 28, 0, 0, 0}},
		{"packet before interface", ng(func(g *ngFile) { g.epb(0, 0, record{data: frame(8, 1)}) })},
		{"undeclared interface", ng(func(g *ngFile) { g.idb(1, 0).epb(1, 0, record{data: frame(8, 1)}) })},
		{"bad trailer", badTrailer},
		{"bad tsresol", ng(func(g *ngFile) { g.idb(1, 0, g.opt(9, []byte{20})) })},
		{"short block", ng(func(g *ngFile) { g.b = append(g.b, 1, 0, 0, 0, 8, 0, 0, 0) })},
		{"caplen beyond block", ng(func(g *ngFile) {
			g.idb(1, 0).epb(0, 0, record{data: frame(8, 1)})
			le.PutUint32(g.b[len(g.b)-4-8-4-4:], 200) // caplen: before orig len, data, trailer
		})},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := NewReader(bytes.NewReader(tc.file))
			for i := 0; err == nil && i < 10; i++ {
				_, _, err = r.Next(make([]byte, 64))
			}
			if !errors.Is(err, ErrFormat) {
				t.Fatalf("err = %v, want ErrFormat", err)
			}
		})
	}
}
