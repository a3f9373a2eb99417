package watchers

import (
	"errors"
	"fmt"
	"math/big"
	"reflect"
	"testing"

	"github.com/depositd/depositd/chains"
)

// hdr builds a header whose hash names its branch and number ("a5").
func hdr(branch string, n uint64, parent string) chains.Header {
	return chains.Header{Number: n, Hash: fmt.Sprintf("%s%d", branch, n), Parent: parent}
}

func match(h chains.Header, tx string) Match {
	return Match{Account: "acct", Transfer: chains.Transfer{
		Chain: "test", TxID: tx, Block: h.Number, BlockHash: h.Hash, Amount: big.NewInt(1),
	}}
}

// step is one operation on a tracker, with what it must produce.
type step struct {
	connect    *chains.Header
	txs        []string // matches in the connected header
	disconnect bool
	notify     *[2]uint64 // latest, final
	wantErr    error
	wantOrphan []string // tx ids returned by disconnect
	wantUpd    []string // "kind:tx:confs"
}

func connect(h chains.Header, txs ...string) step { return step{connect: &h, txs: txs} }
func connectErr(h chains.Header, err error) step  { return step{connect: &h, wantErr: err} }
func disconnect(orphans ...string) step           { return step{disconnect: true, wantOrphan: orphans} }
func disconnectErr(err error) step                { return step{disconnect: true, wantErr: err} }
func notify(latest, final uint64, upd ...string) step {
	return step{notify: &[2]uint64{latest, final}, wantUpd: upd}
}

func fmtUpdates(us []Update) []string {
	var out []string
	for _, u := range us {
		k := "conf"
		if u.Kind == Final {
			k = "final"
		}
		out = append(out, fmt.Sprintf("%s:%s:%d", k, u.Match.Transfer.TxID, u.Confirmations))
	}
	return out
}

