package evm

import (
	"context"
	"errors"
	"net"
	"strings"

	"github.com/ethereum/go-ethereum/rpc"
)

// tooLargeHints are substrings of provider errors that a smaller eth_getLogs
// range avoids (Infura -32005, Alchemy, QuickNode, geth response limits).
var tooLargeHints = []string{
	"query returned more than",
	"too many results",
	"more than 10000 results",
	"response size",
	"response too large",
	"exceed maximum block range",
	"block range is too wide",
	"block range too large",
	"range too large",
	"log response size exceeded",
	"query timeout exceeded",
}

// tooLarge reports whether err asks for a smaller log range.
func tooLarge(err error) bool {
	var re rpc.Error
	if errors.As(err, &re) && re.ErrorCode() == -32005 && !strings.Contains(strings.ToLower(re.Error()), "rate") {
		return true
	}
	msg := strings.ToLower(err.Error())
	for _, h := range tooLargeHints {
		if strings.Contains(msg, h) {
			return true
		}
	}
	return false
}

// timedOut reports whether err is a per-request timeout.
func timedOut(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// beyondHead reports geth's refusal of a range past its head: the node lags,
// so the answer is "ask again", never "no logs".
func beyondHead(err error) bool {
	return strings.Contains(strings.ToLower(err.Error()), "beyond current head block")
}
