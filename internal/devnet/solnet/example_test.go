package solnet_test

import (
	"context"
	"fmt"

	"github.com/depositd/depositd/internal/devnet/solnet"
	"github.com/gagliardetto/solana-go"
)

// A node serving mainnet USDC's mint address, so a production token
// configuration works against it unchanged.
func ExampleStart() {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	node, err := solnet.Start(ctx, solnet.Options{FinalLag: 2})
	if err != nil {
		panic(err)
	}
	defer node.Close()
	usdc := solana.MustPublicKeyFromBase58("EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v")
	if err := node.CreateMintAt(usdc, solana.TokenProgramID, 6); err != nil {
		panic(err)
	}
	treasury, customer := node.NewWallet(), node.NewWallet()
	if _, err := node.MintTo(usdc, treasury, 1_000_000_000); err != nil {
		panic(err)
	}
	if _, err := node.Transfer(usdc, treasury, customer, 2_500_000); err != nil { // creates the customer's ATA
		panic(err)
	}
	slot := node.Mine()
	node.Skip(2)
	node.Mine()
	node.Mine()
	ata, _ := node.ATA(customer, usdc)
	amount, owner, _ := node.Balance(ata)
	confirmed, finalized := node.Slot()
	fmt.Println(slot, confirmed, finalized, amount, owner == customer)
	// Output: 1 5 1 2500000 true
}
