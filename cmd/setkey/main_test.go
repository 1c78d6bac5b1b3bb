package main

import (
	"flag"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/fastipsec/fastipsec/ctrl/pfkey"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		t.Errorf("%s differs (run with -update to accept):\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}

// words renders messages one 64-bit PF_KEY word per line, each message
// under its header's type, satype and length.
func words(msgs [][]byte) string {
	var b strings.Builder
	for _, m := range msgs {
		h, err := pfkey.ParseHeader(m)
		if err != nil {
			fmt.Fprintf(&b, "# %v\n", err)
			continue
		}
		fmt.Fprintf(&b, "# type=%d satype=%d len=%d\n", h.Type, h.SAType, h.Len)
		for i := 0; i < len(m); i += 8 {
			fmt.Fprintf(&b, "%x\n", m[i:min(i+8, len(m))])
		}
	}
	return b.String()
}

func sampleSA(h pfkey.Header, spi uint32, state pfkey.SAState) *pfkey.Msg {
	return &pfkey.Msg{
		Header:          pfkey.Header{Version: 2, Type: h.Type, SAType: pfkey.SATypeESP, Seq: h.Seq, PID: h.PID},
		SA:              &pfkey.SA{SPI: spi, Replay: 4, State: state, Encrypt: pfkey.EAlgAESGCM16, Flags: pfkey.SAFlagCycSeq},
		SA2:             &pfkey.SA2{Mode: pfkey.ModeTunnel, ReqID: 7},
		Src:             &pfkey.Address{Proto: pfkey.ProtoAny, PrefixLen: 32, Addr: netip.MustParseAddrPort("10.0.0.1:0")},
		Dst:             &pfkey.Address{Proto: pfkey.ProtoAny, PrefixLen: 32, Addr: netip.MustParseAddrPort("10.0.0.2:0")},
		EncKey:          &pfkey.Key{Bits: 160, Data: []byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20}},
		LifetimeCurrent: &pfkey.Lifetime{AddTime: uint64(clock().Unix()) - 30},
		LifetimeHard:    &pfkey.Lifetime{AddTime: 3600},
		LifetimeSoft:    &pfkey.Lifetime{AddTime: 3000},
	}
}

func samplePolicy(h pfkey.Header, id uint32) *pfkey.Msg {
	return &pfkey.Msg{
		Header: pfkey.Header{Version: 2, Type: h.Type, Seq: h.Seq, PID: h.PID},
		Src:    &pfkey.Address{Proto: pfkey.ProtoAny, PrefixLen: 24, Addr: netip.MustParseAddrPort("10.0.0.0:0")},
		Dst:    &pfkey.Address{Proto: pfkey.ProtoAny, PrefixLen: 24, Addr: netip.MustParseAddrPort("10.0.1.0:0")},
		Policy: &pfkey.Policy{Type: pfkey.PolicyIPsec, Dir: pfkey.DirOutbound, Scope: pfkey.ScopeGlobal, ID: id,
			Priority: 0x80000000, Requests: []pfkey.IPsecRequest{{Proto: pfkey.ProtoESP, Mode: pfkey.ModeTunnel,
				Level: pfkey.LevelRequire, Src: netip.MustParseAddrPort("192.0.2.1:0"),
				Dst: netip.MustParseAddrPort("192.0.2.2:0")}}},
		LifetimeCurrent: &pfkey.Lifetime{AddTime: uint64(clock().Unix())},
		LifetimeHard:    &pfkey.Lifetime{},
	}
}

// dumpOf answers a dump with msgs, numbering seq down to 0 as key.c does.
func dumpOf(req *pfkey.Msg, build ...func(h pfkey.Header) *pfkey.Msg) []*pfkey.Msg {
	var out []*pfkey.Msg
	for i, b := range build {
		h := req.Header
		h.Seq = uint32(len(build) - 1 - i)
		out = append(out, b(h))
	}
	return out
}

// The bytes a setkey file sends, message by message, are pinned by a
// golden file; the file is read back with Decode and checked by
// CheckRequest in the fake server, and the one GET prints its reply.
func TestScriptSendsGolden(t *testing.T) {
	f := newFakeKernel(t, func(req *pfkey.Msg) []*pfkey.Msg {
		switch req.Type {
		case pfkey.MsgGet:
			return []*pfkey.Msg{sampleSA(req.Header, req.SA.SPI, pfkey.SAStateMature)}
		case pfkey.MsgDump:
			return errnoReply(req, syscall.ENOENT)
		case pfkey.MsgSPDDump:
			return dumpOf(req, func(h pfkey.Header) *pfkey.Msg { return samplePolicy(h, 9) })
		}
		return ack(req)
	})
	status, out, errs := runSetkey(t, "", "-S", f.path, "-f", "testdata/script.conf")
	if status != 0 || errs != "" {
		t.Fatalf("status %d, stderr %q", status, errs)
	}
	golden(t, "script-out.golden", out)
	golden(t, "script.golden", words(f.requests()))
}

