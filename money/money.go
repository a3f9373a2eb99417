// Package money holds the exact amount types of depositd: USD in integer units
// of 1e-8 and on-chain token amounts in integer base units. Floats never appear.
package money

import (
	"errors"
	"fmt"
	"math/big"

	"github.com/shopspring/decimal"
)

// Scale is the number of decimal places of a USD amount (Huawei Cloud bills
// carry eight).
const Scale = 8

// Units is a USD amount in integer units of 1e-8 USD.
type Units int64

// ErrRange is returned when an amount does not fit the int64 range of Units.
var ErrRange = errors.New("amount out of range")

// ErrPrecision is returned when a USD amount has more than 8 decimal places.
var ErrPrecision = errors.New("more than 8 decimal places")

// Decimal returns u as a decimal number of USD.
func (u Units) Decimal() decimal.Decimal { return decimal.New(int64(u), -Scale) }

// String formats u with exactly 8 decimal places, e.g. "12.50000000".
func (u Units) String() string { return u.Decimal().StringFixed(Scale) }

// ParseUSD parses a decimal string such as "12.5" into Units. More than 8
// decimal places is an error: USD amounts are never silently rounded.
func ParseUSD(s string) (Units, error) {
	d, err := decimal.NewFromString(s)
	if err != nil {
		return 0, fmt.Errorf("usd %q: %w", s, err)
	}
	return FromDecimal(d)
}

// FromDecimal converts an exact USD decimal into Units.
func FromDecimal(d decimal.Decimal) (Units, error) {
	shifted := d.Shift(Scale)
	if !shifted.Equal(shifted.Truncate(0)) {
		return 0, fmt.Errorf("usd %s: %w", d, ErrPrecision)
	}
	bi := shifted.BigInt()
	if !bi.IsInt64() {
		return 0, fmt.Errorf("usd %s: %w", d, ErrRange)
	}
	return Units(bi.Int64()), nil
}

// TokenToUSD converts raw token base units (with the token's decimals) at a
// USD rate per whole token into Units, flooring to 8 decimal places. The
// remainder that could not be credited is returned as dust, in USD, exactly.
// A negative amount or rate is an error.
func TokenToUSD(raw *big.Int, decimals int32, rate decimal.Decimal) (usd Units, dust decimal.Decimal, err error) {
	if raw == nil || raw.Sign() < 0 {
		return 0, decimal.Zero, fmt.Errorf("token amount %v: must be >= 0", raw)
	}
	if rate.Sign() < 0 {
		return 0, decimal.Zero, fmt.Errorf("rate %s: must be >= 0", rate)
	}
	if decimals < 0 || decimals > 36 {
		return 0, decimal.Zero, fmt.Errorf("decimals %d: must be 0..36", decimals)
	}
	exact := decimal.NewFromBigInt(raw, -decimals).Mul(rate)
	floored := exact.Shift(Scale).Floor()
	bi := floored.BigInt()
	if !bi.IsInt64() {
		return 0, decimal.Zero, fmt.Errorf("token amount %s: %w", raw, ErrRange)
	}
	usd = Units(bi.Int64())
	return usd, exact.Sub(usd.Decimal()), nil
}

// FormatToken formats raw base units as a decimal string in token units
// ("10.5" for 10500000 with 6 decimals), without trailing zeros.
func FormatToken(raw *big.Int, decimals int32) string {
	return decimal.NewFromBigInt(raw, -decimals).String()
}
