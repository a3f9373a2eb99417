package money

import (
	"errors"
	"math/big"
	"testing"

	"github.com/shopspring/decimal"
)

func TestParseUSD(t *testing.T) {
	tests := []struct {
		name, in string
		want     Units
		wantErr  error
	}{
		{"whole", "12", 1_200_000_000, nil},
		{"eight places", "0.00000001", 1, nil},
		{"negative", "-3.5", -350_000_000, nil},
		{"nine places", "0.000000001", 0, ErrPrecision},
		{"too large", "100000000000", 0, ErrRange},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseUSD(tt.in)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("ParseUSD(%q) err = %v, want %v", tt.in, err, tt.wantErr)
			}
			if got != tt.want {
				t.Fatalf("ParseUSD(%q) = %d, want %d", tt.in, got, tt.want)
			}
		})
	}
	if _, err := ParseUSD("1e"); err == nil {
		t.Fatal("ParseUSD(\"1e\") accepted garbage")
	}
}

func TestUnitsString(t *testing.T) {
	if got := Units(1_250_000_001).String(); got != "12.50000001" {
		t.Fatalf("String = %q", got)
	}
	if got := Units(-5).String(); got != "-0.00000005" {
		t.Fatalf("String = %q", got)
	}
}

func TestTokenToUSD(t *testing.T) {
	bsc10 := new(big.Int)
	bsc10.SetString("10000000000000000000", 10) // 10 USDT, 18 decimals
	odd := new(big.Int)
	odd.SetString("2138000000123456789", 10) // 2.138000000123456789 tokens
	tests := []struct {
		name     string
		raw      *big.Int
		decimals int32
		rate     string
		wantUSD  Units
		wantDust string
	}{
		{"6 decimals exact", big.NewInt(500_000_000), 6, "1", 50_000_000_000, "0"},
		{"18 decimals exact", bsc10, 18, "1", 1_000_000_000, "0"},
		{"18 decimals floored", odd, 18, "1", 213_800_000, "0.000000000123456789"},
		{"rate applied", big.NewInt(1_000_000), 6, "0.999", 99_900_000, "0"},
		{"dust only", big.NewInt(1), 18, "1", 0, "0.000000000000000001"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			usd, dust, err := TokenToUSD(tt.raw, tt.decimals, decimal.RequireFromString(tt.rate))
			if err != nil {
				t.Fatal(err)
			}
			if usd != tt.wantUSD || !dust.Equal(decimal.RequireFromString(tt.wantDust)) {
				t.Fatalf("got %d + dust %s, want %d + %s", usd, dust, tt.wantUSD, tt.wantDust)
			}
			// Never credit more than received: usd + dust is the exact value.
			exact := decimal.NewFromBigInt(tt.raw, -tt.decimals).Mul(decimal.RequireFromString(tt.rate))
			if !usd.Decimal().Add(dust).Equal(exact) {
				t.Fatalf("usd %s + dust %s != exact %s", usd, dust, exact)
			}
		})
	}
	for _, bad := range []struct {
		name string
		raw  *big.Int
		dec  int32
		rate string
	}{
		{"negative amount", big.NewInt(-1), 6, "1"},
		{"nil amount", nil, 6, "1"},
		{"negative rate", big.NewInt(1), 6, "-1"},
		{"bad decimals", big.NewInt(1), 99, "1"},
	} {
		t.Run(bad.name, func(t *testing.T) {
			if _, _, err := TokenToUSD(bad.raw, bad.dec, decimal.RequireFromString(bad.rate)); err == nil {
				t.Fatal("accepted")
			}
		})
	}
}

func FuzzParseUSD(f *testing.F) {
	for _, s := range []string{"0", "1.5", "-0.00000001", "99999999999.99999999", "1e3", "abc", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		u, err := ParseUSD(s)
		if err != nil {
			return
		}
		back, err := ParseUSD(u.String())
		if err != nil || back != u {
			t.Fatalf("round trip %q -> %d -> %q -> %d (%v)", s, u, u.String(), back, err)
		}
	})
}
