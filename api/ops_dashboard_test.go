package api

import (
	"encoding/json"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// TestGrafanaDashboard: deploy/grafana-dashboard.json queries only metrics
// the daemon defines, and charts every one of them.
func TestGrafanaDashboard(t *testing.T) {
	data, err := os.ReadFile("../deploy/grafana-dashboard.json")
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		Title  string `json:"title"`
		Panels []struct {
			Title   string `json:"title"`
			Type    string `json:"type"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	if err := json.Unmarshal(data, &dash); err != nil {
		t.Fatalf("dashboard is not JSON: %v", err)
	}
	metric := regexp.MustCompile(`depositd_[a-z_]+`)
	used := map[string]bool{}
	for _, p := range dash.Panels {
		if p.Type != "row" && len(p.Targets) == 0 {
			t.Errorf("panel %q has no query", p.Title)
		}
		for _, tg := range p.Targets {
			for _, m := range metric.FindAllString(tg.Expr, -1) {
				for _, suffix := range []string{"_bucket", "_sum", "_count"} {
					m = strings.TrimSuffix(m, suffix)
				}
				used[m] = true
			}
		}
	}

	defined := map[string]bool{}
	literal := regexp.MustCompile(`"(depositd_[a-z_]+)"`)
	err = filepath.WalkDir("..", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (strings.HasPrefix(d.Name(), ".") && path != ".." || d.Name() == "testdata") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, m := range literal.FindAllSubmatch(src, -1) {
			defined[string(m[1])] = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(defined) < 10 {
		t.Fatalf("found only %d depositd_ metric names in the sources: %v", len(defined), defined)
	}
	for _, m := range slices.Sorted(maps.Keys(used)) {
		if !defined[m] {
			t.Errorf("dashboard queries %s, which no Go source defines", m)
		}
	}
	for _, m := range slices.Sorted(maps.Keys(defined)) {
		if !used[m] {
			t.Errorf("metric %s is not on the dashboard", m)
		}
	}
}
