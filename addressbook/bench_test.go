package addressbook

import (
	"context"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"runtime"
	"testing"

	"github.com/depositd/depositd/chains"
	"github.com/depositd/depositd/chains/address"
	"github.com/depositd/depositd/internal/redistest"
	"github.com/redis/go-redis/v9"
)

// mix is how many addresses of each family a benchmark loads.
type mix struct{ evm, tron, solana int }

func (m mix) total() int { return m.evm + m.tron + m.solana }

// benchKey makes a deterministic pseudo-random key.
func benchKey(r *rand.Rand) chains.AddrKey {
	var k chains.AddrKey
	for i := 0; i < 32; i += 8 {
		binary.LittleEndian.PutUint64(k[i:], r.Uint64())
	}
	return k
}

// populate writes m's addresses to addrlog in the format the register
// script writes (Entry.fields), pipelined, one distinct account each, and
// returns the keys per family. Solana wallets carry two stored token
// accounts (random keys: the index takes stored ones as they are).
func populate(b *testing.B, rdb *redis.Client, m mix) map[chains.Family][]chains.AddrKey {
	ctx := context.Background()
	r := rand.New(rand.NewPCG(1, 2))
	keys := map[chains.Family][]chains.AddrKey{}
	pipe := rdb.Pipeline()
	n := 0
	add := func(e Entry) {
		pipe.XAdd(ctx, &redis.XAddArgs{Stream: LogStream, Values: e.fields()})
		if n++; n%10000 == 0 {
			if _, err := pipe.Exec(ctx); err != nil {
				b.Fatal(err)
			}
		}
	}
	for f, count := range map[chains.Family]int{chains.FamilyEVM: m.evm, chains.FamilyTron: m.tron, chains.FamilySolana: m.solana} {
		for range count {
			k := benchKey(r)
			e := Entry{Account: fmt.Sprintf("acct-%07d", n), Family: f, Address: "-", Key: k}
			if f != chains.FamilySolana {
				clear(e.Key[20:])
			} else {
				for _, mint := range []SolanaMint{usdcMint, usdtMint} {
					a := benchKey(r)
					e.ATAs = append(e.ATAs, ATA{Mint: mint.Mint.String(), Account: address.Format(chains.FamilySolana, a)})
				}
			}
			keys[f] = append(keys[f], e.Key)
			add(e)
		}
	}
	if _, err := pipe.Exec(ctx); err != nil {
		b.Fatal(err)
	}
	return keys
}

func heapAlloc() uint64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// benchBuild loads an index of m from a real redis-server and reports the
// build time (ns/op) and the heap the index retains (heap-MB, from
// runtime.MemStats.HeapAlloc before and after, both after GC).
func benchBuild(b *testing.B, m mix) {
	rdb := redistest.New(b).Client(b)
	populate(b, rdb, m)
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		before := heapAlloc()
		b.StartTimer()
		x, err := NewIndex(rdb, []SolanaMint{usdcMint, usdtMint}, IndexOptions{Logger: quiet})
		if err != nil {
			b.Fatal(err)
		}
		if err := x.Load(context.Background()); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		if x.Len() != m.total() {
			b.Fatalf("index has %d addresses, want %d", x.Len(), m.total())
		}
		b.ReportMetric(float64(heapAlloc()-before)/1e6, "heap-MB")
		runtime.KeepAlive(x)
		b.StartTimer()
	}
	b.ReportMetric(float64(m.total()), "addrs")
}

// BenchmarkIndexBuild100k is the quick variant of the 1M benchmarks.
func BenchmarkIndexBuild100k(b *testing.B) { benchBuild(b, mix{evm: 100_000}) }

// BenchmarkIndexBuild1M: 1,000,000 EVM addresses, one account each.
func BenchmarkIndexBuild1M(b *testing.B) { benchBuild(b, mix{evm: 1_000_000}) }

// BenchmarkIndexBuild1MMixed: 1,000,000 addresses across the families;
// each Solana wallet brings two token accounts (USDC, USDT).
func BenchmarkIndexBuild1MMixed(b *testing.B) {
	benchBuild(b, mix{evm: 400_000, tron: 300_000, solana: 300_000})
}

// BenchmarkIndexLookup1M measures ns/lookup on a 1M-address index, half
// hits and half misses, from one goroutine and from all of them.
func BenchmarkIndexLookup1M(b *testing.B) {
	rdb := redistest.New(b).Client(b)
	keys := populate(b, rdb, mix{evm: 1_000_000})[chains.FamilyEVM]
	x, err := NewIndex(rdb, nil, IndexOptions{Logger: quiet})
	if err != nil {
		b.Fatal(err)
	}
	if err := x.Load(context.Background()); err != nil {
		b.Fatal(err)
	}
	r := rand.New(rand.NewPCG(3, 4))
	probe := make([]chains.AddrKey, 1<<16)
	for i := range probe {
		if i%2 == 0 {
			probe[i] = keys[r.IntN(len(keys))]
		} else {
			probe[i] = benchKey(r)
			clear(probe[i][20:])
		}
	}
	b.Run("serial", func(b *testing.B) {
		b.ReportAllocs()
		hits := 0
		for i := range b.N {
			if _, ok := x.Lookup(chains.FamilyEVM, probe[i&(len(probe)-1)]); ok {
				hits++
			}
		}
		if b.N >= len(probe) && hits == 0 {
			b.Fatal("no hits")
		}
	})
	b.Run("parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			i := 0
			for pb.Next() {
				x.Lookup(chains.FamilyEVM, probe[i&(len(probe)-1)])
				i++
			}
		})
	})
}
