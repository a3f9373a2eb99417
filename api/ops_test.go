package api

import (
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
)

// TestOpsPageOffline: the page and its files are served from the binary and
// reference nothing outside the server (it must work with no internet).
func TestOpsPageOffline(t *testing.T) {
	hs := httptest.NewServer(newOpsServer(t).Handler())
	t.Cleanup(hs.Close)
	tests := []struct {
		name, path, contentType, contains string
	}{
		{"page", "/", "text/html; charset=utf-8", `id="token"`},
		{"script", "/web/app.js", "text/javascript; charset=utf-8", "/v1/events/stream"},
		{"style", "/web/style.css", "text/css; charset=utf-8", "tr.orphaned"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := http.Get(hs.URL + tt.path)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != tt.contentType || !strings.Contains(string(body), tt.contains) {
				t.Fatalf("status %d, Content-Type %q, body contains %q: %v", resp.StatusCode, resp.Header.Get("Content-Type"), tt.contains, strings.Contains(string(body), tt.contains))
			}
		})
	}

	external := regexp.MustCompile(`(?i)(https?:)?//[a-z0-9.-]+\.[a-z]{2,}`)
	err := fs.WalkDir(web, "web", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := web.ReadFile(path)
		if err != nil {
			return err
		}
		if m := external.Find(data); m != nil {
			t.Errorf("%s references an outside resource: %s", path, m)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
