package stage

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"runtime"
	"testing"
	"time"

	"github.com/fastipsec/fastipsec/dataplane/stats"
	"github.com/fastipsec/fastipsec/ipsec/alg"
	"github.com/fastipsec/fastipsec/ipsec/knobs"
	"github.com/fastipsec/fastipsec/ipsec/sad"
	"github.com/fastipsec/fastipsec/ipsec/spd"
)

// nullSA is an ESP-NULL/HMAC-SHA256 tunnel SA: its packets carry the inner
// packet readable at a fixed offset, so tests can tell which one it was.
func nullSA(t testing.TB, spi uint32, reqid uint32) *sad.SA {
	t.Helper()
	s, err := sad.New(sad.Config{SPI: spi, Proto: sad.ProtoESP, Mode: sad.ModeTunnel, Src: wanAddr.Addr(), Dst: peer,
		ReqID: reqid, Enc: alg.EncNull, Auth: alg.AuthHMACSHA256, AuthKey: make([]byte, 32)}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// innerPort returns the UDP source port of the IPv4 packet inside an
// ESP-NULL tunnel packet (outer IPv4 20 + ESP 8, inner IPv4 20).
func innerPort(t testing.TB, p []byte) uint16 {
	t.Helper()
	if espSPI(p) == 0 || len(p) < 20+8+20+2 {
		t.Fatalf("not an ESP-NULL tunnel packet: %x", p)
	}
	return binary.BigEndian.Uint16(p[20+8+20:])
}

func tunnelPolicy(lv spd.Level, src, dst string) spd.Policy {
	return spd.Policy{Dir: spd.DirOut, Action: spd.ActionIPsec,
		Selector: spd.Selector{Src: netip.MustParsePrefix(src), Dst: netip.MustParsePrefix(dst), Proto: spd.AnyProto,
			SrcPort: spd.AnyPort, DstPort: spd.AnyPort},
		Requests: []spd.Request{{Proto: sad.ProtoESP, Mode: sad.ModeTunnel, Src: wanAddr.Addr(), Dst: peer, Level: lv}}}
}

// flows returns n UDP packets from the lan host to the remote host with
// source ports from, from+1, ...
func flows(from, n int) [][]byte {
	var out [][]byte
	for i := range n {
		out = append(out, udp("192.0.2.10", "203.0.113.5", uint16(from+i), 7777, 16))
	}
	return out
}

func wantPorts(t testing.TB, r *router, want []int) {
	t.Helper()
	var got []int
	for _, p := range r.wan.sent {
		got = append(got, int(innerPort(t, p)))
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("wan sent inner ports %v, want %v", got, want)
	}
}

func seq(from, n int) []int {
	var s []int
	for i := range n {
		s = append(s, from+i)
	}
	return s
}

// Packets waiting for an SA leave in order once it is installed, ahead of
// the packets that come after; one ACQUIRE covers them (blockacq).
func TestAcquireQueueReleasesInOrder(t *testing.T) {
	r := newRouter(t, knobs.Defaults())
	p := r.policy(t, tunnelPolicy(spd.LevelRequire, "192.0.2.0/24", "203.0.113.0/24"))
	r.lan.steps = []step{
		{pkts: flows(1000, 5)},
		{pkts: flows(1005, 3)},
		{fn: func() { r.deps.SAD.Add(nullSA(t, 0x3003, 0)) }},
		{pkts: flows(1008, 4)},
	}
	tot := r.run(t)
	wantPorts(t, r, seq(1000, 12))
	if len(r.acquires) != 1 || r.acquires[0].p.ID != p.ID || r.acquires[0].key.SrcPort != 1000 {
		t.Fatalf("ACQUIREs %+v", r.acquires)
	}
	a := r.deps.Stats.Acquire()
	if a.Sent != 1 || a.Suppressed != 7 || a.Held != 8 || a.Released != 8 || a.Overflow != 0 || len(tot.Drops) != 0 {
		t.Fatalf("acquire stats %+v, drops %v", a, tot.Drops)
	}
}

// A policy holds 16 packets and a core 256; the rest are dropped and
// counted as acquire-queue-full; what was held leaves once the SAs come.
func TestAcquireQueueBounds(t *testing.T) {
	r := newRouter(t, knobs.Defaults())
	r.policy(t, tunnelPolicy(spd.LevelRequire, "192.0.2.0/24", "203.0.113.0/24"))
	r.lan.steps = []step{
		{pkts: flows(1000, 20)},
		{fn: func() { r.deps.SAD.Add(nullSA(t, 0x3003, 0)) }},
		{fn: func() { time.Sleep(2 * time.Millisecond) }}, // a tick releases them
	}
	tot := r.run(t)
	wantPorts(t, r, seq(1000, holdPerPolicy))
	if d := tot.Drops[stats.ReasonAcquireQueue.String()]; d != 20-holdPerPolicy {
		t.Fatalf("drops %v", tot.Drops)
	}

	// Twenty policies of 16 packets each overflow the core's 256.
	r = newRouter(t, knobs.Defaults())
	var all [][]byte
	for i := range 20 {
		r.policy(t, tunnelPolicy(spd.LevelRequire, "192.0.2.0/24", fmt.Sprintf("203.0.113.%d/32", i)))
		for j := range holdPerPolicy {
			all = append(all, udp("192.0.2.10", fmt.Sprintf("203.0.113.%d", i), uint16(j), 7777, 16))
		}
	}
	r.lan.steps = []step{{pkts: all}}
	tot = r.run(t)
	a := r.deps.Stats.Acquire()
	// 16 packets of a policy raise 2 ACQUIREs under blockacq_count 10.
	if a.Held != holdPerCore || a.Overflow != 20*holdPerPolicy-holdPerCore || a.Sent != 40 {
		t.Fatalf("acquire stats %+v", a)
	}
	if tot.Drops[stats.ReasonAcquireQueue.String()] != 20*holdPerPolicy-holdPerCore ||
		tot.Drops[stats.ReasonPolicyNoSA.String()] != holdPerCore {
		t.Fatalf("drops %v", tot.Drops)
	}
}

// Held packets are dropped (policy-no-sa) after blockacq_lifetime; the
// buffers go back to the pool (run checks).
func TestAcquireQueueTimeout(t *testing.T) {
	kn, _ := knobs.Defaults().With("net.key.blockacq_lifetime", "1")
	r := newRouter(t, kn)
	r.policy(t, tunnelPolicy(spd.LevelRequire, "192.0.2.0/24", "203.0.113.0/24"))
	r.lan.steps = []step{
		{pkts: flows(1000, 3)},
		{fn: func() { time.Sleep(1100 * time.Millisecond) }},
		{fn: func() { time.Sleep(5 * time.Millisecond) }}, // a tick runs between
		{fn: func() { r.deps.SAD.Add(nullSA(t, 0x3003, 0)) }},
		{pkts: flows(1003, 1)},
	}
	tot := r.run(t)
	wantPorts(t, r, []int{1003})
	if a := r.deps.Stats.Acquire(); a.Expired != 3 || a.Released != 0 {
		t.Fatalf("acquire stats %+v", a)
	}
	if tot.Drops[stats.ReasonPolicyNoSA.String()] != 3 {
		t.Fatalf("drops %v", tot.Drops)
	}
}

// blockacq as key.c: after an ACQUIRE, the next goes out once more than
// blockacq_count packets were counted, or once blockacq_lifetime passed.
func TestAcquireRateLimit(t *testing.T) {
	for _, tc := range []struct {
		count, packets int
		want           []int // source ports of the packets that raised one
	}{
		{3, 12, []int{0, 5, 10}}, // sent, then 4 counted (1..4 > 3 on the 5th)
		{0, 5, []int{0, 2, 4}},
		{10, 12, []int{0}},
	} {
		t.Run(fmt.Sprint(tc.count), func(t *testing.T) {
			kn, _ := knobs.Defaults().With("net.key.blockacq_count", fmt.Sprint(tc.count))
			r := newRouter(t, kn)
			r.policy(t, tunnelPolicy(spd.LevelUse, "192.0.2.0/24", "203.0.113.0/24")) // use: they pass in the clear
			r.lan.steps = []step{{pkts: flows(0, tc.packets)}}
			r.run(t)
			var got []int
			for _, a := range r.acquires {
				got = append(got, int(a.key.SrcPort))
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.want) || len(r.wan.sent) != tc.packets {
				t.Fatalf("ACQUIRE for %v, want %v; %d sent", got, tc.want, len(r.wan.sent))
			}
		})
	}
	// The lifetime lapses: a new ACQUIRE without more packets counted.
	kn, _ := knobs.Defaults().With("net.key.blockacq_lifetime", "1")
	r := newRouter(t, kn)
	r.policy(t, tunnelPolicy(spd.LevelUse, "192.0.2.0/24", "203.0.113.0/24"))
	r.lan.steps = []step{{pkts: flows(0, 2)}, {fn: func() { time.Sleep(1100 * time.Millisecond) }}, {pkts: flows(2, 2)}}
	r.run(t)
	if len(r.acquires) != 2 || r.acquires[1].key.SrcPort != 2 {
		t.Fatalf("ACQUIREs %+v", r.acquires)
	}
}

// When the policy a packet waits for changes, the packet is classified
// again: here the new policy lets it pass in the clear.
func TestAcquireQueueFollowsPolicyChanges(t *testing.T) {
	r := newRouter(t, knobs.Defaults())
	p := r.policy(t, tunnelPolicy(spd.LevelRequire, "192.0.2.0/24", "203.0.113.0/24"))
	r.lan.steps = []step{
		{pkts: flows(1000, 3)},
		{fn: func() {
			np := *p
			np.Action, np.Requests = spd.ActionBypass, nil
			if _, err := r.deps.SPD.Update(np); err != nil {
				t.Error(err)
			}
		}},
		{pkts: flows(1003, 1)},
	}
	r.run(t)
	if len(r.wan.sent) != 4 {
		t.Fatalf("%d sent", len(r.wan.sent))
	}
	for i, b := range r.wan.sent {
		if espSPI(b) != 0 || binary.BigEndian.Uint16(b[20:]) != uint16(1000+i) {
			t.Fatalf("packet %d: %x", i, b)
		}
	}
}

// A rekey: preferred_oldsa 1 keeps using the old SA until it is deleted,
// then the new one; no packet is lost.
func TestRekeySwitchesSAs(t *testing.T) {
	r := newRouter(t, knobs.Defaults())
	r.policy(t, tunnelPolicy(spd.LevelRequire, "192.0.2.0/24", "203.0.113.0/24"))
	old := nullSA(t, 0x3003, 0)
	r.deps.SAD.Add(old)
	r.lan.steps = []step{
		{pkts: flows(0, 10)},
		{fn: func() { r.deps.SAD.Add(nullSA(t, 0x4004, 0)) }},
		{pkts: flows(10, 10)},
		{fn: func() { r.deps.SAD.Delete(sad.ProtoESP, old.Src, old.Dst, old.SPI) }},
		{pkts: flows(20, 10)},
	}
	tot := r.run(t)
	wantPorts(t, r, seq(0, 30))
	spis := map[uint32]int{}
	for _, p := range r.wan.sent {
		spis[espSPI(p)]++
	}
	if spis[0x3003] != 20 || spis[0x4004] != 10 || len(tot.Drops) != 0 {
		t.Fatalf("SPIs %v, drops %v", spis, tot.Drops)
	}
}

// Holding and releasing packets allocates nothing per packet: many
// hold/release cycles cost the same few allocations as one.
func TestAcquireQueueAllocatesNothingPerPacket(t *testing.T) {
	if testing.Short() {
		t.Skip("allocation count over many cycles")
	}
	measure := func(cycles int) uint64 {
		r := newRouter(t, knobs.Defaults())
		r.wan.discard = true
		r.policy(t, tunnelPolicy(spd.LevelRequire, "192.0.2.0/24", "203.0.113.0/24"))
		var ctl uint64 // allocations of the control plane (SA add/delete) in the script
		var ms runtime.MemStats
		ctlStep := func(fn func()) step {
			return step{fn: func() {
				runtime.ReadMemStats(&ms)
				before := ms.Mallocs
				fn()
				runtime.ReadMemStats(&ms)
				ctl += ms.Mallocs - before
			}}
		}
		pkts := flows(0, holdPerPolicy)
		sa := nullSA(t, 0x3003, 0)
		for range cycles {
			r.lan.steps = append(r.lan.steps, step{pkts: pkts},
				ctlStep(func() { r.deps.SAD.Add(sa) }),
				step{pkts: pkts},
				ctlStep(func() { r.deps.SAD.Delete(sad.ProtoESP, sa.Src, sa.Dst, sa.SPI); sa.SetState(sad.StateMature) }))
		}
		runtime.GC()
		runtime.ReadMemStats(&ms)
		before := ms.Mallocs
		r.run(t)
		runtime.ReadMemStats(&ms)
		if a := r.deps.Stats.Acquire(); a.Released != uint64(cycles*holdPerPolicy) {
			t.Fatalf("released %d", a.Released)
		}
		return ms.Mallocs - before - ctl
	}
	small, big := measure(4), measure(104)
	// 100 more cycles move 3,200 more packets through hold and release.
	per := float64(int64(big)-int64(small)) / 3200 // a few runtime allocations are noise
	t.Logf("allocations: %d for 4 cycles, %d for 104 (%.4f per packet)", small, big, per)
	if per > 0.05 {
		t.Fatalf("%.3f allocations per packet (%d vs %d)", per, small, big)
	}
}

// A packet whose SA is deleted between its lookup and its encapsulation
// (here by the ACQUIRE callback another packet of the burst triggers)
// goes round again and leaves with the new SA instead of being dropped.
func TestRequeueWhenTheSADiesMidBurst(t *testing.T) {
	r := newRouter(t, knobs.Defaults())
	r.policy(t, tunnelPolicy(spd.LevelRequire, "192.0.2.0/24", "203.0.113.0/25"))
	r.policy(t, tunnelPolicy(spd.LevelRequire, "192.0.2.0/24", "203.0.113.200/32"))
	old, repl := nullSA(t, 0x3003, 0), nullSA(t, 0x4004, 0)
	r.deps.SAD.Add(old)
	r.deps.SAD.Add(repl)
	r.deps.Acquire = func(*spd.Policy, *spd.Request, spd.Key) {
		r.deps.SAD.Delete(sad.ProtoESP, old.Src, old.Dst, old.SPI)
	}
	// The first finds old (preferred_oldsa); the second's policy asks for
	// an SA with another reqid, raising the ACQUIRE that deletes old.
	r.deps.SPD.Flush()
	r.policy(t, tunnelPolicy(spd.LevelRequire, "192.0.2.0/24", "203.0.113.0/25"))
	p2 := tunnelPolicy(spd.LevelUnique, "192.0.2.0/24", "203.0.113.200/32")
	p2.Requests[0].ReqID = 77
	r.policy(t, p2)
	r.lan.steps = []step{{pkts: [][]byte{udp("192.0.2.10", "203.0.113.5", 1, 7777, 16), udp("192.0.2.10", "203.0.113.200", 2, 7777, 16)}}}
	tot := r.run(t)
	if len(r.wan.sent) != 1 || espSPI(r.wan.sent[0]) != 0x4004 || innerPort(t, r.wan.sent[0]) != 1 {
		t.Fatalf("sent %x", r.wan.sent)
	}
	// The second waited for its SA and was dropped when the core stopped.
	if len(tot.Drops) != 1 || tot.Drops[stats.ReasonPolicyNoSA.String()] != 1 {
		t.Fatalf("drops %v", tot.Drops)
	}
}
