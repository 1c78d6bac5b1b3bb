package hdr

import (
	"bytes"
	"testing"
)

func TestESP(t *testing.T) {
	e := ESP(make([]byte, ESPLen+16))
	e.Set(0xdeadbeef, 0x01020304)
	if !e.IsValid(len(e)) || e.SPI() != 0xdeadbeef || e.Seq() != 0x01020304 {
		t.Fatalf("ESP % x", []byte(e))
	}
	if !bytes.Equal(e[:8], []byte{0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4}) {
		t.Fatalf("wire % x", []byte(e[:8]))
	}
	if e.IsValid(ESPLen-1) || ESP(e[:7]).IsValid(ESPLen) {
		t.Fatal("short ESP valid")
	}
}

func TestAH(t *testing.T) {
	a := AH(make([]byte, 24+8))
	a.Set(ProtoTCP, 24, 0x100, 7) // 12 fixed + 12-byte ICV (HMAC-SHA1-96): payload len 4
	if a[1] != 4 || a.Len() != 24 || a.NextHeader() != ProtoTCP || a.SPI() != 0x100 || a.Seq() != 7 {
		t.Fatalf("AH % x", []byte(a))
	}
	if a[2] != 0 || a[3] != 0 {
		t.Fatal("reserved not zero")
	}
	for i := AHMinLen; i < 24; i++ {
		a[i] = byte(i)
	}
	if !a.IsValid(24) || !bytes.Equal(a.ICV(), a[12:24]) || len(a.ICV()) != 12 {
		t.Fatalf("ICV % x", a.ICV())
	}
	tests := []struct {
		name   string
		plen   byte
		n, len int
		want   bool
	}{
		{"exact", 4, 24, 32, true},
		{"n larger", 4, 32, 32, true},
		{"no ICV", 1, 12, 32, true},
		{"Len() > n", 4, 20, 32, false},
		{"Len() > n by 4", 5, 24, 32, false},
		{"Len() 8 < 12", 0, 24, 32, false},
		{"max length past n", 255, 32, 32, false},
		{"n < 12", 1, 11, 32, false},
		{"n beyond slice", 4, 24, 20, false},
	}
	for _, tc := range tests {
		b := append(AH(nil), a...)[:tc.len]
		b[1] = tc.plen
		if got := b.IsValid(tc.n); got != tc.want {
			t.Errorf("%s: IsValid(%d) = %v, want %v (Len %d)", tc.name, tc.n, got, tc.want, b.Len())
		}
	}
	// AH for IPv6 with a 16-byte ICV: 28 bytes is not a multiple of 8, 32 is.
	a.Set(ProtoUDP, 32, 1, 2)
	if a.Len() != 32 || a[1] != 6 {
		t.Fatalf("Len %d plen %d", a.Len(), a[1])
	}
}

func TestIPComp(t *testing.T) {
	c := IPComp(make([]byte, IPCompLen))
	c[1] = 0xff
	c.Set(ProtoIPIP, 0x0002) // DEFLATE CPI
	if !c.IsValid(len(c)) || c.NextHeader() != ProtoIPIP || c.Flags() != 0 || c.CPI() != 2 {
		t.Fatalf("IPComp % x", []byte(c))
	}
	if c.IsValid(3) || IPComp(c[:3]).IsValid(4) {
		t.Fatal("short IPComp valid")
	}
}
