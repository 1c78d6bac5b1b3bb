package pfkey

import (
	"errors"
	"net/netip"
	"syscall"
	"testing"
)

// goldenWire returns the bytes of the named golden message.
func goldenWire(t testing.TB, name string) []byte {
	t.Helper()
	for _, g := range goldens {
		if g.name == name {
			return g.wire(t)
		}
	}
	t.Fatalf("no golden %q", name)
	return nil
}

// setLen rewrites sadb_msg_len to match len(b).
func setLen(b []byte) []byte {
	host.PutUint16(b[4:], uint16(len(b)/8))
	return b
}

// withExt appends extension bytes (already padded) and fixes the length.
func withExt(b []byte, ext ...byte) []byte {
	return setLen(append(append([]byte(nil), b...), ext...))
}

func le(v uint16) (byte, byte) { return byte(v), byte(v >> 8) }

func TestMalformed(t *testing.T) {
	if !littleEndianHost() {
		t.Skip("test bytes are written for a little-endian host")
	}
	fbAdd := func() []byte { return goldenWire(t, "fb ADD strongSwan AES-GCM NAT-T") }
	lxAdd := func() []byte { return goldenWire(t, "lx ADD strongSwan AES-GCM NAT-T") }
	fbSPD := func() []byte { return goldenWire(t, "fb X_SPDADD setkey") }
	lxSPD := func() []byte { return goldenWire(t, "lx X_SPDADD setkey") }
	flush := func(d Dialect) []byte {
		if d == FreeBSD {
			return goldenWire(t, "fb FLUSH")
		}
		return goldenWire(t, "lx FLUSH")
	}
	// Offsets in the ADD goldens: header 0, SA 16, SA2 32, SRC 48 (sockaddr at 56), DST 72.
	// In the SPDADD goldens: X_POLICY 16, first ipsecrequest 32, its sockaddrs at
	// 40 and 56 (FreeBSD) or 48 and 64 (Linux), then SRC and DST.
	mut := func(b []byte, f func([]byte)) []byte { f(b); return b }

	cases := []struct {
		name  string
		d     Dialect
		b     []byte
		errno syscall.Errno
	}{
		{"empty fb", FreeBSD, nil, syscall.EINVAL},
		{"empty lx", Linux, nil, syscall.EMSGSIZE},
		{"short header fb", FreeBSD, flush(FreeBSD)[:15], syscall.EINVAL},
		{"short header lx", Linux, flush(Linux)[:15], syscall.EMSGSIZE},
		{"version 1", FreeBSD, mut(flush(FreeBSD), func(b []byte) { b[0] = 1 }), syscall.EINVAL},
		{"version 3 lx", Linux, mut(flush(Linux), func(b []byte) { b[0] = 3 }), syscall.EINVAL},
		{"type RESERVED", FreeBSD, mut(flush(FreeBSD), func(b []byte) { b[1] = 0 }), syscall.EINVAL},
		{"type 23 on FreeBSD", FreeBSD, mut(flush(FreeBSD), func(b []byte) { b[1] = 23 }), syscall.EINVAL},
		{"type 25 on Linux", Linux, mut(flush(Linux), func(b []byte) { b[1] = 25 }), syscall.EINVAL},
		{"reserved set lx", Linux, mut(flush(Linux), func(b []byte) { b[6] = 1 }), syscall.EINVAL},
		{"len too big fb", FreeBSD, mut(flush(FreeBSD), func(b []byte) { b[4] = 3 }), syscall.EINVAL},
		{"len too big lx", Linux, mut(flush(Linux), func(b []byte) { b[4] = 3 }), syscall.EMSGSIZE},
		{"len zero lx", Linux, mut(flush(Linux), func(b []byte) { b[4] = 0 }), syscall.EMSGSIZE},
		{"trailing byte lx", Linux, append(flush(Linux), 0), syscall.EMSGSIZE},
		{"trailing word unaccounted fb", FreeBSD, append(flush(FreeBSD), 0, 0, 0, 0, 0, 0, 0, 0), syscall.EINVAL},
		{"ext len 0", FreeBSD, withExt(flush(FreeBSD), 0, 0, 1, 0, 0, 0, 0, 0), syscall.EINVAL},
		{"ext overruns", Linux, withExt(flush(Linux), 2, 0, 1, 0, 0, 0, 0, 0), syscall.EINVAL},
		{"ext type 0", Linux, withExt(flush(Linux), 1, 0, 0, 0, 0, 0, 0, 0), syscall.EINVAL},
		{"ext type 29 fb", FreeBSD, withExt(flush(FreeBSD), 1, 0, 29, 0, 0, 0, 0, 0), syscall.EINVAL},
		{"KMPRIVATE fb", FreeBSD, withExt(flush(FreeBSD), 1, 0, 17, 0, 0, 0, 0, 0), syscall.EINVAL},
		{"SEC_CTX number on fb is NAT_T_OAR, too short", FreeBSD, withExt(flush(FreeBSD), 1, 0, 24, 0, 0, 0, 0, 0), syscall.EINVAL},
		{"duplicate SA", FreeBSD, withExt(fbAdd(), fbAdd()[16:32]...), syscall.EINVAL},
		{"duplicate SPIRANGE lx", Linux, withExt(lxAdd(), 2, 0, 16, 0, 1, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0,
			2, 0, 16, 0, 1, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0), syscall.EINVAL},
		{"SA too long", Linux, withExt(flush(Linux), 3, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0), syscall.EINVAL},
		{"SA too short", FreeBSD, withExt(flush(FreeBSD), 1, 0, 1, 0, 0, 0, 0, 0), syscall.EINVAL},
		{"LIFETIME too short", Linux, withExt(flush(Linux), 2, 0, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0), syscall.EINVAL},
		{"NAT_T_TYPE too long", FreeBSD, withExt(flush(FreeBSD), 2, 0, 20, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0), syscall.EINVAL},
		{"X_FILTER on FreeBSD is SA_REPLAY: too long", FreeBSD, withExt(flush(FreeBSD), 2, 0, 26, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0), syscall.EINVAL},
		{"sa_len 255 (key_update overflow)", FreeBSD, mut(fbAdd(), func(b []byte) { b[56] = 255 }), syscall.EINVAL},
		{"sa_len 28 on AF_INET", FreeBSD, mut(fbAdd(), func(b []byte) { b[56] = 28 }), syscall.EINVAL},
		{"AF_UNIX fb", FreeBSD, mut(fbAdd(), func(b []byte) { b[57] = 1 }), syscall.EAFNOSUPPORT},
		{"AF_UNIX lx", Linux, mut(lxAdd(), func(b []byte) { b[56] = 1 }), syscall.EINVAL},
		{"FreeBSD sockaddr read as Linux", Linux, append(fbAdd()[:0:0], fbAdd()...), syscall.EINVAL},
		{"Linux sockaddr read as FreeBSD", FreeBSD, append(lxAdd()[:0:0], lxAdd()...), syscall.EAFNOSUPPORT},
		{"IPv6 family in an IPv4-sized ext", Linux, mut(lxAdd(), func(b []byte) { b[56] = 10 }), syscall.EINVAL},
		{"address ext one word too long", Linux, withExt(flush(Linux), 4, 0, 5, 0, 255, 32, 0, 0,
			2, 0, 0, 0, 192, 0, 2, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0), syscall.EINVAL},
		{"address ext without sockaddr", FreeBSD, withExt(flush(FreeBSD), 1, 0, 5, 0, 255, 32, 0, 0), syscall.EINVAL},
		{"prefixlen 33", FreeBSD, mut(fbAdd(), func(b []byte) { b[53] = 33 }), syscall.EINVAL},
		{"prefixlen 33 lx", Linux, mut(lxAdd(), func(b []byte) { b[77] = 33 }), syscall.EINVAL},
		{"key bits beyond ext", FreeBSD, withExt(flush(FreeBSD), 2, 0, 9, 0, 65, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8), syscall.EINVAL},
		{"identity too short", Linux, withExt(flush(Linux), 1, 0, 10, 0, 2, 0, 0, 0), syscall.EINVAL},
		{"IDENTTYPE_ADDR with bad sockaddr fb", FreeBSD, withExt(flush(FreeBSD), 3, 0, 10, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
			16, 2, 0, 0, 1, 2, 3, 4), syscall.EINVAL},
		{"sensitivity bitmap lengths", Linux, withExt(flush(Linux), 2, 0, 12, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0), syscall.EINVAL},
		{"proposal with half a comb", FreeBSD, withExt(flush(FreeBSD), 2, 0, 13, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0), syscall.EINVAL},
		{"ipsecrequest len below header fb", FreeBSD, mut(fbSPD(), func(b []byte) { b[32] = 4 }), syscall.EINVAL},
		{"ipsecrequest len beyond ext fb", FreeBSD, mut(fbSPD(), func(b []byte) { b[32] = 48 }), syscall.EINVAL},
		{"ipsecrequest len not 8-aligned lx", Linux, mut(lxSPD(), func(b []byte) { b[32] = 44 }), syscall.EINVAL},
		{"ipsecrequest len 16 on FreeBSD holds half a sockaddr", FreeBSD, mut(fbSPD(), func(b []byte) { b[32] = 16 }), syscall.EINVAL},
		{"ipsecrequest sa_len 255", FreeBSD, mut(fbSPD(), func(b []byte) { b[40] = 255 }), syscall.EINVAL},
		{"ipsecrequest mixed families lx", Linux, mut(lxSPD(), func(b []byte) { b[64] = 10 }), syscall.EINVAL},
		{"ipsecrequest unknown family lx", Linux, mut(lxSPD(), func(b []byte) { b[48] = 7 }), syscall.EINVAL},
		{"ipsecrequest read with the other header size", Linux, append(fbSPD()[:0:0], fbSPD()...), syscall.EINVAL},
		{"sec_ctx length mismatch", Linux, withExt(flush(Linux), 2, 0, 24, 0, 1, 1, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0), syscall.EINVAL},
		{"filter family 7", Linux, withExt(flush(Linux), 5, 0, 26, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
			0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7, 0, 0, 0), syscall.EINVAL},
		{"filter prefix 33", Linux, withExt(flush(Linux), 5, 0, 26, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
			0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 33, 0), syscall.EINVAL},
		{"kmaddress mixed families", Linux, withExt(flush(Linux), 7, 0, 25, 0, 0, 0, 0, 0,
			2, 0, 0, 0, 1, 2, 3, 4, 0, 0, 0, 0, 0, 0, 0, 0, // sockaddr_in
			10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, // sockaddr_in6
			0, 0, 0, 0), syscall.EINVAL},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m, err := Decode(c.d, c.b)
			if err == nil {
				t.Fatalf("Decode accepted it: %s", dump(m))
			}
			if m != nil {
				t.Errorf("Decode returned a message with the error")
			}
			t.Log(err)
			if got := ErrnoOf(err); got != c.errno {
				t.Errorf("errno %v (%d), want %v (%d): %v", got, int(got), c.errno, int(c.errno), err)
			}
			if !errors.Is(err, c.errno) {
				t.Errorf("errors.Is(err, %v) false", c.errno)
			}
		})
	}
}

