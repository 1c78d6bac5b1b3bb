package pfkey

import (
	"syscall"
	"testing"

	"github.com/fastipsec/fastipsec/ipsec/alg"
)

func decodeGolden(t *testing.T, name string) (*Msg, Dialect) {
	t.Helper()
	for _, g := range goldens {
		if g.name == name {
			m, err := Decode(g.d, g.wire(t))
			if err != nil {
				t.Fatal(err)
			}
			return m, g.d
		}
	}
	t.Fatalf("no golden %q", name)
	return nil, 0
}

func TestCheckRequestAcceptsGoldenRequests(t *testing.T) {
	if !littleEndianHost() {
		t.Skip("little-endian bytes")
	}
	// Goldens that are not requests a kernel would take as they stand.
	notRequests := map[string]syscall.Errno{
		"fb EXPIRE": syscall.EINVAL, "lx EXPIRE": syscall.EOPNOTSUPP,
		"fb X_PCHANGE": syscall.EINVAL, "lx X_PCHANGE": syscall.EOPNOTSUPP,
		"fb X_SPDACQUIRE": syscall.EINVAL, "lx X_SPDACQUIRE": syscall.EOPNOTSUPP,
		"fb X_SPDEXPIRE": syscall.EINVAL, "lx X_SPDEXPIRE": syscall.EOPNOTSUPP,
		"lx X_NAT_T_NEW_MAPPING": syscall.EOPNOTSUPP,
		// An IPsec policy without requests cannot be installed.
		"fb X_SPDSETIDX": syscall.EINVAL, "lx X_SPDSETIDX": syscall.EINVAL,
	}
	for _, g := range goldens {
		m, err := Decode(g.d, g.wire(t))
		if err != nil {
			t.Fatal(err)
		}
		err = CheckRequest(g.d, m)
		if want, ok := notRequests[g.name]; ok {
			if ErrnoOf(err) != want {
				t.Errorf("%s: CheckRequest = %v, want %v", g.name, err, want)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: CheckRequest: %v", g.name, err)
		}
	}
}

func TestCheckRequestRejects(t *testing.T) {
	if !littleEndianHost() {
		t.Skip("little-endian bytes")
	}
	type tc struct {
		name   string
		golden string
		mutate func(*Msg)
		errno  syscall.Errno
	}
	cases := []tc{
		{"ADD without SA type fb", "fb ADD strongSwan AES-GCM NAT-T", func(m *Msg) { m.SAType = SATypeUnspec }, syscall.EINVAL},
		{"ADD without SA type lx", "lx ADD strongSwan AES-GCM NAT-T", func(m *Msg) { m.SAType = SATypeUnspec }, syscall.EINVAL},
		{"RSVP fb", "fb ADD strongSwan AES-GCM NAT-T", func(m *Msg) { m.SAType = SATypeRSVP }, syscall.EOPNOTSUPP},
		{"RSVP lx", "lx ADD strongSwan AES-GCM NAT-T", func(m *Msg) { m.SAType = SATypeRSVP }, syscall.EINVAL},
		{"satype 4", "fb ADD strongSwan AES-GCM NAT-T", func(m *Msg) { m.SAType = 4 }, syscall.EINVAL},
		{"TCP-MD5 on Linux", "lx ADD strongSwan AES-GCM NAT-T", func(m *Msg) { m.SAType = SATypeTCPSignature }, syscall.EINVAL},
		{"satype 1 on ADD", "fb ADD strongSwan AES-GCM NAT-T", func(m *Msg) { m.SAType = 1 }, syscall.EINVAL},
		{"SA type on SPDADD fb", "fb X_SPDADD setkey", func(m *Msg) { m.SAType = SATypeESP }, syscall.EINVAL},
		{"ADD without SA", "fb ADD strongSwan AES-GCM NAT-T", func(m *Msg) { m.SA = nil }, syscall.EINVAL},
		{"ADD without DST", "lx ADD strongSwan AES-GCM NAT-T", func(m *Msg) { m.Dst = nil }, syscall.EINVAL},
		{"ESP ADD without key", "lx ADD strongSwan AES-GCM NAT-T", func(m *Msg) { m.EncKey = nil }, syscall.EINVAL},
		{"AH ADD without key", "fb ADD strongSwan AES-GCM NAT-T", func(m *Msg) { m.SAType = SATypeAH }, syscall.EINVAL},
		{"HARD without SOFT", "fb ADD strongSwan AES-GCM NAT-T", func(m *Msg) { m.LifetimeSoft = nil }, syscall.EINVAL},
		{"families differ", "lx ADD strongSwan AES-GCM NAT-T", func(m *Msg) { m.Dst.Addr = host6b }, syscall.EINVAL},
		{"ULP differs fb", "fb X_SPDADD setkey", func(m *Msg) { m.Dst.Proto = 6 }, syscall.EINVAL},
		{"DELETE without SA lx", "lx DELETE IPv6", func(m *Msg) { m.SA = nil }, syscall.EINVAL},
		{"GET without SA", "fb GET reply", func(m *Msg) { m.SA = nil }, syscall.EINVAL},
		{"GETSPI without SRC", "fb GETSPI", func(m *Msg) { m.Src = nil }, syscall.EINVAL},
		{"GETSPI min > max", "lx GETSPI", func(m *Msg) { m.SPIRange.Min = 0x10000000 }, syscall.EINVAL},
		{"ACQUIRE without PROPOSAL fb", "fb ACQUIRE", func(m *Msg) { m.Proposal = nil }, syscall.EINVAL},
		{"SPDADD without policy", "fb X_SPDADD setkey", func(m *Msg) { m.Policy = nil }, syscall.EINVAL},
		{"SPDGET without policy", "lx X_SPDGET", func(m *Msg) { m.Policy = nil }, syscall.EINVAL},
		{"MIGRATE without policy", "lx X_MIGRATE", func(m *Msg) { m.Policy = nil }, syscall.EINVAL},
		{"policy type 9", "fb X_SPDADD setkey", func(m *Msg) { m.Policy.Type = 9 }, syscall.EINVAL},
		{"BYPASS on Linux", "lx X_SPDADD setkey", func(m *Msg) { m.Policy.Type = PolicyBypass; m.Policy.Requests = nil }, syscall.EINVAL},
		{"dir any", "lx X_SPDADD setkey", func(m *Msg) { m.Policy.Dir = DirAny }, syscall.EINVAL},
		{"no requests", "fb X_SPDADD setkey", func(m *Msg) { m.Policy.Requests = nil }, syscall.EINVAL},
		{"too many requests fb", "fb X_SPDADD setkey", func(m *Msg) {
			r := m.Policy.Requests[0]
			m.Policy.Requests = []IPsecRequest{r, r, r, r, r}
		}, syscall.EINVAL},
		{"proto TCP fb", "fb X_SPDADD setkey", func(m *Msg) { m.Policy.Requests[0].Proto = 6 }, syscall.EPROTONOSUPPORT},
		{"proto TCP lx", "lx X_SPDADD setkey", func(m *Msg) { m.Policy.Requests[0].Proto = 6 }, syscall.EINVAL},
		{"mode any", "fb X_SPDADD setkey", func(m *Msg) { m.Policy.Requests[0].Mode = ModeAny }, syscall.EINVAL},
		{"BEET on FreeBSD", "fb X_SPDADD setkey", func(m *Msg) { m.Policy.Requests[0].Mode = ModeBEET }, syscall.EINVAL},
		{"level default on Linux", "lx X_SPDADD setkey", func(m *Msg) { m.Policy.Requests[0].Level = LevelDefault }, syscall.EINVAL},
		{"level 4", "fb X_SPDADD setkey", func(m *Msg) { m.Policy.Requests[0].Level = 4 }, syscall.EINVAL},
		{"tunnel without endpoints", "lx X_SPDADD setkey", func(m *Msg) {
			m.Policy.Requests[0] = IPsecRequest{Proto: ProtoESP, Mode: ModeTunnel, Level: LevelRequire}
		}, syscall.EINVAL},
		{"SPDDELETE dir any", "fb X_SPDDELETE", func(m *Msg) { m.Policy.Dir = DirAny }, syscall.EINVAL},
		{"over 2048 bytes fb", "fb FLUSH", func(m *Msg) { m.Len = 257 }, syscall.ENOBUFS},
		{"MIGRATE on FreeBSD", "fb FLUSH", func(m *Msg) { m.Type = MsgMigrate }, syscall.EINVAL},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m, d := decodeGolden(t, c.golden)
			if err := CheckRequest(d, m); err != nil {
				t.Fatalf("unmutated: %v", err)
			}
			c.mutate(m)
			if err := CheckRequest(d, m); ErrnoOf(err) != c.errno {
				t.Fatalf("CheckRequest = %v, want %v", err, c.errno)
			}
		})
	}
	if err := CheckRequest(0, &Msg{}); ErrnoOf(err) != syscall.EINVAL {
		t.Errorf("no dialect: %v", err)
	}
	if err := CheckRequest(Linux, nil); ErrnoOf(err) != syscall.EINVAL {
		t.Errorf("nil message: %v", err)
	}
	if _, err := Encode(FreeBSD, nil); ErrnoOf(err) != syscall.EINVAL {
		t.Errorf("Encode(nil): %v", err)
	}
}

