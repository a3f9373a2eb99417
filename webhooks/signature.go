package webhooks

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Standard Webhooks header names.
const (
	HeaderID        = "webhook-id"
	HeaderTimestamp = "webhook-timestamp"
	HeaderSignature = "webhook-signature"
)

const secretPrefix = "whsec_"

// Errors returned by Verify; callers may branch on them with errors.Is.
var (
	ErrMissingHeaders = errors.New("missing webhook-id, webhook-timestamp or webhook-signature")
	ErrBadTimestamp   = errors.New("webhook-timestamp outside the tolerance")
	ErrNoMatch        = errors.New("no matching v1 signature")
)

// ParseSecret decodes a "whsec_<base64>" secret into its HMAC key. The key
// must be 24 to 64 bytes, as the spec asks.
func ParseSecret(secret string) ([]byte, error) {
	rest, ok := strings.CutPrefix(secret, secretPrefix)
	if !ok {
		return nil, errors.New("secret: want the whsec_ prefix")
	}
	key, err := base64.StdEncoding.DecodeString(rest)
	if err != nil {
		return nil, fmt.Errorf("secret: base64: %w", err)
	}
	if len(key) < 24 || len(key) > 64 {
		return nil, fmt.Errorf("secret: key is %d bytes, want 24 to 64", len(key))
	}
	return key, nil
}

// Sign returns the "v1,<base64>" signature of body for message id at ts:
// HMAC-SHA256 keyed with the decoded secret over "id.unix-seconds.body".
func Sign(secret string, id string, ts time.Time, body []byte) (string, error) {
	key, err := ParseSecret(secret)
	if err != nil {
		return "", err
	}
	return "v1," + base64.StdEncoding.EncodeToString(mac(key, id, ts.Unix(), body)), nil
}

// signatureHeader signs with every key (rotation) and joins the
// signatures with spaces, as webhook-signature carries them.
func signatureHeader(keys [][]byte, id string, ts int64, body []byte) string {
	var b strings.Builder
	for i, k := range keys {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString("v1,")
		b.WriteString(base64.StdEncoding.EncodeToString(mac(k, id, ts, body)))
	}
	return b.String()
}

func mac(key []byte, id string, ts int64, body []byte) []byte {
	h := hmac.New(sha256.New, key)
	h.Write([]byte(id))
	h.Write([]byte{'.'})
	h.Write(strconv.AppendInt(nil, ts, 10))
	h.Write([]byte{'.'})
	h.Write(body)
	return h.Sum(nil)
}

// Verify checks a received webhook: the three headers must be present, the
// timestamp within tolerance of now (either side), and at least one v1
// signature in webhook-signature must match one of secrets (several during
// rotation). It returns nil, ErrMissingHeaders, ErrBadTimestamp, ErrNoMatch,
// or an error describing a malformed header or secret.
func Verify(secrets []string, headers http.Header, body []byte, tolerance time.Duration, now time.Time) error {
	id := headers.Get(HeaderID)
	tsText := headers.Get(HeaderTimestamp)
	sigs := headers.Get(HeaderSignature)
	if id == "" || tsText == "" || sigs == "" {
		return ErrMissingHeaders
	}
	ts, err := strconv.ParseInt(tsText, 10, 64)
	if err != nil {
		return fmt.Errorf("webhook-timestamp %q: %w", tsText, err)
	}
	if d := now.Sub(time.Unix(ts, 0)); d > tolerance || d < -tolerance {
		return ErrBadTimestamp
	}
	var got [][]byte
	for _, s := range strings.Fields(sigs) {
		version, b64, ok := strings.Cut(s, ",")
		if !ok || version != "v1" {
			continue // other schemes (v1a) are allowed and ignored
		}
		raw, err := base64.StdEncoding.DecodeString(b64)
		if err != nil {
			continue
		}
		got = append(got, raw)
	}
	for _, secret := range secrets {
		key, err := ParseSecret(secret)
		if err != nil {
			return err
		}
		want := mac(key, id, ts, body)
		for _, g := range got {
			if hmac.Equal(g, want) {
				return nil
			}
		}
	}
	return ErrNoMatch
}
