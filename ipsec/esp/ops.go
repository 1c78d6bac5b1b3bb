package esp

import (
	"encoding/binary"

	"github.com/fastipsec/fastipsec/dataplane/hdr"
	"github.com/fastipsec/fastipsec/ipsec/alg"
)

// shape is what cryptoOp needs to know about an SA and its session,
// read once per run of packets.
type shape struct {
	s             *alg.Session
	ivLen, icvLen int
	aead, aadOnly bool // alg.Session.AEAD, AADOnly
	esn           bool
}

func (sh *shape) load(s *alg.Session, esn bool) {
	*sh = shape{s: s, ivLen: s.IVLen(), icvLen: s.ICVLen(), aead: s.AEAD(), aadOnly: s.AADOnly(), esn: esn}
}

// cryptoOp describes packet data's ESP region to the engine:
//
//	data[esp:]  SPI | SeqLo | IV | text (payload, padding, trailer) | ICV
//	                  textEnd ─────────────────────────────────────┘
//
// With ESN and an AEAD session it moves the SPI into the 4 bytes in front
// of the header and writes SeqHi over it, so that the additional data
// SPI || SeqHi || SeqLo (RFC 4106 §5, RFC 7634 §2.1, RFC 4543 §5) lies
// contiguous in the packet; restoreAAD undoes it after the crypto call.
func cryptoOp(op *alg.Op, w *work, sh *shape, data []byte, textEnd int) {
	esp := w.esp
	iv := esp + hdr.ESPLen
	text := iv + sh.ivLen
	op.Sess, op.IV, op.ICV, op.IVCounter = sh.s, data[iv:text], data[textEnd:textEnd+sh.icvLen], w.seq
	op.Text = data[text:textEnd]
	if !sh.aead {
		op.AAD, op.Auth = nil, data[esp:textEnd]
		op.SeqHi, op.ESN = uint32(w.seq>>32), sh.esn
		return
	}
	op.Auth, op.SeqHi, op.ESN = nil, 0, false
	aad := esp
	if sh.esn {
		copy(w.saved[:], data[esp-4:esp])
		copy(data[esp-4:esp], data[esp:esp+4])
		binary.BigEndian.PutUint32(data[esp:], uint32(w.seq>>32))
		w.esnAAD = true
		aad = esp - 4
	}
	if sh.aadOnly {
		op.AAD, op.Text = data[aad:textEnd], op.Text[:0]
	} else {
		op.AAD = data[aad:iv]
	}
}

// restoreAAD puts the SPI and the bytes in front of the header back.
func restoreAAD(w *work, data []byte) {
	if !w.esnAAD {
		return
	}
	esp := w.esp
	copy(data[esp:esp+4], data[esp-4:esp])
	copy(data[esp-4:esp], w.saved[:])
	w.esnAAD = false
}
