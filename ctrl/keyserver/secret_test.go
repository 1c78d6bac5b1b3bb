package keyserver

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/fastipsec/fastipsec/ctrl"
	"github.com/fastipsec/fastipsec/ctrl/keysock"
	"github.com/fastipsec/fastipsec/ctrl/pfkey"
	"github.com/fastipsec/fastipsec/ipsec/sad"
)

// TestKeysNeverLoggedAndWiped: with debug logging, no log entry carries
// key material, whatever succeeds or fails; a deleted SA's keys are wiped
// after the readers' grace period.
func TestKeysNeverLoggedAndWiped(t *testing.T) {
	core, logs := observer.New(zapcore.DebugLevel)
	log := zap.New(core)
	m := ctrl.NewManager(log)
	ks, err := New(m, "auto", log)
	if err != nil {
		t.Fatal(err)
	}
	sock, err := keysock.Listen(keysock.Config{Path: filepath.Join(t.TempDir(), "k.sock")}, ks, log)
	if err != nil {
		t.Fatal(err)
	}
	go sock.Serve()
	defer sock.Close()
	e := &env{t: t, m: m, ks: ks, sock: sock}
	a := e.dial(pfkey.Linux)
	a.ok(addMsg(0x4000, "192.0.2.1", "192.0.2.2"))
	a.roundTrip(addMsg(0x4000, "192.0.2.1", "192.0.2.2")) // EEXIST
	bad := addMsg(0x4001, "192.0.2.1", "192.0.2.2")
	bad.EncKey.Data = bad.EncKey.Data[:19]
	bad.EncKey.Bits = 152
	a.roundTrip(bad) // wrong key length
	a.ok(saID(pfkey.MsgGet, 0x4000, "192.0.2.1", "192.0.2.2"))
	a.send(&pfkey.Msg{Header: pfkey.Header{Type: pfkey.MsgDump}})
	a.recv()
	sa, _ := m.SAD.Get(sad.ProtoESP, netip.Addr{}, netip.MustParseAddr("192.0.2.2"), 0x4000)
	key := sa.EncKey
	a.ok(saID(pfkey.MsgDelete, 0x4000, "192.0.2.1", "192.0.2.2"))

	for _, en := range logs.All() {
		text := en.Message + fmt.Sprint(en.ContextMap())
		for _, needle := range []string{string(gcmKey[:8]), hex.EncodeToString(gcmKey[:8]), fmt.Sprint(gcmKey[:8])[1:20]} {
			if strings.Contains(text, needle) {
				t.Errorf("log entry carries key material: %s", text)
			}
		}
	}
	if logs.Len() == 0 {
		t.Error("no log entries: the check above proves nothing")
	}
	now := time.Now()
	m.SAD.Tick(now)
	m.SAD.Tick(now.Add(sad.DefaultGrace + time.Second))
	if !bytes.Equal(key, make([]byte, len(key))) {
		t.Errorf("key not wiped after delete: %x", key)
	}
}
