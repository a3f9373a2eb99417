package deploy_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"text/template"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/promql/parser"
	"gopkg.in/yaml.v3"
)

// ruleFile is the Prometheus rules file format (rulefmt), strictly.
type ruleFile struct {
	Groups []struct {
		Name     string `yaml:"name"`
		Interval string `yaml:"interval"`
		Rules    []rule `yaml:"rules"`
	} `yaml:"groups"`
}

type rule struct {
	Alert         string            `yaml:"alert"`
	Expr          string            `yaml:"expr"`
	For           string            `yaml:"for"`
	KeepFiringFor string            `yaml:"keep_firing_for"`
	Labels        map[string]string `yaml:"labels"`
	Annotations   map[string]string `yaml:"annotations"`
}

// templateFuncs names the functions Prometheus offers in alert templates;
// annotations may use only these.
var templateFuncs = template.FuncMap{}

func init() {
	for _, f := range []string{"humanize", "humanize1024", "humanizeDuration", "humanizePercentage",
		"humanizeTimestamp", "toTime", "title", "toUpper", "toLower", "match", "reReplaceAll",
		"query", "first", "label", "value", "sortByLabel", "strvalue", "args", "safeHtml",
		"stripPort", "stripDomain", "graphLink", "tableLink", "pathPrefix", "externalURL",
		"parseDuration", "urlUnescape"} {
		templateFuncs[f] = func(...any) any { return nil }
	}
}

// templateDefs are the variables Prometheus defines before expanding an
// annotation.
const templateDefs = "{{$labels := .Labels}}{{$externalLabels := .ExternalLabels}}{{$externalURL := .ExternalURL}}{{$value := .Value}}"

// checkRules returns every problem of a rules file: structure, PromQL,
// durations, labels, annotations, and metric names the daemon does not
// export. anchors are the runbook sections that exist.
func checkRules(data []byte, e exported, anchors map[string]bool) []string {
	var f ruleFile
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil {
		return []string{"yaml: " + err.Error()}
	}
	var problems []string
	bad := func(where, format string, args ...any) {
		problems = append(problems, where+": "+fmt.Sprintf(format, args...))
	}
	if len(f.Groups) == 0 {
		bad("groups", "none")
	}
	seen := map[string]bool{}
	for _, g := range f.Groups {
		if len(g.Rules) == 0 {
			bad(g.Name, "group without rules")
		}
		for _, r := range g.Rules {
			where := g.Name + "/" + r.Alert
			if r.Alert == "" || seen[r.Alert] {
				bad(where, "alert name empty or repeated")
			}
			seen[r.Alert] = true
			for _, d := range []string{r.For, r.KeepFiringFor} {
				if _, err := model.ParseDuration(d); d != "" && err != nil {
					bad(where, "duration %q: %v", d, err)
				}
			}
			if s := r.Labels["severity"]; s != "critical" && s != "warning" {
				bad(where, "severity %q: want critical or warning", s)
			}
			for _, k := range []string{"summary", "description", "runbook"} {
				if r.Annotations[k] == "" {
					bad(where, "annotation %s missing", k)
				}
			}
			if rb := r.Annotations["runbook"]; rb != "" {
				_, anchor, _ := strings.Cut(rb, "#")
				if !strings.HasPrefix(rb, "deploy/PRODUCTION.md#") || !anchors[anchor] {
					bad(where, "runbook %q: no such section in deploy/PRODUCTION.md", rb)
				}
			}
			for k, v := range r.Annotations {
				if _, err := template.New(k).Funcs(templateFuncs).Parse(templateDefs + v); err != nil {
					bad(where, "annotation %s: %v", k, err)
				}
			}
			for _, p := range exprProblems(r.Expr, e) {
				bad(where, "%s", p)
			}
		}
	}
	return problems
}

// exprProblems parses a PromQL expression and checks that every selector
// names a metric the daemon exports.
func exprProblems(expr string, e exported) []string {
	ast, err := parser.ParseExpr(expr)
	if err != nil {
		return []string{fmt.Sprintf("expr %q: %v", expr, err)}
	}
	var problems []string
	parser.Inspect(ast, func(n parser.Node, _ []parser.Node) error {
		vs, ok := n.(*parser.VectorSelector)
		if !ok {
			return nil
		}
		name := vs.Name
		for _, m := range vs.LabelMatchers {
			if m.Name == model.MetricNameLabel && name == "" {
				name = m.Value
			}
		}
		if !e.known(name) {
			problems = append(problems, fmt.Sprintf("metric %q is not exported by depositd", name))
		}
		return nil
	})
	return problems
}

// headingAnchors returns the GitHub anchors of a Markdown file's headings.
func headingAnchors(t *testing.T, path string) map[string]bool {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	drop := regexp.MustCompile(`[^\p{L}\p{N} _-]`)
	out := map[string]bool{}
	for line := range strings.Lines(string(data)) {
		if h, ok := strings.CutPrefix(line, "## "); ok {
			s := drop.ReplaceAllString(strings.ToLower(strings.TrimSpace(h)), "")
			out[strings.ReplaceAll(s, " ", "-")] = true
		}
	}
	return out
}