// Linux skips extension types above SADB_EXT_MAX; Decode keeps them and
// Encode puts them back where they were.
func TestLinuxUnknownExtensionPreserved(t *testing.T) {
	if !littleEndianHost() {
		t.Skip("little-endian bytes")
	}
	base := goldenWire(t, "lx X_SPDGET")
	b := withExt(base, 2, 0, 30, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12)
	m, err := Decode(Linux, b)
	if err != nil {
		t.Fatal(err)
	}
	want := []RawExt{{Type: 30, Data: []byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}}}
	if len(m.Unknown) != 1 || m.Unknown[0].Type != want[0].Type || string(m.Unknown[0].Data) != string(want[0].Data) {
		t.Fatalf("Unknown = %+v, want %+v", m.Unknown, want)
	}
	enc, err := Encode(Linux, m)
	if err != nil || string(enc) != string(b) {
		t.Fatalf("re-encode: %v\n got %x\nwant %x", err, enc, b)
	}
	if _, err := Decode(FreeBSD, b); ErrnoOf(err) != syscall.EINVAL {
		t.Errorf("FreeBSD accepted an unknown extension: %v", err)
	}
	if _, err := Encode(FreeBSD, m); ErrnoOf(err) != syscall.EINVAL {
		t.Errorf("Encode(FreeBSD) of a raw extension: %v", err)
	}
}

