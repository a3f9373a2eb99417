package config

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// FieldError is one configuration problem at a key path such as
// "chains[bsc].tokens[USDT].decimals".
type FieldError struct {
	File string // config file name; empty for a Config built in code
	Path string
	Line int // YAML line of the key or value; 0 when the node does not exist
	Msg  string
}

// Error formats the problem as "file:line: path: message".
func (e FieldError) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		if e.File == "" {
			b.WriteString("line ")
		} else {
			b.WriteString(":")
		}
		b.WriteString(strconv.Itoa(e.Line))
	}
	if b.Len() > 0 {
		b.WriteString(": ")
	}
	if e.Path != "" {
		b.WriteString(e.Path)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Errors is every problem found in one configuration, in line order.
type Errors []FieldError

// Error lists the problems one per line.
func (es Errors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// sorted orders problems by line, then path, keeping equal ones in order.
func (es Errors) sorted() Errors {
	sort.SliceStable(es, func(i, j int) bool {
		if es[i].Line != es[j].Line {
			return es[i].Line < es[j].Line
		}
		return es[i].Path < es[j].Path
	})
	return es
}

// reporter collects problems and resolves each path to its YAML line.
type reporter struct {
	file  string
	lines map[string]int
	errs  Errors
	warns []string
}

// line returns the line of path, or of its nearest ancestor that exists in
// the YAML (a missing key is reported where its parent is).
func (r *reporter) line(path string) int {
	for p := path; p != ""; p = parentPath(p) {
		if l, ok := r.lines[p]; ok {
			return l
		}
	}
	return 0
}

func (r *reporter) errorf(path, format string, args ...any) {
	r.errs = append(r.errs, FieldError{File: r.file, Path: path, Line: r.line(path), Msg: fmt.Sprintf(format, args...)})
}

func (r *reporter) warnf(path, format string, args ...any) {
	e := FieldError{File: r.file, Path: path, Line: r.line(path), Msg: fmt.Sprintf(format, args...)}
	r.warns = append(r.warns, e.Error())
}

// parentPath strips the last segment: "a[x].b" → "a[x]" → "a" → "".
func parentPath(p string) string {
	i := strings.LastIndexAny(p, ".[")
	if i < 0 {
		return ""
	}
	return p[:i]
}

// join appends a key to a path.
func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// elem names a list element by its label (a chain name, a token symbol) or,
// when it has none, by its index.
func elem(path, label string, i int) string {
	if label == "" {
		label = strconv.Itoa(i)
	}
	return path + "[" + label + "]"
}

// labels returns the element label of each name: the name itself on its
// first use, the index otherwise, so every element keeps a distinct path.
func labels(names []string) []string {
	seen := make(map[string]bool, len(names))
	out := make([]string, len(names))
	for i, n := range names {
		if _, err := strconv.Atoi(n); n == "" || err == nil || seen[n] || strings.ContainsAny(n, ".[]") {
			out[i] = strconv.Itoa(i)
			continue
		}
		seen[n] = true
		out[i] = n
	}
	return out
}
