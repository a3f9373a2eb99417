package scaleout

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"text/template"
	"time"
)

// Secrets the generated configs name, and their values.
const (
	envToken      = "DEPOSITD_SCALEOUT_TOKEN"
	envSecret     = "DEPOSITD_SCALEOUT_WEBHOOK_SECRET"
	apiToken      = "scaleout-token-0123456789"
	webhookSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
)

var configTmpl = template.Must(template.New("cfg").Parse(`mode: production
listen: {{.Listen}}
log:
  level: info
  format: json
redis:
  url: {{.RedisURL}}
api:
  tokens:
    - name: scaleout
      scopes: [read, write]
      token_env: ` + envToken + `
lease:
  ttl: {{.TTL}}
chains:
  - name: ethereum
    kind: evm
    chain_id: {{.ChainID}}
    endpoints:
      - url: {{.RPC}}
    poll_interval: 100ms
    finality:
      policy: confirmations
      confirmations: {{.Confirmations}}
      max_lag: 100000
    start_block: 1
    batch_size: 20
    tokens:
      - symbol: USDT
        address: "{{.Token}}"
        decimals: 6
        min_amount: "0.01"
webhooks:
  endpoints:
    - name: receiver
      url: {{.WebhookURL}}
      secret_env: ` + envSecret + `
      allow_private: true
      timeout: 2s
      schedule: [0s, 500ms, 1s, 2s, 4s, 8s]
`))

type cfgParams struct {
	Listen, RedisURL, RPC, Token, TTL, WebhookURL string
	ChainID, Confirmations                        uint64
}

// proc is one depositd process slot: restarted after every kill, so the
// test always runs the same number of processes.
type proc struct {
	id        int
	listen    string
	bin, cfg  string
	logPath   string
	mu        sync.Mutex
	cmd       *exec.Cmd
	done      chan struct{}
	restarted int
}

func newProc(t *testing.T, id int, bin, dir string, p cfgParams) *proc {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p.Listen = ln.Addr().String()
	ln.Close()
	var b bytes.Buffer
	if err := configTmpl.Execute(&b, p); err != nil {
		t.Fatal(err)
	}
	pr := &proc{id: id, listen: p.Listen, bin: bin, cfg: filepath.Join(dir, fmt.Sprintf("depositd-%d.yml", id)),
		logPath: filepath.Join(dir, fmt.Sprintf("depositd-%d.log", id))}
	if err := os.WriteFile(pr.cfg, b.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return pr
}

func (p *proc) start() error {
	f, err := os.OpenFile(p.logPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	cmd := exec.Command(p.bin, "run", "-c", p.cfg)
	cmd.Env = append(os.Environ(), envToken+"="+apiToken, envSecret+"="+webhookSecret)
	cmd.Stdout, cmd.Stderr = f, f
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		f.Close()
		return fmt.Errorf("start depositd %d: %w", p.id, err)
	}
	done := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		f.Close()
		close(done)
	}()
	p.mu.Lock()
	p.cmd, p.done = cmd, done
	p.mu.Unlock()
	return nil
}

// supervise keeps the slot's process running until ctx ends, then kills it.
func (p *proc) supervise(ctx context.Context) error {
	for {
		if err := p.start(); err != nil {
			return err
		}
		p.mu.Lock()
		done := p.done
		p.mu.Unlock()
		select {
		case <-ctx.Done():
			p.kill9()
			return nil
		case <-done:
		}
		p.mu.Lock()
		p.restarted++
		p.mu.Unlock()
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func (p *proc) pid() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil || p.cmd.Process == nil {
		return 0
	}
	return p.cmd.Process.Pid
}

// signal sends sig to the running process.
func (p *proc) signal(sig syscall.Signal) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.cmd.Process.Signal(sig)
}

// logged reports whether the slot's log has a line with every fragment.
func (p *proc) logged(fragments ...string) bool {
	b, err := os.ReadFile(p.logPath)
	if err != nil {
		return false
	}
	for _, line := range strings.Split(string(b), "\n") {
		ok := true
		for _, f := range fragments {
			ok = ok && strings.Contains(line, f)
		}
		if ok {
			return true
		}
	}
	return false
}

// kill9 sends SIGKILL to the running process and waits for its exit.
func (p *proc) kill9() {
	p.mu.Lock()
	cmd, done := p.cmd, p.done
	p.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Signal(syscall.SIGKILL)
	<-done
}
