package pcap

import (
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fastipsec/fastipsec/dataplane/pkt"
	"github.com/fastipsec/fastipsec/dataplane/stats"
)

// Port replays an rx capture and records a tx capture. It has one queue
// and satisfies engine.Port, engine.Finite and engine.Flusher.
type Port struct {
	cfg   Config
	stats stats.Port

	// rx side, used by the one goroutine polling queue 0
	rxFile *os.File
	rd     *Reader
	cache  *pkt.Cache
	spare  *pkt.Buf // taken from the cache but not filled
	rxDone atomic.Bool

	// tx side, under txMu
	txMu    sync.Mutex
	txFile  *os.File
	wr      *Writer
	txCache *pkt.Cache // frees a burst with one pool lock; nil without a pool

	errMu  sync.Mutex
	err    error
	closed bool
}

// Open opens the port's files. pool supplies the rx Bufs (required with
// an rx file). The rx file's link type must match cfg.LinkType.
func Open(cfg Config, pool *pkt.Pool) (*Port, error) {
	cfg = cfg.withDefaults()
	p := &Port{cfg: cfg}
	if pool != nil {
		p.cache, p.txCache = pool.NewCache(), pool.NewCache()
	}
	if cfg.Rx == "" {
		p.rxDone.Store(true)
	} else if err := p.openRx(pool); err != nil {
		return nil, err
	}
	if cfg.Tx != "" {
		if cfg.Tx == cfg.Rx {
			p.rxFile.Close()
			return nil, fmt.Errorf("pcap port %s: rx and tx are the same file %s", cfg.Name, cfg.Tx)
		}
		f, err := os.Create(cfg.Tx)
		if err != nil {
			if p.rxFile != nil {
				p.rxFile.Close()
			}
			return nil, err
		}
		p.txFile, p.wr = f, NewWriter(f, FileLinkType(cfg.LinkType))
	}
	return p, nil
}

func (p *Port) openRx(pool *pkt.Pool) error {
	cfg := p.cfg
	if pool == nil {
		return fmt.Errorf("pcap port %s: rx file %s needs a buffer pool", cfg.Name, cfg.Rx)
	}
	f, err := os.Open(cfg.Rx)
	if err != nil {
		return err
	}
	rd, err := NewReader(f)
	if err != nil {
		f.Close()
		return fmt.Errorf("%s: %w", cfg.Rx, err)
	}
	if lt, ok := rd.LinkType(); ok {
		if pl, ok := lt.PortLink(); !ok || pl != cfg.LinkType {
			f.Close()
			return fmt.Errorf("%s: link type %v, port %s is configured linktype %v", cfg.Rx, lt, cfg.Name, cfg.LinkType)
		}
	}
	p.rxFile, p.rd = f, rd
	return nil
}

// Name returns the configured name.
func (p *Port) Name() string { return p.cfg.Name }

// LinkType returns the configured link type.
func (p *Port) LinkType() pkt.LinkType { return p.cfg.LinkType }

// MAC returns the configured or derived MAC address.
func (p *Port) MAC() [6]byte { return p.cfg.MAC }

// MTU returns the configured MTU.
func (p *Port) MTU() int { return p.cfg.MTU }

// RxQueues returns 1.
func (p *Port) RxQueues() int { return 1 }

// TxQueues returns 1.
func (p *Port) TxQueues() int { return 1 }

