package pfkey

import "testing"

func benchGolden(b testing.TB, name string) (Dialect, []byte) {
	for _, g := range goldens {
		if g.name == name {
			return g.d, g.wire(b)
		}
	}
	b.Fatalf("no golden %q", name)
	return 0, nil
}

func BenchmarkDecodeAdd(b *testing.B) {
	for _, name := range []string{"fb ADD strongSwan AES-GCM NAT-T", "lx ADD strongSwan AES-GCM NAT-T"} {
		d, wire := benchGolden(b, name)
		b.Run(d.String(), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(wire)))
			for b.Loop() {
				if _, err := Decode(d, wire); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkEncodeAdd(b *testing.B) {
	for _, name := range []string{"fb ADD strongSwan AES-GCM NAT-T", "lx ADD strongSwan AES-GCM NAT-T"} {
		d, wire := benchGolden(b, name)
		m, err := Decode(d, wire)
		if err != nil {
			b.Fatal(err)
		}
		buf := make([]byte, 0, 512)
		b.Run(d.String(), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(wire)))
			for b.Loop() {
				if _, err := Append(d, buf[:0], m); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkDecodeInAdd(b *testing.B) {
	for _, name := range []string{"fb ADD strongSwan AES-GCM NAT-T", "lx ADD strongSwan AES-GCM NAT-T"} {
		d, wire := benchGolden(b, name)
		b.Run(d.String(), func(b *testing.B) {
			var a Arena
			b.ReportAllocs()
			b.SetBytes(int64(len(wire)))
			for b.Loop() {
				if _, err := DecodeIn(d, wire, &a); err != nil {
					b.Fatal(err)
				}
				a.Reset()
			}
		})
	}
}
