// Package watchers scans one chain per Watcher, chain-independently: a tip
// tier that shows deposits as "seen, n of N confirmations" and follows reorgs,
// and a final tier that credits deposits exactly once from immutable ranges.
//
// The confirmation and reorg logic is the pure Tracker (after lnd's
// chainntnfs TxNotifier); the Watcher is only the I/O loop that fetches from a
// chains.Source, detects parent-hash mismatches and feeds the Tracker.
package watchers

import (
	"errors"
	"fmt"

	"github.com/depositd/depositd/chains"
)

// Tracker errors. The loop branches on them.
var (
	// ErrParentMismatch: the header does not extend the current tip; the
	// caller must walk back to the common ancestor and disconnect.
	ErrParentMismatch = errors.New("parent hash does not match tip")
	// ErrOutOfOrder: the header's number is not above the tip's.
	ErrOutOfOrder = errors.New("header not above tip")
	// ErrReorgPastFinal: a disconnect would remove the final anchor. The
	// chain broke its own finality: halt and alert.
	ErrReorgPastFinal = errors.New("reorg past final marker")
	// ErrEmpty: the tracker holds no header.
	ErrEmpty = errors.New("tracker empty")
	// ErrForeignMatch: a match passed to ConnectTip is not in that block.
	ErrForeignMatch = errors.New("match not in connected block")
)

// Match is a transfer to a watched address, with the account it credits.
type Match struct {
	Transfer chains.Transfer
	Account  string
}

// UpdateKind tells what an Update announces.
type UpdateKind int

const (
	// Confirmed: the match now has Confirmations of Required.
	Confirmed UpdateKind = iota + 1
	// Final: the match's block is at or below the final marker; the tracker
	// forgets it (the final tier credits it).
	Final
)

// Update is one confirmation change produced by NotifyHeight.
type Update struct {
	Kind          UpdateKind
	Match         Match
	Confirmations uint64
	Required      uint64
}

type pending struct {
	match Match
	confs uint64 // last announced
}

// Tracker is the pure confirmation/reorg state machine of one chain: an
// ordered ring of canonical headers from the final anchor to the tip, linked
// by parent hash (numbers may skip, as Solana slots do), and the matches
// included in each. It does no I/O and reads no clock; it is not safe for
// concurrent use.
type Tracker struct {
	required uint64
	headers  []chains.Header // ascending; headers[0] is the anchor
	byHeight map[uint64][]*pending
	final    uint64
}

// NewTracker returns an empty tracker announcing n of required confirmations.
func NewTracker(required uint64) *Tracker {
	return &Tracker{required: required, byHeight: map[uint64][]*pending{}}
}

// Tip returns the newest connected header.
func (t *Tracker) Tip() (chains.Header, bool) {
	if len(t.headers) == 0 {
		return chains.Header{}, false
	}
	return t.headers[len(t.headers)-1], true
}

// Anchor returns the oldest retained header (at or below the final marker
// once NotifyHeight has pruned).
func (t *Tracker) Anchor() (chains.Header, bool) {
	if len(t.headers) == 0 {
		return chains.Header{}, false
	}
	return t.headers[0], true
}

// ConnectTip appends h with the matches found in it. The first header of an
// empty tracker is accepted as the anchor. Afterwards h must extend the tip:
// a different parent is ErrParentMismatch (walk back), a number not above
// the tip is ErrOutOfOrder. Every match must carry h's number and hash
// (ErrForeignMatch). On error nothing changes.
func (t *Tracker) ConnectTip(h chains.Header, deps []Match) error {
	for _, m := range deps {
		if m.Transfer.Block != h.Number || m.Transfer.BlockHash != h.Hash {
			return fmt.Errorf("%s in block %d %s, connecting %d %s: %w",
				m.Transfer.ID(), m.Transfer.Block, m.Transfer.BlockHash, h.Number, h.Hash, ErrForeignMatch)
		}
	}
	if tip, ok := t.Tip(); ok {
		if h.Number <= tip.Number {
			return fmt.Errorf("header %d, tip %d: %w", h.Number, tip.Number, ErrOutOfOrder)
		}
		if h.Parent != tip.Hash {
			return fmt.Errorf("header %d parent %s, tip %d %s: %w", h.Number, h.Parent, tip.Number, tip.Hash, ErrParentMismatch)
		}
	}
	t.headers = append(t.headers, h)
	if len(deps) > 0 {
		ps := make([]*pending, len(deps))
		for i, m := range deps {
			ps[i] = &pending{match: m}
		}
		t.byHeight[h.Number] = ps
	}
	return nil
}

// DisconnectTip removes the tip header and returns the matches it held,
// now orphaned. The anchor at or below the final marker is never removed:
// that is ErrReorgPastFinal, as is disconnecting any header at or below the
// final marker.
func (t *Tracker) DisconnectTip() ([]Match, error) {
	tip, ok := t.Tip()
	if !ok {
		return nil, ErrEmpty
	}
	if len(t.headers) == 1 || tip.Number <= t.final {
		return nil, fmt.Errorf("disconnect %d %s, final %d: %w", tip.Number, tip.Hash, t.final, ErrReorgPastFinal)
	}
	t.headers = t.headers[:len(t.headers)-1]
	ps := t.byHeight[tip.Number]
	delete(t.byHeight, tip.Number)
	out := make([]Match, len(ps))
	for i, p := range ps {
		out[i] = p.match
	}
	return out, nil
}

// NotifyHeight reports the chain's latest and final markers. For every
// pending match it returns a Confirmed update when its confirmation count
// (latest − inclusion + 1, capped at Required) changed since the last one,
// and a Final update when its block is at or below final; final matches are
// forgotten. Headers below the newest header at or under final are pruned,
// so that header becomes the anchor. A final marker lower than a previous
// one is ignored (finality does not move back). Updates are ordered by
// inclusion height, then by the order the matches were connected.
func (t *Tracker) NotifyHeight(latest, final uint64) []Update {
	if final > t.final {
		t.final = final
	}
	var out []Update
	for _, h := range t.headers {
		ps := t.byHeight[h.Number]
		if len(ps) == 0 {
			continue
		}
		if h.Number <= t.final {
			for _, p := range ps {
				out = append(out, Update{Kind: Final, Match: p.match, Confirmations: confs(latest, h.Number), Required: t.required})
			}
			delete(t.byHeight, h.Number)
			continue
		}
		c := min(confs(latest, h.Number), t.required)
		for _, p := range ps {
			if c != p.confs {
				p.confs = c
				out = append(out, Update{Kind: Confirmed, Match: p.match, Confirmations: c, Required: t.required})
			}
		}
	}
	t.prune()
	return out
}

// prune drops headers older than the newest one at or below the final
// marker, keeping that one as the anchor for parent-hash checks.
func (t *Tracker) prune() {
	keep := 0
	for i, h := range t.headers {
		if h.Number <= t.final {
			keep = i
		}
	}
	if keep > 0 {
		t.headers = append(t.headers[:0:0], t.headers[keep:]...)
	}
}

func confs(latest, included uint64) uint64 {
	if latest < included {
		return 0
	}
	return latest - included + 1
}
