package solana

import (
	"errors"
	"fmt"

	"github.com/gagliardetto/solana-go/rpc/jsonrpc"
)

// Solana JSON-RPC error codes the adapter branches on (agave
// rpc-client-api custom_error.rs).
const (
	codeBlockNotAvailable       = -32004 // not available yet: retry later
	codeSlotSkipped             = -32007 // skipped, or missing after a snapshot jump
	codeLongTermStorageSkipped  = -32009 // skipped, or missing in long-term storage
	codeBlockStatusNotAvailable = -32014 // block status not yet available: retry later
	codeMinContextSlot          = -32016 // lagging node: retry elsewhere
)

// errNoBlock is a getBlock answer of null: the node does not have the block
// (yet); it is retried like -32004.
var errNoBlock = errors.New("block not available (null result)")

// errBehind is an endpoint whose confirmed slot is below the requested
// range: another endpoint may be ahead.
var errBehind = errors.New("endpoint behind")

// rpcCode returns the JSON-RPC error code of err, or 0.
func rpcCode(err error) int {
	var re *jsonrpc.RPCError
	if errors.As(err, &re) {
		return re.Code
	}
	return 0
}

// skipped reports a getBlock error meaning "this slot has no block".
func skipped(err error) bool {
	c := rpcCode(err)
	return c == codeSlotSkipped || c == codeLongTermStorageSkipped
}

// notYet reports an error meaning "this node does not have it yet": another
// endpoint may, and a later call will.
func notYet(err error) bool {
	c := rpcCode(err)
	return c == codeBlockNotAvailable || c == codeBlockStatusNotAvailable || c == codeMinContextSlot || errors.Is(err, errNoBlock) || errors.Is(err, errBehind)
}

// rpcError renders a JSON-RPC error in one line: solana-go's own Error()
// dumps the struct over several lines.
type rpcError struct{ err error }

func (e rpcError) Error() string {
	var re *jsonrpc.RPCError
	if errors.As(e.err, &re) {
		return fmt.Sprintf("rpc error %d: %s", re.Code, re.Message)
	}
	return e.err.Error()
}

func (e rpcError) Unwrap() error { return e.err }
