package sad

import (
	"errors"
	"net/netip"
	"testing"
	"time"

	"github.com/fastipsec/fastipsec/ipsec/alg"
)

var t0 = time.Unix(1_700_000_000, 0)

// testSess is one keyed session shared by test SAs (building one per SA
// would dominate the large tests).
var testSess = func() *alg.Session {
	s, err := alg.NewSession(alg.EncAESGCM16, make([]byte, 20), alg.AuthNull, nil)
	if err != nil {
		panic(err)
	}
	return s
}()

var (
	a1 = netip.MustParseAddr("192.0.2.1")
	a2 = netip.MustParseAddr("192.0.2.2")
	a3 = netip.MustParseAddr("192.0.2.3")
	b1 = netip.MustParseAddr("2001:db8::1")
	b2 = netip.MustParseAddr("2001:db8::2")
	z4 = netip.IPv4Unspecified()
	z6 = netip.IPv6Unspecified()
)

// mk returns a mature SA sharing testSess (larval config, then keyed).
func mk(tb testing.TB, proto Proto, src, dst netip.Addr, spi uint32) *SA {
	tb.Helper()
	return mkc(tb, Config{Proto: proto, Src: src, Dst: dst, SPI: spi})
}

func mkc(tb testing.TB, cfg Config) *SA {
	tb.Helper()
	sa, err := New(cfg, t0)
	if err != nil {
		tb.Fatal(err)
	}
	if cfg.Proto != ProtoIPComp {
		sa.Sess = testSess
	}
	sa.SetState(StateMature)
	return sa
}

func mustAdd(tb testing.TB, s *Store, sas ...*SA) {
	tb.Helper()
	for _, sa := range sas {
		if err := s.Add(sa); err != nil {
			tb.Fatal(err)
		}
	}
}

func TestAddGetDelete(t *testing.T) {
	s := NewStore()
	x := mk(t, ProtoESP, a1, a2, 0x1000)
	mustAdd(t, s, x)
	if x.ID() == 0 {
		t.Fatal("no id assigned")
	}
	tests := []struct {
		name string
		sa   *SA
		err  error
	}{
		{"same proto dst spi, other src", mk(t, ProtoESP, a3, a2, 0x1000), ErrExists},
		{"same key, wildcard src", mk(t, ProtoESP, z4, a2, 0x1000), ErrExists},
		{"other proto", mk(t, ProtoAH, a1, a2, 0x1000), nil},
		{"other dst", mk(t, ProtoESP, a1, a3, 0x1000), nil},
		{"other spi", mk(t, ProtoESP, a1, a2, 0x1001), nil},
		{"v6", mk(t, ProtoESP, b1, b2, 0x1000), nil},
		{"nil", nil, ErrInvalid},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := s.Add(tc.sa); !errors.Is(err, tc.err) {
				t.Fatalf("Add = %v, want %v", err, tc.err)
			}
		})
	}
	if s.Len() != 5 {
		t.Fatalf("Len = %d, want 5", s.Len())
	}
	if y, _ := s.Get(ProtoESP, a1, a2, 0x1001); y.ID() <= x.ID() {
		t.Fatalf("ids not monotonic: %d then %d", x.ID(), y.ID())
	}

	gets := []struct {
		name     string
		src, dst netip.Addr
		proto    Proto
		spi      uint32
		want     *SA
	}{
		{"exact", a1, a2, ProtoESP, 0x1000, x},
		{"any src", netip.Addr{}, a2, ProtoESP, 0x1000, x},
		{"wrong src", a3, a2, ProtoESP, 0x1000, nil},
		{"wrong proto", a1, a2, ProtoIPComp, 0x1000, nil},
		{"wrong spi", a1, a2, ProtoESP, 0x1002, nil},
		{"wrong dst", a1, a1, ProtoESP, 0x1000, nil},
	}
	for _, tc := range gets {
		t.Run("get "+tc.name, func(t *testing.T) {
			got, ok := s.Get(tc.proto, tc.src, tc.dst, tc.spi)
			if got != tc.want || ok != (tc.want != nil) {
				t.Fatalf("Get = %v, %v; want %v", got, ok, tc.want)
			}
		})
	}

	if _, err := s.Delete(ProtoESP, a3, a2, 0x1000); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Delete wrong src = %v", err)
	}
	if _, err := s.Delete(ProtoESP, a1, a2, 0x9999); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Delete missing = %v", err)
	}
	got, err := s.Delete(ProtoESP, netip.Addr{}, a2, 0x1000)
	if err != nil || got != x {
		t.Fatalf("Delete = %v, %v", got, err)
	}
	if x.State() != StateDead {
		t.Fatalf("deleted SA state %v", x.State())
	}
	if _, ok := s.Get(ProtoESP, a1, a2, 0x1000); ok || s.Inbound(ProtoESP, 0x1000, a2, a1) != nil || s.Outbound(ProtoESP, ModeAny, a1, a2, 0, false) == x {
		t.Fatal("deleted SA still found")
	}
	if _, err := s.Delete(ProtoESP, a1, a2, 0x1000); !errors.Is(err, ErrNotFound) {
		t.Fatalf("second Delete = %v", err)
	}
	if s.Len() != 4 {
		t.Fatalf("Len = %d, want 4", s.Len())
	}
	// Re-adding the key works once deleted.
	mustAdd(t, s, mk(t, ProtoESP, a3, a2, 0x1000))
}

