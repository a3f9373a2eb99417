package address

import (
	"github.com/depositd/depositd/chains"
	"github.com/gagliardetto/solana-go"
	"github.com/mr-tron/base58"
)

// ParseSolana accepts a base58 public key of exactly 32 bytes (on or off the
// ed25519 curve: wallets, mints and token accounts alike). Solana keys carry
// no checksum, so only the alphabet, the length and the canonical encoding
// are checked. key holds all 32 bytes.
func ParseSolana(s string) (norm string, key chains.AddrKey, err error) {
	if len(s) == 0 || len(s) > maxInput {
		return "", key, invalid("solana", "want base58 of 32 bytes, got %d characters", len(s))
	}
	raw, err := base58.Decode(s)
	if err != nil {
		return "", key, invalid("solana", "not base58: %v", err)
	}
	if len(raw) != 32 {
		return "", key, invalid("solana", "decodes to %d bytes, want 32", len(raw))
	}
	copy(key[:], raw)
	norm = solanaEncode(key)
	if norm != s {
		return "", chains.AddrKey{}, invalid("solana", "non-canonical base58")
	}
	return norm, key, nil
}

func solanaEncode(k chains.AddrKey) string { return base58.Encode(k[:]) }

// SolanaATA derives the associated token account of wallet for mint under
// the given token program: FindProgramAddress([wallet, program, mint],
// ATokenGPvbdGVxr1b2hvZbsiqW5xWH25efTNsLJA8knL). The program must be the
// legacy Token program or Token-2022; solana-go's FindAssociatedTokenAddress
// hard-codes the former and is wrong for Token-2022 mints.
func SolanaATA(wallet, mint, tokenProgram solana.PublicKey) (solana.PublicKey, error) {
	if !tokenProgram.Equals(solana.TokenProgramID) && !tokenProgram.Equals(solana.Token2022ProgramID) {
		return solana.PublicKey{}, invalid("solana ata", "token program %s is neither Token nor Token-2022", tokenProgram)
	}
	ata, _, err := solana.FindProgramAddress(
		[][]byte{wallet[:], tokenProgram[:], mint[:]},
		solana.SPLAssociatedTokenAccountProgramID,
	)
	if err != nil {
		return solana.PublicKey{}, invalid("solana ata", "wallet %s mint %s: %v", wallet, mint, err)
	}
	return ata, nil
}
