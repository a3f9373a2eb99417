package tronnet

import (
	"context"
	"math/big"
	"testing"
	"time"

	"github.com/fbsobreira/gotron-sdk/pkg/proto/api"
	"github.com/fbsobreira/gotron-sdk/pkg/proto/core"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
)

const (
	alice = "TL1mBABLk68nZwt92dgGc43p5uk1j3YtY9"
	bob   = "TBA6CypYJizwA9XdC7Ubgc5F1bxrQ7SqPt"
)

func start(t *testing.T, opts Options) *Node {
	t.Helper()
	n, err := Start(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := n.Close(); err != nil {
			t.Error(err)
		}
	})
	return n
}

func wallet(t *testing.T, addr string) api.WalletClient {
	t.Helper()
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return api.NewWalletClient(conn)
}

// mustTx returns a check for a (txid, error) pair.
func mustTx(t *testing.T) func(string, error) string {
	return func(id string, err error) string {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
}

func TestExecution(t *testing.T) {
	n := start(t, Options{})
	usdt, err := n.DeployTRC20("USDT", 6)
	if err != nil {
		t.Fatal(err)
	}
	must := mustTx(t)
	must(n.Mint(usdt, alice, big.NewInt(100)))
	okID := must(n.Transfer(usdt, alice, bob, big.NewInt(30)))
	revertID := must(n.Transfer(usdt, bob, alice, big.NewInt(1000)))
	oomID := must(n.FailedTransfer(usdt, alice, bob, big.NewInt(5), core.Transaction_Result_OUT_OF_ENERGY))
	num, _ := n.Mine()

	infos, err := wallet(t, n.Addr()).GetTransactionInfoByBlockNum(context.Background(), &api.NumberMessage{Num: int64(num)})
	if err != nil {
		t.Fatal(err)
	}
	byID := map[string]*core.TransactionInfo{}
	for _, ti := range infos.GetTransactionInfo() {
		byID[hexs(ti.GetId())] = ti
	}
	tests := []struct {
		name   string
		id     string
		result core.TransactionInfoCode
		rr     core.Transaction_ResultContractResult
		logs   int
	}{
		{"transfer", okID, core.TransactionInfo_SUCESS, core.Transaction_Result_SUCCESS, 1},
		{"insufficient balance reverts without logs", revertID, core.TransactionInfo_FAILED, core.Transaction_Result_REVERT, 0},
		{"out of energy keeps its log", oomID, core.TransactionInfo_FAILED, core.Transaction_Result_OUT_OF_ENERGY, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ti, ok := byID[tt.id]
			if !ok {
				t.Fatalf("txid %s not in block %d", tt.id, num)
			}
			if ti.GetResult() != tt.result || ti.GetReceipt().GetResult() != tt.rr || len(ti.GetLog()) != tt.logs {
				t.Errorf("result %v receipt %v logs %d", ti.GetResult(), ti.GetReceipt().GetResult(), len(ti.GetLog()))
			}
		})
	}
	t.Run("balances", func(t *testing.T) {
		for who, want := range map[string]int64{alice: 70, bob: 30} {
			got, err := n.BalanceOf(usdt, who)
			if err != nil || got.Int64() != want {
				t.Errorf("%s: %v, %v; want %d", who, got, err, want)
			}
		}
	})
	t.Run("constant calls", func(t *testing.T) {
		w := wallet(t, n.Addr())
		_, key, _ := parseKey(usdt)
		res, err := w.TriggerConstantContract(context.Background(), &core.TriggerSmartContract{
			ContractAddress: key, Data: selectorDecimals[:]})
		if err != nil || len(res.GetConstantResult()) != 1 || new(big.Int).SetBytes(res.GetConstantResult()[0]).Int64() != 6 {
			t.Errorf("decimals: %v %v", res, err)
		}
		res, err = w.TriggerConstantContract(context.Background(), &core.TriggerSmartContract{
			ContractAddress: make([]byte, 21), Data: selectorDecimals[:]})
		if err != nil || res.GetResult().GetCode() != api.Return_CONTRACT_VALIDATE_ERROR {
			t.Errorf("unknown contract: %v %v", res, err)
		}
	})
}