func TestTracker(t *testing.T) {
	a0, a1, a2, a3, a4 := hdr("a", 0, "-"), hdr("a", 1, "a0"), hdr("a", 2, "a1"), hdr("a", 3, "a2"), hdr("a", 4, "a3")
	b2, b3, b4, b5 := hdr("b", 2, "a1"), hdr("b", 3, "b2"), hdr("b", 4, "b3"), hdr("b", 5, "b4")
	c4, c5 := hdr("c", 4, "a3"), hdr("c", 5, "c4")

	tests := []struct {
		name      string
		steps     []step
		wantTip   string
		wantLen   int
		wantPend  int
		wantFinal uint64
	}{
		{
			name: "linear growth counts confirmations up to required then final",
			steps: []step{
				connect(a0), connect(a1, "t1"), notify(1, 0, "conf:t1:1"),
				connect(a2), notify(2, 0, "conf:t1:2"),
				connect(a3), notify(3, 0, "conf:t1:3"),
				connect(a4), notify(4, 0), // capped at required 3: no change, no update
				notify(4, 1, "final:t1:4"),
			},
			wantTip: "a4", wantLen: 4, wantPend: 0, wantFinal: 1,
		},
		{
			name: "one-deep reorg orphans and re-includes in the new block",
			steps: []step{
				connect(a0), connect(a1), connect(a2), connect(a3, "t1"), notify(3, 0, "conf:t1:1"),
				connectErr(hdr("x", 4, "b3"), ErrParentMismatch),
				disconnect("t1"),
				connect(hdr("b", 3, "a2"), "t1"), connect(hdr("b", 4, "b3")),
				notify(4, 0, "conf:t1:2"),
			},
			wantTip: "b4", wantLen: 5, wantPend: 1,
		},
		{
			name: "three-deep reorg orphans every match above the ancestor",
			steps: []step{
				connect(a0), connect(a1), connect(a2, "t2"), connect(a3, "t3"), connect(a4, "t4"),
				notify(4, 0, "conf:t2:3", "conf:t3:2", "conf:t4:1"),
				disconnect("t4"), disconnect("t3"), disconnect("t2"),
				connect(b2), connect(b3, "t3"), connect(b4), connect(b5, "t2"),
				notify(5, 1, "conf:t3:3", "conf:t2:1"),
			},
			wantTip: "b5", wantLen: 5, wantPend: 2, wantFinal: 1,
		},
		{
			name: "re-inclusion of the same tx in another block at the same height",
			steps: []step{
				connect(a0), connect(a1), connect(a2), connect(a3), connect(a4, "t1"),
				disconnect("t1"), connect(c4, "t1"), connect(c5),
				notify(5, 0, "conf:t1:2"),
			},
			wantTip: "c5", wantLen: 6, wantPend: 1,
		},
		{
			name: "skipped slots link by parent hash, not by number",
			steps: []step{
				connect(hdr("s", 10, "s9")), connect(hdr("s", 13, "s10"), "t1"),
				connect(hdr("s", 17, "s13")), notify(17, 0, "conf:t1:3"),
				notify(17, 12), // final at a skipped slot: anchor becomes 10
				notify(18, 13, "final:t1:6"),
				disconnect(), disconnectErr(ErrReorgPastFinal),
			},
			wantTip: "s13", wantLen: 1, wantPend: 0, wantFinal: 13,
		},
		{
			name: "reorg past the final marker is an error and changes nothing",
			steps: []step{
				connect(a0), connect(a1), connect(a2, "t2"), connect(a3),
				notify(3, 2, "final:t2:2"),
				disconnect(), disconnectErr(ErrReorgPastFinal), disconnectErr(ErrReorgPastFinal),
			},
			wantTip: "a2", wantLen: 1, wantPend: 0, wantFinal: 2,
		},
		{
			name: "out-of-order and duplicate connects are rejected",
			steps: []step{
				connect(a0), connect(a1), connect(a2),
				connectErr(a2, ErrOutOfOrder), connectErr(a1, ErrOutOfOrder),
				connectErr(hdr("a", 4, "a3"), ErrParentMismatch),
			},
			wantTip: "a2", wantLen: 3,
		},
		{
			name: "a match from another block is rejected",
			steps: []step{
				connect(a0),
				{connect: &a1, txs: []string{"foreign"}, wantErr: ErrForeignMatch},
			},
			wantTip: "a0", wantLen: 1,
		},
		{
			name: "final marker never moves back",
			steps: []step{
				connect(a0), connect(a1), connect(a2, "t2"), notify(2, 1, "conf:t2:1"),
				notify(3, 0, "conf:t2:2"), disconnect("t2"), disconnectErr(ErrReorgPastFinal),
			},
			wantTip: "a1", wantLen: 1, wantFinal: 1,
		},
		{
			name:  "empty tracker cannot disconnect",
			steps: []step{disconnectErr(ErrEmpty)},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tr := NewTracker(3)
			for i, s := range tc.steps {
				switch {
				case s.connect != nil:
					var deps []Match
					for _, tx := range s.txs {
						m := match(*s.connect, tx)
						if tx == "foreign" {
							m.Transfer.BlockHash = "elsewhere"
						}
						deps = append(deps, m)
					}
					err := tr.ConnectTip(*s.connect, deps)
					if !errors.Is(err, s.wantErr) {
						t.Fatalf("step %d connect %s: err %v, want %v", i, s.connect.Hash, err, s.wantErr)
					}
				case s.disconnect:
					orph, err := tr.DisconnectTip()
					if !errors.Is(err, s.wantErr) {
						t.Fatalf("step %d disconnect: err %v, want %v", i, err, s.wantErr)
					}
					var got []string
					for _, m := range orph {
						got = append(got, m.Transfer.TxID)
					}
					if !reflect.DeepEqual(got, s.wantOrphan) {
						t.Fatalf("step %d disconnect: orphaned %v, want %v", i, got, s.wantOrphan)
					}
				case s.notify != nil:
					got := fmtUpdates(tr.NotifyHeight(s.notify[0], s.notify[1]))
					if !reflect.DeepEqual(got, s.wantUpd) {
						t.Fatalf("step %d notify %v: updates %v, want %v", i, *s.notify, got, s.wantUpd)
					}
				}
			}
			tip, _ := tr.Tip()
			if tip.Hash != tc.wantTip {
				t.Errorf("tip %q, want %q", tip.Hash, tc.wantTip)
			}
			if len(tr.headers) != tc.wantLen {
				t.Errorf("len %d, want %d", len(tr.headers), tc.wantLen)
			}
			if pend := pendingCount(tr); pend != tc.wantPend {
				t.Errorf("pending %d, want %d", pend, tc.wantPend)
			}
			if tr.final != tc.wantFinal {
				t.Errorf("final %d, want %d", tr.final, tc.wantFinal)
			}
		})
	}
}

func pendingCount(tr *Tracker) int {
	n := 0
	for _, ps := range tr.byHeight {
		n += len(ps)
	}
	return n
}
