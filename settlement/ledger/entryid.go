package ledger

// EntryIDFor returns the id of the entry a step with idempotency key key
// on account id writes (or wrote): it is derived, not stored, so callers
// may name an entry before or without reading it.
func EntryIDFor(id AccountID, key string) string { return entryIDFor(id, key) }
