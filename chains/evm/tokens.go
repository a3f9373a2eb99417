package evm

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"strings"

	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/rpc"
)

var (
	selectorDecimals = hexutil.Bytes{0x31, 0x3c, 0xe5, 0x67} // decimals()
	selectorSymbol   = hexutil.Bytes{0x95, 0xd8, 0x9b, 0x41} // symbol()
)

// CheckTokens calls decimals() and symbol() of every configured token (one
// batch) and returns an error naming chain, token and both values on the
// first mismatch with the configuration. The daemon refuses to start on it.
func (c *Client) CheckTokens(ctx context.Context) error {
	return c.do(ctx, "check tokens", func(ctx context.Context, e *endpoint) error {
		toks := c.cfg.Tokens
		res := make([]hexutil.Bytes, 2*len(toks))
		batch := make([]rpc.BatchElem, 0, 2*len(toks))
		for i, t := range toks {
			for j, sel := range []hexutil.Bytes{selectorDecimals, selectorSymbol} {
				batch = append(batch, rpc.BatchElem{
					Method: "eth_call",
					Args:   []any{map[string]any{"to": t.Contract, "data": sel}, "latest"},
					Result: &res[2*i+j],
				})
			}
		}
		e.requests.Add(uint64(len(batch)))
		if err := e.rpc.BatchCallContext(ctx, batch); err != nil {
			return err
		}
		for _, el := range batch {
			if el.Error != nil {
				return fmt.Errorf("eth_call: %w", el.Error)
			}
		}
		for i, t := range toks {
			p := fmt.Sprintf("chains[%s].tokens[%s]", c.cfg.Chain, t.Symbol)
			dec, err := decodeUint8(res[2*i])
			if err != nil {
				return &ConfigError{fmt.Errorf("%s.decimals: contract %s: %w", p, t.Contract.Hex(), err)}
			}
			if int32(dec) != t.Decimals {
				return &ConfigError{fmt.Errorf("%s.decimals: chain says %d, config %d", p, dec, t.Decimals)}
			}
			sym, err := decodeABIString(res[2*i+1])
			if err != nil {
				return &ConfigError{fmt.Errorf("%s.symbol: contract %s: %w", p, t.Contract.Hex(), err)}
			}
			if sym != t.Symbol {
				return &ConfigError{fmt.Errorf("%s.symbol: chain says %q, config %q", p, sym, t.Symbol)}
			}
		}
		return nil
	})
}

// ConfigError is a token check that failed on the chain's own answer (as
// opposed to an RPC failure); it is returned by CheckTokens without retry.
type ConfigError struct{ err error }

func (e *ConfigError) Error() string { return e.err.Error() }
func (e *ConfigError) Unwrap() error { return e.err }

// decodeUint8 reads an ABI uint8 return value.
func decodeUint8(b []byte) (uint8, error) {
	if len(b) == 0 {
		return 0, errors.New("empty answer (no contract at this address?)")
	}
	if len(b) != 32 {
		return 0, fmt.Errorf("answer of %d bytes, want 32", len(b))
	}
	v := new(big.Int).SetBytes(b)
	if !v.IsUint64() || v.Uint64() > 255 {
		return 0, fmt.Errorf("decimals %s out of range", v)
	}
	return uint8(v.Uint64()), nil
}

// decodeABIString reads an ABI string return value, or a bytes32 one as
// some older tokens return.
func decodeABIString(b []byte) (string, error) {
	switch {
	case len(b) == 0:
		return "", errors.New("empty answer (no contract at this address?)")
	case len(b) == 32:
		return strings.TrimRight(string(b), "\x00"), nil
	case len(b) < 64:
		return "", fmt.Errorf("answer of %d bytes is no ABI string", len(b))
	}
	off := new(big.Int).SetBytes(b[:32])
	if !off.IsUint64() || off.Uint64() > uint64(len(b))-32 {
		return "", errors.New("string offset out of range")
	}
	o := off.Uint64()
	n := new(big.Int).SetBytes(b[o : o+32])
	if !n.IsUint64() || n.Uint64() > uint64(len(b))-o-32 {
		return "", errors.New("string length out of range")
	}
	return string(b[o+32 : o+32+n.Uint64()]), nil
}
