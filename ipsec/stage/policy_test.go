package stage

import (
	"fmt"
	"net/netip"
	"testing"

	"github.com/fastipsec/fastipsec/dataplane/stats"
	"github.com/fastipsec/fastipsec/ipsec/knobs"
	"github.com/fastipsec/fastipsec/ipsec/sad"
	"github.com/fastipsec/fastipsec/ipsec/spd"
)

// family holds the addresses of one address family's test network:
//
//	lan host ── [router: lan | wan] ── peer gateway ── remote net
type famNet struct {
	name               string
	lanHost, routerLan string // a host on the lan, the router's lan address
	remote             string // a host behind the peer gateway
	lanNet, remoteNet  string
	router, peer       netip.Addr // tunnel endpoints
	knobTree           string
}

var fams = []famNet{
	{"v4", "192.0.2.10", "192.0.2.1", "203.0.113.5", "192.0.2.0/24", "203.0.113.0/24",
		wanAddr.Addr(), peer, "net.inet.ipsec."},
	{"v6", "2001:db8:1::10", "2001:db8:1::1", "2001:db8:3::5", "2001:db8:1::/48", "2001:db8:3::/48",
		wanAddr6.Addr(), peer6, "net.inet6.ipsec6."},
}

// level is a request level as the table tests write it.
type level struct {
	name   string
	lv     spd.Level
	reqid  uint32 // unique:N
	deflev int    // esp_net_deflev for level default
}

var levels = []level{
	{"default(deflev=1)", spd.LevelDefault, 0, 1},
	{"default(deflev=2)", spd.LevelDefault, 0, 2},
	{"use", spd.LevelUse, 0, 1},
	{"require", spd.LevelRequire, 0, 1},
	{"unique:5", spd.LevelUnique, 5, 1},
	{"unique(auto reqid)", spd.LevelUnique, 0, 1},
}

// The reference semantics, from ipsec(4), ipsec_set_policy(3) and RFC
// 4301 §5, written apart from the code under test.
func (l level) mandatory() bool {
	return l.lv == spd.LevelRequire || l.lv == spd.LevelUnique || l.lv == spd.LevelDefault && l.deflev == 2
}

// served: an SA installed with reqid saReqID serves the request (a
// unique request with a reqid of its own takes only SAs with it).
func (l level) served(saReqID uint32) bool {
	if l.lv != spd.LevelUnique {
		return true
	}
	return l.reqid != 0 && l.reqid == saReqID
}

// action of a table case: an SPD action, or no policy at all.
type action struct {
	name string
	a    spd.Action
	none bool // no policy installed
}

var actions = []action{
	{"no-policy", 0, true},
	{"discard", spd.ActionDiscard, false},
	{"none", spd.ActionNone, false},
	{"bypass", spd.ActionBypass, false},
	{"entrust", spd.ActionEntrust, false},
	{"ipsec", spd.ActionIPsec, false},
}

func (f famNet) knobs(t testing.TB, defPolicy, deflev int) knobs.Values {
	kv := knobs.Defaults()
	var err error
	for _, s := range [][2]string{{f.knobTree + "def_policy", fmt.Sprint(defPolicy)}, {f.knobTree + "esp_net_deflev", fmt.Sprint(deflev)}} {
		if kv, err = kv.With(s[0], s[1]); err != nil {
			t.Fatal(err)
		}
	}
	return kv
}

// TestOutboundPolicyTable: every action x level, SA present or not, each
// def_policy, both families, through the engine and the stages: a packet
// forwarded from the lan towards the remote net.
func TestOutboundPolicyTable(t *testing.T) {
	const spiOut = 0x1001
	for _, f := range fams {
		for _, act := range actions {
			lvs := levels
			if act.a != spd.ActionIPsec || act.none {
				lvs = levels[:1]
			}
			for _, lv := range lvs {
				for _, present := range []bool{true, false} {
					for _, def := range []int{0, 1} {
						name := fmt.Sprintf("%s/%s/%s/sa=%v/def_policy=%d", f.name, act.name, lv.name, present, def)
						t.Run(name, func(t *testing.T) {
							r := newRouter(t, f.knobs(t, def, lv.deflev))
							if present {
								r.sa(t, spiOut, sad.ModeTunnel, f.router, f.peer, 5)
							}
							// Forwarded packets are checked against the
							// inbound SPD first (def_policy applies there too).
							r.policy(t, spd.Policy{Dir: spd.DirFwd, Action: spd.ActionNone,
								Selector: spd.Selector{Src: netip.MustParsePrefix(f.lanNet), Dst: netip.MustParsePrefix(f.remoteNet),
									Proto: spd.AnyProto, SrcPort: spd.AnyPort, DstPort: spd.AnyPort}})
							var p *spd.Policy
							if !act.none {
								p = r.policy(t, spd.Policy{Dir: spd.DirOut, Action: act.a,
									Selector: spd.Selector{Src: netip.MustParsePrefix(f.lanNet), Dst: netip.MustParsePrefix(f.remoteNet),
										Proto: spd.AnyProto, SrcPort: spd.AnyPort, DstPort: spd.AnyPort},
									Requests: ipsecRequests(act.a, sad.ModeTunnel, f.router, f.peer, lv)})
							}
							r.lan.steps = []step{{pkts: [][]byte{udp(f.lanHost, f.remote, 5000, 7777, 32)}}}
							got := r.only(t, r.run(t))

							// Reference.
							var want outcome
							acq := 0
							switch {
							case act.none || act.a == spd.ActionEntrust:
								want = outcome{port: "wan"}
								if def == 0 {
									want = outcome{drop: stats.ReasonPolicyDiscard}
								}
							case act.a == spd.ActionDiscard:
								want = outcome{drop: stats.ReasonPolicyDiscard}
							case act.a == spd.ActionNone || act.a == spd.ActionBypass:
								want = outcome{port: "wan"}
							case present && lv.served(5):
								want = outcome{port: "wan", spi: spiOut}
							default:
								acq = 1
								want = outcome{port: "wan"} // level use: in the clear
								if lv.mandatory() {
									// Held for the SA, dropped when the core stops.
									want = outcome{drop: stats.ReasonPolicyNoSA}
								}
							}
							if got != want {
								t.Errorf("got %+v, want %+v", got, want)
							}
							if len(r.acquires) != acq {
								t.Fatalf("%d ACQUIREs, want %d", len(r.acquires), acq)
							}
							if acq == 1 {
								a := r.acquires[0]
								if a.p.ID != p.ID || a.r != &a.p.Requests[0] || a.key.SrcAddr() != netip.MustParseAddr(f.lanHost) ||
									a.key.DstPort != 7777 {
									t.Errorf("ACQUIRE %+v for %+v", a, p)
								}
								if lv.lv == spd.LevelUnique && (a.r.ReqID == 0 || lv.reqid != 0 && a.r.ReqID != lv.reqid) {
									t.Errorf("ACQUIRE for a unique request carries reqid %d", a.r.ReqID)
								}
							}
						})
					}
				}
			}
		}
	}
}

