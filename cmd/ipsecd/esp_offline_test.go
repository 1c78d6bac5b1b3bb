package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"

	"go.uber.org/zap"

	"github.com/fastipsec/fastipsec/config"
	"github.com/fastipsec/fastipsec/dataplane/hdr"
)

// Two gateways keyed from setkey files: A encrypts what comes from its
// LAN into the tunnel, B decrypts it onto its LAN. IPv4 traffic goes
// through a 4in4 tunnel, IPv6 traffic through a 6in6 tunnel, both
// AES-GCM; an AES-CBC/HMAC-SHA2-256 SA with ESN carries a second subnet.
const espKeysA = `
add 198.51.100.1 198.51.100.2 esp 0x1001 -m tunnel -E aes-gcm-16 0x000102030405060708090a0b0c0d0e0f10111213;
add 198.51.100.2 198.51.100.1 esp 0x1002 -m tunnel -E aes-gcm-16 0x202122232425262728292a2b2c2d2e2f30313233;
add 2001:db8:2::1 2001:db8:2::2 esp 0x1003 -m tunnel -E aes-gcm-16 0x404142434445464748494a4b4c4d4e4f50515253;
add 2001:db8:2::2 2001:db8:2::1 esp 0x1004 -m tunnel -E aes-gcm-16 0x606162636465666768696a6b6c6d6e6f70717273;
add 198.51.100.1 198.51.100.3 esp 0x1005 -m tunnel -f esn -r 64
	-E aes-cbc 0x808182838485868788898a8b8c8d8e8f -A hmac-sha2-256 0x909192939495969798999a9b9c9d9e9fa0a1a2a3a4a5a6a7a8a9aaabacadaeaf;
spdadd 192.0.2.0/24 203.0.113.0/25 any -P out ipsec esp/tunnel/198.51.100.1-198.51.100.2/require;
spdadd 203.0.113.0/25 192.0.2.0/24 any -P in ipsec esp/tunnel/198.51.100.2-198.51.100.1/require;
spdadd 192.0.2.0/24 203.0.113.128/25 any -P out ipsec esp/tunnel/198.51.100.1-198.51.100.3/require;
spdadd 2001:db8:1::/48 2001:db8:3::/48 any -P out ipsec esp/tunnel/2001:db8:2::1-2001:db8:2::2/require;
spdadd 2001:db8:3::/48 2001:db8:1::/48 any -P in ipsec esp/tunnel/2001:db8:2::2-2001:db8:2::1/require;
`

// B sees the same SAs; its policies are A's mirrored, and the ESN SA
// terminates on B too (B answers to 198.51.100.3 as well).
const espKeysB = `
add 198.51.100.1 198.51.100.2 esp 0x1001 -m tunnel -E aes-gcm-16 0x000102030405060708090a0b0c0d0e0f10111213;
add 198.51.100.2 198.51.100.1 esp 0x1002 -m tunnel -E aes-gcm-16 0x202122232425262728292a2b2c2d2e2f30313233;
add 2001:db8:2::1 2001:db8:2::2 esp 0x1003 -m tunnel -E aes-gcm-16 0x404142434445464748494a4b4c4d4e4f50515253;
add 2001:db8:2::2 2001:db8:2::1 esp 0x1004 -m tunnel -E aes-gcm-16 0x606162636465666768696a6b6c6d6e6f70717273;
add 198.51.100.1 198.51.100.3 esp 0x1005 -m tunnel -f esn -r 64
	-E aes-cbc 0x808182838485868788898a8b8c8d8e8f -A hmac-sha2-256 0x909192939495969798999a9b9c9d9e9fa0a1a2a3a4a5a6a7a8a9aaabacadaeaf;
spdadd 192.0.2.0/24 203.0.113.0/25 any -P in ipsec esp/tunnel/198.51.100.1-198.51.100.2/require;
spdadd 192.0.2.0/24 203.0.113.128/25 any -P in ipsec esp/tunnel/198.51.100.1-198.51.100.3/require;
spdadd 203.0.113.0/25 192.0.2.0/24 any -P out ipsec esp/tunnel/198.51.100.2-198.51.100.1/require;
spdadd 2001:db8:1::/48 2001:db8:3::/48 any -P in ipsec esp/tunnel/2001:db8:2::1-2001:db8:2::2/require;
spdadd 2001:db8:3::/48 2001:db8:1::/48 any -P out ipsec esp/tunnel/2001:db8:2::2-2001:db8:2::1/require;
`

