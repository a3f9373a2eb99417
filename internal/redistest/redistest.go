// Package redistest starts private redis-server processes for tests and for
// `depositd dev`: one per caller, on a free loopback port, with its own data
// directory, AOF on and appendfsync always. A server can be killed with
// SIGKILL and restarted on the same data, which is how the crash tests prove
// that nothing acknowledged is lost.
package redistest

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// ErrNoRedis is returned when no redis-server binary can be found.
var ErrNoRedis = errors.New("redis-server not found on PATH (install it: apt-get install redis-server)")

// Server is one private redis-server process.
type Server struct {
	Dir  string
	Port int

	mu    sync.Mutex
	cmd   *exec.Cmd
	extra []string // arguments after the persistence settings
	conf  string   // a sentinel's config file; the process runs --sentinel
}

// Start launches a redis-server in dir (created if missing) on a free
// loopback port and waits until it answers PING.
func Start(ctx context.Context, dir string) (*Server, error) {
	return start(ctx, dir, freePort)
}

// start launches a server on a port from pick with extra arguments.
func start(ctx context.Context, dir string, pick func() (int, error), extra ...string) (*Server, error) {
	if _, err := exec.LookPath("redis-server"); err != nil {
		return nil, ErrNoRedis
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	port, err := pick()
	if err != nil {
		return nil, err
	}
	s := &Server{Dir: dir, Port: port, extra: extra}
	if err := s.launch(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

// New starts a server for the test in a temp dir and stops it at cleanup.
// The test fails at once if redis-server is missing.
func New(t testing.TB) *Server {
	t.Helper()
	s, err := Start(context.Background(), t.TempDir())
	if err != nil {
		t.Fatalf("redistest: %v", err)
	}
	t.Cleanup(s.Stop)
	return s
}

// Connect returns Client as a UniversalClient (Deployment).
func (s *Server) Connect(t testing.TB) redis.UniversalClient { return s.Client(t) }

// Client returns a new go-redis client for the server, closed at cleanup.
func (s *Server) Client(t testing.TB) *redis.Client {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: s.Addr()})
	t.Cleanup(func() { c.Close() })
	return c
}

// Addr is host:port of the server.
func (s *Server) Addr() string { return "127.0.0.1:" + strconv.Itoa(s.Port) }

// URL is the redis:// URL of the server.
func (s *Server) URL() string { return "redis://" + s.Addr() + "/0" }

func (s *Server) launch(ctx context.Context) error {
	args := []string{
		"--port", strconv.Itoa(s.Port),
		"--bind", "127.0.0.1",
		"--dir", s.Dir,
		"--appendonly", "yes",
		"--appendfsync", "always",
		"--save", "",
		"--maxmemory-policy", "noeviction",
		"--daemonize", "no",
		"--logfile", filepath.Join(s.Dir, "redis.log"),
	}
	s.mu.Lock()
	args = append(args, s.extra...)
	if s.conf != "" {
		args = []string{s.conf, "--sentinel"}
	}
	s.mu.Unlock()
	cmd := exec.Command("redis-server", args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start redis-server: %w", err)
	}
	s.mu.Lock()
	s.cmd = cmd
	s.mu.Unlock()
	return s.waitReady(ctx)
}

func (s *Server) waitReady(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	for {
		if pingOK(s.Addr()) {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("redis-server on %s not ready: %w (log: %s)", s.Addr(), ctx.Err(), filepath.Join(s.Dir, "redis.log"))
		case <-t.C:
		}
	}
}

// pingOK speaks RESP directly so that readiness does not depend on client
// retry settings; "-LOADING" while the AOF replays is not ready.
func pingOK(addr string) bool {
	c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
	if err != nil {
		return false
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(time.Second))
	if _, err := c.Write([]byte("PING\r\n")); err != nil {
		return false
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	return err == nil && line == "+PONG\r\n"
}

// Kill sends SIGKILL to the server and waits for it to die: no shutdown
// save, no flush beyond what appendfsync already did.
func (s *Server) Kill() {
	s.mu.Lock()
	cmd := s.cmd
	s.cmd = nil
	s.mu.Unlock()
	if cmd == nil || cmd.Process == nil {
		return
	}
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
}

func (s *Server) running() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cmd != nil
}

// Pause stops the process with SIGSTOP: its connections stay open but it
// answers nothing (a stalled replica) until Resume.
func (s *Server) Pause() error { return s.signal(syscall.SIGSTOP) }

// Resume continues a paused process with SIGCONT.
func (s *Server) Resume() error { return s.signal(syscall.SIGCONT) }

func (s *Server) signal(sig syscall.Signal) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil || s.cmd.Process == nil {
		return errors.New("server not running")
	}
	return s.cmd.Process.Signal(sig)
}

// Restart starts the server again on the same port and data directory.
func (s *Server) Restart(ctx context.Context) error {
	s.Kill()
	return s.launch(ctx)
}

// Stop kills the server. Tests own their temp dir; nothing else to clean.
func (s *Server) Stop() { s.Kill() }

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
