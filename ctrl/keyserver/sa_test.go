package keyserver

import (
	"bytes"
	"net/netip"
	"syscall"
	"testing"

	"github.com/fastipsec/fastipsec/ctrl/pfkey"
	"github.com/fastipsec/fastipsec/ipsec/sad"
)

// TestRegister: the reply carries both SUPPORTED lists with key sizes and
// goes to every registered client; an unregistered one hears nothing.
func TestRegister(t *testing.T) {
	e := newEnv(t, "auto")
	a, b, other := e.dial(pfkey.Linux), e.dial(pfkey.Linux), e.dial(pfkey.Linux)
	for _, c := range []*tclient{a, b} {
		r := c.ok(&pfkey.Msg{Header: pfkey.Header{Type: pfkey.MsgRegister, SAType: pfkey.SATypeESP}})
		if r.SupportedAuth == nil || r.SupportedEncrypt == nil {
			t.Fatalf("REGISTER reply without SUPPORTED lists: %+v", r)
		}
		var gcm *pfkey.Alg
		for i, al := range r.SupportedEncrypt.Algs {
			if al.ID == pfkey.EAlgAESGCM16 {
				gcm = &r.SupportedEncrypt.Algs[i]
			}
		}
		if gcm == nil || gcm.MinBits != 160 || gcm.MaxBits != 288 || gcm.IVLen != 8 {
			t.Errorf("AES-GCM-16 in SUPPORTED_ENCRYPT: %+v", gcm)
		}
		if len(r.SupportedAuth.Algs) == 0 {
			t.Error("empty SUPPORTED_AUTH")
		}
	}
	// a registered first, so it also received b's registration reply.
	if m := a.recv(); m.Type != pfkey.MsgRegister || m.PID != b.pid {
		t.Errorf("a got type %d pid %d, want b's REGISTER", m.Type, m.PID)
	}
	other.none()
	e.m.SAD.Len()
	// An unspecified SA type is refused.
	if r := other.roundTrip(&pfkey.Msg{Header: pfkey.Header{Type: pfkey.MsgRegister}}); r.Errno != syscall.EINVAL {
		t.Errorf("REGISTER of no type: errno %v", r.Errno)
	}
}

// TestGetSPIUpdate: GETSPI makes a larval SA in range, answered to the
// requester only; UPDATE matures it and is broadcast without keys.
func TestGetSPIUpdate(t *testing.T) {
	e := newEnv(t, "auto")
	a, b := e.dial(pfkey.Linux), e.dial(pfkey.Linux)
	r := a.ok(&pfkey.Msg{Header: pfkey.Header{Type: pfkey.MsgGetSPI, SAType: pfkey.SATypeESP},
		Src: addr("192.0.2.1"), Dst: addr("192.0.2.2"), SPIRange: &pfkey.SPIRange{Min: 0x1000, Max: 0x1fff},
		SA2: &pfkey.SA2{Mode: pfkey.ModeTunnel, ReqID: 5}})
	if r.SA == nil || r.SA.SPI < 0x1000 || r.SA.SPI > 0x1fff {
		t.Fatalf("GETSPI reply SA %+v", r.SA)
	}
	b.none()
	spi := r.SA.SPI
	sa, ok := e.m.SAD.Get(sad.ProtoESP, netip.Addr{}, netip.MustParseAddr("192.0.2.2"), spi)
	if !ok || sa.State() != sad.StateLarval || sa.ReqID != 5 {
		t.Fatalf("larval SA: %v %v", sa, ok)
	}
	up := addMsg(spi, "192.0.2.1", "192.0.2.2")
	up.Type = pfkey.MsgUpdate
	r = a.ok(up)
	if r.EncKey != nil || r.AuthKey != nil {
		t.Error("UPDATE reply carries keys")
	}
	if m := b.recv(); m.Type != pfkey.MsgUpdate || m.EncKey != nil || m.SA.SPI != spi {
		t.Errorf("broadcast %+v", m)
	}
	sa, _ = e.m.SAD.Get(sad.ProtoESP, netip.Addr{}, netip.MustParseAddr("192.0.2.2"), spi)
	if sa.State() != sad.StateMature || sa.Sess == nil {
		t.Errorf("after UPDATE: %v", sa)
	}
	// UPDATE of a mature SA or of none fails.
	if r := a.roundTrip(addMsgType(pfkey.MsgUpdate, spi)); r.Errno != syscall.EINVAL {
		t.Errorf("UPDATE of a mature SA: errno %v", r.Errno)
	}
	if r := a.roundTrip(addMsgType(pfkey.MsgUpdate, 0x9999)); r.Errno != syscall.ESRCH {
		t.Errorf("UPDATE of no SA: errno %v", r.Errno)
	}
}

