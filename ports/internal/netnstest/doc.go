// Package netnstest gives port driver tests throw-away network namespaces.
//
// A test asks for root, makes a namespace with NewNS (deleted by t.Cleanup
// even when the test fails), runs `ip` inside it with IP, and runs Go code
// inside it with Do, which pins a fresh OS thread, enters the namespace and
// lets the thread die afterwards, so the namespace never leaks into other
// goroutines. Sockets and devices created inside Do stay in the namespace
// and can be used from any goroutine afterwards.
package netnstest
