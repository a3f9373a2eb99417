package redistest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// MasterName is the name the test sentinels monitor their master under.
const MasterName = "depositd"

// sentinelDownAfter is how long a master must be unreachable before a
// sentinel calls it down; short, so that failover tests stay short.
const sentinelDownAfter = 1000 * time.Millisecond

// Sentinel is a private Sentinel deployment: a master, one replica (both
// with AOF on and appendfsync always) and three sentinels with quorum 2.
type Sentinel struct {
	Sentinels []*Server

	mu      sync.Mutex
	master  *Server
	replica *Server
}

// StartSentinel launches the master, the replica and three sentinels under
// dir and waits until the replica is in sync and every sentinel knows the
// replica and the other two sentinels. On error everything started is
// stopped.
func StartSentinel(ctx context.Context, dir string) (*Sentinel, error) {
	d := &Sentinel{}
	var err error
	if d.master, err = start(ctx, filepath.Join(dir, "a"), freePort, "--repl-diskless-sync-delay", "0"); err != nil {
		return nil, err
	}
	if d.replica, err = start(ctx, filepath.Join(dir, "b"), freePort, d.replicaArgs(d.master)...); err != nil {
		d.Stop()
		return nil, err
	}
	for i := range 3 {
		s, err := startSentinel(ctx, filepath.Join(dir, "sentinel"+strconv.Itoa(i)), d.master)
		if err != nil {
			d.Stop()
			return nil, err
		}
		d.Sentinels = append(d.Sentinels, s)
	}
	if err := d.waitReady(ctx, false); err != nil {
		d.Stop()
		return nil, err
	}
	return d, nil
}

// NewSentinel starts a Sentinel deployment for the test in a temp dir and
// stops it at cleanup. The test fails at once if it cannot start.
func NewSentinel(t testing.TB) *Sentinel {
	t.Helper()
	d, err := StartSentinel(context.Background(), t.TempDir())
	if err != nil {
		t.Fatalf("redistest: sentinel: %v", err)
	}
	t.Cleanup(d.Stop)
	return d
}

// replicaArgs are the arguments of a replica of m; every data node syncs a
// new replica at once (no diskless sync delay), as either may become master.
func (d *Sentinel) replicaArgs(m *Server) []string {
	return []string{"--repl-diskless-sync-delay", "0", "--replicaof", "127.0.0.1", strconv.Itoa(m.Port)}
}

