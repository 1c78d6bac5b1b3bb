package stats

import "sync/atomic"

// Port counts what one port moved. The methods are safe from any
// goroutine; drivers call them once per burst, not per packet.
type Port struct {
	rxPackets, rxBytes atomic.Uint64
	txPackets, txBytes atomic.Uint64
	rxNoBuf, rxErrors  atomic.Uint64
	txFull, txErrors   atomic.Uint64
	rxTruncated        atomic.Uint64
}

// PortSnapshot is a copy of a port's counters.
type PortSnapshot struct {
	RxPackets   uint64 `json:"rx_packets"`
	RxBytes     uint64 `json:"rx_bytes"`
	TxPackets   uint64 `json:"tx_packets"`
	TxBytes     uint64 `json:"tx_bytes"`
	RxNoBuf     uint64 `json:"rx_nobuf"`     // frames lost for want of a buffer
	RxErrors    uint64 `json:"rx_errors"`    // driver-level receive errors
	RxTruncated uint64 `json:"rx_truncated"` // frames larger than a buffer
	TxFull      uint64 `json:"tx_full"`      // packets refused by a full tx queue
	TxErrors    uint64 `json:"tx_errors"`    // driver-level send errors
}

// AddRx counts n received packets of the given total size.
func (p *Port) AddRx(n, bytes int) {
	if n > 0 {
		p.rxPackets.Add(uint64(n))
		p.rxBytes.Add(uint64(bytes))
	}
}

// AddTx counts n sent packets of the given total size.
func (p *Port) AddTx(n, bytes int) {
	if n > 0 {
		p.txPackets.Add(uint64(n))
		p.txBytes.Add(uint64(bytes))
	}
}

// AddRxNoBuf counts frames dropped because no buffer was free.
func (p *Port) AddRxNoBuf(n int) { p.rxNoBuf.Add(uint64(n)) }

// AddRxErrors counts receive errors.
func (p *Port) AddRxErrors(n int) { p.rxErrors.Add(uint64(n)) }

// AddRxTruncated counts frames that did not fit a buffer.
func (p *Port) AddRxTruncated(n int) { p.rxTruncated.Add(uint64(n)) }

// AddTxFull counts packets refused because the tx queue was full.
func (p *Port) AddTxFull(n int) { p.txFull.Add(uint64(n)) }

// AddTxErrors counts send errors.
func (p *Port) AddTxErrors(n int) { p.txErrors.Add(uint64(n)) }

// Snapshot copies the counters.
func (p *Port) Snapshot() PortSnapshot {
	return PortSnapshot{
		RxPackets: p.rxPackets.Load(), RxBytes: p.rxBytes.Load(),
		TxPackets: p.txPackets.Load(), TxBytes: p.txBytes.Load(),
		RxNoBuf: p.rxNoBuf.Load(), RxErrors: p.rxErrors.Load(),
		RxTruncated: p.rxTruncated.Load(),
		TxFull:      p.txFull.Load(), TxErrors: p.txErrors.Load(),
	}
}
