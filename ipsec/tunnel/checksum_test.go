package tunnel

import (
	"math/rand/v2"
	"testing"

	"github.com/fastipsec/fastipsec/dataplane/hdr"
)

// The word-wise header sum agrees with hdr's general checksum, with and
// without options, and IPv4ChecksumOK accepts exactly the right checksums.
func TestIPv4ChecksumMatchesHdr(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for range 2000 {
		hl := hdr.IPv4MinLen + 4*rng.IntN(11)
		ip := make([]byte, hl)
		for i := range ip {
			ip[i] = byte(rng.Uint32())
		}
		ip[0] = 0x40 | byte(hl/4)
		SetIPv4Checksum(ip)
		want := hdr.IPv4(append([]byte(nil), ip...))
		want.UpdateChecksum()
		if got, w := hdr.IPv4(ip).Checksum(), want.Checksum(); got != w {
			t.Fatalf("hl %d: checksum %#04x, hdr says %#04x", hl, got, w)
		}
		if !IPv4ChecksumOK(ip) || !hdr.IPv4(ip).ChecksumValid() {
			t.Fatalf("hl %d: valid checksum refused", hl)
		}
		ip[10+rng.IntN(2)] ^= byte(1 + rng.IntN(255))
		if IPv4ChecksumOK(ip) != hdr.IPv4(ip).ChecksumValid() {
			t.Fatalf("hl %d: IPv4ChecksumOK disagrees with hdr on a corrupted checksum", hl)
		}
	}
}
