package setkey

import (
	"fmt"
	"net/netip"
	"os"
	"strings"
	"testing"

	"github.com/fastipsec/fastipsec/ipsec/sad"
	"github.com/fastipsec/fastipsec/ipsec/spd"
)

func FuzzParse(f *testing.F) {
	for _, p := range []string{"testdata/freebsd-examples.conf", "testdata/ipsec-tools-examples.conf"} {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(string(b))
		}
	}
	f.Add("add 10.0.0.1[4500] 10.0.0.2 esp-udp 0x1000 -m tunnel -r 4 -natt 1.2.3.4[1] 5.6.7.8[2] -E aes-gcm-16 0x00112233445566778899aabbccddeeff01020304;")
	f.Add("spdadd 10.0.0.0/8[any] ::/0 icmp6 1,2 -P out prio def + 3 ipsec esp/transport//unique:5 ah/tunnel/1.1.1.1-2.2.2.2/use;")
	f.Add("add 1.1.1.1 2.2.2.2 ah 300 -A null \"unterminated")
	f.Fuzz(func(t *testing.T, s string) {
		cmds, err := Parse("fuzz", strings.NewReader(s))
		for _, c := range cmds {
			if c.Op == 0 || c.Line < 1 || (c.SA == nil) == (c.Op <= OpDeleteAll) {
				t.Fatalf("bad command %+v", c)
			}
		}
		_ = err
	})
}

func FuzzParsePolicy(f *testing.F) {
	for _, s := range []string{"out ipsec esp/tunnel/192.0.2.1-198.51.100.1/require", "in prio high - 4 discard",
		"-P out ipsec ipcomp/tunnel/::1[1]-::2/use esp/transport//require", "fwd bypass", "out prio -9 none",
		"-P out prio 10 ipsec esp/tunnel/192.0.2.1-198.51.100.1/require ah/transport//unique:5",
		"in prio low + 3 ipsec esp/transport//unique ah/tunnel/2001:db8::1-2001:db8::2/default", "out entrust"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		dir, pri, act, reqs, err := ParsePolicy(s)
		if err != nil {
			return
		}
		if dir == 0 || (act == ActionIPsec) != (len(reqs) > 0) && !(act == ActionDiscard && len(reqs) == 0) {
			t.Fatalf("%q: %s %s %v", s, dir, act, reqs)
		}
		// What parses is a policy the SPD installs.
		sel := spd.Selector{Src: netip.MustParsePrefix("0.0.0.0/0"), Dst: netip.MustParsePrefix("0.0.0.0/0"),
			Proto: spd.AnyProto, SrcPort: spd.AnyPort, DstPort: spd.AnyPort}
		p := spd.Policy{Dir: spd.DirOut, Priority: pri, Selector: sel, Action: act}
		for _, r := range reqs {
			if r.Mode == sad.ModeTunnel && (!r.Src.IsValid() || r.Src.Is4() != r.Dst.Is4()) ||
				r.ReqID != 0 && (r.Level != LevelUnique || r.ReqID > 32767) {
				t.Fatalf("%q: bad request %+v", s, r)
			}
			p.Requests = append(p.Requests, spd.Request{Proto: r.Proto, Mode: r.Mode, Src: r.Src, Dst: r.Dst, Level: r.Level, ReqID: r.ReqID})
		}
		if act != ActionDiscard || len(reqs) == 0 {
			if _, err := spd.NewStore().Add(p); err != nil {
				t.Fatalf("%q parsed but does not install: %v", s, err)
			}
		}
		// Rendered canonically, it parses to the same policy.
		again := renderPolicy(dir, pri, act, reqs)
		dir2, pri2, act2, reqs2, err := ParsePolicy(again)
		if err != nil || dir2 != dir || pri2 != pri || act2 != act || fmt.Sprint(reqs2) != fmt.Sprint(reqs) {
			t.Fatalf("%q -> %q -> %s %d %s %v (%v)", s, again, dir2, pri2, act2, reqs2, err)
		}
	})
}

// renderPolicy writes a parsed policy back in setkey syntax.
func renderPolicy(dir Dir, pri int32, act Action, reqs []Request) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s prio %d %s", dir, pri, act)
	ep := func(a netip.Addr, port uint16) string {
		if port != 0 {
			return fmt.Sprintf("%s[%d]", a, port)
		}
		return a.String()
	}
	for _, r := range reqs {
		fmt.Fprintf(&b, " %s/%s/", r.Proto, r.Mode)
		if r.Src.IsValid() {
			fmt.Fprintf(&b, "%s-%s", ep(r.Src, r.SrcPort), ep(r.Dst, r.DstPort))
		}
		fmt.Fprintf(&b, "/%s", r.Level)
		if r.ReqID != 0 {
			fmt.Fprintf(&b, ":%d", r.ReqID)
		}
	}
	return b.String()
}
