package address

import (
	"errors"
	"strings"
	"testing"

	"github.com/depositd/depositd/chains"
	"github.com/gagliardetto/solana-go"
)

func TestParseSolana(t *testing.T) {
	valid := []struct{ name, in string }{
		{"fixture wallet", "3UJQqKq8Xyx4aVRmHgEwpQZiW7toYRQCTy6Bgp1RdKnK"},
		{"fixture ata (off curve)", "8dqL6jKduEJwfAem49yAvXB8YczkDPgVCgU88VPfTnAP"},
		{"usdc mint", "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v"},
		{"token program", "TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA"},
		{"system program all zero", "11111111111111111111111111111111"},
	}
	for _, tc := range valid {
		t.Run(tc.name, func(t *testing.T) {
			norm, key, err := ParseSolana(tc.in)
			if err != nil {
				t.Fatalf("ParseSolana(%q): %v", tc.in, err)
			}
			if norm != tc.in {
				t.Errorf("norm = %s, want %s", norm, tc.in)
			}
			if want := solana.MustPublicKeyFromBase58(tc.in); key != chains.AddrKey(want) {
				t.Errorf("key = %x, want %x", key, want[:])
			}
			if got := Format(chains.FamilySolana, key); got != norm {
				t.Errorf("Format = %s, want %s", got, norm)
			}
		})
	}

	invalid := []struct {
		name, in, reason string
	}{
		{"empty", "", "got 0 characters"},
		{"short", "short", "want 32"},
		{"zero digit", "0PjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v", "not base58"},
		{"lowercase L", "lPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v", "not base58"},
		{"tron address 25 bytes", "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t", "want 32"},
		{"33 bytes", "1EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v", "want 32"},
		{"31 ones", strings.Repeat("1", 31), "want 32"},
		{"evm address", "0x9858EfFD232B4033E47d90003D41EC34EcaEda94", "not base58"},
		{"trailing newline", "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v\n", "not base58"},
		{"overlong", strings.Repeat("z", 65), "got 65 characters"},
	}
	for _, tc := range invalid {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := ParseSolana(tc.in)
			if err == nil {
				t.Fatalf("ParseSolana(%q) accepted", tc.in)
			}
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("error %v does not match ErrInvalid", err)
			}
			if !strings.HasPrefix(err.Error(), "solana address: ") || !strings.Contains(err.Error(), tc.reason) {
				t.Errorf("error %q, want solana address: …%s…", err, tc.reason)
			}
		})
	}
}

func TestSolanaATA(t *testing.T) {
	cases := []struct {
		name, wallet, mint string
		program            solana.PublicKey
		want               string
	}{
		// Fixture getTransaction_4dHnggcX_usdc_create_ata.json creates this ATA.
		{"fixture usdc", "3UJQqKq8Xyx4aVRmHgEwpQZiW7toYRQCTy6Bgp1RdKnK", "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v", solana.TokenProgramID, "8dqL6jKduEJwfAem49yAvXB8YczkDPgVCgU88VPfTnAP"},
		// Published pairs computed with `spl-token address --owner … --token …`.
		{"usdc legacy program", "AAAGuCgkmxYDTiBvzx1QT5XEjqXPRtQaiEXQo4gatD2o", "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v", solana.TokenProgramID, "Cra8woRQhnHsGAmFWcCN1m7A9J44ykNfGpehi6dMBuKR"},
		{"token-2022 mint", "AAAGuCgkmxYDTiBvzx1QT5XEjqXPRtQaiEXQo4gatD2o", "CKfatsPMUf8SkiURsDXs7eK6GWb4Jsd6UDbs7twMCWxo", solana.Token2022ProgramID, "GPtCoaz35vdCrFbyhxcRrkYvECrUkrBX6CoRZEv8EQDw"},
		{"usdc second wallet", "3h1zGmCwsRJnVk5BuRNMLsPaQu1y2aqXqXDWYCgrp5UG", "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v", solana.TokenProgramID, "3uetDDizgTtadDHZzyy9BqxrjQcozMEkxzbKhfZF4tG3"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := SolanaATA(solana.MustPublicKeyFromBase58(tc.wallet), solana.MustPublicKeyFromBase58(tc.mint), tc.program)
			if err != nil {
				t.Fatalf("SolanaATA: %v", err)
			}
			if got.String() != tc.want {
				t.Errorf("ATA = %s, want %s", got, tc.want)
			}
		})
	}
	t.Run("program decides the account", func(t *testing.T) {
		w := solana.MustPublicKeyFromBase58("3UJQqKq8Xyx4aVRmHgEwpQZiW7toYRQCTy6Bgp1RdKnK")
		m := solana.MustPublicKeyFromBase58("EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v")
		legacy, err1 := SolanaATA(w, m, solana.TokenProgramID)
		t22, err2 := SolanaATA(w, m, solana.Token2022ProgramID)
		if err1 != nil || err2 != nil || legacy == t22 {
			t.Errorf("legacy %s, token-2022 %s (%v, %v): want two different accounts", legacy, t22, err1, err2)
		}
	})
	t.Run("unknown program", func(t *testing.T) {
		w := solana.MustPublicKeyFromBase58("3UJQqKq8Xyx4aVRmHgEwpQZiW7toYRQCTy6Bgp1RdKnK")
		_, err := SolanaATA(w, w, solana.SystemProgramID)
		if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "neither Token nor Token-2022") {
			t.Errorf("err = %v, want unknown token program", err)
		}
	})
}

func TestParseDispatch(t *testing.T) {
	cases := []struct {
		name string
		f    chains.Family
		in   string
		ok   bool
	}{
		{"evm", chains.FamilyEVM, "0xdAC17F958D2ee523a2206206994597C13D831ec7", true},
		{"tron", chains.FamilyTron, "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t", true},
		{"solana", chains.FamilySolana, "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v", true},
		{"tron as evm", chains.FamilyEVM, "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t", false},
		{"evm as solana", chains.FamilySolana, "0xdAC17F958D2ee523a2206206994597C13D831ec7", false},
		{"unknown family", chains.Family("btc"), "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			norm, key, err := Parse(tc.f, tc.in)
			if tc.ok != (err == nil) {
				t.Fatalf("Parse(%s, %q) err = %v, want ok=%v", tc.f, tc.in, err, tc.ok)
			}
			if !tc.ok {
				if !errors.Is(err, ErrInvalid) {
					t.Errorf("error %v does not match ErrInvalid", err)
				}
				return
			}
			if norm != tc.in || Format(tc.f, key) != tc.in {
				t.Errorf("norm %s / Format %s, want %s", norm, Format(tc.f, key), tc.in)
			}
		})
	}
	if got := Format(chains.Family("btc"), chains.AddrKey{}); got != "" {
		t.Errorf("Format(unknown) = %q, want empty", got)
	}
}
