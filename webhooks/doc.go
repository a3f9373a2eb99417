// Package webhooks delivers outbox events to the operator's webhook
// endpoints: it consumes the outbox streams through a Redis consumer group,
// fans each event out to the endpoints whose filter matches, signs every
// request per the Standard Webhooks spec, retries failures on a schedule of
// about three days, dead-letters what never succeeds, and records every
// attempt so that deliveries can be listed and redelivered.
//
// # Guarantees
//
// Every event is delivered to every matching endpoint at least once, or
// dead-lettered. An outbox entry is acknowledged only after its
// deliveries are stored; a delivery's id is its event id plus the
// endpoint name, so re-reading an entry never makes a second delivery.
// Receivers dedupe on webhook-id (the event id, the same on every retry);
// ordering is not promised.
//
// Several dispatcher processes may share one Redis. A due delivery is
// leased by one process (the lease is its score in the due set, pushed to
// the lease's end, plus a token in its hash that the outcome must match),
// so one delivery is never sent by two processes at once unless an
// attempt outlives its lease, which is the longest endpoint timeout plus
// Options.LeaseMargin. A killed process's leases expire and its
// unacknowledged outbox entries are taken over with XAUTOCLAIM.
//
// # Delivery rules
//
// Only 2xx is success. Redirects are not followed and count as failures.
// 410 Gone disables the endpoint: its pending deliveries turn "disabled"
// without a request until an operator redelivers. Every other failure
// (HTTP status, timeout, transport error) is retried on the endpoint's
// schedule with jitter, never sooner than the receiver's Retry-After
// (capped at 24h); after the last attempt the delivery is dead, the
// depositd_webhook_dead_total counter rises and an error is logged.
// Private, loopback and link-local targets are refused, when configured
// and again when dialled, unless the endpoint sets AllowPrivate. Secrets
// and URLs are never logged (the URL's host is).
//
// # Redis
//
// All delivery state carries one hash tag (Options.Prefix, "{wh}:"), so
// each script touches one Cluster slot:
//
//	{wh}:d:<id>            hash: the delivery's state and lease
//	{wh}:a:<id>            list: its attempts, JSON
//	{wh}:ev:<event>        string: the request body, shared by endpoints
//	{wh}:due               zset: delivery id by due time (ms); no scans
//	{wh}:ix:<status>[:<ep>] zset: listing index, member "<ms>|<id>"
//	{wh}:disabled          hash: endpoints disabled by 410
//	{wh}:poison            stream: malformed outbox entries
//
// The claim script reads delivery and event keys it builds from the
// prefix; they share the tag, hence the slot. Finished deliveries are
// kept for Options.Retention (forever by default; see Prune). Run the
// server with appendonly yes and appendfsync always (or WAITAOF) and
// maxmemory-policy noeviction.
package webhooks
