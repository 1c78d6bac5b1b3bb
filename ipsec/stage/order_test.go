package stage

import (
	"net/netip"
	"testing"

	"github.com/fastipsec/fastipsec/dataplane/stats"
	"github.com/fastipsec/fastipsec/ipsec/knobs"
	"github.com/fastipsec/fastipsec/ipsec/sad"
	"github.com/fastipsec/fastipsec/ipsec/spd"
)

// orderPolicy is a policy of the order tests; spi names the tunnel SA an
// ipsec policy uses (each its own reqid, so each finds its own SA).
type orderPolicy struct {
	dir      spd.Dir
	prio     int32
	src, dst string
	proto    int
	sp, dp   spd.PortRange
	action   spd.Action
	spi      uint32
}

func pr(lo, hi uint16) spd.PortRange { return spd.PortRange{Lo: lo, Hi: hi} }
func one(p uint16) spd.PortRange     { return spd.PortRange{Lo: p, Hi: p} }

var anyPort = spd.AnyPort

// The SPD is ordered (priority, higher first, then installation order)
// and the first match wins, not the most specific one; port, ICMP and
// ICMPv6 type/code selectors apply to forwarded packets in both
// directions. Each probe goes through the engine and the stages alone.
func TestPolicyOrderThroughTheStages(t *testing.T) {
	type probe struct {
		name string
		in   string // "lan" or "wan"
		pkt  []byte
		want outcome
	}
	esp := func(spi uint32) outcome { return outcome{port: "wan", spi: spi} }
	clearTo := func(port string) outcome { return outcome{port: port} }
	drop := outcome{drop: stats.ReasonPolicyDiscard}
	tests := []struct {
		name   string
		pols   []orderPolicy
		probes []probe
	}{{
		name: "v4",
		pols: []orderPolicy{
			{spd.DirOut, 0, "192.0.2.0/24", "203.0.113.0/24", spd.AnyProto, anyPort, anyPort, spd.ActionIPsec, 0xa01},
			{spd.DirOut, 10, "192.0.2.0/24", "203.0.113.0/24", 6, anyPort, one(443), spd.ActionBypass, 0},
			{spd.DirOut, 10, "192.0.2.10/32", "203.0.113.0/24", 6, anyPort, anyPort, spd.ActionDiscard, 0},
			{spd.DirOut, -5, "0.0.0.0/0", "0.0.0.0/0", spd.AnyProto, anyPort, anyPort, spd.ActionDiscard, 0},
			// More specific, same priority, later: never chosen over the first.
			{spd.DirOut, 0, "192.0.2.0/24", "203.0.113.0/25", 1, one(8), one(0), spd.ActionIPsec, 0xa02},
			{spd.DirOut, 5, "192.0.2.0/24", "203.0.113.0/24", 1, one(3), anyPort, spd.ActionNone, 0},
			{spd.DirOut, 20, "192.0.2.0/24", "203.0.113.0/24", 17, anyPort, pr(500, 501), spd.ActionBypass, 0},
			{spd.DirOut, 1, "192.0.2.0/24", "203.0.113.128/25", 17, pr(6000, 6999), anyPort, spd.ActionIPsec, 0xa03},
			// Forwarded inbound: echo requests from outside refused, the rest passes.
			{spd.DirFwd, 1, "203.0.113.0/24", "192.0.2.0/24", 1, one(8), anyPort, spd.ActionDiscard, 0},
			{spd.DirFwd, 0, "0.0.0.0/0", "0.0.0.0/0", spd.AnyProto, anyPort, anyPort, spd.ActionNone, 0},
			{spd.DirOut, 0, "203.0.113.0/24", "192.0.2.0/24", spd.AnyProto, anyPort, anyPort, spd.ActionNone, 0},
		},
		probes: []probe{
			{"udp: the broad ipsec policy", "lan", udp("192.0.2.11", "203.0.113.5", 5000, 7777, 20), esp(0xa01)},
			{"tcp/443: higher priority bypass", "lan", tcp("192.0.2.11", "203.0.113.5", 5000, 443), clearTo("wan")},
			{"tcp/443 from .10: tie, the earlier wins", "lan", tcp("192.0.2.10", "203.0.113.5", 5000, 443), clearTo("wan")},
			{"tcp/80 from .10: discard", "lan", tcp("192.0.2.10", "203.0.113.5", 5000, 80), drop},
			{"echo: the earlier equal-priority policy, not the specific one", "lan", icmp("192.0.2.11", "203.0.113.5", 8, 0), esp(0xa01)},
			{"unreachable type 3: none", "lan", icmp("192.0.2.11", "203.0.113.5", 3, 1), clearTo("wan")},
			{"udp/500 and 501: bypass at priority 20", "lan", udp("192.0.2.11", "203.0.113.5", 500, 501, 20), clearTo("wan")},
			{"udp source port range", "lan", udp("192.0.2.11", "203.0.113.200", 6500, 9, 20), esp(0xa03)},
			{"udp source port outside the range", "lan", udp("192.0.2.11", "203.0.113.200", 7000, 9, 20), esp(0xa01)},
			{"elsewhere: the catch-all discard", "lan", udp("192.0.2.11", "198.18.0.1", 5000, 7777, 20), drop},
			{"forwarded in: echo request refused", "wan", icmp("203.0.113.5", "192.0.2.11", 8, 0), drop},
			{"forwarded in: echo reply passes", "wan", icmp("203.0.113.5", "192.0.2.11", 0, 0), clearTo("lan")},
		},
	}, {
		name: "v6",
		pols: []orderPolicy{
			{spd.DirOut, 0, "2001:db8:1::/48", "2001:db8:3::/48", spd.AnyProto, anyPort, anyPort, spd.ActionIPsec, 0xb01},
			// setkey's `icmp6 135,0`: neighbour solicitations pass.
			{spd.DirOut, 100, "::/0", "::/0", 58, one(135), one(0), spd.ActionNone, 0},
			{spd.DirOut, 100, "::/0", "::/0", 58, one(136), one(0), spd.ActionNone, 0},
			{spd.DirOut, 3, "2001:db8:1::/48", "2001:db8:3::/64", 6, anyPort, pr(22, 23), spd.ActionDiscard, 0},
			{spd.DirOut, 3, "2001:db8:1::/48", "2001:db8:3::/48", 6, anyPort, one(22), spd.ActionIPsec, 0xb02},
			{spd.DirOut, -1, "::/0", "::/0", spd.AnyProto, anyPort, anyPort, spd.ActionDiscard, 0},
			{spd.DirFwd, 1, "2001:db8:3::/48", "2001:db8:1::/48", 58, one(128), anyPort, spd.ActionDiscard, 0},
			{spd.DirFwd, 0, "::/0", "::/0", spd.AnyProto, anyPort, anyPort, spd.ActionNone, 0},
			{spd.DirOut, 0, "2001:db8:3::/48", "2001:db8:1::/48", spd.AnyProto, anyPort, anyPort, spd.ActionNone, 0},
		},
		probes: []probe{
			{"udp: ipsec", "lan", udp("2001:db8:1::10", "2001:db8:3::5", 5000, 7777, 20), esp(0xb01)},
			{"neighbour solicitation 135,0: none at priority 100", "lan", icmp("2001:db8:1::10", "2001:db8:3::5", 135, 0), clearTo("wan")},
			{"neighbour solicitation with code 1: ipsec", "lan", icmp("2001:db8:1::10", "2001:db8:3::5", 135, 1), esp(0xb01)},
			{"echo 128: ipsec", "lan", icmp("2001:db8:1::10", "2001:db8:3::5", 128, 0), esp(0xb01)},
			{"ssh in the /64: the earlier discard", "lan", tcp("2001:db8:1::10", "2001:db8:3::5", 5000, 22), drop},
			{"ssh outside the /64: ipsec b2", "lan", tcp("2001:db8:1::10", "2001:db8:3:1::5", 5000, 22), esp(0xb02)},
			{"telnet outside the /64: ipsec b1", "lan", tcp("2001:db8:1::10", "2001:db8:3:1::5", 5000, 23), esp(0xb01)},
			{"elsewhere: discard", "lan", udp("2001:db8:1::10", "2001:db8:9::1", 5000, 7777, 20), drop},
			{"forwarded in: echo request refused", "wan", icmp("2001:db8:3::5", "2001:db8:1::10", 128, 0), drop},
			{"forwarded in: echo reply passes", "wan", icmp("2001:db8:3::5", "2001:db8:1::10", 129, 0), clearTo("lan")},
		},
	}}
	for _, tc := range tests {
		for _, pb := range tc.probes {
			t.Run(tc.name+"/"+pb.name, func(t *testing.T) {
				r := newRouter(t, knobs.Defaults())
				for i, op := range tc.pols {
					p := spd.Policy{Dir: op.dir, Priority: op.prio, Action: op.action,
						Selector: spd.Selector{Src: netip.MustParsePrefix(op.src), Dst: netip.MustParsePrefix(op.dst),
							Proto: op.proto, SrcPort: op.sp, DstPort: op.dp}}
					if op.action == spd.ActionIPsec {
						gw, pe := wanAddr.Addr(), peer
						if tc.name == "v6" {
							gw, pe = wanAddr6.Addr(), peer6
						}
						reqid := uint32(100 + i)
						p.Requests = []spd.Request{{Proto: sad.ProtoESP, Mode: sad.ModeTunnel, Src: gw, Dst: pe,
							Level: spd.LevelUnique, ReqID: reqid}}
						r.sa(t, op.spi, sad.ModeTunnel, gw, pe, reqid)
					}
					r.policy(t, p)
				}
				if pb.in == "lan" {
					r.lan.steps = []step{{pkts: [][]byte{pb.pkt}}}
				} else {
					r.wan.steps = []step{{pkts: [][]byte{pb.pkt}}}
				}
				if got := r.only(t, r.run(t)); got != pb.want {
					t.Errorf("got %+v, want %+v", got, pb.want)
				}
			})
		}
	}
}
