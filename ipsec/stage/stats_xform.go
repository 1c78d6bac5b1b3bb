package stage

import (
	"sync/atomic"

	"github.com/fastipsec/fastipsec/dataplane/stats"
	"github.com/fastipsec/fastipsec/ipsec/alg"
	"github.com/fastipsec/fastipsec/ipsec/sad"
)

// AHStats are FreeBSD's ahstat counters for one core.
type AHStats struct {
	Hdrops   atomic.Uint64 // packet shorter than the AH header
	Nopf     atomic.Uint64 // no policy for this packet
	Notdb    atomic.Uint64 // no SA for the SPI
	Badkcr   atomic.Uint64 // SA unusable (larval)
	Badauth  atomic.Uint64 // ICV check failed
	Noxform  atomic.Uint64 // AH disabled (ah_enable=0)
	Qfull    atomic.Uint64 // no buffer room
	Wrap     atomic.Uint64 // sequence number would wrap
	Replay   atomic.Uint64 // replayed or too old
	Badauthl atomic.Uint64 // AH length wrong for the SA
	Input    atomic.Uint64 // packets verified
	Output   atomic.Uint64 // packets authenticated
	Invalid  atomic.Uint64 // SA dead
	Ibytes   atomic.Uint64 // bytes in
	Obytes   atomic.Uint64 // bytes out
	Toobig   atomic.Uint64 // too big for the path MTU
	Pdrops   atomic.Uint64 // dropped by policy
	Crypto   atomic.Uint64 // malformed headers around AH
	Tunnel   atomic.Uint64 // tunnel-mode packets
	// Hist counts packets per integrity algorithm (ahs_hist); slot 0 is
	// AES-GMAC, the others are indexed by alg.AuthID.
	Hist [histSlots]atomic.Uint64
	_    [64]byte
}

// histSlots bounds alg.AuthID values (there are fewer).
const histSlots = 16

func ahHistSlot(sa *sad.SA) int {
	if sa.Sess == nil || sa.Sess.Enc() == alg.EncAESGMAC {
		return 0
	}
	return int(sa.Sess.Auth()) % histSlots
}

func (s *AHStats) count(r stats.Reason) {
	switch r {
	case stats.ReasonIPTruncated:
		s.Hdrops.Add(1)
	case stats.ReasonNoSA:
		s.Notdb.Add(1)
	case stats.ReasonSAExpired:
		s.Invalid.Add(1)
	case stats.ReasonProtoDisabled:
		s.Noxform.Add(1)
	case stats.ReasonSeqWrap:
		s.Wrap.Add(1)
	case stats.ReasonBadICV:
		s.Badauth.Add(1)
	case stats.ReasonReplay:
		s.Replay.Add(1)
	case stats.ReasonBadAHLength:
		s.Badauthl.Add(1)
	case stats.ReasonFragNeeded:
		s.Toobig.Add(1)
	case stats.ReasonPolicyDiscard, stats.ReasonPolicyMismatch, stats.ReasonPolicyNoSA:
		s.Pdrops.Add(1)
	case stats.ReasonNoBuffer:
		s.Qfull.Add(1)
	default:
		s.Crypto.Add(1)
	}
}

// IPCompStats are FreeBSD's ipcompstat counters for one core.
type IPCompStats struct {
	Hdrops    atomic.Uint64 // packet shorter than the IPComp header
	Nopf      atomic.Uint64 // no policy for this packet
	Notdb     atomic.Uint64 // no SA for the CPI
	Badkcr    atomic.Uint64 // SA unusable (larval)
	Qfull     atomic.Uint64 // no buffer room
	Noxform   atomic.Uint64 // IPComp disabled (ipcomp_enable=0)
	Wrap      atomic.Uint64 // (no sequence numbers; kept for the layout)
	Input     atomic.Uint64 // packets decompressed (or taken uncompressed)
	Output    atomic.Uint64 // packets sent
	Invalid   atomic.Uint64 // SA dead
	Ibytes    atomic.Uint64 // bytes in
	Obytes    atomic.Uint64 // bytes out
	Toobig    atomic.Uint64 // too big for the path MTU
	Pdrops    atomic.Uint64 // dropped by policy
	Crypto    atomic.Uint64 // (de)compression failures: corrupt or bounded
	Threshold atomic.Uint64 // sent uncompressed: below ipcomp_minlen
	Uncompr   atomic.Uint64 // sent uncompressed: would not shrink
	// Hist counts packets per compression algorithm (ipcomps_hist).
	Hist [4]atomic.Uint64
	_    [64]byte
}

func (s *IPCompStats) count(r stats.Reason) {
	switch r {
	case stats.ReasonIPTruncated:
		s.Hdrops.Add(1)
	case stats.ReasonNoSA:
		s.Notdb.Add(1)
	case stats.ReasonSAExpired:
		s.Invalid.Add(1)
	case stats.ReasonProtoDisabled:
		s.Noxform.Add(1)
	case stats.ReasonFragNeeded:
		s.Toobig.Add(1)
	case stats.ReasonPolicyDiscard, stats.ReasonPolicyMismatch, stats.ReasonPolicyNoSA:
		s.Pdrops.Add(1)
	case stats.ReasonNoBuffer:
		s.Qfull.Add(1)
	default:
		s.Crypto.Add(1)
	}
}

// coreAH returns core's AH counters, creating them once.
func (s *Stats) coreAH(c int) *AHStats { return s.ah.get(&s.mu, c) }

// coreIPComp returns core's IPComp counters, creating them once.
func (s *Stats) coreIPComp(c int) *IPCompStats { return s.comp.get(&s.mu, c) }

// AHTotals is a summed copy of the AH counters.
type AHTotals struct {
	Hdrops, Nopf, Notdb, Badkcr, Badauth, Noxform, Qfull, Wrap, Replay, Badauthl uint64
	Input, Output, Invalid, Ibytes, Obytes, Toobig, Pdrops, Crypto, Tunnel       uint64
	Hist                                                                         map[string]uint64
}

// AH sums the AH counters of every core.
func (s *Stats) AH() AHTotals {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := AHTotals{Hist: map[string]uint64{}}
	sumCounters(s.ah.all, &t)
	for _, e := range s.ah.all {
		for i := range e.Hist {
			if v := e.Hist[i].Load(); v != 0 {
				name := alg.AuthID(i).String()
				if i == 0 {
					name = alg.EncAESGMAC.String()
				}
				t.Hist[name] += v
			}
		}
	}
	return t
}

// IPCompTotals is a summed copy of the IPComp counters.
type IPCompTotals struct {
	Hdrops, Nopf, Notdb, Badkcr, Qfull, Noxform, Wrap, Input, Output    uint64
	Invalid, Ibytes, Obytes, Toobig, Pdrops, Crypto, Threshold, Uncompr uint64
	Hist                                                                map[string]uint64
}

// IPComp sums the IPComp counters of every core.
func (s *Stats) IPComp() IPCompTotals {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := IPCompTotals{Hist: map[string]uint64{}}
	sumCounters(s.comp.all, &t)
	for _, e := range s.comp.all {
		if v := e.Hist[2].Load(); v != 0 {
			t.Hist["deflate"] += v
		}
	}
	return t
}
