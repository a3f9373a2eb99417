package addressbook

import (
	"errors"
	"fmt"

	"github.com/depositd/depositd/chains"
)

// ErrDuplicate is matched by a *DuplicateError: the address is already
// registered (to any account, the caller's own included).
var ErrDuplicate = errors.New("address already registered")

// ErrFamilyTaken is matched by a *FamilyTakenError: the account already has
// its one deposit address of that family.
var ErrFamilyTaken = errors.New("account already has an address of this family")

// ErrNotFound is returned by Owner for an address nobody registered.
var ErrNotFound = errors.New("address not registered")

// DuplicateError names the account that owns the address.
type DuplicateError struct {
	Family  chains.Family
	Address string
	Owner   string
}

func (e *DuplicateError) Error() string {
	return fmt.Sprintf("%s address %s: already registered to account %s", e.Family, e.Address, e.Owner)
}

// Is matches ErrDuplicate.
func (e *DuplicateError) Is(target error) bool { return target == ErrDuplicate }

// FamilyTakenError names the address the account already has.
type FamilyTakenError struct {
	Account string
	Family  chains.Family
	Address string
}

func (e *FamilyTakenError) Error() string {
	return fmt.Sprintf("account %s: already has %s address %s", e.Account, e.Family, e.Address)
}

// Is matches ErrFamilyTaken.
func (e *FamilyTakenError) Is(target error) bool { return target == ErrFamilyTaken }
