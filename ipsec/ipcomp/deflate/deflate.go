// Package deflate is a Deflate (RFC 1951) compressor for single packets:
// one call turns one payload into one complete raw deflate stream, with no
// history across calls (RFC 2394 §2), no allocations and no fixed cost
// per call.
//
//	Encode(dst, src):
//	  LZ77 over src: 4-byte hash ─► one-slot table of positions ─► verify,
//	  extend to at most 258 bytes, 32 KiB back; misses step further apart
//	  the longer they run (incompressible data is skimmed, not searched)
//	  ─► matches kept as sequences (literal run, length, distance)
//	  ─► a lower bound of the output size past len(dst): give up, nothing
//	     written
//	  ─► one final block with the fixed Huffman codes (BTYPE 01), written
//	     64 bits at a time, stopping as soon as dst is full; a stored
//	     block (BTYPE 00) instead when that is smaller
//
// Why not a general-purpose compressor at packet sizes: a dynamic-Huffman
// block must build and send its own code tables (286+30 symbols, sorted,
// length-limited, then run-length coded), which costs klauspost/compress
// about 2 µs per packet, most of its time. The fixed codes of RFC 1951
// §3.2.6 cost nothing to set up; the price is in the ratio where literals
// dominate (text and JSON streams about a quarter bigger at 1,400 bytes),
// not on binary or repetitive data. The hash table is not cleared
// between packets either: entries hold a position plus a base that moves
// past every packet, so last packet's entries read as out of range.
//
// Decoding is any inflater's job (ipcomp uses klauspost/compress/flate).
package deflate

import (
	"encoding/binary"
	"math/bits"
)

const (
	minMatch  = 4     // the hash covers 4 bytes
	maxMatch  = 258   // RFC 1951 §3.2.5
	maxDist   = 32768 // RFC 1951 §3.2.5
	tableBits = 12    // 16 KiB of table, plenty for a packet
	maxInsert = 4     // positions of a match put in the table
	// skipLog: every 1<<skipLog misses in a row the scan steps one byte
	// further (snappy's heuristic: no time lost on incompressible data).
	skipLog = 4
	// maxBase keeps base+position within int32.
	maxBase = 1<<31 - 1 - 1<<17
	// MaxInput is the longest src Encode takes (an IP packet).
	MaxInput = 0xffff
)

// Encoder is one core's compressor; its zero value is not ready, use
// NewEncoder. Not safe for concurrent use.
type Encoder struct {
	table [1 << tableBits]int32 // position+base of the last 4 bytes hashing here
	base  int32                 // positions below it belong to earlier calls
	seqs  []uint64              // literal run <<32 | (length-3) <<16 | (distance-1)
}

// NewEncoder returns an encoder whose scratch fits MaxInput bytes.
func NewEncoder() *Encoder {
	return &Encoder{seqs: make([]uint64, 0, MaxInput/minMatch+1)}
}

// Encode writes src as one raw deflate stream (a single final block) into
// dst and returns its length; ok is false, with dst's contents undefined,
// when the stream would not fit in len(dst) bytes or src is longer than
// MaxInput.
func (e *Encoder) Encode(dst, src []byte) (n int, ok bool) {
	if len(src) > MaxInput {
		return 0, false
	}
	stored := len(src) + 5 // a stored block: header byte, LEN, NLEN, the bytes
	switch bound := (e.match(src) + 7) / 8; {
	case bound >= stored:
		return storedBlock(dst, src)
	case bound > len(dst):
		return 0, false
	}
	if n, ok := e.write(dst, src); ok && n <= stored {
		return n, true
	}
	return storedBlock(dst, src)
}

// storedBlock writes src as one final stored block (RFC 1951 §3.2.4).
func storedBlock(dst, src []byte) (int, bool) {
	if len(dst) < len(src)+5 {
		return 0, false
	}
	dst[0] = 1 // BFINAL, BTYPE 00, then padding to the byte
	binary.LittleEndian.PutUint16(dst[1:], uint16(len(src)))
	binary.LittleEndian.PutUint16(dst[3:], ^uint16(len(src)))
	return 5 + copy(dst[5:], src), true
}

func hash(u uint32) uint32 { return (u * 0x1e35a7bd) >> (32 - tableBits) }

