// SPDX-License-Identifier: MIT

// gotlsbench is tlsbench's bio mode over Go's crypto/tls: HTTP/1.1
// request/response rounds between a client and a server *tls.Conn in one
// goroutine, as fast as they go, to measure what probes on
// (*tls.Conn).Write and Read cost the program that is traced.
//
//	gotlsbench --size BYTES --seconds S [--warmup S] [--sync]
//
// A round is one OpenAI-style chat request (POST /v1/chat/completions to
// api.openai.com, a JSON body of BYTES) and its JSON response (bench/msgs.h's
// messages), each sent with one Write and received with as many Read calls
// as it takes (one per TLS record, 16 KiB at most).  The two conns move their
// records through in-memory queues: no system calls, the time is the TLS
// calls themselves.  Only the handshake runs in two goroutines.
//
// The first --warmup seconds (default 0.5) are not counted: a Go executable
// is probed at its exec, which takes the sensor a few milliseconds.  With
// --sync it then prints "warm" and waits for a line on stdin before
// measuring (bench/run.py reads the probes' counters meanwhile).
//
// Prints one JSON line in tlsbench's format (mode "bio"): rounds, seconds,
// write and read calls (both sides) and the time inside them.  The
// certificate is a throwaway self-signed P-256 one made at start; the client
// does not verify it.
package main

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/big"
	"net"
	"os"
	"strings"
	"sync"
	"time"
)

// queue is one direction's bytes in flight; Read waits for data only
// during the handshake (later the one goroutine reads what it has written).
type queue struct {
	mu     sync.Mutex
	cond   *sync.Cond
	buf    []byte
	head   int // bytes of buf already read
	closed bool
}

func newQueue() *queue {
	q := &queue{}
	q.cond = sync.NewCond(&q.mu)
	return q
}

// memConn is one end: it writes to out and reads from in.
type memConn struct {
	in, out *queue
}

func (c *memConn) Read(b []byte) (int, error) {
	q := c.in
	q.mu.Lock()
	defer q.mu.Unlock()
	for q.head == len(q.buf) && !q.closed {
		q.cond.Wait()
	}
	if q.head == len(q.buf) {
		return 0, io.EOF
	}
	n := copy(b, q.buf[q.head:])
	q.head += n
	if q.head == len(q.buf) {
		q.buf, q.head = q.buf[:0], 0
	}
	return n, nil
}

func (c *memConn) Write(b []byte) (int, error) {
	q := c.out
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		return 0, errors.New("closed")
	}
	q.buf = append(q.buf, b...)
	q.cond.Broadcast()
	return len(b), nil
}

func (c *memConn) Close() error {
	for _, q := range []*queue{c.in, c.out} {
		q.mu.Lock()
		q.closed = true
		q.cond.Broadcast()
		q.mu.Unlock()
	}
	return nil
}

type addr struct{}

func (addr) Network() string { return "mem" }
func (addr) String() string  { return "mem" }

func (c *memConn) LocalAddr() net.Addr                { return addr{} }
func (c *memConn) RemoteAddr() net.Addr               { return addr{} }
func (c *memConn) SetDeadline(t time.Time) error      { return nil }
func (c *memConn) SetReadDeadline(t time.Time) error  { return nil }
func (c *memConn) SetWriteDeadline(t time.Time) error { return nil }

// calls counts the TLS calls made and the time inside them.
type calls struct {
	writes, reads, writeNs, readNs uint64
}

func die(what string, err error) {
	fmt.Fprintf(os.Stderr, "gotlsbench: %s: %v\n", what, err)
	os.Exit(1)
}

