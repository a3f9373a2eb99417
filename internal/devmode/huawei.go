package devmode

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/depositd/depositd/billing/huawei/huaweitest"
	"github.com/depositd/depositd/settlement"
	"github.com/depositd/depositd/settlement/ledger"
)

// Dev's Huawei Cloud partner: one sub-customer, mapped to the demo account
// initech, whose last month the daemon imports from a local partner
// billing API at start (the statement hw-<month>-initech).
const (
	devHuaweiCustomer = "0d1e2f3a4b5c6d7e8f90a1b2c3d4e5f6"
	devHuaweiAccount  = "initech"
)

// startHuawei serves last month's bill of the dev sub-customer and creates
// its account before the daemon starts, so the first import finds it.
func startHuawei(ctx context.Context, redisURL string) (*huaweitest.Server, error) {
	opt, err := redis.ParseURL(redisURL)
	if err != nil {
		return nil, fmt.Errorf("dev huawei: %w", err)
	}
	rdb := redis.NewClient(opt)
	defer rdb.Close()
	err = ledger.New(rdb, time.Now).CreateAccount(ctx, ledger.Account{ID: devHuaweiAccount, Name: "Initech", CreditLimit: usd(100_00)})
	if err != nil && !errors.Is(err, ledger.ErrExists) {
		return nil, fmt.Errorf("dev huawei: %w", err)
	}
	api := huaweitest.New()
	now := time.Now().In(settlement.DefaultLocation)
	month := time.Date(now.Year(), now.Month()-1, 1, 0, 0, 0, 0, settlement.DefaultLocation).Format("2006-01")
	api.SetBill(month, devHuaweiCustomer,
		huaweitest.Record{Service: "hws.service.type.ec2", ServiceName: "Elastic Cloud Server", ResourceID: "ecs-initech",
			Region: "ap-southeast-1", ChargingMode: 1, Official: "200", Discount: "20", Payment: "180"},
		huaweitest.Record{Service: "hws.service.type.obs", ServiceName: "Object Storage Service", ResourceID: "obs-initech-logs",
			Region: "ap-southeast-3", ChargingMode: 3, Official: "12.34567890", Payment: "12.3456789"},
	)
	return api, nil
}
