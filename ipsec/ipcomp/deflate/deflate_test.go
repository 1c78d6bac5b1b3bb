package deflate

import (
	"bytes"
	stdflate "compress/flate"
	"encoding/hex"
	"fmt"
	"io"
	"strings"
	"testing"

	kflate "github.com/klauspost/compress/flate"
)

// inflate decodes a raw deflate stream with the standard library and
// with klauspost/compress, which must agree.
func inflate(t testing.TB, stream []byte) []byte {
	t.Helper()
	a, err := io.ReadAll(stdflate.NewReader(bytes.NewReader(stream)))
	if err != nil {
		t.Fatalf("compress/flate: %v (stream %x)", err, stream)
	}
	b, err := io.ReadAll(kflate.NewReader(bytes.NewReader(stream)))
	if err != nil || !bytes.Equal(a, b) {
		t.Fatalf("klauspost inflate: %v", err)
	}
	return a
}

// encode returns src's stream from e, with room for anything.
func encode(t testing.TB, e *Encoder, src []byte) []byte {
	t.Helper()
	dst := make([]byte, len(src)+len(src)/8+16)
	n, ok := e.Encode(dst, src)
	if !ok {
		t.Fatalf("%d bytes do not fit in %d", len(src), len(dst))
	}
	return dst[:n]
}

// TestRoundTrip: every kind and size inflates back to itself.
func TestRoundTrip(t *testing.T) {
	e := NewEncoder()
	for _, kind := range payloadKinds {
		for _, n := range []int{0, 1, 3, 4, 5, 7, 8, 9, 15, 16, 17, 64, 90, 257, 258, 259, 300, 512, 1000, 1420, 1500, 9000, 40000, MaxInput} {
			src := payload(kind, n, uint64(n))
			if got := inflate(t, encode(t, e, src)); !bytes.Equal(got, src) {
				t.Fatalf("%s %d: round trip differs", kind, n)
			}
		}
	}
}

// TestLongRuns: runs past 258 bytes and distances at the 32 KiB limit.
func TestLongRuns(t *testing.T) {
	e := NewEncoder()
	far := payload("random", MaxInput, 1)
	copy(far[maxDist:], far[:1000]) // exactly 32768 back
	copy(far[50000:], far[50000-maxDist-1:50000-maxDist+999])
	for i, src := range [][]byte{
		make([]byte, 1000),
		bytes.Repeat([]byte{1, 2}, 700),
		bytes.Repeat([]byte("abc"), 1000),
		append(payload("random", 300, 2), make([]byte, 2000)...),
		far,
	} {
		if got := inflate(t, encode(t, e, src)); !bytes.Equal(got, src) {
			t.Fatalf("case %d: round trip differs", i)
		}
	}
	if n := len(encode(t, e, make([]byte, 1400))); n > 20 {
		t.Errorf("1400 zeros take %d bytes", n)
	}
}

// TestNoHistory: a packet's stream does not depend on the packets before
// it, also when the table's base wraps.
func TestNoHistory(t *testing.T) {
	src := payload("html", 1400, 3)
	want := encode(t, NewEncoder(), src)
	e := NewEncoder()
	for i, kind := range payloadKinds {
		encode(t, e, payload(kind, 1400, 3)) // same text, other packets
		if got := encode(t, e, src); !bytes.Equal(got, want) {
			t.Fatalf("after %d packets the stream differs", i+1)
		}
	}
	e.base = maxBase - 100
	encode(t, e, src) // takes the base past maxBase
	if got := encode(t, e, src); !bytes.Equal(got, want) || e.base > 1<<20 {
		t.Fatalf("after the base wrapped (to %d) the stream differs", e.base)
	}
}

// TestLimit: Encode succeeds exactly when the stream fits in dst and
// never writes past it.
func TestLimit(t *testing.T) {
	e := NewEncoder()
	for _, kind := range payloadKinds {
		for _, n := range []int{0, 10, 100, 1420} {
			src := payload(kind, n, 4)
			want := encode(t, e, src)
			for _, room := range []int{0, 1, len(want) / 2, len(want) - 1, len(want)} {
				dst := bytes.Repeat([]byte{0xee}, room+8)
				got, ok := e.Encode(dst[:room], src)
				if ok != (room >= len(want)) {
					t.Fatalf("%s %d in %d bytes: ok %v, stream is %d", kind, n, room, ok, len(want))
				}
				if ok && !bytes.Equal(dst[:got], want) {
					t.Fatalf("%s %d: stream differs with a tight dst", kind, n)
				}
				if !bytes.Equal(dst[room:], bytes.Repeat([]byte{0xee}, 8)) {
					t.Fatalf("%s %d: wrote past %d bytes", kind, n, room)
				}
			}
		}
	}
	if _, ok := e.Encode(make([]byte, 1<<17), make([]byte, MaxInput+1)); ok {
		t.Error("took more than MaxInput")
	}
}

