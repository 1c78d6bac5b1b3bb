package admin

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/fastipsec/fastipsec/dataplane/stats"
	"github.com/fastipsec/fastipsec/ipsec/enc"
	"github.com/fastipsec/fastipsec/ipsec/stage"
)

// Operations.
const (
	OpSysctlGet  = "sysctl.get"  // Names
	OpSysctlSet  = "sysctl.set"  // Set: all or nothing
	OpSysctlList = "sysctl.list" // every knob
	OpStats      = "stats"
	OpEncRules   = "enc.rules"
	OpEncSet     = "enc.set" // Rules (text), RulesName for errors
	OpCapture    = "capture" // Iface, Count, Snaplen
)

// Request is one client request.
type Request struct {
	Op        string      `json:"op"`
	Names     []string    `json:"names,omitempty"`
	Set       [][2]string `json:"set,omitempty"`
	Rules     string      `json:"rules,omitempty"`
	RulesName string      `json:"rules_name,omitempty"`
	Iface     string      `json:"iface,omitempty"`
	Count     int         `json:"count,omitempty"`   // capture: stop after this many (0: until closed)
	Snaplen   int         `json:"snaplen,omitempty"` // capture: bytes kept per packet (0: default)
}

// Response answers a Request; Error is set when it failed (and then
// nothing changed).
type Response struct {
	Error   string          `json:"error,omitempty"`
	Sysctl  []Knob          `json:"sysctl,omitempty"`
	Stats   *Stats          `json:"stats,omitempty"`
	Rules   []RuleHits      `json:"rules,omitempty"`
	Capture *CaptureSummary `json:"capture,omitempty"`
}

// Knob is one sysctl value; Old is set for changes.
type Knob struct {
	Name  string `json:"name"`
	Value int    `json:"value"`
	Old   *int   `json:"old,omitempty"`
	Doc   string `json:"doc,omitempty"`
}

// RuleHits is one enc0 rule (text form) and its matches.
type RuleHits struct {
	Rule string `json:"rule"`
	Hits uint64 `json:"hits"`
}

// CaptureSummary starts (Snaplen, LinkType) and ends (Packets, Dropped)
// a capture stream.
type CaptureSummary struct {
	Iface    string `json:"iface"`
	LinkType int    `json:"linktype"`
	Snaplen  int    `json:"snaplen"`
	Packets  uint64 `json:"packets"`
	Dropped  uint64 `json:"dropped"` // not captured: the rings were full
	Done     bool   `json:"done"`
}

// Stats is the daemon's counters.
type Stats struct {
	Cores []stats.CoreSnapshot `json:"cores"`
	Total stats.CoreSnapshot   `json:"total"`
	Ports []PortStats          `json:"ports"`
	ESP   stage.ESPTotals      `json:"esp"`
}

// PortStats is one port's counters.
type PortStats struct {
	Name string `json:"name"`
	stats.PortSnapshot
}

const (
	kindJSON   = 'J'
	kindPacket = 'P'
	// maxFrame bounds a frame: a request, a response or one packet.
	maxFrame = 4 << 20
	pktHdr   = 8 + 1 + 4 + 4 + 4
)

var errFrame = errors.New("admin: bad frame")

// writeFrame writes one frame.
func writeFrame(w io.Writer, kind byte, payload []byte) error {
	if len(payload)+1 > maxFrame {
		return fmt.Errorf("%w: %d bytes", errFrame, len(payload))
	}
	var h [5]byte
	binary.BigEndian.PutUint32(h[:], uint32(len(payload)+1))
	h[4] = kind
	if _, err := w.Write(h[:]); err != nil {
		return err
	}
	_, err := w.Write(payload)
	return err
}

func writeJSON(w io.Writer, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return writeFrame(w, kindJSON, b)
}

// readFrame reads one frame into buf (grown as needed, bounded).
func readFrame(r io.Reader, buf []byte) (kind byte, payload, grown []byte, err error) {
	var h [5]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		return 0, nil, buf, err
	}
	n := int(binary.BigEndian.Uint32(h[:]))
	if n < 1 || n > maxFrame {
		return 0, nil, buf, fmt.Errorf("%w: length %d", errFrame, n)
	}
	if cap(buf) < n-1 {
		buf = make([]byte, n-1)
	}
	buf = buf[:n-1]
	if _, err := io.ReadFull(r, buf); err != nil {
		return 0, nil, buf, err
	}
	return h[4], buf, buf, nil
}

// appendPacket encodes a captured packet frame payload.
func appendPacket(dst []byte, p *enc.Packet) []byte {
	dst = binary.BigEndian.AppendUint64(dst, uint64(p.Time))
	dst = append(dst, byte(p.Dir))
	dst = binary.BigEndian.AppendUint32(dst, p.SPI)
	dst = binary.BigEndian.AppendUint32(dst, p.Flags)
	dst = binary.BigEndian.AppendUint32(dst, uint32(p.OrigLen))
	return append(dst, p.Data...)
}

// parsePacket decodes a packet frame payload; p.Data aliases b.
func parsePacket(b []byte) (enc.Packet, error) {
	if len(b) < pktHdr {
		return enc.Packet{}, fmt.Errorf("%w: packet of %d bytes", errFrame, len(b))
	}
	be := binary.BigEndian
	p := enc.Packet{Time: int64(be.Uint64(b)), Dir: enc.Dir(b[8]), SPI: be.Uint32(b[9:]), Flags: be.Uint32(b[13:]),
		OrigLen: int(be.Uint32(b[17:])), Data: b[pktHdr:]}
	if p.Dir != enc.DirIn && p.Dir != enc.DirOut {
		return enc.Packet{}, fmt.Errorf("%w: direction %d", errFrame, b[8])
	}
	return p, nil
}