func addMsgType(t pfkey.MsgType, spi uint32) *pfkey.Msg {
	m := addMsg(spi, "192.0.2.1", "192.0.2.2")
	m.Type = t
	return m
}

// TestStrongSwanSequence: GETSPI, DELETE of the larval SA, ADD with the
// same SPI (not UPDATE), GET for counters with LIFETIME_CURRENT.
func TestStrongSwanSequence(t *testing.T) {
	e := newEnv(t, "auto")
	a := e.dial(pfkey.Linux)
	r := a.ok(&pfkey.Msg{Header: pfkey.Header{Type: pfkey.MsgGetSPI, SAType: pfkey.SATypeESP},
		Src: addr("2001:db8::1"), Dst: addr("2001:db8::2"), SPIRange: &pfkey.SPIRange{Min: 0xc0000000, Max: 0xcfffffff}})
	spi := r.SA.SPI
	a.ok(saID(pfkey.MsgDelete, spi, "2001:db8::1", "2001:db8::2"))
	a.ok(addMsg(spi, "2001:db8::1", "2001:db8::2"))
	sa, ok := e.m.SAD.Get(sad.ProtoESP, netip.Addr{}, netip.MustParseAddr("2001:db8::2"), spi)
	if !ok {
		t.Fatal("SA not installed")
	}
	sa.Account(1500, 3, 1)
	g := a.ok(saID(pfkey.MsgGet, spi, "2001:db8::1", "2001:db8::2"))
	if g.LifetimeCurrent == nil || g.LifetimeCurrent.Bytes != 1500 || g.LifetimeCurrent.Allocations != 3 ||
		g.LifetimeCurrent.AddTime == 0 {
		t.Errorf("GET LIFETIME_CURRENT %+v", g.LifetimeCurrent)
	}
	if g.EncKey == nil || !bytes.Equal(g.EncKey.Data, gcmKey) || g.SA.Encrypt != pfkey.EAlgAESGCM16 ||
		g.SA.State != pfkey.SAStateMature || g.SA2 == nil || g.SA2.Mode != pfkey.ModeTunnel {
		t.Errorf("GET reply %+v %+v %+v", g.SA, g.SA2, g.EncKey)
	}
}

