// Package chaos is the seeded whole-pipeline fault campaign: it runs
// redis-server (AOF, appendfsync always), two local EVM chains, a Tron and
// a Solana node, N real depositd processes and a webhook receiver; drives
// deposits and statements; injects faults drawn from the seed (kill -9 of
// depositd, kill -9 and restart of redis-server, RPC errors, timeouts and
// truncated answers, lagging heads, reorgs above finality, receiver
// failures); then stops the faults, waits for quiescence and checks that
// every final transfer to a watched address was credited exactly once,
// that money is conserved, that statements were paid in sequence, that
// every event was delivered or dead-lettered, and that `depositd verify`
// is clean.
package chaos

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/gagliardetto/solana-go"
	"github.com/redis/go-redis/v9"

	"github.com/depositd/depositd/addressbook"
	"github.com/depositd/depositd/internal/redistest"
	"github.com/depositd/depositd/settlement"
	"github.com/depositd/depositd/settlement/ledger"
)

// Options configure a campaign.
type Options struct {
	Seed     uint64
	Duration time.Duration // length of the fault phase
	Daemons  int           // depositd processes (1..8), sharing the chains by lease
	Bin      string        // the depositd binary
	Dir      string        // work dir for Redis data, configs and logs; "" = a temp dir
	Accounts int           // customers (default 12)
	// DepositEvery and StatementEvery pace the workload (defaults 100ms, 1s).
	DepositEvery, StatementEvery time.Duration
	// RPCFaultRate is the share of RPC requests that fail while faults run
	// (default 0.10); the receiver fails the same share of deliveries.
	RPCFaultRate float64
	// Quiesce bounds the wait for the daemons to catch up after the faults
	// stop (default 5 minutes).
	Quiesce  time.Duration
	Progress io.Writer // progress lines; nil = none
}

func (o *Options) defaults() error {
	if o.Bin == "" {
		return errors.New("chaos: Bin (the depositd binary) is required")
	}
	if o.Duration <= 0 {
		return errors.New("chaos: Duration must be positive")
	}
	if o.Daemons < 1 || o.Daemons > 8 {
		return fmt.Errorf("chaos: Daemons %d: want 1 to 8", o.Daemons)
	}
	if o.Accounts <= 0 {
		o.Accounts = 12
	}
	if o.DepositEvery <= 0 {
		o.DepositEvery = 100 * time.Millisecond
	}
	if o.StatementEvery <= 0 {
		o.StatementEvery = time.Second
	}
	if o.RPCFaultRate == 0 {
		o.RPCFaultRate = 0.10
	}
	if o.Quiesce <= 0 {
		o.Quiesce = 5 * time.Minute
	}
	if o.Progress == nil {
		o.Progress = io.Discard
	}
	return nil
}

