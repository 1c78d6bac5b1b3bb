package stage

import (
	"net/netip"
	"testing"
	"time"

	"github.com/fastipsec/fastipsec/ipsec/sad"
	"github.com/fastipsec/fastipsec/ipsec/spd"
)

// TestPolicyUseStamped: a forwarded packet stamps the fwd policy that
// admitted it (inbound check) and the out policy that encrypted it, with
// the current second; a policy no packet matched stays unused.
func TestPolicyUseStamped(t *testing.T) {
	for _, f := range fams {
		t.Run(f.name, func(t *testing.T) {
			r := newRouter(t, f.knobs(t, 1, 1))
			r.sa(t, 0x1001, sad.ModeTunnel, f.router, f.peer, 0)
			sel := spd.Selector{Src: netip.MustParsePrefix(f.lanNet), Dst: netip.MustParsePrefix(f.remoteNet),
				Proto: spd.AnyProto, SrcPort: spd.AnyPort, DstPort: spd.AnyPort}
			fwd := r.policy(t, spd.Policy{Dir: spd.DirFwd, Action: spd.ActionNone, Selector: sel})
			out := r.policy(t, spd.Policy{Dir: spd.DirOut, Action: spd.ActionIPsec, Selector: sel,
				Requests: ipsecRequests(spd.ActionIPsec, sad.ModeTunnel, f.router, f.peer, levels[3])})
			other := sel
			other.Proto = 6
			idle := r.policy(t, spd.Policy{Dir: spd.DirOut, Action: spd.ActionIPsec, Selector: other, Priority: -1,
				Requests: ipsecRequests(spd.ActionIPsec, sad.ModeTunnel, f.router, f.peer, levels[3])})
			before := time.Now().Unix()
			r.lan.steps = []step{{pkts: [][]byte{udp(f.lanHost, f.remote, 5000, 7777, 32)}}}
			if got := r.only(t, r.run(t)); got.port != "wan" || got.spi != 0x1001 {
				t.Fatalf("packets went %+v", got)
			}
			after := time.Now().Unix()
			for name, p := range map[string]*spd.Policy{"fwd": fwd, "out": out} {
				if u := p.LastUsed().Unix(); u < before || u > after {
					t.Errorf("%s policy last used %d, want within [%d, %d]", name, u, before, after)
				}
			}
			if !idle.LastUsed().IsZero() {
				t.Errorf("unmatched policy last used %v", idle.LastUsed())
			}
		})
	}
}
