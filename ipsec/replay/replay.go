// Package replay is the ESP/AH anti-replay window: RFC 4303 §3.4.3, with
// extended sequence numbers inferred as in RFC 4303 Appendix A, kept in an
// RFC 6479 ring of 64-bit words.
//
// Per inbound packet, on the SA's owner core:
//
//	seq, ok := w.Check(seqLo)   // before the ICV: infer the 64-bit number, reject
//	                            // duplicates and too-old packets; no state change
//	... verify the ICV with seq>>32 as the implicit high half ...
//	if !w.Commit(seq) { drop }  // after the ICV verified: advance or mark;
//	                            // false if a packet of the same burst got there first
//
// A Window is not safe for concurrent use: the core that owns the SA uses it,
// or the caller locks. The zero value is a usable window with the replay check
// off and 32-bit sequence numbers.
package replay

import "math/bits"

// MaxSize is the largest window, in packets.
const MaxSize = 1 << 20

// esnInferWindow is used to infer the high half when the replay check is off:
// a packet is placed in whichever 2^32 epoch is closest to Top.
const esnInferWindow = 1 << 31

// Window is one SA's anti-replay state.
type Window struct {
	top  uint64   // highest sequence number committed (0: none yet)
	size uint32   // window in packets, a multiple of 64; 0 = replay check off
	esn  bool     // 64-bit sequence numbers, low half on the wire
	mask uint64   // len(ring)-1
	ring []uint64 // bit (seq & 63) of word (seq>>6)&mask is set when seq was seen
}

// Init resets the window. size is in packets: 0 turns the replay check off
// (with esn the high half is still inferred), other sizes are rounded up to a
// multiple of 64 and capped at MaxSize.
func (w *Window) Init(size uint32, esn bool) {
	if size > MaxSize {
		size = MaxSize
	}
	size = (size + 63) &^ 63
	*w = Window{size: size, esn: esn}
	if size == 0 {
		return
	}
	// The window spans at most size/64+1 words; a power of two lets us mask.
	words := uint64(1) << bits.Len64(uint64(size/64))
	w.ring = make([]uint64, words)
	w.mask = words - 1
}

// Top is the highest sequence number committed.
func (w *Window) Top() uint64 { return w.top }

// Size is the window size in packets (0: replay check off).
func (w *Window) Size() uint32 { return w.size }

// ESN reports whether the window infers 64-bit sequence numbers.
func (w *Window) ESN() bool { return w.esn }

// Check infers the full sequence number of a packet whose wire sequence
// number is seqLo, and reports whether it may be new. It does not change the
// window. Sequence number 0 is never valid.
func (w *Window) Check(seqLo uint32) (seq uint64, ok bool) {
	if w.esn {
		if seq, ok = w.infer(seqLo); !ok {
			return seq, false
		}
	} else {
		seq = uint64(seqLo)
	}
	if seq == 0 {
		return 0, false
	}
	if w.size == 0 || seq > w.top {
		return seq, true
	}
	if w.top-seq >= uint64(w.size) {
		return seq, false // left of the window
	}
	return seq, w.ring[(seq>>6)&w.mask]&(1<<(seq&63)) == 0
}

// infer is RFC 4303 Appendix A: place seqLo in the epoch (high half) that
// puts it at or after the window's bottom Tl-W+1.
func (w *Window) infer(seqLo uint32) (uint64, bool) {
	win := uint32(esnInferWindow)
	if w.size != 0 {
		win = w.size
	}
	th, tl := uint32(w.top>>32), uint32(w.top)
	bottom := tl - win + 1 // mod 2^32
	var hi uint32
	if tl >= win-1 { // Case A: window within one epoch
		hi = th
		if seqLo < bottom {
			if th == ^uint32(0) {
				return 0, false // would overflow 2^64
			}
			hi = th + 1
		}
	} else { // Case B: window spans the previous epoch and this one
		hi = th
		if seqLo >= bottom {
			if th == 0 {
				return uint64(seqLo), false // before the first epoch
			}
			hi = th - 1
		}
	}
	return uint64(hi)<<32 | uint64(seqLo), true
}

// Commit records seq after its ICV verified: it advances the window when seq
// is above Top (clearing the words skipped over) and marks seq as seen. It
// returns false if seq is by now a duplicate or left of the window (another
// packet of the same burst committed first); the caller drops the packet.
func (w *Window) Commit(seq uint64) bool {
	if seq == 0 {
		return false
	}
	if w.size == 0 {
		if seq > w.top {
			w.top = seq
		}
		return true
	}
	if seq > w.top {
		cur, next := w.top>>6, seq>>6
		if n := next - cur; n > 0 {
			if n > uint64(len(w.ring)) {
				n = uint64(len(w.ring))
			}
			for i := uint64(1); i <= n; i++ {
				w.ring[(cur+i)&w.mask] = 0
			}
		}
		w.top = seq
	} else if w.top-seq >= uint64(w.size) {
		return false
	}
	word, bit := &w.ring[(seq>>6)&w.mask], uint64(1)<<(seq&63)
	if *word&bit != 0 {
		return false
	}
	*word |= bit
	return true
}