func TestUpdate(t *testing.T) {
	s := NewStore()
	larval, err := s.GetSPI(ProtoESP, a1, a2, 0, 0, 7, ModeTunnel, t0)
	if err != nil {
		t.Fatal(err)
	}
	if larval.State() != StateLarval || s.Outbound(ProtoESP, ModeTunnel, a1, a2, 7, false) != nil {
		t.Fatalf("larval SA %v is used", larval)
	}
	older := mk(t, ProtoESP, a1, a2, 0x150)
	mustAdd(t, s, older)
	keyed := mkc(t, Config{Proto: ProtoESP, Src: a1, Dst: a2, SPI: larval.SPI, Mode: ModeTunnel, ReqID: 7})
	old, err := s.Update(keyed)
	if err != nil || old != larval {
		t.Fatalf("Update = %v, %v", old, err)
	}
	if larval.State() != StateDead {
		t.Fatalf("replaced SA state %v", larval.State())
	}
	if keyed.ID() <= older.ID() {
		t.Fatal("updated SA is not the newest")
	}
	if got := s.Inbound(ProtoESP, larval.SPI, a2, a1); got != keyed {
		t.Fatalf("Inbound = %v", got)
	}
	if got := s.Outbound(ProtoESP, ModeTunnel, a1, a2, 0, false); got != keyed {
		t.Fatalf("Outbound = %v", got)
	}
	if s.Len() != 2 {
		t.Fatalf("Len = %d", s.Len())
	}
	// A live SA is not replaced.
	if _, err := s.Update(mk(t, ProtoESP, a1, a2, larval.SPI)); !errors.Is(err, ErrInvalid) {
		t.Fatalf("Update of a mature SA = %v", err)
	}
	if _, err := s.Update(keyed); !errors.Is(err, ErrExists) {
		t.Fatalf("Update with itself = %v", err)
	}
	// Update changing the source moves the SA between outbound groups.
	l2, err := s.GetSPI(ProtoESP, a1, a2, 0, 0, 0, ModeAny, t0)
	if err != nil {
		t.Fatal(err)
	}
	moved := mk(t, ProtoESP, a3, a2, l2.SPI)
	if old, err := s.Update(moved); err != nil || old != l2 {
		t.Fatalf("Update = %v, %v", old, err)
	}
	if s.Outbound(ProtoESP, ModeAny, a1, a2, 0, false) != keyed || s.Outbound(ProtoESP, ModeAny, a3, a2, 0, false) != moved {
		t.Fatal("outbound groups not updated")
	}
	if got, _ := s.Get(ProtoESP, netip.Addr{}, a2, l2.SPI); got != moved {
		t.Fatal("Get after Update")
	}
	if _, err := s.Update(mk(t, ProtoESP, a1, a2, 0x777)); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Update missing = %v", err)
	}
	if _, err := s.Update(nil); !errors.Is(err, ErrInvalid) {
		t.Fatalf("Update nil = %v", err)
	}
}