// match fills e.seqs with the matches in src and returns a lower bound of
// the stream's size in bits (every literal counted at 8 bits).
func (e *Encoder) match(src []byte) int {
	e.seqs = e.seqs[:0]
	if e.base > maxBase {
		e.table, e.base = [1 << tableBits]int32{}, 0
	}
	base := e.base
	e.base += int32(len(src)) + 1
	size := 3 + 7 // block header, end of block
	lit, s, skip := 0, 0, 1<<skipLog
	for s+minMatch <= len(src) {
		u := binary.LittleEndian.Uint32(src[s:])
		h := hash(u)
		c := int(e.table[h] - base)
		e.table[h] = int32(s) + base
		if c < 0 || uint(s-c-1) >= maxDist || binary.LittleEndian.Uint32(src[c:]) != u { // c < s, at most maxDist back
			s += skip >> skipLog
			skip++
			continue
		}
		l := min(matchLen(src[c:], src[s:]), maxMatch)
		if t := s + 1; l < maxMatch && t+minMatch <= len(src) { // lazy: a longer match one on?
			u := binary.LittleEndian.Uint32(src[t:])
			h := hash(u)
			c2 := int(e.table[h] - base)
			e.table[h] = int32(t) + base
			if c2 >= 0 && uint(t-c2-1) < maxDist && binary.LittleEndian.Uint32(src[c2:]) == u {
				if l2 := min(matchLen(src[c2:], src[t:]), maxMatch); l2 > l {
					s, c, l = t, c2, l2
				}
			}
		}
		for c > 0 && s > lit && src[c-1] == src[s-1] && l < maxMatch { // extend back
			c, s, l = c-1, s-1, l+1
		}
		d := s - c
		e.seqs = append(e.seqs, uint64(s-lit)<<32|uint64(l-3)<<16|uint64(d-1))
		size += 8*(s-lit) + int(lengthCodes[l-3]>>24) + int(distCode(d-1)>>24)
		// Positions inside the match go into the table too (the
		// longer ones only their ends), for the next match to find.
		from := s + 1
		s += l
		lit = s
		skip = 1 << skipLog
		if l > maxInsert {
			from = s - maxInsert
		}
		for p, end := from, min(s, len(src)-minMatch+1); p < end; p++ {
			e.table[hash(binary.LittleEndian.Uint32(src[p:]))] = int32(p) + base
		}
	}
	return size + 8*(len(src)-lit)
}

// matchLen is the length of the common prefix of a and b (a before b).
func matchLen(a, b []byte) int {
	n := 0
	for len(b)-n >= 8 {
		if x := binary.LittleEndian.Uint64(a[n:]) ^ binary.LittleEndian.Uint64(b[n:]); x != 0 {
			return n + bits.TrailingZeros64(x)>>3
		}
		n += 8
		if n >= maxMatch {
			return n
		}
	}
	for n < len(b) && a[n] == b[n] {
		n++
	}
	return n
}

// bitWriter packs codes LSB first (RFC 1951 §3.1.1) into dst.
type bitWriter struct {
	dst  []byte
	n    int    // bytes written
	bits uint64 // pending bits, the first in the low end
	nb   uint   // how many, below 32 between puts
}

// put appends code c (as codes.go packs them: up to 24 bits) and
// reports whether dst still has room.
func (w *bitWriter) put(c uint32) bool {
	w.bits |= uint64(c&0xffffff) << w.nb
	w.nb += uint(c >> 24)
	return w.nb < 32 || w.flush()
}

// flush writes 32 of the pending bits.
func (w *bitWriter) flush() bool {
	switch {
	case w.n+8 <= len(w.dst):
		binary.LittleEndian.PutUint64(w.dst[w.n:], w.bits)
	case w.n+4 <= len(w.dst):
		binary.LittleEndian.PutUint32(w.dst[w.n:], uint32(w.bits))
	default:
		return false
	}
	w.n += 4
	w.bits >>= 32
	w.nb -= 32
	return true
}

// close writes the pending bits, zero-padded to a byte.
func (w *bitWriter) close() bool {
	k := int(w.nb+7) / 8
	if w.n+k > len(w.dst) {
		return false
	}
	for i := range k {
		w.dst[w.n+i] = byte(w.bits >> (8 * i))
	}
	w.n += k
	return true
}

// literals appends the literal bytes of lit, two codes (at most 18 bits)
// per step, pending bits in registers.
func (w *bitWriter) literals(lit []byte) bool {
	bits, nb := w.bits, w.nb
	for len(lit) >= 2 {
		c, d := literalCodes[lit[0]], literalCodes[lit[1]]
		bits |= (uint64(c&0xffff) | uint64(d&0xffff)<<(c>>24)) << nb
		nb += uint(c>>24 + d>>24)
		lit = lit[2:]
		if nb < 32 {
			continue
		}
		if w.n+8 > len(w.dst) {
			if w.bits, w.nb = bits, nb; !w.flush() {
				return false
			}
			bits, nb = w.bits, w.nb
			continue
		}
		binary.LittleEndian.PutUint64(w.dst[w.n:], bits)
		w.n += 4
		bits >>= 32
		nb -= 32
	}
	w.bits, w.nb = bits, nb
	return len(lit) == 0 || w.put(literalCodes[lit[0]])
}

// write emits the sequences of e.seqs, then the trailing literals.
func (e *Encoder) write(dst, src []byte) (int, bool) {
	w := bitWriter{dst: dst, bits: 1 | 1<<1, nb: 3} // BFINAL, BTYPE 01: fixed codes
	s := 0
	for _, q := range e.seqs {
		end := s + int(q>>32)
		l := int(q>>16&0xffff) + 3
		if !w.literals(src[s:end]) || !w.put(lengthCodes[l-3]) || !w.put(distCode(int(q&0xffff))) {
			return 0, false
		}
		s = end + l
	}
	// End of block: code 256 is 0000000.
	if !w.literals(src[s:]) || !w.put(7<<24) || !w.close() {
		return 0, false
	}
	return w.n, true
}
