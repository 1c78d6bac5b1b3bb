package esp

import "testing"

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
