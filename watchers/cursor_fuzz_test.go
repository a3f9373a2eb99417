package watchers

import (
	"errors"
	"testing"
)

// FuzzDecodeCursor feeds arbitrary API cursors: never a panic, only a
// valid sequence or ErrBadCursor, and every valid cursor round-trips.
func FuzzDecodeCursor(f *testing.F) {
	for _, s := range []string{"", encodeCursor(1), encodeCursor(1 << 52), "!!", "eHl6", "djE6LTE", "djE6"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, c string) {
		seq, err := decodeCursor(c)
		if err != nil {
			if !errors.Is(err, ErrBadCursor) {
				t.Fatalf("decodeCursor(%q) error %v is not ErrBadCursor", c, err)
			}
			return
		}
		if c == "" {
			if seq != 0 {
				t.Fatalf("empty cursor gave %d", seq)
			}
			return
		}
		if seq <= 0 {
			t.Fatalf("decodeCursor(%q) = %d", c, seq)
		}
		if again, err := decodeCursor(encodeCursor(seq)); err != nil || again != seq {
			t.Fatalf("round trip of %d: %d, %v", seq, again, err)
		}
	})
}
