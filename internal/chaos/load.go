package chaos

import (
	"context"
	"fmt"
	"io"
	"math/big"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/gagliardetto/solana-go"
	"github.com/redis/go-redis/v9"

	"github.com/depositd/depositd/addressbook"
	"github.com/depositd/depositd/chains"
	"github.com/depositd/depositd/settlement/ledger"
)

// LoadOptions configure a load run: no faults, a steady deposit rate
// spread evenly over the four chains, many watched addresses.
type LoadOptions struct {
	Seed      uint64
	Duration  time.Duration
	Rate      int // deposits per second, all chains together
	Addresses int // watched addresses (EVM and Tron, half each)
	Active    int // accounts that receive deposits (they also get a Solana wallet); default 2000
	Daemons   int
	Bin, Dir  string
	Drain     time.Duration // how long to wait for the backlog after the sends stop (default 10m)
	Progress  io.Writer
}

// LoadResult is what a load run measured.
type LoadResult struct {
	Rate, Watched, Daemons int
	Duration               time.Duration
	RegisterTime           time.Duration
	Sent                   map[string]int
	SentTotal              int
	CreditedInPhase        int           // deposit.credited webhooks received while sending
	Credited               int           // ... by the end of the drain
	DrainTime              time.Duration // from the end of the sends to the last credit received
	Events                 int
	P50, P99, Max          time.Duration // block final → deposit.credited webhook received
	MaxRSS                 []int64       // bytes, per depositd process
	RedisOpsPerSec         float64
}

// RunLoad runs the load test and returns its figures.
func RunLoad(ctx context.Context, o LoadOptions) (*LoadResult, error) {
	if o.Active <= 0 {
		o.Active = 2000
	}
	if o.Drain <= 0 {
		o.Drain = 10 * time.Minute
	}
	if o.Progress == nil {
		o.Progress = io.Discard
	}
	st, err := startStage(ctx, o.Dir, "depositd-load-", o.Seed, o.Progress)
	if err != nil {
		return nil, err
	}
	defer st.close()
	o.Dir = st.dir
	rs, n, logf := st.rs, st.nets, st.logf
	rdb := redis.NewClient(&redis.Options{Addr: rs.Addr()})
	defer rdb.Close()
	res := &LoadResult{Rate: o.Rate, Daemons: o.Daemons, Duration: o.Duration, Sent: map[string]int{}}

	start := time.Now()
	active, watched, err := registerLoad(ctx, rdb, n, o.Addresses, o.Active, logf)
	if err != nil {
		return nil, err
	}
	res.Watched, res.RegisterTime = watched, time.Since(start)
	logf("load: %d watched addresses registered in %s", watched, res.RegisterTime.Round(time.Second))

	clock := newFinalClock()
	secret := webhookSecret(o.Seed)
	recv, err := startLoadReceiver(secret, clock)
	if err != nil {
		return nil, err
	}
	defer recv.close()
	// The production default lease TTL: nothing is killed here, and a short
	// TTL only makes leases flap on a saturated machine.
	daemons, err := makeDaemons(Options{Daemons: o.Daemons, Bin: o.Bin, Dir: o.Dir}, n, rs.URL(), recv.URL(), secret, "15s")
	if err != nil {
		return nil, err
	}
	runCtx, stopAll := context.WithCancel(ctx)
	defer stopAll()
	var bg sync.WaitGroup
	bg.Add(3 + len(daemons))
	go func() { defer bg.Done(); _ = n.mine(runCtx) }()
	go func() { defer bg.Done(); n.clock(runCtx, clock) }()
	rss := make([]int64, len(daemons))
	go func() { defer bg.Done(); sampleRSS(runCtx, daemons, rss) }()
	for _, d := range daemons {
		go func() { defer bg.Done(); _ = d.supervise(runCtx) }()
	}
	defer bg.Wait()
	if err := waitWatching(ctx, rdb, 10*time.Minute); err != nil {
		return nil, err
	}
	logf("load: %d depositd processes watching; sending %d deposits/s for %s", len(daemons), o.Rate, o.Duration)
	ops0, err := commandsProcessed(ctx, rdb)
	if err != nil {
		return nil, err
	}
	phase, endPhase := context.WithTimeout(runCtx, o.Duration)
	sendLoad(phase, n, active, o.Seed, o.Rate, res)
	endPhase()
	sendEnd := time.Now()
	ops1, err := commandsProcessed(ctx, rdb)
	if err != nil {
		return nil, err
	}
	res.RedisOpsPerSec = float64(ops1-ops0) / o.Duration.Seconds()
	res.CreditedInPhase, _, _, _, _ = recv.stats()
	logf("load: sends stopped (%d sent, %d credited webhooks so far); draining", res.SentTotal, res.CreditedInPhase)
	last, lastAt := -1, time.Now()
	_ = poll(ctx, o.Drain, func() (bool, string) {
		c, _, _, _, _ := recv.stats()
		if c != last {
			last, lastAt = c, time.Now()
		}
		// Ethereum's finalized tag moves 32 blocks at a time: a quiet minute
		// is normal while the chain mines towards the next step.
		return c >= res.SentTotal || time.Since(lastAt) > 2*time.Minute, ""
	})
	res.DrainTime = lastAt.Sub(sendEnd)
	res.Credited, res.Events, res.P50, res.P99, res.Max = recv.stats()
	stopAll()
	bg.Wait()
	res.MaxRSS = rss
	return res, nil
}

