// Package ctl is depositctl: every API capability as a command, human tables
// by default and --json for scripts.
//
// Exit codes: 0 success, 1 the API refused (4xx/5xx), 2 usage error,
// 3 depositd unreachable.
package ctl

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"sort"
	"strings"
)

const (
	exitOK          = 0
	exitAPI         = 1
	exitUsage       = 2
	exitUnreachable = 3
)

// Main runs depositctl with args and returns the exit code.
func Main(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) int {
	cmd, rest, ok := match(args)
	if !ok {
		if len(args) > 0 && args[0] != "help" && args[0] != "-h" && args[0] != "--help" {
			fmt.Fprintf(stderr, "depositctl: unknown command %q\n\n", strings.Join(args, " "))
			printHelp(stderr)
			return exitUsage
		}
		printHelp(stdout)
		return exitOK
	}
	fs := flag.NewFlagSet(cmd.name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	base := fs.String("url", envOr(getenv, "DEPOSITCTL_URL", "http://127.0.0.1:8080"), "depositd API base URL")
	token := fs.String("token", getenv("DEPOSITCTL_TOKEN"), "API bearer token")
	asJSON := fs.Bool("json", false, "print the JSON answer")
	vals := map[string]*string{}
	for _, f := range append(append([]string{}, cmd.query...), cmd.body...) {
		vals[f] = fs.String(f, "", f)
	}
	var file *string
	if cmd.file {
		file = fs.String("file", "", "request body file (- for stdin)")
	}
	positional, err := parseInterleaved(fs, rest)
	if err != nil {
		fmt.Fprintf(stderr, "depositctl %s: %v\n", cmd.name, err)
		return exitUsage
	}
	if len(positional) != len(cmd.args) {
		fmt.Fprintf(stderr, "depositctl %s: want arguments %s, got %d\n", cmd.name, argList(cmd), len(positional))
		return exitUsage
	}
	if *token == "" {
		*token = getenv("DEPOSITD_DEV_TOKEN")
	}
	path := cmd.path
	body := map[string]any{}
	for i, a := range cmd.args {
		if strings.Contains(path, "{"+a+"}") {
			path = strings.ReplaceAll(path, "{"+a+"}", url.PathEscape(positional[i]))
		} else {
			body[a] = positional[i]
		}
	}
	q := url.Values{}
	for _, f := range cmd.query {
		if v := *vals[f]; v != "" {
			q.Set(f, v)
		}
	}
	for _, f := range cmd.body {
		if v := *vals[f]; v != "" {
			body[f] = v
		}
	}
	var reqBody any
	switch {
	case cmd.file:
		data, ct, err := readBody(*file, stdin, cmd.csv)
		if err != nil {
			fmt.Fprintf(stderr, "depositctl %s: %v\n", cmd.name, err)
			return exitUsage
		}
		reqBody = rawBody{contentType: ct, data: data}
	case cmd.method != "GET":
		reqBody = body
	}
	data, err := newClient(*base, *token).do(ctx, cmd.method, path, q, reqBody)
	if err != nil {
		fmt.Fprintf(stderr, "depositctl %s: %v\n", cmd.name, err)
		var te *transportError
		if errors.As(err, &te) {
			return exitUnreachable
		}
		return exitAPI
	}
	if f, ok := vals["format"]; ok && *f == "csv" {
		_, _ = stdout.Write(data)
		return exitOK
	}
	if *asJSON {
		var out bytes.Buffer
		if json.Indent(&out, data, "", "  ") != nil {
			out.Reset()
			out.Write(data)
		}
		fmt.Fprintln(stdout, strings.TrimSpace(out.String()))
		return exitOK
	}
	if err := render(stdout, data, cmd.columns); err != nil {
		fmt.Fprintf(stderr, "depositctl %s: %v\n", cmd.name, err)
		return exitAPI
	}
	return exitOK
}

// match finds the longest command whose words start args.
func match(args []string) (command, []string, bool) {
	best, bestLen := command{}, 0
	for _, c := range commands {
		words := strings.Fields(c.name)
		if len(words) <= len(args) && len(words) > bestLen && equalWords(words, args[:len(words)]) {
			best, bestLen = c, len(words)
		}
	}
	return best, args[min(bestLen, len(args)):], bestLen > 0
}

func equalWords(a, b []string) bool {
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// parseInterleaved accepts flags before, between and after positional
// arguments.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			return pos, nil
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

func readBody(path string, stdin io.Reader, csv bool) ([]byte, string, error) {
	if path == "" {
		return nil, "", errors.New("--file is required (- for stdin)")
	}
	ct := "application/json"
	if csv && strings.HasSuffix(path, ".csv") {
		ct = "text/csv"
	}
	if path == "-" {
		data, err := io.ReadAll(stdin)
		return data, ct, err
	}
	data, err := os.ReadFile(path)
	return data, ct, err
}

func envOr(getenv func(string) string, k, def string) string {
	if v := getenv(k); v != "" {
		return v
	}
	return def
}

func argList(c command) string {
	if len(c.args) == 0 {
		return "none"
	}
	return "<" + strings.Join(c.args, "> <") + ">"
}

func printHelp(w io.Writer) {
	fmt.Fprintln(w, "usage: depositctl <command> [args] [--url URL] [--token T] [--json] [flags]")
	fmt.Fprintln(w, "token: --token, or DEPOSITCTL_TOKEN, or DEPOSITD_DEV_TOKEN; URL: --url or DEPOSITCTL_URL")
	fmt.Fprintln(w, "exit codes: 0 ok, 1 API error, 2 usage, 3 depositd unreachable")
	fmt.Fprintln(w)
	cs := append([]command(nil), commands...)
	sort.Slice(cs, func(i, j int) bool { return cs[i].name < cs[j].name })
	for _, c := range cs {
		line := c.name
		for _, a := range c.args {
			line += " <" + a + ">"
		}
		for _, f := range append(append([]string{}, c.query...), c.body...) {
			line += " [--" + f + " V]"
		}
		if c.file {
			line += " --file F"
		}
		fmt.Fprintf(w, "  %-62s %s\n", line, c.help)
	}
}
