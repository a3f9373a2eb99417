package devmode

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/gagliardetto/solana-go"
	"github.com/shopspring/decimal"

	"github.com/depositd/depositd/addressbook"
	"github.com/depositd/depositd/chains"
	"github.com/depositd/depositd/chains/address"
	"github.com/depositd/depositd/internal/daemon"
	"github.com/depositd/depositd/money"
	"github.com/depositd/depositd/settlement"
	"github.com/depositd/depositd/settlement/ledger"
)

// demoAccount is one demo customer and its deposit addresses.
type demoAccount struct {
	id     string
	evm    string
	tron   string
	solana string
}

type demo struct{ accounts []demoAccount }

// seed creates the demo customers (idempotently, so a dev run on an existing
// Redis reuses them): accounts with a credit line, EVM deposit addresses,
// last month's statements (one with a third-party line; initech's comes
// from the Huawei import), cash coupons and a commercial discount.
func seed(ctx context.Context, d *daemon.Daemon, nets *localNets) (*demo, error) {
	now := time.Now()
	month := now.AddDate(0, -1, 0).Format("2006-01")
	specs := []struct {
		id, name, master, credit string
		lines                    []settlement.Line
	}{
		{"acme", "Acme Cloud Ltd", "", "500", []settlement.Line{
			line("ECS", "ecs-acme-01", "web", 420_00),
			line("EVS", "evs-acme-01", "web", 95_50),
			{Service: "Marketplace", ResourceID: "img-vendor-1", Project: "web", Official: usd(30_00), ThirdParty: true},
		}},
		{"acme-eu", "Acme EU (member of acme)", "acme", "0", nil},
		{"globex", "Globex Corp", "", "0", []settlement.Line{
			line("OBS", "obs-globex", "data", 260_00),
			line("RDS", "rds-globex", "data", 610_25),
		}},
		// initech's statement is imported from the local Huawei API.
		{"initech", "Initech", "", "100", nil},
	}
	out := &demo{}
	for _, s := range specs {
		limit, _ := money.ParseUSD(s.credit)
		err := d.Ledger.CreateAccount(ctx, ledger.Account{ID: ledger.AccountID(s.id), Name: s.name, Master: ledger.AccountID(s.master), CreditLimit: limit})
		if err != nil && !errors.Is(err, ledger.ErrExists) {
			return nil, err
		}
		da := demoAccount{id: s.id, evm: demoAddress(s.id), tron: address.TronFromEVMBytes(demoKey("tron:" + s.id)), solana: demoWallet(s.id)}
		addrs := map[chains.Family]string{chains.FamilyEVM: da.evm, chains.FamilyTron: da.tron}
		if nets.solana != nil {
			addrs[chains.FamilySolana] = da.solana
		}
		for f, addr := range addrs {
			if _, err := d.Book.Register(ctx, s.id, f, addr); err != nil && !errors.Is(err, addressbook.ErrDuplicate) {
				return nil, err
			}
		}
		out.accounts = append(out.accounts, da)
	}
	grants := []error{
		d.Settlement.AddCoupon(ctx, settlement.Coupon{ID: "welcome-acme", Account: "acme", Balance: usd(50_00), Expires: now.AddDate(0, 3, 0)}),
		d.Settlement.AddCoupon(ctx, settlement.Coupon{ID: "promo-globex", Account: "globex", Balance: usd(25_00), Expires: now.AddDate(0, 1, 0)}),
		d.Settlement.AddDiscount(ctx, settlement.Discount{ID: "acme-commercial", Account: "acme", Kind: settlement.Commercial,
			Rate: decimal.RequireFromString("0.1"), Services: []string{"ECS"}, From: now.AddDate(-1, 0, 0), Until: now.AddDate(1, 0, 0)}),
	}
	for _, err := range grants {
		if err != nil && !errors.Is(err, settlement.ErrExists) {
			return nil, err
		}
	}
	for _, s := range specs {
		if len(s.lines) == 0 {
			continue
		}
		st := settlement.Statement{ID: fmt.Sprintf("st-%s-%s", s.id, month), Account: s.id, Month: month, Lines: s.lines}
		if _, err := d.Settlement.IssueStatement(ctx, st); err != nil && !errors.Is(err, settlement.ErrExists) {
			return nil, fmt.Errorf("statement %s: %w", st.ID, err)
		}
	}
	return out, nil
}

func line(service, resource, project string, cents int64) settlement.Line {
	return settlement.Line{Service: service, ResourceID: resource, Project: project, Official: usd(cents)}
}

// demoAddress is a fixed watch-only EVM address per demo account (nobody
// holds its key; it only receives).
func demoAddress(id string) string { return common.BytesToAddress(demoKey(id)).Hex() }

// demoKey is 20 fixed bytes per name.
func demoKey(name string) []byte { return crypto.Keccak256([]byte("depositd-demo:" + name))[12:] }

// demoWallet is a fixed Solana wallet per demo account: an ed25519 public
// key derived from a fixed seed (the dev environment throws the private half
// away; depositd itself never sees one).
func demoWallet(id string) string {
	seed := crypto.Keccak256([]byte("depositd-demo-solana:" + id))
	pub := ed25519.NewKeyFromSeed(seed).Public().(ed25519.PublicKey)
	return solana.PublicKeyFromBytes(pub).String()
}

// usd converts whole cents to Units.
func usd(cents int64) money.Units { return money.Units(cents * 1_000_000) }
