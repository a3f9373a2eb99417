package evmbench

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"sync"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/redis/go-redis/v9"
	"golang.org/x/sync/errgroup"

	"github.com/depositd/depositd/chains/evm"
	"github.com/depositd/depositd/internal/devnet/evmnet"
	"github.com/depositd/depositd/internal/ledgercredit"
	"github.com/depositd/depositd/settlement/ledger"
	"github.com/depositd/depositd/watchers"
)

// Steady configures a steady-state run: a producer commits one block every
// BlockEvery while the watcher (Run) and the client's endpoint probes (Run)
// follow the chain as the daemon runs them.
type Steady struct {
	BlockEvery    time.Duration // wall time between blocks
	Warmup        int           // blocks before measuring (≥ 1)
	Blocks        int           // measured blocks
	Poll          time.Duration // watcher PollInterval
	ProbeInterval time.Duration // evm client ProbeInterval
	Required      uint64        // confirmations of the credit policy
	Deposits      int           // transfers to watched recipients per block
	Others        int           // transfers to unwatched recipients per block
	Timeout       time.Duration // bound of the whole run
}

// SteadyResult is what a steady-state run measured.
type SteadyResult struct {
	Requests uint64            // client requests while the measured blocks were produced
	Methods  map[string]uint64 // the same requests by method, counted by a proxy
	Blocks   int               // measured blocks
	Window   time.Duration     // wall time from the block before the first measured one to the last
	Delays   []time.Duration   // per deposit of the measured blocks: credit − its block reaching the policy
}

// PerBlock is Requests / Blocks.
func (r SteadyResult) PerBlock() float64 { return float64(r.Requests) / float64(r.Blocks) }

// RunSteady builds a fresh chain and runs cfg on it, crediting through a
// real ledger on rdb (which must be empty) and matching against ix.
func RunSteady(ctx context.Context, cfg Steady, ix watchers.Index, rdb redis.UniversalClient) (SteadyResult, error) {
	if cfg.Warmup < 1 || cfg.Blocks < 1 || cfg.BlockEvery <= 0 || cfg.Required < 1 {
		return SteadyResult{}, fmt.Errorf("steady: warmup %d, blocks %d, block every %s, required %d: want ≥ 1 each",
			cfg.Warmup, cfg.Blocks, cfg.BlockEvery, cfg.Required)
	}
	ctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
	defer cancel()
	chain, token, err := newSteadyChain(cfg)
	if err != nil {
		return SteadyResult{}, err
	}
	defer chain.Close()
	mc, err := NewMethodCounter(chain.URL())
	if err != nil {
		return SteadyResult{}, fmt.Errorf("steady: %w", err)
	}
	defer mc.Close()
	src, err := evm.New(evm.Config{
		Chain: "ethereum", Endpoints: []string{mc.URL()}, MaxRange: Range, ProbeInterval: cfg.ProbeInterval,
		Tokens: []evm.Token{{Symbol: "USDT", Contract: token, Decimals: 6}},
	})
	if err != nil {
		return SteadyResult{}, fmt.Errorf("steady: %w", err)
	}
	defer src.Close()
	l := ledger.New(rdb, time.Now)
	if err := OpenAccounts(ctx, l, len(WatchedRecipients())); err != nil {
		return SteadyResult{}, fmt.Errorf("steady: %w", err)
	}
	timed := &Timed{Next: &ledgercredit.Crediter{Ledger: l, Rate: ledgercredit.OneUSD}, Now: time.Now}
	w, err := NewWatcher(src, ix, timed, rdb, 0, cfg.Required, cfg.Poll)
	if err != nil {
		return SteadyResult{}, fmt.Errorf("steady: %w", err)
	}
	p := &producer{cfg: cfg, chain: chain, token: token, src: src, methods: mc, credits: timed}
	runCtx, stop := context.WithCancel(ctx)
	g, gctx := errgroup.WithContext(runCtx)
	g.Go(func() error { return w.Run(gctx) })
	g.Go(func() error {
		if err := src.Run(gctx); !errors.Is(err, context.Canceled) {
			return err
		}
		return nil
	})
	g.Go(func() error {
		defer stop()
		return p.run(gctx)
	})
	if err := g.Wait(); err != nil {
		return SteadyResult{}, fmt.Errorf("steady: %w", err)
	}
	return p.result(), nil
}

