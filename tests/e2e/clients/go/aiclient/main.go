// aiclient: chat completion calls over Go's net/http and crypto/tls, for
// the sensor's end-to-end tests (tests/e2e/test_sensor_go.py).
//
// Each call POSTs {base}/v1/chat/completions with the message
// "<prefix> <i>" and prints one line "call <i> <status> <proto>
// <content>" to stdout, sorted by call, so that runs with and without
// the sensor compare byte for byte.  -raw speaks HTTP/1.1 over
// tls.Dial itself, with the handshake (and a deep recursion in its
// verification callback) inside the first (*tls.Conn).Write: the
// goroutine's stack grows and moves while that frame is live.
// GODEBUG=http2client=0 keeps net/http on HTTP/1.1; SSL_CERT_FILE
// gives the test CA.
package main

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strings"
	"sync"
	"time"
)

var (
	base     = flag.String("base", "https://api.openai.com", "API base URL")
	calls    = flag.Int("calls", 1, "calls to make")
	parallel = flag.Int("parallel", 1, "goroutines making them")
	stream   = flag.Bool("stream", false, "ask for a streamed (SSE) answer")
	prefix   = flag.String("msg", "go call", "message prefix")
	depth    = flag.Int("depth", 0, "recursion depth around each call")
	raw      = flag.Bool("raw", false, "HTTP/1.1 over tls.Dial, one connection per call")
	fresh    = flag.Bool("fresh", false, "a new connection per call (no pooling)")
	wait     = flag.Bool("wait", false, "after call 0, print \"ready\" and wait for a line on stdin")
	startup  = flag.Duration("startup", 0, "sleep this long before the first call (a program's startup)")
)

// grow recurses n frames of 1 KiB each, then runs f: the goroutine's
// stack is copied to a larger one on the way down.
func grow(n int, f func() string) string {
	var pad [1024]byte
	if n <= 0 {
		return f()
	}
	pad[n%1024] = byte(n)
	s := grow(n-1, f)
	return s + string(pad[:0])
}

func body(i int) []byte {
	req := map[string]interface{}{
		"model":    "gpt-4o-mini",
		"messages": []map[string]string{{"role": "user", "content": fmt.Sprintf("%s #%d.", *prefix, i)}},
		"stream":   *stream,
	}
	if *stream {
		req["stream_options"] = map[string]bool{"include_usage": true}
	}
	b, _ := json.Marshal(req)
	return b
}

// content returns the assistant text of a JSON or SSE answer.
func content(b []byte) string {
	if !*stream {
		var r struct {
			Choices []struct {
				Message struct{ Content string } `json:"message"`
			} `json:"choices"`
		}
		if json.Unmarshal(b, &r) != nil || len(r.Choices) == 0 {
			return "unparsed:" + strings.ReplaceAll(string(b), "\n", " ")
		}
		return r.Choices[0].Message.Content
	}
	var sb strings.Builder
	for _, line := range strings.Split(string(b), "\n") {
		d := strings.TrimPrefix(line, "data: ")
		if d == line || d == "[DONE]" {
			continue
		}
		var c struct {
			Choices []struct {
				Delta struct{ Content string } `json:"delta"`
			} `json:"choices"`
		}
		if json.Unmarshal([]byte(d), &c) == nil && len(c.Choices) > 0 {
			sb.WriteString(c.Choices[0].Delta.Content)
		}
	}
	return sb.String()
}

func viaHTTP(cl *http.Client, i int) string {
	req, _ := http.NewRequest("POST", *base+"/v1/chat/completions", bytes.NewReader(body(i)))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer sk-test-go-0123456789")
	resp, err := cl.Do(req)
	if err != nil {
		return "error " + err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return fmt.Sprintf("%d %s %s", resp.StatusCode, resp.Proto, content(b))
}

func viaRaw(i int) string {
	u, _ := url.Parse(*base)
	host := u.Host
	if !strings.Contains(host, ":") {
		host += ":443"
	}
	cfg := &tls.Config{
		ServerName: u.Hostname(),
		NextProtos: []string{"http/1.1"},
		// Runs inside the handshake, hence inside the first Write.
		VerifyConnection: func(tls.ConnectionState) error {
			grow(*depth, func() string { return "" })
			return nil
		},
	}
	c, err := tls.Dial("tcp", host, cfg)
	if err != nil {
		return "error " + err.Error()
	}
	defer c.Close()
	b := body(i)
	req := fmt.Sprintf("POST /v1/chat/completions HTTP/1.1\r\nHost: %s\r\n"+
		"Content-Type: application/json\r\nAuthorization: Bearer sk-test-go-0123456789\r\n"+
		"Content-Length: %d\r\nConnection: close\r\n\r\n%s", u.Hostname(), len(b), b)
	if _, err := c.Write([]byte(req)); err != nil {
		return "error " + err.Error()
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		return "error " + err.Error()
	}
	defer resp.Body.Close()
	rb, _ := io.ReadAll(resp.Body)
	return fmt.Sprintf("%d %s %s", resp.StatusCode, resp.Proto, content(rb))
}

func main() {
	flag.Parse()
	time.Sleep(*startup)
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = *parallel
	tr.DisableKeepAlives = *fresh
	cl := &http.Client{Transport: tr}
	out := make([]string, *calls)
	next := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < *parallel; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				i := i
				if i < 0 {
					continue
				}
				out[i] = grow(*depth, func() string {
					if *raw {
						return viaRaw(i)
					}
					return viaHTTP(cl, i)
				})
			}
		}()
	}
	for i := 0; i < *calls; i++ {
		if *wait && i == 1 {
			// Call 0 is done once a worker takes call 1 (parallel 1).
			next <- -1
			fmt.Println("ready")
			bufio.NewReader(os.Stdin).ReadString('\n')
		}
		next <- i
	}
	close(next)
	wg.Wait()
	lines := make([]string, 0, *calls)
	failed := false
	for i, s := range out {
		lines = append(lines, fmt.Sprintf("call %d %s", i, s))
		failed = failed || strings.HasPrefix(s, "error")
	}
	sort.Strings(lines)
	fmt.Println(strings.Join(lines, "\n"))
	if failed {
		os.Exit(1)
	}
}