func TestDumpGolden(t *testing.T) {
	f := newFakeKernel(t, func(req *pfkey.Msg) []*pfkey.Msg {
		switch req.Type {
		case pfkey.MsgDump:
			return dumpOf(req,
				func(h pfkey.Header) *pfkey.Msg { return sampleSA(h, 0x1000, pfkey.SAStateMature) },
				func(h pfkey.Header) *pfkey.Msg { return sampleSA(h, 0x1001, pfkey.SAStateDead) },
				func(h pfkey.Header) *pfkey.Msg { return sampleSA(h, 0x1002, pfkey.SAStateDying) })
		case pfkey.MsgSPDDump:
			return dumpOf(req,
				func(h pfkey.Header) *pfkey.Msg { return samplePolicy(h, 1) },
				func(h pfkey.Header) *pfkey.Msg { return samplePolicy(h, 2) })
		}
		return ack(req)
	})
	for _, tc := range []struct{ args, golden string }{
		{"-D", "dump.golden"},
		{"-aD", "dump-all.golden"},
		{"-DP", "spddump.golden"},
	} {
		status, out, errs := runSetkey(t, "", tc.args, "-S", f.path)
		if status != 0 || errs != "" {
			t.Fatalf("%s: status %d, stderr %q", tc.args, status, errs)
		}
		golden(t, tc.golden, out)
	}
	for i, r := range f.requests() {
		h, _ := pfkey.ParseHeader(r)
		want := []pfkey.MsgType{pfkey.MsgDump, pfkey.MsgDump, pfkey.MsgSPDDump}[i]
		if h.Type != want || h.SAType != 0 || h.PID != testPID || len(r) != pfkey.HeaderLen {
			t.Errorf("request %d: %+v (%d bytes), want a bare %d", i, h, len(r), want)
		}
	}
}

// An empty SAD or SPD prints setkey's words and is not a failure.
func TestDumpEmpty(t *testing.T) {
	f := newFakeKernel(t, func(req *pfkey.Msg) []*pfkey.Msg { return errnoReply(req, syscall.ENOENT) })
	for args, want := range map[string]string{"-D": "No SAD entries.\n", "-PD": "No SPD entries.\n"} {
		status, out, _ := runSetkey(t, "", args, "-S", f.path)
		if status != 0 || out != want {
			t.Errorf("%s: status %d, output %q, want 0, %q", args, status, out, want)
		}
	}
}

func TestFlush(t *testing.T) {
	f := newFakeKernel(t, ack)
	for _, args := range []string{"-F", "-FP"} {
		if status, out, errs := runSetkey(t, "", args, "-S", f.path); status != 0 || out != "" || errs != "" {
			t.Errorf("%s: status %d, out %q, err %q", args, status, out, errs)
		}
	}
	// -v shows each message sent and received as kdebug_sadb's header.
	status, out, _ := runSetkey(t, "", "-vF", "-S", f.path)
	mine := "sadb_msg{ version=2 type=9 errno=0 satype=0\n  len=2 reserved=0 seq=0 pid=4242\n\n"
	other := "sadb_msg{ version=2 type=9 errno=0 satype=0\n  len=2 reserved=0 seq=0 pid=1\n\n"
	if want := mine + other + mine; status != 0 || out != want {
		t.Errorf("-vF: status %d, out %q, want %q", status, out, want)
	}
	got := f.requests()[:2]
	if len(got) != 2 || got[0][1] != byte(pfkey.MsgFlush) || got[1][1] != byte(pfkey.MsgSPDFlush) {
		t.Errorf("requests %x, want FLUSH then SPDFLUSH", got)
	}
}

// A failed command reports its line as setkey does; the rest still runs
// and the exit status is 1.
func TestErrorLines(t *testing.T) {
	f := newFakeKernel(t, func(req *pfkey.Msg) []*pfkey.Msg {
		switch {
		case req.Type == pfkey.MsgAdd && req.SA.SPI == 0x1001:
			return errnoReply(req, syscall.EEXIST)
		case req.Type == pfkey.MsgDelete:
			return errnoReply(req, syscall.ENOENT)
		case req.Type == pfkey.MsgSPDAdd:
			return errnoReply(req, syscall.EINVAL)
		}
		return ack(req)
	})
	script := "add 10.0.0.1 10.0.0.2 esp 0x1000 -E aes-gcm-16 0x0102030405060708090a0b0c0d0e0f1011121314;\n" +
		"add 10.0.0.1 10.0.0.2 esp 0x1001\n\t-E aes-gcm-16 0x0102030405060708090a0b0c0d0e0f1011121314;\n" +
		"delete 10.0.0.1 10.0.0.2 esp 0x1002;\n" +
		"spdadd 10.0.0.0/24 10.0.1.0/24 any -P out none;\n" +
		"add 10.0.0.1 10.0.0.2 esp 0x1003 -E aes-gcm-16 0x0102030405060708090a0b0c0d0e0f1011121314;\n"
	status, out, errs := runSetkey(t, script, "-c", "-S", f.path)
	want := "The result of line 2: File exists.\n" +
		"The result of line 4: No entry.\n" +
		"The result of line 5: Invalid argument.\n"
	if status != 1 || out != want || errs != "" {
		t.Errorf("status %d, out %q, err %q; want 1, %q", status, out, errs, want)
	}
	if n := len(f.requests()); n != 6 { // REGISTER + 5 commands
		t.Errorf("%d requests, want 6", n)
	}
}

