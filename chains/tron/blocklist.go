package tron

import (
	"errors"
	"fmt"

	"github.com/fbsobreira/gotron-sdk/pkg/proto/api"
	"github.com/fbsobreira/gotron-sdk/pkg/proto/core"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
)

// listedBlock is what the adapter keeps of one block of a
// GetBlockByLimitNext2 answer: header, id and txids.
type listedBlock struct {
	ext   *api.BlockExtention // block_header and blockid, no transactions
	txids [][]byte
}

// RawCodec is a gRPC codec (use with grpc.ForceCodec) that marshals
// requests as protobuf and keeps the answer's wire bytes in a *[]byte, so
// decodeBlockList can skip the transaction bodies (and benchmarks can time
// a call without decoding it).
type RawCodec struct{}

func (RawCodec) Marshal(v any) ([]byte, error) {
	m, ok := v.(proto.Message)
	if !ok {
		return nil, fmt.Errorf("raw codec: cannot marshal %T", v)
	}
	return proto.Marshal(m)
}

func (RawCodec) Unmarshal(data []byte, v any) error {
	p, ok := v.(*[]byte)
	if !ok {
		return fmt.Errorf("raw codec: cannot unmarshal into %T", v)
	}
	*p = append((*p)[:0], data...)
	return nil
}

func (RawCodec) Name() string { return "proto" }

// Field numbers of api.BlockListExtention, api.BlockExtention and
// api.TransactionExtention (api/api.proto).
const (
	fieldListBlock    = 1
	fieldBlockHeader  = 2
	fieldBlockID      = 3
	fieldBlockTxs     = 1
	fieldTxExtentTxid = 2
)

var errWire = errors.New("malformed protobuf")

// decodeBlockList decodes an api.BlockListExtention from wire bytes with
// proto.Unmarshal's semantics for the fields it reads (a repeated message
// field appends, a message field seen twice merges, a scalar seen twice
// keeps the last, a field of an unexpected wire type is unknown and
// skipped), reading only each block's header, blockid and txids: the
// transaction bodies, most of the bytes, are skipped unparsed.
func decodeBlockList(b []byte) ([]listedBlock, error) {
	var out []listedBlock
	err := eachField(b, func(num protowire.Number, typ protowire.Type, v []byte) error {
		if num != fieldListBlock || typ != protowire.BytesType {
			return nil
		}
		lb, err := decodeListedBlock(v)
		if err != nil {
			return err
		}
		out = append(out, lb)
		return nil
	})
	return out, err
}

func decodeListedBlock(b []byte) (listedBlock, error) {
	lb := listedBlock{ext: &api.BlockExtention{}}
	err := eachField(b, func(num protowire.Number, typ protowire.Type, v []byte) error {
		if typ != protowire.BytesType {
			return nil
		}
		switch num {
		case fieldBlockTxs:
			var txid []byte
			err := eachField(v, func(num protowire.Number, typ protowire.Type, v []byte) error {
				if num == fieldTxExtentTxid && typ == protowire.BytesType {
					txid = append([]byte{}, v...)
				}
				return nil
			})
			if err != nil {
				return err
			}
			lb.txids = append(lb.txids, txid)
		case fieldBlockHeader:
			if lb.ext.BlockHeader == nil {
				lb.ext.BlockHeader = &core.BlockHeader{}
			}
			if err := (proto.UnmarshalOptions{Merge: true}).Unmarshal(v, lb.ext.BlockHeader); err != nil {
				return fmt.Errorf("block header: %w", err)
			}
		case fieldBlockID:
			lb.ext.Blockid = append([]byte{}, v...)
		}
		return nil
	})
	return lb, err
}

// eachField calls fn for every top-level field of message b; for
// length-delimited fields v is the payload, for others the raw value.
func eachField(b []byte, fn func(protowire.Number, protowire.Type, []byte) error) error {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return fmt.Errorf("tag: %w", errWire)
		}
		b = b[n:]
		var v []byte
		if typ == protowire.BytesType {
			if v, n = protowire.ConsumeBytes(b); n < 0 {
				return fmt.Errorf("field %d: %w", num, errWire)
			}
		} else if n = protowire.ConsumeFieldValue(num, typ, b); n < 0 {
			return fmt.Errorf("field %d: %w", num, errWire)
		}
		if err := fn(num, typ, v); err != nil {
			return err
		}
		b = b[n:]
	}
	return nil
}
