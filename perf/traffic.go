// Package perf generates and sinks test traffic: UDP flows built once as
// frame templates, blasted into a port in bursts, counted where they come
// out. It drives `make run` (the demo) and the forwarding benchmarks.
//
//	Flows (templates) ─► Traffic.Tx port ─► router under test ─► Traffic.Rx port ─► counters
package perf

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"sync/atomic"

	"github.com/fastipsec/fastipsec/dataplane/hdr"
	"github.com/fastipsec/fastipsec/dataplane/pkt"
)

// FCSLen is the Ethernet frame check sequence that frame sizes count (as
// RFC 2544 does) but buffers do not carry.
const FCSLen = 4

// FlowSpec describes UDP test flows.
type FlowSpec struct {
	SrcMAC, DstMAC [6]byte
	Src, Dst       netip.Addr // both IPv4 or both IPv6
	Flows          int        // distinct source ports (default 1)
	FrameSize      int        // Ethernet frame size with FCS (default 64)
	Raw            bool       // no Ethernet header (raw-IP ports)
}

// Flows are prebuilt frames, one per flow.
type Flows struct {
	frames    [][]byte
	frameSize int
}

// BuildFlows makes the frame templates of spec.
func BuildFlows(spec FlowSpec) (*Flows, error) {
	if spec.Flows <= 0 {
		spec.Flows = 1
	}
	if spec.FrameSize == 0 {
		spec.FrameSize = 64
	}
	if !spec.Src.IsValid() || !spec.Dst.IsValid() || spec.Src.Is4() != spec.Dst.Is4() {
		return nil, errors.New("perf: source and destination must be IPv4 or IPv6 addresses of one family")
	}
	l2 := hdr.EthernetLen
	if spec.Raw {
		l2 = 0
	}
	l3 := hdr.IPv4MinLen
	if spec.Src.Is6() {
		l3 = hdr.IPv6Len
	}
	size := spec.FrameSize - FCSLen
	if size < l2+l3+hdr.UDPLen || spec.FrameSize > 9018 {
		return nil, fmt.Errorf("perf: frame size %d out of range", spec.FrameSize)
	}
	f := &Flows{frameSize: spec.FrameSize}
	for i := range spec.Flows {
		p := make([]byte, size)
		ipPkt := p[l2:]
		n := len(ipPkt) - l3 - hdr.UDPLen
		var pseudo uint64
		if spec.Src.Is4() {
			ip := hdr.IPv4(ipPkt)
			ip.SetVersionIHL(hdr.IPv4MinLen)
			ip.SetTotalLen(len(ipPkt))
			ip.SetTTL(64)
			ip.SetProtocol(hdr.ProtoUDP)
			ip.SetSrc(spec.Src.As4())
			ip.SetDst(spec.Dst.As4())
			ip.UpdateChecksum()
			pseudo = ip.PseudoSum(hdr.ProtoUDP, hdr.UDPLen+n)
		} else {
			ip := hdr.IPv6(ipPkt)
			ip.SetVersionTCFlow(0, uint32(i))
			ip.SetPayloadLen(len(ipPkt) - hdr.IPv6Len)
			ip.SetNextHeader(hdr.ProtoUDP)
			ip.SetHopLimit(64)
			s, d := spec.Src.As16(), spec.Dst.As16()
			ip.SetSrc(&s)
			ip.SetDst(&d)
			pseudo = ip.PseudoSum(hdr.ProtoUDP, hdr.UDPLen+n)
		}
		u := hdr.UDP(ipPkt[l3:])
		u.SetSrcPort(uint16(10000 + i))
		u.SetDstPort(9) // discard
		u.SetLength(hdr.UDPLen + n)
		for j := range n {
			ipPkt[l3+hdr.UDPLen+j] = byte(j)
		}
		u.SetChecksum(u.CalcChecksum(pseudo))
		if !spec.Raw {
			e := hdr.Ethernet(p)
			e.SetDst(spec.DstMAC)
			e.SetSrc(spec.SrcMAC)
			if spec.Src.Is4() {
				e.SetEtherType(hdr.EtherTypeIPv4)
			} else {
				e.SetEtherType(hdr.EtherTypeIPv6)
			}
		}
		f.frames = append(f.frames, p)
	}
	return f, nil
}

// FrameSize returns the frame size with FCS.
func (f *Flows) FrameSize() int { return f.frameSize }

// Frame returns flow i's template.
func (f *Flows) Frame(i int) []byte { return f.frames[i%len(f.frames)] }

// BurstPort is the part of a port the generator uses.
type BurstPort interface {
	RxBurst(q int, bufs []*pkt.Buf) int
	TxBurst(q int, bufs []*pkt.Buf) int
}

// Traffic sends flows into Tx and counts what arrives on Rx, on one
// goroutine (so a two-core machine keeps a core for the router).
type Traffic struct {
	Tx, Rx BurstPort
	Flows  *Flows
	Pool   *pkt.Pool
	Burst  int
	// Limit stops sending after this many packets (0: until ctx ends).
	Limit uint64
	// Window bounds the packets in flight (sent, not yet received): a
	// closed loop that finds the path's rate without overrunning its
	// queues. 0: open loop.
	Window uint64

	sent, received, rxBytes atomic.Uint64
}

// Counters is a snapshot of a Traffic's counts.
type Counters struct {
	Sent, Received, RxBytes uint64
}

// Counters returns the counts so far.
func (t *Traffic) Counters() Counters {
	return Counters{Sent: t.sent.Load(), Received: t.received.Load(), RxBytes: t.rxBytes.Load()}
}

// Run sends until ctx ends (or Limit is reached), then keeps receiving
// until drain says stop, so packets in flight are counted.
func (t *Traffic) Run(ctx context.Context, drain <-chan struct{}) {
	burst := t.Burst
	if burst <= 0 {
		burst = pkt.BurstSize
	}
	cache := t.Pool.NewCache()
	defer cache.Flush()
	tx := make([]*pkt.Buf, burst)
	rx := make([]*pkt.Buf, burst)
	next := 0
	sending := true
	for {
		if sending && (ctx.Err() != nil || (t.Limit > 0 && t.sent.Load() >= t.Limit)) {
			sending = false
		}
		if !sending {
			select {
			case <-drain:
				return
			default:
			}
		}
		if sending && (t.Window == 0 || t.sent.Load()-t.received.Load() < t.Window) {
			n := burst
			if t.Limit > 0 {
				n = int(min(uint64(n), t.Limit-t.sent.Load()))
			}
			n = cache.GetBulk(tx[:n])
			for i := range n {
				tx[i].SetBytes(t.Flows.Frame(next))
				next++
			}
			sent := t.Tx.TxBurst(0, tx[:n])
			next -= n - sent // retry the refused flows next time
			cache.PutBulk(tx[sent:n])
			t.sent.Add(uint64(sent))
		}
		// Drain the sink completely each round so it never limits the
		// router under test.
		for t.Rx != nil {
			m := t.Rx.RxBurst(0, rx)
			bytes := 0
			for _, b := range rx[:m] {
				bytes += b.Len() + FCSLen
			}
			cache.PutBulk(rx[:m])
			t.received.Add(uint64(m))
			t.rxBytes.Add(uint64(bytes))
			if m < len(rx) {
				break
			}
		}
	}
}