// RxBurst reads up to len(bufs) frames from the rx file. Frames too large
// for a Buf are dropped (rx_truncated), frames of another link type are
// dropped (rx_errors). With the pool empty it returns early and the next
// frame waits in the file. A corrupt file ends the input (see Err).
func (p *Port) RxBurst(_ int, bufs []*pkt.Buf) int {
	if p.rxDone.Load() {
		return 0
	}
	n, bytes, trunc, bad := 0, 0, 0, 0
	for n < len(bufs) {
		b := p.spare
		if b == nil {
			if b = p.cache.Get(); b == nil {
				break
			}
		}
		p.spare = nil
		mem, off := b.Raw()
		k, rec, err := p.rd.Next(mem[off:])
		if err != nil {
			p.spare = b
			if err != io.EOF {
				bad++
				p.setErr(fmt.Errorf("%s: %w", p.cfg.Rx, err))
			}
			p.rxDone.Store(true)
			break
		}
		if rec.CapLen > k {
			trunc++
			p.spare = b
			continue
		}
		if lt, ok := rec.LinkType.PortLink(); !ok || lt != p.cfg.LinkType {
			bad++
			p.spare = b
			continue
		}
		b.SetData(off, k)
		b.Meta.RxTime = rec.Time
		bufs[n] = b
		n++
		bytes += k
	}
	p.stats.AddRx(n, bytes)
	if trunc > 0 {
		p.stats.AddRxTruncated(trunc)
	}
	if bad > 0 {
		p.stats.AddRxErrors(bad)
	}
	return n
}

// RxDone reports that the rx file is exhausted (or absent or corrupt).
func (p *Port) RxDone() bool { return p.rxDone.Load() }

// TxBurst writes every frame to the tx file, stamped with Meta.RxTime (or
// the current time when zero), frees them and returns len(bufs). Safe for
// concurrent callers.
func (p *Port) TxBurst(_ int, bufs []*pkt.Buf) int {
	var now int64
	bytes, failed := 0, 0
	p.txMu.Lock()
	for i, b := range bufs {
		if p.wr != nil {
			ts := b.Meta.RxTime
			if ts == 0 {
				if now == 0 {
					now = time.Now().UnixNano()
				}
				ts = now
			}
			if err := p.wr.WritePacket(ts, b.Bytes()); err != nil {
				failed++
				p.setErr(fmt.Errorf("%s: %w", p.cfg.Tx, err))
				p.free(b)
				bufs[i] = nil
				continue
			}
		}
		bytes += b.Len()
		p.free(b)
		bufs[i] = nil
	}
	if p.txCache != nil {
		p.txCache.Flush()
	}
	p.txMu.Unlock()
	p.stats.AddTx(len(bufs)-failed, bytes)
	if failed > 0 {
		p.stats.AddTxErrors(failed)
	}
	return len(bufs)
}

// free returns a sent Buf; the caller holds txMu.
func (p *Port) free(b *pkt.Buf) {
	if p.txCache != nil {
		p.txCache.Put(b)
	} else {
		b.Free()
	}
}

// Flush writes buffered tx records to the file.
func (p *Port) Flush() error {
	p.txMu.Lock()
	defer p.txMu.Unlock()
	if p.wr == nil {
		return nil
	}
	if err := p.wr.Flush(); err != nil {
		err = fmt.Errorf("%s: %w", p.cfg.Tx, err)
		p.setErr(err)
		return err
	}
	return nil
}

// Err returns the first rx or tx file error, nil if none.
func (p *Port) Err() error {
	p.errMu.Lock()
	defer p.errMu.Unlock()
	return p.err
}

func (p *Port) setErr(err error) {
	p.errMu.Lock()
	if p.err == nil {
		p.err = err
	}
	p.errMu.Unlock()
}

// Stats returns the port's counters.
func (p *Port) Stats() stats.PortSnapshot { return p.stats.Snapshot() }

// Close flushes the tx file and closes both files. Call it after the rx
// goroutine has stopped; later TxBursts count and free their frames.
func (p *Port) Close() error {
	p.errMu.Lock()
	closed := p.closed
	p.closed = true
	p.errMu.Unlock()
	if closed {
		return nil
	}
	var errs []error
	p.rxDone.Store(true)
	if p.spare != nil {
		p.cache.Put(p.spare)
		p.spare = nil
	}
	if p.cache != nil {
		p.cache.Flush()
	}
	if p.rxFile != nil {
		errs = append(errs, p.rxFile.Close())
	}
	if err := p.Flush(); err != nil {
		errs = append(errs, err)
	}
	p.txMu.Lock()
	if p.txFile != nil {
		errs = append(errs, p.txFile.Close())
		p.txFile, p.wr = nil, nil
	}
	p.txMu.Unlock()
	return errors.Join(errs...)
}
