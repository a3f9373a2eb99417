package config

import (
	"log/slog"
	"path/filepath"
	"regexp"
	"strings"

	"gopkg.in/yaml.v3"
)

// Secret is a credential read from the environment or a file. It never
// prints, logs or marshals its value; call Reveal where the value is used.
type Secret string

const redacted = "[redacted]"

// Reveal returns the secret value.
func (s Secret) Reveal() string { return string(s) }

// String returns "[redacted]", or "" for an empty secret.
func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return redacted
}

// GoString keeps %#v from printing the value.
func (s Secret) GoString() string { return s.String() }

// LogValue keeps slog from printing the value.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.String()) }

// MarshalText keeps encoders (JSON, YAML) from writing the value.
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// secretRef is one place a secret comes from.
type secretRef struct {
	path string // key path, e.g. "api.tokens[ops].token_env"
	line int
	name string // inline value, env var name or file name
}

// secretSrc collects the keys of one secret as they are decoded.
type secretSrc struct {
	keys   []string // keys given, in document order
	inline []secretRef
	env    []secretRef
	files  []secretRef
}

// secretKeys adds the keys of one secret to fields: base (inline, dev only),
// base_env and base_file; and, when plural is set, the lists plural_env and
// plural_file for several secrets at once (key rotation).
func (d *decoder) secretKeys(fields map[string]fieldFn, base, plural string, s *secretSrc) {
	one := func(key string, dst *[]secretRef) {
		fields[key] = func(v *yaml.Node, path string) {
			if n, ok := d.scalar(v, path); ok {
				s.keys = append(s.keys, key)
				*dst = append(*dst, secretRef{path: path, line: n.Line, name: n.Value})
			}
		}
	}
	many := func(key string, dst *[]secretRef) {
		fields[key] = func(v *yaml.Node, path string) {
			s.keys = append(s.keys, key)
			d.list(v, path, func(i int, e *yaml.Node) {
				p := elem(path, "", i)
				d.lines[p] = e.Line
				if n, ok := d.scalar(e, p); ok {
					*dst = append(*dst, secretRef{path: p, line: n.Line, name: n.Value})
				}
			})
		}
	}
	one(base, &s.inline)
	one(base+"_env", &s.env)
	one(base+"_file", &s.files)
	if plural != "" {
		many(plural+"_env", &s.env)
		many(plural+"_file", &s.files)
	}
}

var envNameRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// inlinePolicy says whether a secret may be written into the YAML itself.
type inlinePolicy int

const (
	inlineDevOnly inlinePolicy = iota // a real secret: dev mode only, with a warning
	inlineAllowed                     // a value that is usually not secret (an RPC URL)
)

// secrets resolves the secret collected in s. More than one source is an
// error; none is an error when required. Values are never echoed in errors.
// The line of the source is recorded under path.base, where Validate reports
// problems with the value itself.
func (d *decoder) secrets(path, base string, s *secretSrc, required bool, inline inlinePolicy) []Secret {
	if len(s.keys) > 0 {
		if _, ok := d.lines[join(path, base)]; !ok {
			d.lines[join(path, base)] = d.line(join(path, s.keys[0]))
		}
	}
	before := len(d.errs)
	defer func() {
		if len(d.errs) > before {
			d.failed[join(path, base)] = true
		}
	}()
	switch {
	case len(s.keys) > 1:
		d.fail(join(path, s.keys[1]), d.line(join(path, s.keys[1])),
			"give only one of %s", strings.Join(s.keys, ", "))
		return nil
	case len(s.keys) == 0:
		if required {
			p := join(path, base+"_env")
			d.fail(p, d.line(path), "required: set %s_env or %s_file", base, base)
		}
		return nil
	}
	var out []Secret
	for _, r := range s.inline {
		switch {
		case inline == inlineAllowed:
		case d.mode != ModeDev:
			d.fail(r.path, r.line, "inline secret not allowed outside mode: dev; use %s_env or %s_file", base, base)
			return nil
		default:
			d.warnf(r.path, "inline secret (accepted in dev mode only)")
		}
		out = append(out, Secret(r.name))
	}
	for _, r := range s.env {
		if !envNameRE.MatchString(r.name) {
			d.fail(r.path, r.line, "%q is not an environment variable name", r.name)
			continue
		}
		v, ok := d.env(r.name)
		switch {
		case !ok:
			d.fail(r.path, r.line, "environment variable %s is not set", r.name)
		case strings.TrimSpace(v) == "":
			d.fail(r.path, r.line, "environment variable %s is empty", r.name)
		default:
			out = append(out, Secret(strings.TrimSpace(v)))
		}
	}
	for _, r := range s.files {
		name := r.name
		if !filepath.IsAbs(name) {
			name = filepath.Join(d.dir, name)
		}
		b, err := d.read(name)
		switch {
		case err != nil:
			d.fail(r.path, r.line, "secret file: %v", err)
		case strings.TrimSpace(string(b)) == "":
			d.fail(r.path, r.line, "secret file %s is empty", name)
		default:
			out = append(out, Secret(strings.TrimSpace(string(b))))
		}
	}
	if len(out) != len(s.inline)+len(s.env)+len(s.files) {
		return nil
	}
	if len(out) == 0 && required {
		d.fail(join(path, s.keys[0]), d.line(join(path, s.keys[0])), "empty list of secrets")
	}
	return out
}
