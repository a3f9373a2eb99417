package daemon

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/depositd/depositd/billing/huawei"
	"github.com/depositd/depositd/config"
)

// huaweiImporter builds the Huawei Cloud statement import of cfg.Huawei,
// or returns nil when the section is absent. Its metrics are registered
// either way, so dashboards and alert rules find them (at zero) on every
// daemon.
func (d *Daemon) huaweiImporter(cfg *config.Config, log *slog.Logger) (func(context.Context) error, error) {
	m, err := huawei.NewMetrics(d.Registry)
	if err != nil {
		return nil, fmt.Errorf("huawei: %w", err)
	}
	h := cfg.Huawei
	if h == nil {
		return nil, nil
	}
	client, err := huawei.NewClient(huawei.ClientOptions{Endpoint: h.Endpoint, DomainID: h.DomainID, AK: h.AK.Reveal(), SK: h.SK.Reveal(),
		PageSize: h.PageSize, Timeout: h.Timeout, Metrics: m})
	if err != nil {
		return nil, err
	}
	customers := make([]huawei.Customer, len(h.Customers))
	for i, c := range h.Customers {
		customers[i] = huawei.Customer{ID: c.CustomerID, Account: c.Account}
	}
	im := huawei.NewImporter(client, d.Settlement, huawei.Options{Customers: customers, Location: cfg.Settlement.Location,
		ImportDay: h.ImportDay, ImportHour: h.ImportHour, Logger: log.With("part", "huawei"), Metrics: m})
	return im.Run, nil
}
