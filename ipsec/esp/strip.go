package esp

import (
	"encoding/binary"

	"github.com/fastipsec/fastipsec/dataplane/hdr"
	"github.com/fastipsec/fastipsec/dataplane/pkt"
	"github.com/fastipsec/fastipsec/dataplane/stats"
	"github.com/fastipsec/fastipsec/ipsec/tunnel"
)

// strip checks the decrypted trailer (RFC 4303 §2.4-2.6) and leaves the
// packet ESP protected in the buffer.
func (r *decapSA) strip(w *work, b *pkt.Buf, opt *Options) stats.Reason {
	mem, off := b.Raw()
	data := mem[off:] // the packet is data[:w.end]
	text := w.esp + hdr.ESPLen + r.ivLen
	trailer := w.end - r.icvLen - 2
	padLen, nh := int(data[trailer]), data[trailer+1]
	pay := trailer - padLen - text
	if pay < 0 {
		return stats.ReasonBadESPLength
	}
	if !padOK(data, text+pay, trailer) {
		return stats.ReasonBadPadding
	}
	if nh == hdr.ProtoNoNext {
		return stats.ReasonDummy // RFC 4303 §2.6: discard silently
	}
	var why stats.Reason
	switch in := data[text : text+pay]; {
	case r.tunnel && nh == hdr.ProtoIPIP && len(in) >= hdr.IPv4MinLen && in[0] == ipv4VersionIHL &&
		int(binary.BigEndian.Uint16(in[2:])) >= hdr.IPv4MinLen && int(binary.BigEndian.Uint16(in[2:])) <= len(in):
		// The common inner packet, IPv4 with a 20-byte header whose total
		// length fits: tunnel.Unwrap's IPv4 case less the checks just made.
		// tunnel.Unwrap handles the rest and tells apart what is wrong.
		if tunnel.Fold32(tunnel.Sum20(in)) != 0xffff {
			return stats.ReasonIPBadChecksum
		}
		if opt.ECN && !tunnel.DecapECN(in, tunnel.TOS(data)) {
			return stats.ReasonBadTrailer // see tunnel.Unwrap
		}
		b.SetData(off+text, int(binary.BigEndian.Uint16(in[2:])))
		b.Meta.L4Proto, b.Meta.L4Off = in[9], hdr.IPv4MinLen
	case r.tunnel:
		why = tunnel.Unwrap(b, text, text+pay, nh, opt.ECN)
	default:
		if why = stripTransport(w, b, data, text, pay, nh, r.natt); why == stats.ReasonNone {
			why = tunnel.Relayer(b)
		}
	}
	if why != stats.ReasonNone {
		return why
	}
	sa := r.sa
	b.Meta.AddStep(pkt.Step{Proto: hdr.ProtoESP, Tunnel: r.tunnel, SPI: sa.SPI, ReqID: sa.ReqID})
	b.Meta.Flags |= pkt.FlagDecapsulated
	return stats.ReasonNone
}

// padOK checks the padding data[start:end] is 1, 2, 3, ... (RFC 4303
// §2.4). Up to 8 bytes (all AEAD padding, most CBC) are compared as one
// word read back from end; start is past the ESP header, so the word lies
// in the packet.
func padOK(data []byte, start, end int) bool {
	n := end - start
	if n <= 8 && end >= 8 {
		return binary.BigEndian.Uint64(data[end-8:end])&padMasks[n] == padWords[n]
	}
	for k, v := range data[start:end] {
		if v != byte(k+1) {
			return false
		}
	}
	return true
}

// padWords[n] is the padding 1, 2, ..., n as a big-endian word, and
// padMasks[n] selects its low n bytes.
var (
	padWords = [9]uint64{0, 0x01, 0x0102, 0x010203, 0x01020304, 0x0102030405,
		0x010203040506, 0x01020304050607, 0x0102030405060708}
	padMasks = [9]uint64{0, 0xff, 0xffff, 0xffffff, 0xffffffff, 0xffffffffff,
		0xffffffffffff, 0xffffffffffffff, 0xffffffffffffffff}
)

// stripTransport moves the IP header (up to ESP, or up to the NAT-T UDP
// header) forward onto the payload and fixes next header, lengths and
// checksums.
func stripTransport(w *work, b *pkt.Buf, data []byte, text, pay int, nh uint8, natt bool) stats.Reason {
	h := w.hdr
	start := text - h
	copy(data[start:text], data[:h])
	pk := data[start : text+pay]
	pk[w.next] = nh
	tunnel.SetLength(pk, w.v6)
	if natt {
		fixL4Checksum(pk, h, nh, w.v6)
	}
	_, off := b.Raw()
	b.SetData(off+start, len(pk))
	return stats.ReasonNone
}

// fixL4Checksum recomputes the TCP or UDP checksum of a transport-mode
// packet after NAT-T decapsulation from the addresses it now carries
// (RFC 3948 §3.1.2, second option). A zero UDP checksum stays zero.
func fixL4Checksum(pk []byte, off int, proto uint8, v6 bool) {
	l4 := pk[off:]
	switch proto {
	case hdr.ProtoTCP:
		if len(l4) < hdr.TCPMinLen {
			return
		}
		t := hdr.TCP(l4)
		t.SetChecksum(0)
		t.SetChecksum(hdr.Checksum(l4, pseudoSum(pk, proto, len(l4), v6)))
	case hdr.ProtoUDP:
		u := hdr.UDP(l4)
		if !u.IsValid(len(l4)) || u.Checksum() == 0 {
			return
		}
		u.SetChecksum(u.CalcChecksum(pseudoSum(pk, proto, u.Length(), v6)))
	}
}

// pseudoSum is the pseudo-header sum for n bytes of proto in packet pk.
func pseudoSum(pk []byte, proto uint8, n int, v6 bool) uint64 {
	if v6 {
		return hdr.IPv6(pk).PseudoSum(proto, n)
	}
	return hdr.IPv4(pk).PseudoSum(proto, n)
}
