package chaos

import (
	"context"
	"math"
	"sync"
	"time"

	"github.com/depositd/depositd/internal/devnet/solnet"
	"github.com/depositd/depositd/internal/devnet/tronnet"
	"github.com/depositd/depositd/internal/redistest"
)

// injector applies the fault plan to the running parts and counts what it
// did.
type injector struct {
	nets    *nets
	redis   *redistest.Server
	daemons []*daemon
	recv    *receiver
	rpcRate float64

	redisMu sync.Mutex // one Redis restart at a time
	wg      sync.WaitGroup

	mu       sync.Mutex
	applied  [nKinds]int
	skipped  int // reorgs the chain was too close to finality for
	errs     []string
	tronReqs int
	tronErrs int
}

func (in *injector) count(k faultKind) {
	in.mu.Lock()
	in.applied[k]++
	in.mu.Unlock()
}

func (in *injector) fail(msg string) {
	in.mu.Lock()
	in.errs = append(in.errs, msg)
	in.mu.Unlock()
}

// run applies the plan at its times until ctx ends, with the RPC fault
// rate on every endpoint and the receiver failing a share of requests.
func (in *injector) run(ctx context.Context, plan []fault) {
	for _, p := range in.proxies() {
		p.resetCounts()
		p.setRate(in.rpcRate)
	}
	in.recv.setFailRate(in.rpcRate)
	in.wg.Add(1)
	go func() { defer in.wg.Done(); in.tronFaults(ctx) }()
	start := time.Now()
	for _, f := range plan {
		select {
		case <-ctx.Done():
			in.wg.Wait()
			return
		case <-time.After(time.Until(start.Add(f.At))):
		}
		in.apply(ctx, f)
	}
	<-ctx.Done()
	in.wg.Wait()
}

// stop clears every fault: rates to zero, lags off, receiver up, Redis up.
func (in *injector) stop(ctx context.Context) error {
	for _, p := range in.proxies() {
		p.setRate(0)
	}
	in.nets.sol.node.SetFault(0, nil)
	for _, e := range in.nets.evm {
		e.lag.SetLag(0)
	}
	n := in.nets.tron.node
	for _, a := range []string{n.Addr(), n.SolidityAddr()} {
		_ = n.SetLag(a, 0)
		_ = n.FailNext(a, 0)
	}
	in.recv.setFailRate(0)
	in.recv.setDown(false)
	in.redisMu.Lock()
	defer in.redisMu.Unlock()
	if !pingable(in.redis) {
		return in.redis.Restart(ctx)
	}
	return nil
}

func (in *injector) proxies() []*rpcProxy {
	out := []*rpcProxy{in.nets.sol.proxy}
	for _, e := range in.nets.evm {
		out = append(out, e.proxy)
	}
	return out
}

func (in *injector) apply(ctx context.Context, f fault) {
	switch f.Kind {
	case kindKill:
		in.daemons[f.Target%len(in.daemons)].kill9(true)
		in.count(f.Kind)
	case kindRedisRestart:
		in.count(f.Kind)
		in.later(func() {
			in.redisMu.Lock()
			defer in.redisMu.Unlock()
			in.redis.Kill()
			time.Sleep(f.Dur)
			if err := in.redis.Restart(context.WithoutCancel(ctx)); err != nil {
				in.fail("redis restart: " + err.Error())
			}
		})
	case kindReorg:
		var depth int
		var err error
		switch f.Target {
		case 0, 1:
			depth, err = in.nets.evm[f.Target].reorg(ctx, f.Depth)
		case 2:
			depth, err = in.nets.tron.reorg(f.Depth)
		default:
			depth, err = in.nets.sol.reorg(f.Depth)
		}
		switch {
		case err != nil:
			in.fail("reorg " + chainNames[f.Target] + ": " + err.Error())
		case depth == 0:
			in.mu.Lock()
			in.skipped++
			in.mu.Unlock()
		default:
			in.count(f.Kind)
		}
	case kindLag:
		in.count(f.Kind)
		in.later(func() {
			if f.Target < 2 {
				p := in.nets.evm[f.Target].lag
				p.SetLag(uint64(f.Depth))
				time.Sleep(f.Dur)
				p.SetLag(0)
				return
			}
			if f.Target == 2 {
				n := in.nets.tron.node
				_ = n.SetLag(n.Addr(), uint64(f.Depth))
				time.Sleep(f.Dur)
				_ = n.SetLag(n.Addr(), 0)
				return
			}
			in.nets.sol.node.SetFault(0, &solnet.Fault{Lag: uint64(f.Depth)})
			time.Sleep(f.Dur)
			in.nets.sol.node.SetFault(0, nil)
		})
	case kindHookOutage:
		in.count(f.Kind)
		in.later(func() {
			in.recv.setDown(true)
			time.Sleep(f.Dur)
			in.recv.setDown(false)
		})
	}
}

func (in *injector) later(fn func()) {
	in.wg.Add(1)
	go func() { defer in.wg.Done(); fn() }()
}

// tronFaults keeps the share of failed Tron gRPC calls at the RPC fault
// rate: every quarter second it arms as many Unavailable answers on each
// listener as the rate of the calls that listener served meanwhile
// (fractions carried over). The node counts arming, not consumption: a
// count not used up before the next arming is replaced, so the figure
// reported for Tron is an upper bound.
func (in *injector) tronFaults(ctx context.Context) {
	n := in.nets.tron.node
	addrs := []string{n.Addr(), n.SolidityAddr()}
	last := make([]int, len(addrs))
	for i, a := range addrs {
		last[i] = tronCalls(n, a)
	}
	owed := make([]float64, len(addrs)) // failures due but not yet armed
	t := time.NewTicker(250 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		for i, a := range addrs {
			total := tronCalls(n, a)
			owed[i] += float64(total-last[i]) * in.rpcRate
			k := int(math.Floor(owed[i]))
			owed[i] -= float64(k)
			in.mu.Lock()
			in.tronReqs += total - last[i]
			in.tronErrs += k
			in.mu.Unlock()
			last[i] = total
			if k > 0 {
				_ = n.FailNext(a, k)
			}
		}
	}
}

// tronCalls is how many calls the node's listener addr has served.
func tronCalls(n *tronnet.Node, addr string) int {
	calls, err := n.Calls(addr)
	if err != nil {
		return 0
	}
	total := 0
	for _, c := range calls {
		total += c
	}
	return total
}
