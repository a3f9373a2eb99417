package solana

import (
	"context"
	"errors"
	"fmt"

	"github.com/gagliardetto/solana-go"
	"github.com/gagliardetto/solana-go/rpc"
)

// mintLen is the size of an SPL mint account; Token-2022 mints with
// extensions are longer and start with the same layout.
const mintLen = 82

// Offsets into the SPL mint layout: COption<Pubkey> mint authority (36),
// supply u64 (8), decimals u8, is_initialized bool.
const (
	offDecimals    = 44
	offInitialized = 45
)

// ConfigError is a mint check that failed on the chain's own answer (as
// opposed to an RPC failure); CheckTokens returns it without retry.
type ConfigError struct{ err error }

func (e *ConfigError) Error() string { return e.err.Error() }
func (e *ConfigError) Unwrap() error { return e.err }

// CheckTokens reads every configured mint with getAccountInfo (base64,
// finalized) and returns a *ConfigError naming chain, token and both
// values when the account is missing, is not owned by the configured token
// program, is not an initialised mint, or has other decimals. RPC failures
// are returned as plain errors; the daemon refuses to start on either.
func (c *Client) CheckTokens(ctx context.Context) error {
	for _, m := range c.cfg.Mints {
		p := fmt.Sprintf("chains[%s].tokens[%s]", c.cfg.Name, m.Symbol)
		var res *rpc.GetAccountInfoResult
		err := c.pool.do(ctx, "getAccountInfo", func(ctx context.Context, cl *rpc.Client) error {
			var err error
			res, err = cl.GetAccountInfoWithOpts(ctx, m.Mint, &rpc.GetAccountInfoOpts{
				Encoding: solana.EncodingBase64, Commitment: rpc.CommitmentFinalized})
			if errors.Is(err, rpc.ErrNotFound) {
				return nil
			}
			return err
		})
		if err != nil {
			return fmt.Errorf("%s: mint %s: %w", p, m.Mint, err)
		}
		if res == nil || res.Value == nil {
			return &ConfigError{fmt.Errorf("%s.mint: no account %s on chain", p, m.Mint)}
		}
		if owner := res.Value.Owner; owner != m.Program {
			return &ConfigError{fmt.Errorf("%s.program: chain says %s, config %s", p, owner, m.Program)}
		}
		var data []byte
		if res.Value.Data != nil {
			data = res.Value.Data.GetBinary()
		}
		if len(data) < mintLen || data[offInitialized] != 1 {
			return &ConfigError{fmt.Errorf("%s.mint: %s is not an initialised mint (%d bytes)", p, m.Mint, len(data))}
		}
		if dec := int32(data[offDecimals]); dec != m.Decimals {
			return &ConfigError{fmt.Errorf("%s.decimals: chain says %d, config %d", p, dec, m.Decimals)}
		}
	}
	return nil
}
