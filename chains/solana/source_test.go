package solana

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/depositd/depositd/chains"
	"github.com/depositd/depositd/internal/devnet/solnet"
	"github.com/gagliardetto/solana-go"
)

// net is a solnet node with a configured legacy-Token mint (USDC at its
// mainnet address), a Token-2022 mint and a funded sender.
type net struct {
	node   *solnet.Node
	pyusd  solana.PublicKey
	sender solana.PublicKey
	mints  []Mint
}

func startNet(t testing.TB, opts solnet.Options) *net {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	node, err := solnet.Start(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { node.Close() })
	n := &net{node: node, sender: node.NewWallet()}
	must(t, node.CreateMintAt(usdcMint, solana.TokenProgramID, 6))
	if n.pyusd, err = node.CreateMint(solana.Token2022ProgramID, 6); err != nil {
		t.Fatal(err)
	}
	n.mints = []Mint{usdc, {Symbol: "PYUSD", Mint: n.pyusd, Program: solana.Token2022ProgramID, Decimals: 6}}
	for _, m := range []solana.PublicKey{usdcMint, n.pyusd} {
		if _, err := node.MintTo(m, n.sender, 1_000_000_000_000); err != nil {
			t.Fatal(err)
		}
	}
	node.Mine()
	return n
}

func (n *net) client(t *testing.T, mutate func(*Config)) *Client {
	t.Helper()
	cfg := Config{Endpoints: n.node.URLs(), Mints: n.mints, MinBackoff: time.Millisecond, MaxBackoff: time.Millisecond, RequestTimeout: 5 * time.Second}
	if mutate != nil {
		mutate(&cfg)
	}
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// drops collects OnDrop events.
type drops struct {
	mu sync.Mutex
	ds []Drop
}

func (d *drops) add(x Drop) { d.mu.Lock(); d.ds = append(d.ds, x); d.mu.Unlock() }

func (d *drops) reasons(sig string) []DropReason {
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []DropReason
	for _, x := range d.ds {
		if x.TxID == sig {
			out = append(out, x.Reason)
		}
	}
	return out
}

func TestTransfersAgainstNode(t *testing.T) {
	n := startNet(t, solnet.Options{FinalLag: 2})
	node := n.node
	wallet, attacker, foreignWallet := node.NewWallet(), node.NewWallet(), node.NewWallet()
	walletATA, err := node.ATA(wallet, usdcMint)
	must(t, err)
	foreignMint, err := node.CreateMint(solana.TokenProgramID, 6)
	must(t, err)
	_, err = node.MintTo(foreignMint, n.sender, 1_000_000)
	must(t, err)
	_, attackerAcct, err := node.CreateAccount(usdcMint, attacker)
	must(t, err)
	_, handedOver, err := node.CreateAccount(usdcMint, attacker)
	must(t, err)
	node.Mine()
	_, err = node.SetOwner(handedOver, wallet)
	must(t, err)
	start := node.Mine()

	var d drops
	c := n.client(t, func(cfg *Config) {
		cfg.OnDrop = d.add
		cfg.NestedOwner = func(k chains.AddrKey) bool { return k == chains.AddrKey(walletATA) }
	})
	sigCreate, err := node.Transfer(usdcMint, n.sender, wallet, 100_000)
	must(t, err)
	sigFailed, err := node.FailedTransfer(usdcMint, n.sender, foreignWallet, 5_000)
	must(t, err)
	node.Mine()
	node.Skip(3)
	sigAgain, err := node.Transfer(usdcMint, n.sender, wallet, 24_737_625)
	must(t, err)
	sig2022, err := node.Transfer(n.pyusd, n.sender, wallet, 777)
	must(t, err)
	sigForeign, err := node.Transfer(foreignMint, n.sender, wallet, 999)
	must(t, err)
	sigOwner, err := node.TransferAndSetOwner(usdcMint, n.sender, attackerAcct, wallet, 5_000_000)
	must(t, err)
	sigNested, _, err := node.NestedTransfer(usdcMint, n.sender, wallet, 42)
	must(t, err)
	// Into an account handed to the wallet earlier: the owner does not
	// change in this tx, so it is reported, with the account as Holder,
	// which is not the wallet's ATA, so the watcher does not credit it.
	sigHanded, err := node.TransferAndSetOwner(usdcMint, n.sender, handedOver, wallet, 3)
	must(t, err)
	end := node.Mine()

	got, err := c.Transfers(ctxT(t), start+1, end)
	must(t, err)
	hs, err := c.Headers(ctxT(t), start+1, end)
	must(t, err)
	if len(hs) != 2 || hs[0].Number != start+1 || hs[1].Number != end || end != start+5 {
		t.Fatalf("headers %+v over [%d, %d] with 3 skipped slots; want 2 produced slots", hs, start+1, end)
	}
	hash := map[uint64]string{hs[0].Number: hs[0].Hash, hs[1].Number: hs[1].Hash}
	want := map[string]struct {
		token  string
		amount int64
	}{sigCreate: {"USDC", 100_000}, sigAgain: {"USDC", 24_737_625}, sig2022: {"PYUSD", 777}}
	if len(got) != len(want)+1 {
		t.Fatalf("transfers %+v; want %d", got, len(want)+1)
	}
	for _, tr := range got {
		if tr.TxID == sigHanded {
			if tr.Holder != handedOver.String() || tr.Holder == walletATA.String() || tr.To != wallet.String() || tr.Amount.Int64() != 3 {
				t.Errorf("transfer into the handed-over account %+v; want holder %s", tr, handedOver)
			}
			continue
		}
		w, ok := want[tr.TxID]
		if !ok {
			t.Errorf("unexpected transfer %+v", tr)
			continue
		}
		ata, err := node.ATA(wallet, mintOf(n, w.token))
		must(t, err)
		if tr.Token != w.token || tr.Amount.Int64() != w.amount || tr.To != wallet.String() || tr.ToKey != chains.AddrKey(wallet) ||
			tr.Holder != ata.String() || tr.HolderKey != chains.AddrKey(ata) || tr.From != n.sender.String() || tr.BlockHash != hash[tr.Block] ||
			tr.Chain != "solana" || tr.Decimals != 6 || tr.Contract != mintOf(n, w.token).String() {
			t.Errorf("transfer %+v; want %d %s to %s via %s", tr, w.amount, w.token, wallet, ata)
		}
	}
	tests := []struct {
		name string
		sig  string
		want []DropReason
	}{
		{"failed transaction", sigFailed, nil},
		{"foreign mint", sigForeign, nil},
		{"owner changed in the same transaction", sigOwner, []DropReason{DropOwnerChanged}},
		{"nested ATA", sigNested, []DropReason{DropNested}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for _, tr := range got {
				if tr.TxID == tc.sig {
					t.Fatalf("reported %+v", tr)
				}
			}
			if r := d.reasons(tc.sig); len(r) != len(tc.want) || (len(r) > 0 && r[0] != tc.want[0]) {
				t.Fatalf("drops %v; want %v", r, tc.want)
			}
		})
	}
}

