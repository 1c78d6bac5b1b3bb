package config

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/netip"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Error is one problem in a config file, located by file, line and key path.
type Error struct {
	File string // the name given to Load or Parse
	Line int    // 1-based; 0 if unknown
	Key  string // key path such as "ports[2].driver"; "" for YAML syntax errors
	Msg  string
}

// Error formats e as "FILE:LINE: KEY: message".
func (e *Error) Error() string {
	s := e.File
	if e.Line > 0 {
		s += ":" + strconv.Itoa(e.Line)
	}
	if e.Key != "" {
		s += ": " + e.Key
	}
	return s + ": " + e.Msg
}

// maxErrors bounds the errors collected from one file.
const maxErrors = 100

// decoder walks a yaml.Node tree and collects errors.
type decoder struct {
	file, dir string
	errs      []*Error
	dropped   bool
}

func newDecoder(name string) *decoder {
	d := &decoder{file: name, dir: filepath.Dir(name)}
	if name == "" {
		d.file = "config"
	}
	return d
}

func (d *decoder) errorf(n *yaml.Node, key, format string, args ...any) {
	if len(d.errs) >= maxErrors {
		d.dropped = true
		return
	}
	line := 0
	if n != nil {
		line = n.Line
	}
	d.errs = append(d.errs, &Error{File: d.file, Line: line, Key: key, Msg: fmt.Sprintf(format, args...)})
}

// err returns the collected errors sorted by line, joined one per line, or nil.
func (d *decoder) err() error {
	if len(d.errs) == 0 {
		return nil
	}
	slices.SortStableFunc(d.errs, func(a, b *Error) int { return cmp.Compare(a.Line, b.Line) })
	errs := make([]error, 0, len(d.errs)+1)
	for _, e := range d.errs {
		errs = append(errs, e)
	}
	if d.dropped {
		errs = append(errs, &Error{File: d.file, Msg: "too many errors"})
	}
	return errors.Join(errs...)
}

// parse returns the root node of the single YAML document in data, or nil if there is none.
func (d *decoder) parse(data []byte) *yaml.Node {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if err != io.EOF {
			d.syntax(err)
		}
		return nil
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		d.errorf(&extra, "", "more than one YAML document")
	} else if err != io.EOF {
		d.syntax(err)
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 {
		return nil
	}
	return deref(doc.Content[0])
}

// syntax records a yaml.v3 parse error, taking the line from its "yaml: line N: " prefix.
func (d *decoder) syntax(err error) {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	line := 0
	if rest, ok := strings.CutPrefix(msg, "line "); ok {
		if num, m, ok := strings.Cut(rest, ": "); ok {
			if n, err := strconv.Atoi(num); err == nil {
				line, msg = n, m
			}
		}
	}
	d.errorf(&yaml.Node{Line: line}, "", "%s", msg)
}

// deref follows aliases to the anchored node; a cycle of aliases yields the alias node.
func deref(n *yaml.Node) *yaml.Node {
	for hops := 0; n != nil && n.Kind == yaml.AliasNode && n.Alias != nil && hops < 64; hops++ {
		n = n.Alias
	}
	return n
}

func isNull(n *yaml.Node) bool { return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" }

// kind names what n holds, for "want X, got Y" messages.
func kind(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a sequence"
	case yaml.ScalarNode:
		switch t := n.ShortTag(); t {
		case "!!str":
			return "a string"
		case "!!int":
			return "an integer"
		case "!!null":
			return "null"
		default:
			return strings.TrimPrefix(t, "!!")
		}
	}
	return "nothing"
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func index(path string, i int) string { return path + "[" + strconv.Itoa(i) + "]" }

// pairs returns the key/value pairs of mapping n, reporting non-scalar and duplicate keys.
func (d *decoder) pairs(n *yaml.Node, path string) [][2]*yaml.Node {
	if n.Kind != yaml.MappingNode {
		d.errorf(n, path, "want a mapping, got %s", kind(n))
		return nil
	}
	first := map[string]int{}
	var out [][2]*yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := deref(n.Content[i]), deref(n.Content[i+1])
		if k.Kind != yaml.ScalarNode {
			d.errorf(k, path, "keys must be strings, got %s", kind(k))
			continue
		}
		if line, dup := first[k.Value]; dup {
			d.errorf(k, join(path, k.Value), "duplicate key (first at line %d)", line)
			continue
		}
		first[k.Value] = k.Line
		out = append(out, [2]*yaml.Node{k, v})
	}
	return out
}

// fields returns the non-null values of mapping n by key, reporting keys not in keys;
// nil if n is not a mapping.
func (d *decoder) fields(n *yaml.Node, path string, keys ...string) map[string]*yaml.Node {
	if n.Kind != yaml.MappingNode {
		d.errorf(n, path, "want a mapping, got %s", kind(n))
		return nil
	}
	m := map[string]*yaml.Node{}
	for _, kv := range d.pairs(n, path) {
		k, v := kv[0], kv[1]
		if !slices.Contains(keys, k.Value) {
			d.errorf(k, join(path, k.Value), "unknown key (want %s)", strings.Join(keys, ", "))
			continue
		}
		if !isNull(v) {
			m[k.Value] = v
		}
	}
	return m
}

// required returns f[key], reporting its absence at the mapping node n unless f is nil (not a mapping).
func (d *decoder) required(f map[string]*yaml.Node, n *yaml.Node, path, key string) *yaml.Node {
	v := f[key]
	if v == nil && f != nil {
		d.errorf(n, join(path, key), "required")
	}
	return v
}

