package outbox

import (
	"strings"
	"testing"
)

func TestShardsAreStableAndSpread(t *testing.T) {
	if got := TagOf("acme"); got != Tag(ShardOf("acme")) || !strings.HasPrefix(got, "{s") {
		t.Fatalf("TagOf(acme) = %q", got)
	}
	// The shard of an owner is part of its keys' names: it must never
	// change between releases.
	if got := ShardOf("acme"); got != 15 {
		t.Fatalf("ShardOf(acme) = %d; the key layout changed", got)
	}
	seen := map[int]bool{}
	for i := range 1000 {
		seen[ShardOf("account-"+string(rune('a'+i%26))+string(rune('0'+i%10))+string(rune(i)))] = true
	}
	if len(seen) != Shards {
		t.Fatalf("1000 owners used %d of %d shards", len(seen), Shards)
	}
	streams := Streams()
	if len(streams) != Shards || streams[7] != "{s07}:outbox" {
		t.Fatalf("Streams() = %v", streams)
	}
}
