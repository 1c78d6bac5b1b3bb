package pfkeyfmt

import (
	"bytes"
	"net/netip"
	"testing"
	"time"

	"github.com/fastipsec/fastipsec/ctrl/pfkey"
)

// The expected texts below are written from libipsec's pfkey_dump.c and
// ipsec_dump_policy.c printf formats, not produced by this package.

var fixedNow = time.Date(2026, 11, 29, 9, 0, 30, 0, time.UTC)

func printer(d pfkey.Dialect) *Printer {
	return &Printer{Dialect: d, Now: func() time.Time { return fixedNow }, Loc: time.UTC}
}

func addr(s string, port uint16) *pfkey.Address {
	a := netip.MustParseAddr(s)
	return &pfkey.Address{Proto: pfkey.ProtoAny, PrefixLen: uint8(a.BitLen()), Addr: netip.AddrPortFrom(a, port)}
}

func seqKey(n int) *pfkey.Key {
	k := &pfkey.Key{Bits: uint16(n * 8), Data: make([]byte, n)}
	for i := range k.Data {
		k.Data[i] = byte(i + 1)
	}
	return k
}

func TestSATunnelGCMWithLifetimes(t *testing.T) {
	created := uint64(fixedNow.Unix() - 30)
	m := &pfkey.Msg{
		Header:          pfkey.Header{Version: 2, Type: pfkey.MsgDump, SAType: pfkey.SATypeESP, Seq: 1, PID: 1234, Reserved: 1},
		SA:              &pfkey.SA{SPI: 4096, Replay: 4, State: pfkey.SAStateMature, Encrypt: pfkey.EAlgAESGCM16, Flags: 0x40},
		SA2:             &pfkey.SA2{Mode: pfkey.ModeTunnel, ReqID: 7},
		Src:             addr("10.0.0.1", 0),
		Dst:             addr("10.0.0.2", 0),
		EncKey:          seqKey(36),
		LifetimeCurrent: &pfkey.Lifetime{Bytes: 1500, AddTime: created},
		LifetimeHard:    &pfkey.Lifetime{AddTime: 3600, Bytes: 1 << 30},
		LifetimeSoft:    &pfkey.Lifetime{AddTime: 3000},
	}
	var b bytes.Buffer
	printer(pfkey.FreeBSD).SA(&b, m)
	want := "10.0.0.1 10.0.0.2\n" +
		"\tesp mode=tunnel spi=4096(0x00001000) reqid=7(0x00000007)\n" +
		"\tE: aes-gcm-16  01020304 05060708 090a0b0c 0d0e0f10 11121314 15161718 191a1b1c 1d1e1f20\n" +
		" 21222324\n" +
		"\tseq=0x00000000 replay=4 flags=0x00000040 state=mature \n" +
		"\tcreated: Nov 29 09:00:00 2026\tcurrent: Nov 29 09:00:30 2026\n" +
		"\tdiff: 30(s)\thard: 3600(s)\tsoft: 3000(s)\n" +
		"\tlast:                     \thard: 0(s)\tsoft: 0(s)\n" +
		"\tcurrent: 1500(bytes)\thard: 1073741824(bytes)\tsoft: 0(bytes)\n" +
		"\tallocated: 0\thard: 0\tsoft: 0\n" +
		"\tsadb_seq=1 pid=1234 refcnt=1\n"
	if b.String() != want {
		t.Errorf("got:\n%q\nwant:\n%q", b.String(), want)
	}
}

func TestSATransportCBCWithAuthNoLifetime(t *testing.T) {
	m := &pfkey.Msg{
		Header:  pfkey.Header{Version: 2, Type: pfkey.MsgGet, SAType: pfkey.SATypeESP, PID: 99},
		SA:      &pfkey.SA{SPI: 0x10001, State: pfkey.SAStateDying, Encrypt: pfkey.EAlgAESCBC, Auth: pfkey.AAlgSHA2256},
		SA2:     &pfkey.SA2{Mode: pfkey.ModeTransport, Sequence: 5},
		Src:     addr("2001:db8::1", 0),
		Dst:     addr("2001:db8::2", 0),
		EncKey:  seqKey(16),
		AuthKey: seqKey(32),
	}
	var b bytes.Buffer
	printer(pfkey.FreeBSD).SA(&b, m)
	want := "2001:db8::1 2001:db8::2\n" +
		"\tesp mode=transport spi=65537(0x00010001) reqid=0(0x00000000)\n" +
		"\tE: aes-cbc  01020304 05060708 090a0b0c 0d0e0f10\n" +
		"\tA: hmac-sha2-256  01020304 05060708 090a0b0c 0d0e0f10 11121314 15161718 191a1b1c 1d1e1f20\n" +
		"\tseq=0x00000005 replay=0 flags=0x00000000 state=dying \n" +
		"\tsadb_seq=0 pid=99 refcnt=0\n"
	if b.String() != want {
		t.Errorf("got:\n%q\nwant:\n%q", b.String(), want)
	}
}