// grafanaVar matches the dashboard's template variables.
var grafanaVar = regexp.MustCompile(`\$\{?(__rate_interval|__interval|__range|[A-Za-z_]\w*)\}?`)

// dashboardProblems checks every query of a Grafana dashboard: panel
// targets and templating queries, with Grafana's variables filled in.
func dashboardProblems(data []byte, e exported) []string {
	var doc any
	if err := json.Unmarshal(data, &doc); err != nil {
		return []string{"json: " + err.Error()}
	}
	var exprs []string
	var walk func(v any, key string)
	walk = func(v any, key string) {
		switch v := v.(type) {
		case map[string]any:
			for k, c := range v {
				walk(c, k)
			}
		case []any:
			for _, c := range v {
				walk(c, key)
			}
		case string:
			if key == "expr" || key == "definition" {
				exprs = append(exprs, v)
			}
		}
	}
	walk(doc, "")
	labelValues := regexp.MustCompile(`^label_values\((.+),\s*\w+\)$`)
	var problems []string
	for _, x := range exprs {
		if m := labelValues.FindStringSubmatch(x); m != nil {
			x = m[1]
		}
		x = grafanaVar.ReplaceAllStringFunc(x, func(v string) string {
			if strings.Contains(v, "__") {
				return "5m"
			}
			return "x"
		})
		problems = append(problems, exprProblems(x, e)...)
	}
	if len(exprs) == 0 {
		problems = append(problems, "no queries found")
	}
	return problems
}

func TestAlertsAndDashboardUseExportedMetrics(t *testing.T) {
	e := daemonMetrics(t)
	anchors := headingAnchors(t, "PRODUCTION.md")
	rules, err := os.ReadFile("alerts.yml")
	if err != nil {
		t.Fatal(err)
	}
	t.Run("alerts.yml", func(t *testing.T) {
		for _, p := range checkRules(rules, e, anchors) {
			t.Error(p)
		}
	})
	t.Run("grafana-dashboard.json", func(t *testing.T) {
		data, err := os.ReadFile("grafana-dashboard.json")
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range dashboardProblems(data, e) {
			t.Error(p)
		}
	})
	t.Run("the check rejects what it must", func(t *testing.T) {
		mutate := func(old, new string) []byte {
			if !bytes.Contains(rules, []byte(old)) {
				t.Fatalf("alerts.yml no longer contains %q", old)
			}
			return bytes.Replace(rules, []byte(old), []byte(new), 1)
		}
		for _, tc := range []struct {
			name string
			file []byte
			want string
		}{
			{"unknown metric", mutate("depositd_redis_up == 0", "depositd_redis_upp == 0"), `metric "depositd_redis_upp" is not exported`},
			{"histogram suffix of a counter", mutate("depositd_rpc_latency_seconds_bucket", "depositd_rpc_calls_total_bucket"), `metric "depositd_rpc_calls_total_bucket"`},
			{"name by matcher", mutate("depositd_redis_up == 0", `1 > {__name__="depositd_nope"}`), `metric "depositd_nope"`},
			{"bad PromQL", mutate("depositd_redis_up == 0", "depositd_redis_up == == 0"), "parse error"},
			{"unknown key", mutate("        for: 1m\n", "        for: 1m\n        fore: 1m\n"), "field fore not found"},
			{"bad duration", mutate("for: 1m", "for: 1 minute"), `duration "1 minute"`},
			{"no severity", mutate("  severity: critical\n", "  severity: urgent\n"), `severity "urgent"`},
			{"dangling runbook", mutate("deploy/PRODUCTION.md#alerts", "deploy/PRODUCTION.md#nowhere"), "no such section"},
			{"bad template", mutate("{{ $labels.instance }} cannot reach", "{{ $labels.instance cannot reach"), "annotation summary"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				got := checkRules(tc.file, e, anchors)
				if !slices.ContainsFunc(got, func(p string) bool { return strings.Contains(p, tc.want) }) {
					t.Fatalf("problems %q do not mention %q", got, tc.want)
				}
			})
		}
		if got := dashboardProblems([]byte(`{"panels":[{"targets":[{"expr":"rate(depositd_nope_total[$__rate_interval])"}]}]}`), e); len(got) != 1 {
			t.Fatalf("dashboard with an unknown metric: problems %q", got)
		}
	})
}

// promtool finds promtool on PATH or where scripts/ensure-promtool.sh
// installs it.
func promtool(t *testing.T) string {
	t.Helper()
	if p, err := exec.LookPath("promtool"); err == nil {
		return p
	}
	gopath, err := exec.Command("go", "env", "GOPATH").Output()
	if err == nil {
		p := filepath.Join(strings.TrimSpace(string(gopath)), "bin", "promtool")
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	t.Skip("promtool not installed (scripts/ensure-promtool.sh installs it; `make test` runs it): " +
		"rules were checked by the Go parser only")
	return ""
}

func TestAlertsPromtool(t *testing.T) {
	bin := promtool(t)
	for _, args := range [][]string{{"check", "rules", "alerts.yml"}, {"test", "rules", "alerts_test.yml"}} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			out, err := exec.Command(bin, args...).CombinedOutput()
			if err != nil {
				t.Fatalf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
			}
			t.Logf("%s", out)
		})
	}
}
