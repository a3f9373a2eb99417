package api

import (
	_ "embed"
	"net/http"
)

// openapiDoc is the OpenAPI 3.1 description of every route of the server;
// openapi_test.go checks it against routes() and real responses.
//
//go:embed openapi.json
var openapiDoc []byte

// serveOpenAPI serves GET /v1/openapi.json without authentication: the
// document describes the API and holds no data.
func serveOpenAPI(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-cache")
	_, _ = w.Write(openapiDoc)
}
