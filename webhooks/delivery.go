package webhooks

import (
	"fmt"
	"time"
)

// Delivery statuses.
const (
	// StatusPending: not yet attempted, or queued again by a redelivery.
	StatusPending = "pending"
	// StatusFailed: the last attempt failed and a retry is scheduled.
	StatusFailed = "failed"
	// StatusDelivered: an attempt got a 2xx.
	StatusDelivered = "delivered"
	// StatusDead: every attempt of the schedule failed.
	StatusDead = "dead"
	// StatusDisabled: the endpoint answered 410 Gone (here or for another
	// delivery) and is disabled until an operator redelivers.
	StatusDisabled = "disabled"
)

// statuses is the fixed order of the status index keys the scripts take.
var statuses = []string{StatusPending, StatusFailed, StatusDelivered, StatusDead, StatusDisabled}

// Attempt results.
const (
	ResultDelivered = "delivered"
	ResultFailed    = "failed"
	ResultGone      = "gone"
)

// Delivery is one event addressed to one endpoint.
type Delivery struct {
	// ID is EventID + ":" + Endpoint: a re-consumed outbox entry maps to
	// the same delivery.
	ID        string    `json:"id"`
	EventID   string    `json:"event_id"`
	EventType string    `json:"event_type"`
	Endpoint  string    `json:"endpoint"`
	Status    string    `json:"status"`
	CreatedAt time.Time `json:"created_at"` // the event's created_at
	UpdatedAt time.Time `json:"updated_at"`
	// NextAt is when the next attempt is due; zero when none is.
	NextAt   time.Time `json:"next_at,omitzero"`
	Attempts []Attempt `json:"attempts"`
}

// Attempt is one HTTP request of a delivery and its outcome.
type Attempt struct {
	At      time.Time     `json:"at"`
	Result  string        `json:"result"`           // delivered | failed | gone
	Status  int           `json:"status,omitempty"` // HTTP status; 0 when no response
	Latency time.Duration `json:"latency_ns"`
	Error   string        `json:"error,omitempty"`
}

// DeliveryID returns the deterministic id of an event's delivery to an
// endpoint.
func DeliveryID(eventID, endpoint string) string { return eventID + ":" + endpoint }

// keys names every Redis key of the dispatcher. All carry one hash tag so
// that scripts touch a single Cluster slot.
type keys struct{ p string }

func (k keys) delivery(id string) string { return k.p + "d:" + id }
func (k keys) attempts(id string) string { return k.p + "a:" + id }
func (k keys) event(id string) string    { return k.p + "ev:" + id }
func (k keys) due() string               { return k.p + "due" }
func (k keys) disabled() string          { return k.p + "disabled" }
func (k keys) poison() string            { return k.p + "poison" }

// index is the lexically ordered set of deliveries in a status ("" for
// all), optionally of one endpoint ("" for all endpoints).
func (k keys) index(status, endpoint string) string {
	s := k.p + "ix:" + status
	if endpoint != "" {
		s += ":" + endpoint
	}
	return s
}

// statusIndexes returns the index keys of every status, all endpoints
// then the endpoint's, in the order the scripts expect.
func (k keys) statusIndexes(endpoint string) []string {
	out := make([]string, 0, 2*len(statuses))
	for _, s := range statuses {
		out = append(out, k.index(s, ""), k.index(s, endpoint))
	}
	return out
}

// member is a delivery's entry in the index sets: ordering by member
// orders by event time, then id.
func member(created time.Time, id string) string {
	return fmt.Sprintf("%013d|%s", created.UnixMilli(), id)
}
