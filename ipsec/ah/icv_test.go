package ah

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/binary"
	"net/netip"
	"testing"

	"github.com/fastipsec/fastipsec/dataplane/hdr"
	"github.com/fastipsec/fastipsec/dataplane/stats"
	"github.com/fastipsec/fastipsec/ipsec/alg"
)

// The tests here recompute the ICV from the packet on the wire with the
// standard library, zeroing the mutable fields by hand at fixed offsets
// (RFC 4302 §3.3.3.1, Appendix A), independent of zeroMutable.

// TestICVv4Options: IPv4 transport with NOP, a loose source route (its
// final hop stands in for the destination) and a router alert.
func TestICVv4Options(t *testing.T) {
	hop, final := [4]byte{203, 0, 113, 7}, [4]byte{198, 51, 100, 99}
	opts := []byte{hdr.IPv4OptNOP, hdr.IPv4OptLSRR, 11, 4}
	opts = append(opts, hop[:]...)
	opts = append(opts, final[:]...)
	opts = append(opts, 148, 4, 0, 0) // router alert: immutable
	clear := udp4("192.0.2.1", "198.51.100.2", 0xb8, 100, opts)
	s := suiteByName(t, "hmac-sha1")
	out, in := pair(t, s, saOpts{spi: 0x4242})
	p := NewProcessor(alg.NewGoEngine())
	b := buf(t, clear)
	defer b.Free()
	if r := encap1(t, p, b, out, defaults); r != stats.ReasonNone {
		t.Fatal(r)
	}
	w := b.Bytes()
	if !bytes.Equal(w[:4], []byte{0x49, 0xb8, byte((len(clear) + 24) >> 8), byte(len(clear) + 24)}) || w[9] != hdr.ProtoAH {
		t.Fatalf("outer header %x", w[:20])
	}
	ah := w[36:60]
	if ah[0] != hdr.ProtoUDP || ah[1] != 4 || binary.BigEndian.Uint32(ah[4:]) != 0x4242 || binary.BigEndian.Uint32(ah[8:]) != 1 {
		t.Fatalf("AH header %x", ah[:12])
	}
	m := append([]byte(nil), w...)
	m[1] = 0                 // TOS (ah_cleartos)
	m[6], m[7] = 0, 0        // flags, fragment offset
	m[8] = 0                 // TTL
	m[10], m[11] = 0, 0      // checksum
	copy(m[16:20], final[:]) // destination as the receiver sees it
	clear20 := m[21:32]      // the LSRR option, zeroed whole
	for i := range clear20 { //
		clear20[i] = 0
	}
	for i := 48; i < 60; i++ { // ICV field
		m[i] = 0
	}
	mac := hmac.New(sha1.New, s.key)
	mac.Write(m)
	if want := mac.Sum(nil)[:12]; !bytes.Equal(ah[12:24], want) {
		t.Fatalf("ICV %x, want %x", ah[12:24], want)
	}
	// The receiver gets the packet after the source route was followed.
	rx := append([]byte(nil), w...)
	copy(rx[16:20], final[:])
	rx[8] = 50
	rx[24] = 12 // pointer past both addresses
	hdr.IPv4(rx).UpdateChecksum()
	rb := buf(t, rx)
	defer rb.Free()
	if r := decap1(t, NewProcessor(alg.NewGoEngine()), rb, in, defaults); r != stats.ReasonNone {
		t.Fatalf("decap after the source route: %v", r)
	}
}

// routing2 is a type 2 routing header (RFC 6275) with segments left 1.
func routing2(home [16]byte) []byte {
	rh := []byte{hdr.ProtoRouting, 0, 2, 2, 1, 0, 0, 0, 0}
	return append(rh, home[:]...)
}