// esp-udp with NAT-T ports and original addresses; a big replay window
// from SA_REPLAY (packets, printed in octets as FreeBSD does).
func TestSANATTAndReplayExt(t *testing.T) {
	m := &pfkey.Msg{
		Header:    pfkey.Header{Version: 2, Type: pfkey.MsgDump, SAType: pfkey.SATypeESP},
		SA:        &pfkey.SA{SPI: 300, Replay: 255, State: pfkey.SAStateMature, Encrypt: pfkey.EAlgAESGCM16},
		SA2:       &pfkey.SA2{Mode: pfkey.ModeTunnel},
		SAReplay:  &pfkey.SAReplay{Replay: 8192},
		Src:       addr("192.0.2.1", 0),
		Dst:       addr("198.51.100.1", 0),
		NATTType:  &pfkey.NATTType{Type: pfkey.NATTEspInUDP},
		NATTSport: &pfkey.NATTPort{Port: 4500},
		NATTDport: &pfkey.NATTPort{Port: 4501},
		NATTOAI:   addr("10.1.0.1", 0),
		NATTOAR:   addr("10.2.0.1", 0),
	}
	var b bytes.Buffer
	printer(pfkey.FreeBSD).SA(&b, m)
	want := "192.0.2.1[4500] 198.51.100.1[4501]\n" +
		"\tesp-udp mode=tunnel spi=300(0x0000012c) reqid=0(0x00000000)\n" +
		"\tNAT: OAI=10.1.0.1 OAR=10.2.0.1\n" +
		"\tseq=0x00000000 replay=1024 flags=0x00000000 state=mature \n" +
		"\tsadb_seq=0 pid=0 refcnt=0\n"
	if b.String() != want {
		t.Errorf("got:\n%q\nwant:\n%q", b.String(), want)
	}
}

// IPComp's "C:" line has no newline in FreeBSD; AH shows only "A:".
func TestSAIPCompAndAH(t *testing.T) {
	ipcomp := &pfkey.Msg{
		Header: pfkey.Header{Version: 2, Type: pfkey.MsgDump, SAType: pfkey.SATypeIPComp},
		SA:     &pfkey.SA{SPI: 0x1234, State: pfkey.SAStateMature, Encrypt: pfkey.CAlgDeflate},
		SA2:    &pfkey.SA2{Mode: pfkey.ModeAny},
		Src:    addr("10.0.0.1", 0),
		Dst:    addr("10.0.0.2", 0),
	}
	ah := &pfkey.Msg{
		Header:  pfkey.Header{Version: 2, Type: pfkey.MsgDump, SAType: pfkey.SATypeAH},
		SA:      &pfkey.SA{SPI: 0x1235, State: pfkey.SAStateLarval, Auth: pfkey.AAlgSHA1HMAC},
		SA2:     &pfkey.SA2{},
		Src:     addr("10.0.0.1", 0),
		Dst:     addr("10.0.0.2", 0),
		AuthKey: seqKey(20),
	}
	var b bytes.Buffer
	p := printer(pfkey.FreeBSD)
	p.SA(&b, ipcomp)
	p.SA(&b, ah)
	want := "10.0.0.1 10.0.0.2\n" +
		"\tipcomp mode=any spi=4660(0x00001234) reqid=0(0x00000000)\n" +
		"\tC: deflate \tseq=0x00000000 replay=0 flags=0x00000000 state=mature \n" +
		"\tsadb_seq=0 pid=0 refcnt=0\n" +
		"10.0.0.1 10.0.0.2\n" +
		"\tah mode=any spi=4661(0x00001235) reqid=0(0x00000000)\n" +
		"\tA: hmac-sha1  01020304 05060708 090a0b0c 0d0e0f10 11121314\n" +
		"\tseq=0x00000000 replay=0 flags=0x00000000 state=larval \n" +
		"\tsadb_seq=0 pid=0 refcnt=0\n"
	if b.String() != want {
		t.Errorf("got:\n%q\nwant:\n%q", b.String(), want)
	}
}