// A syntax error anywhere means nothing is sent.
func TestParseErrorSendsNothing(t *testing.T) {
	f := newFakeKernel(t, ack)
	script := "flush;\nadd 10.0.0.1 10.0.0.2 esp 0x1000 -E no-such-alg 0x01;\n"
	status, out, errs := runSetkey(t, script, "-c", "-S", f.path)
	if status != 1 || out != "" || !strings.Contains(errs, "(stdin):2:") {
		t.Errorf("status %d, out %q, err %q", status, out, errs)
	}
	if n := len(f.requests()); n != 0 {
		t.Errorf("%d requests sent, want none", n)
	}
}

func TestNoReplyTimesOut(t *testing.T) {
	old := replyTimeout
	replyTimeout = 50e6 // 50 ms
	defer func() { replyTimeout = old }()
	f := newFakeKernel(t, func(*pfkey.Msg) []*pfkey.Msg { return nil })
	status, out, _ := runSetkey(t, "", "-F", "-S", f.path)
	if status != 1 || !strings.Contains(out, "timed out") {
		t.Errorf("status %d, out %q", status, out)
	}
}

func TestNoServer(t *testing.T) {
	status, _, errs := runSetkey(t, "", "-D", "-S", filepath.Join(t.TempDir(), "none.sock"))
	if status != 1 || !strings.Contains(errs, "pfkey_open") {
		t.Errorf("status %d, err %q", status, errs)
	}
}

// -x prints every message the server relays after a timestamp line: the
// inner message of a PROMISC wrapper (nothing for the bare acknowledgement,
// as FreeBSD), or a broadcast as it is, in the dump format.
func TestPromisc(t *testing.T) {
	f := newFakeKernel(t, nil)
	f.raw = func(req *pfkey.Msg) [][]byte {
		if req.Type != pfkey.MsgPromisc {
			return nil
		}
		ackb, err := pfkey.Encode(pfkey.FreeBSD, pfkey.ErrorReply(req.Header, 0))
		if err != nil {
			t.Error(err)
			return nil
		}
		inner, err := pfkey.Encode(pfkey.FreeBSD, sampleSA(pfkey.Header{Type: pfkey.MsgAdd, PID: 77}, 0x1000, pfkey.SAStateMature))
		if err != nil {
			t.Error(err)
			return nil
		}
		wrapped := append(append([]byte(nil), ackb...), inner...)
		wrapped[4] = byte(len(wrapped) / 8) // sadb_msg_len (little-endian, < 256 words)
		bcast, err := pfkey.Encode(pfkey.FreeBSD, pfkey.ErrorReply(pfkey.Header{Type: pfkey.MsgSPDFlush, PID: 78}, 0))
		if err != nil {
			t.Error(err)
			return nil
		}
		return [][]byte{ackb, wrapped, bcast, nil}
	}
	status, out, errs := runSetkey(t, "", "-x", "-S", f.path)
	if status != 1 || !strings.Contains(errs, "closed the connection") {
		t.Errorf("status %d, err %q", status, errs)
	}
	golden(t, "promisc.golden", out)
}

func TestArgs(t *testing.T) {
	t.Setenv("PFKEY_SOCKET", "/env.sock")
	o, err := parseArgs([]string{"-DPa"})
	if err != nil || o.mode != 'D' || !o.policy || !o.all || o.socket != "/env.sock" {
		t.Errorf("-DPa: %+v %v", o, err)
	}
	o, err = parseArgs([]string{"-v", "-fconf", "-S", "/s"})
	if err != nil || o.mode != 'f' || o.file != "conf" || !o.verbose || o.socket != "/s" {
		t.Errorf("-v -fconf -S /s: %+v %v", o, err)
	}
	o, err = parseArgs([]string{"-xx"})
	if err != nil || o.mode != 'x' || o.tflag != 2 {
		t.Errorf("-xx: %+v %v", o, err)
	}
	for _, bad := range [][]string{{}, {"-q"}, {"-f"}, {"file"}} {
		if _, err := parseArgs(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