func TestDeleteAllFlush(t *testing.T) {
	s := NewStore()
	e1 := mk(t, ProtoESP, a1, a2, 0x100)
	e2 := mk(t, ProtoESP, a1, a2, 0x101)
	e3 := mk(t, ProtoESP, a3, a2, 0x102)
	e4 := mk(t, ProtoESP, a1, a3, 0x103)
	h1 := mk(t, ProtoAH, a1, a2, 0x100)
	c1 := mk(t, ProtoIPComp, a1, a2, 0x100)
	mustAdd(t, s, e1, e2, e3, e4, h1, c1)

	tests := []struct {
		name     string
		proto    Proto
		src, dst netip.Addr
		want     []*SA
	}{
		{"none", ProtoESP, a2, a1, nil},
		{"pair", ProtoESP, a1, a2, []*SA{e1, e2}},
		{"again", ProtoESP, a1, a2, nil},
		{"any src", ProtoESP, netip.Addr{}, a2, []*SA{e3}},
		{"ah", ProtoAH, a1, a2, []*SA{h1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := s.DeleteAll(tc.proto, tc.src, tc.dst)
			if !sameSet(got, tc.want) {
				t.Fatalf("DeleteAll = %v, want %v", got, tc.want)
			}
			for _, sa := range got {
				if sa.State() != StateDead {
					t.Fatalf("%v not dead", sa)
				}
			}
		})
	}
	if s.Len() != 2 {
		t.Fatalf("Len = %d", s.Len())
	}
	if got := s.Flush(ProtoIPComp); !sameSet(got, []*SA{c1}) {
		t.Fatalf("Flush(ipcomp) = %v", got)
	}
	if s.Inbound(ProtoESP, 0x103, a3, a1) != e4 || s.Outbound(ProtoESP, ModeAny, a1, a3, 0, false) != e4 {
		t.Fatal("flush of another proto lost an SA")
	}
	mustAdd(t, s, c1.clone(t))
	if got := s.Flush(0); len(got) != 2 || s.Len() != 0 {
		t.Fatalf("Flush(0) = %v, Len %d", got, s.Len())
	}
	if s.Inbound(ProtoESP, 0x103, a3, a1) != nil || s.Flush(0) != nil {
		t.Fatal("flush left SAs")
	}
}

// clone makes a fresh SA with sa's configuration.
func (sa *SA) clone(tb testing.TB) *SA { return mkc(tb, sa.Config) }

func sameSet(a, b []*SA) bool {
	if len(a) != len(b) {
		return false
	}
	m := map[*SA]int{}
	for _, x := range a {
		m[x]++
	}
	for _, x := range b {
		m[x]--
	}
	for _, v := range m {
		if v != 0 {
			return false
		}
	}
	return true
}