// Run runs one campaign and returns its summary; the error is for a
// campaign that could not run, not for a failed check (see Summary.OK).
func Run(ctx context.Context, o Options) (*Summary, error) {
	if err := o.defaults(); err != nil {
		return nil, err
	}
	st, err := startStage(ctx, o.Dir, "depositd-chaos-", o.Seed, o.Progress)
	if err != nil {
		return nil, err
	}
	defer st.close()
	o.Dir = st.dir
	rs, n, logf := st.rs, st.nets, st.logf
	rdb := redis.NewClient(&redis.Options{Addr: rs.Addr(), MaxRetries: 20, MinRetryBackoff: 50 * time.Millisecond, MaxRetryBackoff: time.Second})
	defer rdb.Close()

	l := ledger.New(rdb, time.Now)
	w := &workload{nets: n, accounts: newAccounts(o.Accounts), ledger: l, sent: map[string]int{},
		settle: settlement.New(l, rdb, settlement.Config{}, time.Now)}
	book, err := addressbook.New(rdb, addressbook.Options{Mints: []addressbook.SolanaMint{{Mint: n.sol.mint, Program: solana.TokenProgramID}}})
	if err != nil {
		return nil, err
	}
	if err := w.setup(ctx, book, o.Seed); err != nil {
		return nil, fmt.Errorf("chaos setup: %w", err)
	}
	secret := webhookSecret(o.Seed)
	recv, err := startReceiver(secret, o.Seed)
	if err != nil {
		return nil, err
	}
	defer recv.close()

	daemons, err := makeDaemons(o, n, rs.URL(), recv.URL(), secret, campaignLeaseTTL)
	if err != nil {
		return nil, err
	}
	runCtx, stopAll := context.WithCancel(ctx)
	defer stopAll()
	var bg sync.WaitGroup
	mineErr := make(chan error, 1)
	bg.Add(1 + len(daemons))
	go func() { defer bg.Done(); mineErr <- n.mine(runCtx) }()
	for _, d := range daemons {
		go func() { defer bg.Done(); _ = d.supervise(runCtx) }()
	}
	defer bg.Wait()
	logf("chaos: %d depositd processes, redis %s, dir %s", len(daemons), rs.Addr(), o.Dir)
	if err := waitWatching(ctx, rdb, 3*time.Minute); err != nil {
		return nil, err
	}

	plan := schedule(o.Seed, o.Duration, len(daemons), defaultRates)
	in := &injector{nets: n, redis: rs, daemons: daemons, recv: recv, rpcRate: o.RPCFaultRate}
	logf("chaos: fault phase %s, seed %d, %d planned faults", o.Duration, o.Seed, len(plan))
	phase, endPhase := context.WithTimeout(runCtx, o.Duration)
	var load sync.WaitGroup
	load.Add(3)
	go func() { defer load.Done(); w.deposits(phase, o.Seed, o.DepositEvery) }()
	go func() { defer load.Done(); w.statementsLoop(phase, o.Seed, o.StatementEvery) }()
	go func() { defer load.Done(); in.run(phase, plan) }()
	load.Wait()
	endPhase()
	if err := in.stop(ctx); err != nil {
		return nil, fmt.Errorf("chaos: clearing faults: %w", err)
	}
	select {
	case err := <-mineErr:
		return nil, fmt.Errorf("chaos: mining stopped: %w", err)
	default:
	}
	logf("chaos: faults stopped; waiting for quiescence")
	s := &Summary{Seed: o.Seed, Duration: o.Duration, Daemons: len(daemons), Plan: len(plan)}
	s.collectFaults(in, daemons, recv)
	s.collectLoad(w)
	finals, qerr := quiesce(ctx, n, rdb, o.Quiesce)
	if qerr != nil {
		s.problem("quiescence: %v", qerr)
	}
	if err := waitWebhooks(ctx, rdb, o.Quiesce); err != nil {
		s.problem("webhooks: %v", err)
	}
	stopAll()
	bg.Wait()
	logf("chaos: checking")
	ck := &checker{nets: n, rdb: rdb, ledger: l, settle: w.settle, accounts: w.accounts, recv: recv, s: s}
	if qerr == nil {
		if err := ck.run(ctx, finals); err != nil {
			return nil, err
		}
	}
	s.verifyCLI(ctx, o.Bin, rs.URL())
	return s, nil
}

// campaignLeaseTTL is the campaign's chain lease TTL: short, so that a
// killed holder's chains move to another process within seconds.
const campaignLeaseTTL = "2s"

// makeDaemons writes one config per process: every process configures all
// four chains and scans those whose lease it holds; every process runs
// settlement, webhooks and the API on the shared Redis.
func makeDaemons(o Options, n *nets, redisURL, hookURL, secret, leaseTTL string) ([]*daemon, error) {
	env := []string{envToken + "=" + fmt.Sprintf("%x", sha256.Sum256([]byte(secret)))[:32], envSecret + "=" + secret}
	var out []*daemon
	for i := range o.Daemons {
		p := cfgParams{RedisURL: redisURL, WebhookURL: hookURL, LeaseTTL: leaseTTL, Chains: n.chainConfigs()}
		d, err := newDaemon(i, o.Bin, o.Dir, p, env)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, nil
}

// webhookSecret is a Standard Webhooks secret derived from the seed.
func webhookSecret(seed uint64) string {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], seed)
	k := sha256.Sum256(append([]byte("depositd-chaos-webhook:"), b[:]...))
	return "whsec_" + base64.StdEncoding.EncodeToString(k[:])
}

func pingable(s *redistest.Server) bool {
	c := redis.NewClient(&redis.Options{Addr: s.Addr(), MaxRetries: -1, DialTimeout: time.Second})
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	return c.Ping(ctx).Err() == nil
}
