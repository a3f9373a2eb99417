package solana

import (
	"context"
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/depositd/depositd/internal/devnet/solnet"
	"github.com/gagliardetto/solana-go/rpc"
)

const (
	benchSlots     = 200
	benchTransfers = 20 // per slot
)

// backfill builds benchSlots finalized slots of benchTransfers USDC
// transfers each (every one creating its recipient's ATA), with a skipped
// slot after every tenth.
func backfill(b *testing.B) (*net, uint64, uint64) {
	b.Helper()
	n := startNet(b, solnet.Options{FinalLag: 1})
	first, _ := n.node.Slot()
	first++
	for s := range benchSlots {
		for range benchTransfers {
			if _, err := n.node.Transfer(usdcMint, n.sender, n.node.NewWallet(), 1_000); err != nil {
				b.Fatal(err)
			}
		}
		n.node.Mine()
		if s%10 == 9 {
			n.node.Skip(1)
		}
	}
	n.node.Mine()
	last, _ := n.node.Slot()
	return n, first, last - 1
}

func benchClient(b *testing.B, n *net, concurrency int) *Client {
	c, err := New(Config{Endpoints: n.node.URLs(), Mints: n.mints, Concurrency: concurrency})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { c.Close() })
	if _, err := c.Heads(context.Background()); err != nil {
		b.Fatal(err)
	}
	return c
}

// BenchmarkTransfers measures Transfers over the backfill, one getBlock at
// a time (the ratio against BenchmarkBareGetBlock is the adapter's
// overhead) and with the default concurrency.
func BenchmarkTransfers(b *testing.B) {
	n, from, to := backfill(b)
	for _, bc := range []struct {
		name        string
		concurrency int
	}{{"sequential", 1}, {"concurrent-8", 8}} {
		b.Run(bc.name, func(b *testing.B) {
			c := benchClient(b, n, bc.concurrency)
			ctx := context.Background()
			var got int
			b.ResetTimer()
			for b.Loop() {
				ts, err := c.Transfers(ctx, from, to)
				if err != nil {
					b.Fatal(err)
				}
				got = len(ts)
			}
			if got != benchSlots*benchTransfers {
				b.Fatalf("%d transfers; want %d", got, benchSlots*benchTransfers)
			}
			reportRates(b)
		})
	}
}

// BenchmarkBareGetBlock is the floor: the same getBlock calls (accounts
// mode, jsonParsed, finalized) in a loop over the produced slots, results
// kept as raw JSON, through the same solana-go rpc client.
func BenchmarkBareGetBlock(b *testing.B) {
	n, from, to := backfill(b)
	cl := rpc.New(n.node.URL())
	ctx := context.Background()
	var slots []uint64
	if err := cl.RPCCallForInto(ctx, &slots, "getBlocks", []any{from, to, map[string]any{"commitment": "finalized"}}); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		for _, s := range slots {
			var raw json.RawMessage
			if err := cl.RPCCallForInto(ctx, &raw, "getBlock", []any{s, blockOpts}); err != nil {
				b.Fatal(err)
			}
		}
	}
	reportRates(b)
}

// BenchmarkTransfersVsBare interleaves one bare getBlock pass and one
// sequential Transfers pass per iteration over the same backfill, so load
// from other processes hits both alike, and reports the median of the
// per-iteration time ratios (goal <= 1.3) and the ratio of summed times.
func BenchmarkTransfersVsBare(b *testing.B) {
	n, from, to := backfill(b)
	c := benchClient(b, n, 1)
	cl := rpc.New(n.node.URL())
	ctx := context.Background()
	var slots []uint64
	if err := cl.RPCCallForInto(ctx, &slots, "getBlocks", []any{from, to, map[string]any{"commitment": "finalized"}}); err != nil {
		b.Fatal(err)
	}
	var (
		bareSum, adapterSum time.Duration
		ratios              []float64
	)
	for b.Loop() {
		t0 := time.Now()
		for _, s := range slots {
			var raw json.RawMessage
			if err := cl.RPCCallForInto(ctx, &raw, "getBlock", []any{s, blockOpts}); err != nil {
				b.Fatal(err)
			}
		}
		t1 := time.Now()
		ts, err := c.Transfers(ctx, from, to)
		if err != nil || len(ts) != benchSlots*benchTransfers {
			b.Fatalf("%d transfers, %v", len(ts), err)
		}
		t2 := time.Now()
		bareSum, adapterSum = bareSum+t1.Sub(t0), adapterSum+t2.Sub(t1)
		ratios = append(ratios, float64(t2.Sub(t1))/float64(t1.Sub(t0)))
	}
	slices.Sort(ratios)
	b.ReportMetric(ratios[len(ratios)/2], "ratio-median")
	b.ReportMetric(float64(adapterSum)/float64(bareSum), "ratio-sum")
	b.ReportMetric(float64(b.N)*benchSlots/adapterSum.Seconds(), "slots/s")
	b.ReportMetric(float64(b.N)*benchSlots*benchTransfers/adapterSum.Seconds(), "transfers/s")
	b.ReportMetric(float64(b.N)*benchSlots/bareSum.Seconds(), "bare-slots/s")
}

var blockOpts = map[string]any{"encoding": "jsonParsed", "transactionDetails": "accounts", "maxSupportedTransactionVersion": 0,
	"rewards": false, "commitment": "finalized"}

func reportRates(b *testing.B) {
	sec := b.Elapsed().Seconds() / float64(b.N)
	b.ReportMetric(benchSlots/sec, "slots/s")
	b.ReportMetric(benchSlots*benchTransfers/sec, "transfers/s")
}
