package api

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"strings"
)

// Scope is a permission a bearer token carries.
type Scope string

const (
	ScopeRead  Scope = "read"
	ScopeWrite Scope = "write"
)

// Token is one configured bearer token.
type Token struct {
	Name   string
	Secret string
	Scopes []Scope
}

type tokenDigest struct {
	name   string
	sum    [32]byte
	scopes map[Scope]bool
}

// authenticator compares presented tokens against the configured ones in
// constant time: every configured token is compared (no early exit), on
// SHA-256 digests so that length differences do not leak either.
type authenticator struct{ tokens []tokenDigest }

func newAuthenticator(tokens []Token) *authenticator {
	a := &authenticator{}
	for _, t := range tokens {
		d := tokenDigest{name: t.Name, sum: sha256.Sum256([]byte(t.Secret)), scopes: map[Scope]bool{}}
		for _, s := range t.Scopes {
			d.scopes[s] = true
		}
		a.tokens = append(a.tokens, d)
	}
	return a
}

// identify returns the token presented in r, or ok=false.
func (a *authenticator) identify(r *http.Request) (tokenDigest, bool) {
	h := r.Header.Get("Authorization")
	const prefix = "Bearer "
	if len(h) <= len(prefix) || !strings.EqualFold(h[:len(prefix)], prefix) {
		return tokenDigest{}, false
	}
	sum := sha256.Sum256([]byte(strings.TrimSpace(h[len(prefix):])))
	var found tokenDigest
	ok := 0
	for _, t := range a.tokens {
		if subtle.ConstantTimeCompare(sum[:], t.sum[:]) == 1 {
			found = t
			ok = 1
		}
	}
	return found, ok == 1
}

// require wraps h so that it runs only for a token with scope s.
func (s *Server) require(scope Scope, h func(http.ResponseWriter, *http.Request) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		tok, ok := s.auth.identify(r)
		if !ok {
			w.Header().Set("WWW-Authenticate", `Bearer realm="depositd"`)
			writeError(w, errorf(http.StatusUnauthorized, "unauthorized", "a valid bearer token is required"))
			return
		}
		if !tok.scopes[scope] {
			writeError(w, errorf(http.StatusForbidden, "forbidden", "token %q lacks the %q scope", tok.name, scope))
			return
		}
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		err := h(rec, r.WithContext(context.WithValue(r.Context(), operatorKey{}, tok.name)))
		if err != nil {
			if _, isAPI := err.(*apiError); !isAPI {
				s.log.Error("api handler", "method", r.Method, "path", r.URL.Path, "err", err)
			}
			writeError(rec, err)
		}
		if scope == ScopeWrite {
			s.log.Info("audit", "token", tok.name, "method", r.Method, "path", r.URL.Path, "status", rec.status)
		}
	}
}

type operatorKey struct{}

// operator is the name of the token that authenticated r: the operator a
// write is recorded against.
func operator(r *http.Request) string {
	name, _ := r.Context().Value(operatorKey{}).(string)
	return name
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Flush() {
	if f, ok := r.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}
