// Package huaweitest serves the two Huawei Cloud partner billing routes the
// importer calls, over real HTTP, answering with the response shapes of the
// SDK's own model types (bss/v2 model.ListSubcustomerMonthlyBillsResponse
// and model.ListSubCustomerBillDetailResponse, marshalled, amounts as JSON
// numbers as the API sends them). It pages with offset/limit and can throttle
// (HTTP 429, APIGW.0308), fail, or hold requests, for tests and
// `depositd dev`.
package huaweitest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sort"
	"strconv"
	"sync"

	"github.com/huaweicloud/huaweicloud-sdk-go-v3/services/bss/v2/model"
	"github.com/shopspring/decimal"
)

// Paths of the two routes.
const (
	SumPath    = "/v2/bills/partner-bills/subcustomer-bills/monthly-sum"
	DetailPath = "/v2/bills/subcustomer-bills/res-fee-records"
)

// Record is one fee record of a sub-customer's month (the fields the
// importer reads; the rest of the SDK model stays empty).
type Record struct {
	Service, ServiceName, ResourceID, ResourceName, Region string
	ChargingMode                                           int32 // 1 yearly/monthly, 3 on demand
	Official, Discount, Payment                            string
}

// Server is a local partner billing API. Safe for concurrent use.
type Server struct {
	*httptest.Server

	mu       sync.Mutex
	bills    map[string]map[string][]Record // cycle → customer → records
	currency string
	throttle int                         // answer the next n requests with 429
	fail     map[string]int              // customer → HTTP status of its detail requests
	hook     func(r *http.Request) error // runs first; an error answers 500
	requests int
}

// New starts a server; Close it when done.
func New() *Server {
	s := &Server{bills: map[string]map[string][]Record{}, fail: map[string]int{}, currency: "USD"}
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+SumPath, s.sums)
	mux.HandleFunc("GET "+DetailPath, s.details)
	s.Server = httptest.NewServer(mux)
	return s
}

// SetBill replaces a customer's records for a cycle ("2026-10").
func (s *Server) SetBill(cycle, customer string, rs ...Record) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.bills[cycle] == nil {
		s.bills[cycle] = map[string][]Record{}
	}
	s.bills[cycle][customer] = append([]Record(nil), rs...)
}

// Throttle answers the next n requests with HTTP 429 and APIGW.0308.
func (s *Server) Throttle(n int) { s.mu.Lock(); s.throttle = n; s.mu.Unlock() }

// Fail answers the detail requests of customer with status (0 clears).
func (s *Server) Fail(customer string, status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if status == 0 {
		delete(s.fail, customer)
		return
	}
	s.fail[customer] = status
}

// SetCurrency sets the currency the answers name (default USD).
func (s *Server) SetCurrency(c string) { s.mu.Lock(); s.currency = c; s.mu.Unlock() }

// Hook runs h at the start of every request (nil clears); an error
// answers 500.
func (s *Server) Hook(h func(r *http.Request) error) { s.mu.Lock(); s.hook = h; s.mu.Unlock() }

// Requests returns how many requests were answered.
func (s *Server) Requests() int { s.mu.Lock(); defer s.mu.Unlock(); return s.requests }

// gate counts the request and applies throttling and the hook; false means
// it has answered.
func (s *Server) gate(w http.ResponseWriter, r *http.Request) bool {
	s.mu.Lock()
	s.requests++
	hook := s.hook
	throttled := s.throttle > 0
	if throttled {
		s.throttle--
	}
	s.mu.Unlock()
	if hook != nil {
		if err := hook(r); err != nil {
			writeError(w, http.StatusInternalServerError, "CBC.0999", err.Error())
			return false
		}
	}
	if throttled {
		writeError(w, http.StatusTooManyRequests, "APIGW.0308", "The throttling threshold has been reached: policy user over ratelimit")
		return false
	}
	return true
}

func writeError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"error_code": code, "error_msg": msg})
}

// page reads offset and limit as the API does (defaults 0 and 10).
func page(r *http.Request) (offset, limit int, err error) {
	q := r.URL.Query()
	offset, limit = 0, 10
	if v := q.Get("offset"); v != "" {
		if offset, err = strconv.Atoi(v); err != nil || offset < 0 {
			return 0, 0, fmt.Errorf("offset %q", v)
		}
	}
	if v := q.Get("limit"); v != "" {
		if limit, err = strconv.Atoi(v); err != nil || limit < 1 || limit > 1000 {
			return 0, 0, fmt.Errorf("limit %q", v)
		}
	}
	return offset, limit, nil
}

func window[T any](all []T, offset, limit int) []T {
	if offset >= len(all) {
		return []T{}
	}
	return all[offset:min(len(all), offset+limit)]
}

func dec(s string) *decimal.Decimal {
	if s == "" {
		s = "0"
	}
	d := decimal.RequireFromString(s)
	return &d
}

