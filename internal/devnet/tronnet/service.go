package tronnet

import (
	"context"
	"fmt"
	"net"
	"path"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/fbsobreira/gotron-sdk/pkg/proto/api"
	"github.com/fbsobreira/gotron-sdk/pkg/proto/core"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// Call is one served method with the TRON-PRO-API-KEY it carried ("" none).
type Call struct {
	Method string // e.g. "GetTransactionInfoByBlockNum"
	APIKey string
}

// server is one listener: a full node (Wallet) or a solidity node
// (WalletSolidity) view of the shared chain, with its own faults.
type server struct {
	node *Node
	full bool
	addr string
	lis  net.Listener
	grpc *grpc.Server

	mu     sync.Mutex
	fail   int
	delays int
	delay  time.Duration
	lag    uint64
	calls  map[Call]int
}

func (n *Node) server(addr string) (*server, error) {
	for _, s := range n.servers {
		if s.addr == addr {
			return s, nil
		}
	}
	return nil, fmt.Errorf("no listener %s", addr)
}

// FailNext makes the next count calls on addr fail with codes.Unavailable.
func (n *Node) FailNext(addr string, count int) error {
	s, err := n.server(addr)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fail = count
	return nil
}

// DelayNext holds the next count calls on addr for d (or until the caller
// gives up) before answering.
func (n *Node) DelayNext(addr string, count int, d time.Duration) error {
	s, err := n.server(addr)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.delays, s.delay = count, d
	return nil
}

// SetLag makes addr serve the chain as a replica lagging blocks behind: its
// head is lower and newer blocks are answered as java-tron answers an
// unknown height (an empty block, an empty TransactionInfo list).
func (n *Node) SetLag(addr string, blocks uint64) error {
	s, err := n.server(addr)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lag = blocks
	return nil
}

// Calls returns how often each method was served on addr, by API key.
func (n *Node) Calls(addr string) (map[Call]int, error) {
	s, err := n.server(addr)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[Call]int, len(s.calls))
	for k, v := range s.calls {
		out[k] = v
	}
	return out, nil
}

// intercept records the call and applies injected faults.
func (s *server) intercept(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	var key string
	if md, ok := metadata.FromIncomingContext(ctx); ok {
		if v := md.Get("tron-pro-api-key"); len(v) > 0 {
			key = strings.Join(v, ",")
		}
	}
	method := path.Base(info.FullMethod)
	if hook := s.node.opts.OnCall; hook != nil {
		hook(s.addr, method)
	}
	s.mu.Lock()
	s.calls[Call{Method: method, APIKey: key}]++
	fail := s.fail > 0
	if fail {
		s.fail--
	}
	var delay time.Duration
	if !fail && s.delays > 0 {
		s.delays--
		delay = s.delay
	}
	s.mu.Unlock()
	if fail {
		return nil, status.Error(codes.Unavailable, "tronnet: injected fault")
	}
	if delay > 0 {
		t := time.NewTimer(delay)
		defer t.Stop()
		select {
		case <-ctx.Done():
			return nil, status.FromContextError(ctx.Err()).Err()
		case <-t.C:
		}
	}
	return handler(ctx, req)
}

// height is the top block this listener serves: the head for a full node,
// the solidified height for a solidity node, less its lag.
func (s *server) height() uint64 {
	s.mu.Lock()
	lag := s.lag
	s.mu.Unlock()
	n := s.node
	n.mu.Lock()
	defer n.mu.Unlock()
	h := n.head()
	if !s.full {
		h = n.solid
	}
	if lag > h {
		return 0
	}
	return h - lag
}

// block returns block num if this listener serves it.
func (s *server) block(num uint64) (*block, bool) {
	if num > s.height() {
		return nil, false
	}
	n := s.node
	n.mu.Lock()
	defer n.mu.Unlock()
	if num >= uint64(len(n.chain)) {
		return nil, false
	}
	return n.chain[num], true
}

func (s *server) nowBlock() *api.BlockExtention {
	b, ok := s.block(s.height())
	if !ok {
		return &api.BlockExtention{}
	}
	return b.full
}

