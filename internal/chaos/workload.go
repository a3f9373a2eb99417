package chaos

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"math/rand/v2"
	"strconv"
	"sync"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/gagliardetto/solana-go"
	"github.com/shopspring/decimal"

	"github.com/depositd/depositd/addressbook"
	"github.com/depositd/depositd/chains"
	"github.com/depositd/depositd/money"
	"github.com/depositd/depositd/settlement"
	"github.com/depositd/depositd/settlement/ledger"
)

// account is one customer of the campaign and its deposit addresses.
type account struct {
	id     string
	evm    common.Address
	tron   string
	solana solana.PublicKey
}

// workload drives deposits and statements from the seed.
type workload struct {
	nets     *nets
	accounts []account
	ledger   *ledger.Ledger
	settle   *settlement.Service

	mu         sync.Mutex
	sent       map[string]int // chain → deposits sent
	statements int
	sendErrs   int
}

func newAccounts(n int) []account {
	out := make([]account, n)
	for i := range out {
		id := "cust-" + strconv.Itoa(i)
		out[i] = account{id: id, evm: evmAddress(id), tron: tronAddress(id), solana: solWallet(id)}
	}
	return out
}

// setup creates the accounts (credit lines on some), registers their
// addresses, grants a cash coupon to some and a discount to others. It runs
// before any depositd process and any fault.
func (w *workload) setup(ctx context.Context, book *addressbook.Book, seed uint64) error {
	rng := rand.New(rand.NewPCG(seed, 0xacc))
	now := time.Now()
	for i, a := range w.accounts {
		limit := money.Units(0)
		if i%3 == 1 {
			limit = usd(int64(100+rng.IntN(400)) * 100)
		}
		if err := w.ledger.CreateAccount(ctx, ledger.Account{ID: ledger.AccountID(a.id), Name: a.id, CreditLimit: limit}); err != nil {
			return err
		}
		for f, addr := range map[chains.Family]string{chains.FamilyEVM: a.evm.Hex(), chains.FamilyTron: a.tron, chains.FamilySolana: a.solana.String()} {
			if _, err := book.Register(ctx, a.id, f, addr); err != nil {
				return fmt.Errorf("register %s %s: %w", a.id, f, err)
			}
		}
		if i%2 == 0 {
			c := settlement.Coupon{ID: "cpn-" + a.id, Account: a.id, Balance: usd(int64(10+rng.IntN(90)) * 100), Expires: now.AddDate(1, 0, 0)}
			if err := w.settle.AddCoupon(ctx, c); err != nil {
				return err
			}
		}
		if i%4 == 3 {
			d := settlement.Discount{ID: "dsc-" + a.id, Account: a.id, Kind: settlement.Commercial,
				Rate: decimal.New(int64(5+rng.IntN(20)), -2), From: now.AddDate(-1, 0, 0), Until: now.AddDate(1, 0, 0)}
			if err := w.settle.AddDiscount(ctx, d); err != nil {
				return err
			}
		}
	}
	return nil
}

// deposits sends one deposit per tick (chain, account and amount from the
// seed) until ctx ends. A send that fails is counted and not retried: the
// checker's truth is the chain, not what was attempted.
func (w *workload) deposits(ctx context.Context, seed uint64, every time.Duration) {
	rng := rand.New(rand.NewPCG(seed, 0xde9))
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		c := rng.IntN(len(chainNames))
		a := w.accounts[rng.IntN(len(w.accounts))]
		cents := int64(100 + rng.IntN(50_000)) // 1.00 to 500.99
		if err := w.send(c, a, cents); err != nil {
			w.mu.Lock()
			w.sendErrs++
			w.mu.Unlock()
			continue
		}
		w.mu.Lock()
		w.sent[chainNames[c]]++
		w.mu.Unlock()
	}
}

func (w *workload) send(c int, a account, cents int64) error {
	switch c {
	case 0, 1:
		e := w.nets.evm[c]
		e.mu.Lock()
		defer e.mu.Unlock()
		raw := new(big.Int).Mul(big.NewInt(cents), pow10(e.decimals-2))
		_, err := e.chain.Transfer(e.token, e.chain.Accounts()[0], a.evm, raw)
		return err
	case 2:
		t := w.nets.tron
		t.mu.Lock()
		defer t.mu.Unlock()
		_, err := t.node.Transfer(t.usdt, t.sender, a.tron, new(big.Int).Mul(big.NewInt(cents), pow10(4)))
		return err
	default:
		s := w.nets.sol
		s.mu.Lock()
		defer s.mu.Unlock()
		_, err := s.node.Transfer(s.mint, s.sender, a.solana, uint64(cents)*10_000)
		return err
	}
}

// statementsLoop issues a statement (one to three lines, one third-party
// now and then) to a seeded account every tick until ctx ends; an issue
// that fails because Redis is down is retried until it lands.
func (w *workload) statementsLoop(ctx context.Context, seed uint64, every time.Duration) {
	rng := rand.New(rand.NewPCG(seed, 0x57a7))
	services := []string{"ECS", "EVS", "OBS", "RDS", "CDN"}
	t := time.NewTicker(every)
	defer t.Stop()
	for n := 0; ; n++ {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		a := w.accounts[rng.IntN(len(w.accounts))]
		st := settlement.Statement{ID: fmt.Sprintf("st-%s-%d", a.id, n), Account: a.id, Month: "2026-10"}
		for l := range 1 + rng.IntN(3) {
			line := settlement.Line{Service: services[rng.IntN(len(services))], ResourceID: fmt.Sprintf("res-%d-%d", n, l),
				Project: "p" + strconv.Itoa(rng.IntN(3)), Official: usd(int64(500 + rng.IntN(300_000)))}
			line.ThirdParty = rng.IntN(10) == 0
			st.Lines = append(st.Lines, line)
		}
		for ctx.Err() == nil {
			_, err := w.settle.IssueStatement(ctx, st)
			if err == nil || errors.Is(err, settlement.ErrExists) {
				w.mu.Lock()
				w.statements++
				w.mu.Unlock()
				break
			}
			select {
			case <-ctx.Done():
			case <-time.After(200 * time.Millisecond):
			}
		}
	}
}

// usd converts whole cents to Units.
func usd(cents int64) money.Units { return money.Units(cents * 1_000_000) }
