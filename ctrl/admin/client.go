package admin

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"net"

	"github.com/fastipsec/fastipsec/ipsec/enc"
)

// DefaultSocket is where the daemon listens unless configured otherwise.
const DefaultSocket = "/run/ipsecd/admin.sock"

// Client talks to a Server.
type Client struct {
	c   net.Conn
	br  *bufio.Reader
	buf []byte
}

// Dial connects to the admin socket at path.
func Dial(path string) (*Client, error) {
	c, err := net.Dial("unix", path)
	if err != nil {
		return nil, err
	}
	return &Client{c: c, br: bufio.NewReaderSize(c, 256<<10)}, nil
}

// Close closes the connection.
func (c *Client) Close() error { return c.c.Close() }

// Do sends one request and returns its response; a response carrying an
// error is returned as that error.
func (c *Client) Do(req Request) (Response, error) {
	if err := writeJSON(c.c, req); err != nil {
		return Response{}, err
	}
	return c.response()
}

func (c *Client) response() (Response, error) {
	kind, payload, grown, err := readFrame(c.br, c.buf)
	c.buf = grown
	if err != nil {
		return Response{}, fmt.Errorf("admin: reading the response: %w", err)
	}
	if kind != kindJSON {
		return Response{}, fmt.Errorf("%w: kind %q where a response was due", errFrame, kind)
	}
	var r Response
	if err := json.Unmarshal(payload, &r); err != nil {
		return Response{}, fmt.Errorf("admin: bad response: %w", err)
	}
	if r.Error != "" {
		return r, errors.New(r.Error)
	}
	return r, nil
}

// Capture starts a capture and hands each packet to fn (p.Data is valid
// until fn returns) until the server ends the stream (count reached) or
// fn fails; start is called once with the stream's parameters before the
// first packet. It returns the summary the server sent at the end
// (Done false when the stream ended early). The connection is closed
// afterwards.
func (c *Client) Capture(req Request, start func(CaptureSummary) error, fn func(p *enc.Packet) error) (CaptureSummary, error) {
	defer c.Close()
	req.Op = OpCapture
	r, err := c.Do(req)
	if err != nil {
		return CaptureSummary{}, err
	}
	if r.Capture == nil {
		return CaptureSummary{}, errors.New("admin: capture refused without a reason")
	}
	sum := *r.Capture
	if start != nil {
		if err := start(sum); err != nil {
			return sum, err
		}
	}
	var got uint64
	for {
		kind, payload, grown, err := readFrame(c.br, c.buf)
		c.buf = grown
		if err != nil {
			sum.Packets = got
			return sum, fmt.Errorf("admin: capture stream: %w", err)
		}
		switch kind {
		case kindPacket:
			p, err := parsePacket(payload)
			if err != nil {
				return sum, err
			}
			got++
			if err := fn(&p); err != nil {
				sum.Packets = got
				return sum, err
			}
		case kindJSON:
			var end Response
			if err := json.Unmarshal(payload, &end); err != nil || end.Capture == nil {
				return sum, fmt.Errorf("admin: bad end of capture: %s", payload)
			}
			return *end.Capture, nil
		default:
			return sum, fmt.Errorf("%w: kind %q", errFrame, kind)
		}
	}
}
