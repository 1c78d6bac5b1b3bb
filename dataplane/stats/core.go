package stats

import "sync/atomic"

// Core holds one core's counters. Only the owning core writes them (with
// atomic adds, so readers on other goroutines see consistent values); the
// owner batches per burst where it can.
type Core struct {
	rxPackets atomic.Uint64
	rxBytes   atomic.Uint64
	forwarded atomic.Uint64
	local     atomic.Uint64 // delivered to the host path or answered
	generated atomic.Uint64 // made by the router (ICMP errors, ARP, NDP)
	txPackets atomic.Uint64
	txBytes   atomic.Uint64
	polls     atomic.Uint64
	idlePolls atomic.Uint64
	drops     [NumReasons]atomic.Uint64
	_         [64]byte // keep the next core's counters off this cache line
}

// CoreSnapshot is a copy of a core's counters.
type CoreSnapshot struct {
	RxPackets uint64            `json:"rx_packets"`
	RxBytes   uint64            `json:"rx_bytes"`
	Forwarded uint64            `json:"forwarded"`
	Local     uint64            `json:"local"`
	Generated uint64            `json:"generated"`
	TxPackets uint64            `json:"tx_packets"`
	TxBytes   uint64            `json:"tx_bytes"`
	Polls     uint64            `json:"polls"`
	IdlePolls uint64            `json:"idle_polls"`
	Drops     map[string]uint64 `json:"drops,omitempty"`
	drops     [NumReasons]uint64
}

// Drop counts one packet dropped for reason r.
func (c *Core) Drop(r Reason) { c.drops[r].Add(1) }

// DropN counts n packets dropped for reason r.
func (c *Core) DropN(r Reason, n int) { c.drops[r].Add(uint64(n)) }

// AddRx counts received packets and bytes.
func (c *Core) AddRx(n, bytes int) {
	c.rxPackets.Add(uint64(n))
	c.rxBytes.Add(uint64(bytes))
}

// AddTx counts transmitted packets and bytes.
func (c *Core) AddTx(n, bytes int) {
	c.txPackets.Add(uint64(n))
	c.txBytes.Add(uint64(bytes))
}

// AddForwarded counts forwarded packets.
func (c *Core) AddForwarded(n int) { c.forwarded.Add(uint64(n)) }

// AddLocal counts packets delivered locally.
func (c *Core) AddLocal(n int) { c.local.Add(uint64(n)) }

// AddGenerated counts packets the router made itself.
func (c *Core) AddGenerated(n int) { c.generated.Add(uint64(n)) }

// AddPoll counts one poll of all rx queues, idle when nothing came in.
func (c *Core) AddPoll(idle bool) {
	c.polls.Add(1)
	if idle {
		c.idlePolls.Add(1)
	}
}

// Drops returns the count for one reason.
func (c *Core) Drops(r Reason) uint64 { return c.drops[r].Load() }

// Snapshot copies the counters (allocates; not for the hot path).
func (c *Core) Snapshot() CoreSnapshot {
	s := CoreSnapshot{
		RxPackets: c.rxPackets.Load(), RxBytes: c.rxBytes.Load(),
		Forwarded: c.forwarded.Load(), Local: c.local.Load(),
		Generated: c.generated.Load(),
		TxPackets: c.txPackets.Load(), TxBytes: c.txBytes.Load(),
		Polls: c.polls.Load(), IdlePolls: c.idlePolls.Load(),
	}
	for r := range c.drops {
		if v := c.drops[r].Load(); v != 0 {
			if s.Drops == nil {
				s.Drops = make(map[string]uint64)
			}
			s.Drops[Reason(r).String()] = v
			s.drops[r] = v
		}
	}
	return s
}

// Drop returns the count for one reason in the snapshot.
func (s *CoreSnapshot) Drop(r Reason) uint64 { return s.drops[r] }

// TotalDrops returns all drops in the snapshot.
func (s *CoreSnapshot) TotalDrops() uint64 {
	var t uint64
	for _, v := range s.drops {
		t += v
	}
	return t
}

// Add sums another snapshot into s.
func (s *CoreSnapshot) Add(o CoreSnapshot) {
	s.RxPackets += o.RxPackets
	s.RxBytes += o.RxBytes
	s.Forwarded += o.Forwarded
	s.Local += o.Local
	s.Generated += o.Generated
	s.TxPackets += o.TxPackets
	s.TxBytes += o.TxBytes
	s.Polls += o.Polls
	s.IdlePolls += o.IdlePolls
	for r, v := range o.drops {
		if v == 0 {
			continue
		}
		s.drops[r] += v
		if s.Drops == nil {
			s.Drops = make(map[string]uint64)
		}
		s.Drops[Reason(r).String()] = s.drops[r]
	}
}
