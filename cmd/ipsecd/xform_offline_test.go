package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/fastipsec/fastipsec/dataplane/hdr"
)

// The SAs and policies of these tests run through gatewayA and gatewayB
// (esp_offline_test.go), keyed by setkey files built from the policies of
// each test; B's policies are A's mirrored.

// xformSAs are the SAs both gateways install.
const xformSAs = `
add 198.51.100.1 198.51.100.2 ah 0x3001 -m tunnel -A aes-gmac 0x000102030405060708090a0b0c0d0e0f10111213;
add 2001:db8:2::1 2001:db8:2::2 ah 0x3002 -m tunnel -A aes-xcbc-mac 0x202122232425262728292a2b2c2d2e2f;
add 198.51.100.1 198.51.100.2 ah 0x3003 -m transport -A hmac-sha1 0x404142434445464748494a4b4c4d4e4f50515253;
add 2001:db8:2::1 2001:db8:2::2 ah 0x3004 -m transport -A hmac-sha2-512 0x606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f;
add 198.51.100.1 198.51.100.2 esp 0x1001 -m tunnel -E aes-gcm-16 0x000102030405060708090a0b0c0d0e0f10111213;
add 2001:db8:2::1 2001:db8:2::2 esp 0x1003 -m tunnel -E aes-gcm-16 0x404142434445464748494a4b4c4d4e4f50515253;
add 198.51.100.1 198.51.100.2 esp 0x1011 -m transport -E aes-cbc 0x808182838485868788898a8b8c8d8e8f -A hmac-sha1 0x909192939495969798999a9b9c9d9e9fa0a1a2a3;
add 2001:db8:2::1 2001:db8:2::2 esp 0x1013 -m transport -E aes-gcm-16 0xc0c1c2c3c4c5c6c7c8c9cacbcccdcecfd0d1d2d3;
add 198.51.100.1 198.51.100.2 ipcomp 0x4001 -m tunnel -C deflate;
add 2001:db8:2::1 2001:db8:2::2 ipcomp 0x4002 -m tunnel -C deflate -R;
`

// xformCase is one set of policies (A's outbound ones; B installs the
// same selectors inbound) and what must leave A.
type xformCase struct {
	name     string
	policies []string // "src dst request..." for v4 and v6
	outer    []uint8  // protocols of the headers after the outer IP header, outermost first
	sysctlB  string
	delivers bool
}

func (c xformCase) keys(dir string) string {
	var b strings.Builder
	b.WriteString(xformSAs)
	for _, p := range c.policies {
		f := strings.SplitN(p, " ", 3)
		b.WriteString("spdadd " + f[0] + " " + f[1] + " any -P " + dir + " ipsec " + f[2] + ";\n")
	}
	return b.String()
}

// TestOfflineAHIPCompBundles: AH tunnels with an inbound "require" policy
// (the ipsec(4) BUGS case), IPComp tunnel + ESP transport, ESP tunnel +
// AH transport, each over IPv4 and IPv6 through two gateways; and AH
// switched off at B by net.inet.ah.ah_enable=0.
func TestOfflineAHIPCompBundles(t *testing.T) {
	ahTunnel := []string{
		"192.0.2.0/24 203.0.113.0/24 ah/tunnel/198.51.100.1-198.51.100.2/require",
		"2001:db8:1::/48 2001:db8:3::/48 ah/tunnel/2001:db8:2::1-2001:db8:2::2/require",
	}
	for _, c := range []xformCase{
		{name: "ah tunnel require", policies: ahTunnel, outer: []uint8{hdr.ProtoAH}, delivers: true},
		{name: "ipcomp tunnel + esp transport", policies: []string{
			"192.0.2.0/24 203.0.113.0/24 ipcomp/tunnel/198.51.100.1-198.51.100.2/use esp/transport//require",
			"2001:db8:1::/48 2001:db8:3::/48 ipcomp/tunnel/2001:db8:2::1-2001:db8:2::2/use esp/transport//require",
		}, outer: []uint8{hdr.ProtoESP}, delivers: true},
		{name: "esp tunnel + ah transport", policies: []string{
			"192.0.2.0/24 203.0.113.0/24 esp/tunnel/198.51.100.1-198.51.100.2/require ah/transport//require",
			"2001:db8:1::/48 2001:db8:3::/48 esp/tunnel/2001:db8:2::1-2001:db8:2::2/require ah/transport//require",
		}, outer: []uint8{hdr.ProtoAH, hdr.ProtoESP}, delivers: true},
		{name: "ah disabled at B", policies: ahTunnel, outer: []uint8{hdr.ProtoAH}, sysctlB: "net.inet.ah.ah_enable: 0"},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			var in [][]byte
			for i := range 12 {
				in = append(in, v4udp("192.0.2.10", "203.0.113.20", 64, 20+i*110))
				in = append(in, v6udp("2001:db8:1::10", "2001:db8:3::20", 64, 20+i*110))
			}
			writePcap(t, filepath.Join(dir, "in.pcap"), in)
			runGateway(t, dir, "a", gatewayA, c.keys("out"))
			wan := readPcap(t, filepath.Join(dir, "a-wan-out.pcap"))
			if len(wan) != len(in) {
				t.Fatalf("A sent %d packets, want %d", len(wan), len(in))
			}
			compressed := 0
			for i, p := range wan {
				protos := headerChain(p, len(c.outer)+1)
				for k, want := range c.outer {
					if protos[k] != want {
						t.Fatalf("packet %d: headers %v, want %v first", i, protos, c.outer)
					}
				}
				if len(c.outer) == 1 && c.outer[0] == hdr.ProtoESP && len(p) < len(in[i]) {
					compressed++ // IPComp inside ESP: smaller than the clear packet
				}
			}
			if strings.Contains(c.name, "ipcomp") && compressed < len(in)/2 {
				t.Errorf("only %d of %d packets came out compressed", compressed, len(in))
			}
			yamlB := gatewayB
			if c.sysctlB != "" {
				yamlB += "sysctl: {" + c.sysctlB + "}\n"
			}
			runGateway(t, dir, "b", yamlB, c.keys("in")) // the same selectors, inbound
			out := readPcap(t, filepath.Join(dir, "b-lan-out.pcap"))
			if !c.delivers {
				if len(out) != 0 {
					t.Fatalf("B delivered %d packets with the protocol disabled", len(out))
				}
				return
			}
			checkDelivered(t, out, in)
		})
	}
}

// headerChain lists the protocols after the IP header: the next header
// of the IP header, then of AH headers (whose length is known).
func headerChain(p []byte, n int) []uint8 {
	var out []uint8
	proto, off := p[9], int(p[0]&15)*4
	if p[0]>>4 == 6 {
		proto, off = p[6], 40
	}
	for len(out) < n {
		out = append(out, proto)
		if proto != hdr.ProtoAH || off+2 > len(p) {
			break
		}
		proto, off = p[off], off+(int(p[off+1])+2)*4
	}
	return out
}
