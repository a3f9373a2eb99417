package solnet

import (
	"context"
	"testing"
	"time"

	"github.com/gagliardetto/solana-go"
	"github.com/gagliardetto/solana-go/rpc"
)

func start(t *testing.T, opts Options) (*Node, *rpc.Client) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	n, err := Start(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Close() })
	return n, rpc.New(n.URL())
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestTypedClient reads the node through solana-go's typed methods: the
// answers must decode as a real node's do.
func TestTypedClient(t *testing.T) {
	n, cl := start(t, Options{FinalLag: 1})
	ctx := context.Background()
	mint, err := n.CreateMint(solana.Token2022ProgramID, 9)
	must(t, err)
	from, to := n.NewWallet(), n.NewWallet()
	_, err = n.MintTo(mint, from, 1000)
	must(t, err)
	sig, err := n.Transfer(mint, from, to, 400)
	must(t, err)
	failed, err := n.FailedTransfer(mint, from, to, 1)
	must(t, err)
	slot := n.Mine()
	n.Mine()

	t.Run("mint account", func(t *testing.T) {
		res, err := cl.GetAccountInfoWithOpts(ctx, mint, &rpc.GetAccountInfoOpts{Encoding: solana.EncodingBase64})
		must(t, err)
		d := res.Value.Data.GetBinary()
		if res.Value.Owner != solana.Token2022ProgramID || len(d) != 82 || d[44] != 9 || d[45] != 1 {
			t.Fatalf("mint owner %s data %x", res.Value.Owner, d)
		}
	})
	t.Run("token account balance and owner", func(t *testing.T) {
		ata, err := n.ATA(to, mint)
		must(t, err)
		amount, owner, ok := n.Balance(ata)
		if !ok || amount != 400 || owner != to {
			t.Fatalf("balance %d owner %s ok %v", amount, owner, ok)
		}
		res, err := cl.GetAccountInfoWithOpts(ctx, ata, &rpc.GetAccountInfoOpts{Encoding: solana.EncodingBase64})
		must(t, err)
		if d := res.Value.Data.GetBinary(); solana.PublicKeyFromBytes(d[32:64]) != to || d[64] != 144 || d[65] != 1 {
			t.Fatalf("account data %x", d)
		}
	})
	t.Run("signature statuses", func(t *testing.T) {
		res, err := cl.GetSignatureStatuses(ctx, false, solana.MustSignatureFromBase58(sig), solana.MustSignatureFromBase58(failed))
		must(t, err)
		ok, bad := res.Value[0], res.Value[1]
		if ok == nil || ok.Slot != slot || ok.Err != nil || ok.ConfirmationStatus != rpc.ConfirmationStatusFinalized ||
			bad == nil || bad.Err == nil {
			t.Fatalf("statuses %+v %+v", ok, bad)
		}
	})
	t.Run("slots and produced blocks", func(t *testing.T) {
		n.Skip(5)
		last := n.Mine()
		got, err := cl.GetSlot(ctx, rpc.CommitmentConfirmed)
		must(t, err)
		end := last
		blocks, err := cl.GetBlocks(ctx, slot, &end, rpc.CommitmentConfirmed)
		must(t, err)
		if got != last || len(blocks) != 3 || blocks[2] != last || blocks[1] != slot+1 {
			t.Fatalf("slot %d blocks %v; want %d and [%d %d %d]", got, blocks, last, slot, slot+1, last)
		}
	})
}

func TestForkRevertsBalances(t *testing.T) {
	n, _ := start(t, Options{FinalLag: 5})
	mint, err := n.CreateMint(solana.TokenProgramID, 6)
	must(t, err)
	from, to := n.NewWallet(), n.NewWallet()
	_, err = n.MintTo(mint, from, 100)
	must(t, err)
	for range 6 {
		n.Mine()
	}
	_, err = n.Transfer(mint, from, to, 30)
	must(t, err)
	n.Mine()
	ata, err := n.ATA(to, mint)
	must(t, err)
	if amount, _, ok := n.Balance(ata); !ok || amount != 30 {
		t.Fatalf("before fork: %d, %v", amount, ok)
	}
	conf, _ := n.Slot()
	old, _ := n.Block(conf)
	must(t, n.Fork(1))
	if _, _, ok := n.Balance(ata); ok {
		t.Fatal("ATA created on the dropped branch still exists")
	}
	src, err := n.ATA(from, mint)
	must(t, err)
	if amount, _, _ := n.Balance(src); amount != 100 {
		t.Fatalf("sender holds %d after fork; want 100", amount)
	}
	if now, ok := n.Block(conf); !ok || now == old {
		t.Fatalf("slot %d hash %s after fork, was %s", conf, now, old)
	}
}

func TestRunMinesPerTick(t *testing.T) {
	n, _ := start(t, Options{})
	ctx, cancel := context.WithCancel(context.Background())
	tick := make(chan time.Time)
	done := make(chan error, 1)
	go func() { done <- n.Run(ctx, tick) }()
	for range 3 {
		tick <- time.Time{}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if conf, _ := n.Slot(); conf != 3 {
		t.Fatalf("confirmed slot %d after 3 ticks; want 3", conf)
	}
}

func TestSetFinalLag(t *testing.T) {
	n, cl := start(t, Options{FinalLag: 4})
	for range 6 {
		n.Mine()
	}
	tests := []struct {
		name      string
		lag       uint64
		finalized uint64
	}{
		{name: "lag 4", lag: 4, finalized: 2},
		{name: "lag 0 finalizes the tip", lag: 0, finalized: 6},
		{name: "lag beyond the chain keeps genesis", lag: 50, finalized: 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			n.SetFinalLag(tc.lag)
			got, err := cl.GetSlot(context.Background(), rpc.CommitmentFinalized)
			must(t, err)
			if _, fin := n.Slot(); got != tc.finalized || fin != tc.finalized {
				t.Fatalf("finalized %d (node %d); want %d", got, fin, tc.finalized)
			}
		})
	}
}
