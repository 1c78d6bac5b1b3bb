package keyserver

import (
	"bytes"
	"encoding/binary"
	"net/netip"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/fastipsec/fastipsec/ctrl"
	"github.com/fastipsec/fastipsec/ctrl/pfkey"
	"github.com/fastipsec/fastipsec/ipsec/alg"
	"github.com/fastipsec/fastipsec/ipsec/sad"
)

// fill installs n keyed AES-GCM SAs straight into the SAD.
func fill(tb testing.TB, m *ctrl.Manager, n int) {
	tb.Helper()
	now := time.Now()
	const batch = 4096
	for lo := 0; lo < n; lo += batch {
		sas := make([]*sad.SA, 0, batch)
		for i := lo; i < min(lo+batch, n); i++ {
			dst := netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)})
			sa, err := sad.New(sad.Config{Proto: sad.ProtoESP, SPI: uint32(0x1000 + i), Src: netip.MustParseAddr("192.0.2.1"),
				Dst: dst, Mode: sad.ModeTunnel, Enc: alg.EncAESGCM16, EncKey: gcmKey, ReplayWindow: 64}, now)
			if err != nil {
				tb.Fatal(err)
			}
			sas = append(sas, sa)
		}
		if err := m.SAD.Apply(func(tx *sad.Txn) error {
			for _, sa := range sas {
				if err := tx.Add(sa); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			tb.Fatal(err)
		}
	}
}

// TestDumpMillion: a DUMP of 1,000,000 SAs (fewer under the race
// detector) delivers every one, seq counting down to 0, while the dumping
// client pauses, another client is served in full.
func TestDumpMillion(t *testing.T) {
	n := 1000000
	if raceEnabled || testing.Short() {
		n = 20000
	}
	e := newEnv(t, "auto")
	start := time.Now()
	fill(t, e.m, n)
	runtime.GC()
	t.Logf("%d SAs installed in %v", n, time.Since(start))
	start = time.Now()
	defer func() { t.Logf("dump of %d SAs read in %v", n, time.Since(start)) }()
	a, b := e.dial(pfkey.Linux), e.dial(pfkey.Linux)
	a.send(&pfkey.Msg{Header: pfkey.Header{Type: pfkey.MsgDump, SAType: pfkey.SATypeESP}})
	want := uint32(n - 1)
	read := func(k int) {
		for range k {
			raw := a.recvRaw()
			if raw[1] != byte(pfkey.MsgDump) || raw[2] != 0 {
				t.Fatalf("message type %d errno %d in the dump", raw[1], raw[2])
			}
			if seq := binary.NativeEndian.Uint32(raw[8:]); seq != want {
				t.Fatalf("seq %d, want %d", seq, want)
			}
			want--
			if k == 1000 || want%50000 == 0 { // decode a sample fully
				m, err := pfkey.Decode(pfkey.Linux, raw)
				if err != nil || m.SA == nil || m.LifetimeCurrent == nil || m.EncKey == nil || !bytes.Equal(m.EncKey.Data, gcmKey) {
					t.Fatalf("dump entry %+v: %v", m, err)
				}
			}
		}
	}
	read(1000)
	// The dump is now stalled on a's socket; b is served regardless.
	for i := range 200 {
		r := b.roundTrip(saID(pfkey.MsgGet, uint32(0x1000+i), "192.0.2.1", netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)}).String()))
		if r.Errno != 0 || r.LifetimeCurrent == nil {
			t.Fatalf("GET during the dump: errno %v", r.Errno)
		}
	}
	read(n - 1000)
	if want != ^uint32(0) {
		t.Errorf("dump ended at seq %d", want+1)
	}
	// Nothing is left over: the next reply is the next request's.
	if r := a.roundTrip(&pfkey.Msg{Header: pfkey.Header{Type: pfkey.MsgSPDGet},
		Policy: &pfkey.Policy{Type: pfkey.PolicyIPsec, Dir: pfkey.DirOutbound, ID: 8}}); r.Errno != syscall.ENOENT {
		t.Errorf("after the dump: errno %v", r.Errno)
	}
}

// TestDumpClientLeaves: a client that disconnects in the middle of a
// dump ends it; the server goes on serving others.
func TestDumpClientLeaves(t *testing.T) {
	e := newEnv(t, "auto")
	fill(t, e.m, 20000)
	a, b := e.dial(pfkey.Linux), e.dial(pfkey.Linux)
	a.send(&pfkey.Msg{Header: pfkey.Header{Type: pfkey.MsgDump}})
	for range 10 {
		a.recvRaw()
	}
	a.c.Close()
	for range 10 {
		b.ok(saID(pfkey.MsgGet, 0x1000, "192.0.2.1", "10.0.0.0"))
	}
	for deadline := time.Now().Add(10 * time.Second); e.ks.clientCount() != 1; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d clients registered, want 1 after the dumping client left", e.ks.clientCount())
		}
	}
}
