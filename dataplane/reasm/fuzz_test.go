package reasm

import (
	"bytes"
	"encoding/binary"
	"testing"

	"github.com/fastipsec/fastipsec/dataplane/hdr"
	"github.com/fastipsec/fastipsec/dataplane/pkt"
)

// FuzzAdd feeds arbitrary fragment sequences, cut from two known datagrams
// (IPv4 with options, IPv6 with a hop-by-hop header) at fuzzer-chosen
// offsets, lengths, flags and identifications, sometimes corrupted, with
// time passing. The Table must never panic, never exceed its bounds,
// never leak or double-free a buffer, and only return valid datagrams
// whose payload, when nothing was corrupted, is a prefix of the original.
func FuzzAdd(f *testing.F) {
	f.Add([]byte{0, 0, 0, 100, 2, 0, 100, 100, 0, 0, 200, 40})
	f.Add([]byte{1, 1, 0, 60, 3, 1, 60, 60, 1, 1, 120, 60})
	f.Add([]byte{2, 0, 0, 16, 2, 0, 0, 16, 5, 3, 9, 0xff, 0, 0, 16, 16})
	f.Add([]byte{6, 200, 0, 0, 0, 2, 0, 8, 6, 255, 255, 255, 7, 0, 0, 0})
	f.Add([]byte{3, 0, 0, 255, 3, 0, 255, 255, 1, 0, 0, 0, 4, 0, 0, 0})
	r := newRand(99)
	base4 := dgram4(r, 2600, []byte{148, 4, 0, 0, 7, 7, 4, 0, 0, 0, 0, 0})
	base6 := dgram6(r, 2600, ext6{hdr.ProtoHopByHop, 8})
	f.Fuzz(func(t *testing.T, data []byte) {
		e := newEnvN(t, Config{MaxPackets: 4, MaxFrags: 8, MaxBytes: 12 * pkt.DefaultSize,
			MaxSize: 2800, LargeBufs: 2, Timeout: 1000}, 64)
		var last []byte
		corrupt := false
		for len(data) >= 4 {
			op, a, b, c := data[0], data[1], data[2], data[3]
			data = data[4:]
			var p []byte
			switch op % 8 {
			case 0, 1, 2, 3, 4:
				// A fragment: family, identification, offset, length, M.
				v6 := op&1 != 0
				more := op&2 != 0
				id := uint32(a & 3)
				off := 8 * int(binary.BigEndian.Uint16([]byte{b, c})>>7&0x1ff)
				n := 8*int(c&0x3f) + int(a>>6)*int(op>>7) // sometimes not a multiple of 8
				if v6 {
					total := len(base6.p) - base6.unf
					off = min(off, total)
					n = min(n, total-off)
					p = piece6(base6, id, off, off+n, more, op&4 != 0 && off > 0)
				} else {
					total := len(base4) - hdr.IPv4(base4).HeaderLen()
					off = min(off, total)
					n = min(n, total-off)
					p = piece4(base4, off, off+n, more)
					binary.BigEndian.PutUint16(p[4:], uint16(id))
					hdr.IPv4(p).UpdateChecksum()
				}
			case 5:
				// Corrupt the last fragment and send it again.
				if len(last) == 0 {
					continue
				}
				p = append([]byte(nil), last...)
				p[int(a)%len(p)] ^= b
				if c&1 != 0 {
					p = p[:int(c)%len(p)]
				}
				corrupt = true
			case 6:
				e.now += int64(a) * 8
				if b&1 != 0 {
					e.tab.Expire(e.now, e.drop)
				}
				continue
			case 7:
				if last == nil {
					continue
				}
				p = last // duplicate
			}
			last = p
			in := e.buf(p)
			out := e.tab.Add(in, e.now, e.drop)
			e.bounds()
			if out != nil {
				// A packet passed through (not a fragment, or an atomic
				// one) is only checked when nothing was corrupted.
				if out != in || !corrupt {
					checkOut(t, e, out.Bytes(), base4, base6, corrupt && out != in)
				}
				e.cache.Put(out)
			}
		}
		e.finish()
	})
}

// checkOut checks a datagram returned by Add; corrupt says some fragment
// was corrupted, so only the headers' consistency is checked.
func checkOut(t *testing.T, e *env, out, base4 []byte, base6 v6, corrupt bool) {
	if len(out) > e.tab.Config().MaxSize || len(out) == 0 {
		t.Fatalf("returned %d bytes", len(out))
	}
	switch out[0] >> 4 {
	case 4:
		ip := hdr.IPv4(out)
		if !ip.IsValid(len(out)) || ip.TotalLen() != len(out) {
			t.Fatalf("invalid IPv4 returned: %x", out[:min(len(out), 40)])
		}
		if ip.IsFragment() || !ip.ChecksumValid() {
			t.Fatalf("bad IPv4 header returned: %x", out[:ip.HeaderLen()])
		}
		if corrupt {
			return
		}
		hl := hdr.IPv4(base4).HeaderLen()
		if ip.HeaderLen() != hl || !bytes.Equal(out[hl:], base4[hl:len(out)]) {
			t.Fatal("IPv4 payload is not the original's")
		}
	case 6:
		ip := hdr.IPv6(out)
		if !ip.IsValid(len(out)) || hdr.IPv6Len+ip.PayloadLen() != len(out) {
			t.Fatalf("invalid IPv6 returned: %x", out[:min(len(out), 48)])
		}
		if IsFragment(out) {
			t.Fatal("IPv6 fragment returned")
		}
		if corrupt {
			return
		}
		var unf int
		if out[6] == hdr.ProtoHopByHop {
			unf = base6.unf
		} else {
			unf = hdr.IPv6Len // a bare first fragment
		}
		if !bytes.Equal(out[unf:], base6.p[base6.unf:base6.unf+len(out)-unf]) {
			t.Fatal("IPv6 payload is not the original's")
		}
	default:
		t.Fatalf("version %d returned", out[0]>>4)
	}
}
