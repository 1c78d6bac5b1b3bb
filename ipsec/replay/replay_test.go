package replay

import (
	"math/rand/v2"
	"testing"
)

// accept runs Check then Commit, as ESP does for a packet whose ICV verifies.
func accept(w *Window, seqLo uint32) (uint64, bool) {
	seq, ok := w.Check(seqLo)
	if !ok {
		return seq, false
	}
	return seq, w.Commit(seq)
}

func TestInit(t *testing.T) {
	var w Window
	for _, c := range []struct{ in, want uint32 }{{0, 0}, {1, 64}, {32, 64}, {64, 64}, {65, 128}, {1024, 1024}, {65536, 65536}, {1 << 24, MaxSize}} {
		w.Init(c.in, false)
		if w.Size() != c.want {
			t.Errorf("Init(%d): size %d want %d", c.in, w.Size(), c.want)
		}
		if c.want > 0 && uint64(len(w.ring)) < uint64(c.want/64+1) {
			t.Errorf("Init(%d): ring too small", c.in)
		}
	}
}

func TestZeroValue(t *testing.T) {
	var w Window // replay off, no ESN
	if _, ok := w.Check(0); ok {
		t.Fatal("seq 0 accepted")
	}
	for _, s := range []uint32{5, 5, 3, 1 << 31} {
		if seq, ok := accept(&w, s); !ok || seq != uint64(s) {
			t.Fatalf("replay off: %d rejected", s)
		}
	}
	if w.Top() != 1<<31 {
		t.Fatal(w.Top())
	}
}

func TestWindowSizes(t *testing.T) {
	for _, size := range []uint32{32, 64, 1024, 65536} {
		var w Window
		w.Init(size, false)
		W := uint64(w.Size())
		// in order
		for s := uint32(1); s <= 100; s++ {
			if _, ok := accept(&w, s); !ok {
				t.Fatalf("size %d: in-order %d rejected", size, s)
			}
		}
		// duplicates
		for s := uint32(1); s <= 100; s++ {
			if uint64(100-s) < W {
				if _, ok := w.Check(s); ok {
					t.Fatalf("size %d: duplicate %d accepted", size, s)
				}
			}
		}
		// jump ahead leaving a hole, then fill it (reordering within the window)
		top := uint32(100 + W/2)
		if _, ok := accept(&w, top); !ok {
			t.Fatal("jump")
		}
		if _, ok := accept(&w, 101); !ok {
			t.Fatalf("size %d: reordered 101 rejected", size)
		}
		if _, ok := accept(&w, 101); ok {
			t.Fatal("dup 101")
		}
		// left edge: top-W+1 accepted (once), top-W rejected.
		top = uint32(10 * W)
		accept(&w, top)
		edge := top - uint32(W) + 1
		if _, ok := w.Check(edge); !ok {
			t.Fatalf("size %d: left edge %d rejected", size, edge)
		}
		if _, ok := w.Check(edge - 1); ok {
			t.Fatalf("size %d: one past the left edge accepted", size)
		}
		if _, ok := accept(&w, edge); !ok {
			t.Fatal("edge commit")
		}
		if _, ok := w.Check(edge); ok {
			t.Fatal("edge duplicate accepted")
		}
		// huge jump (> window): everything old is gone, the window is clean
		top2 := top + uint32(5*W) + 17
		accept(&w, top2)
		for s := top2 - uint32(W) + 1; s < top2; s++ {
			if _, ok := w.Check(s); !ok {
				t.Fatalf("size %d: %d after huge jump rejected", size, s)
			}
		}
		if _, ok := w.Check(top2); ok {
			t.Fatal("top duplicate")
		}
	}
}

func TestCheckDoesNotChangeState(t *testing.T) {
	var w Window
	w.Init(64, true)
	accept(&w, 10)
	before := w
	ring := append([]uint64(nil), w.ring...)
	w.Check(11)
	w.Check(1000)
	w.Check(9)
	if w.top != before.top || w.ring[0] != ring[0] || w.ring[1] != ring[1] {
		t.Fatal("Check changed state")
	}
}

