package tron

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/depositd/depositd/chains"
	"github.com/fbsobreira/gotron-sdk/pkg/client"
	"github.com/fbsobreira/gotron-sdk/pkg/proto/api"
	"github.com/fbsobreira/gotron-sdk/pkg/proto/core"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
)

// apiKeyHeader is TronGrid's API key metadata key.
const apiKeyHeader = "TRON-PRO-API-KEY"

// maxRecvMsg bounds one response; mainnet blocks with receipts reach several MB.
const maxRecvMsg = 64 << 20

// wallet is the part of java-tron's Wallet and WalletSolidity services the
// adapter uses; the two services spell these methods the same way.
type wallet interface {
	nowBlock(ctx context.Context) (*api.BlockExtention, error)
	block(ctx context.Context, n uint64, detail bool) (*api.BlockExtention, error)
	infos(ctx context.Context, n uint64) (*api.TransactionInfoList, error)
	// blocks returns the headers, ids and txids of blocks [start, end), at
	// most 100; only the Wallet service offers it.
	blocks(ctx context.Context, start, end uint64) ([]listedBlock, error)
	constant(ctx context.Context, ct *core.TriggerSmartContract) (*api.TransactionExtention, error)
}

// fullNode is the Wallet service through gotron-sdk's GrpcClient.
type fullNode struct{ gc *client.GrpcClient }

func (f fullNode) nowBlock(ctx context.Context) (*api.BlockExtention, error) {
	return f.gc.GetNowBlockCtx(ctx)
}

func (f fullNode) block(ctx context.Context, n uint64, detail bool) (*api.BlockExtention, error) {
	return f.gc.Client.GetBlock(ctx, &api.BlockReq{IdOrNum: fmt.Sprint(n), Detail: detail})
}

func (f fullNode) infos(ctx context.Context, n uint64) (*api.TransactionInfoList, error) {
	return f.gc.GetBlockInfoByNumCtx(ctx, int64(n))
}

// blocks calls GetBlockByLimitNext2 on the SDK's connection but decodes
// only headers, ids and txids of the answer (see decodeBlockList).
func (f fullNode) blocks(ctx context.Context, start, end uint64) ([]listedBlock, error) {
	var raw []byte
	req := &api.BlockLimit{StartNum: int64(start), EndNum: int64(end)}
	if err := f.gc.Conn.Invoke(ctx, api.Wallet_GetBlockByLimitNext2_FullMethodName, req, &raw, grpc.ForceCodec(RawCodec{})); err != nil {
		return nil, fmt.Errorf("get block by limit next: %w", err)
	}
	return decodeBlockList(raw)
}

func (f fullNode) constant(ctx context.Context, ct *core.TriggerSmartContract) (*api.TransactionExtention, error) {
	return f.gc.Client.TriggerConstantContract(ctx, ct)
}

// solidityNode is the WalletSolidity service on its own connection.
type solidityNode struct{ c api.WalletSolidityClient }

func (s solidityNode) nowBlock(ctx context.Context) (*api.BlockExtention, error) {
	return s.c.GetNowBlock2(ctx, &api.EmptyMessage{})
}

func (s solidityNode) block(ctx context.Context, n uint64, detail bool) (*api.BlockExtention, error) {
	return s.c.GetBlock(ctx, &api.BlockReq{IdOrNum: fmt.Sprint(n), Detail: detail})
}

func (s solidityNode) infos(ctx context.Context, n uint64) (*api.TransactionInfoList, error) {
	return s.c.GetTransactionInfoByBlockNum(ctx, &api.NumberMessage{Num: int64(n)})
}

func (s solidityNode) blocks(context.Context, uint64, uint64) ([]listedBlock, error) {
	return nil, errors.New("WalletSolidity has no GetBlockByLimitNext2")
}

func (s solidityNode) constant(ctx context.Context, ct *core.TriggerSmartContract) (*api.TransactionExtention, error) {
	return s.c.TriggerConstantContract(ctx, ct)
}

// EndpointStatus is the health of one endpoint as the last call saw it.
type EndpointStatus struct {
	URL       string
	Role      string // "full" or "solidity"
	Healthy   bool
	LastError string
	Latency   time.Duration // of the last call
}

type endpoint struct {
	url   string
	role  string
	w     wallet
	close func() error

	mu     sync.Mutex
	status EndpointStatus
}

func (e *endpoint) record(err error, latency time.Duration) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.status.Latency = latency
	e.status.Healthy = err == nil
	if err != nil {
		e.status.LastError = err.Error()
	}
}

func (e *endpoint) snapshot() EndpointStatus {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.status
}

// pool is the endpoints of one role with sticky failover: calls go to the
// current endpoint until it fails, then to the next.
type pool struct {
	role string
	eps  []*endpoint
	cur  atomic.Uint32
	cfg  *Config
}

