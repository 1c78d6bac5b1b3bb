package pcap

import (
	"bytes"
	"encoding/binary"
	"io"
	"path/filepath"
	"testing"

	"github.com/fastipsec/fastipsec/dataplane/pkt"
)

// openBench opens a port replaying n 64-byte frames into a tx file.
func openBench(tb testing.TB, n int) (*Port, *pkt.Pool) {
	recs := make([]record, n)
	for i := range recs {
		recs[i] = record{ts: int64(i+1) * 1e3, data: frame(64, byte(i))}
	}
	rx := writeFile(tb, "in.pcap", classicFile(binary.LittleEndian, false, 1, recs...))
	pool := pkt.NewPool("b", 256, 0)
	p, err := Open(Config{Name: "lan", Rx: rx, Tx: filepath.Join(tb.TempDir(), "out.pcap")}, pool)
	if err != nil {
		tb.Fatal(err)
	}
	return p, pool
}

func TestZeroAllocs(t *testing.T) {
	p, _ := openBench(t, 8000)
	defer p.Close()
	bufs := make([]*pkt.Buf, pkt.BurstSize)
	var n int
	rx := testing.AllocsPerRun(100, func() {
		n = p.RxBurst(0, bufs)
		for _, b := range bufs[:n] {
			b.Free()
		}
	})
	tx := testing.AllocsPerRun(100, func() {
		n = p.RxBurst(0, bufs)
		p.TxBurst(0, bufs[:n])
	})
	if n != pkt.BurstSize || rx != 0 || tx != 0 {
		t.Fatalf("burst of %d: %v allocs in RxBurst, %v in RxBurst+TxBurst", n, rx, tx)
	}
}

func reportMpps(b *testing.B, pkts int) {
	b.ReportMetric(float64(pkts)/b.Elapsed().Seconds()/1e6, "Mpps")
}

// BenchmarkPort replays 64-byte frames from a file and writes them out.
func BenchmarkPort(b *testing.B) {
	const frames = 1 << 16
	p, _ := openBench(b, frames)
	bufs := make([]*pkt.Buf, pkt.BurstSize)
	b.ReportAllocs()
	pkts := 0
	for b.Loop() {
		n := p.RxBurst(0, bufs)
		if n == 0 {
			b.StopTimer()
			p.Close()
			p, _ = openBench(b, frames)
			b.StartTimer()
			continue
		}
		pkts += p.TxBurst(0, bufs[:n])
	}
	p.Close()
	reportMpps(b, pkts)
}

// BenchmarkReader parses 64-byte records from memory.
func BenchmarkReader(b *testing.B) {
	recs := make([]record, 4096)
	for i := range recs {
		recs[i] = record{data: frame(64, byte(i))}
	}
	file := classicFile(binary.LittleEndian, false, 1, recs...)
	br := bytes.NewReader(file)
	r, _ := NewReader(br)
	buf := make([]byte, 2048)
	b.ReportAllocs()
	pkts := 0
	for b.Loop() {
		if _, _, err := r.Next(buf); err == io.EOF {
			br.Reset(file)
			r, _ = NewReader(br)
			continue
		}
		pkts++
	}
	reportMpps(b, pkts)
}

// BenchmarkWriter writes 64-byte records.
func BenchmarkWriter(b *testing.B) {
	w := NewWriter(io.Discard, LinkTypeEthernet)
	data := frame(64, 0)
	b.ReportAllocs()
	pkts := 0
	for b.Loop() {
		w.WritePacket(1, data)
		pkts++
	}
	reportMpps(b, pkts)
}