// Commit after Check catches a duplicate inside one burst.
func TestCommitSameBurstDuplicate(t *testing.T) {
	var w Window
	w.Init(64, false)
	s1, ok1 := w.Check(7)
	s2, ok2 := w.Check(7)
	if !ok1 || !ok2 || !w.Commit(s1) || w.Commit(s2) {
		t.Fatal("second commit of the same seq must fail")
	}
	accept(&w, 200)
	if w.Commit(100) {
		t.Fatal("commit left of the window must fail")
	}
}

func TestESNWrap(t *testing.T) {
	var w Window
	w.Init(64, true)
	if seq, ok := accept(&w, 0xFFFFFFF0); ok {
		t.Fatalf("0xFFFFFFF0 at start infers epoch -1, got %x", seq)
	}
	for s := uint32(1); s < 5; s++ {
		accept(&w, s)
	}
	w.top = 0xFFFFFFF0 // jump within epoch 0
	w.ring = make([]uint64, len(w.ring))
	for _, s := range []uint32{0xFFFFFFFE, 0xFFFFFFFF} {
		if seq, ok := accept(&w, s); !ok || seq != uint64(s) {
			t.Fatalf("%x: %x %v", s, seq, ok)
		}
	}
	// wrap of the low half: 0 on the wire is 0x1_00000000
	if seq, ok := accept(&w, 0); !ok || seq != 1<<32 {
		t.Fatalf("wrap: %x %v", seq, ok)
	}
	if seq, ok := accept(&w, 3); !ok || seq != 1<<32|3 {
		t.Fatalf("after wrap: %x %v", seq, ok)
	}
	// late packets from before the wrap, within the window (Case B)
	if seq, ok := accept(&w, 0xFFFFFFF8); !ok || seq != 0xFFFFFFF8 {
		t.Fatalf("late pre-wrap: %x %v", seq, ok)
	}
	if _, ok := w.Check(0xFFFFFFFF); ok {
		t.Fatal("pre-wrap duplicate accepted")
	}
	// Case B bottom: Tl=3, W=64 -> bottom = 3-63 = 0xFFFFFFC4; 0xFFFFFFC3 is past it
	// and infers the next epoch... no: it is < bottom, so Seqh = Th = 1, i.e. far ahead.
	if seq, ok := w.Check(0xFFFFFFC3); !ok || seq != 1<<32|0xFFFFFFC3 {
		t.Fatalf("below bottom infers the current epoch: %x %v", seq, ok)
	}
	if seq, ok := w.Check(0xFFFFFFC4); !ok || seq != 0xFFFFFFC4 {
		t.Fatalf("bottom: %x %v", seq, ok)
	}
}

// RFC 4303 Appendix A.2 cases: Tl >= W-1 (Case A) and Tl < W-1 (Case B).
func TestESNAppendixA(t *testing.T) {
	var w Window
	w.Init(64, true)
	w.top = 5<<32 | 1000 // Case A: Th=5, Tl=1000, bottom 937
	cases := []struct {
		lo   uint32
		want uint64
	}{
		{1000, 5<<32 | 1000}, {937, 5<<32 | 937}, {2000, 5<<32 | 2000},
		{936, 6<<32 | 936}, {0, 6 << 32}, // below bottom: next epoch
	}
	for _, c := range cases {
		if got, _ := w.infer(c.lo); got != c.want {
			t.Errorf("Case A lo=%d: %x want %x", c.lo, got, c.want)
		}
	}
	w.top = 5<<32 | 10 // Case B: bottom = 10-63 = 0xFFFFFFCB
	cases = []struct {
		lo   uint32
		want uint64
	}{
		{10, 5<<32 | 10}, {0, 5 << 32}, {500, 5<<32 | 500},
		{0xFFFFFFCB, 4<<32 | 0xFFFFFFCB}, {0xFFFFFFFF, 4<<32 | 0xFFFFFFFF},
		{0xFFFFFFCA, 5<<32 | 0xFFFFFFCA},
	}
	for _, c := range cases {
		if got, _ := w.infer(c.lo); got != c.want {
			t.Errorf("Case B lo=%x: %x want %x", c.lo, got, c.want)
		}
	}
}