// registerLoad registers watched/2 accounts' EVM and Tron addresses, and
// creates the ledger accounts of the first active ones with a Solana
// wallet each. It returns the active accounts and the addresses watched.
func registerLoad(ctx context.Context, rdb redis.UniversalClient, n *nets, watched, active int, logf func(string, ...any)) ([]account, int, error) {
	book, err := addressbook.New(rdb, addressbook.Options{Mints: []addressbook.SolanaMint{{Mint: n.sol.mint, Program: solana.TokenProgramID}}})
	if err != nil {
		return nil, 0, err
	}
	l := ledger.New(rdb, time.Now)
	accounts := max(watched/2, active)
	var out []account
	total := 0
	const chunk = 10_000
	for lo := 0; lo < accounts; lo += chunk {
		var regs []addressbook.Registration
		for i := lo; i < min(lo+chunk, accounts); i++ {
			a := account{id: "l-" + strconv.Itoa(i), evm: loadEVMAddress(i), tron: tronAddress("l-" + strconv.Itoa(i))}
			regs = append(regs, addressbook.Registration{Account: a.id, Family: chains.FamilyEVM, Address: a.evm.Hex()},
				addressbook.Registration{Account: a.id, Family: chains.FamilyTron, Address: a.tron})
			if i < active {
				a.solana = solWallet(a.id)
				regs = append(regs, addressbook.Registration{Account: a.id, Family: chains.FamilySolana, Address: a.solana.String()})
				if err := l.CreateAccount(ctx, ledger.Account{ID: ledger.AccountID(a.id), Name: a.id}); err != nil {
					return nil, 0, err
				}
				out = append(out, a)
			}
		}
		for _, r := range book.RegisterMany(ctx, regs) {
			if r.Err != nil {
				return nil, 0, fmt.Errorf("register: %w", r.Err)
			}
		}
		total += len(regs)
		if lo%(10*chunk) == 0 {
			logf("load: %d addresses registered", total)
		}
	}
	return out, total, nil
}

// loadEVMAddress is the i-th load account's EVM address (cheaper than a
// hash per address: 1M of them are made).
func loadEVMAddress(i int) common.Address {
	return common.BigToAddress(new(big.Int).Add(big.NewInt(0x1_0000_0000), big.NewInt(int64(i))))
}

