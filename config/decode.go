package config

import (
	"fmt"
	"math"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"
	"gopkg.in/yaml.v3"
)

// maxNodes bounds the nodes one document may expand to, so that nested
// aliases ("billion laughs") cannot exhaust memory.
const maxNodes = 100_000

// decoder walks a yaml.Node tree against the schema, recording the line of
// every key path and reporting type errors, unknown keys and repeated keys.
type decoder struct {
	*reporter
	mode   Mode
	env    func(string) (string, bool)
	read   func(string) ([]byte, error)
	dir    string // secret files are relative to the config file's directory
	budget int
	failed map[string]bool // paths that already have a decode error
}

// fieldFn decodes the value v found at path.
type fieldFn func(v *yaml.Node, path string)

// fail reports a decode problem at path and remembers the path, so Validate
// does not repeat it with a consequential message.
func (d *decoder) fail(path string, line int, format string, args ...any) {
	d.failed[path] = true
	d.errs = append(d.errs, FieldError{File: d.file, Path: path, Line: line, Msg: fmt.Sprintf(format, args...)})
}

// deref follows aliases to the anchored node; nil if there is none.
func deref(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < 16; i++ {
		n = n.Alias
	}
	if n == nil || n.Kind == yaml.AliasNode {
		return nil
	}
	return n
}

// resolve follows aliases and charges the node budget. It returns nil once
// the budget is spent.
func (d *decoder) resolve(n *yaml.Node) *yaml.Node {
	if n = deref(n); n == nil {
		return nil
	}
	d.budget--
	if d.budget <= 0 {
		return nil
	}
	return n
}

// isNull reports an explicit null ("key:", "key: ~"): the key keeps its default.
func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		return fmt.Sprintf("%q", n.Value)
	}
	return "an unsupported node"
}

// mapping walks the keys of a mapping node in document order. Unknown keys
// and keys given twice are errors naming the key and its line.
func (d *decoder) mapping(n *yaml.Node, path string, fields map[string]fieldFn) {
	if n = d.resolve(n); n == nil || isNull(n) {
		return
	}
	if n.Kind != yaml.MappingNode {
		d.fail(path, n.Line, "want a mapping, got %s", kindName(n))
		return
	}
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k = d.resolve(k); k == nil {
			return
		}
		p := join(path, k.Value)
		if k.Kind != yaml.ScalarNode {
			d.fail(path, k.Line, "keys must be plain names, got %s", kindName(k))
			continue
		}
		if first, dup := seen[k.Value]; dup {
			d.fail(p, k.Line, "key given twice (first at line %d)", first)
			continue
		}
		seen[k.Value] = k.Line
		fn, ok := fields[k.Value]
		if !ok {
			d.fail(p, k.Line, "unknown key %q%s", k.Value, suggest(k.Value, fields))
			continue
		}
		d.lines[p] = k.Line
		fn(v, p)
	}
}

