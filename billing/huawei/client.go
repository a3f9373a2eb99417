package huawei

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/auth/global"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/config"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/sdkerr"
	bss "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/bss/v2"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/services/bss/v2/model"
)

// ClientOptions configures a Client.
type ClientOptions struct {
	Endpoint string // e.g. https://bss-intl.myhuaweicloud.com
	DomainID string // the partner's account id; set, so the SDK never asks IAM
	AK, SK   string
	PageSize int           // records per page, 1..1000
	Timeout  time.Duration // per call
	// Retries bounds the attempts of one call on throttling and transient
	// failures; <= 0 means 6. Backoff doubles from BackoffBase (default 1s)
	// to BackoffMax (default 1 min).
	Retries                 int
	BackoffBase, BackoffMax time.Duration
	Metrics                 *Metrics
}

// Client reads the partner billing API through the Huawei Cloud SDK.
type Client struct {
	bss  *bss.BssClient
	opts ClientOptions
}

// NewClient builds the SDK client. It makes no request.
func NewClient(o ClientOptions) (*Client, error) {
	if o.PageSize < 1 || o.PageSize > 1000 {
		return nil, fmt.Errorf("huawei: page size %d out of range 1..1000", o.PageSize)
	}
	if o.DomainID == "" || o.AK == "" || o.SK == "" {
		return nil, errors.New("huawei: domain id, AK and SK are required")
	}
	if o.Retries <= 0 {
		o.Retries = 6
	}
	if o.BackoffBase <= 0 {
		o.BackoffBase = time.Second
	}
	if o.BackoffMax <= 0 {
		o.BackoffMax = time.Minute
	}
	cred, err := global.NewCredentialsBuilder().WithAk(o.AK).WithSk(o.SK).WithDomainId(o.DomainID).SafeBuild()
	if err != nil {
		return nil, fmt.Errorf("huawei: credentials: %w", err)
	}
	hc := config.DefaultHttpConfig().WithTimeout(o.Timeout).WithRetries(0)
	c, err := bss.BssClientBuilder().WithEndpoints([]string{o.Endpoint}).WithCredential(cred).WithHttpConfig(hc).SafeBuild()
	if err != nil {
		return nil, fmt.Errorf("huawei: client: %w", err)
	}
	return &Client{bss: bss.NewBssClient(c), opts: o}, nil
}

// chargeModes are the charge modes the monthly summary must be asked for
// one at a time: 1 yearly/monthly, 3 on demand, 11 savings plan.
var chargeModes = []string{"1", "3", "11"}

// MonthlySums returns every sub-customer's summary rows of cycle
// ("2026-10"), all charge modes, all pages (ListSubcustomerMonthlyBills).
func (c *Client) MonthlySums(ctx context.Context, cycle string) ([]model.BillSumInfoV2, error) {
	var out []model.BillSumInfoV2
	for _, mode := range chargeModes {
		rows, err := pages(ctx, c.opts.PageSize, func(offset, limit int32) ([]model.BillSumInfoV2, int32, *string, error) {
			req := &model.ListSubcustomerMonthlyBillsRequest{Cycle: cycle, ChargeMode: mode, Offset: &offset, Limit: &limit}
			var resp *model.ListSubcustomerMonthlyBillsResponse
			err := c.call(ctx, "monthly_sum", func() (err error) { resp, err = c.bss.ListSubcustomerMonthlyBills(req); return err })
			if err != nil {
				return nil, 0, nil, err
			}
			return deref(resp.BillSums), derefInt(resp.Count), resp.Currency, nil
		})
		if err != nil {
			return nil, fmt.Errorf("monthly sums %s charge mode %s: %w", cycle, mode, err)
		}
		out = append(out, rows...)
	}
	return out, nil
}

