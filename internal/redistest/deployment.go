package redistest

import (
	"context"
	"fmt"
	"os"
	"testing"

	"github.com/redis/go-redis/v9"
)

// TopologyEnv names the environment variable that picks the topology
// NewDeployment starts: standalone (the default), cluster or sentinel.
// `make test` runs the ledger and watcher suites once per topology.
const TopologyEnv = "DEPOSITD_TEST_REDIS"

// Topologies NewDeployment can start.
const (
	Standalone       = "standalone"
	ClusterTopology  = "cluster"
	SentinelTopology = "sentinel"
)

// Deployment is a running private Redis of any topology. Suites that take
// their Redis from NewDeployment run unchanged on each.
type Deployment interface {
	// Connect returns a new client of the topology, closed at cleanup.
	Connect(t testing.TB) redis.UniversalClient
	// Kill sends SIGKILL to every data node.
	Kill()
	// Restart kills every data node and starts it again on its data.
	Restart(ctx context.Context) error
}

var (
	_ Deployment = (*Server)(nil)
	_ Deployment = (*Cluster)(nil)
	_ Deployment = (*Sentinel)(nil)
)

// Topology returns the topology TopologyEnv selects; an unknown value is an
// error rather than a silent fallback.
func Topology() (string, error) {
	switch v := os.Getenv(TopologyEnv); v {
	case "", Standalone:
		return Standalone, nil
	case ClusterTopology, SentinelTopology:
		return v, nil
	default:
		return "", fmt.Errorf("%s=%q: want standalone, cluster or sentinel", TopologyEnv, v)
	}
}

// NewDeployment starts the topology TopologyEnv selects for the test and
// stops it at cleanup.
func NewDeployment(t testing.TB) Deployment {
	t.Helper()
	topo, err := Topology()
	if err != nil {
		t.Fatalf("redistest: %v", err)
	}
	switch topo {
	case ClusterTopology:
		return NewCluster(t)
	case SentinelTopology:
		return NewSentinel(t)
	default:
		return New(t)
	}
}

// NewClient starts the selected topology for the test and returns a client
// of it; both end at cleanup.
func NewClient(t testing.TB) redis.UniversalClient {
	t.Helper()
	return NewDeployment(t).Connect(t)
}
