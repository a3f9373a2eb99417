package tron

import (
	"context"
	"fmt"
	"math/big"
	"unicode/utf8"

	"github.com/depositd/depositd/chains/address"
	"github.com/fbsobreira/gotron-sdk/pkg/proto/api"
	"github.com/fbsobreira/gotron-sdk/pkg/proto/core"
)

var (
	selectorDecimals = [4]byte{0x31, 0x3c, 0xe5, 0x67} // decimals()
	selectorSymbol   = [4]byte{0x95, 0xd8, 0x9b, 0x41} // symbol()
)

// ConfigError is a token check that failed on the chain's own answer (a
// decimals or symbol mismatch), as opposed to an RPC failure: retrying it
// cannot help.
type ConfigError struct{ err error }

func (e *ConfigError) Error() string { return e.err.Error() }
func (e *ConfigError) Unwrap() error { return e.err }

// verifyTokens refuses a token whose decimals() or symbol() on chain differ
// from its configuration.
func (c *Client) verifyTokens(ctx context.Context) error {
	for _, t := range c.cfg.Tokens {
		_, key, err := address.ParseTron(t.Contract)
		if err != nil {
			return fmt.Errorf("tokens[%s].contract: %w", t.Symbol, err)
		}
		contract := append([]byte{tronPrefix}, key[:20]...)
		out, err := c.constantCall(ctx, contract, selectorDecimals)
		if err != nil {
			return fmt.Errorf("tokens[%s].decimals: %w", t.Symbol, err)
		}
		dec, err := abiUint(out)
		if err != nil {
			return fmt.Errorf("tokens[%s].decimals: %w", t.Symbol, err)
		}
		if !dec.IsInt64() || dec.Int64() != int64(t.Decimals) {
			return &ConfigError{fmt.Errorf("tokens[%s].decimals: chain says %s, config %d", t.Symbol, dec, t.Decimals)}
		}
		if out, err = c.constantCall(ctx, contract, selectorSymbol); err != nil {
			return fmt.Errorf("tokens[%s].symbol: %w", t.Symbol, err)
		}
		sym, err := abiString(out)
		if err != nil {
			return fmt.Errorf("tokens[%s].symbol: %w", t.Symbol, err)
		}
		if sym != t.Symbol {
			return &ConfigError{fmt.Errorf("tokens[%s].symbol: chain says %q, config %q", t.Symbol, sym, t.Symbol)}
		}
	}
	return nil
}

// constantCall runs a read-only call of selector on contract (21 bytes).
func (c *Client) constantCall(ctx context.Context, contract []byte, selector [4]byte) ([]byte, error) {
	ct := &core.TriggerSmartContract{
		OwnerAddress:    append([]byte{tronPrefix}, make([]byte, 20)...),
		ContractAddress: contract,
		Data:            selector[:],
	}
	var out []byte
	err := c.full.do(ctx, op{"constant call", -1}, func(ctx context.Context, w wallet) error {
		res, err := w.constant(ctx, ct)
		if err != nil {
			return err
		}
		if r := res.GetResult(); r != nil && r.GetCode() != api.Return_SUCCESS {
			return fmt.Errorf("node: %s: %s", r.GetCode(), r.GetMessage())
		}
		if ret := res.GetTransaction().GetRet(); len(ret) > 0 && ret[0].GetContractRet() != core.Transaction_Result_SUCCESS {
			return fmt.Errorf("call ended %s", ret[0].GetContractRet())
		}
		if len(res.GetConstantResult()) == 0 {
			return fmt.Errorf("empty result")
		}
		out = res.GetConstantResult()[0]
		return nil
	})
	return out, err
}

// abiUint decodes one uint256 return word.
func abiUint(b []byte) (*big.Int, error) {
	if len(b) != 32 {
		return nil, fmt.Errorf("uint256 result of %d bytes", len(b))
	}
	return new(big.Int).SetBytes(b), nil
}

// abiString decodes a string return value: the ABI dynamic encoding
// (offset, length, bytes) or, as old tokens do, a NUL-padded bytes32.
func abiString(b []byte) (string, error) {
	var s []byte
	switch {
	case len(b) == 32:
		s = b
		for len(s) > 0 && s[len(s)-1] == 0 {
			s = s[:len(s)-1]
		}
	case len(b) >= 64 && len(b)%32 == 0:
		off, err := abiUint(b[:32])
		if err != nil {
			return "", err
		}
		if !off.IsUint64() || off.Uint64() > uint64(len(b)-32) {
			return "", fmt.Errorf("string offset %s out of %d bytes", off, len(b))
		}
		o := off.Uint64()
		n := new(big.Int).SetBytes(b[o : o+32])
		if !n.IsUint64() || n.Uint64() > uint64(len(b))-o-32 {
			return "", fmt.Errorf("string length %s out of %d bytes", n, len(b))
		}
		s = b[o+32 : o+32+n.Uint64()]
	default:
		return "", fmt.Errorf("string result of %d bytes", len(b))
	}
	if !utf8.Valid(s) {
		return "", fmt.Errorf("string result is not utf-8")
	}
	return string(s), nil
}
