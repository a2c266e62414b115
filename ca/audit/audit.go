// Package audit defines the hash-chained audit log of esig: what one entry
// holds, how its hash is computed, and how a chain is checked.
//
// Every entry's hash covers the previous entry's hash, so changing, removing
// or reordering any entry breaks every hash after it. The store appends
// entries inside the same transaction as the change they record; this package
// does no I/O and is shared by every store implementation.
package audit

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"time"
)

// Kinds of audited events. The set is open: stores keep any kind verbatim.
const (
	KindCertificateIssued  = "certificate.issued"
	KindCertificateRevoked = "certificate.revoked"
	KindCertificateHold    = "certificate.hold"
	KindCertificateRelease = "certificate.hold-released"
	KindCRLPublished       = "crl.published"
	KindKeyCreated         = "key.created"
	KindCACreated          = "ca.created"
	KindAPIKeyCreated      = "apikey.created"
	KindAPIKeyRevoked      = "apikey.revoked"
)

// Event is what a caller asks to record. Time is kept to the microsecond,
// the finest precision every supported database stores exactly.
type Event struct {
	Time    time.Time
	Kind    string
	Actor   string          // who caused it: "apikey:<id>", "cli", "system"
	Object  string          // what it is about: a serial, a key id, a shard
	Details json.RawMessage // canonical JSON chosen by the caller; may be empty
}

// Entry is an Event as it stands in the chain.
type Entry struct {
	Seq int64 // 1 for the first entry, then consecutive
	Event
	PrevHash [32]byte // Hash of entry Seq-1; all zero for the first entry
	Hash     [32]byte
}

// Normalize returns ev with its time truncated to microseconds in UTC and
// empty details made explicit, exactly as a store will keep it.
func Normalize(ev Event) Event {
	if ev.Time.IsZero() {
		ev.Time = time.Now()
	}
	ev.Time = ev.Time.UTC().Truncate(time.Microsecond)
	if len(ev.Details) == 0 {
		ev.Details = json.RawMessage("{}")
	}
	return ev
}

// Link computes the hash of the entry number seq holding ev, chained after
// prev. Each field is length-prefixed so no two different entries share an
// encoding. ev must already be normalized.
func Link(prev [32]byte, seq int64, ev Event) [32]byte {
	h := sha256.New()
	var n [8]byte
	h.Write([]byte("esig-audit-v1"))
	h.Write(prev[:])
	binary.BigEndian.PutUint64(n[:], uint64(seq))
	h.Write(n[:])
	binary.BigEndian.PutUint64(n[:], uint64(ev.Time.UnixMicro()))
	h.Write(n[:])
	for _, f := range []string{ev.Kind, ev.Actor, ev.Object, string(ev.Details)} {
		binary.BigEndian.PutUint64(n[:], uint64(len(f)))
		h.Write(n[:])
		h.Write([]byte(f))
	}
	var out [32]byte
	h.Sum(out[:0])
	return out
}

// Next builds the entry that follows prev (nil for the first entry).
func Next(prev *Entry, ev Event) Entry {
	ev = Normalize(ev)
	e := Entry{Seq: 1, Event: ev}
	if prev != nil {
		e.Seq = prev.Seq + 1
		e.PrevHash = prev.Hash
	}
	e.Hash = Link(e.PrevHash, e.Seq, e.Event)
	return e
}

// BrokenError names the first entry at which a chain does not hold.
type BrokenError struct {
	Seq    int64
	Reason string
}

func (e *BrokenError) Error() string {
	return fmt.Sprintf("audit chain broken at entry %d: %s", e.Seq, e.Reason)
}

// Verifier checks a chain one entry at a time, in order of Seq.
type Verifier struct {
	prev  *Entry
	count int64
}

// Add checks e against the entries added before it and returns a
// *BrokenError at the first entry that does not hold.
func (v *Verifier) Add(e Entry) error {
	wantSeq := int64(1)
	var wantPrev [32]byte
	if v.prev != nil {
		wantSeq = v.prev.Seq + 1
		wantPrev = v.prev.Hash
	}
	switch {
	case e.Seq != wantSeq:
		return &BrokenError{Seq: e.Seq, Reason: fmt.Sprintf("expected entry %d here (an entry is missing or out of order)", wantSeq)}
	case e.PrevHash != wantPrev:
		return &BrokenError{Seq: e.Seq, Reason: "previous-hash does not match the hash of the entry before it"}
	case Link(e.PrevHash, e.Seq, e.Event) != e.Hash:
		return &BrokenError{Seq: e.Seq, Reason: "content does not match its hash (the entry was altered)"}
	}
	cp := e
	v.prev = &cp
	v.count++
	return nil
}

// Count is the number of entries checked so far.
func (v *Verifier) Count() int64 { return v.count }
