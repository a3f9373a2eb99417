package ledger

import (
	"context"
	"strings"
	"testing"
	"time"
)

func TestCheckPersistence(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name   string
		config map[string]string
		want   []string // substrings, one per expected warning
	}{
		{"appendonly with fsync always and noeviction", nil, nil},
		{"appendfsync everysec", map[string]string{"appendfsync": "everysec"}, []string{`appendfsync is "everysec"`}},
		{"appendonly off", map[string]string{"appendonly": "no"}, []string{"appendonly is no"}},
		{"evicting policy", map[string]string{"maxmemory-policy": "allkeys-lru"}, []string{`maxmemory-policy is "allkeys-lru"`}},
		{"everything unsafe", map[string]string{"appendonly": "no", "maxmemory-policy": "volatile-lru"},
			[]string{"appendonly is no", `maxmemory-policy is "volatile-lru"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			for k, v := range tt.config {
				if err := e.rdb.ConfigSet(ctx, k, v).Err(); err != nil {
					t.Fatalf("config set %s %s: %v", k, v, err)
				}
			}
			got := CheckPersistence(ctx, e.rdb)
			if len(got) != len(tt.want) {
				t.Fatalf("warnings %q; want %d matching %q", got, len(tt.want), tt.want)
			}
			for i, w := range tt.want {
				if !strings.Contains(got[i], w) || !strings.HasPrefix(got[i], "DANGER") {
					t.Fatalf("warning %q; want DANGER ... %q", got[i], w)
				}
			}
		})
	}

	t.Run("unreachable server", func(t *testing.T) {
		e := newEnv(t)
		e.srv.Kill()
		ctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
		defer cancel()
		got := CheckPersistence(ctx, e.rdb)
		if len(got) != 1 || !strings.Contains(got[0], "cannot read") {
			t.Fatalf("warnings %q; want one about unreadable settings", got)
		}
	})
}

func TestDurabilityWarnings(t *testing.T) {
	tests := []struct {
		name    string
		d       Durability
		warns   int
		waitAOF bool
	}{
		{"fsync always", Durability{AppendOnly: true, AppendFsync: "always", MaxmemoryPolicy: "noeviction"}, 0, false},
		{"everysec without WAITAOF", Durability{AppendOnly: true, AppendFsync: "everysec", MaxmemoryPolicy: "noeviction"}, 1, false},
		{"everysec with WAITAOF (Redis 7.2+)", Durability{AppendOnly: true, AppendFsync: "everysec", MaxmemoryPolicy: "noeviction", WaitAOF: true}, 0, true},
		{"fsync always with WAITAOF needs no wait", Durability{AppendOnly: true, AppendFsync: "always", MaxmemoryPolicy: "noeviction", WaitAOF: true}, 0, false},
		{"no AOF even with WAITAOF", Durability{AppendFsync: "everysec", MaxmemoryPolicy: "noeviction", WaitAOF: true}, 1, false},
		{"eviction", Durability{AppendOnly: true, AppendFsync: "always", MaxmemoryPolicy: "allkeys-lru"}, 1, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.d.Warnings(); len(got) != tt.warns {
				t.Fatalf("Warnings = %q; want %d", got, tt.warns)
			}
			if got := tt.d.UseWaitAOF(); got != tt.waitAOF {
				t.Fatalf("UseWaitAOF = %v; want %v", got, tt.waitAOF)
			}
		})
	}
}

// The test server is Redis 7.0 (Debian 12): it has no WAITAOF. A ledger
// told to use it must fail loudly, and the idempotent retry without it must
// find the step already applied.
func TestWaitAOFOnOldServer(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	d, err := ReadDurability(ctx, e.rdb)
	if err != nil {
		t.Fatal(err)
	}
	if d.WaitAOF {
		t.Skip("server has WAITAOF; this test covers servers without it")
	}
	if !d.AppendOnly || d.AppendFsync != "always" || d.MaxmemoryPolicy != "noeviction" {
		t.Fatalf("redistest durability %+v", d)
	}
	e.open(t, "acme")
	dep := usdt("acme", "0x01", 0, 1_000000)
	_, err = e.l.WithWaitAOF().Credit(ctx, dep)
	if err == nil || !strings.Contains(strings.ToLower(err.Error()), "waitaof") {
		t.Fatalf("Credit with WAITAOF on Redis 7.0 = %v; want an error naming WAITAOF", err)
	}
	c, err := e.l.Credit(ctx, dep)
	if err != nil || c.Applied {
		t.Fatalf("retry without WAITAOF = %+v, %v; want already applied", c, err)
	}
	e.mustVerify(t)
}

// WithDurableAcks leaves the ledger alone when every write is fsynced, and
// also on a server with a lazy fsync but no WAITAOF — where the warnings
// must then say the settings are unsafe, since nothing waits.
func TestWithDurableAcks(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	l, waitAOF, err := WithDurableAcks(ctx, e.rdb, e.l)
	if err != nil || waitAOF || l != e.l {
		t.Fatalf("appendfsync always: WithDurableAcks = %p, %v, %v; want the same ledger, false", l, waitAOF, err)
	}
	if w := CheckPersistence(ctx, e.rdb); len(w) != 0 {
		t.Fatalf("appendfsync always: warnings %v", w)
	}
	if err := e.rdb.ConfigSet(ctx, "appendfsync", "everysec").Err(); err != nil {
		t.Fatal(err)
	}
	d, err := ReadDurability(ctx, e.rdb)
	if err != nil {
		t.Fatal(err)
	}
	_, waitAOF, err = WithDurableAcks(ctx, e.rdb, e.l)
	if err != nil || waitAOF != d.WaitAOF {
		t.Fatalf("appendfsync everysec: waitAOF = %v, %v; server has WAITAOF = %v", waitAOF, err, d.WaitAOF)
	}
	if w := CheckPersistence(ctx, e.rdb); d.WaitAOF == (len(w) != 0) {
		t.Fatalf("appendfsync everysec, WAITAOF %v: warnings %v", d.WaitAOF, w)
	}
}