func ipsecRequests(a spd.Action, mode sad.Mode, src, dst netip.Addr, lv level) []spd.Request {
	if a != spd.ActionIPsec {
		return nil
	}
	return []spd.Request{{Proto: sad.ProtoESP, Mode: mode, Src: src, Dst: dst, Level: lv.lv, ReqID: lv.reqid}}
}

// TestInboundPolicyTable: every action x level, for packets to the router
// (in) and through it (fwd), in the clear or decapsulated from a tunnel SA,
// each def_policy, both families.
func TestInboundPolicyTable(t *testing.T) {
	const spiIn = 0x2002
	for _, f := range fams {
		for _, dir := range []spd.Dir{spd.DirIn, spd.DirFwd} {
			for _, act := range actions {
				lvs := levels
				if act.a != spd.ActionIPsec || act.none {
					lvs = levels[:1]
				}
				for _, lv := range lvs {
					for _, protected := range []bool{false, true} {
						for _, def := range []int{0, 1} {
							name := fmt.Sprintf("%s/%s/%s/%s/esp=%v/def_policy=%d", f.name, dir, act.name, lv.name, protected, def)
							t.Run(name, func(t *testing.T) {
								r := newRouter(t, f.knobs(t, def, lv.deflev))
								if !act.none {
									r.policy(t, spd.Policy{Dir: dir, Action: act.a,
										Selector: spd.Selector{Src: netip.MustParsePrefix(f.remoteNet), Dst: netip.MustParsePrefix(f.lanNet),
											Proto: spd.AnyProto, SrcPort: spd.AnyPort, DstPort: spd.AnyPort},
										Requests: ipsecRequests(act.a, sad.ModeTunnel, f.peer, f.router, lv)})
								}
								if dir == spd.DirFwd {
									// On its way out, the outbound SPD applies.
									r.policy(t, spd.Policy{Dir: spd.DirOut, Action: spd.ActionNone,
										Selector: spd.Selector{Src: netip.MustParsePrefix(f.remoteNet), Dst: netip.MustParsePrefix(f.lanNet),
											Proto: spd.AnyProto, SrcPort: spd.AnyPort, DstPort: spd.AnyPort}})
								}
								dst, to := f.lanHost, "lan"
								if dir == spd.DirIn {
									dst, to = f.routerLan, "host"
								}
								in := udp(f.remote, dst, 5000, 7777, 32)
								if protected {
									r.sa(t, spiIn, sad.ModeTunnel, f.peer, f.router, 5)
									peerSA := newSA(t, spiIn, sad.ModeTunnel, f.peer, f.router, 5)
									in = espPackets(t, peerSA, in)[0]
								}
								r.wan.steps = []step{{pkts: [][]byte{in}}}
								got := r.only(t, r.run(t))

								var want outcome
								pass := outcome{port: to}
								switch {
								case act.a == spd.ActionDiscard && !act.none:
									want = outcome{drop: stats.ReasonPolicyDiscard}
								case protected && (act.none || act.a != spd.ActionIPsec):
									// RFC 4301 §5.2: what came through an SA must
									// match a policy asking for it, whatever
									// def_policy says.
									want = outcome{drop: stats.ReasonPolicyMismatch}
								case protected:
									want = pass
									if !lv.served(5) {
										want = outcome{drop: stats.ReasonPolicyMismatch}
									}
								case act.none || act.a == spd.ActionEntrust:
									want = pass
									if def == 0 {
										want = outcome{drop: stats.ReasonPolicyDiscard}
									}
								case act.a == spd.ActionIPsec && lv.mandatory():
									want = outcome{drop: stats.ReasonPolicyMismatch}
								default:
									want = pass
								}
								if got != want {
									t.Errorf("got %+v, want %+v", got, want)
								}
								if len(r.acquires) != 0 {
									t.Errorf("inbound raised %d ACQUIREs", len(r.acquires))
								}
							})
						}
					}
				}
			}
		}
	}
}