// TestAddDeleteFlush covers the broadcasts and errors of ADD, DELETE
// (with and without the SA extension), GET and FLUSH.
func TestAddDeleteFlush(t *testing.T) {
	e := newEnv(t, "auto")
	a, b := e.dial(pfkey.Linux), e.dial(pfkey.Linux)
	r := a.ok(addMsg(0x1001, "192.0.2.1", "192.0.2.2"))
	if r.EncKey != nil {
		t.Error("ADD reply carries the key")
	}
	if m := b.recv(); m.Type != pfkey.MsgAdd || m.EncKey != nil || m.PID != a.pid {
		t.Errorf("ADD broadcast %+v", m.Header)
	}
	if r := a.roundTrip(addMsg(0x1001, "192.0.2.1", "192.0.2.2")); r.Errno != syscall.EEXIST {
		t.Errorf("duplicate ADD: errno %v", r.Errno)
	}
	b.none() // errors go to the requester only
	noKey := addMsg(0x1002, "192.0.2.1", "192.0.2.2")
	noKey.EncKey.Data = noKey.EncKey.Data[:8]
	noKey.EncKey.Bits = 64
	if r := a.roundTrip(noKey); r.Errno != syscall.EINVAL {
		t.Errorf("ADD with a short key: errno %v", r.Errno)
	}
	a.ok(addMsg(0x1003, "192.0.2.1", "192.0.2.2"))
	b.recv()
	a.ok(saID(pfkey.MsgDelete, 0x1001, "192.0.2.1", "192.0.2.2"))
	if m := b.recv(); m.Type != pfkey.MsgDelete || m.SA == nil || m.SA.SPI != 0x1001 {
		t.Errorf("DELETE broadcast %+v", m)
	}
	if r := a.roundTrip(saID(pfkey.MsgGet, 0x1001, "192.0.2.1", "192.0.2.2")); r.Errno != syscall.ESRCH {
		t.Errorf("GET of a deleted SA: errno %v", r.Errno)
	}
	if r := a.roundTrip(saID(pfkey.MsgDelete, 0x1001, "192.0.2.1", "192.0.2.2")); r.Errno != syscall.ESRCH {
		t.Errorf("DELETE of a deleted SA: errno %v", r.Errno)
	}
	// DELETE without the SA extension removes every SA between the pair.
	a.ok(addMsg(0x1004, "192.0.2.1", "192.0.2.2"))
	b.recv()
	all := saID(pfkey.MsgDelete, 0, "192.0.2.1", "192.0.2.2")
	all.SA = nil
	// (Linux's af_key requires the SA extension on DELETE: FreeBSD's does not.)
	fb := e.dial(pfkey.FreeBSD)
	fb.ok(all)
	a.recv()
	b.recv()
	if e.m.SAD.Len() != 0 {
		t.Errorf("%d SAs left after delete-all", e.m.SAD.Len())
	}
	a.ok(addMsg(0x1005, "192.0.2.1", "192.0.2.2"))
	b.recv()
	fb.recv()
	a.ok(&pfkey.Msg{Header: pfkey.Header{Type: pfkey.MsgFlush}})
	if m := b.recv(); m.Type != pfkey.MsgFlush {
		t.Errorf("FLUSH broadcast type %d", m.Type)
	}
	if e.m.SAD.Len() != 0 {
		t.Errorf("%d SAs after FLUSH", e.m.SAD.Len())
	}
}

// TestDump: one message per SA, seq counting down to 0, pid echoed;
// ENOENT when empty.
func TestDump(t *testing.T) {
	e := newEnv(t, "auto")
	a := e.dial(pfkey.Linux)
	if r := a.roundTrip(&pfkey.Msg{Header: pfkey.Header{Type: pfkey.MsgDump}}); r.Errno != syscall.ENOENT {
		t.Errorf("empty DUMP: errno %v", r.Errno)
	}
	const n = 50
	for i := range n {
		a.ok(addMsg(uint32(0x2000+i), "192.0.2.1", "192.0.2.2"))
	}
	seq := a.send(&pfkey.Msg{Header: pfkey.Header{Type: pfkey.MsgDump, SAType: pfkey.SATypeESP}})
	_ = seq
	seen := map[uint32]bool{}
	for i := n - 1; i >= 0; i-- {
		m := a.recv()
		if m.Type != pfkey.MsgDump || m.Errno != 0 || m.Seq != uint32(i) || m.PID != a.pid {
			t.Fatalf("dump message %d: %+v", i, m.Header)
		}
		if m.EncKey == nil || m.LifetimeCurrent == nil {
			t.Fatalf("dump entry without key or current lifetime")
		}
		seen[m.SA.SPI] = true
	}
	if len(seen) != n {
		t.Errorf("%d distinct SAs dumped, want %d", len(seen), n)
	}
}