func TestSAMissingExtensions(t *testing.T) {
	var b bytes.Buffer
	p := printer(pfkey.FreeBSD)
	p.SA(&b, &pfkey.Msg{})
	p.SA(&b, &pfkey.Msg{Src: addr("10.0.0.1", 0), Dst: addr("10.0.0.2", 0), SA: &pfkey.SA{}})
	want := "no ADDRESS_SRC extension.\n10.0.0.1 10.0.0.2\nno SA2 extension.\n"
	if b.String() != want {
		t.Errorf("got %q, want %q", b.String(), want)
	}
}

func TestPolicyTunnel(t *testing.T) {
	src := netip.MustParsePrefix("10.0.0.0/24")
	dst := netip.MustParsePrefix("10.0.1.0/24")
	m := &pfkey.Msg{
		Header: pfkey.Header{Version: 2, Type: pfkey.MsgSPDDump, Seq: 1, PID: 555, Reserved: 1},
		Src:    &pfkey.Address{Proto: pfkey.ProtoAny, PrefixLen: 24, Addr: netip.AddrPortFrom(src.Addr(), 0)},
		Dst:    &pfkey.Address{Proto: pfkey.ProtoAny, PrefixLen: 24, Addr: netip.AddrPortFrom(dst.Addr(), 0)},
		Policy: &pfkey.Policy{Type: pfkey.PolicyIPsec, Dir: pfkey.DirOutbound, Scope: pfkey.ScopeGlobal, ID: 1,
			Priority: 0x80000000, Requests: []pfkey.IPsecRequest{{
				Proto: pfkey.ProtoESP, Mode: pfkey.ModeTunnel, Level: pfkey.LevelRequire,
				Src: netip.MustParseAddrPort("192.0.2.1:0"), Dst: netip.MustParseAddrPort("192.0.2.2:0"),
			}, {
				Proto: pfkey.ProtoAH, Mode: pfkey.ModeTransport, Level: pfkey.LevelUnique, ReqID: 5,
			}}},
		LifetimeCurrent: &pfkey.Lifetime{AddTime: uint64(fixedNow.Unix())},
		LifetimeHard:    &pfkey.Lifetime{AddTime: 0, UseTime: 0},
	}
	var b bytes.Buffer
	printer(pfkey.FreeBSD).Policy(&b, m)
	want := "10.0.0.0/24[any] 10.0.1.0/24[any] any\n" +
		"\tout ipsec\n" +
		"\tesp/tunnel/192.0.2.1-192.0.2.2/require\n" +
		"\tah/transport//unique:5\n" +
		"\tcreated: Nov 29 09:00:30 2026  lastused:                     \n" +
		"\tlifetime: 0(s) validtime: 0(s)\n" +
		"\tspid=1 seq=1 pid=555 scope=global \n" +
		"\trefcnt=1\n"
	if b.String() != want {
		t.Errorf("got:\n%q\nwant:\n%q", b.String(), want)
	}
}

