package issuance

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"math/big"
	"strings"
	"testing"
)

// keyOf returns the public key whose private scalar is d.
func keyOf(curve elliptic.Curve, d *big.Int) *ecdsa.PublicKey {
	x, y := curve.ScalarBaseMult(d.Bytes())
	return &ecdsa.PublicKey{Curve: curve, X: x, Y: y}
}

func TestSmallECDSAKeys(t *testing.T) {
	for _, curve := range []elliptic.Curve{elliptic.P256(), elliptic.P384()} {
		n := curve.Params().N
		neg := func(d int64) *big.Int { return new(big.Int).Sub(n, big.NewInt(d)) }
		tests := []struct {
			name    string
			d       *big.Int
			want    uint32 // 0: not small
			negated bool
		}{
			{"1", big.NewInt(1), 1, false},
			{"2", big.NewInt(2), 2, false},
			{"255", big.NewInt(255), 255, false},
			{"256 (first row's last)", big.NewInt(256), 256, false},
			{"257 (second row's first)", big.NewInt(257), 257, false},
			{"512 (the doubling)", big.NewInt(512), 512, false},
			{"12345", big.NewInt(12345), 12345, false},
			{"65535", big.NewInt(65535), 65535, false},
			{"65536 (the bound)", big.NewInt(1 << 16), 1 << 16, false},
			{"n-1", neg(1), 1, true},
			{"n-40000", neg(40000), 40000, true},
			{"65537 (past the bound)", big.NewInt(1<<16 + 1), 0, false},
			{"2^40", new(big.Int).Lsh(big.NewInt(1), 40), 0, false},
		}
		for _, tt := range tests {
			t.Run(curve.Params().Name+"/"+tt.name, func(t *testing.T) {
				d, negated, ok := smallECDSAKey(keyOf(curve, tt.d))
				if tt.want == 0 {
					if ok {
						t.Fatalf("found d = %d (negated %v) for a key outside the range", d, negated)
					}
					return
				}
				if !ok || d != tt.want || negated != tt.negated {
					t.Fatalf("got d = %d negated %v found %v; want %d negated %v", d, negated, ok, tt.want, tt.negated)
				}
				err := CheckKey(keyOf(curve, tt.d))
				if err == nil || !strings.Contains(err.Error(), "weak key: the ECDSA private key is") {
					t.Errorf("CheckKey = %v, want a weak-key error", err)
				}
			})
		}
		// Every multiple in the range is in the table: the batched rows are
		// checked against the generic addition, point by point.
		t.Run(curve.Params().Name+"/all", func(t *testing.T) {
			table := buildSmallKeyTable(curve)
			if len(table) != 1<<smallKeyBits {
				t.Fatalf("table holds %d points, want %d", len(table), 1<<smallKeyBits)
			}
			p := curve.Params()
			x, y := new(big.Int).Set(p.Gx), new(big.Int).Set(p.Gy)
			for d := uint32(1); d <= 1<<smallKeyBits; d++ {
				if got := table[low64(x)]; got != d {
					t.Fatalf("table says %d for %d·G", got, d)
				}
				x, y = curve.Add(x, y, p.Gx, p.Gy)
			}
		})
	}
	for range 20 {
		k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err := CheckKey(k.Public()); err != nil {
			t.Fatalf("a random key was refused: %v", err)
		}
	}
}
