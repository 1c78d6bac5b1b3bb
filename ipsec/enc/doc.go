// Package enc is the enc0 interface of FreeBSD's enc(4): a virtual port
// that sees IPsec traffic in the clear — outbound packets just before
// their first encapsulation, inbound packets right after their last
// decapsulation — so it can filter them and capture them.
//
//	control plane: SetRules / StartCapture ─► new View ─► atomic publish
//	                                                          │
//	ipsec-out stage ─► Tap.Load (one atomic load per batch) ──┤ nil: nothing to do
//	ipsec-in  stage ─► Tap.Load                               ▼
//	                   Tap.Pass(view, packet, Info{dir, SPI, flags, tunnel})
//	                       ├─ copy into this tap's ring of every active Capture
//	                       │   (full ring: counted as a capture drop, never waits)
//	                       └─ rules, first match wins: pass or drop (no match: pass)
//	Capture.Poll (admin API) ─► ipsecctl ─► pcapng file, LINKTYPE_ENC (109)
//
// Which packets enc0 sees is what FreeBSD's default masks select
// (net.enc.out.ipsec_bpf_mask = net.enc.out.ipsec_filter_mask = 1, before
// outbound processing; net.enc.in.ipsec_bpf_mask =
// net.enc.in.ipsec_filter_mask = 2, after inbound processing); the masks
// themselves are not offered as knobs. As in ipsec(4), the rules apply to
// the inner packets of tunnel-mode SAs only when the filtertunnel knob of
// the inner packet's family (net.inet.ipsec.filtertunnel,
// net.inet6.ipsec6.filtertunnel) is 1; transport-mode packets are always
// filtered. Capture sees every packet enc0 sees, filtered or not, like bpf
// on FreeBSD's enc0.
//
// Rules are compiled and published with atomic.Pointer, so the dataplane
// takes no lock; with no rules and no capture the published View is nil
// and a stage pays one atomic load per batch. A Tap belongs to one stage
// instance on one core: it is the single producer of its capture rings
// and the only writer of its row of rule hit counters.
package enc