func TestESNReplayOffInfers(t *testing.T) {
	var w Window
	w.Init(0, true)
	if _, ok := accept(&w, 0xFFFFFF00); ok {
		t.Fatal("0xFFFFFF00 at start is closer to epoch -1")
	}
	accept(&w, 0x70000000)
	if seq, ok := accept(&w, 0xF0000000); !ok || seq != 0xF0000000 {
		t.Fatalf("%x %v", seq, ok)
	}
	if seq, ok := accept(&w, 5); !ok || seq != 1<<32|5 {
		t.Fatalf("%x %v", seq, ok)
	}
	if seq, ok := w.Check(0xFFFFFF01); !ok || seq != 0xFFFFFF01 {
		t.Fatalf("late packet: %x %v", seq, ok)
	}
	if seq, _ := w.Check(5); seq != 1<<32|5 {
		t.Fatal("replay off accepts duplicates but still infers")
	}
}

// reference is the naive model: a set of seen numbers and the top.
type reference struct {
	seen map[uint64]bool
	top  uint64
	size uint64
}

func (r *reference) accept(seq uint64) bool {
	if seq == 0 || r.seen[seq] || (seq <= r.top && r.top-seq >= r.size) {
		return false
	}
	r.seen[seq] = true
	r.top = max(r.top, seq)
	return true
}

func TestRandomAgainstReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 9))
	for _, size := range []uint32{64, 128, 1024, 65536} {
		for _, esn := range []bool{false, true} {
			var w Window
			w.Init(size, esn)
			ref := &reference{seen: map[uint64]bool{}, size: uint64(w.Size())}
			base := uint64(1)
			if esn {
				base = 0xFFFF0000 // cross the 2^32 boundary
			}
			next := base
			for i := 0; i < 200000; i++ {
				var seq uint64
				switch r := rng.IntN(10); {
				case r < 5:
					next += uint64(rng.IntN(3))
					seq = next
				case r < 9: // reordered or duplicate, possibly too old
					back := uint64(rng.IntN(int(size) + 200))
					if back >= next {
						continue
					}
					seq = next - back
				default: // jump
					next += uint64(rng.IntN(int(size) * 3))
					seq = next
				}
				if seq == 0 {
					continue
				}
				got, ok := w.Check(uint32(seq))
				if got != seq { // inference picked another epoch: only for too-old packets
					if !esn || seq+uint64(w.Size()) > w.Top() {
						t.Fatalf("size %d esn %v: seq %x inferred %x (top %x)", size, esn, seq, got, w.Top())
					}
					ok = false // the ICV (covering the high half) would fail
				} else if ok {
					ok = w.Commit(seq)
				}
				if want := ref.accept(seq); ok != want {
					t.Fatalf("size %d esn %v: seq %x: window %v, reference %v (top %x)", size, esn, seq, ok, want, w.Top())
				}
			}
		}
	}
}

func FuzzWindow(f *testing.F) {
	f.Add([]byte{1, 2, 3, 3, 200, 1, 0, 255}, uint16(64))
	f.Fuzz(func(t *testing.T, data []byte, size uint16) {
		var w Window
		w.Init(uint32(size), false)
		ref := &reference{seen: map[uint64]bool{}, size: uint64(w.Size())}
		if w.Size() == 0 {
			ref.size = 1 << 62
		}
		var cur uint32 = 1000
		for i := 0; i+1 < len(data); i += 2 {
			cur = cur + uint32(data[i]) - 128
			if data[i+1]&1 == 1 {
				cur += uint32(data[i+1]) << 4
			}
			_, ok := accept(&w, cur)
			want := ref.accept(uint64(cur))
			if w.Size() == 0 {
				want = cur != 0
			}
			if ok != want {
				t.Fatalf("seq %d: window %v reference %v", cur, ok, want)
			}
		}
	})
}

func BenchmarkCheckCommit(b *testing.B) {
	for _, size := range []uint32{64, 1024, 65536} {
		b.Run("inorder/"+itoa(size), func(b *testing.B) {
			var w Window
			w.Init(size, true)
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				if seq, ok := w.Check(uint32(i + 1)); ok {
					w.Commit(seq)
				}
			}
		})
		b.Run("reordered/"+itoa(size), func(b *testing.B) {
			var w Window
			w.Init(size, true)
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				s := uint32(i+1) ^ 7 // permutes within groups of 8
				if seq, ok := w.Check(s + 8); ok {
					w.Commit(seq)
				}
			}
		})
	}
}

func itoa(n uint32) string {
	if n == 0 {
		return "0"
	}
	var b []byte
	for ; n > 0; n /= 10 {
		b = append([]byte{byte('0' + n%10)}, b...)
	}
	return string(b)
}
