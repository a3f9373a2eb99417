package evmnet

import (
	"context"
	"fmt"
	"math/big"
	"time"

	"github.com/ethereum/go-ethereum/common"
)

// Large describes a log-heavy chain built by BuildLarge.
type Large struct {
	Token    common.Address // the TestToken ("USDT", 6 decimals) that emitted every log
	Decimals int32
	// First and Last bound the blocks that hold the batch transfers; each
	// holds exactly PerBlock Transfer logs.
	First, Last uint64
	PerBlock    int
	Logs        int           // Transfer logs in [First, Last]
	Took        time.Duration // wall time of the build
}

// BuildLarge deploys a token, mints to the first account and mines blocks
// blocks each holding one batchTransfer of perBlock one-unit transfers to
// recipients cycling through a pool of 1,000 addresses. It is for
// benchmarks (5,000 × 40 gives 200,000 logs).
func (c *Chain) BuildLarge(ctx context.Context, blocks, perBlock int) (Large, error) {
	start := time.Now()
	if blocks < 1 || perBlock < 1 {
		return Large{}, fmt.Errorf("evmnet: build large: %d blocks × %d logs", blocks, perBlock)
	}
	token, err := c.DeployToken("USDT", 6)
	if err != nil {
		return Large{}, err
	}
	from := c.accounts[0]
	total := big.NewInt(int64(blocks) * int64(perBlock))
	if _, err := c.Mint(token, from.Address, total); err != nil {
		return Large{}, err
	}
	if _, err := c.Commit(); err != nil {
		return Large{}, err
	}
	const pool = 1000
	recipients := make([]common.Address, pool)
	for i := range recipients {
		recipients[i] = common.BigToAddress(big.NewInt(int64(0x10000 + i)))
	}
	one := big.NewInt(1)
	out := Large{Token: token, Decimals: 6, PerBlock: perBlock}
	to := make([]common.Address, perBlock)
	for b := range blocks {
		if err := ctx.Err(); err != nil {
			return Large{}, fmt.Errorf("evmnet: build large at block %d: %w", b, err)
		}
		for i := range to {
			to[i] = recipients[(b*perBlock+i)%pool]
		}
		if _, err := c.BatchTransfer(token, from, to, one); err != nil {
			return Large{}, err
		}
		if _, err := c.Commit(); err != nil {
			return Large{}, fmt.Errorf("evmnet: build large block %d: %w", b, err)
		}
	}
	head, _, err := c.Head(ctx)
	if err != nil {
		return Large{}, err
	}
	out.Last = head
	out.First = head - uint64(blocks) + 1
	out.Logs = blocks * perBlock
	out.Took = time.Since(start)
	return out, nil
}
