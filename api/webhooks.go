package api

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/depositd/depositd/webhooks"
)

// Webhooks is what the API needs of the webhook dispatcher.
type Webhooks interface {
	Deliveries(ctx context.Context, f webhooks.Filter) ([]webhooks.Delivery, string, error)
	Delivery(ctx context.Context, id string) (webhooks.Delivery, error)
	Redeliver(ctx context.Context, id string) error
	RedeliverFailed(ctx context.Context, endpoint string, since time.Time) (int, error)
}

func webhookError(err error) error {
	switch {
	case errors.Is(err, webhooks.ErrNotFound):
		return notFound("%v", err)
	case errors.Is(err, webhooks.ErrBadFilter):
		return badRequest("%v", err)
	}
	return err
}

// listDeliveries lists deliveries with their attempts, newest first:
// ?status=pending|delivered|failed|dead|disabled&endpoint=&limit=&cursor=.
func (s *Server) listDeliveries(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	limit, err := limitParam(r, 50, 500)
	if err != nil {
		return err
	}
	items, next, err := s.opts.Webhooks.Deliveries(r.Context(), webhooks.Filter{
		Status: q.Get("status"), Endpoint: q.Get("endpoint"), Limit: limit, Cursor: q.Get("cursor"),
	})
	if err != nil {
		return webhookError(err)
	}
	if items == nil {
		items = []webhooks.Delivery{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": items, "next": nullIfEmpty(next)})
	return nil
}

func (s *Server) getDelivery(w http.ResponseWriter, r *http.Request) error {
	d, err := s.opts.Webhooks.Delivery(r.Context(), r.PathValue("id"))
	if err != nil {
		return webhookError(err)
	}
	writeJSON(w, http.StatusOK, d)
	return nil
}

// redeliver queues one delivery again with a fresh schedule.
func (s *Server) redeliver(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	if err := s.opts.Webhooks.Redeliver(r.Context(), id); err != nil {
		return webhookError(err)
	}
	return s.getDelivery(w, r)
}

// redeliverFailed queues every failed, dead or disabled delivery of an
// endpoint whose event is at or after ?since= (RFC 3339; default: all).
func (s *Server) redeliverFailed(w http.ResponseWriter, r *http.Request) error {
	var since time.Time
	if v := r.URL.Query().Get("since"); v != "" {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			return badRequest("since: want an RFC 3339 time, got %q", v)
		}
		since = t
	}
	name := r.PathValue("name")
	n, err := s.opts.Webhooks.RedeliverFailed(r.Context(), name, since)
	if err != nil {
		return webhookError(err)
	}
	writeJSON(w, http.StatusOK, map[string]any{"endpoint": name, "queued": n})
	return nil
}
