package hdr

import (
	"bytes"
	"encoding/hex"
	"os/exec"
	"strings"
	"testing"
)

// scapyScript builds packets with scapy, lets it fill in the checksums,
// and prints each packet's hex on a line.
const scapyScript = `
from scapy.all import IP, UDP, ICMP, TCP, IPv6, ICMPv6EchoRequest, Raw
pkts = [
    IP(src="192.0.2.1", dst="198.51.100.7", ttl=61, id=0x1c46, flags="DF")/UDP(sport=4500, dport=4500)/Raw(b"fastipsec"),
    IP(src="10.1.2.3", dst="10.9.8.7", ttl=1, options=b"\x01\x01\x01\x00")/ICMP(type=8, id=0x1234, seq=9)/Raw(b"abcdefghijklmnopqrstuvwabcdefghi"),
    IP(src="203.0.113.5", dst="203.0.113.6")/TCP(sport=443, dport=50000, flags="SA", seq=1, ack=2)/Raw(b"x"),
    IPv6(src="2001:db8::1", dst="2001:db8::2", hlim=64)/UDP(sport=53, dport=5353)/Raw(b"odd"),
    IPv6(src="fe80::1", dst="ff02::1")/ICMPv6EchoRequest(id=7, seq=8, data=b"ping"),
]
for p in pkts:
    print(bytes(p).hex())
`

// TestScapyCrossCheck verifies a few checksums against scapy, when the
// system python has it.
func TestScapyCrossCheck(t *testing.T) {
	if testing.Short() {
		t.Skip("short mode")
	}
	if err := exec.Command("/usr/bin/python3", "-c", "import scapy").Run(); err != nil {
		t.Skip("python3 scapy is not importable; skipping the scapy cross-check")
	}
	out, err := exec.Command("/usr/bin/python3", "-c", scapyScript).Output()
	if err != nil {
		t.Fatalf("scapy: %v", err)
	}
	lines := strings.Fields(string(out))
	if len(lines) != 5 {
		t.Fatalf("scapy printed %d packets, want 5", len(lines))
	}
	for i, l := range lines {
		b, err := hex.DecodeString(l)
		if err != nil {
			t.Fatal(err)
		}
		orig := append([]byte(nil), b...)
		switch b[0] >> 4 {
		case 4:
			ip := IPv4(b)
			if !ip.IsValid(len(b)) || !ip.ChecksumValid() || ip.CalcChecksum() != ip.Checksum() {
				t.Errorf("pkt %d: IPv4 header checksum %#04x, ours %#04x", i, ip.Checksum(), ip.CalcChecksum())
			}
			l4 := ip.Payload()
			ps := ip.PseudoSum(ip.Protocol(), len(l4))
			switch ip.Protocol() {
			case ProtoUDP:
				u := UDP(l4)
				if got := u.CalcChecksum(ps); got != u.Checksum() {
					t.Errorf("pkt %d: UDP checksum %#04x, ours %#04x", i, u.Checksum(), got)
				}
			case ProtoICMP:
				c := ICMP(l4)
				if got := c.CalcChecksum(0); got != c.Checksum() || !c.ChecksumValid(0) {
					t.Errorf("pkt %d: ICMP checksum %#04x, ours %#04x", i, c.Checksum(), got)
				}
			case ProtoTCP:
				tc := TCP(l4)
				want := tc.Checksum()
				tc.SetChecksum(0)
				if got := Checksum(tc, ps); got != want {
					t.Errorf("pkt %d: TCP checksum %#04x, ours %#04x", i, want, got)
				}
				tc.SetChecksum(want)
			}
			ip.DecTTL()
			if !ip.ChecksumValid() {
				t.Errorf("pkt %d: DecTTL broke the checksum", i)
			}
		case 6:
			ip := IPv6(b)
			c, ok := ip.Walk(len(b))
			if !ok {
				t.Fatalf("pkt %d: Walk failed", i)
			}
			l4 := b[c.Off:]
			ps := ip.PseudoSum(c.Proto, len(l4))
			switch c.Proto {
			case ProtoUDP:
				u := UDP(l4)
				if got := u.CalcChecksum(ps); got != u.Checksum() {
					t.Errorf("pkt %d: UDP/IPv6 checksum %#04x, ours %#04x", i, u.Checksum(), got)
				}
			case ProtoICMPv6:
				m := ICMP(l4)
				if got := m.CalcChecksum(ps); got != m.Checksum() || !m.ChecksumValid(ps) {
					t.Errorf("pkt %d: ICMPv6 checksum %#04x, ours %#04x", i, m.Checksum(), got)
				}
			}
		}
		if b[0]>>4 == 6 && !bytes.Equal(b, orig) {
			t.Errorf("pkt %d: modified by read-only checks", i)
		}
	}
}
