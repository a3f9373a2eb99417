package ctl

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
)

// render prints an API answer for people: a table for {"items":[…]}, or
// "key  value" lines for one object. Numbers keep their JSON text.
func render(w io.Writer, data []byte, columns []string) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v map[string]any
	if err := dec.Decode(&v); err != nil {
		return fmt.Errorf("answer is not a JSON object: %w", err)
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	if items, ok := v["items"].([]any); ok {
		fmt.Fprintln(tw, strings.ToUpper(strings.Join(columns, "\t")))
		for _, it := range items {
			obj, _ := it.(map[string]any)
			cells := make([]string, len(columns))
			for i, c := range columns {
				cells[i] = cell(obj[c])
			}
			fmt.Fprintln(tw, strings.Join(cells, "\t"))
		}
		if err := tw.Flush(); err != nil {
			return err
		}
		if next, ok := v["next"].(string); ok && next != "" {
			fmt.Fprintf(w, "more: --cursor %s\n", next)
		}
		return nil
	}
	keys := columns
	if len(keys) == 0 {
		for k := range v {
			keys = append(keys, k)
		}
		sort.Strings(keys)
	}
	for _, k := range keys {
		if val, ok := v[k]; ok {
			fmt.Fprintf(tw, "%s\t%s\n", k, cell(val))
		}
	}
	return tw.Flush()
}

func cell(v any) string {
	switch x := v.(type) {
	case nil:
		return "-"
	case string:
		return x
	case json.Number:
		return x.String()
	case bool:
		if x {
			return "yes"
		}
		return "no"
	default:
		b, _ := json.Marshal(x)
		return string(b)
	}
}
