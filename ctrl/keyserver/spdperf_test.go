package keyserver

import (
	"net/netip"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/fastipsec/fastipsec/ctrl/pfkey"
	"github.com/fastipsec/fastipsec/ipsec/spd"
)

// policyN is the i-th of a family of distinct outbound policies:
// 10.x.y.z/32 -> 172.16.0.0/12, TCP to port 1000+i%1000, each with one
// tunnel request, as a gateway serving many hosts installs them.
func policyN(i int) (src netip.Addr, dport uint16) {
	return netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}), uint16(1000 + i%1000)
}

func spdAddN(d pfkey.Dialect, i int, pid uint32) []byte {
	src, dport := policyN(i)
	m := &pfkey.Msg{Header: pfkey.Header{Version: pfkey.Version, Type: pfkey.MsgSPDAdd, Seq: uint32(i + 1), PID: pid},
		Src: &pfkey.Address{Proto: 6, PrefixLen: 32, Addr: netip.AddrPortFrom(src, 0)},
		Dst: &pfkey.Address{Proto: 6, PrefixLen: 12, Addr: netip.AddrPortFrom(netip.MustParseAddr("172.16.0.0"), dport)},
		Policy: &pfkey.Policy{Type: pfkey.PolicyIPsec, Dir: pfkey.DirOutbound, Priority: prioBase,
			Requests: []pfkey.IPsecRequest{{Proto: pfkey.ProtoESP, Mode: pfkey.ModeTunnel, Level: pfkey.LevelRequire,
				Src: netip.MustParseAddrPort("192.0.2.1:0"), Dst: netip.MustParseAddrPort("192.0.2.2:0")}}}}
	b, err := pfkey.Encode(d, m)
	if err != nil {
		panic(err)
	}
	return b
}

// installPolicies sends SPDADDs first..first+n-1 and reads every reply,
// checking it succeeded. lockstep waits for each reply before the next
// request (setkey); otherwise a writer goroutine pipelines them (a
// keying daemon) while this one reads.
func installPolicies(tb testing.TB, c *tclient, first, n int, lockstep bool) {
	tb.Helper()
	check := func(r []byte) {
		if len(r) < pfkey.HeaderLen || r[2] != 0 || pfkey.MsgType(r[1]) != pfkey.MsgSPDAdd {
			tb.Fatalf("SPDADD reply %x", r[:min(len(r), 16)])
		}
	}
	if lockstep {
		for i := first; i < first+n; i++ {
			c.sendRaw(spdAddN(c.d, i, c.pid))
			check(c.recvRaw())
		}
		return
	}
	errc := make(chan error, 1)
	go func() {
		for i := first; i < first+n; i++ {
			if _, err := c.c.Write(spdAddN(c.d, i, c.pid)); err != nil {
				errc <- err
				return
			}
		}
		errc <- nil
	}()
	for range n {
		check(c.recvRaw())
	}
	if err := <-errc; err != nil {
		tb.Fatal(err)
	}
}

// BenchmarkSPDAddOverSocket is SADB_X_SPDADD per second over the socket,
// one distinct policy per message, into an SPD that grows with b.N:
// lockstep waits for each reply as setkey does, pipelined streams them
// as a keying daemon does.
func BenchmarkSPDAddOverSocket(b *testing.B) {
	for _, mode := range []struct {
		name     string
		lockstep bool
	}{{"lockstep", true}, {"pipelined", false}} {
		b.Run(mode.name, func(b *testing.B) {
			e := newEnv(b, "linux")
			c := e.dial(pfkey.Linux)
			c.c.SetWriteBuffer(1 << 20)
			runtime.GC()
			b.ReportAllocs()
			b.ResetTimer()
			cpu := cpuTime()
			installPolicies(b, c, 0, b.N, mode.lockstep)
			b.StopTimer()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "policies/s")
			b.ReportMetric(float64((cpuTime()-cpu).Microseconds())/float64(b.N), "cpu-µs/policy")
			if got := e.m.SPD.Len(); got != b.N {
				b.Errorf("%d policies installed, want %d", got, b.N)
			}
		})
	}
}

// TestSPDAddMillion installs 1,000,000 distinct policies over the socket,
// one SPDADD each (the first 10,000 in lockstep, the rest pipelined), and
// checks every one is installed and is what a packet of its flow finds.
// Under -short or -race it installs 20,000.
func TestSPDAddMillion(t *testing.T) {
	n := 1000000
	if testing.Short() || raceEnabled {
		n = 20000
	}
	e := newEnv(t, "linux")
	c := e.dial(pfkey.Linux)
	c.c.SetWriteBuffer(1 << 20)
	lock := min(n/100, 10000)
	start := time.Now()
	installPolicies(t, c, 0, lock, true)
	installPolicies(t, c, lock, n-lock, false)
	took := time.Since(start)
	t.Logf("%d SPDADDs in %v (%.0f/s)", n, took.Round(time.Millisecond), float64(n)/took.Seconds())
	if got := e.m.SPD.Len(); got != n {
		t.Fatalf("%d policies installed, want %d", got, n)
	}
	dst := netip.MustParseAddr("172.31.255.254")
	bad := 0
	for i := range n {
		src, dport := policyN(i)
		k := spd.KeyFor(src, dst, 6, 40000, dport)
		p := e.m.SPD.Lookup(spd.DirOut, &k)
		if p == nil || p.Selector.Src.Addr() != src || p.Selector.DstPort.Lo != dport || p.Action != spd.ActionIPsec {
			if bad++; bad <= 5 {
				t.Errorf("policy %d: lookup found %+v", i, p)
			}
		}
		// The same flow to another port matches nothing.
		k = spd.KeyFor(src, dst, 6, 40000, dport+1000)
		if p := e.m.SPD.Lookup(spd.DirOut, &k); p != nil {
			if bad++; bad <= 5 {
				t.Errorf("policy %d: port %d matched %v", i, dport+1000, p.Selector)
			}
		}
	}
	if bad > 0 {
		t.Fatalf("%d wrong lookups of %d", bad, n)
	}
}

// cpuTime is the CPU time the process (server, client and collector) has
// used, for figures per operation that do not depend on what else the
// machine runs.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
