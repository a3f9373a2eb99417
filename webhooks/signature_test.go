package webhooks

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
	"pgregory.net/rapid"
)

func TestSignSpecVector(t *testing.T) {
	got, err := Sign("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_p5jXN8AQM9LWM0D4loKWxJek",
		time.Unix(1614265330, 0), []byte(`{"test": 2432232314}`))
	if err != nil {
		t.Fatal(err)
	}
	if want := "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="; got != want {
		t.Fatalf("Sign = %s, want %s", got, want)
	}
}

// TestSignAgreesWithReferenceLibrary checks our signing against the spec's
// own Go library on random keys, ids, times and bodies, both ways.
func TestSignAgreesWithReferenceLibrary(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		key := rapid.SliceOfN(rapid.Byte(), 24, 64).Draw(t, "key")
		other := rapid.SliceOfN(rapid.Byte(), 24, 64).Draw(t, "other")
		id := rapid.StringMatching(`msg_[A-Za-z0-9]{1,30}`).Draw(t, "id")
		body := rapid.SliceOf(rapid.Byte()).Draw(t, "body")
		now := time.Now().Truncate(time.Second)
		ts := now.Add(time.Duration(rapid.IntRange(-240, 240).Draw(t, "skew")) * time.Second)
		secret := "whsec_" + b64(key)

		ours, err := Sign(secret, id, ts, body)
		if err != nil {
			t.Fatal(err)
		}
		ref, err := standardwebhooks.NewWebhook(secret)
		if err != nil {
			t.Fatal(err)
		}
		theirs, err := ref.Sign(id, ts, body)
		if err != nil {
			t.Fatal(err)
		}
		if ours != theirs {
			t.Fatalf("ours %s, reference %s", ours, theirs)
		}
		// A rotation header signed by two keys verifies with either.
		h := http.Header{}
		h.Set(HeaderID, id)
		h.Set(HeaderTimestamp, strconv.FormatInt(ts.Unix(), 10))
		h.Set(HeaderSignature, signatureHeader([][]byte{other, key}, id, ts.Unix(), body))
		if err := ref.Verify(body, h); err != nil {
			t.Fatalf("reference rejects our rotation header: %v", err)
		}
		if err := Verify([]string{"whsec_" + b64(other)}, h, body, 5*time.Minute, now); err != nil {
			t.Fatalf("we reject our rotation header: %v", err)
		}
	})
}

func TestVerify(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	body := []byte(`{"id":"evt_1"}`)
	sig, err := Sign(testSecret, "evt_1", now, body)
	if err != nil {
		t.Fatal(err)
	}
	headers := func(id, ts, sig string) http.Header {
		h := http.Header{}
		h.Set(HeaderID, id)
		h.Set(HeaderTimestamp, ts)
		h.Set(HeaderSignature, sig)
		return h
	}
	ts := strconv.FormatInt(now.Unix(), 10)
	tests := []struct {
		name    string
		secrets []string
		h       http.Header
		body    []byte
		now     time.Time
		want    error  // sentinel, or nil
		wantMsg string // substring when not a sentinel
	}{
		{"valid", []string{testSecret}, headers("evt_1", ts, sig), body, now, nil, ""},
		{"second secret during rotation", []string{testSecret2, testSecret}, headers("evt_1", ts, sig), body, now, nil, ""},
		{"several signatures, one good", []string{testSecret}, headers("evt_1", ts, "v1,AAAA v1a,xyz "+sig), body, now, nil, ""},
		{"at the tolerance edge", []string{testSecret}, headers("evt_1", ts, sig), body, now.Add(5 * time.Minute), nil, ""},
		{"missing signature", []string{testSecret}, headers("evt_1", ts, ""), body, now, ErrMissingHeaders, ""},
		{"missing id", []string{testSecret}, headers("", ts, sig), body, now, ErrMissingHeaders, ""},
		{"too old", []string{testSecret}, headers("evt_1", ts, sig), body, now.Add(5*time.Minute + time.Second), ErrBadTimestamp, ""},
		{"too new", []string{testSecret}, headers("evt_1", ts, sig), body, now.Add(-6 * time.Minute), ErrBadTimestamp, ""},
		{"tampered body", []string{testSecret}, headers("evt_1", ts, sig), []byte(`{"id":"evt_2"}`), now, ErrNoMatch, ""},
		{"other id", []string{testSecret}, headers("evt_2", ts, sig), body, now, ErrNoMatch, ""},
		{"wrong secret", []string{testSecret2}, headers("evt_1", ts, sig), body, now, ErrNoMatch, ""},
		{"only unknown schemes", []string{testSecret}, headers("evt_1", ts, "v1a,"+strings.TrimPrefix(sig, "v1,")), body, now, ErrNoMatch, ""},
		{"timestamp not a number", []string{testSecret}, headers("evt_1", "soon", sig), body, now, nil, "webhook-timestamp"},
		{"secret without prefix", []string{"MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}, headers("evt_1", ts, sig), body, now, nil, "whsec_"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := Verify(tc.secrets, tc.h, tc.body, 5*time.Minute, tc.now)
			switch {
			case tc.wantMsg != "":
				if err == nil || !strings.Contains(err.Error(), tc.wantMsg) {
					t.Fatalf("err = %v, want one mentioning %q", err, tc.wantMsg)
				}
			case !errors.Is(err, tc.want):
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
		})
	}
}

func TestParseSecret(t *testing.T) {
	tests := []struct {
		name, secret string
		ok           bool
	}{
		{"spec vector (24 bytes)", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", true},
		{"64 bytes", "whsec_" + b64(make([]byte, 64)), true},
		{"no prefix", "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", false},
		{"not base64", "whsec_!!!!", false},
		{"too short", "whsec_" + b64(make([]byte, 23)), false},
		{"too long", "whsec_" + b64(make([]byte, 65)), false},
		{"empty", "", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseSecret(tc.secret)
			if (err == nil) != tc.ok {
				t.Fatalf("ParseSecret err = %v, want ok=%v", err, tc.ok)
			}
			if err != nil && strings.Contains(err.Error(), strings.TrimPrefix(tc.secret, "whsec_")) && tc.secret != "" {
				t.Fatalf("error %q echoes the secret", err)
			}
		})
	}
}
