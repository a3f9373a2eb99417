package tronnet

import "encoding/hex"

func hexs(b []byte) string { return hex.EncodeToString(b) }

func parseKey(s string) (string, []byte, error) {
	a, err := account(s)
	return s, append([]byte{0x41}, a[:]...), err
}
