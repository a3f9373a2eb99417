package scaleout

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/redis/go-redis/v9"

	"github.com/depositd/depositd/chains"
	"github.com/depositd/depositd/chains/evm"
	"github.com/depositd/depositd/outbox"
	"github.com/depositd/depositd/settlement/ledger"
	"github.com/depositd/depositd/watchers"
	"github.com/depositd/depositd/webhooks"
)

// startReceiver serves the verifying webhook receiver the processes
// deliver to.
func startReceiver(t *testing.T) (*webhooks.Receiver, string) {
	t.Helper()
	recv := webhooks.NewReceiver([]string{webhookSecret}, nil)
	srv := httptest.NewServer(recv)
	t.Cleanup(srv.Close)
	return recv, srv.URL + "/webhooks"
}

// checkAPI: every process, holder or not, is ready and answers
// GET /v1/chains from the state in Redis, naming the lease holder.
func checkAPI(t *testing.T, rdb redis.UniversalClient, procs []*proc, final uint64) {
	t.Helper()
	holderID, _, _ := holder(t, rdb)
	for _, p := range procs {
		waitFor(t, 30*time.Second, "depositd "+p.listen+" /readyz", func() bool {
			res, err := http.Get("http://" + p.listen + "/readyz")
			if err != nil {
				return false
			}
			res.Body.Close()
			return res.StatusCode == http.StatusOK
		})
		req, _ := http.NewRequest(http.MethodGet, "http://"+p.listen+"/v1/chains", nil)
		req.Header.Set("Authorization", "Bearer "+apiToken)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("depositd %d: GET /v1/chains: %v", p.id, err)
		}
		var body struct {
			Items []struct {
				watchers.ChainStatus
				Holder string `json:"holder"`
			} `json:"items"`
		}
		err = json.NewDecoder(res.Body).Decode(&body)
		res.Body.Close()
		if err != nil || res.StatusCode != http.StatusOK || len(body.Items) != 1 || body.Items[0].Final < final || body.Items[0].Holder != holderID {
			t.Fatalf("depositd %d: GET /v1/chains: %d %+v %v, want final ≥ %d held by %s", p.id, res.StatusCode, body.Items, err, final, holderID)
		}
	}
}

// checkWebhooks waits until the receiver has verified every event in the
// outbox at least once, whichever process delivered it; it returns the
// event count and the repeats (at-least-once: a kill mid-delivery repeats).
func checkWebhooks(t *testing.T, rdb redis.UniversalClient, recv *webhooks.Receiver) (events, repeats int) {
	t.Helper()
	ctx := context.Background()
	var ids []string
	for _, s := range outbox.Streams() {
		xs, err := rdb.XRange(ctx, s, "-", "+").Result()
		if err != nil {
			t.Fatal(err)
		}
		for _, x := range xs {
			id, _ := x.Values[outbox.FieldID].(string)
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	ids = slices.Compact(ids)
	var missing []string
	waitFor(t, 90*time.Second, "every outbox event delivered", func() bool {
		missing = missing[:0]
		for _, id := range ids {
			if recv.Count(id) == 0 {
				missing = append(missing, id)
			}
		}
		return len(missing) == 0
	})
	return len(ids), recv.Total() - recv.Unique()
}

// chainDeposits lists the deposits the chain holds up to final, read
// with the production adapter.
func chainDeposits(t *testing.T, rpc string, token common.Address, recipients []common.Address, final uint64) []string {
	t.Helper()
	src, err := evm.New(evm.Config{Chain: "ethereum", Endpoints: []string{rpc},
		Tokens: []evm.Token{{Symbol: "USDT", Contract: token, Decimals: 6}}})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	watched := map[chains.AddrKey]bool{}
	for _, a := range recipients {
		watched[evm.AddrKey(a)] = true
	}
	ts, err := src.Transfers(context.Background(), 1, final)
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, tr := range ts {
		if watched[tr.ToKey] {
			want = append(want, tr.ID())
		}
	}
	slices.Sort(want)
	if len(want) < 20 {
		t.Fatalf("only %d deposits on the chain: the stream did not run", len(want))
	}
	return want
}

// checkLedger: every chain deposit credited once, nothing else.
func checkLedger(t *testing.T, rdb redis.UniversalClient, want []string) {
	t.Helper()
	got, err := ledger.New(rdb, time.Now).DepositIDs(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i < len(got); i++ {
		if got[i] == got[i-1] {
			t.Errorf("deposit %s credited more than once", got[i])
		}
	}
	if !slices.Equal(got, want) {
		t.Fatalf("ledger holds %d deposits, chain %d; missing %v extra %v", len(got), len(want), minus(want, got), minus(got, want))
	}
}

func minus(a, b []string) []string {
	var out []string
	for _, x := range a {
		if !slices.Contains(b, x) {
			out = append(out, x)
		}
	}
	return out
}