func TestInboundPrecedence(t *testing.T) {
	s := NewStore()
	exact := mk(t, ProtoESP, a1, a2, 0x500)   // (spi, dst, src)
	dstOnly := mk(t, ProtoESP, z4, a3, 0x500) // (spi, dst)
	spiOnly := mk(t, ProtoESP, z4, z4, 0x500) // spi
	spiOnly6 := mk(t, ProtoESP, z6, z6, 0x600)
	exact6 := mk(t, ProtoESP, b1, b2, 0x600)
	ah := mk(t, ProtoAH, a1, a2, 0x700)
	mustAdd(t, s, exact, dstOnly, spiOnly, spiOnly6, exact6, ah)
	tests := []struct {
		name     string
		proto    Proto
		spi      uint32
		dst, src netip.Addr
		want     *SA
	}{
		{"exact", ProtoESP, 0x500, a2, a1, exact},
		{"exact dst, other src: spi-only", ProtoESP, 0x500, a2, a3, spiOnly},
		{"dst only", ProtoESP, 0x500, a3, a1, dstOnly},
		{"dst only, any src", ProtoESP, 0x500, a3, a2, dstOnly},
		{"spi only", ProtoESP, 0x500, a1, a3, spiOnly},
		{"spi only is per family", ProtoESP, 0x500, b2, b1, nil},
		{"v6 exact", ProtoESP, 0x600, b2, b1, exact6},
		{"v6 spi only", ProtoESP, 0x600, b1, b2, spiOnly6},
		{"v4 has no spi-only 0x600", ProtoESP, 0x600, a2, a1, nil},
		{"unknown spi", ProtoESP, 0x501, a2, a1, nil},
		{"proto", ProtoAH, 0x500, a2, a1, nil},
		{"ah", ProtoAH, 0x700, a2, a1, ah},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := s.Inbound(tc.proto, tc.spi, tc.dst, tc.src); got != tc.want {
				t.Fatalf("Inbound = %v, want %v", got, tc.want)
			}
		})
	}
	// Inbound returns SAs whatever their state; the caller checks.
	exact.SetState(StateLarval)
	if s.Inbound(ProtoESP, 0x500, a2, a1) != exact {
		t.Fatal("Inbound filtered by state")
	}
	// Without wildcard SAs the second probe is skipped, and still correct.
	s.Delete(ProtoESP, netip.Addr{}, z4, 0x500)
	s.Delete(ProtoESP, netip.Addr{}, z6, 0x600)
	if s.wild.Load() != 0 || s.Inbound(ProtoESP, 0x500, a1, a3) != nil {
		t.Fatal("wildcard bookkeeping")
	}
}

func TestOutbound(t *testing.T) {
	s := NewStore()
	mkm := func(spi uint32, mode Mode, reqid uint32, st State) *SA {
		sa := mkc(t, Config{Proto: ProtoESP, Src: a1, Dst: a2, SPI: spi, Mode: mode, ReqID: reqid})
		mustAdd(t, s, sa)
		sa.SetState(st)
		return sa
	}
	old := mkm(0x100, ModeTunnel, 1, StateMature)
	mid := mkm(0x101, ModeTunnel, 1, StateMature)
	dyingNew := mkm(0x102, ModeTunnel, 1, StateDying)
	larval := mkm(0x103, ModeTunnel, 1, StateLarval)
	dead := mkm(0x104, ModeTunnel, 1, StateDead)
	anyMode := mkm(0x105, ModeAny, 2, StateMature)
	transp := mkm(0x106, ModeTransport, 2, StateMature)
	onlyDying1 := mkm(0x107, ModeTunnel, 3, StateDying)
	onlyDying2 := mkm(0x108, ModeTunnel, 3, StateDying)
	_, _ = larval, dead
	tests := []struct {
		name      string
		mode      Mode
		reqid     uint32
		preferOld bool
		want      *SA
	}{
		{"newest mature, any reqid", ModeAny, 0, false, transp},
		{"oldest mature, any reqid", ModeAny, 0, true, old},
		{"reqid 1 newest: mature over dying", ModeTunnel, 1, false, mid},
		{"reqid 1 oldest", ModeTunnel, 1, true, old},
		{"reqid 2 tunnel: SA mode any", ModeTunnel, 2, false, anyMode},
		{"reqid 2 transport newest", ModeTransport, 2, false, transp},
		{"reqid 2 transport oldest", ModeTransport, 2, true, anyMode},
		{"request mode any", ModeAny, 2, false, transp},
		{"reqid 1 transport: none", ModeTransport, 1, false, nil},
		{"only dying newest", ModeTunnel, 3, false, onlyDying2},
		{"only dying oldest", ModeTunnel, 3, true, onlyDying1},
		{"unknown reqid", ModeAny, 9, false, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := s.Outbound(ProtoESP, tc.mode, a1, a2, tc.reqid, tc.preferOld); got != tc.want {
				t.Fatalf("Outbound = %v, want %v", got, tc.want)
			}
		})
	}
	if s.Outbound(ProtoAH, ModeAny, a1, a2, 0, false) != nil || s.Outbound(ProtoESP, ModeAny, a2, a1, 0, false) != nil {
		t.Fatal("matched another proto or direction")
	}
	// Hitless rekey: a new SA is taken as soon as it is added.
	mid.SetState(StateDying)
	old.SetState(StateDying)
	if got := s.Outbound(ProtoESP, ModeTunnel, a1, a2, 1, true); got != old {
		t.Fatalf("all dying, oldest = %v", got)
	}
	fresh := mkm(0x109, ModeTunnel, 1, StateMature)
	for _, preferOld := range []bool{false, true} {
		if got := s.Outbound(ProtoESP, ModeTunnel, a1, a2, 1, preferOld); got != fresh {
			t.Fatalf("preferOld=%v: got %v, want the new mature SA", preferOld, got)
		}
	}
	// dyingNew is never chosen while a mature one exists.
	if got := s.Outbound(ProtoESP, ModeTunnel, a1, a2, 1, false); got == dyingNew {
		t.Fatal("dying preferred")
	}
}

