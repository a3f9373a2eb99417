package tronbench

import (
	"context"
	"fmt"
	"time"

	"github.com/fbsobreira/gotron-sdk/pkg/proto/api"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/depositd/depositd/chains/tron"
)

// Floor reads [c.First, c.Last] with a bare sequential loop of
// GetTransactionInfoByBlockNum on the node's WalletSolidity service, the
// service the watcher reads solidified blocks from, and checks that every
// block holds its one transaction. It returns the loop's wall time.
func Floor(ctx context.Context, c *Chain) (time.Duration, error) {
	return floor(ctx, c, false)
}

// ListFloor is Floor plus, before every Range blocks, one
// GetBlockByLimitNext2 of them on the full node with the answer kept as
// wire bytes: the block ids and txids the adapter reads besides the
// receipts, at the least cost a client can pay for them.
func ListFloor(ctx context.Context, c *Chain) (time.Duration, error) {
	return floor(ctx, c, true)
}

func floor(ctx context.Context, c *Chain, lists bool) (time.Duration, error) {
	creds := grpc.WithTransportCredentials(insecure.NewCredentials())
	solid, err := grpc.NewClient(c.Node.SolidityAddr(), creds)
	if err != nil {
		return 0, fmt.Errorf("floor: dial: %w", err)
	}
	defer solid.Close()
	full, err := grpc.NewClient(c.Node.Addr(), creds)
	if err != nil {
		return 0, fmt.Errorf("floor: dial: %w", err)
	}
	defer full.Close()
	sc := api.NewWalletSolidityClient(solid)
	var raw []byte
	start := time.Now()
	for n := c.First; n <= c.Last; n++ {
		if lists && (n-c.First)%Range == 0 {
			req := &api.BlockLimit{StartNum: int64(n), EndNum: int64(min(n+Range, c.Last+1))}
			if err := full.Invoke(ctx, api.Wallet_GetBlockByLimitNext2_FullMethodName, req, &raw, grpc.ForceCodec(tron.RawCodec{})); err != nil {
				return 0, fmt.Errorf("floor: blocks from %d: %w", n, err)
			}
		}
		l, err := sc.GetTransactionInfoByBlockNum(ctx, &api.NumberMessage{Num: int64(n)})
		if err != nil {
			return 0, fmt.Errorf("floor: block %d: %w", n, err)
		}
		if len(l.GetTransactionInfo()) != 1 {
			return 0, fmt.Errorf("floor: block %d: %d transactions, want 1", n, len(l.GetTransactionInfo()))
		}
	}
	return time.Since(start), nil
}
