package keysock

// maxBatch bounds the datagrams read, or written, in one system call.
const maxBatch = 32