func TestForkAndSolidity(t *testing.T) {
	n := start(t, Options{SolidLag: 3})
	for range 6 {
		n.Mine()
	}
	if n.Head() != 6 || n.Solid() != 3 {
		t.Fatalf("head %d solid %d", n.Head(), n.Solid())
	}
	old5, _ := n.BlockID(5)
	t.Run("fork below solid refused", func(t *testing.T) {
		if err := n.Fork(4); err == nil {
			t.Fatal("fork into solidified blocks accepted")
		}
	})
	t.Run("fork replaces blocks", func(t *testing.T) {
		if err := n.Fork(2); err != nil {
			t.Fatal(err)
		}
		new5, _ := n.BlockID(5)
		if new5 == old5 || n.Head() != 7 {
			t.Errorf("block 5 %s → %s, head %d", old5, new5, n.Head())
		}
	})
	t.Run("solidity node stops at solid height", func(t *testing.T) {
		conn, err := grpc.NewClient(n.SolidityAddr(), grpc.WithTransportCredentials(insecure.NewCredentials()))
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		s := api.NewWalletSolidityClient(conn)
		now, err := s.GetNowBlock2(context.Background(), &api.EmptyMessage{})
		if err != nil || uint64(now.GetBlockHeader().GetRawData().GetNumber()) != n.Solid() {
			t.Fatalf("solid head %v, %v; want %d", now.GetBlockHeader().GetRawData().GetNumber(), err, n.Solid())
		}
		above, err := s.GetBlock(context.Background(), &api.BlockReq{IdOrNum: "7"})
		if err != nil || above.GetBlockHeader() != nil {
			t.Errorf("block above solid: %v, %v", above, err)
		}
	})
	t.Run("lag never lowers solid", func(t *testing.T) {
		before := n.Solid()
		n.SetSolidLag(100)
		if n.Solid() != before {
			t.Errorf("solid %d → %d", before, n.Solid())
		}
	})
}

func TestFaults(t *testing.T) {
	n := start(t, Options{})
	w := wallet(t, n.Addr())
	ctx := context.Background()
	t.Run("fail next", func(t *testing.T) {
		if err := n.FailNext(n.Addr(), 2); err != nil {
			t.Fatal(err)
		}
		for i := range 2 {
			if _, err := w.GetNowBlock2(ctx, &api.EmptyMessage{}); status.Code(err) != codes.Unavailable {
				t.Fatalf("call %d: %v", i, err)
			}
		}
		if _, err := w.GetNowBlock2(ctx, &api.EmptyMessage{}); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("delay honours the caller's deadline", func(t *testing.T) {
		if err := n.DelayNext(n.Addr(), 1, time.Hour); err != nil {
			t.Fatal(err)
		}
		cctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
		defer cancel()
		if _, err := w.GetNowBlock2(cctx, &api.EmptyMessage{}); status.Code(err) != codes.DeadlineExceeded {
			t.Fatalf("err %v", err)
		}
	})
	t.Run("lagging replica", func(t *testing.T) {
		n.Mine()
		n.Mine()
		if err := n.SetLag(n.Addr(), 1); err != nil {
			t.Fatal(err)
		}
		b, err := w.GetBlock(ctx, &api.BlockReq{IdOrNum: "2"})
		if err != nil || b.GetBlockHeader() != nil {
			t.Errorf("lagging block 2: %v %v", b, err)
		}
		infos, err := w.GetTransactionInfoByBlockNum(ctx, &api.NumberMessage{Num: 2})
		if err != nil || len(infos.GetTransactionInfo()) != 0 {
			t.Errorf("lagging infos: %v %v", infos, err)
		}
	})
	t.Run("calls recorded", func(t *testing.T) {
		calls, err := n.Calls(n.Addr())
		if err != nil || calls[Call{Method: "GetNowBlock2"}] != 4 {
			t.Errorf("calls %v %v", calls, err)
		}
	})
}

func TestBlockRange(t *testing.T) {
	n := start(t, Options{})
	for range 5 {
		n.Mine()
	}
	w := wallet(t, n.Addr())
	tests := []struct {
		name       string
		start, end int64
		blocks     int
		code       codes.Code
	}{
		{"inside", 1, 4, 3, codes.OK},
		{"stops at head", 4, 50, 2, codes.OK},
		{"above head", 9, 12, 0, codes.OK},
		{"more than 100", 0, 101, 0, codes.InvalidArgument},
		{"empty range", 3, 3, 0, codes.InvalidArgument},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			list, err := w.GetBlockByLimitNext2(context.Background(), &api.BlockLimit{StartNum: tt.start, EndNum: tt.end})
			if status.Code(err) != tt.code {
				t.Fatalf("err %v, want %v", err, tt.code)
			}
			if len(list.GetBlock()) != tt.blocks {
				t.Fatalf("%d blocks, want %d", len(list.GetBlock()), tt.blocks)
			}
			for i, b := range list.GetBlock() {
				if got := b.GetBlockHeader().GetRawData().GetNumber(); got != tt.start+int64(i) {
					t.Errorf("block %d is number %d", i, got)
				}
			}
		})
	}
}
