package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
)

// apiError is the one error shape of the API: {"error":{"code","message"}}.
type apiError struct {
	Status  int    `json:"-"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

func (e *apiError) Error() string { return e.Code + ": " + e.Message }

func errorf(status int, code, format string, args ...any) *apiError {
	return &apiError{Status: status, Code: code, Message: fmt.Sprintf(format, args...)}
}

func badRequest(format string, args ...any) *apiError {
	return errorf(http.StatusBadRequest, "bad_request", format, args...)
}

func notFound(format string, args ...any) *apiError {
	return errorf(http.StatusNotFound, "not_found", format, args...)
}

func conflict(format string, args ...any) *apiError {
	return errorf(http.StatusConflict, "conflict", format, args...)
}

// writeError renders err. Anything that is not an *apiError is an internal
// error: logged by the caller, shown without detail.
func writeError(w http.ResponseWriter, err error) {
	var ae *apiError
	if !errors.As(err, &ae) {
		ae = errorf(http.StatusInternalServerError, "internal", "internal error")
	}
	writeJSON(w, ae.Status, map[string]any{"error": ae})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

// maxBody bounds every request body; bulk registration is the largest.
const maxBody = 32 << 20

// decodeJSON reads one JSON object into v, strictly: unknown fields, trailing
// data and an over-long body are 400s with a message saying which.
func decodeJSON(r *http.Request, v any) error {
	dec := json.NewDecoder(http.MaxBytesReader(nil, r.Body, maxBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var se *json.SyntaxError
		var te *json.UnmarshalTypeError
		var mbe *http.MaxBytesError
		switch {
		case errors.Is(err, io.EOF):
			return badRequest("request body is empty; a JSON object is required")
		case errors.As(err, &se):
			return badRequest("malformed JSON at byte %d: %v", se.Offset, err)
		case errors.As(err, &te):
			return badRequest("field %q: expected %s, got JSON %s", te.Field, te.Type, te.Value)
		case errors.As(err, &mbe):
			return badRequest("request body over %d bytes", mbe.Limit)
		default:
			return badRequest("invalid JSON body: %v", err)
		}
	}
	if dec.More() {
		return badRequest("unexpected data after the JSON object")
	}
	return nil
}
