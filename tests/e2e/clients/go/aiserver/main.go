// aiserver: an OpenAI-like chat completions server over Go's net/http
// and crypto/tls (HTTP/1.1 and h2 by ALPN), for the sensor's end-to-end
// tests of the server end (tests/e2e/test_sensor_go.py).
//
// It listens on -addr (host:port, port 0: any), prints "listening <port>"
// and answers POST /v1/chat/completions with "Echo: <last message>".
// With -self it is also its own HTTP/1.1 client: after each line on
// stdin one round, printing one JSON line per step:
//
//	first   a call on a new connection: the server end's *tls.Conn
//	        ("server") and the client end's ("client")
//	second  a call on the same connection
//	reused  both ends closed, their goroutines gone, the garbage
//	        collected, and the client end of a new connection allocated
//	        at the first server end's address ("client")
//	third   a call on that new connection
package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"runtime"
	"sync"
	"time"
)

var (
	certFile = flag.String("cert", "", "certificate (PEM)")
	keyFile  = flag.String("key", "", "private key (PEM)")
	listen   = flag.String("addr", "127.0.0.1:0", "address to listen on")
	self     = flag.Bool("self", false, "be the client too, one round per stdin line")
	prefix   = flag.String("msg", "go self", "message prefix (-self)")
)

func chat(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Model    string `json:"model"`
		Messages []struct {
			Content string `json:"content"`
		} `json:"messages"`
	}
	b, _ := io.ReadAll(r.Body)
	if json.Unmarshal(b, &req) != nil || len(req.Messages) == 0 {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	text := "Echo: " + req.Messages[len(req.Messages)-1].Content
	resp := map[string]interface{}{
		"id":      "chatcmpl-goserver",
		"object":  "chat.completion",
		"created": 1700000000,
		"model":   req.Model,
		"choices": []interface{}{map[string]interface{}{
			"index":         0,
			"message":       map[string]string{"role": "assistant", "content": text},
			"finish_reason": "stop",
		}},
		"usage": map[string]int{"prompt_tokens": 9, "completion_tokens": 4, "total_tokens": 13},
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(resp)
}

func addr(c net.Conn) uint64 {
	var a uint64
	fmt.Sscanf(fmt.Sprintf("%p", c), "0x%x", &a)
	return a
}

func say(v map[string]interface{}) {
	b, _ := json.Marshal(v)
	fmt.Println(string(b))
}

// ends: the server ends (*tls.Conn) in the order accepted, and a
// channel closed when each is closed.
type ends struct {
	mu     sync.Mutex
	conns  []uint64
	closed map[uint64]chan struct{}
}

func (e *ends) state(c net.Conn, s http.ConnState) {
	e.mu.Lock()
	defer e.mu.Unlock()
	a := addr(c)
	switch s {
	case http.StateNew:
		e.conns = append(e.conns, a)
		e.closed[a] = make(chan struct{})
	case http.StateClosed, http.StateHijacked:
		close(e.closed[a])
	}
}

func (e *ends) get(i int) (uint64, chan struct{}) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.conns[i], e.closed[e.conns[i]]
}

// gated is the listener that the server end is accepted from: while a
// gate is set, an accepted connection waits for it to close before the
// server allocates its *tls.Conn, so that the client end, allocated
// meanwhile, is the first to get a freed address (each P allocates
// from spans of its own: the server's accept runs beside the dial).
type gated struct {
	net.Listener
	mu   sync.Mutex
	gate chan struct{}
}

func (g *gated) Accept() (net.Conn, error) {
	c, err := g.Listener.Accept()
	g.mu.Lock()
	gate := g.gate
	g.mu.Unlock()
	if gate != nil {
		<-gate
	}
	return c, err
}

// set closes the gate there is and sets @gate (nil: none).
func (g *gated) set(gate chan struct{}) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.gate != nil {
		close(g.gate)
	}
	g.gate = gate
}

// settle returns once no more than @base goroutines run, or false after
// @limit.  A closed connection's goroutines hold its *tls.Conn until
// they return: the server end's runs the StateClosed hook before it
// does, so a collection right after the hook (a loaded machine preempts
// that goroutine there) finds the server end still reachable, and its
// address is not free for the next connection.
func settle(base int, limit time.Duration) bool {
	deadline := time.Now().Add(limit)
	for runtime.NumGoroutine() > base {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(5 * time.Millisecond)
	}
	return true
}

func main() {
	flag.Parse()
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	e := &ends{closed: map[uint64]chan struct{}{}}
	mux := http.NewServeMux()
	mux.HandleFunc("/v1/chat/completions", chat)
	srv := &http.Server{Handler: mux, ConnState: e.state}
	g := &gated{Listener: ln}
	go func() {
		fmt.Fprintln(os.Stderr, srv.ServeTLS(g, *certFile, *keyFile))
		os.Exit(1)
	}()
	fmt.Printf("listening %d\n", ln.Addr().(*net.TCPAddr).Port)
	if !*self {
		select {}
	}
	runSelf(ln.Addr().String(), e, g)
}

func runSelf(hostport string, e *ends, g *gated) {
	var target uint64 // the address the next client end is to have
	var last net.Conn
	cfg := &tls.Config{ServerName: "api.openai.com", NextProtos: []string{"http/1.1"}}
	dial := func(ctx context.Context, network, _ string) (net.Conn, error) {
		raw, err := net.Dial("tcp", hostport)
		if err != nil {
			return nil, err
		}
		c := tls.Client(raw, cfg)
		// Kept reachable, so that each allocation takes a new slot.
		var keep []*tls.Conn
		for i := 0; target != 0 && addr(c) != target && i < 200000; i++ {
			keep = append(keep, c)
			c = tls.Client(raw, cfg)
		}
		runtime.KeepAlive(keep)
		g.set(nil)
		if err := c.HandshakeContext(ctx); err != nil {
			raw.Close()
			return nil, err
		}
		last = c
		return c, nil
	}
	tr := &http.Transport{DialTLSContext: dial}
	cl := &http.Client{Transport: tr}
	in := bufio.NewReader(os.Stdin)
	call := func(step string) {
		text := fmt.Sprintf("%s %s.", *prefix, step)
		body := fmt.Sprintf(`{"model":"gpt-4o-mini","messages":[{"role":"user","content":%q}]}`, text)
		req, _ := http.NewRequest("POST", "https://api.openai.com/v1/chat/completions",
			bytes.NewReader([]byte(body)))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer sk-test-go-0123456789")
		resp, err := cl.Do(req)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			fmt.Fprintln(os.Stderr, "status", resp.StatusCode)
			os.Exit(1)
		}
	}
	// The goroutines before any connection: this one and Serve's.
	base := runtime.NumGoroutine()
	in.ReadString('\n')
	call("first")
	s1, closed := e.get(0)
	say(map[string]interface{}{"step": "first", "server": s1, "client": addr(last)})
	in.ReadString('\n')
	call("second")
	say(map[string]interface{}{"step": "second"})
	in.ReadString('\n')
	tr.CloseIdleConnections()
	<-closed
	if !settle(base, time.Minute) {
		fmt.Fprintf(os.Stderr, "%d goroutines a minute after both ends closed, %d before\n",
			runtime.NumGoroutine(), base)
		os.Exit(1)
	}
	runtime.GC()
	runtime.GC()
	target = s1
	g.set(make(chan struct{}))
	call("third")
	// The dial ran before the call's request was written.
	say(map[string]interface{}{"step": "reused", "client": addr(last)})
	say(map[string]interface{}{"step": "third"})
}