// TestRatio: packet-sized payloads compress nearly as well as with
// klauspost/compress at its fastest: text and JSON, where the literals
// dominate, lose what dynamic Huffman tables save on them (up to 30%),
// binary and repetitive data about nothing; random data is refused.
func TestRatio(t *testing.T) {
	e := NewEncoder()
	for _, kind := range payloadKinds {
		for _, n := range []int{512, 1420} {
			src := payload(kind, n, 5)
			dst := make([]byte, n-1)
			got, ok := e.Encode(dst, src)
			ref := klauspost(t, src, kflate.BestSpeed)
			switch {
			case kind == "random" && ok:
				t.Errorf("random %d: compressed to %d", n, got)
			case kind == "random":
			case !ok:
				t.Errorf("%s %d: not compressed (klauspost: %d)", kind, n, ref)
			case got > ref+ref*3/10+8:
				t.Errorf("%s %d: %d bytes, klauspost level 1: %d", kind, n, got, ref)
			}
		}
	}
}

func klauspost(t testing.TB, src []byte, level int) int {
	var out bytes.Buffer
	w, err := kflate.NewWriter(&out, level)
	if err != nil {
		t.Fatal(err)
	}
	w.Write(src)
	w.Close()
	return out.Len()
}

// TestZeroAllocs: encoding allocates nothing.
func TestZeroAllocs(t *testing.T) {
	e := NewEncoder()
	src := payload("json", 1420, 6)
	dst := make([]byte, 1420)
	if a := testing.AllocsPerRun(100, func() { e.Encode(dst, src) }); a != 0 {
		t.Errorf("%.1f allocations per packet", a)
	}
}

// FuzzEncode: any input round-trips through both inflaters, and a dst
// one byte short of the stream is refused.
func FuzzEncode(f *testing.F) {
	for i, kind := range payloadKinds {
		f.Add(payload(kind, 100*(i+1), uint64(i)))
	}
	f.Add([]byte{})
	f.Add(make([]byte, 600))
	e := NewEncoder()
	f.Fuzz(func(t *testing.T, src []byte) {
		if len(src) > MaxInput {
			return
		}
		stream := encode(t, e, src)
		if got := inflate(t, stream); !bytes.Equal(got, src) {
			t.Fatal("round trip differs")
		}
		if _, ok := e.Encode(make([]byte, len(stream)-1), src); ok {
			t.Fatal("fits one byte short")
		}
	})
}

// BenchmarkEncode reports packets/s and the compressed share (out/in) per
// kind and size; "klauspost-1" and "klauspost-huff" are the library's
// fastest level and its Huffman-only mode on the same packets.
func BenchmarkEncode(b *testing.B) {
	for _, kind := range payloadKinds {
		for _, n := range []int{64, 512, 1420} {
			src := payload(kind, n, 8)
			dst := make([]byte, n)
			b.Run(fmt.Sprintf("%s/%d/ours", kind, n), func(b *testing.B) {
				e := NewEncoder()
				out, ok := e.Encode(dst, src)
				if !ok {
					out = n
				}
				b.ReportAllocs()
				b.SetBytes(int64(n))
				for b.Loop() {
					e.Encode(dst, src)
				}
				report(b, out, n)
			})
			for _, lv := range []struct {
				name  string
				level int
			}{{"klauspost-1", kflate.BestSpeed}, {"klauspost-huff", kflate.HuffmanOnly}} {
				b.Run(fmt.Sprintf("%s/%d/%s", kind, n, lv.name), func(b *testing.B) {
					var sink limited
					w, _ := kflate.NewWriter(&sink, lv.level)
					b.SetBytes(int64(n))
					out := 0
					for b.Loop() {
						sink.n, sink.max = 0, n
						w.Reset(&sink)
						w.Write(src)
						if w.Close() != nil {
							out = n
						} else {
							out = sink.n
						}
					}
					report(b, out, n)
				})
			}
		}
	}
}

func report(b *testing.B, out, n int) {
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds()/1e6, "Mpps")
	b.ReportMetric(float64(out)/float64(n), "out/in")
}

// limited counts bytes up to max, then fails (not worth sending).
type limited struct{ n, max int }

func (l *limited) Write(p []byte) (int, error) {
	if l.n+len(p) >= l.max {
		return 0, io.ErrShortWrite
	}
	l.n += len(p)
	return len(p), nil
}

// TestKnownAnswers: fixed streams. Where zlib finds the same matches
// (zlib.compressobj(1, DEFLATED, -15, 9, Z_FIXED)) they are its bytes;
// the other two are shorter than zlib's (63601805c4860000 and
// cb48cdc9c9d751c840a21401) and python's zlib inflates them back.
func TestKnownAnswers(t *testing.T) {
	e := NewEncoder()
	for _, c := range []struct{ in, want string }{
		{"", "0300"},
		{"a", "4b0400"},
		{"\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f\x10\x11\x12\x13", "6360646266616563e7e0e4e2e6e1e5e3171014120600"},
		// "hello, ", length 12 at distance 7, "!".
		{"hello, hello, hello!", "cb48cdc9c9d75140a61401"},
		// A zero, then lengths 258 and 41 at distance 1.
		{strings.Repeat("\x00", 300), "631805440300"},
	} {
		if got := hex.EncodeToString(encode(t, e, []byte(c.in))); got != c.want {
			t.Errorf("%q: %s, want %s", c.in, got, c.want)
		}
	}
}
