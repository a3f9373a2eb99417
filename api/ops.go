package api

import (
	"embed"
	"io/fs"
	"net/http"
	"time"
)

// web holds the ops page: plain HTML, vanilla JS and CSS, no external
// resources, so the page works offline.
//
//go:embed web
var web embed.FS

// opsRefresh is how often the event stream rebuilds its snapshot.
const opsRefresh = time.Second

// opsRoutes registers the ops page (GET /), its static files (GET /web/…),
// the live event stream (GET /v1/events/stream) and the OpenAPI document
// (GET /v1/openapi.json) on s.mux. The page and its files are public; it
// asks for an API token and uses it for the stream. Call once, from routes().
func (s *Server) opsRoutes() {
	static, err := fs.Sub(web, "web")
	if err != nil {
		panic(err) // the embedded tree always has web/
	}
	s.mux.HandleFunc("GET /{$}", s.opsPage)
	s.mux.Handle("GET /web/", http.StripPrefix("/web/", http.FileServerFS(static)))
	s.mux.HandleFunc("GET /v1/openapi.json", serveOpenAPI)
	s.mux.HandleFunc("GET /v1/events/stream", s.eventStream(opsRefresh, time.Now))
}

// opsPage serves the ops page without authentication; the page holds no
// data until the operator enters a token.
func (s *Server) opsPage(w http.ResponseWriter, r *http.Request) {
	page, err := web.ReadFile("web/index.html")
	if err != nil {
		writeError(w, err)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("Content-Security-Policy", "default-src 'self'; connect-src 'self'; img-src 'self' data:")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	_, _ = w.Write(page)
}