// gatewayA and gatewayB are two offline gateways, A (198.51.100.1,
// 2001:db8:2::1) and B (198.51.100.2, .3 and 2001:db8:2::2), between LANs
// 192.0.2.0/24 / 2001:db8:1::/48 and 203.0.113.0/24 / 2001:db8:3::/48 on
// pcap ports: A reads in.pcap; B reads what A sent into the tunnel
// (a-wan-out.pcap). Each is keyed from its name.setkey in the same dir.
const gatewayA = `
ports:
  - {name: lan, driver: pcap, rx: in.pcap, tx: a-lan-out.pcap, linktype: raw, addresses: [192.0.2.1/24, "2001:db8:1::1/64"]}
  - {name: wan, driver: pcap, tx: a-wan-out.pcap, linktype: raw, addresses: [198.51.100.1/24, "2001:db8:2::1/64"]}
routes:
  - {dst: 203.0.113.0/24, via: 198.51.100.2, port: wan}
  - {dst: "2001:db8:3::/48", via: "2001:db8:2::2", port: wan}
setkey: a.setkey
`

const gatewayB = `
ports:
  - {name: wan, driver: pcap, rx: a-wan-out.pcap, tx: b-wan-out.pcap, linktype: raw, addresses: [198.51.100.2/24, 198.51.100.3/24, "2001:db8:2::2/64"]}
  - {name: lan, driver: pcap, tx: b-lan-out.pcap, linktype: raw, addresses: [203.0.113.1/24, "2001:db8:3::1/64"]}
routes:
  - {dst: 192.0.2.0/24, via: 198.51.100.1, port: wan}
  - {dst: "2001:db8:1::/48", via: "2001:db8:2::1", port: wan}
setkey: b.setkey
`

func runGateway(t *testing.T, dir, name, yaml, keys string) {
	t.Helper()
	cfgPath := filepath.Join(dir, name+".yaml")
	os.WriteFile(cfgPath, []byte(yaml), 0o644)
	os.WriteFile(filepath.Join(dir, name+".setkey"), []byte(keys), 0o600)
	cfg, err := config.Load(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	if err := serve(context.Background(), cfg, zap.NewNop()); err != nil {
		t.Fatal(err)
	}
}

// checkDelivered checks that what B put on its LAN (out) is the input to
// A (in), packet by packet, two hops older (TTL or hop limit 2 lower).
func checkDelivered(t *testing.T, out, in [][]byte) {
	t.Helper()
	if len(out) != len(in) {
		t.Fatalf("B delivered %d packets, want %d", len(out), len(in))
	}
	for i := range in {
		want := in[i]
		if want[0]>>4 == 4 {
			want = forwarded4(forwarded4(want))
		} else {
			want = forwarded6(forwarded6(want))
		}
		if !bytes.Equal(out[i], want) {
			t.Errorf("packet %d differs after the tunnel:\n got %x\nwant %x", i, out[i], want)
		}
	}
}

// TestOfflineESPTunnelRoundTrip sends plaintext through gateway A,
// checks only ESP leaves A, feeds A's output to gateway B and compares
// B's LAN output with the input packet by packet (TTL two hops lower).
func TestOfflineESPTunnelRoundTrip(t *testing.T) {
	dir := t.TempDir()
	var in [][]byte
	for i := range 20 {
		in = append(in, v4udp("192.0.2.10", "203.0.113.20", 64, 10+i*70))
		in = append(in, v6udp("2001:db8:1::10", "2001:db8:3::20", 64, 10+i*70))
		in = append(in, v4udp("192.0.2.11", "203.0.113.200", 64, 1+i*13)) // CBC+HMAC ESN SA
	}
	writePcap(t, filepath.Join(dir, "in.pcap"), in)

	runGateway(t, dir, "a", gatewayA, espKeysA)
	wan := readPcap(t, filepath.Join(dir, "a-wan-out.pcap"))
	if len(wan) != len(in) {
		t.Fatalf("A sent %d packets into the tunnel, want %d", len(wan), len(in))
	}
	spis := map[uint32]int{}
	for i, p := range wan {
		proto, off := uint8(0), 0
		if p[0]>>4 == 4 {
			proto, off = p[9], 20
		} else {
			proto, off = p[6], 40
		}
		if proto != hdr.ProtoESP {
			t.Fatalf("packet %d left A unprotected (protocol %d)", i, proto)
		}
		spis[binary.BigEndian.Uint32(p[off:])]++
		if bytes.Contains(p, in[i][28:]) && len(in[i]) > 60 {
			t.Fatalf("packet %d: plaintext visible in the ESP packet", i)
		}
	}
	if spis[0x1001] != 20 || spis[0x1003] != 20 || spis[0x1005] != 20 {
		t.Fatalf("SPIs used: %v", spis)
	}

	runGateway(t, dir, "b", gatewayB, espKeysB)
	checkDelivered(t, readPcap(t, filepath.Join(dir, "b-lan-out.pcap")), in)
}