func TestEncodeRejects(t *testing.T) {
	a4 := &Address{PrefixLen: 32, Addr: hostA}
	big := make([]byte, MaxMsgLen)
	cases := []struct {
		name  string
		d     Dialect
		m     *Msg
		errno syscall.Errno
	}{
		{"no dialect", 0, &Msg{}, syscall.EINVAL},
		{"errno 300", Linux, &Msg{Header: Header{Type: MsgAdd, Errno: 300}}, syscall.EINVAL},
		{"SEC_CTX on FreeBSD", FreeBSD, &Msg{SecCtx: &SecCtx{}}, syscall.EINVAL},
		{"KMPRIVATE on FreeBSD", FreeBSD, &Msg{KMPrivate: &KMPrivate{}}, syscall.EINVAL},
		{"SA_REPLAY on Linux", Linux, &Msg{SAReplay: &SAReplay{}}, syscall.EINVAL},
		{"NAT_T_OAR on Linux", Linux, &Msg{NATTOAR: a4}, syscall.EINVAL},
		{"invalid address", FreeBSD, &Msg{Src: &Address{}}, syscall.EINVAL},
		{"zoned address", Linux, &Msg{Src: &Address{Addr: netip.MustParseAddrPort("[fe80::1%eth0]:0")}}, syscall.EINVAL},
		{"prefix 40 on IPv4", FreeBSD, &Msg{Dst: &Address{PrefixLen: 40, Addr: hostA}}, syscall.EINVAL},
		{"key data/bits mismatch", Linux, &Msg{EncKey: &Key{Bits: 128, Data: make([]byte, 15)}}, syscall.EINVAL},
		{"identity data unpadded", Linux, &Msg{SrcIdentity: &Identity{Data: []byte("abc")}}, syscall.EINVAL},
		{"sensitivity bitmap unpadded", FreeBSD, &Msg{Sensitivity: &Sensitivity{SensBitmap: []byte{1}}}, syscall.EINVAL},
		{"FreeBSD reqid 70000", FreeBSD, &Msg{Policy: &Policy{Requests: []IPsecRequest{{ReqID: 70000}}}}, syscall.EINVAL},
		{"one tunnel endpoint", Linux, &Msg{Policy: &Policy{Requests: []IPsecRequest{{Src: hostA}}}}, syscall.EINVAL},
		{"mixed request families", Linux, &Msg{Policy: &Policy{Requests: []IPsecRequest{{Src: hostA, Dst: host6a}}}}, syscall.EINVAL},
		{"filter mixed families", Linux, &Msg{Filter: &Filter{Src: hostA.Addr(), Dst: host6a.Addr()}}, syscall.EINVAL},
		{"raw ext with a known type", Linux, &Msg{Unknown: []RawExt{{Type: ExtSA, Data: make([]byte, 12)}}}, syscall.EINVAL},
		{"raw ext unpadded", Linux, &Msg{Unknown: []RawExt{{Type: 40, Data: make([]byte, 5)}}}, syscall.EINVAL},
		{"too long", Linux, &Msg{KMPrivate: &KMPrivate{Data: big}}, syscall.EMSGSIZE},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dst := []byte("keep")
			out, err := Append(c.d, dst, c.m)
			if got := ErrnoOf(err); got != c.errno {
				t.Fatalf("errno %v, want %v (err %v)", got, c.errno, err)
			}
			if string(out) != "keep" {
				t.Errorf("Append changed dst on error: %q", out)
			}
		})
	}
}

