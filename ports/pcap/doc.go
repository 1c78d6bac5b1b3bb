// Package pcap implements a port that replays a capture file as its rx
// side and records its tx side to another, plus the file codecs it uses.
//
//	Rx file ─► Reader.Next ─► Buf (pool cache) ─► RxBurst ─► engine
//	engine ─► TxBurst ─► Writer.WritePacket ─► Tx file   (Bufs freed)
//
// Reader reads classic pcap (either byte order, micro- or nanosecond
// timestamps) and pcapng (SHB in either byte order, IDB with if_tsresol and
// if_tsoffset, EPB and SPB; other blocks are skipped). Writer writes
// classic pcap with microsecond timestamps; NgWriter writes pcapng whose
// packet blocks carry a direction (enc0 captures, LinkTypeEnc). Both are stdlib-only and reuse
// caller buffers, so tests and tools can use them on their own.
//
// The port has one queue. RxBurst reads frames straight into Bufs at the
// default headroom and stamps Meta.RxTime with the file's timestamp, so an
// offline run writes the same timestamps out again. RxDone reports the end
// of the rx file (engine.Finite); Flush flushes the tx file (engine.Flusher).
package pcap
