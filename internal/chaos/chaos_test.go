package chaos

import (
	"bytes"
	"context"
	"os/exec"
	"path/filepath"
	"reflect"
	"testing"
	"time"
)

func TestScheduleIsSeeded(t *testing.T) {
	a := schedule(7, 5*time.Minute, 2, defaultRates)
	b := schedule(7, 5*time.Minute, 2, defaultRates)
	c := schedule(8, 5*time.Minute, 2, defaultRates)
	if !reflect.DeepEqual(a, b) {
		t.Fatal("the same seed gave two plans")
	}
	if reflect.DeepEqual(a, c) {
		t.Fatal("two seeds gave the same plan")
	}
	var n [nKinds]int
	for i, f := range a {
		if i > 0 && f.At < a[i-1].At {
			t.Fatalf("plan out of order at %d", i)
		}
		if f.At < 0 || f.At >= 5*time.Minute {
			t.Fatalf("fault %+v outside the phase", f)
		}
		n[f.Kind]++
	}
	// The acceptance campaign needs at least 50 kills, 5 Redis restarts
	// and 100 reorgs in 5 minutes.
	if n[kindKill] < 50 || n[kindRedisRestart] < 5 || n[kindReorg] < 100 {
		t.Fatalf("5-minute plan: %d kills, %d redis restarts, %d reorgs", n[kindKill], n[kindRedisRestart], n[kindReorg])
	}
}

// TestCampaign60s runs a 60-second campaign against the built depositd
// binary: three processes sharing the chains by lease, every kind of
// fault, then the checker.
func TestCampaign60s(t *testing.T) {
	if testing.Short() {
		t.Skip("whole-pipeline campaign: skipped in -short")
	}
	bin := filepath.Join(t.TempDir(), "depositd")
	build := exec.Command("go", "build", "-o", bin, "github.com/depositd/depositd/cmd/depositd")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build depositd: %v\n%s", err, out)
	}
	var progress bytes.Buffer
	s, err := Run(context.Background(), Options{Seed: 11, Duration: 60 * time.Second, Daemons: 3, Bin: bin, Dir: t.TempDir(), Progress: &progress})
	if err != nil {
		t.Fatalf("campaign: %v\n%s", err, progress.String())
	}
	var out bytes.Buffer
	s.Print(&out)
	t.Log("\n" + progress.String() + out.String())
	if !s.OK() {
		t.Fatal("campaign checks failed")
	}
	if s.Faults[kindKill.String()] < 5 || s.Faults[kindRedisRestart.String()] < 1 || s.Faults[kindReorg.String()] < 10 ||
		s.RPCFaultShare() < 0.05 || s.HookFailures == 0 {
		t.Fatalf("the campaign did not exercise its faults: %v, rpc share %.3f, receiver refusals %d", s.Faults, s.RPCFaultShare(), s.HookFailures)
	}
	if s.FinalDeposits < 100 || s.Payments == 0 || s.Events == 0 {
		t.Fatalf("too little load: %d final deposits, %d payments, %d events", s.FinalDeposits, s.Payments, s.Events)
	}
}

// TestLoadSmall runs the load test briefly at a low rate: every deposit
// sent must come back as one deposit.credited webhook, with a measured
// final-to-webhook latency.
func TestLoadSmall(t *testing.T) {
	if testing.Short() {
		t.Skip("load run: skipped in -short")
	}
	bin := filepath.Join(t.TempDir(), "depositd")
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/depositd/depositd/cmd/depositd").CombinedOutput(); err != nil {
		t.Fatalf("go build depositd: %v\n%s", err, out)
	}
	r, err := RunLoad(context.Background(), LoadOptions{Seed: 3, Duration: 10 * time.Second, Rate: 20, Addresses: 4000, Active: 200,
		Daemons: 2, Bin: bin, Dir: t.TempDir(), Drain: 3 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	r.Print(&out)
	t.Log("\n" + out.String())
	if r.Watched != 4200 || r.SentTotal < 100 || r.Credited != r.SentTotal || r.Events < r.SentTotal {
		t.Fatalf("watched %d, sent %d, credited %d, events %d", r.Watched, r.SentTotal, r.Credited, r.Events)
	}
	if r.P50 <= 0 || r.P99 < r.P50 || r.MaxRSS[0] == 0 || r.RedisOpsPerSec <= 0 {
		t.Fatalf("figures missing: p50 %s p99 %s rss %v redis %f", r.P50, r.P99, r.MaxRSS, r.RedisOpsPerSec)
	}
}