// TestPromisc: a promiscuous client gets an X_PROMISC-wrapped copy of
// every message, replies to others included; turning it off stops that.
func TestPromisc(t *testing.T) {
	e := newEnv(t, "auto")
	a, p := e.dial(pfkey.Linux), e.dial(pfkey.Linux)
	seq := p.send(&pfkey.Msg{Header: pfkey.Header{Type: pfkey.MsgPromisc, SAType: 1}})
	if raw := p.recvRaw(); raw[1] != byte(pfkey.MsgPromisc) || len(raw) != 2*pfkey.HeaderLen {
		t.Fatalf("p's promiscuous copy of its toggle: %x", raw)
	}
	if m := p.recv(); m.Seq != seq || m.Errno != 0 {
		t.Fatalf("toggle reply %+v", m.Header)
	}
	if m := a.recv(); m.Type != pfkey.MsgPromisc { // the toggle goes to everyone
		t.Fatalf("a got type %d", m.Type)
	}
	a.send(&pfkey.Msg{Header: pfkey.Header{Type: pfkey.MsgGetSPI, SAType: pfkey.SATypeESP},
		Src: addr("192.0.2.1"), Dst: addr("192.0.2.2")})
	a.recv()
	raw := p.recvRaw()
	if raw[1] != byte(pfkey.MsgPromisc) || len(raw) <= pfkey.HeaderLen {
		t.Fatalf("promiscuous copy %x", raw[:16])
	}
	inner, err := pfkey.Decode(pfkey.Linux, raw[pfkey.HeaderLen:])
	if err != nil || inner.Type != pfkey.MsgGetSPI || inner.PID != a.pid {
		t.Fatalf("inner %+v %v", inner, err)
	}
	p.ok(&pfkey.Msg{Header: pfkey.Header{Type: pfkey.MsgPromisc, SAType: 0}})
	a.recv()
	a.ok(&pfkey.Msg{Header: pfkey.Header{Type: pfkey.MsgGetSPI, SAType: pfkey.SATypeESP},
		Src: addr("192.0.2.1"), Dst: addr("192.0.2.2")})
	p.none()
	if r := p.roundTrip(&pfkey.Msg{Header: pfkey.Header{Type: pfkey.MsgPromisc, SAType: 7}}); r.Errno != syscall.EINVAL {
		t.Errorf("X_PROMISC satype 7: errno %v", r.Errno)
	}
}

// TestAddRunRepliesInOrder: ADDs sent back to back (read and applied as
// one batch when they arrive together) are answered in request order,
// failures included.
func TestAddRunRepliesInOrder(t *testing.T) {
	e := newEnv(t, "auto")
	a := e.dial(pfkey.Linux)
	bad := addMsg(0x6001, "192.0.2.1", "192.0.2.2")
	bad.SA.Encrypt = 200
	msgs := []*pfkey.Msg{addMsg(0x6000, "192.0.2.1", "192.0.2.2"), bad, addMsg(0x6000, "192.0.2.1", "192.0.2.2"),
		addMsg(0x6002, "192.0.2.1", "192.0.2.2")}
	var seqs []uint32
	for _, m := range msgs {
		seqs = append(seqs, a.send(m))
	}
	a.sendRaw([]byte{2, 3, 0}) // a runt ADD at the end of the run
	want := []syscall.Errno{0, syscall.EINVAL, syscall.EEXIST, 0}
	for i, seq := range seqs {
		r := a.recv()
		if r.Seq != seq || r.Errno != want[i] {
			t.Errorf("reply %d: seq %d errno %v, want seq %d errno %v", i, r.Seq, r.Errno, seq, want[i])
		}
	}
	if raw := a.recvRaw(); len(raw) != 16 || raw[2] == 0 {
		t.Errorf("runt: reply %x", raw)
	}
	if e.m.SAD.Len() != 2 {
		t.Errorf("%d SAs, want 2", e.m.SAD.Len())
	}
}

