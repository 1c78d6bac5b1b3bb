package esp

import (
	"math/rand/v2"
	"testing"

	"github.com/fastipsec/fastipsec/dataplane/hdr"
)

// The word-wise header sum agrees with hdr's general checksum, with and
// without options, and ipv4ChecksumOK accepts exactly the right checksums.
func TestIPv4ChecksumMatchesHdr(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for range 2000 {
		hl := hdr.IPv4MinLen + 4*rng.IntN(11)
		ip := make([]byte, hl)
		for i := range ip {
			ip[i] = byte(rng.Uint32())
		}
		ip[0] = 0x40 | byte(hl/4)
		setIPv4Checksum(ip)
		want := hdr.IPv4(append([]byte(nil), ip...))
		want.UpdateChecksum()
		if got, w := hdr.IPv4(ip).Checksum(), want.Checksum(); got != w {
			t.Fatalf("hl %d: checksum %#04x, hdr says %#04x", hl, got, w)
		}
		if !ipv4ChecksumOK(ip) || !hdr.IPv4(ip).ChecksumValid() {
			t.Fatalf("hl %d: valid checksum refused", hl)
		}
		ip[10+rng.IntN(2)] ^= byte(1 + rng.IntN(255))
		if ipv4ChecksumOK(ip) != hdr.IPv4(ip).ChecksumValid() {
			t.Fatalf("hl %d: ipv4ChecksumOK disagrees with hdr on a corrupted checksum", hl)
		}
	}
}

// padOK's word compare agrees with the byte loop for every padding length,
// good or with any one byte wrong.
func TestPadOK(t *testing.T) {
	loop := func(p []byte) bool {
		for k, v := range p {
			if v != byte(k+1) {
				return false
			}
		}
		return true
	}
	for n := 0; n <= 20; n++ {
		data := make([]byte, 16+n+2)
		for i := range data[:16] {
			data[i] = byte(i * 37)
		}
		for k := range n {
			data[16+k] = byte(k + 1)
		}
		if !padOK(data, 16, 16+n) {
			t.Fatalf("n=%d: good padding refused", n)
		}
		for k := range n {
			for _, bad := range []byte{0, byte(k + 2), 0xff} {
				data[16+k] = bad
				if padOK(data, 16, 16+n) != loop(data[16:16+n]) {
					t.Fatalf("n=%d: byte %d = %d judged differently", n, k, bad)
				}
				data[16+k] = byte(k + 1)
			}
		}
	}
}