// getBlock answers BlockReq: a height or a 64-hex id; empty means head.
func (s *server) getBlock(req *api.BlockReq) (*api.BlockExtention, error) {
	var b *block
	var ok bool
	switch v := req.GetIdOrNum(); {
	case v == "":
		b, ok = s.block(s.height())
	case len(v) == 64:
		num, err := strconv.ParseUint(v[:16], 16, 64)
		if err != nil {
			return nil, status.Errorf(codes.InvalidArgument, "id %q: %v", v, err)
		}
		if b, ok = s.block(num); ok && b.idHex() != strings.ToLower(v) {
			ok = false
		}
	default:
		num, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			return nil, status.Errorf(codes.InvalidArgument, "id_or_num %q: %v", v, err)
		}
		b, ok = s.block(num)
	}
	if !ok {
		return &api.BlockExtention{}, nil
	}
	if req.GetDetail() {
		return b.full, nil
	}
	return b.header, nil
}

func (s *server) infos(num int64) *api.TransactionInfoList {
	if num < 0 {
		return &api.TransactionInfoList{}
	}
	b, ok := s.block(uint64(num))
	if !ok {
		return &api.TransactionInfoList{}
	}
	return &api.TransactionInfoList{TransactionInfo: b.infos}
}

func (s *server) blockByNum(num int64) *api.BlockExtention {
	if num < 0 {
		return &api.BlockExtention{}
	}
	b, ok := s.block(uint64(num))
	if !ok {
		return &api.BlockExtention{}
	}
	return b.full
}

// walletServer is the full node's Wallet service.
type walletServer struct {
	api.UnimplementedWalletServer
	*server
}

func (w *walletServer) GetNowBlock2(context.Context, *api.EmptyMessage) (*api.BlockExtention, error) {
	return w.nowBlock(), nil
}

func (w *walletServer) GetBlock(_ context.Context, req *api.BlockReq) (*api.BlockExtention, error) {
	return w.getBlock(req)
}

func (w *walletServer) GetBlockByNum2(_ context.Context, req *api.NumberMessage) (*api.BlockExtention, error) {
	return w.blockByNum(req.GetNum()), nil
}

// GetBlockByLimitNext2 returns blocks [start, end) with transactions, at
// most 100, stopping at this listener's head, as java-tron does.
func (w *walletServer) GetBlockByLimitNext2(_ context.Context, req *api.BlockLimit) (*api.BlockListExtention, error) {
	start, end := req.GetStartNum(), req.GetEndNum()
	if start < 0 || end <= start || end-start > 100 {
		return nil, status.Errorf(codes.InvalidArgument, "block limit [%d, %d): want 0 <= start < end <= start+100", start, end)
	}
	out := &api.BlockListExtention{}
	for n := start; n < end; n++ {
		b, ok := w.block(uint64(n))
		if !ok {
			break
		}
		out.Block = append(out.Block, b.full)
	}
	return out, nil
}

func (w *walletServer) GetTransactionInfoByBlockNum(_ context.Context, req *api.NumberMessage) (*api.TransactionInfoList, error) {
	return w.infos(req.GetNum()), nil
}

func (w *walletServer) TriggerConstantContract(_ context.Context, ct *core.TriggerSmartContract) (*api.TransactionExtention, error) {
	return w.node.constant(ct), nil
}

// solidityServer is the WalletSolidity service: the same methods, served
// only up to the solidified height.
type solidityServer struct {
	api.UnimplementedWalletSolidityServer
	*server
}

func (w *solidityServer) GetNowBlock2(context.Context, *api.EmptyMessage) (*api.BlockExtention, error) {
	return w.nowBlock(), nil
}

func (w *solidityServer) GetBlock(_ context.Context, req *api.BlockReq) (*api.BlockExtention, error) {
	return w.getBlock(req)
}

func (w *solidityServer) GetBlockByNum2(_ context.Context, req *api.NumberMessage) (*api.BlockExtention, error) {
	return w.blockByNum(req.GetNum()), nil
}

func (w *solidityServer) GetTransactionInfoByBlockNum(_ context.Context, req *api.NumberMessage) (*api.TransactionInfoList, error) {
	return w.infos(req.GetNum()), nil
}

func (w *solidityServer) TriggerConstantContract(_ context.Context, ct *core.TriggerSmartContract) (*api.TransactionExtention, error) {
	return w.node.constant(ct), nil
}
