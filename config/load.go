package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// maxFileSize bounds the config file: a larger one is a mistake.
const maxFileSize = 1 << 20

// Load reads and parses the config file at path. Secret files named in it
// are resolved relative to the file's directory. See Parse for the errors.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return parse(data, path, filepath.Dir(path), os.LookupEnv, os.ReadFile)
}

// Parse parses a config document; name labels errors (usually the file
// name). It applies defaults, decodes the YAML strictly, resolves secrets
// from the environment or from files (relative to the working directory) and
// validates. Every problem found is returned at once as Errors; the Config is
// returned only when there are none. Parse never panics on any input.
func Parse(data []byte, name string) (*Config, error) {
	return parse(data, name, "", os.LookupEnv, os.ReadFile)
}

func parse(data []byte, name, dir string, env func(string) (string, bool), read func(string) ([]byte, error)) (*Config, error) {
	c := defaults()
	c.file = name
	d := &decoder{
		reporter: &reporter{file: name, lines: c.lines},
		env:      env,
		read:     read,
		dir:      dir,
		budget:   maxNodes,
		failed:   map[string]bool{},
	}
	root, err := document(data)
	if err != nil {
		line, msg := yamlLine(err)
		return nil, Errors{{File: name, Line: line, Msg: msg}}
	}
	d.mode = Mode(d.scalarOf(root, "mode"))
	if d.mode == "" {
		d.mode = ModeProduction
	}
	if root = deref(root); root == nil || root.Kind != yaml.MappingNode {
		line := 0
		if root != nil {
			line = root.Line
		}
		return nil, Errors{{File: name, Line: line, Msg: "want a mapping of sections at the top level"}}
	}
	d.root(root, c)
	if d.budget <= 0 {
		// Everything after the budget ran out is noise: report only that.
		return nil, Errors{{File: name, Msg: fmt.Sprintf("document too large (more than %d nodes after aliases)", maxNodes)}}
	}
	c.normalize(d.reporter)
	errs := d.errs
	v := &reporter{file: name, lines: c.lines}
	c.validate(v)
	for _, e := range v.errs {
		// A key that failed to decode kept its default: do not also report
		// what Validate thinks of that default.
		if !d.failed[e.Path] {
			errs = append(errs, e)
		}
	}
	if len(errs) > 0 {
		return nil, errs.sorted()
	}
	c.Warnings = d.warns
	return c, nil
}

// document decodes exactly one YAML document into a node tree.
func document(data []byte) (*yaml.Node, error) {
	if len(data) > maxFileSize {
		return nil, fmt.Errorf("file larger than %d bytes", maxFileSize)
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, errors.New("empty document")
		}
		return nil, err
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return nil, errors.New("more than one YAML document")
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 {
		return nil, errors.New("empty document")
	}
	return doc.Content[0], nil
}

// yamlLine splits a yaml.v3 syntax error ("yaml: line 3: did not find
// expected key") into its line and message.
func yamlLine(err error) (int, string) {
	var line int
	msg := err.Error()
	if _, e := fmt.Sscanf(msg, "yaml: line %d:", &line); e == nil {
		if _, rest, ok := strings.Cut(msg, ": "); ok {
			if _, rest, ok = strings.Cut(rest, ": "); ok {
				return line, "yaml syntax: " + rest
			}
		}
	}
	return 0, msg
}

// normalize fills what depends on other keys: canonical token addresses,
// decimals and programs of pinned tokens, the settlement location. Problems
// are left to Validate; look-alike tokens are warned about.
func (c *Config) normalize(r *reporter) {
	for i := range c.Chains {
		ch := &c.Chains[i]
		syms := make([]string, len(ch.Tokens))
		for j, t := range ch.Tokens {
			syms[j] = t.Symbol
		}
		lbl := labels(syms)
		for j := range ch.Tokens {
			t := &ch.Tokens[j]
			if ch.Kind == KindSolana && t.Program == "" {
				t.Program = ProgramToken
			}
			addr, err := checkAddress(ch.Kind, t.Address)
			if err != nil {
				continue
			}
			t.Address = addr
			if known, ok := lookupKnown(ch.Kind, ch.ChainID, addr); ok {
				if t.Decimals == unsetDecimals {
					t.Decimals = known.decimals
				}
			} else if pinned, ok := knownSymbolElsewhere(ch.Kind, ch.ChainID, t.Symbol, addr); ok {
				p := elem(elem("chains", labels(chainNames(c.Chains))[i], i)+".tokens", lbl[j], j)
				r.warnf(join(p, "address"), "%s is not the pinned %s contract %s: a look-alike?", addr, t.Symbol, pinned)
			}
		}
	}
	if loc, err := time.LoadLocation(c.Settlement.Timezone); err == nil && c.Settlement.Timezone != "Local" {
		c.Settlement.Location = loc
	}
}

func chainNames(cs []Chain) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.Name
	}
	return out
}
