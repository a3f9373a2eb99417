package chaos

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/depositd/depositd/internal/redistest"
)

// stage is what a campaign and a load run both stand on: a working folder
// (a temporary one unless given), a private redis-server in it and the
// four local chains, plus a time-stamped progress logger.
type stage struct {
	dir   string
	rs    *redistest.Server
	nets  *nets
	logf  func(format string, args ...any)
	close func()
}

func startStage(ctx context.Context, dir, prefix string, seed uint64, progress io.Writer) (*stage, error) {
	var undo []func()
	cleanup := func() {
		for i := len(undo) - 1; i >= 0; i-- {
			undo[i]()
		}
	}
	if dir == "" {
		d, err := os.MkdirTemp("", prefix)
		if err != nil {
			return nil, err
		}
		undo = append(undo, func() { os.RemoveAll(d) })
		dir = d
	}
	rs, err := redistest.Start(ctx, filepath.Join(dir, "redis"))
	if err != nil {
		cleanup()
		return nil, err
	}
	undo = append(undo, rs.Stop)
	n, err := startNets(ctx, seed)
	if err != nil {
		cleanup()
		return nil, err
	}
	undo = append(undo, n.close)
	logf := func(format string, args ...any) {
		fmt.Fprintf(progress, "%s "+format+"\n", append([]any{time.Now().UTC().Format("15:04:05")}, args...)...)
	}
	return &stage{dir: dir, rs: rs, nets: n, logf: logf, close: cleanup}, nil
}
