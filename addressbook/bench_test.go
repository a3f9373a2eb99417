package addressbook

import (
	"context"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/depositd/depositd/chains"
	"github.com/depositd/depositd/chains/address"
	"github.com/depositd/depositd/internal/redistest"
	"github.com/redis/go-redis/v9"
)

// The 1M benchmarks take minutes (most of it writing the stream):
//
//	go test -run '^$' -bench 'IndexBuild1M' -benchtime 1x ./addressbook
//
// BenchmarkIndexBuild100k is the quick variant.

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
// build time (ns/op wall, cpu-s/op of this process), the heap the index retains (heap-MB, from
// runtime.MemStats.HeapAlloc before and after, both after GC) and the cost
// of one Lookup on it (ns/lookup, half hits, half misses, one goroutine).
func benchBuild(b *testing.B, m mix) {
	rdb := redistest.New(b).Client(b)
	keys := populate(b, rdb, m)
	var x *Index
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		before := heapAlloc()
		cpu0 := cpuTime(syscall.RUSAGE_SELF)
		b.StartTimer()
		var err error
		x, err = NewIndex(rdb, []SolanaMint{usdcMint, usdtMint}, IndexOptions{Logger: quiet})
		if err != nil {
			b.Fatal(err)
		}
		if err := x.Load(context.Background()); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		b.ReportMetric((cpuTime(syscall.RUSAGE_SELF) - cpu0).Seconds(), "cpu-s/op")
		if x.Len() != m.total() {
			b.Fatalf("index has %d addresses, want %d", x.Len(), m.total())
		}
		b.ReportMetric(float64(heapAlloc()-before)/1e6, "heap-MB")
		runtime.KeepAlive(x)
		b.StartTimer()
	}
	b.ReportMetric(float64(m.total()), "addrs")
	wall, cpu := lookupNanos(b, x, keys)
	b.ReportMetric(wall, "ns/lookup")
	b.ReportMetric(cpu, "cpu-ns/lookup")
}

// cpuTime is the user+system CPU time of the process (RUSAGE_SELF) or of
// the calling thread (rusageThread). On a shared machine it separates our
// cost from the time other processes held the cores.
func cpuTime(who int) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(who, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// rusageThread is Linux's RUSAGE_THREAD.
const rusageThread = 1

// lookupNanos times lookups of every loaded key of the largest family and
// as many random misses, in a shuffled order, on one locked OS thread: wall
// and CPU nanoseconds per lookup.
func lookupNanos(b *testing.B, x *Index, keys map[chains.Family][]chains.AddrKey) (wall, cpu float64) {
	f := chains.FamilyEVM
	for g, ks := range keys {
		if len(ks) > len(keys[f]) {
			f = g
		}
	}
	r := rand.New(rand.NewPCG(3, 4))
	probe := append([]chains.AddrKey(nil), keys[f]...)
	for range len(keys[f]) {
		k := benchKey(r)
		if f != chains.FamilySolana {
			clear(k[20:])
		}
		probe = append(probe, k)
	}
	r.Shuffle(len(probe), func(i, j int) { probe[i], probe[j] = probe[j], probe[i] })
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	hits := 0
	start, cpu0 := time.Now(), cpuTime(rusageThread)
	for _, k := range probe {
		if _, ok := x.Lookup(f, k); ok {
			hits++
		}
	}
	n := float64(len(probe))
	wall = float64(time.Since(start).Nanoseconds()) / n
	cpu = float64((cpuTime(rusageThread) - cpu0).Nanoseconds()) / n
	if hits != len(keys[f]) {
		b.Fatalf("%d hits, want %d", hits, len(keys[f]))
	}
	return wall, cpu
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

// BenchmarkIndexBuild1MSolana: 1,000,000 Solana wallets, each with its two
// stored token accounts (USDC, USDT): 2,000,000 holders. Reports the build
// time (ns/op, cpu-s/op), the retained heap (heap-MB) and the cost of one
// LookupHolder (ns/lookup, cpu-ns/lookup; half hits, half misses):
//
//	go test -run '^$' -bench 'IndexBuild1MSolana' -benchtime 1x ./addressbook
func BenchmarkIndexBuild1MSolana(b *testing.B) {
	const wallets = 1_000_000
	rdb := redistest.New(b).Client(b)
	holders := populateSolana(b, rdb, wallets)
	var x *Index
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		before := heapAlloc()
		cpu0 := cpuTime(syscall.RUSAGE_SELF)
		b.StartTimer()
		var err error
		x, err = NewIndex(rdb, []SolanaMint{usdcMint, usdtMint}, IndexOptions{Logger: quiet})
		if err != nil {
			b.Fatal(err)
		}
		if err := x.Load(context.Background()); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		b.ReportMetric((cpuTime(syscall.RUSAGE_SELF) - cpu0).Seconds(), "cpu-s/op")
		if x.Len() != wallets {
			b.Fatalf("index has %d wallets, want %d", x.Len(), wallets)
		}
		b.ReportMetric(float64(heapAlloc()-before)/1e6, "heap-MB")
		runtime.KeepAlive(x)
		b.StartTimer()
	}
	b.ReportMetric(float64(len(holders)), "holders")
	wall, cpu := holderLookupNanos(b, x, holders)
	b.ReportMetric(wall, "ns/lookup")
	b.ReportMetric(cpu, "cpu-ns/lookup")
}

// populateSolana writes n Solana wallets to addrlog, each with a stored
// USDC and USDT token account, and returns every token account key.
func populateSolana(b *testing.B, rdb *redis.Client, n int) []chains.AddrKey {
	ctx := context.Background()
	r := rand.New(rand.NewPCG(5, 6))
	holders := make([]chains.AddrKey, 0, 2*n)
	pipe := rdb.Pipeline()
	for i := range n {
		e := Entry{Account: fmt.Sprintf("acct-%07d", i), Family: chains.FamilySolana, Address: "-", Key: benchKey(r)}
		for _, mint := range []SolanaMint{usdcMint, usdtMint} {
			h := benchKey(r)
			holders = append(holders, h)
			e.ATAs = append(e.ATAs, ATA{Mint: mint.Mint.String(), Account: address.Format(chains.FamilySolana, h)})
		}
		pipe.XAdd(ctx, &redis.XAddArgs{Stream: LogStream, Values: e.fields()})
		if (i+1)%10000 == 0 {
			if _, err := pipe.Exec(ctx); err != nil {
				b.Fatal(err)
			}
		}
	}
	if _, err := pipe.Exec(ctx); err != nil {
		b.Fatal(err)
	}
	return holders
}

// holderLookupNanos times LookupHolder over every token account and as many
// random misses, shuffled, on one locked OS thread: wall and CPU ns each.
func holderLookupNanos(b *testing.B, x *Index, holders []chains.AddrKey) (wall, cpu float64) {
	r := rand.New(rand.NewPCG(7, 8))
	probe := append([]chains.AddrKey(nil), holders...)
	for range holders {
		probe = append(probe, benchKey(r))
	}
	r.Shuffle(len(probe), func(i, j int) { probe[i], probe[j] = probe[j], probe[i] })
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	hits := 0
	start, cpu0 := time.Now(), cpuTime(rusageThread)
	for _, k := range probe {
		if _, _, ok := x.LookupHolder(k); ok {
			hits++
		}
	}
	n := float64(len(probe))
	wall = float64(time.Since(start).Nanoseconds()) / n
	cpu = float64((cpuTime(rusageThread) - cpu0).Nanoseconds()) / n
	if hits != len(holders) {
		b.Fatalf("%d hits, want %d", hits, len(holders))
	}
	return wall, cpu
}