func TestReplayWindow(t *testing.T) {
	for _, c := range []struct {
		d       Dialect
		packets uint32
		replay  uint8
		ext     uint32 // 0: no SA_REPLAY
		back    uint32
	}{
		{FreeBSD, 0, 0, 0, 0},
		{FreeBSD, 32, 4, 0, 32},
		{FreeBSD, 33, 5, 0, 40},
		{FreeBSD, 2040, 255, 0, 2040},
		{FreeBSD, 2041, 255, 2048, 2048},
		{FreeBSD, 1 << 20, 255, 1 << 20, 1 << 20},
		{FreeBSD, 0xffffffff, 255, 0xfffffff8, 0xfffffff8},
		{Linux, 64, 64, 0, 64},
		{Linux, 1000, 255, 0, 255},
	} {
		m := &Msg{SA: &SA{}}
		m.SetReplayWindow(c.d, c.packets)
		var ext uint32
		if m.SAReplay != nil {
			ext = m.SAReplay.Replay
		}
		if m.SA.Replay != c.replay || ext != c.ext || m.ReplayWindow(c.d) != c.back {
			t.Errorf("%v %d: replay=%d ext=%d back=%d, want %d %d %d", c.d, c.packets, m.SA.Replay, ext, m.ReplayWindow(c.d), c.replay, c.ext, c.back)
		}
	}
	if (&Msg{}).ReplayWindow(Linux) != 0 {
		t.Error("no SA")
	}
	m := &Msg{}
	m.SetReplayWindow(Linux, 16)
	if m.SA == nil || m.SA.Replay != 16 {
		t.Error("SetReplayWindow without SA")
	}
}