// Details returns the fee records of one sub-customer's cycle, all pages
// (ListSubCustomerBillDetail).
func (c *Client) Details(ctx context.Context, customer, cycle string) ([]model.SubCustomerMonthlyBillDetail, error) {
	rows, err := pages(ctx, c.opts.PageSize, func(offset, limit int32) ([]model.SubCustomerMonthlyBillDetail, int32, *string, error) {
		req := &model.ListSubCustomerBillDetailRequest{BillCycle: cycle, CustomerId: customer, Offset: &offset, Limit: &limit}
		var resp *model.ListSubCustomerBillDetailResponse
		err := c.call(ctx, "fee_records", func() (err error) { resp, err = c.bss.ListSubCustomerBillDetail(req); return err })
		if err != nil {
			return nil, 0, nil, err
		}
		return deref(resp.FeeRecords), derefInt(resp.TotalCount), resp.Currency, nil
	})
	if err != nil {
		return nil, fmt.Errorf("fee records of customer %s %s: %w", customer, cycle, err)
	}
	return rows, nil
}

// pages fetches offset/limit pages until the total is read. A page that
// comes back empty or short before the total, or a currency other than
// USD, is an error: a statement is never built from part of a bill.
func pages[T any](ctx context.Context, size int, fetch func(offset, limit int32) ([]T, int32, *string, error)) ([]T, error) {
	var out []T
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		offset := int32(len(out))
		rows, total, currency, err := fetch(offset, int32(size))
		if err != nil {
			return nil, err
		}
		if currency != nil && *currency != "" && *currency != "USD" {
			return nil, fmt.Errorf("currency %q: only USD bills are settled", *currency)
		}
		out = append(out, rows...)
		switch {
		case int32(len(out)) >= total:
			if int32(len(out)) > total {
				return nil, fmt.Errorf("read %d records, the API counts %d: the bill changed while it was read", len(out), total)
			}
			return out, nil
		case len(rows) == 0:
			return nil, fmt.Errorf("empty page at offset %d of %d records: the bill changed while it was read", offset, total)
		}
	}
}

// throttleCodes are the error codes Huawei Cloud answers when a caller is
// over its rate limit (API Gateway flow control), whatever the status.
var throttleCodes = []string{"APIGW.0308"}

// retryable reports whether err is worth another attempt, and whether it
// was throttling.
func retryable(err error) (retry, throttled bool) {
	var se *sdkerr.ServiceResponseError
	if errors.As(err, &se) {
		switch {
		case se.StatusCode == 429 || slices.Contains(throttleCodes, se.ErrorCode):
			return true, true
		case se.StatusCode >= 500:
			return true, false
		}
		return false, false
	}
	var ne net.Error
	var ue *url.Error
	return errors.As(err, &ne) || errors.As(err, &ue) || strings.Contains(err.Error(), "connection reset"), false
}

// call runs one SDK request with retries: throttling, 5xx and network
// errors back off and retry; anything else (bad credentials, no
// permission, bad parameters) fails at once with the API's code.
func (c *Client) call(ctx context.Context, op string, fn func() error) error {
	wait := c.opts.BackoffBase
	for attempt := 1; ; attempt++ {
		err := fn()
		if err == nil {
			c.opts.Metrics.request(op, "ok")
			return nil
		}
		retry, throttled := retryable(err)
		result := "error"
		if throttled {
			result = "throttled"
		}
		c.opts.Metrics.request(op, result)
		if !retry || attempt >= c.opts.Retries {
			return describe(err, attempt)
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
		wait = min(2*wait, c.opts.BackoffMax)
	}
}

// describe turns an SDK error into a short one naming the HTTP status,
// Huawei error code and request id.
func describe(err error, attempts int) error {
	var se *sdkerr.ServiceResponseError
	if errors.As(err, &se) {
		return fmt.Errorf("%w: HTTP %d %s: %s (request %s, %d attempts)", ErrAPI, se.StatusCode, se.ErrorCode, se.ErrorMessage, se.RequestId, attempts)
	}
	return fmt.Errorf("%w: %v (%d attempts)", ErrAPI, err, attempts)
}

// ErrAPI wraps every error the billing API answered or failed with.
var ErrAPI = errors.New("huawei billing API")

func deref[T any](p *[]T) []T {
	if p == nil {
		return nil
	}
	return *p
}

func derefInt(p *int32) int32 {
	if p == nil {
		return 0
	}
	return *p
}
