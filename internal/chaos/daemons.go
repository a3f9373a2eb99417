package chaos

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"text/template"
	"time"

	"github.com/depositd/depositd/internal/devnet/evmnet"
)

// Environment variables the generated configs name for their secrets.
const (
	envToken  = "DEPOSITD_CHAOS_TOKEN"
	envSecret = "DEPOSITD_CHAOS_WEBHOOK_SECRET"
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
    - name: chaos
      scopes: [read, write]
      token_env: ` + envToken + `
lease:
  ttl: {{.LeaseTTL}}
settlement:
  overdue_sweep: 5s
chains:
{{- range .Chains}}
  - name: {{.Name}}
    kind: {{.Kind}}
{{- if .ChainID}}
    chain_id: {{.ChainID}}
{{- end}}
    endpoints:
      - url: {{.URL}}
{{- if .SolidityURL}}
    solidity_endpoints:
      - url: {{.SolidityURL}}
{{- end}}
    poll_interval: {{.Poll}}
    finality:
      policy: {{.Policy}}
      confirmations: {{.Confirmations}}
      max_lag: 100000
    start_block: 1
    batch_size: 50
    tokens:
      - symbol: USDT
        address: "{{.Token}}"
        decimals: {{.Decimals}}
{{- if .Program}}
        program: {{.Program}}
{{- end}}
        min_amount: "1"
{{- end}}
webhooks:
  endpoints:
    - name: receiver
      url: {{.WebhookURL}}
      secret_env: ` + envSecret + `
      allow_private: true
      timeout: 2s
      schedule: [0s, 500ms, 2s, 4s]
`))

type chainCfg struct {
	Name, Kind, URL, SolidityURL, Poll, Policy, Token, Program string
	ChainID, Confirmations                                     uint64
	Decimals                                                   int
}

type cfgParams struct {
	Listen, RedisURL, WebhookURL, LeaseTTL string
	Chains                                 []chainCfg
}

// chainConfigs are the four chains as a depositd config sees them: through
// the fault proxies (EVM, Solana) and the Tron node's own fault points.
func (n *nets) chainConfigs() []chainCfg {
	var out []chainCfg
	confs := map[string]uint64{"ethereum": 2, "bsc": 5}
	for _, e := range n.evm {
		out = append(out, chainCfg{Name: e.name, Kind: "evm", ChainID: evmnet.ChainID, URL: e.proxy.URL(),
			Poll: "200ms", Policy: "finalized", Confirmations: confs[e.name], Token: e.token.Hex(), Decimals: e.decimals})
	}
	out = append(out, chainCfg{Name: "tron", Kind: "tron", URL: "grpc://" + n.tron.node.Addr(),
		SolidityURL: "grpc://" + n.tron.node.SolidityAddr(), Poll: "250ms", Policy: "solidified",
		Confirmations: tronSolidLag, Token: n.tron.usdt, Decimals: 6})
	out = append(out, chainCfg{Name: "solana", Kind: "solana", URL: n.sol.proxy.URL(), Poll: "200ms",
		Policy: "commitment", Confirmations: solFinalLag, Token: n.sol.mint.String(), Decimals: 6, Program: "token"})
	return out
}

// daemon is one depositd process, restarted by its supervisor whenever it
// exits until the campaign stops it.
type daemon struct {
	id      int
	bin     string
	cfg     string
	logPath string
	env     []string

	mu      sync.Mutex
	cmd     *exec.Cmd
	done    chan struct{}
	kills   int
	exits   int // exits the campaign did not cause
	killing bool
}

func newDaemon(id int, bin, dir string, p cfgParams, env []string) (*daemon, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p.Listen = ln.Addr().String()
	ln.Close()
	var b bytes.Buffer
	if err := configTmpl.Execute(&b, p); err != nil {
		return nil, err
	}
	d := &daemon{id: id, bin: bin, env: env,
		cfg: filepath.Join(dir, fmt.Sprintf("depositd-%d.yml", id)), logPath: filepath.Join(dir, fmt.Sprintf("depositd-%d.log", id))}
	return d, os.WriteFile(d.cfg, b.Bytes(), 0o600)
}

func (d *daemon) start() error {
	f, err := os.OpenFile(d.logPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	cmd := exec.Command(d.bin, "run", "-c", d.cfg)
	cmd.Env = append(os.Environ(), d.env...)
	cmd.Stdout, cmd.Stderr = f, f
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		f.Close()
		return fmt.Errorf("start depositd %d: %w", d.id, err)
	}
	done := make(chan struct{})
	d.mu.Lock()
	d.cmd, d.done = cmd, done
	d.mu.Unlock()
	go func() {
		_ = cmd.Wait()
		f.Close()
		d.mu.Lock()
		if !d.killing {
			d.exits++
		}
		d.killing = false
		d.mu.Unlock()
		close(done)
	}()
	return nil
}

// supervise restarts the process after every exit until ctx ends, then
// kills it.
func (d *daemon) supervise(ctx context.Context) error {
	for {
		if err := d.start(); err != nil {
			return err
		}
		d.mu.Lock()
		done := d.done
		d.mu.Unlock()
		select {
		case <-ctx.Done():
			d.kill9(false)
			return nil
		case <-done:
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// kill9 sends SIGKILL and waits for the exit; counted when fault is set.
func (d *daemon) kill9(fault bool) {
	d.mu.Lock()
	cmd, done := d.cmd, d.done
	if cmd == nil {
		d.mu.Unlock()
		return
	}
	select {
	case <-done:
		d.mu.Unlock()
		return
	default:
	}
	d.killing = true
	if fault {
		d.kills++
	}
	d.mu.Unlock()
	_ = cmd.Process.Signal(syscall.SIGKILL)
	<-done
}

func (d *daemon) counts() (kills, exits int) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.kills, d.exits
}

// rss is the process's resident set in bytes (0 when it is not running).
func (d *daemon) rss() int64 {
	d.mu.Lock()
	cmd := d.cmd
	d.mu.Unlock()
	if cmd == nil || cmd.Process == nil {
		return 0
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", cmd.Process.Pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}