func startSentinel(ctx context.Context, dir string, master *Server) (*Server, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	conf := filepath.Join(dir, "sentinel.conf")
	txt := fmt.Sprintf(`port %d
bind 127.0.0.1
dir %s
logfile %s
sentinel monitor %s 127.0.0.1 %d 2
sentinel down-after-milliseconds %s %d
sentinel failover-timeout %s 10000
sentinel parallel-syncs %s 1
`, port, dir, filepath.Join(dir, "sentinel.log"), MasterName, master.Port,
		MasterName, sentinelDownAfter.Milliseconds(), MasterName, MasterName)
	if err := os.WriteFile(conf, []byte(txt), 0o600); err != nil {
		return nil, err
	}
	s := &Server{Dir: dir, Port: port, conf: conf}
	if err := s.launch(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

// Addrs are the sentinels' host:port.
func (d *Sentinel) Addrs() []string {
	out := make([]string, len(d.Sentinels))
	for i, s := range d.Sentinels {
		out[i] = s.Addr()
	}
	return out
}

// Master is the server that is master now (after a Failover, the former
// replica).
func (d *Sentinel) Master() *Server {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.master
}

// Replica is the replica (after a Failover, the killed former master).
func (d *Sentinel) Replica() *Server {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.replica
}

// Client returns a new failover client, closed at cleanup.
func (d *Sentinel) Client(t testing.TB) *redis.Client {
	t.Helper()
	c := redis.NewFailoverClient(&redis.FailoverOptions{MasterName: MasterName, SentinelAddrs: d.Addrs(), PoolSize: clientPool})
	t.Cleanup(func() { c.Close() })
	return c
}

// Connect returns Client as a UniversalClient (Deployment).
func (d *Sentinel) Connect(t testing.TB) redis.UniversalClient { return d.Client(t) }

// Failover kills the master with SIGKILL and waits until the sentinels
// have promoted the replica; it returns the time from the kill until every
// sentinel names the new master and the new master reports role:master.
// The killed server stays down until Rejoin.
func (d *Sentinel) Failover(ctx context.Context) (time.Duration, error) {
	d.mu.Lock()
	old, next := d.master, d.replica
	d.mu.Unlock()
	if !next.running() {
		return 0, errors.New("no running replica to promote")
	}
	// A failover needs a quorum of sentinels that know one another.
	if err := d.waitReady(ctx, true); err != nil {
		return 0, err
	}
	begin := time.Now()
	old.Kill()
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for !d.promoted(ctx, next) {
		select {
		case <-ctx.Done():
			return 0, fmt.Errorf("replica %s not promoted: %w", next.Addr(), ctx.Err())
		case <-tick.C:
		}
	}
	took := time.Since(begin)
	d.mu.Lock()
	d.master, d.replica = next, old
	d.mu.Unlock()
	return took, nil
}

// Rejoin starts the server a Failover killed again on its data, as a
// replica of the new master, and waits until it is in sync and the
// sentinels know it.
func (d *Sentinel) Rejoin(ctx context.Context) error {
	d.mu.Lock()
	m, r := d.master, d.replica
	d.mu.Unlock()
	r.mu.Lock()
	r.extra = d.replicaArgs(m)
	r.mu.Unlock()
	if err := r.launch(ctx); err != nil {
		return err
	}
	return d.waitReady(ctx, false)
}

func (d *Sentinel) promoted(ctx context.Context, s *Server) bool {
	for _, sn := range d.Sentinels {
		c := redis.NewSentinelClient(&redis.Options{Addr: sn.Addr(), MaxRetries: -1})
		addr, err := c.GetMasterAddrByName(ctx, MasterName).Result()
		c.Close()
		if err != nil || len(addr) != 2 || addr[1] != strconv.Itoa(s.Port) {
			return false
		}
	}
	info, err := infoOf(ctx, s.Addr(), "INFO", "replication")
	return err == nil && info["role"] == "master"
}

// Kill sends SIGKILL to the master and the replica.
func (d *Sentinel) Kill() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.master.Kill()
	d.replica.Kill()
}

// Restart kills the master and the replica with SIGKILL and starts them
// again on their data, the master first, so that the sentinels see the
// same master come back rather than fail over.
func (d *Sentinel) Restart(ctx context.Context) error {
	d.Kill()
	d.mu.Lock()
	m, r := d.master, d.replica
	d.mu.Unlock()
	if err := m.launch(ctx); err != nil {
		return err
	}
	r.mu.Lock()
	r.extra = d.replicaArgs(m)
	r.mu.Unlock()
	if err := r.launch(ctx); err != nil {
		return err
	}
	return d.waitReady(ctx, false)
}

// Stop kills every process of the deployment.
func (d *Sentinel) Stop() {
	d.Kill()
	for _, s := range d.Sentinels {
		s.Kill()
	}
}

// waitReady waits until the replica's link is up and every sentinel sees
// the master and the replica and, with peers, its two peers: only then can
// a failover win a quorum. Sentinels find one another through hello
// messages every two seconds, so only a failover waits for that.
func (d *Sentinel) waitReady(ctx context.Context, peers bool) error {
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		err := d.ready(ctx, peers)
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("sentinel deployment not ready: %v", err)
		case <-tick.C:
		}
	}
}

func (d *Sentinel) ready(ctx context.Context, needPeers bool) error {
	d.mu.Lock()
	r := d.replica
	d.mu.Unlock()
	info, err := infoOf(ctx, r.Addr(), "INFO", "replication")
	if err != nil || info["master_link_status"] != "up" {
		return fmt.Errorf("replica %s link not up (%v)", r.Addr(), err)
	}
	for _, sn := range d.Sentinels {
		c := redis.NewSentinelClient(&redis.Options{Addr: sn.Addr(), MaxRetries: -1})
		reps, err1 := c.Replicas(ctx, MasterName).Result()
		peers, err2 := c.Sentinels(ctx, MasterName).Result()
		c.Close()
		if err := errors.Join(err1, err2); err != nil {
			return fmt.Errorf("sentinel %s: %w", sn.Addr(), err)
		}
		if len(reps) < 1 || needPeers && len(peers) < len(d.Sentinels)-1 {
			return fmt.Errorf("sentinel %s knows %d replicas and %d peers", sn.Addr(), len(reps), len(peers))
		}
	}
	return nil
}