// dialOptions adds the API key to every unary call of the connection, so the
// raw service clients carry it as the SDK's own methods do.
func dialOptions(cfg *Config) []grpc.DialOption {
	opts := []grpc.DialOption{
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(maxRecvMsg)),
	}
	if cfg.APIKey != "" {
		key := cfg.APIKey
		opts = append(opts, grpc.WithUnaryInterceptor(func(ctx context.Context, method string, req, reply any,
			cc *grpc.ClientConn, invoker grpc.UnaryInvoker, callOpts ...grpc.CallOption) error {
			md, _ := metadata.FromOutgoingContext(ctx)
			md = md.Copy()
			md.Set(apiKeyHeader, key)
			return invoker(metadata.NewOutgoingContext(ctx, md), method, req, reply, cc, callOpts...)
		}))
	}
	return append(opts, cfg.DialOptions...)
}

func newFullPool(cfg *Config) (*pool, error) {
	p := &pool{role: "full", cfg: cfg}
	for _, u := range cfg.FullNodes {
		gc := client.NewGrpcClientWithTimeout(u, cfg.CallTimeout)
		if err := gc.SetAPIKey(cfg.APIKey); err != nil {
			return nil, fmt.Errorf("full node %s: %w", u, err)
		}
		if err := gc.Start(dialOptions(cfg)...); err != nil {
			p.close()
			return nil, fmt.Errorf("full node %s: %w", u, err)
		}
		p.eps = append(p.eps, &endpoint{url: u, role: p.role, w: fullNode{gc}, close: func() error { gc.Stop(); return nil },
			status: EndpointStatus{URL: u, Role: p.role, Healthy: true}})
	}
	return p, nil
}

func newSolidityPool(cfg *Config) (*pool, error) {
	p := &pool{role: "solidity", cfg: cfg}
	for _, u := range cfg.SolidityNodes {
		conn, err := grpc.NewClient(u, dialOptions(cfg)...)
		if err != nil {
			p.close()
			return nil, fmt.Errorf("solidity node %s: %w", u, err)
		}
		p.eps = append(p.eps, &endpoint{url: u, role: p.role, w: solidityNode{api.NewWalletSolidityClient(conn)}, close: conn.Close,
			status: EndpointStatus{URL: u, Role: p.role, Healthy: true}})
	}
	return p, nil
}

func (p *pool) close() error {
	var errs []error
	for _, e := range p.eps {
		errs = append(errs, e.close())
	}
	return errors.Join(errs...)
}

// op names a call in errors; it is formatted only when a call fails.
type op struct {
	what string
	n    int64 // block number, or -1
}

func (o op) String() string {
	if o.n < 0 {
		return o.what
	}
	return fmt.Sprintf("%s %d", o.what, o.n)
}

// do runs fn against the current endpoint and fails over on error: every
// endpoint is tried in turn, and after each full round of failures do waits
// Backoff (doubling up to MaxBackoff) before the next round, up to Attempts
// calls. chains.ErrNotFound from every endpoint of one round is returned at
// once: the block does not exist anywhere yet. fn must be idempotent.
func (p *pool) do(ctx context.Context, op op, fn func(context.Context, wallet) error) error {
	n := len(p.eps)
	backoff := p.cfg.Backoff
	var lastErr error
	notFound := 0
	for attempt := 0; attempt < p.cfg.Attempts; attempt++ {
		i := p.cur.Load()
		e := p.eps[int(i)%n]
		cctx, cancel := context.WithTimeout(ctx, p.cfg.CallTimeout)
		start := p.cfg.Now()
		err := fn(cctx, e.w)
		cancel()
		if err == nil {
			e.record(nil, p.cfg.Now().Sub(start))
			return nil
		}
		if ctx.Err() != nil {
			return fmt.Errorf("%s: %w", op, ctx.Err())
		}
		lastErr = fmt.Errorf("%s %s: %w", p.role, e.url, err)
		p.cur.CompareAndSwap(i, i+1)
		if errors.Is(err, chains.ErrNotFound) {
			// A lagging endpoint is healthy; ask the others before giving up.
			e.record(nil, p.cfg.Now().Sub(start))
			if notFound++; notFound >= n {
				return fmt.Errorf("%s: %w", op, lastErr)
			}
			continue
		}
		e.record(err, p.cfg.Now().Sub(start))
		notFound = 0
		if (attempt+1)%n == 0 && attempt+1 < p.cfg.Attempts {
			select {
			case <-ctx.Done():
				return fmt.Errorf("%s: %w", op, ctx.Err())
			case <-p.cfg.After(backoff):
			}
			backoff = min(2*backoff, p.cfg.MaxBackoff)
		}
	}
	return fmt.Errorf("%s: %d attempts: %w", op, p.cfg.Attempts, lastErr)
}
