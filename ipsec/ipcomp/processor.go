package ipcomp

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"

	"github.com/klauspost/compress/flate"

	"github.com/fastipsec/fastipsec/ipsec/ipcomp/deflate"
	"github.com/fastipsec/fastipsec/ipsec/sad"
	"github.com/fastipsec/fastipsec/ipsec/tunnel"
)

// CPIDeflate is the well-known CPI of Deflate (RFC 3173 §3.3, IANA).
const CPIDeflate = 2

// Defaults of Options.
const (
	// DefaultMinLen is the default net.inet.ipcomp.ipcomp_minlen.
	DefaultMinLen = 90
	// DefaultMaxRatio bounds decompressed / compressed size; a 1500-byte
	// packet of zeros deflates to about 20 bytes, well within it.
	DefaultMaxRatio = 128
	// maxPacket is the largest IP packet (IPv4 total length).
	maxPacket = 0xffff
)

// Options are the run-time knobs, loaded once per burst by the caller.
type Options struct {
	tunnel.Outer
	// MinLen is net.inet.ipcomp.ipcomp_minlen: payloads shorter than
	// this are sent uncompressed (RFC 3173 §2.2).
	MinLen int
	// MaxLen bounds a decompressed packet, the configured MTU (0: 65,535).
	MaxLen int
	// MaxRatio bounds decompressed / compressed size (0: DefaultMaxRatio).
	MaxRatio int
	// Fast is net.inet.ipcomp.ipcomp_fast: compress with the fixed-code
	// packet encoder (package deflate; several times faster, about a
	// quarter larger on text) instead of klauspost's level 1 with
	// dynamic Huffman codes (the smallest output).
	Fast bool
}

// Counts are what the last Encap sent without compressing.
type Counts struct {
	Threshold int // payload below MinLen (ipcompstat threshold)
	Uncompr   int // compression would not have made it smaller (uncompr)
}

// Processor is one core's IPComp worker; not safe for concurrent use.
type Processor struct {
	enc  *deflate.Encoder // Options.Fast
	comp []byte           // its output scratch, maxPacket bytes
	fw   *flate.Writer    // otherwise, into sink
	sink sink
	fr   io.ReadCloser
	src  bytes.Reader
	out  []byte // decompression scratch, maxPacket+1 bytes
	cnt  Counts
	ipID uint16
}

// NewProcessor returns a worker with its own compressor and decompressor.
func NewProcessor() *Processor {
	p := &Processor{
		enc:  deflate.NewEncoder(),
		comp: make([]byte, maxPacket),
		sink: sink{buf: make([]byte, maxPacket)},
		out:  make([]byte, maxPacket+1),
		ipID: uint16(rand.Uint32()),
	}
	fw, err := flate.NewWriter(&p.sink, flate.BestSpeed)
	if err != nil {
		panic(err) // only for an invalid level
	}
	p.fw = fw
	p.fr = flate.NewReader(&p.src)
	return p
}

// Counts returns what the last Encap sent uncompressed.
func (p *Processor) Counts() Counts { return p.cnt }

// CPI is the CPI an SA's packets carry.
func CPI(sa *sad.SA) uint16 {
	if sa.RawCPI {
		return uint16(sa.SPI)
	}
	return CPIDeflate
}

// compress deflates in; ok is false when the stream would take more
// than limit bytes.
func (p *Processor) compress(in []byte, limit int, fast bool) ([]byte, bool) {
	if limit <= 0 {
		return nil, false
	}
	if fast {
		n, ok := p.enc.Encode(p.comp[:min(limit, len(p.comp))], in)
		return p.comp[:n], ok
	}
	p.sink.n, p.sink.limit = 0, min(limit, len(p.sink.buf))
	p.fw.Reset(&p.sink)
	if _, err := p.fw.Write(in); err != nil {
		return nil, false
	}
	if err := p.fw.Close(); err != nil {
		return nil, false
	}
	return p.sink.buf[:p.sink.n], true
}

// errFull stops klauspost's compressor once its output is too long.
var errFull = errors.New("ipcomp: output not smaller")

// sink collects compressed bytes up to limit.
type sink struct {
	buf   []byte
	n     int
	limit int
}

func (s *sink) Write(b []byte) (int, error) {
	if s.n+len(b) > s.limit {
		return 0, errFull
	}
	s.n += copy(s.buf[s.n:], b)
	return len(b), nil
}

// decompress inflates in into the scratch, at most limit bytes; ok is
// false for corrupt streams and outputs past the limit.
func (p *Processor) decompress(in []byte, limit int) ([]byte, bool) {
	p.src.Reset(in)
	if err := p.fr.(flate.Resetter).Reset(&p.src, nil); err != nil {
		return nil, false
	}
	buf := p.out[:limit+1]
	n, stalls := 0, 0
	for n < len(buf) {
		k, err := p.fr.Read(buf[n:])
		n += k
		if err == io.EOF {
			return buf[:n], n <= limit
		}
		if err != nil {
			return nil, false
		}
		if k == 0 {
			if stalls++; stalls > 3 {
				return nil, false
			}
		} else {
			stalls = 0
		}
	}
	return nil, false // more than limit bytes
}
