package spd

import (
	"encoding/binary"
	"testing"
)

func v4pkt(proto uint8, frag uint16, l4 []byte) []byte {
	b := make([]byte, 20+len(l4))
	b[0] = 0x45
	binary.BigEndian.PutUint16(b[2:], uint16(len(b)))
	binary.BigEndian.PutUint16(b[6:], frag)
	b[8], b[9] = 64, proto
	copy(b[12:], []byte{192, 0, 2, 1, 198, 51, 100, 2})
	copy(b[20:], l4)
	return b
}

func v6pkt(next uint8, ext []byte, l4 []byte) []byte {
	b := make([]byte, 40+len(ext)+len(l4))
	b[0] = 0x60
	binary.BigEndian.PutUint16(b[4:], uint16(len(ext)+len(l4)))
	b[6], b[7] = next, 64
	b[8], b[23] = 0xfe, 1
	b[9] = 0x80
	b[24], b[25], b[39] = 0xff, 0x02, 2
	copy(b[40:], ext)
	copy(b[40+len(ext):], l4)
	return b
}

func TestKeyFromPacket(t *testing.T) {
	udp := []byte{0x11, 0x94, 0x11, 0x94, 0, 8, 0, 0} // 4500 -> 4500
	tests := []struct {
		name  string
		pkt   []byte
		proto uint8
		off   int
		want  Key
		ok    bool
	}{
		{"v4 udp", v4pkt(17, 0, udp), 17, 20,
			Key{Src: [16]byte{192, 0, 2, 1}, Dst: [16]byte{198, 51, 100, 2}, Proto: 17, SrcPort: 4500, DstPort: 4500}, true},
		{"v4 first fragment keeps ports", v4pkt(17, 0x2000, udp), 17, 20,
			Key{Src: [16]byte{192, 0, 2, 1}, Dst: [16]byte{198, 51, 100, 2}, Proto: 17, SrcPort: 4500, DstPort: 4500}, true},
		{"v4 non-first fragment", v4pkt(17, 0x0010, udp), 17, 20,
			Key{Src: [16]byte{192, 0, 2, 1}, Dst: [16]byte{198, 51, 100, 2}, Proto: 17, Opaque: true}, true},
		{"v4 icmp echo", v4pkt(1, 0, []byte{8, 0, 0, 0, 0, 0, 0, 0}), 1, 20,
			Key{Src: [16]byte{192, 0, 2, 1}, Dst: [16]byte{198, 51, 100, 2}, Proto: 1, SrcPort: 8}, true},
		{"v4 esp has no ports", v4pkt(50, 0, make([]byte, 16)), 50, 20,
			Key{Src: [16]byte{192, 0, 2, 1}, Dst: [16]byte{198, 51, 100, 2}, Proto: 50, Opaque: true}, true},
		{"v4 truncated udp", v4pkt(17, 0, udp[:3]), 17, 20,
			Key{Src: [16]byte{192, 0, 2, 1}, Dst: [16]byte{198, 51, 100, 2}, Proto: 17, Opaque: true}, true},
		{"v6 neighbour solicitation", v6pkt(58, nil, []byte{135, 0, 0, 0, 0, 0, 0, 0}), 58, 40,
			Key{Src: [16]byte{0xfe, 0x80, 15: 1}, Dst: [16]byte{0xff, 0x02, 15: 2}, V6: true, Proto: 58, SrcPort: 135}, true},
		{"v6 udp after first fragment", v6pkt(44, []byte{17, 0, 0, 1, 0, 0, 0, 1}, udp), 17, 48,
			Key{Src: [16]byte{0xfe, 0x80, 15: 1}, Dst: [16]byte{0xff, 0x02, 15: 2}, V6: true, Proto: 17, SrcPort: 4500, DstPort: 4500}, true},
		{"v6 non-first fragment", v6pkt(44, []byte{17, 0, 0, 0x10, 0, 0, 0, 1}, udp), 17, 48,
			Key{Src: [16]byte{0xfe, 0x80, 15: 1}, Dst: [16]byte{0xff, 0x02, 15: 2}, V6: true, Proto: 17, Opaque: true}, true},
		{"v6 mobility header", v6pkt(135, nil, []byte{59, 0, 5, 0, 0, 0, 0, 0}), 135, 40,
			Key{Src: [16]byte{0xfe, 0x80, 15: 1}, Dst: [16]byte{0xff, 0x02, 15: 2}, V6: true, Proto: 135, SrcPort: 5}, true},
		// Offset 0: unknown (a packet the router made); the key finds it.
		{"v4 icmp, offset unknown", v4pkt(1, 0, []byte{3, 4, 0, 0, 0, 0, 0, 0}), 0, 0,
			Key{Src: [16]byte{192, 0, 2, 1}, Dst: [16]byte{198, 51, 100, 2}, Proto: 1, SrcPort: 3, DstPort: 4}, true},
		{"v6 icmp6 after fragment header, offset unknown", v6pkt(44, []byte{58, 0, 0, 1, 0, 0, 0, 1}, []byte{2, 0, 0, 0}), 0, 0,
			Key{Src: [16]byte{0xfe, 0x80, 15: 1}, Dst: [16]byte{0xff, 0x02, 15: 2}, V6: true, Proto: 58, SrcPort: 2}, true},
		{"not ip", []byte{0x20, 0, 0}, 0, 0, Key{}, false},
		{"empty", nil, 0, 0, Key{}, false},
	}
	for _, tt := range tests {
		got, ok := KeyFromPacket(tt.pkt, tt.proto, tt.off)
		if ok != tt.ok || got != tt.want {
			t.Errorf("%s: got %+v %v, want %+v %v", tt.name, got, ok, tt.want, tt.ok)
		}
	}
	// The NS key matches `spdadd ::/0 ::/0 icmp6 135,0 -P in none;`.
	s := NewStore()
	mustAdd(t, s, Policy{Dir: DirIn, Selector: sel("::/0", "::/0", 58, port(135), port(0)), Action: ActionNone})
	k, _ := KeyFromPacket(tests[6].pkt, 58, 40)
	if s.Lookup(DirIn, &k) == nil {
		t.Fatal("neighbour solicitation not matched")
	}
}