func TestErrorReply(t *testing.T) {
	if !littleEndianHost() {
		t.Skip("little-endian bytes")
	}
	req, err := ParseHeader(goldenWire(t, "fb ADD strongSwan AES-GCM NAT-T"))
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range []Dialect{FreeBSD, Linux} {
		b, err := Encode(d, ErrorReply(req, syscall.EEXIST))
		if err != nil {
			t.Fatal(err)
		}
		// v2, ADD, errno=17 EEXIST, ESP, len=2 words, reserved, seq=42, pid=1000
		want := unhex(t, "02 03 11 03 02 00 00 00 2a 00 00 00 e8 03 00 00")
		if string(b) != string(want) {
			t.Errorf("%v: got %x want %x", d, b, want)
		}
	}
	if _, err := ParseHeader(make([]byte, 15)); ErrnoOf(err) != syscall.EMSGSIZE {
		t.Errorf("ParseHeader(short) = %v", err)
	}
	if ErrnoOf(nil) != 0 || ErrnoOf(errors.New("x")) != syscall.EINVAL || ErrnoOf(syscall.ENOENT) != syscall.ENOENT {
		t.Error("ErrnoOf")
	}
	e := Errorf(syscall.ENOENT, "no SA %#x", 5)
	if e.Error() != "pfkey: no SA 0x5: "+syscall.ENOENT.Error() {
		t.Errorf("Error() = %q", e.Error())
	}
}
