package storetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"runtime"
	"sync/atomic"
	"testing"

	"esig/ca/audit"
	"esig/ca/store"
)

// BenchConcurrency is how many goroutines BenchmarkInsert runs at once, the
// number of issuances a busy CA instance has in flight.
const BenchConcurrency = 32

// BenchmarkInsert measures parallel InsertCertificate on s from
// BenchConcurrency goroutines and reports inserts/s. Each insert carries a
// certificate of realistic size (about 1.2 KB of DER) and its audit event.
func BenchmarkInsert(b *testing.B, s store.Store) {
	var prefix [6]byte
	if _, err := rand.Read(prefix[:]); err != nil {
		b.Fatal(err)
	}
	p := hex.EncodeToString(prefix[:])
	der := make([]byte, 1200)
	if _, err := rand.Read(der); err != nil {
		b.Fatal(err)
	}
	var next atomic.Int64
	ctx := context.Background()
	b.SetParallelism((BenchConcurrency + runtime.GOMAXPROCS(0) - 1) / runtime.GOMAXPROCS(0))
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			n := next.Add(1)
			serial := fmt.Sprintf("%s%012x", p, n)
			c := newCert(serial, int(n%1000))
			c.DER = der
			c.Shard = int(n % 16)
			if err := s.InsertCertificate(ctx, c, event(audit.KindCertificateIssued, serial, int(n))); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "inserts/s")
}
