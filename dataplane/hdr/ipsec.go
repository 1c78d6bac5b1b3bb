package hdr

import "encoding/binary"

// ESPLen is the length of the ESP header (SPI and sequence number).
const ESPLen = 8

// ESP is the ESP header (RFC 4303 §2); the IV, payload, padding, trailer
// and ICV follow and are the transform's business.
//
//	 0                   1                   2                   3
//	 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|               Security Parameters Index (SPI)                 |
//	|                      Sequence Number                          |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
type ESP []byte

// IsValid reports whether n bytes hold an ESP header.
func (e ESP) IsValid(n int) bool { return n >= ESPLen && len(e) >= ESPLen }

// SPI returns the SPI.
func (e ESP) SPI() uint32 { return binary.BigEndian.Uint32(e[0:]) }

// Seq returns the (low 32 bits of the) sequence number.
func (e ESP) Seq() uint32 { return binary.BigEndian.Uint32(e[4:]) }

// Set writes the SPI and sequence number.
func (e ESP) Set(spi, seq uint32) {
	binary.BigEndian.PutUint32(e[0:], spi)
	binary.BigEndian.PutUint32(e[4:], seq)
}

// AHMinLen is the length of the AH header without its ICV.
const AHMinLen = 12

// AH is the authentication header (RFC 4302 §2).
//
//	 0                   1                   2                   3
//	 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	| Next Header   |  Payload Len  |          RESERVED             |
//	|                 Security Parameters Index (SPI)               |
//	|                    Sequence Number Field                      |
//	|                Integrity Check Value-ICV (variable)           |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
type AH []byte

// IsValid reports whether n bytes hold the AH header with its ICV.
func (a AH) IsValid(n int) bool {
	return n >= AHMinLen && len(a) >= n && a.Len() >= AHMinLen && a.Len() <= n
}

// NextHeader returns the protocol after AH.
func (a AH) NextHeader() uint8 { return a[0] }

// Len returns the header length in bytes ((payload len + 2) * 4).
func (a AH) Len() int { return (int(a[1]) + 2) * 4 }

// SPI returns the SPI.
func (a AH) SPI() uint32 { return binary.BigEndian.Uint32(a[4:]) }

// Seq returns the sequence number.
func (a AH) Seq() uint32 { return binary.BigEndian.Uint32(a[8:]) }

// ICV returns the integrity check value (with any padding).
func (a AH) ICV() []byte { return a[AHMinLen:a.Len()] }

// Set writes the fixed fields; length is the whole header in bytes.
func (a AH) Set(next uint8, length int, spi, seq uint32) {
	a[0], a[1], a[2], a[3] = next, uint8(length/4-2), 0, 0
	binary.BigEndian.PutUint32(a[4:], spi)
	binary.BigEndian.PutUint32(a[8:], seq)
}

// IPCompLen is the length of the IPComp header.
const IPCompLen = 4

// IPComp is the IPComp header (RFC 3173 §2.2).
//
//	 0                   1                   2                   3
//	 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	| Next Header   |     Flags     | Compression Parameter Index   |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
type IPComp []byte

// IsValid reports whether n bytes hold an IPComp header.
func (c IPComp) IsValid(n int) bool { return n >= IPCompLen && len(c) >= IPCompLen }

// NextHeader returns the protocol of the compressed payload.
func (c IPComp) NextHeader() uint8 { return c[0] }

// Flags returns the flags byte.
func (c IPComp) Flags() uint8 { return c[1] }

// CPI returns the compression parameter index.
func (c IPComp) CPI() uint16 { return binary.BigEndian.Uint16(c[2:]) }

// Set writes the header.
func (c IPComp) Set(next uint8, cpi uint16) {
	c[0], c[1] = next, 0
	binary.BigEndian.PutUint16(c[2:], cpi)
}
