package ledger

import (
	"bytes"
	"encoding/json"
	"testing"
)

var metaSeeds = []string{
	"", "plain", `quote " backslash \ slash /`, "<script>&amp;</script>", "\b\f\n\r\t\x00\x01\x1f\x7f",
	"héllo wörld ✓ 😀", "bad utf8 \xff\xfe end", "\xe2\x80", "line\u2028para\u2029end", "0xdAC17F958D2ee523a2206206994597C13D831ec7",
}

func TestJSONMetaMatchesEncodingJSON(t *testing.T) {
	m := map[string]string{}
	for i, s := range metaSeeds {
		m[s] = metaSeeds[len(metaSeeds)-1-i]
		checkMeta(t, map[string]string{s: s})
	}
	checkMeta(t, m)
	checkMeta(t, nil)
	checkMeta(t, map[string]string{})
}

func FuzzJSONMeta(f *testing.F) {
	for _, s := range metaSeeds {
		f.Add(s, s)
	}
	f.Fuzz(func(t *testing.T, k, v string) {
		checkMeta(t, map[string]string{k: v, v: k, "chain": v})
	})
}

func checkMeta(t *testing.T, m map[string]string) {
	t.Helper()
	got, err := jsonMeta(m)
	if err != nil {
		t.Fatal(err)
	}
	want, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	if len(m) == 0 {
		want = []byte("{}")
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("jsonMeta(%q)\n got %s\nwant %s", m, got, want)
	}
}
