package pcap

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/fastipsec/fastipsec/dataplane/pkt"
	"github.com/fastipsec/fastipsec/ports/ring"
)

// writeFile writes a capture to a file in t's temp dir and returns its path.
func writeFile(t testing.TB, name string, data []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// frames returns n records with distinct sizes, contents and timestamps.
func frames(n int) []record {
	recs := make([]record, n)
	for i := range recs {
		recs[i] = record{ts: 1_700_000_000e9 + int64(i)*1e3, data: frame(60+i%1400, byte(i))}
	}
	return recs
}

func TestPortReplay(t *testing.T) {
	in := frames(100)
	dir := t.TempDir()
	rx := writeFile(t, "in.pcap", classicFile(binary.LittleEndian, false, 1, in...))
	tx := filepath.Join(dir, "out.pcap")
	pool := pkt.NewPool("t", 64, 0)
	p, err := Open(Config{Name: "lan", Rx: rx, Tx: tx}, pool)
	if err != nil {
		t.Fatal(err)
	}
	if p.MAC() != ring.DeriveMAC("lan") || p.MTU() != 1500 || p.LinkType() != pkt.LinkEthernet {
		t.Fatalf("defaults: mac %x mtu %d", p.MAC(), p.MTU())
	}
	bufs := make([]*pkt.Buf, pkt.BurstSize)
	got := 0
	for !p.RxDone() {
		n := p.RxBurst(0, bufs)
		for i, b := range bufs[:n] {
			w := in[got+i]
			if !bytes.Equal(b.Bytes(), w.data) || b.Meta.RxTime != w.ts || b.Headroom() != pkt.Headroom {
				t.Fatalf("frame %d: %d bytes at %d, time %d", got+i, b.Len(), b.Headroom(), b.Meta.RxTime)
			}
		}
		if p.TxBurst(0, bufs[:n]) != n {
			t.Fatal("TxBurst refused frames")
		}
		got += n
	}
	if got != len(in) || p.RxBurst(0, bufs) != 0 {
		t.Fatalf("received %d frames, want %d", got, len(in))
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if pool.Available() != pool.Total() {
		t.Fatalf("%d of %d Bufs back in the pool", pool.Available(), pool.Total())
	}
	s := p.Stats()
	if s.RxPackets != 100 || s.TxPackets != 100 || s.RxBytes != s.TxBytes || s.RxErrors != 0 {
		t.Fatalf("stats %+v", s)
	}
	out, err := os.ReadFile(tx)
	if err != nil {
		t.Fatal(err)
	}
	recs, data := readAll(t, out)
	for i, w := range in {
		if recs[i].Time != w.ts || !bytes.Equal(data[i], w.data) {
			t.Fatalf("written frame %d differs", i)
		}
	}
}

func TestPortTxNow(t *testing.T) {
	tx := filepath.Join(t.TempDir(), "raw.pcap")
	pool := pkt.NewPool("t", 4, 0)
	p, err := Open(Config{Name: "tun", Tx: tx, LinkType: pkt.LinkRawIP}, pool)
	if err != nil {
		t.Fatal(err)
	}
	if !p.RxDone() || p.MAC() != [6]byte{} {
		t.Fatalf("tx-only raw port: done %v mac %x", p.RxDone(), p.MAC())
	}
	b := pool.Get()
	b.SetBytes(frame(28, 1))
	p.TxBurst(0, []*pkt.Buf{b})
	p.Close()
	out, _ := os.ReadFile(tx)
	recs, _ := readAll(t, out)
	if len(recs) != 1 || recs[0].LinkType != LinkTypeRaw || recs[0].Time == 0 {
		t.Fatalf("records %+v", recs)
	}
}

func TestPortNoFiles(t *testing.T) {
	pool := pkt.NewPool("t", 4, 0)
	p, err := Open(Config{Name: "null"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	bufs := []*pkt.Buf{pool.Get(), pool.Get()}
	bufs[0].SetBytes(frame(10, 0))
	if p.TxBurst(0, bufs) != 2 || pool.Available() != 4 || p.Stats().TxBytes != 10 {
		t.Fatalf("frames not counted and freed: %+v", p.Stats())
	}
	if !p.RxDone() || p.Flush() != nil || p.Close() != nil || p.Close() != nil {
		t.Fatal("port without files")
	}
}

func TestPortTruncated(t *testing.T) {
	// A 384-byte Buf keeps 96 bytes of headroom: 288 bytes of room.
	in := []record{
		{ts: 1, data: frame(100, 1)},
		{ts: 2, data: frame(1000, 2)},         // too big: dropped
		{ts: 3, data: frame(50, 3), orig: 90}, // snapped capture: passed as captured
	}
	rx := writeFile(t, "in.pcap", classicFile(binary.BigEndian, true, 1, in...))
	pool := pkt.NewPool("t", 8, pkt.Headroom+128)
	p, err := Open(Config{Name: "lan", Rx: rx}, pool)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	bufs := make([]*pkt.Buf, 8)
	n := p.RxBurst(0, bufs)
	if n != 2 || bufs[0].Len() != 100 || bufs[1].Len() != 50 || bufs[1].Meta.RxTime != 3 {
		t.Fatalf("got %d frames", n)
	}
	if s := p.Stats(); s.RxTruncated != 1 || s.RxPackets != 2 || !p.RxDone() {
		t.Fatalf("stats %+v done %v", s, p.RxDone())
	}
	for _, b := range bufs[:n] {
		b.Free()
	}
}

func TestPortPoolEmpty(t *testing.T) {
	in := frames(10)
	rx := writeFile(t, "in.pcap", classicFile(binary.LittleEndian, false, 1, in...))
	pool := pkt.NewPool("t", 4, 0)
	p, err := Open(Config{Name: "lan", Rx: rx}, pool)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	bufs := make([]*pkt.Buf, 32)
	got := 0
	for round := 0; !p.RxDone(); round++ {
		n := p.RxBurst(0, bufs)
		if n > 4 || round > 10 {
			t.Fatalf("round %d: %d frames from a pool of 4", round, n)
		}
		for i, b := range bufs[:n] {
			if !bytes.Equal(b.Bytes(), in[got+i].data) {
				t.Fatalf("frame %d lost or reordered", got+i)
			}
			b.Free()
		}
		got += n
	}
	if s := p.Stats(); got != 10 || s.RxPackets != 10 || s.RxNoBuf != 0 {
		t.Fatalf("got %d, stats %+v", got, s)
	}
}

func TestPortLinkType(t *testing.T) {
	pool := pkt.NewPool("t", 4, 0)
	eth := writeFile(t, "in.pcap", classicFile(binary.LittleEndian, false, 1))
	_, err := Open(Config{Name: "lan", Rx: eth, LinkType: pkt.LinkRawIP}, pool)
	want := eth + ": link type ethernet, port lan is configured linktype raw"
	if err == nil || err.Error() != want {
		t.Fatalf("err = %v, want %q", err, want)
	}
	for _, lt := range []uint32{12, 101, 228, 229} {
		raw := writeFile(t, "raw.pcap", classicFile(binary.LittleEndian, false, lt))
		p, err := Open(Config{Name: "tun", Rx: raw, LinkType: pkt.LinkRawIP}, pool)
		if err != nil {
			t.Fatalf("linktype %d: %v", lt, err)
		}
		p.Close()
		if _, err := Open(Config{Name: "lan", Rx: raw}, pool); err == nil {
			t.Fatalf("linktype %d accepted by an ethernet port", lt)
		}
	}
	other := writeFile(t, "ppp.pcap", classicFile(binary.LittleEndian, false, 9))
	if _, err := Open(Config{Name: "lan", Rx: other}, pool); err == nil || !strings.Contains(err.Error(), "linktype 9") {
		t.Fatalf("PPP file: %v", err)
	}
}

func TestPortOpenErrors(t *testing.T) {
	pool := pkt.NewPool("t", 4, 0)
	dir := t.TempDir()
	missing := filepath.Join(dir, "missing.pcap")
	if _, err := Open(Config{Name: "lan", Rx: missing}, pool); err == nil || !strings.Contains(err.Error(), missing) {
		t.Fatalf("missing file: %v", err)
	}
	junk := writeFile(t, "junk.pcap", []byte("this is not a capture"))
	if _, err := Open(Config{Name: "lan", Rx: junk}, pool); !errors.Is(err, ErrFormat) || !strings.Contains(err.Error(), junk) {
		t.Fatalf("junk file: %v", err)
	}
	good := writeFile(t, "in.pcap", classicFile(binary.LittleEndian, false, 1))
	if _, err := Open(Config{Name: "lan", Rx: good}, nil); err == nil {
		t.Fatal("rx without a pool accepted")
	}
	if _, err := Open(Config{Name: "lan", Rx: good, Tx: good}, pool); err == nil {
		t.Fatal("rx and tx on the same file accepted")
	}
	if _, err := Open(Config{Name: "lan", Tx: filepath.Join(dir, "no/such/dir.pcap")}, pool); err == nil {
		t.Fatal("tx into a missing directory accepted")
	}
}

func TestPortCorrupt(t *testing.T) {
	file := classicFile(binary.LittleEndian, false, 1, frames(3)...)
	file = file[:len(file)-5] // cut the last record short
	rx := writeFile(t, "cut.pcap", file)
	pool := pkt.NewPool("t", 8, 0)
	p, err := Open(Config{Name: "lan", Rx: rx}, pool)
	if err != nil {
		t.Fatal(err)
	}
	bufs := make([]*pkt.Buf, 8)
	n := p.RxBurst(0, bufs)
	if n != 2 || !p.RxDone() || p.Stats().RxErrors != 1 {
		t.Fatalf("n=%d done=%v stats %+v", n, p.RxDone(), p.Stats())
	}
	if err := p.Err(); !errors.Is(err, ErrFormat) || !strings.Contains(err.Error(), rx) {
		t.Fatalf("Err() = %v", err)
	}
	for _, b := range bufs[:n] {
		b.Free()
	}
	p.Close()
	if pool.Available() != pool.Total() {
		t.Fatalf("%d of %d Bufs back", pool.Available(), pool.Total())
	}
}

func TestPortPcapngMixedLinks(t *testing.T) {
	g := &ngFile{bo: binary.LittleEndian}
	g.shb().idb(1, 0).idb(101, 0).
		epb(0, 1, record{data: frame(60, 1)}).
		epb(1, 2, record{data: frame(40, 2)}). // raw frame on an ethernet port: dropped
		epb(0, 3, record{data: frame(61, 3)})
	rx := writeFile(t, "in.pcapng", g.b)
	pool := pkt.NewPool("t", 8, 0)
	p, err := Open(Config{Name: "lan", Rx: rx}, pool)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	bufs := make([]*pkt.Buf, 8)
	if n := p.RxBurst(0, bufs); n != 2 || bufs[1].Len() != 61 || p.Stats().RxErrors != 1 || p.Err() != nil {
		t.Fatalf("n=%d stats %+v err %v", n, p.Stats(), p.Err())
	}
}

func TestPortConcurrentTx(t *testing.T) {
	const senders, each = 4, 500
	tx := filepath.Join(t.TempDir(), "out.pcap")
	pool := pkt.NewPool("t", 512, 0)
	p, err := Open(Config{Name: "lan", Tx: tx}, pool)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for id := range senders {
		wg.Go(func() {
			c := pool.NewCache()
			defer c.Flush()
			bufs := make([]*pkt.Buf, 10)
			for range each / len(bufs) {
				n := c.GetBulk(bufs)
				for _, b := range bufs[:n] {
					b.SetBytes(frame(60, byte(id)))
					b.Meta.RxTime = int64(id+1) * 1e9
				}
				p.TxBurst(0, bufs[:n])
			}
		})
	}
	go p.Stats() // counters are read while sending
	wg.Wait()
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	out, _ := os.ReadFile(tx)
	recs, data := readAll(t, out)
	if len(recs) != senders*each || p.Stats().TxPackets != senders*each {
		t.Fatalf("%d records, stats %+v", len(recs), p.Stats())
	}
	for i, r := range recs {
		id := byte(r.Time/1e9 - 1)
		if !bytes.Equal(data[i], frame(60, id)) {
			t.Fatalf("record %d interleaved", i)
		}
	}
}