// TestICVv6ExtHeaders: IPv6 transport with hop-by-hop and destination
// options (one mutable option each), a type 2 routing header with a
// segment left; AH after the routing header.
func TestICVv6ExtHeaders(t *testing.T) {
	home := netip.MustParseAddr("2001:db8:aaaa::9").As16()
	clear := udp6("2001:db8::1", "2001:db8:ffff::2", 0x2e, 64, hbh, dst, routing2(home))
	s := suiteByName(t, "hmac-sha2-256")
	out, in := pair(t, s, saOpts{v6: true, spi: 0x777})
	b := buf(t, clear)
	defer b.Free()
	if r := encap1(t, NewProcessor(alg.NewGoEngine()), b, out, defaults); r != stats.ReasonNone {
		t.Fatal(r)
	}
	w := b.Bytes()
	// 40 IPv6 | 16 hop-by-hop | 8 dst opts | 24 routing | 32 AH | UDP
	const ahOff = 40 + 16 + 8 + 24
	if w[40+16+8] != hdr.ProtoAH || w[ahOff] != hdr.ProtoUDP || w[ahOff+1] != 32/4-2 {
		t.Fatalf("AH not after the routing header: %x", w[:ahOff+4])
	}
	m := append([]byte(nil), w...)
	copy(m[0:4], []byte{0x60, 0, 0, 0}) // traffic class, flow label
	m[7] = 0                            // hop limit
	m[44], m[45] = 0, 0                 // hop-by-hop option 0x3e data
	copy(m[60:64], []byte{0, 0, 0, 0})  // dst option 0x3e data
	origDst := append([]byte(nil), w[24:40]...)
	copy(m[24:40], home[:]) // final destination
	copy(m[72:88], origDst) // the visited address in the list
	m[64+3] = 0             // segments left
	for i := ahOff + 12; i < ahOff+32; i++ {
		m[i] = 0 // ICV and padding
	}
	mac := hmac.New(sha256.New, s.key)
	mac.Write(m)
	if want := mac.Sum(nil)[:16]; !bytes.Equal(w[ahOff+12:ahOff+28], want) {
		t.Fatalf("ICV %x, want %x", w[ahOff+12:ahOff+28], want)
	}
	if !bytes.Equal(w[ahOff+28:ahOff+32], []byte{0, 0, 0, 0}) {
		t.Fatalf("ICV padding %x", w[ahOff+28:ahOff+32])
	}
	// At the home address the header reads as computed; AH verifies.
	rx := append([]byte(nil), w...)
	copy(rx[24:40], home[:])
	copy(rx[72:88], origDst)
	rx[67] = 0
	rx[7] = 20
	rb := buf(t, rx)
	defer rb.Free()
	if r := decap1(t, NewProcessor(alg.NewGoEngine()), rb, in, defaults); r != stats.ReasonNone {
		t.Fatalf("decap at the final destination: %v", r)
	}
}

// TestICVGMAC: AES-GMAC (RFC 4543) over IPv4 tunnel mode: IV after the
// sequence number, tag = GCM(key, salt||IV, plaintext "", AAD = packet
// with the mutable fields and the tag zeroed).
func TestICVGMAC(t *testing.T) {
	s := suiteByName(t, "aes-gmac-128")
	out, _ := pair(t, s, saOpts{tunnel: true, spi: 0x999})
	clear := udp4("10.0.0.1", "10.0.0.2", 0, 50, nil)
	b := buf(t, clear)
	defer b.Free()
	if r := encap1(t, NewProcessor(alg.NewGoEngine()), b, out, defaults); r != stats.ReasonNone {
		t.Fatal(r)
	}
	w := b.Bytes()
	ah := w[20:56]
	if ah[0] != hdr.ProtoIPIP || ah[1] != 36/4-2 {
		t.Fatalf("AH header %x", ah[:12])
	}
	iv := ah[12:20]
	if binary.BigEndian.Uint64(iv) != 1 {
		t.Fatalf("IV %x, want the sequence number", iv)
	}
	if !bytes.Equal(w[56:], clear) {
		t.Fatal("inner packet changed")
	}
	m := append([]byte(nil), w...)
	m[1], m[6], m[7], m[8], m[10], m[11] = 0, 0, 0, 0, 0, 0
	for i := 40; i < 56; i++ {
		m[i] = 0
	}
	blk, _ := aes.NewCipher(s.key[:16])
	g, _ := cipher.NewGCM(blk)
	nonce := append(append([]byte(nil), s.key[16:]...), iv...)
	tag := g.Seal(nil, nonce, nil, m)
	if !bytes.Equal(ah[20:36], tag) {
		t.Fatalf("tag %x, want %x", ah[20:36], tag)
	}
}

// TestICVESN: with ESN the high sequence bits follow the packet in the
// ICV input (RFC 4302 §2.5.1).
func TestICVESN(t *testing.T) {
	s := suiteByName(t, "hmac-sha2-256")
	out, _ := pair(t, s, saOpts{esn: true, tunnel: true})
	for range 3 {
		if _, ok := out.ReserveSeq(1 << 30); !ok {
			t.Fatal("reserve")
		}
	}
	out.ReserveSeq(1 << 30) // next is 2^32 + 1
	clear := udp4("10.0.0.1", "10.0.0.2", 0, 10, nil)
	b := buf(t, clear)
	defer b.Free()
	if r := encap1(t, NewProcessor(alg.NewGoEngine()), b, out, defaults); r != stats.ReasonNone {
		t.Fatal(r)
	}
	w := b.Bytes()
	if binary.BigEndian.Uint32(w[28:]) != 1 {
		t.Fatalf("low sequence bits %x", w[28:32])
	}
	m := append([]byte(nil), w...)
	m[1], m[6], m[7], m[8], m[10], m[11] = 0, 0, 0, 0, 0, 0
	for i := 32; i < 48; i++ {
		m[i] = 0
	}
	m = append(m, 0, 0, 0, 1) // SeqHi
	mac := hmac.New(sha256.New, s.key)
	mac.Write(m)
	if want := mac.Sum(nil)[:16]; !bytes.Equal(w[32:48], want) {
		t.Fatalf("ICV %x, want %x", w[32:48], want)
	}
}
