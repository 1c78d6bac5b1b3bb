package stage

import (
	"reflect"
	"sync"
	"sync/atomic"

	"github.com/fastipsec/fastipsec/dataplane/stats"
	"github.com/fastipsec/fastipsec/ipsec/alg"
)

// ESPStats are FreeBSD's espstat counters for one core.
type ESPStats struct {
	Hdrops  atomic.Uint64 // packet shorter than the ESP header
	Nopf    atomic.Uint64 // no policy for this packet
	Notdb   atomic.Uint64 // no SA for the SPI
	Badkcr  atomic.Uint64 // SA unusable (expired, larval)
	Noxform atomic.Uint64 // ESP disabled (esp_enable=0)
	Badilen atomic.Uint64 // bad payload length
	Wrap    atomic.Uint64 // sequence number would wrap
	Badenc  atomic.Uint64 // bad padding or trailer after decryption
	Badauth atomic.Uint64 // ICV check failed
	Replay  atomic.Uint64 // replayed or too old
	Input   atomic.Uint64 // packets decapsulated
	Output  atomic.Uint64 // packets encapsulated
	Invalid atomic.Uint64 // SA dead
	Ibytes  atomic.Uint64 // bytes in (ESP payload)
	Obytes  atomic.Uint64 // bytes out
	Toobig  atomic.Uint64 // too big for the path MTU
	Pdrops  atomic.Uint64 // dropped by policy
	Crypto  atomic.Uint64 // crypto engine errors
	Tunnel  atomic.Uint64 // tunnel-mode packets
	// Hist counts packets per encryption algorithm (espstat's esps_hist).
	Hist [alg.NumEnc]atomic.Uint64
	_    [64]byte
}

// count maps a drop reason to its espstat counter.
func (s *ESPStats) count(r stats.Reason) {
	switch r {
	case stats.ReasonBadESPLength:
		s.Badilen.Add(1)
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
	case stats.ReasonBadPadding, stats.ReasonBadTrailer:
		s.Badenc.Add(1)
	case stats.ReasonBadICV:
		s.Badauth.Add(1)
	case stats.ReasonReplay:
		s.Replay.Add(1)
	case stats.ReasonFragNeeded:
		s.Toobig.Add(1)
	case stats.ReasonPolicyDiscard, stats.ReasonPolicyMismatch, stats.ReasonPolicyNoSA:
		s.Pdrops.Add(1)
	case stats.ReasonNoBuffer:
		s.Crypto.Add(1)
	}
}

// Stats holds every core's ESP, AH, IPComp and ACQUIRE counters.
type Stats struct {
	mu   sync.Mutex
	esp  perCore[ESPStats]
	ah   perCore[AHStats]     // stats_xform.go
	comp perCore[IPCompStats] // stats_xform.go
	acq  perCore[AcquireStats]
}

// NewStats makes an empty collection.
func NewStats() *Stats { return &Stats{} }

// perCore is one kind of counters, a set per core (under Stats.mu).
type perCore[T any] struct {
	byID map[int]*T
	all  []*T // in the order the cores came
}

// get returns core c's counters, creating them once.
func (p *perCore[T]) get(mu *sync.Mutex, c int) *T {
	mu.Lock()
	defer mu.Unlock()
	if e, ok := p.byID[c]; ok {
		return e
	}
	if p.byID == nil {
		p.byID = map[int]*T{}
	}
	e := new(T)
	p.byID[c] = e
	p.all = append(p.all, e)
	return e
}

// sumCounters adds up the counters of every core in all into the totals t:
// each uint64 field of t takes the atomic.Uint64 field of the same name.
// (Hist, a map, is left to the caller.)
func sumCounters[T, Totals any](all []*T, t *Totals) {
	dst := reflect.ValueOf(t).Elem()
	for i := range dst.NumField() {
		f := dst.Field(i)
		if f.Kind() != reflect.Uint64 {
			continue
		}
		name := dst.Type().Field(i).Name
		for _, e := range all {
			c := reflect.ValueOf(e).Elem().FieldByName(name).Addr().Interface().(*atomic.Uint64)
			f.SetUint(f.Uint() + c.Load())
		}
	}
}

// core returns core's ESP counters, creating them once.
func (s *Stats) core(c int) *ESPStats { return s.esp.get(&s.mu, c) }

// ESPTotals is a summed copy of the ESP counters.
type ESPTotals struct {
	Hdrops, Nopf, Notdb, Badkcr, Noxform, Badilen, Wrap, Badenc, Badauth, Replay uint64
	Input, Output, Invalid, Ibytes, Obytes, Toobig, Pdrops, Crypto, Tunnel       uint64
	Hist                                                                         map[string]uint64
}

// ESP sums the counters of every core.
func (s *Stats) ESP() ESPTotals {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := ESPTotals{Hist: map[string]uint64{}}
	sumCounters(s.esp.all, &t)
	for _, e := range s.esp.all {
		for i := range e.Hist {
			if v := e.Hist[i].Load(); v != 0 {
				t.Hist[alg.EncID(i).String()] += v
			}
		}
	}
	return t
}