func (s *Server) sums(w http.ResponseWriter, r *http.Request) {
	if !s.gate(w, r) {
		return
	}
	q := r.URL.Query()
	offset, limit, err := page(r)
	if err != nil || q.Get("cycle") == "" || q.Get("charge_mode") == "" {
		writeError(w, http.StatusBadRequest, "CBC.0100", fmt.Sprintf("invalid parameter: cycle, charge_mode required (%v)", err))
		return
	}
	mode, _ := strconv.Atoi(q.Get("charge_mode"))
	s.mu.Lock()
	type key struct{ customer, service string }
	sums := map[key]*model.BillSumInfoV2{}
	var keys []key
	for customer, rs := range s.bills[q.Get("cycle")] {
		if c := q.Get("customer_id"); c != "" && c != customer {
			continue
		}
		for _, rec := range rs {
			if int(rec.ChargingMode) != mode {
				continue
			}
			k := key{customer, rec.Service}
			b := sums[k]
			if b == nil {
				cid, svc, name, cm := customer, rec.Service, rec.ServiceName, q.Get("charge_mode")
				b = &model.BillSumInfoV2{CustomerId: &cid, CloudServiceType: &svc, CloudServiceTypeName: &name,
					ChargeMode: &cm, Amount: dec("0"), DiscountAmount: dec("0")}
				sums[k] = b
				keys = append(keys, k)
			}
			*b.Amount = b.Amount.Add(*dec(rec.Payment))
			*b.DiscountAmount = b.DiscountAmount.Add(*dec(rec.Discount))
		}
	}
	currency := s.currency
	s.mu.Unlock()
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].customer != keys[j].customer {
			return keys[i].customer < keys[j].customer
		}
		return keys[i].service < keys[j].service
	})
	all := make([]model.BillSumInfoV2, len(keys))
	for i, k := range keys {
		all[i] = *sums[k]
	}
	items := window(all, offset, limit)
	n := int32(len(all))
	writeModel(w, model.ListSubcustomerMonthlyBillsResponse{BillSums: &items, Count: &n, Currency: &currency})
}

func (s *Server) details(w http.ResponseWriter, r *http.Request) {
	if !s.gate(w, r) {
		return
	}
	q := r.URL.Query()
	offset, limit, err := page(r)
	cycle, customer := q.Get("bill_cycle"), q.Get("customer_id")
	if err != nil || cycle == "" || customer == "" {
		writeError(w, http.StatusBadRequest, "CBC.0100", fmt.Sprintf("invalid parameter: bill_cycle, customer_id required (%v)", err))
		return
	}
	s.mu.Lock()
	status := s.fail[customer]
	rs := s.bills[cycle][customer]
	currency := s.currency
	s.mu.Unlock()
	if status != 0 {
		writeError(w, status, "CBC.0151", "Access denied: the customer is not associated with this partner")
		return
	}
	all := make([]model.SubCustomerMonthlyBillDetail, len(rs))
	for i, rec := range rs {
		id := fmt.Sprintf("%s-%s-%d", customer, cycle, i)
		cyc, cust, svc, name, res, resName, region, mode := cycle, customer, rec.Service, rec.ServiceName, rec.ResourceID, rec.ResourceName, rec.Region, rec.ChargingMode
		all[i] = model.SubCustomerMonthlyBillDetail{BillCycle: &cyc, CustomerId: &cust, ServiceTypeCode: &svc,
			ServiceTypeName: &name, ResourceId: &res, ResourceName: &resName, RegionCode: &region, ChargingMode: &mode,
			Id: &id, OfficialAmount: dec(rec.Official), OfficialDiscountAmount: dec(rec.Discount), PaymentAmount: dec(rec.Payment)}
	}
	items := window(all, offset, limit)
	n := int32(len(all))
	writeModel(w, model.ListSubCustomerBillDetailResponse{TotalCount: &n, Currency: &currency, FeeRecords: &items})
}

// writeModel marshals an SDK response struct and turns its decimal fields
// (which shopspring/decimal marshals as strings) into JSON numbers, as the
// API sends them.
func writeModel(w http.ResponseWriter, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		writeError(w, http.StatusInternalServerError, "CBC.0999", err.Error())
		return
	}
	var tree any
	if err := json.Unmarshal(b, &tree); err != nil {
		writeError(w, http.StatusInternalServerError, "CBC.0999", err.Error())
		return
	}
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	_ = json.NewEncoder(w).Encode(numbers(tree))
}

var decimalFields = map[string]bool{
	"amount": true, "debt_amount": true, "adjustment_amount": true, "discount_amount": true,
	"official_amount": true, "official_discount_amount": true, "payment_amount": true,
}

func numbers(v any) any {
	switch t := v.(type) {
	case map[string]any:
		for k, x := range t {
			if s, ok := x.(string); ok && decimalFields[k] {
				t[k] = json.Number(s)
			} else {
				t[k] = numbers(x)
			}
		}
	case []any:
		for i := range t {
			t[i] = numbers(t[i])
		}
	}
	return v
}