func newSteadyChain(cfg Steady) (*evmnet.Chain, common.Address, error) {
	chain, err := evmnet.New()
	if err != nil {
		return nil, common.Address{}, fmt.Errorf("steady: %w", err)
	}
	token, err := chain.DeployToken("USDT", 6)
	if err == nil {
		total := big.NewInt(int64((cfg.Warmup + cfg.Blocks) * (cfg.Deposits + cfg.Others)))
		_, err = chain.Mint(token, chain.Accounts()[0].Address, total)
	}
	if err == nil {
		_, err = chain.Commit()
	}
	if err != nil {
		chain.Close()
		return nil, common.Address{}, fmt.Errorf("steady: token: %w", err)
	}
	return chain, token, nil
}

// producer commits the blocks and remembers when each was committed.
type producer struct {
	cfg     Steady
	chain   *evmnet.Chain
	token   common.Address
	src     *evm.Client
	methods *MethodCounter
	credits *Timed

	mu        sync.Mutex
	committed map[uint64]time.Time
	measured  [2]uint64 // first and last measured block
	requests  uint64
	perMethod map[string]uint64
	want      map[string]bool // deposit ids of the measured blocks
}

func (p *producer) run(ctx context.Context) error {
	p.committed, p.want = map[uint64]time.Time{}, map[string]bool{}
	tick := time.NewTicker(p.cfg.BlockEvery)
	defer tick.Stop()
	watched := WatchedRecipients()
	var reqs0 uint64
	var methods0 map[string]uint64
	n := 0
	for i := range p.cfg.Warmup + p.cfg.Blocks {
		select {
		case <-ctx.Done():
			return fmt.Errorf("producer at block %d: %w", i, ctx.Err())
		case <-tick.C:
		}
		to := make([]common.Address, 0, p.cfg.Deposits+p.cfg.Others)
		for range p.cfg.Deposits {
			to = append(to, watched[n%len(watched)])
			n++
		}
		for j := range p.cfg.Others {
			to = append(to, Recipient(1+(i*p.cfg.Others+j)%(WatchEvery-1)))
		}
		tx, err := p.chain.BatchTransfer(p.token, p.chain.Accounts()[0], to, big.NewInt(1))
		if err != nil {
			return fmt.Errorf("producer: %w", err)
		}
		if _, err := p.chain.Commit(); err != nil {
			return fmt.Errorf("producer: %w", err)
		}
		at := time.Now()
		head, _, err := p.chain.Head(ctx)
		if err != nil {
			return fmt.Errorf("producer: %w", err)
		}
		p.mu.Lock()
		p.committed[head] = at
		switch {
		case i == p.cfg.Warmup-1: // the window starts at the block before the first measured one
			reqs0, methods0, p.measured[0] = p.src.Requests(), p.methods.Counts(), head
		case i == p.cfg.Warmup+p.cfg.Blocks-1:
			p.requests, p.perMethod, p.measured[1] = p.src.Requests()-reqs0, Since(methods0, p.methods.Counts()), head
		}
		if i >= p.cfg.Warmup {
			for k := range p.cfg.Deposits { // log index k of the block's only transaction
				p.want["ethereum:"+tx.Hex()+":"+itoa(k)] = true
			}
		}
		p.mu.Unlock()
	}
	return p.awaitCredits(ctx)
}

// awaitCredits commits the Required−1 blocks that bring the last measured
// block to the policy and waits until every measured deposit is credited.
func (p *producer) awaitCredits(ctx context.Context) error {
	tick := time.NewTicker(p.cfg.BlockEvery)
	defer tick.Stop()
	for extra := uint64(1); ; extra++ {
		got := p.credits.Credits()
		missing := 0
		for id := range p.want {
			if _, ok := got[id]; !ok {
				missing++
			}
		}
		if missing == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("producer: %d of %d deposits not credited: %w", missing, len(p.want), ctx.Err())
		case <-tick.C:
		}
		if extra < p.cfg.Required {
			if _, err := p.chain.Commit(); err != nil {
				return fmt.Errorf("producer: %w", err)
			}
			p.mu.Lock()
			p.committed[p.measured[1]+extra] = time.Now()
			p.mu.Unlock()
		}
	}
}

func (p *producer) result() SteadyResult {
	p.mu.Lock()
	defer p.mu.Unlock()
	r := SteadyResult{Requests: p.requests, Methods: p.perMethod, Blocks: p.cfg.Blocks,
		Window: p.committed[p.measured[1]].Sub(p.committed[p.measured[0]])}
	for id, c := range p.credits.Credits() {
		if !p.want[id] {
			continue
		}
		if at, ok := p.committed[c.Block+p.cfg.Required-1]; ok {
			r.Delays = append(r.Delays, c.At.Sub(at))
		}
	}
	return r
}
