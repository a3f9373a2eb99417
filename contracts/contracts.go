// Package contracts embeds the compiled Solidity test contracts used by the
// local chains (internal/devnet): TestToken, a plain ERC-20 with configurable
// symbol and decimals. Rebuild with contracts/build.sh after editing the source.
package contracts

import _ "embed"

// TestTokenABI is the JSON ABI of TestToken.sol.
//
//go:embed TestToken.abi
var TestTokenABI string

// TestTokenBin is the hex creation bytecode of TestToken.sol (no 0x prefix).
//
//go:embed TestToken.bin
var TestTokenBin string
