// Package tronnet is a local Tron node for tests and `depositd dev`: gRPC
// servers implementing the java-tron Wallet and WalletSolidity methods the
// Tron adapter uses, over a chain of real protobuf blocks (TriggerSmartContract
// transactions, TransactionInfo with receipts and logs) that executes TRC-20
// balances, can include failed transfers whose logs survive (as java-tron's
// OUT_OF_TIME/Throwable branches keep them), and forks above the solidified
// height. Fault injection (errors, delays, lagging replicas) drives failover
// tests. It listens on loopback only.
package tronnet

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/fbsobreira/gotron-sdk/pkg/proto/api"
	"golang.org/x/sync/errgroup"
	"google.golang.org/grpc"
)

// Options configures a Node. Zero values take the documented defaults.
type Options struct {
	SolidLag      uint64        // blocks between head and solidified height; default 19
	Genesis       time.Time     // timestamp of block 0; default 2026-01-01T00:00:00Z
	BlockTime     time.Duration // timestamp step per block; default 3s
	FullNodes     int           // Wallet listeners sharing the chain; default 1
	SolidityNodes int           // WalletSolidity listeners; default 1
	// OnCall, when set, runs before every served call with the listener's
	// address and the method name: tests use it to act (fork, mine) at an
	// exact point of a client's sequence.
	OnCall func(addr, method string)
}

func (o Options) withDefaults() Options {
	if o.SolidLag == 0 {
		o.SolidLag = 19
	}
	if o.Genesis.IsZero() {
		o.Genesis = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	if o.BlockTime == 0 {
		o.BlockTime = 3 * time.Second
	}
	if o.FullNodes == 0 {
		o.FullNodes = 1
	}
	if o.SolidityNodes == 0 {
		o.SolidityNodes = 1
	}
	return o
}

// Node is one local Tron chain served on several loopback listeners. All
// methods are safe for concurrent use.
type Node struct {
	opts Options

	mu      sync.Mutex
	chain   []*block // canonical chain, chain[i].number == i
	pending []pendingTx
	tokens  map[[20]byte]*trc20
	solid   uint64
	lag     uint64
	forks   uint64 // fork counter: replacement blocks get another witness

	servers []*server
	stop    context.CancelFunc
	g       *errgroup.Group
}

// Start builds the genesis block and serves the node until ctx is done or
// Close is called.
func Start(ctx context.Context, opts Options) (*Node, error) {
	opts = opts.withDefaults()
	n := &Node{opts: opts, tokens: map[[20]byte]*trc20{}, lag: opts.SolidLag}
	n.chain = []*block{n.build(nil, nil)}
	ctx, n.stop = context.WithCancel(ctx)
	n.g, ctx = errgroup.WithContext(ctx)
	for i := range opts.FullNodes + opts.SolidityNodes {
		s, err := n.listen(i < opts.FullNodes)
		if err != nil {
			n.stop()
			_ = n.Close()
			return nil, err
		}
		n.servers = append(n.servers, s)
		n.g.Go(func() error {
			if err := s.grpc.Serve(s.lis); err != nil && !errors.Is(err, grpc.ErrServerStopped) {
				return fmt.Errorf("serve %s: %w", s.addr, err)
			}
			return nil
		})
	}
	n.g.Go(func() error {
		<-ctx.Done()
		for _, s := range n.servers {
			s.grpc.Stop()
		}
		return nil
	})
	return n, nil
}

func (n *Node) listen(full bool) (*server, error) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("listen: %w", err)
	}
	s := &server{node: n, full: full, addr: lis.Addr().String(), lis: lis, calls: map[Call]int{}}
	s.grpc = grpc.NewServer(grpc.UnaryInterceptor(s.intercept))
	if full {
		api.RegisterWalletServer(s.grpc, &walletServer{server: s})
	} else {
		api.RegisterWalletSolidityServer(s.grpc, &solidityServer{server: s})
	}
	return s, nil
}

// Close stops every listener and waits for them.
func (n *Node) Close() error {
	n.stop()
	if n.g == nil {
		return nil
	}
	return n.g.Wait()
}

// Addr is the first full node (Wallet service) address.
func (n *Node) Addr() string { return n.Addrs()[0] }

// SolidityAddr is the first WalletSolidity service address.
func (n *Node) SolidityAddr() string { return n.SolidityAddrs()[0] }

// Addrs lists every full node address.
func (n *Node) Addrs() []string { return n.addrs(true) }

// SolidityAddrs lists every WalletSolidity address.
func (n *Node) SolidityAddrs() []string { return n.addrs(false) }

func (n *Node) addrs(full bool) []string {
	var out []string
	for _, s := range n.servers {
		if s.full == full {
			out = append(out, s.addr)
		}
	}
	return out
}

// Head is the height of the newest block.
func (n *Node) Head() uint64 {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.head()
}

func (n *Node) head() uint64 { return uint64(len(n.chain) - 1) }

// Solid is the solidified height: it only moves forward.
func (n *Node) Solid() uint64 {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.solid
}

// SetSolidLag sets how many blocks the solidified height trails the head.
// The solid height never moves backwards: a larger lag only holds it still.
func (n *Node) SetSolidLag(lag uint64) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.lag = lag
	n.advanceSolid()
}

func (n *Node) advanceSolid() {
	if h := n.head(); h >= n.lag && h-n.lag > n.solid {
		n.solid = h - n.lag
	}
}

// BlockID returns the hex id of block num on the canonical chain, and false
// above the head.
func (n *Node) BlockID(num uint64) (string, bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if num > n.head() {
		return "", false
	}
	return n.chain[num].idHex(), true
}
