package pfkey

import (
	"errors"
	"fmt"
	"syscall"
)

// Error is a rejected message: the errno a kernel would put in
// sadb_msg_errno, the extension at fault (ExtReserved when the base header
// is at fault) and a human-readable reason.
type Error struct {
	Errno  syscall.Errno
	Ext    ExtType
	Reason string
}

// Error renders "pfkey: <reason> (ext N): <errno text>".
func (e *Error) Error() string {
	if e.Ext != ExtReserved {
		return fmt.Sprintf("pfkey: %s (ext %d): %v", e.Reason, e.Ext, e.Errno)
	}
	return fmt.Sprintf("pfkey: %s: %v", e.Reason, e.Errno)
}

// Unwrap returns the errno, so errors.Is(err, syscall.EINVAL) works.
func (e *Error) Unwrap() error { return e.Errno }

// Errorf builds an *Error about the whole message (no extension).
func Errorf(errno syscall.Errno, format string, args ...any) *Error {
	return &Error{Errno: errno, Reason: fmt.Sprintf(format, args...)}
}

// extErrorf builds an *Error about one extension.
func extErrorf(errno syscall.Errno, t ExtType, format string, args ...any) *Error {
	return &Error{Errno: errno, Ext: t, Reason: fmt.Sprintf(format, args...)}
}

// ErrnoOf returns the errno to report for err: the Errno of an *Error or a
// wrapped syscall.Errno, 0 for nil, and EINVAL for anything else.
func ErrnoOf(err error) syscall.Errno {
	if err == nil {
		return 0
	}
	var pe *Error
	if errors.As(err, &pe) {
		return pe.Errno
	}
	var en syscall.Errno
	if errors.As(err, &en) {
		return en
	}
	return syscall.EINVAL
}

// ErrorReply builds the reply to a failed request: the request's header
// (type, satype, seq, pid) with errno set, length one word and no
// extensions, as key_senderror and Linux's pfkey_error do.
func ErrorReply(req Header, errno syscall.Errno) *Msg {
	return &Msg{Header: Header{
		Version: Version,
		Type:    req.Type,
		Errno:   errno,
		SAType:  req.SAType,
		Len:     HeaderLen / 8,
		Seq:     req.Seq,
		PID:     req.PID,
	}}
}

func itoa(n int) string { return fmt.Sprint(n) }
