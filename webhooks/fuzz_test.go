package webhooks

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"
)

// FuzzVerify: any headers and body give an error or nil, never a panic,
// and nil only for a correct signature.
func FuzzVerify(f *testing.F) {
	f.Add("msg_1", "1614265330", "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=", []byte(`{"test": 2432232314}`))
	f.Add("", "-1", "v1,", []byte{})
	f.Add("x", "99999999999999999999", "v1a,abc v1,=== ,,", []byte("{"))
	now := time.Unix(1614265330, 0)
	f.Fuzz(func(t *testing.T, id, ts, sig string, body []byte) {
		h := http.Header{}
		h.Set(HeaderID, id)
		h.Set(HeaderTimestamp, ts)
		h.Set(HeaderSignature, sig)
		if Verify([]string{testSecret}, h, body, time.Hour, now) == nil {
			want, err := Sign(testSecret, id, now, body)
			if err != nil || (sig != want && !containsField(sig, want)) {
				t.Fatalf("accepted a signature we did not make: %q", sig)
			}
		}
	})
}

func containsField(list, s string) bool {
	for i := 0; i+len(s) <= len(list); i++ {
		if list[i:i+len(s)] == s {
			return true
		}
	}
	return false
}

// FuzzParseEntry: any outbox fields give an error or a body that is a
// JSON object with the event's id and type.
func FuzzParseEntry(f *testing.F) {
	f.Add("evt_1", "deposit.seen", "2026-01-01T00:00:00Z", `{"a":1}`)
	f.Add("evt 2", "", "yesterday", `[1]`)
	f.Add("e", "t", "2026-01-01T00:00:00.123456789+02:00", `{"a":"\u0000"}`)
	f.Fuzz(func(t *testing.T, id, typ, created, data string) {
		ev, body, err := parseEntry(map[string]any{"id": id, "type": typ, "created_at": created, "data": data})
		if err != nil {
			return
		}
		var got struct {
			ID, Type string
			Data     map[string]any
		}
		if err := json.Unmarshal(body, &got); err != nil {
			t.Fatalf("body %s is not JSON: %v", body, err)
		}
		if got.ID != ev.ID || got.Type != ev.Type {
			t.Fatalf("body %s does not carry id %q type %q", body, ev.ID, ev.Type)
		}
	})
}