// TestDialects: each client's dialect is detected from its first
// sockaddr, and each hears broadcasts in its own: a FreeBSD client's ADD
// (replay in bytes of bitmap, ESN flag) reaches a Linux client in Linux
// layout; a fixed dialect applies to everyone.
func TestDialects(t *testing.T) {
	e := newEnv(t, "auto")
	fb, lx := e.dial(pfkey.FreeBSD), e.dial(pfkey.Linux)
	add := addMsg(0x7000, "192.0.2.1", "192.0.2.2")
	add.SA.Replay = 8 // bytes: 64 packets
	add.SA.Flags = pfkey.SAFlagESN
	fb.ok(add)
	if m := lx.recv(); m.Type != pfkey.MsgAdd || m.SA.SPI != 0x7000 || m.Src.Addr.Addr() != netip.MustParseAddr("192.0.2.1") {
		t.Errorf("Linux client's copy of a FreeBSD ADD: %+v", m)
	}
	sa, _ := e.m.SAD.Get(sad.ProtoESP, netip.Addr{}, netip.MustParseAddr("192.0.2.2"), 0x7000)
	if sa.ReplayWindow != 64 || !sa.ESN {
		t.Errorf("window %d ESN %v, want 64 true", sa.ReplayWindow, sa.ESN)
	}
	g := fb.ok(saID(pfkey.MsgGet, 0x7000, "192.0.2.1", "192.0.2.2"))
	if g.SA.Replay != 8 || g.SA.Flags&pfkey.SAFlagESN == 0 {
		t.Errorf("FreeBSD GET: replay %d flags %#x", g.SA.Replay, g.SA.Flags)
	}
	if g := lx.ok(saID(pfkey.MsgGet, 0x7000, "192.0.2.1", "192.0.2.2")); g.SA.Replay != 64 {
		t.Errorf("Linux GET: replay %d, want 64 packets", g.SA.Replay)
	}

	fixed := newEnv(t, "freebsd")
	c := fixed.dial(pfkey.FreeBSD)
	c.ok(addMsg(0x7001, "192.0.2.1", "192.0.2.2"))
	if _, err := New(fixed.m, "bsd", nil); err == nil {
		t.Error("unknown dialect accepted")
	}
}

// TestIPCompCPI: FreeBSD's RAWCPI flag (setkey -R) puts the SPI on the
// wire as the CPI, without it the well-known CPI goes; Linux always uses
// the SPI. GET echoes the flag to FreeBSD clients.
func TestIPCompCPI(t *testing.T) {
	e := newEnv(t, "auto")
	fb, lx := e.dial(pfkey.FreeBSD), e.dial(pfkey.Linux)
	comp := func(spi uint32, flags uint32) *pfkey.Msg {
		return &pfkey.Msg{Header: pfkey.Header{Type: pfkey.MsgAdd, SAType: pfkey.SATypeIPComp},
			SA:  &pfkey.SA{SPI: spi, State: pfkey.SAStateMature, Encrypt: pfkey.CAlgDeflate, Flags: flags},
			SA2: &pfkey.SA2{Mode: pfkey.ModeTunnel}, Src: addr("192.0.2.1"), Dst: addr("192.0.2.2")}
	}
	fb.ok(comp(0x4711, pfkey.SAFlagRawCPI))
	lx.recv() // the broadcast of that ADD
	fb.ok(comp(0x4712, 0))
	lx.recv()
	lx.ok(comp(0x4713, 0))
	fb.recv()
	for spi, raw := range map[uint32]bool{0x4711: true, 0x4712: false, 0x4713: true} {
		sa, ok := e.m.SAD.Get(sad.ProtoIPComp, netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("192.0.2.2"), spi)
		if !ok || sa.RawCPI != raw {
			t.Errorf("SA %#x: found %v, raw CPI %v, want %v", spi, ok, ok && sa.RawCPI, raw)
		}
	}
	get := saID(pfkey.MsgGet, 0x4711, "192.0.2.1", "192.0.2.2")
	get.SAType = pfkey.SATypeIPComp
	if g := fb.ok(get); g.SA.Flags&pfkey.SAFlagRawCPI == 0 {
		t.Errorf("FreeBSD GET of a raw-CPI SA: flags %#x", g.SA.Flags)
	}
}
