package daemon

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/depositd/depositd/config"
	"github.com/depositd/depositd/internal/redistest"
	"github.com/depositd/depositd/settlement/ledger"
)

// TestNewRedisTopologies builds the client of each configured topology
// against a real deployment and runs a ledger step through it.
func TestNewRedisTopologies(t *testing.T) {
	standalone := redistest.New(t)
	sentinel := redistest.NewSentinel(t)
	cluster := redistest.NewCluster(t)
	tests := []struct {
		name string
		cfg  config.Redis
	}{
		{"standalone", config.Redis{URL: config.Secret(standalone.URL())}},
		{"sentinel", config.Redis{Sentinel: &config.Sentinel{Master: redistest.MasterName, Addrs: sentinel.Addrs(),
			WaitReplicas: 1, WaitTimeout: 5 * time.Second}}},
		{"cluster", config.Redis{Cluster: &config.Cluster{Addrs: cluster.Addrs()[:1]}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			rdb, err := NewRedis(tt.cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer rdb.Close()
			if err := ping(ctx, rdb); err != nil {
				t.Fatal(err)
			}
			if w := ledger.CheckPersistence(ctx, rdb); len(w) != 0 {
				t.Fatalf("persistence warnings on the test deployment: %q", w)
			}
			l, warns := replicated(ledger.New(rdb, time.Now), tt.cfg)
			if len(warns) != 0 {
				t.Fatalf("warnings %q", warns)
			}
			for _, id := range []ledger.AccountID{"acme", "initech", "umbrella"} {
				if err := l.CreateAccount(ctx, ledger.Account{ID: id}); err != nil {
					t.Fatalf("create %s: %v", id, err)
				}
			}
			ids, err := l.Accounts(ctx)
			if err != nil || len(ids) != 3 {
				t.Fatalf("accounts %v, %v", ids, err)
			}
		})
	}
}

func TestReplicatedWarnsWithoutWait(t *testing.T) {
	l := ledger.New(nil, time.Now)
	_, warns := replicated(l, config.Redis{Sentinel: &config.Sentinel{Master: "m", WaitReplicas: 0, WaitTimeout: time.Second}})
	if len(warns) != 1 || !strings.Contains(warns[0], "wait_replicas is 0") {
		t.Fatalf("warnings %q; want one about wait_replicas 0", warns)
	}
	if got, _ := replicated(l, config.Redis{URL: "redis://127.0.0.1:1/0"}); got != l {
		t.Fatal("standalone: ledger changed")
	}
}

// TestSentinelReadTimeoutOutlastsWait: a WAIT that blocks for wait_timeout
// must not be cut off by the client's read timeout.
func TestSentinelReadTimeoutOutlastsWait(t *testing.T) {
	rdb, err := NewRedis(config.Redis{Sentinel: &config.Sentinel{Master: "m", Addrs: []string{"127.0.0.1:1"},
		WaitReplicas: 1, WaitTimeout: 10 * time.Second}})
	if err != nil {
		t.Fatal(err)
	}
	defer rdb.Close()
	c, ok := rdb.(*redis.Client)
	if !ok {
		t.Fatalf("sentinel client is %T; want the failover *redis.Client", rdb)
	}
	if rt := c.Options().ReadTimeout; rt <= 10*time.Second {
		t.Fatalf("read timeout %v; want more than wait_timeout 10s", rt)
	}
}
