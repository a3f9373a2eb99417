// Package deps pins the modules the packages under construction import.
package deps

import (
	_ "github.com/btcsuite/btcd/btcutil/hdkeychain"
	_ "github.com/ethereum/go-ethereum/accounts/abi/bind/v2"
	_ "github.com/ethereum/go-ethereum/ethclient"
	_ "github.com/ethereum/go-ethereum/ethclient/simulated"
	_ "github.com/ethereum/go-ethereum/node"
	_ "github.com/ethereum/go-ethereum/rpc"
	_ "github.com/fbsobreira/gotron-sdk/pkg/client"
	_ "github.com/fbsobreira/gotron-sdk/pkg/proto/api"
	_ "github.com/gagliardetto/solana-go"
	_ "github.com/gagliardetto/solana-go/rpc"
	_ "github.com/mr-tron/base58"
	_ "github.com/prometheus/client_golang/prometheus"
	_ "github.com/prometheus/client_golang/prometheus/promhttp"
	_ "github.com/redis/go-redis/v9"
	_ "github.com/shopspring/decimal"
	_ "github.com/standard-webhooks/standard-webhooks/libraries/go"
	_ "golang.org/x/sync/errgroup"
	_ "google.golang.org/grpc"
	_ "gopkg.in/yaml.v3"
	_ "pgregory.net/rapid"
)