func TestGetSPI(t *testing.T) {
	s := NewStore()
	tests := []struct {
		name     string
		proto    Proto
		min, max uint32
		lo, hi   uint32
		err      error
	}{
		{"default", ProtoESP, 0, 0, DefaultSPIMin, DefaultSPIMax, nil},
		{"range", ProtoESP, 0x2000, 0x2fff, 0x2000, 0x2fff, nil},
		{"size 1", ProtoESP, 0x4242, 0x4242, 0x4242, 0x4242, nil},
		{"size 1 taken", ProtoESP, 0x4242, 0x4242, 0, 0, ErrNoSPI},
		{"same SPI other proto", ProtoAH, 0x4242, 0x4242, 0x4242, 0x4242, nil},
		{"reserved only", ProtoESP, 1, 255, 0, 0, ErrNoSPI},
		{"reserved clamped", ProtoESP, 0, 256, 256, 256, nil},
		{"ipcomp default", ProtoIPComp, 0, 0, DefaultSPIMin, 0xffff, nil},
		{"ipcomp cap", ProtoIPComp, 0xfffe, 0xfffff, 0xfffe, 0xffff, nil},
		{"inverted", ProtoESP, 10, 5, 0, 0, ErrInvalid},
		{"bad proto", Proto(6), 0, 0, 0, 0, ErrInvalid},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sa, err := s.GetSPI(tc.proto, a1, a2, tc.min, tc.max, 5, ModeTunnel, t0)
			if !errors.Is(err, tc.err) {
				t.Fatalf("GetSPI = %v, want %v", err, tc.err)
			}
			if err != nil {
				return
			}
			if sa.SPI < tc.lo || sa.SPI > tc.hi || sa.State() != StateLarval || sa.ReqID != 5 || sa.Mode != ModeTunnel || sa.Proto != tc.proto {
				t.Fatalf("GetSPI = %v", sa)
			}
			if got, ok := s.Get(tc.proto, a1, a2, sa.SPI); !ok || got != sa {
				t.Fatal("larval SA not installed")
			}
		})
	}
	// Exhaust a range: every SPI once, then ErrNoSPI.
	seen := map[uint32]bool{}
	for range 200 {
		sa, err := s.GetSPI(ProtoESP, a1, a3, 0x1000, 0x1000+199, 0, ModeAny, t0)
		if err != nil {
			t.Fatalf("after %d: %v", len(seen), err)
		}
		if seen[sa.SPI] {
			t.Fatalf("SPI %#x twice", sa.SPI)
		}
		seen[sa.SPI] = true
	}
	if _, err := s.GetSPI(ProtoESP, a1, a3, 0x1000, 0x1000+199, 0, ModeAny, t0); !errors.Is(err, ErrNoSPI) {
		t.Fatalf("exhausted range: %v", err)
	}
	// Another destination has its own SPI space.
	if _, err := s.GetSPI(ProtoESP, a1, a2, 0x1000, 0x1000, 0, ModeAny, t0); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetSPI(ProtoESP, netip.Addr{}, a2, 0, 0, 0, ModeAny, t0); !errors.Is(err, ErrInvalid) {
		t.Fatalf("invalid src: %v", err)
	}
}

