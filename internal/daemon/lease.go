package daemon

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"strings"

	"github.com/depositd/depositd/config"
	"github.com/depositd/depositd/internal/lease"
	"github.com/depositd/depositd/watchers"
)

// leases builds one scan lease per chain, in ws.watchers' order: each
// chain's watcher runs only while this process holds its lease, with the
// term's fencing token, so several processes can share one Redis.
func (d *Daemon) leases(cfg *config.Config, ws *chainSet, log *slog.Logger) ([]*lease.Lease, error) {
	m, err := lease.NewMetrics(d.Registry)
	if err != nil {
		return nil, err
	}
	id, err := holderID()
	if err != nil {
		return nil, err
	}
	d.Holder = id
	out := make([]*lease.Lease, len(ws.names))
	for i, name := range ws.names {
		if out[i], err = lease.New(d.Redis, lease.Config{
			Name: name, Holder: id, TTL: cfg.Lease.TTL, Fences: watchers.FenceKeys(name),
			Logger: log.With("part", "lease"), Metrics: m,
		}); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// holderID names this process among those sharing the Redis:
// host, pid and a random suffix (a restarted pid is another holder).
func holderID() (string, error) {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "unknown"
	}
	var b [4]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("lease holder id: %w", err)
	}
	host = strings.NewReplacer(" ", "_", "{", "_", "}", "_").Replace(host)
	return fmt.Sprintf("%s/%d/%s", host, os.Getpid(), hex.EncodeToString(b[:])), nil
}