func serverCert() tls.Certificate {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		die("key", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "api.openai.com"},
		DNSNames:     []string{"api.openai.com"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		die("certificate", err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// jsonBody is prefix + 'x' * pad + suffix of exactly size bytes, or more.
func jsonBody(prefix, suffix string, size int) string {
	pad := size - len(prefix) - len(suffix)
	if pad < 1 {
		pad = 1
	}
	return prefix + strings.Repeat("x", pad) + suffix
}

func messages(size int) ([]byte, []byte) {
	body := jsonBody(`{"model":"gpt-4o-mini","messages":[{"role":"user","content":"`,
		`"}]}`, size)
	req := fmt.Sprintf("POST /v1/chat/completions HTTP/1.1\r\n"+
		"Host: api.openai.com\r\n"+
		"Authorization: Bearer sk-bench\r\n"+
		"Content-Type: application/json\r\n"+
		"Content-Length: %d\r\n\r\n%s", len(body), body)
	body = jsonBody(`{"id":"chatcmpl-bench","object":"chat.completion","model":"gpt-4o-mini",`+
		`"choices":[{"index":0,"message":{"role":"assistant","content":"`,
		`"},"finish_reason":"stop"}],"usage":{"prompt_tokens":9,"completion_tokens":9,`+
			`"total_tokens":18}}`, size)
	resp := fmt.Sprintf("HTTP/1.1 200 OK\r\n"+
		"Content-Type: application/json\r\n"+
		"Content-Length: %d\r\n\r\n%s", len(body), body)
	return []byte(req), []byte(resp)
}

func timedWrite(c *tls.Conn, b []byte, n *calls) {
	t0 := time.Now()
	_, err := c.Write(b)
	n.writeNs += uint64(time.Since(t0))
	n.writes++
	if err != nil {
		die("Write", err)
	}
}

// timedRead reads exactly len(want) bytes (the peer's whole message).
func timedRead(c *tls.Conn, buf []byte, want int, n *calls) {
	for got := 0; got < want; {
		t0 := time.Now()
		k, err := c.Read(buf)
		n.readNs += uint64(time.Since(t0))
		n.reads++
		if err != nil {
			die("Read", err)
		}
		got += k
	}
}

func main() {
	size := flag.Int("size", 4096, "body bytes")
	seconds := flag.Float64("seconds", 1, "measured seconds")
	warmup := flag.Float64("warmup", 0.5, "seconds not measured")
	sync := flag.Bool("sync", false, `print "warm" and wait for a line on stdin after the warm-up`)
	flag.Parse()
	if flag.NArg() != 0 || *size < 1 || *size > 1<<20 || *seconds <= 0 || *warmup < 0 {
		fmt.Fprintln(os.Stderr, "usage: gotlsbench --size BYTES --seconds S [--warmup S] [--sync]")
		os.Exit(2)
	}
	req, resp := messages(*size)
	c2s, s2c := newQueue(), newQueue()
	srv := tls.Server(&memConn{in: c2s, out: s2c},
		&tls.Config{Certificates: []tls.Certificate{serverCert()}})
	cli := tls.Client(&memConn{in: s2c, out: c2s},
		&tls.Config{ServerName: "api.openai.com", InsecureSkipVerify: true})
	done := make(chan error, 1)
	go func() { done <- srv.Handshake() }()
	if err := cli.Handshake(); err != nil {
		die("client handshake", err)
	}
	if err := <-done; err != nil {
		die("server handshake", err)
	}

	buf := make([]byte, 128<<10)
	round := func(n *calls) {
		timedWrite(cli, req, n)
		timedRead(srv, buf, len(req), n)
		timedWrite(srv, resp, n)
		timedRead(cli, buf, len(resp), n)
	}
	var warm, c calls
	for end := time.Now().Add(time.Duration(*warmup * 1e9)); time.Now().Before(end); {
		round(&warm)
	}
	if *sync {
		fmt.Println("warm")
		if _, err := bufio.NewReader(os.Stdin).ReadString('\n'); err != nil {
			die("stdin", err)
		}
	}
	var rounds uint64
	t0 := time.Now()
	deadline := t0.Add(time.Duration(*seconds * 1e9))
	for {
		round(&c)
		rounds++
		if rounds&15 == 0 && !time.Now().Before(deadline) {
			break
		}
	}
	secs := time.Since(t0).Seconds()
	fmt.Printf(`{"mode":"bio","size":%d,"req_bytes":%d,"resp_bytes":%d,"rounds":%d,`+
		`"seconds":%.6f,"writes":%d,"reads":%d,"write_ns":%d,"read_ns":%d}`+"\n",
		*size, len(req), len(resp), rounds, secs, c.writes, c.reads, c.writeNs, c.readNs)
}
