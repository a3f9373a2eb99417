package redistest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// clusterMasters is the size of the test cluster: three masters, the
// smallest Redis Cluster redis-cli creates, no replicas.
const clusterMasters = 3

// clientPool is the connection pool of Cluster and Sentinel clients (per
// node): room for the webhook dispatcher's blocking reader per outbox
// shard plus its workers, as the daemon's own pool has.
const clientPool = 128

// Cluster is a private Redis Cluster of three masters, each a Server with
// its own data directory, AOF on and appendfsync always.
type Cluster struct {
	Nodes []*Server
}

// StartCluster launches three cluster-enabled servers under dir, joins them
// with `redis-cli --cluster create` and waits until every node reports
// cluster_state:ok. On error every node started is stopped.
func StartCluster(ctx context.Context, dir string) (*Cluster, error) {
	if _, err := exec.LookPath("redis-cli"); err != nil {
		return nil, errors.New("redis-cli not found on PATH (install it: apt-get install redis-tools)")
	}
	c := &Cluster{}
	for i := range clusterMasters {
		s, err := start(ctx, filepath.Join(dir, "node"+strconv.Itoa(i)), freeClusterPort,
			"--cluster-enabled", "yes",
			"--cluster-config-file", "nodes.conf",
			"--cluster-node-timeout", "2000")
		if err != nil {
			c.Stop()
			return nil, err
		}
		c.Nodes = append(c.Nodes, s)
	}
	args := []string{"--cluster", "create"}
	for _, s := range c.Nodes {
		args = append(args, s.Addr())
	}
	args = append(args, "--cluster-replicas", "0", "--cluster-yes")
	if out, err := exec.CommandContext(ctx, "redis-cli", args...).CombinedOutput(); err != nil {
		c.Stop()
		return nil, fmt.Errorf("redis-cli --cluster create: %w: %s", err, out)
	}
	if err := c.waitOK(ctx); err != nil {
		c.Stop()
		return nil, err
	}
	return c, nil
}

// NewCluster starts a cluster for the test in a temp dir and stops it at
// cleanup. The test fails at once if it cannot start.
func NewCluster(t testing.TB) *Cluster {
	t.Helper()
	c, err := StartCluster(context.Background(), t.TempDir())
	if err != nil {
		t.Fatalf("redistest: cluster: %v", err)
	}
	t.Cleanup(c.Stop)
	return c
}

// Addrs are the nodes' host:port, the client's seed list.
func (c *Cluster) Addrs() []string {
	out := make([]string, len(c.Nodes))
	for i, s := range c.Nodes {
		out[i] = s.Addr()
	}
	return out
}

// Client returns a new cluster client, closed at cleanup.
func (c *Cluster) Client(t testing.TB) *redis.ClusterClient {
	t.Helper()
	cc := redis.NewClusterClient(&redis.ClusterOptions{Addrs: c.Addrs(), PoolSize: clientPool})
	t.Cleanup(func() { cc.Close() })
	return cc
}

// Connect returns Client as a UniversalClient (Deployment).
func (c *Cluster) Connect(t testing.TB) redis.UniversalClient { return c.Client(t) }

// Kill sends SIGKILL to every node.
func (c *Cluster) Kill() {
	for _, s := range c.Nodes {
		s.Kill()
	}
}

// Restart kills every node with SIGKILL, starts each again on its port and
// data (AOF and nodes.conf) and waits for cluster_state:ok.
func (c *Cluster) Restart(ctx context.Context) error {
	c.Kill()
	for _, s := range c.Nodes {
		if err := s.launch(ctx); err != nil {
			return err
		}
	}
	return c.waitOK(ctx)
}

// Stop kills every node.
func (c *Cluster) Stop() { c.Kill() }

// waitOK polls CLUSTER INFO on every node until all say cluster_state:ok
// and know every slot.
func (c *Cluster) waitOK(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	t := time.NewTicker(50 * time.Millisecond)
	defer t.Stop()
	for {
		bad := ""
		for _, s := range c.Nodes {
			info, err := infoOf(ctx, s.Addr(), "CLUSTER", "INFO")
			if err != nil || info["cluster_state"] != "ok" || info["cluster_slots_ok"] != "16384" {
				bad = s.Addr()
				break
			}
		}
		if bad == "" {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("cluster node %s not ok: %w", bad, ctx.Err())
		case <-t.C:
		}
	}
}

// infoOf runs an INFO-style command (key:value lines) on one node.
func infoOf(ctx context.Context, addr string, cmd ...any) (map[string]string, error) {
	c := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1, DialTimeout: time.Second})
	defer c.Close()
	txt, err := c.Do(ctx, cmd...).Text()
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, line := range strings.Split(txt, "\n") {
		if k, v, ok := strings.Cut(strings.TrimSpace(line), ":"); ok {
			out[k] = v
		}
	}
	return out, nil
}

// freeClusterPort returns a free port whose cluster bus port (+10000) is
// free too.
func freeClusterPort() (int, error) {
	for range 100 {
		p, err := freePort()
		if err != nil {
			return 0, err
		}
		if p+10000 > 65535 {
			continue
		}
		l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(p+10000))
		if err != nil {
			continue
		}
		l.Close()
		return p, nil
	}
	return 0, errors.New("no free port pair for a cluster node")
}