func TestPolicySelectorsAndPriority(t *testing.T) {
	for _, tc := range []struct {
		name        string
		src, dst    *pfkey.Address
		pol         pfkey.Policy
		first, pol2 string
	}{
		{"host tcp ports",
			&pfkey.Address{Proto: 6, PrefixLen: 32, Addr: netip.MustParseAddrPort("10.0.0.1:22")},
			&pfkey.Address{Proto: 6, PrefixLen: 32, Addr: netip.MustParseAddrPort("10.0.0.2:0")},
			pfkey.Policy{Type: pfkey.PolicyDiscard, Dir: pfkey.DirInbound},
			"10.0.0.1[22] 10.0.0.2[any] tcp", "in discard"},
		{"icmp6 type code",
			&pfkey.Address{Proto: 58, PrefixLen: 64, Addr: netip.MustParseAddrPort("[2001:db8::]:135")},
			&pfkey.Address{Proto: 58, PrefixLen: 128, Addr: netip.MustParseAddrPort("[2001:db8::2]:0")},
			pfkey.Policy{Type: pfkey.PolicyNone, Dir: pfkey.DirOutbound, Priority: 0x80000000},
			"2001:db8::/64 2001:db8::2 icmp6 135,0", "out none"},
		{"ip4 and high priority",
			&pfkey.Address{Proto: 4, PrefixLen: 0, Addr: netip.MustParseAddrPort("0.0.0.0:0")},
			&pfkey.Address{Proto: 4, PrefixLen: 0, Addr: netip.MustParseAddrPort("0.0.0.0:0")},
			pfkey.Policy{Type: pfkey.PolicyBypass, Dir: pfkey.DirOutbound, Priority: 0x40000000 - 10},
			"0.0.0.0/0[any] 0.0.0.0/0[any] ip4", "out prio high + 10 bypass"},
		{"fwd low priority minus",
			&pfkey.Address{Proto: 17, PrefixLen: 8, Addr: netip.MustParseAddrPort("10.0.0.0:53")},
			&pfkey.Address{Proto: 17, PrefixLen: 8, Addr: netip.MustParseAddrPort("10.0.0.0:53")},
			pfkey.Policy{Type: pfkey.PolicyEntrust, Dir: pfkey.DirFwd, Priority: 0xC0000000 + 3},
			"10.0.0.0/8[53] 10.0.0.0/8[53] udp", "fwd prio low - 3 entrust"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := &pfkey.Msg{Src: tc.src, Dst: tc.dst, Policy: &tc.pol}
			var b bytes.Buffer
			printer(pfkey.FreeBSD).Policy(&b, m)
			want := tc.first + "\n\t" + tc.pol2 + "\n\tspid=0 seq=0 pid=0 scope=0 \n\trefcnt=0\n"
			if b.String() != want {
				t.Errorf("got:\n%q\nwant:\n%q", b.String(), want)
			}
		})
	}
}

func TestHeader(t *testing.T) {
	var b bytes.Buffer
	Header(&b, pfkey.Header{Version: 2, Type: pfkey.MsgAdd, Errno: 17, SAType: 3, Len: 2, Seq: 9, PID: 77})
	want := "sadb_msg{ version=2 type=3 errno=17 satype=3\n  len=2 reserved=0 seq=9 pid=77\n"
	if b.String() != want {
		t.Errorf("got %q, want %q", b.String(), want)
	}
}

func TestRequestReqIDAboveManualMax(t *testing.T) {
	got := RequestString(pfkey.IPsecRequest{Proto: pfkey.ProtoESP, Mode: pfkey.ModeTunnel, Level: pfkey.LevelUnique,
		ReqID: 0x4000, Src: netip.MustParseAddrPort("[2001:db8::1]:0"), Dst: netip.MustParseAddrPort("[2001:db8::2]:0")})
	if want := "esp/tunnel/2001:db8::1-2001:db8::2/unique#16384"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

// A Linux reply counts the replay window in packets and has no scope: both
// print with FreeBSD's meaning.
func TestLinuxDialectPrintsFreeBSDMeaning(t *testing.T) {
	sa := &pfkey.Msg{
		Header: pfkey.Header{Version: 2, Type: pfkey.MsgDump, SAType: pfkey.SATypeESP},
		SA:     &pfkey.SA{SPI: 4096, Replay: 32, State: pfkey.SAStateMature, Encrypt: pfkey.EAlgAESGCM16},
		SA2:    &pfkey.SA2{Mode: pfkey.ModeTransport},
		Src:    addr("10.0.0.1", 0),
		Dst:    addr("10.0.0.2", 0),
	}
	pol := &pfkey.Msg{Src: addr("10.0.0.1", 0), Dst: addr("10.0.0.2", 0),
		Policy: &pfkey.Policy{Type: pfkey.PolicyNone, Dir: pfkey.DirInbound}}
	var b bytes.Buffer
	p := printer(pfkey.Linux)
	p.SA(&b, sa)
	p.Policy(&b, pol)
	want := "10.0.0.1 10.0.0.2\n" +
		"\tesp mode=transport spi=4096(0x00001000) reqid=0(0x00000000)\n" +
		"\tseq=0x00000000 replay=4 flags=0x00000000 state=mature \n" +
		"\tsadb_seq=0 pid=0 refcnt=0\n" +
		"10.0.0.1[any] 10.0.0.2[any] any\n\tin none\n\tspid=0 seq=0 pid=0 scope=global \n\trefcnt=0\n"
	if b.String() != want {
		t.Errorf("got:\n%q\nwant:\n%q", b.String(), want)
	}
}
