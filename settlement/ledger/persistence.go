package ledger

import (
	"context"
	"fmt"
	"sort"
	"sync"

	"github.com/redis/go-redis/v9"
)

// Durability is what a Redis server promises about acknowledged writes.
type Durability struct {
	AppendOnly      bool   // appendonly yes
	AppendFsync     string // always | everysec | no
	MaxmemoryPolicy string // noeviction is the only safe one
	WaitAOF         bool   // the server has WAITAOF (Redis >= 7.2)
}

// ReadDurability reads the server's persistence settings.
func ReadDurability(ctx context.Context, rdb redis.UniversalClient) (Durability, error) {
	cfg, err := rdb.ConfigGet(ctx, "*").Result()
	if err != nil {
		return Durability{}, fmt.Errorf("config get: %w", err)
	}
	d := Durability{
		AppendOnly:      cfg["appendonly"] == "yes",
		AppendFsync:     cfg["appendfsync"],
		MaxmemoryPolicy: cfg["maxmemory-policy"],
	}
	info, err := rdb.Do(ctx, "COMMAND", "INFO", "WAITAOF").Slice()
	if err != nil {
		return Durability{}, fmt.Errorf("command info waitaof: %w", err)
	}
	d.WaitAOF = len(info) == 1 && info[0] != nil
	return d, nil
}

// UseWaitAOF reports whether the ledger should run WithWaitAOF on this
// server: the AOF is on but not fsynced on every write, and WAITAOF exists.
func (d Durability) UseWaitAOF() bool {
	return d.AppendOnly && d.AppendFsync != "always" && d.WaitAOF
}

// Warnings lists every way the server can lose or evict acknowledged
// ledger writes; none means the settings are safe. With appendfsync other
// than always it only stays quiet when WAITAOF is available, on the
// understanding that the ledger then runs WithWaitAOF (see UseWaitAOF).
func (d Durability) Warnings() []string {
	var w []string
	if !d.AppendOnly {
		w = append(w, "DANGER: redis appendonly is no: a crash or restart loses every acknowledged ledger write since the last snapshot; set appendonly yes")
	} else if d.AppendFsync != "always" && !d.WaitAOF {
		w = append(w, fmt.Sprintf("DANGER: redis appendfsync is %q and WAITAOF is unavailable (Redis < 7.2): a crash can lose up to a second of acknowledged credits; set appendfsync always", d.AppendFsync))
	}
	if d.MaxmemoryPolicy != "noeviction" {
		w = append(w, fmt.Sprintf("DANGER: redis maxmemory-policy is %q: ledger keys can be evicted under memory pressure; set maxmemory-policy noeviction", d.MaxmemoryPolicy))
	}
	return w
}

// CheckPersistence returns loud warnings when the server can lose
// acknowledged writes (see Durability.Warnings). Settings that cannot be
// read are themselves a warning. On a Cluster client every node is read,
// and each warning names its node.
func CheckPersistence(ctx context.Context, rdb redis.UniversalClient) []string {
	cc, ok := rdb.(*redis.ClusterClient)
	if !ok {
		return checkNode(ctx, rdb, false)
	}
	var mu sync.Mutex
	var out []string
	err := cc.ForEachShard(ctx, func(ctx context.Context, node *redis.Client) error {
		w := checkNode(ctx, node, true)
		mu.Lock()
		defer mu.Unlock()
		for _, s := range w {
			out = append(out, s+" (node "+node.Options().Addr+")")
		}
		return nil
	})
	if err != nil {
		out = append(out, fmt.Sprintf("DANGER: cannot read the cluster's nodes (%v): assume acknowledged ledger writes can be lost", err))
	}
	sort.Strings(out)
	return out
}

// checkNode reads one node's settings. On a Cluster the ledger cannot run
// WAITAOF (it must run on the connection that wrote), so there WAITAOF
// does not make a lazy fsync safe.
func checkNode(ctx context.Context, rdb redis.UniversalClient, cluster bool) []string {
	d, err := ReadDurability(ctx, rdb)
	if err != nil {
		return []string{fmt.Sprintf("DANGER: cannot read redis persistence settings (%v): assume acknowledged ledger writes can be lost", err)}
	}
	if cluster {
		d.WaitAOF = false
	}
	return d.Warnings()
}

// WithDurableAcks returns l unchanged when the server fsyncs every write,
// and l.WithWaitAOF() when its AOF is lazy but WAITAOF exists (Redis >=
// 7.2, not Cluster), so that a step is acknowledged only once it is on
// disk. The second result says whether WAITAOF is in use.
func WithDurableAcks(ctx context.Context, rdb redis.UniversalClient, l *Ledger) (*Ledger, bool, error) {
	if _, cluster := rdb.(*redis.ClusterClient); cluster {
		return l, false, nil
	}
	d, err := ReadDurability(ctx, rdb)
	if err != nil {
		return nil, false, err
	}
	if d.UseWaitAOF() {
		return l.WithWaitAOF(), true, nil
	}
	return l, false, nil
}
