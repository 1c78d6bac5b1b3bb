package hdr

import (
	"encoding/binary"
	"encoding/hex"
	"math/rand/v2"
	"strings"
	"testing"
)

// unhex decodes a hex dump, ignoring spaces, newlines and colons.
func unhex(tb testing.TB, s string) []byte {
	tb.Helper()
	s = strings.NewReplacer(" ", "", "\n", "", "\t", "", ":", "").Replace(s)
	b, err := hex.DecodeString(s)
	if err != nil {
		tb.Fatalf("bad hex %q: %v", s, err)
	}
	return b
}

// naiveSum is the RFC 1071 one's-complement sum done the slow, obvious
// way: fold the initial value, then add 16-bit words with end-around carry.
func naiveSum(data []byte, initial uint64) uint16 {
	s := initial
	for s > 0xffff {
		s = s>>16 + s&0xffff
	}
	for i := 0; i < len(data); i += 2 {
		w := uint64(data[i]) << 8
		if i+1 < len(data) {
			w |= uint64(data[i+1])
		}
		s += w
		if s > 0xffff {
			s -= 0xffff
		}
	}
	return uint16(s)
}

// naiveChecksum is ^naiveSum.
func naiveChecksum(data []byte, initial uint64) uint16 { return ^naiveSum(data, initial) }

// newRand returns a deterministic generator for a test.
func newRand(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15)) }

// randBytes fills a new slice of n random bytes.
func randBytes(r *rand.Rand, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// randIPv4 returns a valid IPv4 header (random fields, random IHL 5..15
// with NOP options) followed by plen random payload bytes, with a correct
// header checksum.
func randIPv4(r *rand.Rand, plen int) IPv4 {
	hl := 4 * (5 + r.IntN(11))
	b := randBytes(r, hl+plen)
	ip := IPv4(b)
	ip.SetVersionIHL(hl)
	ip.SetTotalLen(hl + plen)
	for i := IPv4MinLen; i < hl; i++ {
		b[i] = IPv4OptNOP
	}
	ip.UpdateChecksum()
	return ip
}

// ext describes an IPv6 extension header for build6.
type ext struct {
	proto   uint8
	len     int    // bytes, multiple of 8 (fragment: ignored, always 8)
	fragOff uint16 // fragment header: offset/flags word
}

// build6 builds an IPv6 packet with the given extension headers (HBH and
// DstOpts are filled with one PadN option), an upper-layer protocol upper
// and ulen zero bytes of upper-layer data.
func build6(upper uint8, ulen int, exts ...ext) IPv6 {
	n := IPv6Len + ulen
	for _, e := range exts {
		if e.proto == ProtoFragment {
			n += 8
		} else {
			n += e.len
		}
	}
	b := make([]byte, n)
	ip := IPv6(b)
	ip.SetVersionTCFlow(0, 0)
	ip.SetPayloadLen(n - IPv6Len)
	ip.SetHopLimit(64)
	src := [16]byte{0x20, 0x01, 0x0d, 0xb8, 15: 1}
	dst := [16]byte{0x20, 0x01, 0x0d, 0xb8, 15: 2}
	ip.SetSrc(&src)
	ip.SetDst(&dst)
	next := func(i int) uint8 {
		if i < len(exts) {
			return exts[i].proto
		}
		return upper
	}
	ip.SetNextHeader(next(0))
	off := IPv6Len
	for i, e := range exts {
		h := b[off:]
		h[0] = next(i + 1)
		if e.proto == ProtoFragment {
			binary.BigEndian.PutUint16(h[2:], e.fragOff)
			binary.BigEndian.PutUint32(h[4:], 0xdeadbeef)
			off += 8
			continue
		}
		h[1] = uint8(e.len/8 - 1)
		h[2], h[3] = 1, uint8(e.len-4) // PadN over the rest
		off += e.len
	}
	return ip
}
