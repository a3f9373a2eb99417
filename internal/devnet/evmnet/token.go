package evmnet

import (
	"encoding/hex"
	"fmt"
	"math/big"
	"strings"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/depositd/depositd/contracts"
)

// Gas limits of the helpers' transactions; unused gas is refunded. The dev
// chain runs every scheduled fork, whose state-growth pricing puts a write
// to a fresh storage slot above 100k gas (a first mint estimates ~250k).
const (
	gasDeploy   = 3_000_000
	gasTransfer = 500_000
	gasPerBatch = 150_000
)

// DeployToken deploys a TestToken with the given symbol (also its name) and
// decimals from the first account, mines it, and returns its address.
func (c *Chain) DeployToken(symbol string, decimals uint8) (common.Address, error) {
	bin, err := hex.DecodeString(strings.TrimSpace(contracts.TestTokenBin))
	if err != nil {
		return common.Address{}, fmt.Errorf("evmnet: token bytecode: %w", err)
	}
	args, err := c.token.Pack("", symbol, symbol, decimals)
	if err != nil {
		return common.Address{}, fmt.Errorf("evmnet: constructor: %w", err)
	}
	deployer := c.accounts[0]
	tx, err := c.send(deployer, nil, gasDeploy, append(bin, args...))
	if err != nil {
		return common.Address{}, err
	}
	if _, err := c.Commit(); err != nil {
		return common.Address{}, fmt.Errorf("evmnet: deploy %s: %w", symbol, err)
	}
	return crypto.CreateAddress(deployer.Address, tx.Nonce()), nil
}

// call packs a TestToken call and sends it from from to token.
func (c *Chain) call(token common.Address, from Account, gas uint64, method string, args ...any) (common.Hash, error) {
	data, err := c.token.Pack(method, args...)
	if err != nil {
		return common.Hash{}, fmt.Errorf("evmnet: %s: %w", method, err)
	}
	tx, err := c.send(from, &token, gas, data)
	if err != nil {
		return common.Hash{}, err
	}
	return tx.Hash(), nil
}

// Mint sends a mint of amount base units to to (from the first account).
// Like every helper below it only sends: the next Commit mines it.
func (c *Chain) Mint(token, to common.Address, amount *big.Int) (common.Hash, error) {
	return c.call(token, c.accounts[0], gasTransfer, "mint", to, amount)
}

// Transfer sends transfer(to, amount) from from.
func (c *Chain) Transfer(token common.Address, from Account, to common.Address, amount *big.Int) (common.Hash, error) {
	return c.call(token, from, gasTransfer, "transfer", to, amount)
}

// Approve sends approve(spender, amount) from owner.
func (c *Chain) Approve(token common.Address, owner Account, spender common.Address, amount *big.Int) (common.Hash, error) {
	return c.call(token, owner, gasTransfer, "approve", spender, amount)
}

// TransferFrom sends transferFrom(from, to, amount) signed by spender. A
// zero amount succeeds even without allowance, as on USDT and USDC.
func (c *Chain) TransferFrom(token common.Address, spender Account, from, to common.Address, amount *big.Int) (common.Hash, error) {
	return c.call(token, spender, gasTransfer, "transferFrom", from, to, amount)
}

// BatchTransfer sends batchTransfer(to, amount): one Transfer log of amount
// to each recipient, in one transaction from from.
func (c *Chain) BatchTransfer(token common.Address, from Account, to []common.Address, amount *big.Int) (common.Hash, error) {
	return c.call(token, from, 100_000+gasPerBatch*uint64(len(to)), "batchTransfer", to, amount)
}
