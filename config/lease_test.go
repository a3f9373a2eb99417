package config

import (
	"testing"
	"time"
)

// TestLeaseTTL: the default, an explicit value, and both bounds accepted.
func TestLeaseTTL(t *testing.T) {
	setTestEnv(t)
	for _, tc := range []struct {
		doc  string
		want time.Duration
	}{
		{minimalDoc, 15 * time.Second},
		{minimalDoc + "lease: {ttl: 4s}\n", 4 * time.Second},
		{minimalDoc + "lease: {ttl: 1s}\n", MinLeaseTTL},
		{minimalDoc + "lease: {ttl: 10m}\n", MaxLeaseTTL},
	} {
		c, err := Parse([]byte(tc.doc), "x.yml")
		if err != nil {
			t.Fatalf("%q: %v", tc.doc, err)
		}
		if c.Lease.TTL != tc.want {
			t.Errorf("%q: ttl %s, want %s", tc.doc, c.Lease.TTL, tc.want)
		}
	}
}
