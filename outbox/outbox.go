// Package outbox defines the transactional outbox: the Redis streams every
// announced fact is appended to (in the same atomic step as the fact itself)
// and that the webhook dispatcher consumes.
//
// Keys are sharded so that every multi-key script touches one Redis Cluster
// slot: an account's keys all carry the hash tag of its shard, and each shard
// has its own outbox stream.
package outbox

import (
	"fmt"
	"hash/fnv"
	"time"
)

// Shards is the fixed number of key shards. Changing it re-homes every
// account's keys, so it is a constant, not a setting.
const Shards = 16

// Event types announced to webhook consumers.
const (
	DepositSeen            = "deposit.seen"
	DepositCredited        = "deposit.credited"
	DepositOrphaned        = "deposit.orphaned"
	DepositReversed        = "deposit.reversed"
	StatementIssued        = "statement.issued"
	StatementPaid          = "statement.paid"
	StatementPartiallyPaid = "statement.partially_paid"
	StatementOverdue       = "statement.overdue"
	BalanceLow             = "balance.low"
	CreditRecorded         = "credit.recorded"
	// StatementUpstreamChanged: the cloud's bill for an issued statement
	// changed; the statement is kept as issued, an operator decides.
	StatementUpstreamChanged = "statement.upstream_changed"
)

// Types lists every event type, for config validation of endpoint filters.
var Types = []string{
	DepositSeen, DepositCredited, DepositOrphaned, DepositReversed,
	StatementIssued, StatementPaid, StatementPartiallyPaid, StatementOverdue,
	BalanceLow, CreditRecorded, StatementUpstreamChanged,
}

// Stream fields of one outbox entry. The entry's stream id is not the event
// id: the event id is chosen by the writer ("evt_" + a stable suffix derived
// from the idempotency key) so that a re-run writes the same id.
const (
	FieldID        = "id"
	FieldType      = "type"
	FieldCreatedAt = "created_at" // RFC 3339 with nanoseconds, UTC
	FieldData      = "data"       // JSON object
)

// Event is one announced fact.
type Event struct {
	ID        string
	Type      string
	CreatedAt time.Time
	Data      []byte // JSON object
}

// ShardOf returns the shard number of a key owner (an account id, or a chain
// name for chain-scoped events).
func ShardOf(owner string) int {
	h := fnv.New32a()
	h.Write([]byte(owner))
	return int(h.Sum32() % Shards)
}

// Tag returns the Redis Cluster hash tag of a shard, e.g. "{s07}".
func Tag(shard int) string { return fmt.Sprintf("{s%02d}", shard) }

// TagOf returns the hash tag of the shard an owner's keys live in.
func TagOf(owner string) string { return Tag(ShardOf(owner)) }

// Stream returns the outbox stream key of a shard.
func Stream(shard int) string { return Tag(shard) + ":outbox" }

// Streams returns every outbox stream key, shard order.
func Streams() []string {
	out := make([]string, Shards)
	for i := range out {
		out[i] = Stream(i)
	}
	return out
}
