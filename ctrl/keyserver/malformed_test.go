package keyserver

import (
	"encoding/binary"
	"syscall"
	"testing"

	"github.com/fastipsec/fastipsec/ctrl/pfkey"
)

func hdr(version uint8, typ pfkey.MsgType, satype pfkey.SAType, words uint16, seq uint32) []byte {
	b := make([]byte, 16)
	b[0], b[1], b[3] = version, byte(typ), byte(satype)
	binary.NativeEndian.PutUint16(b[4:], words)
	binary.NativeEndian.PutUint32(b[8:], seq)
	binary.NativeEndian.PutUint32(b[12:], 4242)
	return b
}

func encoded(t *testing.T, m *pfkey.Msg) []byte {
	m.Version, m.Seq, m.PID = pfkey.Version, 77, 4242
	b, err := pfkey.Encode(pfkey.Linux, m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestMalformed: every malformed or refused message gets an errno reply,
// to the requester only, echoing what of its header could be read.
func TestMalformed(t *testing.T) {
	e := newEnv(t, "linux")
	a, b := e.dial(pfkey.Linux), e.dial(pfkey.Linux)
	badAlg := addMsg(0x1000, "192.0.2.1", "192.0.2.2")
	badAlg.SA.Encrypt = 200
	ah := addMsg(0x1000, "192.0.2.1", "192.0.2.2")
	ah.SAType = pfkey.SATypeAH
	noSA := addMsg(0x1000, "192.0.2.1", "192.0.2.2")
	noSA.SA = nil
	lowSPI := addMsg(0x10, "192.0.2.1", "192.0.2.2")
	badDir := spdAddMsg(pfkey.DirOutbound, prioBase)
	badDir.Policy.Dir = 7
	overrun := append(hdr(2, pfkey.MsgAdd, pfkey.SATypeESP, 3, 9), 0xff, 0x00, 0x01, 0x00, 0, 0, 0, 0)
	cases := []struct {
		name string
		b    []byte
	}{
		{"short", []byte{2, 3, 0}},
		{"version 1", hdr(1, pfkey.MsgFlush, 0, 2, 1)},
		{"length mismatch", hdr(2, pfkey.MsgFlush, 0, 3, 2)},
		{"reserved type", hdr(2, 0, 0, 2, 3)},
		{"unknown type", hdr(2, 99, 0, 2, 4)},
		{"EXPIRE from a client", hdr(2, pfkey.MsgExpire, pfkey.SATypeESP, 2, 5)},
		{"GETSPI without addresses", hdr(2, pfkey.MsgGetSPI, pfkey.SATypeESP, 2, 6)},
		{"GETSPI of no SA type", encoded(t, &pfkey.Msg{Header: pfkey.Header{Type: pfkey.MsgGetSPI},
			Src: addr("192.0.2.1"), Dst: addr("192.0.2.2")})},
		{"DUMP of an unknown SA type", hdr(2, pfkey.MsgDump, 99, 2, 8)},
		{"extension overruns", overrun},
		{"ADD with an unknown cipher", encoded(t, badAlg)},
		{"ADD of AH with a cipher", encoded(t, ah)},
		{"ADD without SA", encoded(t, noSA)},
		{"ADD with a reserved SPI", encoded(t, lowSPI)},
		{"SPDADD with a bad direction", encoded(t, badDir)},
		{"SPDDELETE2 of no policy", encoded(t, &pfkey.Msg{Header: pfkey.Header{Type: pfkey.MsgSPDDelete2}, Policy: &pfkey.Policy{ID: 12345}})},
		{"GET of no SA", encoded(t, saID(pfkey.MsgGet, 0x5000, "192.0.2.1", "192.0.2.2"))},
	}
	for _, c := range cases {
		a.sendRaw(c.b)
		raw := a.recvRaw()
		if len(raw) != pfkey.HeaderLen || raw[2] == 0 {
			t.Errorf("%s: reply %x, want a header with an errno", c.name, raw)
			continue
		}
		if len(c.b) >= pfkey.HeaderLen && (raw[1] != c.b[1] || string(raw[8:16]) != string(c.b[8:16])) {
			t.Errorf("%s: reply %x does not echo type, seq and pid of %x", c.name, raw, c.b[:16])
		}
		t.Logf("%s: %v", c.name, syscall.Errno(raw[2]))
	}
	b.none()
	a.ok(addMsg(0x1000, "192.0.2.1", "192.0.2.2")) // still served
}

// FuzzMessages: whatever a client sends, the server neither panics nor
// stops answering it.
func FuzzMessages(f *testing.F) {
	f.Add([]byte{2, 3, 0})
	f.Add(hdr(2, pfkey.MsgFlush, 0, 2, 1))
	f.Add(hdr(2, pfkey.MsgDump, 0, 2, 1))
	for _, m := range []*pfkey.Msg{addMsg(0x1000, "192.0.2.1", "192.0.2.2"), spdAddMsg(pfkey.DirOutbound, prioBase),
		saID(pfkey.MsgDelete, 0x1000, "192.0.2.1", "192.0.2.2"),
		{Header: pfkey.Header{Type: pfkey.MsgRegister, SAType: pfkey.SATypeESP}},
		{Header: pfkey.Header{Type: pfkey.MsgGetSPI, SAType: pfkey.SATypeESP}, Src: addr("192.0.2.1"), Dst: addr("192.0.2.2")}} {
		m.Version, m.Seq = pfkey.Version, 1
		for _, d := range []pfkey.Dialect{pfkey.Linux, pfkey.FreeBSD} {
			if b, err := pfkey.Encode(d, m); err == nil {
				f.Add(b)
			}
		}
	}
	e := newEnv(f, "auto")
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) == 0 || len(data) > 4096 {
			return
		}
		c := dialTB(t, e, pfkey.Linux)
		c.sendRaw(data)
		// The handshake message's reply must come after whatever data caused.
		seq := c.send(&pfkey.Msg{Header: pfkey.Header{Type: pfkey.MsgSPDGet},
			Policy: &pfkey.Policy{Type: pfkey.PolicyIPsec, Dir: pfkey.DirOutbound, ID: 1}})
		for {
			raw := c.recvRaw()
			if len(raw) >= 16 && raw[1] == byte(pfkey.MsgSPDGet) && binary.NativeEndian.Uint32(raw[8:]) == seq {
				return
			}
		}
	})
}
