package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"esig/ca/audit"
	"esig/ca/store"
)

// request is one caller's write, waiting for its batch to commit.
type request struct {
	ctx  context.Context // checked before the request runs; never used for SQL
	run  func(*wtx) error
	err  error         // the caller's outcome, set before done is closed
	done chan struct{} // closed once the outcome is final
}

// writer is the group-commit loop: one goroutine takes every queued request
// into one transaction, commits once and only then answers the callers. A
// request that fails is undone alone, through a savepoint (see runBatch).
type writer struct {
	s        *Store
	queue    chan *request
	maxBatch int
	timeout  time.Duration
	delay    time.Duration // commit delay: how long a batch waits for company

	mu     sync.RWMutex // held for reading while sending on queue; Close takes it to close queue
	closed bool
	exited chan struct{}

	batches, requests, retries atomic.Uint64
	running                    atomic.Int64 // requests in the batch being run
}

// WriterStats counts the work of a store's group-commit writer, for metrics
// and for tests that check batching really happens.
type WriterStats struct {
	Batches  uint64 // batches run, each one transaction (two if retried)
	Requests uint64 // write requests answered
	Retries  uint64 // batches run again with savepoints because a request failed
	Queued   int    // requests waiting for the next batch
	Running  int    // requests in the batch being run now
}

// WriterStats returns the writer's counters since Open.
func (s *Store) WriterStats() WriterStats {
	return WriterStats{
		Batches:  s.w.batches.Load(),
		Requests: s.w.requests.Load(),
		Retries:  s.w.retries.Load(),
		Queued:   len(s.w.queue),
		Running:  int(s.w.running.Load()),
	}
}

func newWriter(s *Store, maxBatch int, timeout, delay time.Duration) *writer {
	w := &writer{
		s:        s,
		delay:    delay,
		queue:    make(chan *request, maxBatch*4),
		maxBatch: maxBatch,
		timeout:  timeout,
		exited:   make(chan struct{}),
	}
	go w.loop()
	return w
}

// do queues run and waits for the commit of the batch that carries it.
//
// Once queued, a request's outcome is always reported truthfully: if ctx
// ends before the request started, it is skipped and the caller gets the
// context's error; once it started, the caller waits for the COMMIT (bounded
// by the batch timeout) rather than leaving early. So nil always means
// durably written, and an error means nothing was written, except when the
// COMMIT itself failed in transit, which is as ambiguous here as anywhere.
func (w *writer) do(ctx context.Context, run func(*wtx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	r := &request{ctx: ctx, run: run, done: make(chan struct{})}
	w.mu.RLock()
	if w.closed {
		w.mu.RUnlock()
		return ErrClosed
	}
	select {
	case w.queue <- r:
		w.mu.RUnlock()
	case <-ctx.Done():
		w.mu.RUnlock()
		return ctx.Err()
	}
	<-r.done
	return r.err
}

// close stops the queue and waits until every queued request is answered.
// It reports false if the writer was closed already.
func (w *writer) close() bool {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return false
	}
	w.closed = true
	close(w.queue)
	w.mu.Unlock()
	<-w.exited
	return true
}

func (w *writer) loop() {
	defer close(w.exited)
	batch := make([]*request, 0, w.maxBatch)
	for first := range w.queue {
		batch = append(batch[:0], first)
		// Collect what is queued, then linger up to commitDelay for more
		// (as PostgreSQL's commit_delay): under load a batch then carries
		// many requests for one fsync instead of a few, at the price of at
		// most commitDelay of latency for a lone request.
		var linger <-chan time.Time
		var timer *time.Timer
		if w.delay > 0 {
			timer = time.NewTimer(w.delay)
			linger = timer.C
		}
	drain:
		for len(batch) < w.maxBatch {
			select {
			case r, ok := <-w.queue:
				if !ok {
					break drain
				}
				batch = append(batch, r)
			default:
				if linger == nil {
					break drain
				}
				select {
				case r, ok := <-w.queue:
					if !ok {
						break drain
					}
					batch = append(batch, r)
				case <-linger:
					break drain
				}
			}
		}
		if timer != nil {
			timer.Stop()
		}
		w.running.Store(int64(len(batch)))
		w.runBatch(batch)
		w.running.Store(0)
		clear(batch) // drop references so finished requests can be collected
	}
}

// runBatch commits one batch and answers its callers. A request that failed
// on its own keeps its own error; every other request shares the batch's
// fate.
//
// The batch first runs without savepoints, which on PostgreSQL halves the
// round trips per request. If any request fails, that attempt is rolled back
// and the batch runs again with a savepoint around each request, so the
// failing one is undone alone and the others still commit. Failures are
// rare (a serial is random), so almost every batch takes the fast path.
func (w *writer) runBatch(batch []*request) {
	ctx, cancel := context.WithTimeout(context.Background(), w.timeout)
	defer cancel()
	err := w.commit(ctx, batch, false)
	if errors.Is(err, errNeedSavepoints) {
		w.retries.Add(1)
		for _, r := range batch {
			r.err = nil
		}
		err = w.commit(ctx, batch, true)
	}
	w.batches.Add(1)
	w.requests.Add(uint64(len(batch)))
	for _, r := range batch {
		if r.err == nil && err != nil {
			r.err = err
		}
		close(r.done)
	}
}

// errNeedSavepoints ends a fast attempt in which a request failed.
var errNeedSavepoints = errors.New("sqlstore: a request failed; run the batch again with savepoints")

// savepoint is the one savepoint name the writer uses; requests run one after
// another, so the name is never nested.
const savepoint = "esig_request"

