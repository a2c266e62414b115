package issuance

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"math/big"
	"sync"
)

// smallKeyBits bounds the private scalars smallECDSAKey finds: every d with
// 0 < d <= 2^smallKeyBits, and its negation. zlint's community lint
// e_ecdsa_small_private_key searches the same range, with a baby-step
// giant-step walk that costs a sixth of an issuance; a table of the
// 2^smallKeyBits smallest multiples of G, built once per curve, answers
// the same question with one map lookup.
const smallKeyBits = 16

// smallKeyTable maps the low 64 bits of the X coordinate of d·G to d, for
// 1 <= d <= 2^smallKeyBits. -d·G has the same X, so the table covers the
// negations too. A hit is a candidate only: truncating X can collide, so
// smallECDSAKey recomputes d·G before it reports.
type smallKeyTable map[uint64]uint32

var smallKeyTables sync.Map // elliptic.Curve -> func() smallKeyTable

// smallECDSAKey returns the private scalar d of pub if d or its negation
// modulo the group order is at most 2^smallKeyBits, and ok = false if not.
func smallECDSAKey(pub *ecdsa.PublicKey) (d uint32, negated, ok bool) {
	if pub == nil || pub.X == nil || pub.Y == nil {
		return 0, false, false
	}
	build, _ := smallKeyTables.LoadOrStore(pub.Curve, sync.OnceValue(func() smallKeyTable { return buildSmallKeyTable(pub.Curve) }))
	d, ok = build.(func() smallKeyTable)()[low64(pub.X)]
	if !ok {
		return 0, false, false
	}
	x, y := pub.Curve.ScalarBaseMult(new(big.Int).SetUint64(uint64(d)).Bytes())
	if x.Cmp(pub.X) != 0 {
		return 0, false, false // a collision of the low 64 bits
	}
	return d, y.Cmp(pub.Y) != 0, true
}

func low64(x *big.Int) uint64 {
	var b [8]byte
	n := x.Bytes()
	copy(b[8-min(8, len(n)):], n[max(0, len(n)-8):])
	return uint64(b[0])<<56 | uint64(b[1])<<48 | uint64(b[2])<<40 | uint64(b[3])<<32 |
		uint64(b[4])<<24 | uint64(b[5])<<16 | uint64(b[6])<<8 | uint64(b[7])
}

// buildSmallKeyTable computes d·G for d = 1 .. 2^smallKeyBits in affine
// coordinates. The first row of width points is walked one addition at a
// time; every later row adds width·G to each point of the row before, and
// those additions are independent, so their denominators share one
// modular inversion (Montgomery's trick). That makes the table a matter of
// tens of milliseconds instead of the half second 2^16 calls of the
// generic elliptic.Curve.Add would take.
func buildSmallKeyTable(curve elliptic.Curve) smallKeyTable {
	const width = 256
	const total = 1 << smallKeyBits
	params := curve.Params()
	p := params.P
	table := make(smallKeyTable, total)
	xs, ys := make([]*big.Int, width), make([]*big.Int, width)
	xs[0], ys[0] = new(big.Int).Set(params.Gx), new(big.Int).Set(params.Gy)
	for i := 1; i < width; i++ {
		xs[i], ys[i] = curve.Add(xs[i-1], ys[i-1], params.Gx, params.Gy)
	}
	for i := range width {
		table[low64(xs[i])] = uint32(i + 1)
	}
	sx, sy := curve.ScalarBaseMult(big.NewInt(width).Bytes())
	den, prefix := make([]big.Int, width), make([]big.Int, width)
	inv, invDen, lambda, x3, t := new(big.Int), new(big.Int), new(big.Int), new(big.Int), new(big.Int)
	for base := width; base < total; base += width {
		// den[i] = sx - xs[i]; zero only when xs[i] = ±S, i.e. point i+1
		// of the first row is width·G itself, which needs a doubling.
		for i := range width {
			den[i].Sub(sx, xs[i]).Mod(&den[i], p)
			if den[i].Sign() == 0 {
				den[i].SetInt64(1)
			}
			if i == 0 {
				prefix[0].Set(&den[0])
			} else {
				prefix[i].Mul(&prefix[i-1], &den[i]).Mod(&prefix[i], p)
			}
		}
		inv.ModInverse(&prefix[width-1], p)
		for i := width - 1; i >= 0; i-- {
			// inv is the inverse of prefix[i]; the inverse of den[i] is
			// inv·prefix[i-1], and inv·den[i] that of prefix[i-1].
			invDen.Set(inv)
			if i > 0 {
				invDen.Mul(invDen, &prefix[i-1]).Mod(invDen, p)
				inv.Mul(inv, &den[i]).Mod(inv, p)
			}
			if xs[i].Cmp(sx) == 0 {
				xs[i], ys[i] = curve.Add(xs[i], ys[i], sx, sy)
				continue
			}
			lambda.Sub(sy, ys[i]).Mul(lambda, invDen).Mod(lambda, p)
			x3.Mul(lambda, lambda).Sub(x3, xs[i]).Sub(x3, sx).Mod(x3, p)
			t.Sub(xs[i], x3).Mul(t, lambda).Sub(t, ys[i]).Mod(t, p)
			xs[i].Set(x3)
			ys[i].Set(t)
		}
		for i := range width {
			table[low64(xs[i])] = uint32(base + i + 1)
		}
	}
	return table
}
