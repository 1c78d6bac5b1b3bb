package keysock

// maxBatch bounds the datagrams handed to the handler at once.
const maxBatch = 64

// wipe clears the bytes the last batch used (they may carry keys).
func (r *reader) wipe() {
	clear(r.buf[:r.used])
	r.used = 0
}