func TestAlgMapping(t *testing.T) {
	for _, c := range []struct {
		d    Dialect
		n    uint8
		id   alg.EncID
		isOK bool
	}{
		{FreeBSD, EAlgAESGCM16, alg.EncAESGCM16, true},
		{Linux, EAlgAESGCM16, alg.EncAESGCM16, true},
		{FreeBSD, EAlgAESCBC, alg.EncAESCBC, true},
		{FreeBSD, EAlgAESGMAC, alg.EncAESGMAC, true},
		{Linux, EAlgAESGMAC, alg.EncAESGMAC, true},
		{FreeBSD, EAlgChaCha20Poly1305, alg.EncChaCha20Poly1305, true},
		{Linux, 15, alg.EncInvalid, false}, // AES_CCM_ICV12 on Linux: not implemented
		{FreeBSD, EAlgNull, alg.EncNull, true},
		{FreeBSD, EAlgNone, alg.EncInvalid, true},
		{Linux, EAlgDESCBC, alg.EncInvalid, false},
	} {
		id, ok := EncAlgFromWire(c.d, c.n)
		if id != c.id || ok != c.isOK {
			t.Errorf("EncAlgFromWire(%v, %d) = %v %v", c.d, c.n, id, ok)
		}
	}
	for _, d := range []Dialect{FreeBSD, Linux} {
		for _, e := range alg.Encs() {
			n, ok := EncAlgToWire(d, e.ID)
			want := e.FreeBSD
			if d == Linux {
				want = e.Linux
			}
			if ok != (want >= 0) || (ok && int(n) != want) {
				t.Errorf("EncAlgToWire(%v, %v) = %d %v, want %d", d, e.ID, n, ok, want)
			}
			if ok {
				if back, ok := EncAlgFromWire(d, n); !ok || back != e.ID {
					t.Errorf("EncAlgFromWire(%v, %d) = %v", d, n, back)
				}
			}
		}
		for _, a := range alg.Auths() {
			n, ok := AuthAlgToWire(d, a.ID)
			want := a.FreeBSD
			if d == Linux {
				want = a.Linux
			}
			if ok != (want >= 0) || (ok && int(n) != want) {
				t.Errorf("AuthAlgToWire(%v, %v) = %d %v, want %d", d, a.ID, n, ok, want)
			}
			if ok {
				if back, ok := AuthAlgFromWire(d, n); !ok || back != a.ID {
					t.Errorf("AuthAlgFromWire(%v, %d) = %v", d, n, back)
				}
			}
		}
		if id, ok := AuthAlgFromWire(d, AAlgNone); !ok || id != alg.AuthInvalid {
			t.Errorf("AAlgNone: %v %v", id, ok)
		}
		if n, ok := AuthAlgToWire(d, alg.AuthInvalid); !ok || n != AAlgNone {
			t.Errorf("AuthInvalid: %v %v", n, ok)
		}
		if n, ok := EncAlgToWire(d, alg.EncInvalid); !ok || n != EAlgNone {
			t.Errorf("EncInvalid: %v %v", n, ok)
		}
		if _, ok := AuthAlgFromWire(d, 200); ok {
			t.Error("auth 200 mapped")
		}
		if c, ok := CompAlgFromWire(d, CAlgDeflate); !ok || c != 2 {
			t.Error("deflate")
		}
		if _, ok := CompAlgFromWire(d, CAlgLZS); ok {
			t.Error("LZS mapped")
		}
		if n, ok := CompAlgToWire(d, 2); !ok || n != CAlgDeflate {
			t.Error("deflate to wire")
		}
	}
	if id, ok := AuthAlgFromWire(FreeBSD, AAlgSHA2256); !ok || id != alg.AuthHMACSHA256 {
		t.Errorf("SHA2_256: %v", id)
	}
	if id, ok := AuthAlgFromWire(Linux, AAlgAESXCBCMAC); !ok || id != alg.AuthAESXCBC {
		t.Errorf("AES-XCBC: %v", id)
	}
	if _, ok := AuthAlgToWire(FreeBSD, alg.AuthAESCMAC); ok {
		t.Error("AES-CMAC has no PF_KEY number")
	}
	if _, ok := EncAlgToWire(Linux, alg.EncChaCha20Poly1305); ok {
		t.Error("ChaCha20-Poly1305 has no Linux PF_KEY number")
	}
	if _, ok := EncAlgFromWire(0, EAlgAESCBC); ok {
		t.Error("no dialect")
	}
}