// sendLoad sends rate/4 deposits per second on each chain to seeded active
// accounts until ctx ends: EVM deposits batched one transaction per block,
// Tron and Solana one transfer each, every 100 ms.
func sendLoad(ctx context.Context, n *nets, active []account, seed uint64, rate int, res *LoadResult) {
	var mu sync.Mutex
	var wg sync.WaitGroup
	count := func(chain string, k int) {
		mu.Lock()
		res.Sent[chain] += k
		res.SentTotal += k
		mu.Unlock()
	}
	every := func(d time.Duration, per float64, c int, send func(rng *rand.Rand, k int) error) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(seed, uint64(c)))
			t := time.NewTicker(d)
			defer t.Stop()
			owed := 0.0
			for {
				select {
				case <-ctx.Done():
					return
				case <-t.C:
				}
				owed += per * d.Seconds()
				k := int(owed)
				owed -= float64(k)
				if k > 0 && send(rng, k) == nil {
					count(chainNames[c], k)
				}
			}
		}()
	}
	per := float64(rate) / float64(len(chainNames))
	pick := func(rng *rand.Rand) account { return active[rng.IntN(len(active))] }
	for c, e := range n.evm {
		every(e.block, per, c, func(rng *rand.Rand, k int) error {
			to := make([]common.Address, k)
			for i := range to {
				to[i] = pick(rng).evm
			}
			e.mu.Lock()
			defer e.mu.Unlock()
			_, err := e.chain.BatchTransfer(e.token, e.chain.Accounts()[0], to, pow10(e.decimals))
			return err
		})
	}
	every(100*time.Millisecond, per, 2, func(rng *rand.Rand, k int) error {
		t := n.tron
		t.mu.Lock()
		defer t.mu.Unlock()
		for range k {
			if _, err := t.node.Transfer(t.usdt, t.sender, pick(rng).tron, big.NewInt(1_000_000)); err != nil {
				return err
			}
		}
		return nil
	})
	every(100*time.Millisecond, per, 3, func(rng *rand.Rand, k int) error {
		s := n.sol
		s.mu.Lock()
		defer s.mu.Unlock()
		for range k {
			if _, err := s.node.Transfer(s.mint, s.sender, pick(rng).solana, 1_000_000); err != nil {
				return err
			}
		}
		return nil
	})
	wg.Wait()
}

// clock feeds each chain's final block to fc every 20 ms until ctx ends.
func (n *nets) clock(ctx context.Context, fc *finalClock) {
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	for {
		for c, name := range chainNames {
			if _, f, err := n.final(ctx, c); err == nil {
				fc.observe(name, f, time.Now())
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// sampleRSS keeps the largest resident set seen of each daemon process.
func sampleRSS(ctx context.Context, daemons []*daemon, out []int64) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		for i, d := range daemons {
			if v := d.rss(); v > out[i] {
				out[i] = v
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// commandsProcessed reads Redis's total_commands_processed.
func commandsProcessed(ctx context.Context, rdb redis.UniversalClient) (int64, error) {
	info, err := rdb.Info(ctx, "stats").Result()
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(info, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "total_commands_processed:"); ok {
			return strconv.ParseInt(v, 10, 64)
		}
	}
	return 0, fmt.Errorf("redis INFO stats: no total_commands_processed")
}

// Print writes the load figures.
func (r *LoadResult) Print(w io.Writer) {
	fmt.Fprintf(w, "load: %d deposits/s offered for %s, %d watched addresses (registered in %s), %d depositd processes\n",
		r.Rate, r.Duration, r.Watched, r.RegisterTime.Round(time.Second), r.Daemons)
	fmt.Fprintf(w, "  sent %d (%v) = %.1f/s\n", r.SentTotal, r.Sent, float64(r.SentTotal)/r.Duration.Seconds())
	fmt.Fprintf(w, "  credited webhooks while sending %d = %.1f/s; by the end of the drain %d (drain %s)\n",
		r.CreditedInPhase, float64(r.CreditedInPhase)/r.Duration.Seconds(), r.Credited, r.DrainTime.Round(time.Second))
	fmt.Fprintf(w, "  events received %d\n", r.Events)
	fmt.Fprintf(w, "  block final -> deposit.credited webhook: p50 %s, p99 %s, max %s\n", r.P50.Round(time.Millisecond), r.P99.Round(time.Millisecond), r.Max.Round(time.Millisecond))
	for i, b := range r.MaxRSS {
		fmt.Fprintf(w, "  depositd %d max RSS %d MiB\n", i, b>>20)
	}
	fmt.Fprintf(w, "  redis commands/s while sending %.0f\n", r.RedisOpsPerSec)
}
