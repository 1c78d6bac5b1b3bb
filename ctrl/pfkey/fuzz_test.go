package pfkey

import (
	"reflect"
	"testing"
)

// FuzzDecode feeds arbitrary bytes to both dialects. Decode must not
// panic; whatever it accepts must re-encode, and the re-encoding must
// decode to the same value (Len aside: Decode drops padding a kernel
// ignores, such as key bytes past sadb_key_bits, so lengths may shrink).
// CheckRequest and DetectDialect must not panic either.
func FuzzDecode(f *testing.F) {
	for _, g := range goldens {
		f.Add(g.wire(f))
	}
	f.Add([]byte{})
	f.Add(make([]byte, 16))
	f.Fuzz(func(t *testing.T, b []byte) {
		DetectDialect(b)
		ParseHeader(b)
		var a Arena
		for _, d := range []Dialect{FreeBSD, Linux} {
			m, err := Decode(d, b)
			checkDecodeIn(t, &a, d, b, m, err)
			if err != nil {
				if m != nil {
					t.Fatalf("%v: message with error %v", d, err)
				}
				if ErrnoOf(err) == 0 {
					t.Fatalf("%v: error without errno: %v", d, err)
				}
				continue
			}
			CheckRequest(d, m)
			enc, err := Encode(d, m)
			if err != nil {
				t.Fatalf("%v: accepted message does not re-encode: %v\n%x", d, err, b)
			}
			m2, err := Decode(d, enc)
			if err != nil {
				t.Fatalf("%v: re-encoding does not decode: %v\n in %x\nout %x", d, err, b, enc)
			}
			m.Len, m2.Len = 0, 0
			if !reflect.DeepEqual(m, m2) {
				t.Fatalf("%v: value changed through Encode\n got %s\nwant %s", d, dump(m2), dump(m))
			}
		}
	})
}