func TestDetectDialect(t *testing.T) {
	if !littleEndianHost() {
		t.Skip("little-endian bytes")
	}
	for _, c := range []struct {
		golden string
		d      Dialect
		ok     bool
	}{
		{"fb ADD strongSwan AES-GCM NAT-T", FreeBSD, true},
		{"lx ADD strongSwan AES-GCM NAT-T", Linux, true},
		{"fb DELETE IPv6", FreeBSD, true},
		{"lx DELETE IPv6", Linux, true},
		{"fb FLUSH", DefaultDialect, false},
		{"lx REGISTER reply", DefaultDialect, false},
		{"fb X_SPDGET", DefaultDialect, false},
	} {
		d, ok := DetectDialect(goldenWire(t, c.golden))
		if d != c.d || ok != c.ok {
			t.Errorf("%s: DetectDialect = %v %v, want %v %v", c.golden, d, ok, c.d, c.ok)
		}
	}
	// A policy with a tunnel request but no address extension.
	for _, c := range []struct {
		d    Dialect
		frag frag
	}{{FreeBSD, fbPolicyTunnel}, {Linux, lxPolicyTunnel}, {FreeBSD, fbPolicyTunnel6}, {Linux, lxPolicyTunnel6}} {
		b := unhex(t, "02 10 00 00 00 00 00 00 00 00 00 00 00 00 00 00\n"+c.frag.hex)
		setLen(b)
		if d, ok := DetectDialect(b); !ok || d != c.d {
			t.Errorf("policy-only %v: %v %v", c.d, d, ok)
		}
	}
	// A transport request without addresses before a tunnel request.
	for _, c := range []struct {
		d   Dialect
		hex string
	}{
		{FreeBSD, `02 10 00 00 0a 00 00 00 00 00 00 00 00 00 00 00
			08 00 12 00 02 00 02 00 00 00 00 00 00 00 00 00  # X_POLICY len=8
			08 00 33 00 01 02 00 00                          # AH transport, no addresses
			28 00 32 00 02 02 00 00                          # ESP tunnel, len=40
			10 02 00 00 c0 00 02 01 00 00 00 00 00 00 00 00
			10 02 00 00 c6 33 64 01 00 00 00 00 00 00 00 00`},
		{Linux, `02 10 00 00 0c 00 00 00 00 00 00 00 00 00 00 00
			0a 00 12 00 02 00 02 00 00 00 00 00 00 00 00 00  # X_POLICY len=10
			10 00 33 00 01 02 00 00 00 00 00 00 00 00 00 00  # AH transport, no addresses
			30 00 32 00 02 02 00 00 00 00 00 00 00 00 00 00  # ESP tunnel, len=48
			02 00 00 00 c0 00 02 01 00 00 00 00 00 00 00 00
			02 00 00 00 c6 33 64 01 00 00 00 00 00 00 00 00`},
	} {
		b := unhex(t, c.hex)
		if _, err := Decode(c.d, b); err != nil {
			t.Fatalf("%v: %v", c.d, err)
		}
		if d, ok := DetectDialect(b); !ok || d != c.d {
			t.Errorf("second request %v: %v %v", c.d, d, ok)
		}
	}
	for _, b := range [][]byte{nil, make([]byte, 15), make([]byte, 40)} {
		if d, ok := DetectDialect(b); ok || d != DefaultDialect {
			t.Errorf("DetectDialect(%x) = %v %v", b, d, ok)
		}
	}
}