func TestApply(t *testing.T) {
	s := NewStore()
	x := mk(t, ProtoESP, a1, a2, 0x100)
	boom := errors.New("boom")
	err := s.Apply(func(tx *Txn) error {
		if err := tx.Add(x); err != nil {
			return err
		}
		if err := tx.Add(mk(t, ProtoESP, a1, a2, 0x100)); !errors.Is(err, ErrExists) {
			t.Errorf("dup Add in tx = %v", err)
		}
		if got, ok := tx.Get(ProtoESP, a1, a2, 0x100); !ok || got != x {
			t.Error("tx.Get")
		}
		l, err := tx.GetSPI(ProtoESP, a1, a2, 0x200, 0x200, 0, ModeAny, t0)
		if err != nil {
			return err
		}
		if old, err := tx.Update(mk(t, ProtoESP, a1, a2, 0x200)); err != nil || old != l {
			t.Errorf("tx.Update = %v, %v", old, err)
		}
		mustAddTx(t, tx, mk(t, ProtoESP, a1, a3, 0x300), mk(t, ProtoESP, a1, a3, 0x301))
		if got := tx.DeleteAll(ProtoESP, a1, a3); len(got) != 2 {
			t.Errorf("tx.DeleteAll = %v", got)
		}
		if _, err := tx.Delete(ProtoESP, a1, a2, 0x200); err != nil {
			t.Error(err)
		}
		return boom
	})
	if err != boom {
		t.Fatalf("Apply = %v", err)
	}
	// Not atomic: changes before the error stay.
	if s.Len() != 1 || s.Inbound(ProtoESP, 0x100, a2, a1) != x {
		t.Fatalf("Len = %d", s.Len())
	}
}

func mustAddTx(tb testing.TB, tx *Txn, sas ...*SA) {
	tb.Helper()
	for _, sa := range sas {
		if err := tx.Add(sa); err != nil {
			tb.Fatal(err)
		}
	}
}

// TestResize grows and shrinks the tables while checking every lookup.
func TestResize(t *testing.T) {
	s := NewStore()
	const n = 5000
	sas := make([]*SA, n)
	for i := range sas {
		sas[i] = mk(t, ProtoESP, v4(172, i), v4(10, i), uint32(0x1000+i))
		mustAdd(t, s, sas[i])
	}
	if nb := len(s.in.Load().buckets); nb*inLoad < n || nb*inLoad > 4*n {
		t.Fatalf("in buckets %d for %d SAs", nb, n)
	}
	if nb := len(s.out.Load().buckets); nb*outLoad < n || nb*outLoad > 4*n || s.groups != n {
		t.Fatalf("out buckets %d, groups %d", nb, s.groups)
	}
	for i, sa := range sas {
		if s.Inbound(ProtoESP, sa.SPI, sa.Dst, sa.Src) != sa || s.Outbound(ProtoESP, ModeAny, sa.Src, sa.Dst, 0, false) != sa {
			t.Fatalf("SA %d not found", i)
		}
	}
	for _, sa := range sas[:n-10] {
		if _, err := s.Delete(ProtoESP, sa.Src, sa.Dst, sa.SPI); err != nil {
			t.Fatal(err)
		}
	}
	if nb := len(s.in.Load().buckets); nb > minBuckets {
		t.Fatalf("in not shrunk: %d buckets", nb)
	}
	if nb := len(s.out.Load().buckets); nb > minBuckets || s.groups != 10 {
		t.Fatalf("out not shrunk: %d buckets, %d groups", nb, s.groups)
	}
	for _, sa := range sas[n-10:] {
		if s.Inbound(ProtoESP, sa.SPI, sa.Dst, sa.Src) != sa || s.Outbound(ProtoESP, ModeAny, sa.Src, sa.Dst, 0, false) != sa {
			t.Fatal("SA lost in shrink")
		}
	}
}

// v4 makes distinct addresses net.i from an index below 2^24.
func v4(net byte, i int) netip.Addr {
	return netip.AddrFrom4([4]byte{net, byte(i >> 16), byte(i >> 8), byte(i)})
}