// seq returns the items of sequence n, aliases followed.
func (d *decoder) seq(n *yaml.Node, path string) []*yaml.Node {
	if n.Kind != yaml.SequenceNode {
		d.errorf(n, path, "want a sequence, got %s", kind(n))
		return nil
	}
	out := make([]*yaml.Node, len(n.Content))
	for i, c := range n.Content {
		out[i] = deref(c)
	}
	return out
}

// str returns the text of a non-null scalar.
func (d *decoder) str(n *yaml.Node, path string) (string, bool) {
	if n.Kind != yaml.ScalarNode || isNull(n) {
		d.errorf(n, path, "want a string, got %s", kind(n))
		return "", false
	}
	return n.Value, true
}

// nonEmpty returns a non-empty string.
func (d *decoder) nonEmpty(n *yaml.Node, path string) (string, bool) {
	s, ok := d.str(n, path)
	if ok && s == "" {
		d.errorf(n, path, "must not be empty")
		return "", false
	}
	return s, ok
}

// path returns a non-empty file path resolved against the config file's directory.
func (d *decoder) path(n *yaml.Node, path string) (string, bool) {
	s, ok := d.nonEmpty(n, path)
	if ok && !filepath.IsAbs(s) {
		s = filepath.Join(d.dir, s)
	}
	return s, ok
}

// oneOf returns a string that must be one of choices; what names it in the message.
func (d *decoder) oneOf(n *yaml.Node, path, what string, choices ...string) (string, bool) {
	s, ok := d.str(n, path)
	if ok && !slices.Contains(choices, s) {
		d.errorf(n, path, "unknown %s %q (want %s)", what, s, strings.Join(choices, ", "))
		return "", false
	}
	return s, ok
}

// integer returns an integer in lo..hi.
func (d *decoder) integer(n *yaml.Node, path string, lo, hi int) (int, bool) {
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!int" {
		d.errorf(n, path, "want an integer, got %s", kind(n))
		return 0, false
	}
	var v int
	if err := n.Decode(&v); err != nil {
		d.errorf(n, path, "invalid integer %q", n.Value)
		return 0, false
	}
	if v < lo || v > hi {
		if hi == math.MaxInt {
			d.errorf(n, path, "%s is out of range (want >= %d)", n.Value, lo)
		} else {
			d.errorf(n, path, "%s is out of range %d..%d", n.Value, lo, hi)
		}
		return 0, false
	}
	return v, true
}

// boolean returns a YAML bool.
func (d *decoder) boolean(n *yaml.Node, path string) (bool, bool) {
	var v bool
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!bool" || n.Decode(&v) != nil {
		d.errorf(n, path, "want true or false, got %s", kind(n))
		return false, false
	}
	return v, true
}

// mode returns socket permission bits given as an integer (0600 is octal in YAML) or an octal string.
func (d *decoder) mode(n *yaml.Node, path string) (uint32, bool) {
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!str" {
		v, err := strconv.ParseUint(strings.TrimPrefix(n.Value, "0o"), 8, 32)
		if err != nil || v > 0o777 {
			d.errorf(n, path, "invalid mode %q (want octal permission bits such as \"0600\")", n.Value)
			return 0, false
		}
		return uint32(v), true
	}
	v, ok := d.integer(n, path, 0, 0o777)
	return uint32(v), ok
}

// ids returns a list of uids or gids.
func (d *decoder) ids(n *yaml.Node, path string) []int {
	out := []int{}
	for i, c := range d.seq(n, path) {
		if v, ok := d.integer(c, index(path, i), 0, math.MaxUint32-1); ok {
			out = append(out, v)
		}
	}
	return out
}

// addr returns a unicast IP address without a zone.
func (d *decoder) addr(n *yaml.Node, path string) (netip.Addr, bool) {
	s, ok := d.str(n, path)
	if !ok {
		return netip.Addr{}, false
	}
	a, err := netip.ParseAddr(s)
	switch {
	case err != nil:
		d.errorf(n, path, "invalid IP address %q", s)
	case a.Zone() != "":
		d.errorf(n, path, "%s: zones are not allowed", s)
	case a.IsUnspecified() || a.IsMulticast():
		d.errorf(n, path, "%s is not a unicast address", s)
	default:
		return a, true
	}
	return netip.Addr{}, false
}

// prefix returns an address/length prefix, host bits kept.
func (d *decoder) prefix(n *yaml.Node, path string) (netip.Prefix, bool) {
	s, ok := d.str(n, path)
	if !ok {
		return netip.Prefix{}, false
	}
	p, err := netip.ParsePrefix(s)
	if err != nil {
		d.errorf(n, path, "invalid prefix %q (want address/length)", s)
		return netip.Prefix{}, false
	}
	return p, true
}

// mac returns a unicast 6-byte MAC address.
func (d *decoder) mac(n *yaml.Node, path string) ([6]byte, bool) {
	var m [6]byte
	s, ok := d.str(n, path)
	if !ok {
		return m, false
	}
	hw, err := net.ParseMAC(s)
	switch {
	case err != nil || len(hw) != 6:
		d.errorf(n, path, "invalid MAC address %q (want 6 bytes such as \"02:00:00:00:00:01\")", s)
	case hw[0]&1 != 0:
		d.errorf(n, path, "%s is a multicast MAC address", s)
	default:
		copy(m[:], hw)
		return m, true
	}
	return m, false
}