func mintOf(n *net, token string) solana.PublicKey {
	if token == "PYUSD" {
		return n.pyusd
	}
	return usdcMint
}

func TestHeadsAndFinality(t *testing.T) {
	n := startNet(t, solnet.Options{FinalLag: 3})
	c := n.client(t, nil)
	for range 5 {
		n.node.Mine()
	}
	h, err := c.Heads(ctxT(t))
	must(t, err)
	conf, fin := n.node.Slot()
	if h.Latest != conf || h.Final != fin || h.Safe != fin || fin+3 != conf {
		t.Fatalf("heads %+v; node confirmed %d finalized %d (lag 3)", h, conf, fin)
	}
	if hs, err := c.Headers(ctxT(t), conf+1, conf+2); !errors.Is(err, chains.ErrNotFound) {
		t.Fatalf("Headers above confirmed = %v, %v; want ErrNotFound", hs, err)
	}
	if ts, err := c.Transfers(ctxT(t), conf, conf+1); !errors.Is(err, chains.ErrNotFound) {
		t.Fatalf("Transfers above confirmed = %v, %v; want ErrNotFound", ts, err)
	}
}

func TestForkAboveFinalized(t *testing.T) {
	n := startNet(t, solnet.Options{FinalLag: 10})
	c := n.client(t, nil)
	wallet := n.node.NewWallet()
	_, err := n.node.Transfer(usdcMint, n.sender, wallet, 5)
	must(t, err)
	for range 4 {
		n.node.Mine()
	}
	conf, _ := n.node.Slot()
	_, err = c.Heads(ctxT(t))
	must(t, err)
	before, err := c.Headers(ctxT(t), conf-3, conf)
	must(t, err)
	ts, err := c.Transfers(ctxT(t), conf-3, conf)
	must(t, err)
	if len(ts) != 1 {
		t.Fatalf("transfers before fork %+v; want 1", ts)
	}
	must(t, n.node.Fork(4))
	after, err := c.Headers(ctxT(t), conf-3, conf+1)
	must(t, err)
	if len(after) != 5 || len(before) != 4 {
		t.Fatalf("headers before %v after %v", before, after)
	}
	for i := range before {
		if before[i].Number != after[i].Number || before[i].Hash == after[i].Hash {
			t.Errorf("slot %d: hash %s before and %s after the fork", before[i].Number, before[i].Hash, after[i].Hash)
		}
	}
	ts, err = c.Transfers(ctxT(t), conf-3, conf+1)
	must(t, err)
	if len(ts) != 0 {
		t.Fatalf("transfers on the new branch %+v; want none (reverted)", ts)
	}
	if err := n.node.Fork(20); err == nil {
		t.Fatal("fork reaching below finalized accepted")
	}
}

func TestCheckTokens(t *testing.T) {
	n := startNet(t, solnet.Options{})
	tests := []struct {
		name   string
		mutate func(ms []Mint)
		config bool // want a *ConfigError
	}{
		{name: "matching mints", mutate: func([]Mint) {}},
		{name: "decimals differ", config: true, mutate: func(ms []Mint) { ms[0].Decimals = 9 }},
		{name: "program differs", config: true, mutate: func(ms []Mint) { ms[1].Program = solana.TokenProgramID }},
		{name: "no such mint", config: true, mutate: func(ms []Mint) { ms[0].Mint = key(77) }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := n.client(t, func(cfg *Config) {
				cfg.Mints = append([]Mint(nil), n.mints...)
				tc.mutate(cfg.Mints)
			})
			err := c.CheckTokens(ctxT(t))
			var ce *ConfigError
			if tc.config != errors.As(err, &ce) || (!tc.config && err != nil) {
				t.Fatalf("CheckTokens = %v; want config error %v", err, tc.config)
			}
		})
	}
}
