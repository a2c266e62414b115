package audit

import (
	"encoding/json"
	"errors"
	"testing"
	"time"
)

func chain(n int) []Entry {
	var out []Entry
	var prev *Entry
	for i := 0; i < n; i++ {
		e := Next(prev, Event{Time: time.Unix(1700000000, int64(i)*1500), Kind: KindCertificateIssued, Actor: "cli", Object: "serial", Details: json.RawMessage(`{"n":1}`)})
		out = append(out, e)
		prev = &out[len(out)-1]
	}
	return out
}

func TestVerifierFindsFirstBrokenEntry(t *testing.T) {
	tests := []struct {
		name    string
		tamper  func([]Entry) []Entry
		wantSeq int64 // 0: the chain holds
	}{
		{"intact", func(e []Entry) []Entry { return e }, 0},
		{"details changed", func(e []Entry) []Entry { e[2].Details = json.RawMessage(`{"n":2}`); return e }, 3},
		{"actor changed", func(e []Entry) []Entry { e[0].Actor = "someone"; return e }, 1},
		{"time changed", func(e []Entry) []Entry { e[3].Time = e[3].Time.Add(time.Microsecond); return e }, 4},
		{"entry removed", func(e []Entry) []Entry { return append(e[:1], e[2:]...) }, 3},
		{"entries swapped", func(e []Entry) []Entry { e[1], e[2] = e[2], e[1]; return e }, 3},
		{"rehashed alone", func(e []Entry) []Entry {
			e[1].Object = "other"
			e[1].Hash = Link(e[1].PrevHash, e[1].Seq, e[1].Event)
			return e
		}, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var v Verifier
			var err error
			for _, e := range tt.tamper(chain(5)) {
				if err = v.Add(e); err != nil {
					break
				}
			}
			var b *BrokenError
			switch {
			case tt.wantSeq == 0 && err != nil:
				t.Fatalf("intact chain reported broken: %v", err)
			case tt.wantSeq != 0 && (!errors.As(err, &b) || b.Seq != tt.wantSeq):
				t.Fatalf("error %v, want broken at %d", err, tt.wantSeq)
			}
		})
	}
}

func TestNormalize(t *testing.T) {
	loc := time.FixedZone("CET", 3600)
	ev := Normalize(Event{Time: time.Date(2026, 1, 2, 3, 4, 5, 123456789, loc)})
	if ev.Time.Location() != time.UTC || ev.Time.Nanosecond() != 123456000 || string(ev.Details) != "{}" {
		t.Fatalf("Normalize: %v %s", ev.Time, ev.Details)
	}
	a, b := Next(nil, Event{Kind: "k", Actor: "ab", Object: "c"}), Next(nil, Event{Kind: "k", Actor: "a", Object: "bc"})
	if a.Hash == b.Hash {
		t.Fatal("fields are not length-prefixed: two different entries share a hash")
	}
}
