package keyserver

import (
	"net/netip"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fastipsec/fastipsec/ctrl/pfkey"
	"github.com/fastipsec/fastipsec/ipsec/sad"
)

// BenchmarkAddOverSocket is SADB_ADD per second over the socket: one
// client pipelines b.N ADDs (each a distinct AES-GCM SA) and reads the
// b.N replies, while a "dataplane" goroutine keeps looking up a live SA
// and counts lookups that miss (must be 0).
func BenchmarkAddOverSocket(b *testing.B) {
	e := newEnv(b, "linux")
	c := e.dial(pfkey.Linux)
	c.c.SetWriteBuffer(1 << 20) // a client that pipelines its requests
	live, err := sad.New(sad.Config{Proto: sad.ProtoESP, SPI: 0xfffffff0, Src: netip.MustParseAddr("192.0.2.1"),
		Dst: netip.MustParseAddr("192.0.2.2"), Enc: 5 /* aes-gcm-16 */, EncKey: gcmKey}, time.Now())
	if err != nil {
		b.Fatal(err)
	}
	if err := e.m.SAD.Add(live); err != nil {
		b.Fatal(err)
	}
	msgs := make([][]byte, b.N)
	for i := range msgs {
		m := addMsg(uint32(0x1000+i), "192.0.2.1", netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}).String())
		m.Version, m.Seq, m.PID = pfkey.Version, uint32(i+1), c.pid
		if msgs[i], err = pfkey.Encode(pfkey.Linux, m); err != nil {
			b.Fatal(err)
		}
	}
	var stop atomic.Bool
	var lookups, misses atomic.Uint64
	dst := netip.MustParseAddr("192.0.2.2")
	src := netip.MustParseAddr("192.0.2.1")
	go func() {
		for !stop.Load() {
			for range 1024 {
				if e.m.SAD.Inbound(sad.ProtoESP, 0xfffffff0, dst, src) == nil {
					misses.Add(1)
				}
			}
			lookups.Add(1024)
			time.Sleep(20 * time.Microsecond) // leave the (2) cores to the server

		}
	}()
	runtime.GC()
	b.ResetTimer()
	cpu := cpuTime()
	done := make(chan error, 1)
	go func() {
		for _, m := range msgs {
			if _, err := c.c.Write(m); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	for range b.N {
		r := c.recvRaw()
		if r[2] != 0 {
			b.Fatalf("ADD failed: errno %d", r[2])
		}
	}
	if err := <-done; err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	stop.Store(true)
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "adds/s")
	b.ReportMetric(float64((cpuTime()-cpu).Microseconds())/float64(b.N), "cpu-µs/add")
	b.ReportMetric(float64(misses.Load()), "lookup-misses")
	if misses.Load() != 0 {
		b.Errorf("%d of %d dataplane lookups missed a live SA", misses.Load(), lookups.Load())
	}
	if e.m.SAD.Len() != b.N+1 {
		b.Errorf("%d SAs installed, want %d", e.m.SAD.Len(), b.N+1)
	}
}

// BenchmarkDump1M is the time to DUMP 1,000,000 SAs to a client reading
// as fast as it can.
func BenchmarkDump1M(b *testing.B) {
	const n = 1000000
	e := newEnv(b, "linux")
	fill(b, e.m, n)
	c := e.dial(pfkey.Linux)
	runtime.GC()
	b.ResetTimer()
	for range b.N {
		c.send(&pfkey.Msg{Header: pfkey.Header{Type: pfkey.MsgDump}})
		for range n {
			c.c.Read(c.buf)
		}
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "msgs/s")
	b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "s/dump")
}
