package redistest

import (
	"context"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"
)

func TestKillRestartKeepsAcknowledgedWrites(t *testing.T) {
	s := New(t)
	c := s.Client(t)
	ctx := context.Background()
	if err := c.Set(ctx, "k", "v", 0).Err(); err != nil {
		t.Fatal(err)
	}
	if err := s.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	got, err := c.Get(ctx, "k").Result()
	if err != nil || got != "v" {
		t.Fatalf("after kill -9 and restart: got %q, %v; want v", got, err)
	}
	cfg, err := c.ConfigGet(ctx, "appendfsync").Result()
	if err != nil || cfg["appendfsync"] != "always" {
		t.Fatalf("appendfsync = %v (%v), want always", cfg, err)
	}
}

func TestClusterSpreadsSlotsAndSurvivesRestart(t *testing.T) {
	c := NewCluster(t)
	rdb := c.Client(t)
	ctx := context.Background()
	keys := []string{"a", "b", "c", "d", "e", "f", "g", "h"}
	for _, k := range keys {
		if err := rdb.Set(ctx, k, "v-"+k, 0).Err(); err != nil {
			t.Fatal(err)
		}
	}
	holders := map[string]bool{}
	for _, k := range keys {
		slot, err := rdb.ClusterKeySlot(ctx, k).Result()
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range c.Nodes {
			nc := redis.NewClient(&redis.Options{Addr: n.Addr()})
			if got, _ := nc.ClusterCountKeysInSlot(ctx, int(slot)).Result(); got > 0 {
				holders[n.Addr()] = true
			}
			nc.Close()
		}
	}
	if len(holders) < 2 {
		t.Fatalf("keys held by %d node(s); want them spread over the masters", len(holders))
	}
	if err := rdb.MSet(ctx, "a", "1", "b", "2").Err(); err == nil || !strings.Contains(err.Error(), "CROSSSLOT") {
		t.Fatalf("cross-slot MSET: err %v; want CROSSSLOT", err)
	}
	if err := c.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		if got, err := rdb.Get(ctx, k).Result(); err != nil || got != "v-"+k {
			t.Fatalf("after kill -9 of every node: %s = %q, %v", k, got, err)
		}
	}
}

func TestSentinelFailoverKeepsReplicatedWrite(t *testing.T) {
	d := NewSentinel(t)
	rdb := d.Client(t)
	ctx := context.Background()
	if err := rdb.Set(ctx, "k", "v", 0).Err(); err != nil {
		t.Fatal(err)
	}
	// The failover client runs WAIT on the connection that wrote only
	// inside one pipeline.
	pipe := rdb.Pipeline()
	pipe.Set(ctx, "k2", "v2", 0)
	wait := pipe.Do(ctx, "WAIT", 1, 5000)
	if _, err := pipe.Exec(ctx); err != nil {
		t.Fatal(err)
	}
	if n, err := wait.Int(); err != nil || n != 1 {
		t.Fatalf("WAIT 1 = %d, %v; want 1 replica", n, err)
	}
	old := d.Master().Addr()
	took, err := d.Failover(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if d.Master().Addr() == old {
		t.Fatal("master unchanged after failover")
	}
	t.Logf("failover took %v", took)
	for k, want := range map[string]string{"k": "v", "k2": "v2"} {
		got, err := rdb.Get(ctx, k).Result()
		if err != nil || got != want {
			t.Fatalf("after failover %s = %q, %v; want %q", k, got, err, want)
		}
	}
}

func TestTopologyFromEnv(t *testing.T) {
	for _, tt := range []struct{ env, want, err string }{
		{"", Standalone, ""}, {"cluster", ClusterTopology, ""}, {"sentinel", SentinelTopology, ""},
		{"clustre", "", "want standalone, cluster or sentinel"},
	} {
		t.Run("env="+tt.env, func(t *testing.T) {
			t.Setenv(TopologyEnv, tt.env)
			got, err := Topology()
			if got != tt.want || (err == nil) != (tt.err == "") || err != nil && !strings.Contains(err.Error(), tt.err) {
				t.Fatalf("Topology() = %q, %v; want %q, error %q", got, err, tt.want, tt.err)
			}
		})
	}
}
