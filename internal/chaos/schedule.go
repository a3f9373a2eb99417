package chaos

import (
	"math/rand/v2"
	"slices"
	"time"
)

// faultKind is one kind of scheduled fault.
type faultKind int

const (
	kindKill         faultKind = iota // kill -9 of one depositd process
	kindRedisRestart                  // kill -9 of redis-server, restarted after Dur
	kindReorg                         // a reorg above finality on one chain
	kindLag                           // a lagging head on one chain's endpoint for Dur
	kindHookOutage                    // the webhook receiver answers 503 for Dur
	nKinds
)

func (k faultKind) String() string {
	return [...]string{"depositd kill -9", "redis-server kill -9 + restart", "reorg", "lagging head", "webhook receiver outage"}[k]
}

// fault is one scheduled action.
type fault struct {
	At     time.Duration // from the start of the fault phase
	Kind   faultKind
	Target int // daemon index, or chain index (0 ethereum, 1 bsc, 2 tron, 3 solana)
	Depth  int // reorg depth, lag in blocks
	Dur    time.Duration
}

// chainNames index fault targets.
var chainNames = []string{"ethereum", "bsc", "tron", "solana"}

// Rates of the schedule: mean gap between faults of each kind.
type rates struct {
	kill, redis, reorg, lag, outage time.Duration
}

var defaultRates = rates{
	kill:   4 * time.Second,
	redis:  25 * time.Second,
	reorg:  1500 * time.Millisecond,
	lag:    10 * time.Second,
	outage: 20 * time.Second,
}

// schedule draws the whole fault plan of a campaign from its seed: the
// same seed, length and daemon count give the same plan.
func schedule(seed uint64, length time.Duration, daemons int, r rates) []fault {
	rng := rand.New(rand.NewPCG(seed, 0x5c4ed))
	// gap draws uniformly in [mean/2, 3·mean/2).
	gap := func(mean time.Duration) time.Duration {
		return mean/2 + time.Duration(rng.Int64N(int64(mean)))
	}
	var out []fault
	add := func(mean time.Duration, mk func(at time.Duration) fault) {
		for at := gap(mean); at < length; at += gap(mean) {
			out = append(out, mk(at))
		}
	}
	add(r.kill, func(at time.Duration) fault {
		return fault{At: at, Kind: kindKill, Target: rng.IntN(daemons)}
	})
	add(r.redis, func(at time.Duration) fault {
		return fault{At: at, Kind: kindRedisRestart, Dur: time.Duration(200+rng.IntN(1800)) * time.Millisecond}
	})
	add(r.reorg, func(at time.Duration) fault {
		c := rng.IntN(len(chainNames))
		maxDepth := [...]int{maxEVMReorg, maxEVMReorg, maxTronReorg, maxSolanaReorg}[c]
		return fault{At: at, Kind: kindReorg, Target: c, Depth: 1 + rng.IntN(maxDepth)}
	})
	add(r.lag, func(at time.Duration) fault {
		// One chain's endpoint serves a stale head.
		return fault{At: at, Kind: kindLag, Target: rng.IntN(len(chainNames)), Depth: 2 + rng.IntN(6), Dur: time.Duration(1+rng.IntN(5)) * time.Second}
	})
	add(r.outage, func(at time.Duration) fault {
		return fault{At: at, Kind: kindHookOutage, Dur: time.Duration(1+rng.IntN(8)) * time.Second}
	})
	slices.SortStableFunc(out, func(a, b fault) int { return int(a.At - b.At) })
	return out
}
