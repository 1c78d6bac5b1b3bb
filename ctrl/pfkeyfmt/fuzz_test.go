package pfkeyfmt

import (
	"io"
	"net/netip"
	"testing"

	"github.com/fastipsec/fastipsec/ctrl/pfkey"
)

// FuzzPrint prints whatever Decode accepts, in both dialects, as an SA, a
// policy and a header: replies and monitored messages come from another
// process, so no decoded message may make the printer panic.
func FuzzPrint(f *testing.F) {
	seeds := []*pfkey.Msg{
		{Header: pfkey.Header{Version: 2, Type: pfkey.MsgDump, SAType: pfkey.SATypeESP},
			SA:  &pfkey.SA{SPI: 4096, Replay: 4, State: pfkey.SAStateMature, Encrypt: pfkey.EAlgAESGCM16},
			SA2: &pfkey.SA2{Mode: pfkey.ModeTunnel}, Src: addr("10.0.0.1", 0), Dst: addr("10.0.0.2", 0),
			EncKey: seqKey(20), LifetimeCurrent: &pfkey.Lifetime{AddTime: 1}},
		{Header: pfkey.Header{Version: 2, Type: pfkey.MsgSPDDump},
			Src: addr("2001:db8::1", 0), Dst: addr("2001:db8::2", 0),
			Policy: &pfkey.Policy{Type: pfkey.PolicyIPsec, Dir: pfkey.DirOutbound, Requests: []pfkey.IPsecRequest{{
				Proto: pfkey.ProtoESP, Mode: pfkey.ModeTunnel, Level: pfkey.LevelUnique, ReqID: 9,
				Src: netip.MustParseAddrPort("[2001:db8::1]:0"), Dst: netip.MustParseAddrPort("[2001:db8::2]:0")}}}},
	}
	for _, d := range []pfkey.Dialect{pfkey.FreeBSD, pfkey.Linux} {
		for _, m := range seeds {
			b, err := pfkey.Encode(d, m)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, d := range []pfkey.Dialect{pfkey.FreeBSD, pfkey.Linux} {
			m, err := pfkey.Decode(d, b)
			if err != nil {
				continue
			}
			p := &Printer{Dialect: d}
			p.SA(io.Discard, m)
			p.Policy(io.Discard, m)
			Header(io.Discard, m.Header)
		}
	})
}