// suggest names the closest known key, if any is close.
func suggest(key string, fields map[string]fieldFn) string {
	best, dist := "", 3
	names := make([]string, 0, len(fields))
	for f := range fields {
		names = append(names, f)
	}
	sort.Strings(names)
	for _, f := range names {
		if e := editDistance(key, f); e < dist {
			best, dist = f, e
		}
	}
	if best == "" {
		return " (known: " + strings.Join(names, ", ") + ")"
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}

// editDistance is the Levenshtein distance of two short keys.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}

// list walks a sequence node, calling fn with each element and its index.
func (d *decoder) list(n *yaml.Node, path string, fn func(i int, v *yaml.Node)) {
	if n = d.resolve(n); n == nil || isNull(n) {
		return
	}
	if n.Kind != yaml.SequenceNode {
		d.fail(path, n.Line, "want a list, got %s", kindName(n))
		return
	}
	for i, v := range n.Content {
		fn(i, v)
	}
}

// scalar returns the scalar at n; ok is false for null or a type error.
func (d *decoder) scalar(n *yaml.Node, path string) (*yaml.Node, bool) {
	if n = d.resolve(n); n == nil || isNull(n) {
		return nil, false
	}
	if n.Kind != yaml.ScalarNode {
		d.fail(path, n.Line, "want a single value, got %s", kindName(n))
		return nil, false
	}
	return n, true
}

// str decodes a string into *dst; null leaves it unchanged.
func (d *decoder) str(dst *string) fieldFn {
	return func(v *yaml.Node, path string) {
		if s, ok := d.scalar(v, path); ok {
			*dst = s.Value
		}
	}
}

// strs decodes a list of strings.
func (d *decoder) strs(dst *[]string) fieldFn {
	return func(v *yaml.Node, path string) {
		var out []string
		d.list(v, path, func(i int, e *yaml.Node) {
			p := elem(path, "", i)
			d.lines[p] = e.Line
			if s, ok := d.scalar(e, p); ok {
				out = append(out, s.Value)
			}
		})
		if out != nil {
			*dst = out
		}
	}
}

// integer parses a base-10 integer in the int32 range; each key's own range
// is Validate's business.
func (d *decoder) integer(v *yaml.Node, path string) (int32, bool) {
	s, ok := d.scalar(v, path)
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseInt(s.Value, 10, 64)
	if err != nil || s.ShortTag() != "!!int" {
		d.fail(path, s.Line, "want an integer, got %q", s.Value)
		return 0, false
	}
	if n < math.MinInt32 || n > math.MaxInt32 {
		d.fail(path, s.Line, "%d is too large", n)
		return 0, false
	}
	return int32(n), true
}

// int decodes an int32-range integer; Validate checks the key's own range.
func (d *decoder) int(dst *int) fieldFn {
	return func(v *yaml.Node, path string) {
		if n, ok := d.integer(v, path); ok {
			*dst = int(n)
		}
	}
}

// uint decodes a non-negative integer.
func (d *decoder) uint(dst *uint64) fieldFn {
	return func(v *yaml.Node, path string) {
		s, ok := d.scalar(v, path)
		if !ok {
			return
		}
		n, err := strconv.ParseUint(s.Value, 10, 64)
		if err != nil || s.ShortTag() != "!!int" {
			d.fail(path, s.Line, "want a non-negative integer, got %q", s.Value)
			return
		}
		*dst = n
	}
}

// boolean decodes true or false.
func (d *decoder) boolean(dst *bool) fieldFn {
	return func(v *yaml.Node, path string) {
		s, ok := d.scalar(v, path)
		if !ok {
			return
		}
		if s.ShortTag() != "!!bool" {
			d.fail(path, s.Line, "want true or false, got %q", s.Value)
			return
		}
		*dst = strings.EqualFold(s.Value, "true")
	}
}

// parseDuration parses a Go duration string such as "5s" or "1h30m".
func parseDuration(s string) (time.Duration, error) {
	if _, err := strconv.ParseFloat(s, 64); err == nil {
		return 0, fmt.Errorf("bad duration %q: missing unit (e.g. \"%ss\")", s, s)
	}
	t, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("bad duration %q: want a Go duration such as \"15s\" or \"2h\"", s)
	}
	if t < 0 {
		return 0, fmt.Errorf("bad duration %q: must not be negative", s)
	}
	return t, nil
}

// duration decodes a Go duration string.
func (d *decoder) duration(dst *time.Duration) fieldFn {
	return func(v *yaml.Node, path string) {
		s, ok := d.scalar(v, path)
		if !ok {
			return
		}
		t, err := parseDuration(s.Value)
		if err != nil {
			d.fail(path, s.Line, "%v", err)
			return
		}
		*dst = t
	}
}

// durations decodes a list of Go duration strings.
func (d *decoder) durations(dst *[]time.Duration) fieldFn {
	return func(v *yaml.Node, path string) {
		out := []time.Duration{}
		d.list(v, path, func(i int, e *yaml.Node) {
			p := elem(path, "", i)
			d.lines[p] = e.Line
			var t time.Duration
			d.duration(&t)(e, p)
			out = append(out, t)
		})
		*dst = out
	}
}

var decimalRE = regexp.MustCompile(`^-?[0-9]+(\.[0-9]+)?$`)

// decimalOf parses an exact decimal such as "0.01": digits only, never
// through a float, no exponent.
func (d *decoder) decimalOf(v *yaml.Node, path string) (decimal.Decimal, bool) {
	s, ok := d.scalar(v, path)
	if !ok {
		return decimal.Decimal{}, false
	}
	if len(s.Value) > 80 || !decimalRE.MatchString(s.Value) {
		d.fail(path, s.Line, "want a decimal string such as \"0.01\", got %q", s.Value)
		return decimal.Decimal{}, false
	}
	x, err := decimal.NewFromString(s.Value)
	if err != nil {
		d.fail(path, s.Line, "want a decimal string such as \"0.01\", got %q", s.Value)
		return decimal.Decimal{}, false
	}
	return x, true
}

// dec decodes an exact decimal string.
func (d *decoder) dec(dst *decimal.Decimal) fieldFn {
	return func(v *yaml.Node, path string) {
		if x, ok := d.decimalOf(v, path); ok {
			*dst = x
		}
	}
}

// scalarOf returns the value of a scalar key of a mapping without decoding
// it, so that list elements can be labelled and defaulted by name and kind.
func (d *decoder) scalarOf(n *yaml.Node, key string) string {
	if n = deref(n); n == nil || n.Kind != yaml.MappingNode {
		return ""
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], deref(n.Content[i+1])
		if k.Kind == yaml.ScalarNode && k.Value == key && v != nil && v.Kind == yaml.ScalarNode && !isNull(v) {
			return v.Value
		}
	}
	return ""
}

// labelsOf labels the elements of a sequence by the scalar key of each.
func (d *decoder) labelsOf(n *yaml.Node, key string) []string {
	if n = deref(n); n == nil || n.Kind != yaml.SequenceNode {
		return nil
	}
	names := make([]string, len(n.Content))
	for i, e := range n.Content {
		names[i] = d.scalarOf(e, key)
	}
	return labels(names)
}
