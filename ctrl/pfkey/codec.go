package pfkey

import "syscall"

// ParseHeader reads the base header from the first 16 bytes of b without
// validating the rest, so a server can echo seq, pid, type and satype in
// an error reply even when Decode fails.
func ParseHeader(b []byte) (Header, error) {
	return Header{}, Errorf(syscall.ENOSYS, "not yet implemented")
}

// Decode parses one whole message in dialect d. It either returns a fully
// decoded message or an *Error carrying the errno, never a partial result.
func Decode(d Dialect, b []byte) (*Msg, error) {
	return nil, Errorf(syscall.ENOSYS, "not yet implemented")
}

// Encode lays m out in dialect d with exact wire bytes.
func Encode(d Dialect, m *Msg) ([]byte, error) {
	return nil, Errorf(syscall.ENOSYS, "not yet implemented")
}

// DetectDialect decides the dialect from the first address-bearing
// extension of a message. ok is false when the message has none (or is
// too short to tell); d is then DefaultDialect.
func DetectDialect(b []byte) (d Dialect, ok bool) {
	return DefaultDialect, false
}

// CheckRequest applies the checks FreeBSD's key_parse and Linux's
// pfkey_process make on a message a client sent, before dispatch.
func CheckRequest(d Dialect, m *Msg) error {
	return Errorf(syscall.ENOSYS, "not yet implemented")
}