// commit runs batch in one transaction and commits it. Without savepoints,
// the first failing request ends the attempt with errNeedSavepoints, unless
// it is alone in the batch: then its failure is simply final. Every run
// function may therefore be called twice; each derives everything from the
// transaction and sets its results on every path that returns nil.
func (w *writer) commit(ctx context.Context, batch []*request, savepoints bool) (err error) {
	name := w.s.d.Name
	tx, err := w.s.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("%s: begin write transaction: %w", name, err)
	}
	committed := false
	defer func() {
		if !committed {
			_ = tx.Rollback() // the error that made us roll back is the one worth reporting
		}
	}()

	t := &wtx{s: w.s, tx: tx, ctx: ctx}
	if err := t.loadHead(); err != nil {
		return err
	}
	start := t.head.Seq
	for _, r := range batch {
		if e := r.ctx.Err(); e != nil {
			r.err = e
			continue
		}
		saved := t.head
		if savepoints {
			if _, err := tx.ExecContext(ctx, "SAVEPOINT "+savepoint); err != nil {
				return fmt.Errorf("%s: savepoint: %w", name, err)
			}
		}
		r.err = r.run(t)
		if r.err != nil {
			t.head = saved
			if !savepoints {
				if len(batch) == 1 {
					return nil // rolled back by the deferred call; r keeps its own error
				}
				return errNeedSavepoints
			}
			if _, err := tx.ExecContext(ctx, "ROLLBACK TO SAVEPOINT "+savepoint); err != nil {
				return fmt.Errorf("%s: roll back to savepoint after %v: %w", name, r.err, err)
			}
		}
		if savepoints {
			if _, err := tx.ExecContext(ctx, "RELEASE SAVEPOINT "+savepoint); err != nil {
				return fmt.Errorf("%s: release savepoint: %w", name, err)
			}
		}
	}
	if t.head.Seq != start {
		if err := t.storeHead(); err != nil {
			return err
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("%s: commit: %w", name, err)
	}
	committed = true
	return nil
}

// wtx is the view of the batch transaction a request runs against. It
// carries the audit chain head so each request appends after the previous
// one without reading it back.
type wtx struct {
	s     *Store
	tx    *sql.Tx
	ctx   context.Context
	head  audit.Entry          // Seq 0: the chain is empty
	stmts map[string]*sql.Stmt // prepared in tx; closed with it
}

// exec runs a statement of the batch. Where the dialect asks for it, each
// statement is prepared once per batch on the batch's transaction and
// reused by every request in it:
// parsing the same INSERT for every certificate was a measurable share of
// issuance. (Preparing on the handle instead would wait forever on SQLite,
// whose one write connection the transaction holds.)
func (t *wtx) exec(query string, args ...any) (sql.Result, error) {
	if !t.s.d.PrepareInBatch {
		return t.tx.ExecContext(t.ctx, t.s.q(query), args...)
	}
	stmt, ok := t.stmts[query]
	if !ok {
		var err error
		if stmt, err = t.tx.PrepareContext(t.ctx, t.s.q(query)); err != nil {
			return nil, err
		}
		if t.stmts == nil {
			t.stmts = map[string]*sql.Stmt{}
		}
		t.stmts[query] = stmt
	}
	return stmt.ExecContext(t.ctx, args...)
}

func (t *wtx) queryRow(query string, args ...any) *sql.Row {
	return t.tx.QueryRowContext(t.ctx, t.s.q(query), args...)
}

// loadHead reads the audit chain head and, through the dialect's HeadLock,
// keeps writers in other processes out until this transaction ends.
func (t *wtx) loadHead() error {
	var hash []byte
	err := t.queryRow(`SELECT seq, hash FROM audit_head WHERE id = 1`+t.s.d.HeadLock).Scan(&t.head.Seq, &hash)
	if err != nil {
		return fmt.Errorf("%s: read audit chain head: %w", t.s.d.Name, err)
	}
	if len(hash) != len(t.head.Hash) {
		return fmt.Errorf("%s: audit chain head at entry %d: hash has %d bytes, want %d", t.s.d.Name, t.head.Seq, len(hash), len(t.head.Hash))
	}
	copy(t.head.Hash[:], hash)
	return nil
}

func (t *wtx) storeHead() error {
	res, err := t.exec(`UPDATE audit_head SET seq = ?, hash = ? WHERE id = 1`, t.head.Seq, t.head.Hash[:])
	if err != nil {
		return fmt.Errorf("%s: update audit chain head to entry %d: %w", t.s.d.Name, t.head.Seq, err)
	}
	if n, err := res.RowsAffected(); err == nil && n != 1 {
		return fmt.Errorf("%s: update audit chain head: %d rows changed, want 1", t.s.d.Name, n)
	}
	return nil
}

// appendAudit chains ev after the current head and inserts it.
func (t *wtx) appendAudit(ev audit.Event) error {
	if err := checkEvent(ev); err != nil {
		return err
	}
	var prev *audit.Entry
	if t.head.Seq > 0 {
		prev = &t.head
	}
	e := audit.Next(prev, ev)
	_, err := t.exec(`INSERT INTO audit_log (seq, time_us, kind, actor, object, details, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		e.Seq, micros(e.Time), e.Kind, e.Actor, e.Object, string(e.Details), e.PrevHash[:], e.Hash[:])
	if err != nil {
		if t.s.d.IsDuplicate(err) {
			// Another writer appended without taking the head lock: refuse
			// rather than fork the chain.
			return fmt.Errorf("%s: audit entry %d exists already (the chain head is stale): %w", t.s.d.Name, e.Seq, store.ErrConflict)
		}
		return fmt.Errorf("%s: append audit entry %d (%s): %w", t.s.d.Name, e.Seq, e.Kind, err)
	}
	t.head = e
	return nil
}