func TestNames(t *testing.T) {
	if FreeBSD.String() != "freebsd" || Linux.String() != "linux" || Dialect(9).String() != "dialect(9)" {
		t.Error("Dialect.String")
	}
	for _, c := range []struct {
		d    Dialect
		t    ExtType
		want string
	}{
		{FreeBSD, ExtNATTOAR, "X_NAT_T_OAR"}, {Linux, ExtSecCtx, "X_SEC_CTX"},
		{Linux, ExtFilter, "X_FILTER"}, {FreeBSD, ExtSAReplay, "X_SA_REPLAY"},
		{FreeBSD, ExtKMPrivate, ""}, {Linux, 27, ""}, {FreeBSD, 0, ""},
	} {
		if got := ExtName(c.d, c.t); got != c.want {
			t.Errorf("ExtName(%v, %d) = %q, want %q", c.d, c.t, got, c.want)
		}
	}
	if MaxExtType(FreeBSD) != 28 || MaxExtType(Linux) != 26 || MaxMsgType(FreeBSD) != 22 || MaxMsgType(Linux) != 24 {
		t.Error("maxima")
	}
}

func TestWipe(t *testing.T) {
	m := &Msg{EncKey: &Key{Bits: 16, Data: []byte{1, 2}}, AuthKey: &Key{Bits: 8, Data: []byte{3}}}
	m.WipeKeys()
	if m.EncKey.Data[0]|m.EncKey.Data[1]|m.AuthKey.Data[0] != 0 {
		t.Error("keys not wiped")
	}
	(&Msg{}).WipeKeys() // nil keys are fine
}
