package evmbench

import (
	"slices"
	"time"
)

// Percentile returns the q-quantile (0 ≤ q ≤ 1) of ds by the nearest-rank
// method, or 0 for no samples.
func Percentile(ds []time.Duration, q float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	rank := int(q*float64(len(s))+0.999999) - 1
	return s[min(max(rank, 0), len(s)-1)]
}
