// Command benchpeers runs esig and the tools it is measured against on this
// machine, under the same load, and prints a table of ratios:
//
//   - issuance over HTTP: esig serve against step-ca and cfssl serve;
//   - OCSP: esig's responder against cfssl ocspserve and openssl ocsp, all
//     asked the same request about the same certificate;
//   - XAdES verification: esig verify against xmlsec1 --verify;
//   - CAdES verification: esig verify against openssl cms -verify.
//
// The peers are not part of esig: scripts/bench-peers.sh (make bench-peers)
// builds step-ca and cfssl from the Go module proxy into a temporary
// directory and takes openssl and xmlsec1 from the system, then runs this
// program with their paths. A peer left out is reported with the reason the
// script gives (-skip NAME=REASON). Everything runs on 127.0.0.1 in a
// temporary directory that is removed afterwards.
package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/crypto/ocsp"
)

// options are the command line.
type options struct {
	esig, stepCA, cfssl, openssl, xmlsec1 string
	wrk                                   string
	ocspSeconds                           int
	requests, clients, docs               int
	ocspRequests, rounds                  int
	database                              string
	skips                                 map[string]string
	markdown                              string
}

func main() {
	o := options{skips: map[string]string{}}
	flag.StringVar(&o.esig, "esig", "", "the esig binary to measure (required)")
	flag.StringVar(&o.stepCA, "step-ca", "", "the step-ca binary (empty: left out)")
	flag.StringVar(&o.cfssl, "cfssl", "", "the cfssl binary (empty: left out)")
	flag.StringVar(&o.openssl, "openssl", "openssl", "the openssl binary (empty: left out)")
	flag.StringVar(&o.xmlsec1, "xmlsec1", "xmlsec1", "the xmlsec1 binary (empty: left out)")
	flag.StringVar(&o.wrk, "wrk", "", "the wrk load generator for the OCSP workloads (empty: the Go client, -ocsp-n requests)")
	flag.IntVar(&o.ocspSeconds, "ocsp-seconds", 5, "seconds per round of OCSP load with -wrk")
	flag.IntVar(&o.requests, "n", 3000, "issuance requests per round and system")
	flag.IntVar(&o.ocspRequests, "ocsp-n", 20000, "OCSP requests per round and system")
	flag.IntVar(&o.rounds, "rounds", 3, "rounds per throughput comparison: esig and the peer are measured in turn, round after round, and the medians compared")
	flag.IntVar(&o.clients, "c", 32, "concurrent clients for the HTTP workloads")
	flag.IntVar(&o.docs, "docs", 100, "documents per verification workload")
	flag.StringVar(&o.database, "database", "", "esig's database (ESIG_DATABASE; empty: SQLite in its data directory)")
	flag.StringVar(&o.markdown, "o", "", "also write the table (Markdown) to this file")
	flag.Func("skip", "NAME=REASON: a peer left out and why (repeatable)", func(s string) error {
		name, reason, ok := strings.Cut(s, "=")
		if !ok || name == "" || reason == "" {
			return fmt.Errorf("-skip %q: want NAME=REASON", s)
		}
		o.skips[name] = reason
		return nil
	})
	flag.Parse()
	if o.esig == "" || o.requests < o.clients || o.ocspRequests < o.clients || o.clients < 1 || o.docs < 1 || o.rounds < 1 {
		fmt.Fprintln(os.Stderr, "benchpeers: -esig is required; -n and -ocsp-n must be at least -c, and -c, -docs and -rounds at least 1")
		os.Exit(64)
	}
	for _, p := range []*string{&o.esig, &o.stepCA, &o.cfssl, &o.openssl, &o.xmlsec1, &o.wrk} {
		if *p == "" {
			continue
		}
		path, err := exec.LookPath(*p)
		if err != nil {
			fmt.Fprintf(os.Stderr, "benchpeers: %s: %v\n", *p, err)
			os.Exit(64)
		}
		*p, _ = filepath.Abs(path)
	}
	b, err := newBench(o)
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchpeers:", err)
		os.Exit(1)
	}
	// Interrupted: leave no server behind.
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-sig
		b.close()
		os.Exit(130)
	}()
	err = b.run()
	b.close()
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchpeers:", err)
		os.Exit(1)
	}
}

// row is one line of the result table.
type row struct {
	workload string
	esig     string // esig's figure
	peer     string // the peer's name
	figure   string // the peer's figure, or why there is none
	ratio    float64
	spread   string  // the lowest and highest ratio of the rounds, if several
	target   float64 // the least ratio aimed for; 0 none
	// The servers' CPU time per request (microseconds) and the peer's over
	// esig's, for the HTTP workloads where /proc tells.
	esigCPU, peerCPU, cpuRatio float64
}

// bench holds the run: its directory, the processes it started, the
// results.
type bench struct {
	o     options
	dir   string
	mu    sync.Mutex // guards procs
	procs []*exec.Cmd
	rows  []row

	esigURL, token string
	esigCmd        *exec.Cmd
	esigData       string
	csrs           [][]byte // PEM PKCS#10 requests, one key each
	leaf           *issuedCert
}

// issuedCert is a certificate esig issued for the run, with its key.
type issuedCert struct {
	certPEM, keyPEM []byte
	cert            *x509.Certificate
	shard           int
}

func newBench(o options) (*bench, error) {
	dir, err := os.MkdirTemp("", "esig-benchpeers-")
	if err != nil {
		return nil, err
	}
	return &bench{o: o, dir: dir}, nil
}

// close stops every process started and removes the directory.
func (b *bench) close() {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, c := range b.procs {
		stop(c)
	}
	b.procs = nil
	os.RemoveAll(b.dir)
}

func (b *bench) logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "benchpeers: "+format+"\n", args...)
}

func (b *bench) run() error {
	b.logf("machine: %d cores, %s/%s; %d issuance and %d OCSP requests from %d clients per round, %d rounds; %d documents per verification",
		runtime.NumCPU(), runtime.GOOS, runtime.GOARCH, b.o.requests, b.o.ocspRequests, b.o.clients, b.o.rounds, b.o.docs)
	if err := b.makeCSRs(256); err != nil {
		return err
	}
	if err := b.startESig(); err != nil {
		return fmt.Errorf("esig: %w", err)
	}
	// A first, untimed run: it fails early if esig cannot issue, and warms
	// the server up (lint tables, caches) before the rounds.
	if _, err := b.issueESig(); err != nil {
		return fmt.Errorf("esig issuance: %w", err)
	}
	b.compare("issuance over HTTP (certificates/s)", b.issueESig, "step-ca", b.o.stepCA, 3, b.issueStepCA)
	b.compare("issuance over HTTP (certificates/s)", b.issueESig, "cfssl serve", b.o.cfssl, 0, b.issueCFSSL)

	var err error
	if b.leaf, err = b.issueLeaf(); err != nil {
		return fmt.Errorf("esig: issuing the leaf for OCSP and signatures: %w", err)
	}
	if _, err := b.ocspESig(); err != nil {
		return fmt.Errorf("esig OCSP: %w", err)
	}
	b.compare("OCSP (answers/s)", b.ocspESig, "cfssl ocspserve", b.o.cfssl, 5, b.ocspCFSSL)
	b.compare("OCSP (answers/s)", b.ocspESigGo, "openssl ocsp", b.o.openssl, 0, b.ocspOpenSSL)

	if err := b.verifications(); err != nil {
		return err
	}
	b.print()
	return nil
}

// rate is a throughput measurement, with the CPU time the server spent
// during it where it could be read.
type rate struct {
	n         int
	elapsed   time.Duration
	serverCPU time.Duration // 0: not known
}

func (r rate) perSecond() float64 { return float64(r.n) / r.elapsed.Seconds() }

// cpuPerRequest is the server's CPU time per request in microseconds, or 0.
func (r rate) cpuPerRequest() float64 {
	return float64(r.serverCPU.Microseconds()) / float64(r.n)
}

// compare measures esig and a peer in turn, -rounds times, and adds a
// throughput row with the medians and the median of the rounds' ratios, or
// a row saying why the peer was left out. Taking turns puts both under the
// same conditions: on a shared machine the speed available drifts by more
// than the differences measured, and a peer measured minutes after esig
// would be judged under other conditions.
func (b *bench) compare(workload string, esig func() (rate, error), peer, bin string, target float64, measure func() (rate, error)) {
	r := row{workload: workload, peer: peer, target: target}
	switch {
	case b.o.skips[peer] != "":
		r.figure = "not run: " + b.o.skips[peer]
	case bin == "":
		r.figure = "not run: no binary given"
	}
	if r.figure != "" {
		if e, err := esig(); err == nil {
			r.esig = fmt.Sprintf("%.0f", e.perSecond())
		}
		b.rows = append(b.rows, r)
		return
	}
	var esigs, peers, ratios, esigCPU, peerCPU, cpuRatios []float64
	for round := 1; round <= b.o.rounds; round++ {
		e, err := esig()
		if err != nil {
			r.esig, r.figure = "failed", "esig failed: "+firstLine(err)
			b.logf("%s, esig: %v", workload, err)
			b.rows = append(b.rows, r)
			return
		}
		p, err := measure()
		if err != nil {
			r.esig, r.figure = fmt.Sprintf("%.0f", e.perSecond()), "failed: "+firstLine(err)
			b.logf("%s, %s: %v", workload, peer, err)
			b.rows = append(b.rows, r)
			return
		}
		esigs, peers = append(esigs, e.perSecond()), append(peers, p.perSecond())
		ratios = append(ratios, e.perSecond()/p.perSecond())
		cpu := ""
		if e.cpuPerRequest() > 0 && p.cpuPerRequest() > 0 {
			esigCPU, peerCPU = append(esigCPU, e.cpuPerRequest()), append(peerCPU, p.cpuPerRequest())
			cpuRatios = append(cpuRatios, p.cpuPerRequest()/e.cpuPerRequest())
			cpu = fmt.Sprintf("; server CPU per request: esig %.0f µs, %s %.0f µs", e.cpuPerRequest(), peer, p.cpuPerRequest())
		}
		b.logf("%s, round %d of %d: esig %.0f/s, %s %.0f/s, ratio %.2f%s", workload, round, b.o.rounds, e.perSecond(), peer, p.perSecond(), ratios[len(ratios)-1], cpu)
	}
	if len(cpuRatios) == b.o.rounds {
		r.esigCPU, r.peerCPU, r.cpuRatio = median(esigCPU), median(peerCPU), median(cpuRatios)
	}
	r.esig, r.figure = fmt.Sprintf("%.0f", median(esigs)), fmt.Sprintf("%.0f", median(peers))
	r.ratio = median(ratios)
	if len(ratios) > 1 {
		r.spread = fmt.Sprintf("%.2f–%.2fx", slices.Min(ratios), slices.Max(ratios))
	}
	b.rows = append(b.rows, r)
}

// median is the middle value of xs (the mean of the two middle ones for an
// even count).
func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// loadGenerators says what drove the HTTP workloads.
func (b *bench) loadGenerators() string {
	if b.o.wrk != "" {
		return fmt.Sprintf("issuance and OCSP against openssl ocsp from Go HTTP clients, OCSP against cfssl ocspserve from wrk (one thread, %d s per round)", b.o.ocspSeconds)
	}
	return "both from Go HTTP clients"
}

// verdict says whether ratio reaches target.
func verdict(ratio, target float64) string {
	switch {
	case ratio <= 0:
		return "not measured"
	case ratio < target:
		return "MISSED"
	}
	return "met"
}

// print writes the table to stdout and, if asked, to a file.
func (b *bench) print() {
	var out strings.Builder
	fmt.Fprintf(&out, "| workload | esig | peer | peer | esig / peer | rounds' range | server CPU per request, esig | peer | peer / esig | target |\n|---|---:|---|---:|---:|---|---:|---:|---:|---|\n")
	for _, r := range b.rows {
		ratio, target := "n/a", ""
		if r.ratio > 0 {
			ratio = fmt.Sprintf("%.2fx", r.ratio)
		}
		esigCPU, peerCPU, cpuRatio := "", "", ""
		if r.cpuRatio > 0 {
			esigCPU, peerCPU, cpuRatio = fmt.Sprintf("%.0f µs", r.esigCPU), fmt.Sprintf("%.0f µs", r.peerCPU), fmt.Sprintf("%.2fx", r.cpuRatio)
		}
		if r.target > 0 {
			target = fmt.Sprintf(">= %.0fx: %s", r.target, verdict(r.ratio, r.target))
			if r.cpuRatio > 0 {
				target = fmt.Sprintf(">= %.0fx: throughput %s, server CPU %s", r.target, verdict(r.ratio, r.target), verdict(r.cpuRatio, r.target))
			}
		}
		fmt.Fprintf(&out, "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", r.workload, r.esig, r.peer, r.figure, ratio, r.spread, esigCPU, peerCPU, cpuRatio, target)
	}
	fmt.Fprintf(&out, "\n%d cores (%s/%s); HTTP workloads: %d issuance or %d OCSP requests from %d concurrent clients after a warm-up, the other systems idle, esig and the peer measured in turn for %d rounds (medians shown), %s; server CPU is the user and system time of the server's processes during the timed requests, from /proc, so it leaves out the load generator sharing the machine; verification: %d documents, times per document.\n",
		runtime.NumCPU(), runtime.GOOS, runtime.GOARCH, b.o.requests, b.o.ocspRequests, b.o.clients, b.o.rounds, b.loadGenerators(), b.o.docs)
	fmt.Print(out.String())
	if b.o.markdown != "" {
		if err := os.WriteFile(b.o.markdown, []byte(out.String()), 0o644); err != nil {
			b.logf("writing %s: %v", b.o.markdown, err)
		}
	}
}

// ---- processes ----

// freeAddr returns a loopback address nobody listens on now.
func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// start runs a long-lived process with its output in a log file of the
// run's directory and registers it to be killed at the end.
func (b *bench) start(name string, env []string, bin string, args ...string) (*exec.Cmd, string, error) {
	logPath := filepath.Join(b.dir, name+".log")
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, "", err
	}
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.Dir = b.dir
	// Its own process group, so stop also ends the children some peers
	// fork (openssl ocsp -multi).
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, "", fmt.Errorf("starting %s: %w", name, err)
	}
	logf.Close()
	b.mu.Lock()
	b.procs = append(b.procs, cmd)
	b.mu.Unlock()
	return cmd, logPath, nil
}

// stop kills a process started by start and its process group, so the
// next system has the machine to itself. Stopping twice is harmless.
func stop(cmd *exec.Cmd) {
	if cmd == nil || cmd.Process == nil || cmd.ProcessState != nil {
		return
	}
	syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	cmd.Wait()
}

// waitHTTP polls url until it answers with a status below 500, or gives up
// after a minute with the tail of the process's log.
func waitHTTP(c *http.Client, url, logPath string) error {
	deadline := time.Now().Add(time.Minute)
	for {
		resp, err := c.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode < 500 {
				return nil
			}
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(logPath)
			if len(log) > 2000 {
				log = log[len(log)-2000:]
			}
			return fmt.Errorf("%s did not answer within a minute (%v); log:\n%s", url, err, log)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// runOnce runs a short command and returns its output, failing with it.
func runOnce(dir, bin string, args ...string) ([]byte, error) {
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		return out, fmt.Errorf("%s %s: %w\n%s", filepath.Base(bin), strings.Join(args, " "), err, out)
	}
	return out, nil
}

// ---- load ----

// httpClient keeps one connection per client open, so every system is
// measured on reused connections.
func httpClient(conns int, tlsConfig *tls.Config) *http.Client {
	return &http.Client{Timeout: time.Minute, Transport: &http.Transport{
		MaxIdleConns: conns, MaxIdleConnsPerHost: conns, MaxConnsPerHost: conns, TLSClientConfig: tlsConfig,
	}}
}

// drive makes n calls of do (given the call's index) from `clients`
// goroutines after `warm` untimed calls, and fails on the first error. The
// CPU time the server process (and its process group) spends during the
// timed calls is read from /proc: unlike throughput, it does not depend on
// what else the machine runs, the load generator included.
func drive(server *exec.Cmd, n, clients, warm int, do func(i int) error) (rate, error) {
	for i := range warm {
		if err := do(n + i); err != nil {
			return rate{}, fmt.Errorf("warm-up: %w", err)
		}
	}
	cpu0, cpuKnown := groupCPU(server)
	var (
		next     atomic.Int64
		failures atomic.Int64
		first    atomic.Value
		wg       sync.WaitGroup
	)
	start := time.Now()
	for range clients {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				if err := do(i); err != nil {
					failures.Add(1)
					first.CompareAndSwap(nil, err)
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	if f := failures.Load(); f > 0 {
		return rate{}, fmt.Errorf("%d of %d requests failed, the first: %v", f, n, first.Load())
	}
	r := rate{n: n, elapsed: elapsed}
	if cpu1, ok := groupCPU(server); ok && cpuKnown {
		r.serverCPU = cpu1 - cpu0
	}
	return r, nil
}

// clockTick is Linux's USER_HZ, the unit of the CPU times in /proc/*/stat
// (100 on every architecture Go supports).
const clockTick = 10 * time.Millisecond

// groupCPU is the user and system CPU time of every live process in the
// process group led by cmd (start gives each server its own group; some,
// like openssl ocsp -multi, fork workers), plus what its reaped children
// used. ok is false where /proc cannot tell.
func groupCPU(cmd *exec.Cmd) (total time.Duration, ok bool) {
	if cmd == nil || cmd.Process == nil {
		return 0, false
	}
	pgid := cmd.Process.Pid
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return 0, false
	}
	for _, e := range entries {
		if e.Name()[0] < '0' || e.Name()[0] > '9' {
			continue
		}
		raw, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue // gone meanwhile
		}
		// The command name is in parentheses and may hold spaces; the
		// fields after it start with the state (field 3 of proc(5)).
		i := bytes.LastIndexByte(raw, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(string(raw[i+1:]))
		if len(f) < 15 {
			continue
		}
		var pid, pgrp, utime, stime, cutime, cstime int64
		fmt.Sscan(e.Name(), &pid)
		fmt.Sscan(f[2], &pgrp)
		if pgrp != int64(pgid) {
			continue
		}
		fmt.Sscan(f[11], &utime)
		fmt.Sscan(f[12], &stime)
		total += time.Duration(utime+stime) * clockTick
		if pid == int64(pgid) {
			fmt.Sscan(f[13], &cutime)
			fmt.Sscan(f[14], &cstime)
			total += time.Duration(cutime+cstime) * clockTick
			ok = true
		}
	}
	return total, ok
}

// post sends body and returns the answer's body if its status is want.
func post(c *http.Client, url, contentType string, body []byte, header map[string]string, want int) ([]byte, error) {
	req, err := http.NewRequest("POST", url, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", contentType)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != want {
		return nil, fmt.Errorf("status %d, want %d: %.300s", resp.StatusCode, want, out)
	}
	return out, nil
}

// ---- keys, requests, a CA for the peers ----

// benchName is the subject every request names; step-ca wants the CSR's
// name to be the one its token authorizes.
const benchName = "bench.example"

func (b *bench) makeCSRs(n int) error {
	for range n {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return err
		}
		der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{
			Subject: pkix.Name{CommonName: benchName}, DNSNames: []string{benchName},
		}, key)
		if err != nil {
			return err
		}
		b.csrs = append(b.csrs, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der}))
	}
	return nil
}

// peerCA is an ECDSA P-256 root and issuing CA made for the peers, in PEM
// files of the run's directory.
type peerCA struct {
	rootPEM, certPEM, keyPEM string // file paths
	root                     *x509.Certificate
}

func (b *bench) makePeerCA(name string) (*peerCA, error) {
	dir := filepath.Join(b.dir, name)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	rootKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	rootTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name + " Bench Root"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(10 * 365 * 24 * time.Hour),
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign, BasicConstraintsValid: true, IsCA: true,
	}
	rootDER, err := x509.CreateCertificate(rand.Reader, rootTmpl, rootTmpl, &rootKey.PublicKey, rootKey)
	if err != nil {
		return nil, err
	}
	root, _ := x509.ParseCertificate(rootDER)
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: name + " Bench Issuing CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(5 * 365 * 24 * time.Hour),
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature, BasicConstraintsValid: true, IsCA: true,
		MaxPathLen: 0, MaxPathLenZero: true,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, root, &caKey.PublicKey, rootKey)
	if err != nil {
		return nil, err
	}
	keyDER, err := x509.MarshalECPrivateKey(caKey)
	if err != nil {
		return nil, err
	}
	p := &peerCA{rootPEM: filepath.Join(dir, "root.pem"), certPEM: filepath.Join(dir, "ca.pem"), keyPEM: filepath.Join(dir, "ca-key.pem"), root: root}
	for path, blk := range map[string]*pem.Block{
		p.rootPEM: {Type: "CERTIFICATE", Bytes: rootDER},
		p.certPEM: {Type: "CERTIFICATE", Bytes: caDER},
		p.keyPEM:  {Type: "EC PRIVATE KEY", Bytes: keyDER},
	} {
		if err := os.WriteFile(path, pem.EncodeToMemory(blk), 0o600); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// ---- esig ----

func (b *bench) startESig() error {
	addr, err := freeAddr()
	if err != nil {
		return err
	}
	b.esigData = filepath.Join(b.dir, "esig-data")
	env := []string{"ESIG_HTTP_RATE_LIMIT=0", "ESIG_LOG_LEVEL=warn", "ESIG_LOG_FORMAT=json"}
	if b.o.database != "" {
		env = append(env, "ESIG_DATABASE="+b.o.database)
	}
	cmd, logPath, err := b.start("esig", env, b.o.esig, "serve", "--data", b.esigData, "--listen", addr)
	if err != nil {
		return err
	}
	b.esigURL, b.esigCmd = "http://"+addr, cmd
	if err := waitHTTP(httpClient(1, nil), b.esigURL+"/readyz", logPath); err != nil {
		return err
	}
	raw, err := os.ReadFile(filepath.Join(b.esigData, "admin.key"))
	if err != nil {
		return err
	}
	b.token = strings.TrimSpace(string(raw))
	return nil
}

func (b *bench) esigIssueBody(i int) []byte {
	body, _ := json.Marshal(map[string]any{
		"csr": string(b.csrs[i%len(b.csrs)]), "profile": "person-signing",
		"subject": map[string]string{"givenName": "Jan", "surname": "Kowalski", "pesel": "44051401359"},
	})
	return body
}

func (b *bench) issueESig() (rate, error) {
	c := httpClient(b.o.clients, nil)
	bodies := make([][]byte, len(b.csrs))
	for i := range bodies {
		bodies[i] = b.esigIssueBody(i)
	}
	auth := map[string]string{"Authorization": "Bearer " + b.token}
	r, err := drive(b.esigCmd, b.o.requests, b.o.clients, 50, func(i int) error {
		_, err := post(c, b.esigURL+"/v1/certificates", "application/json", bodies[i%len(bodies)], auth, http.StatusCreated)
		return err
	})
	if err == nil {
		b.logf("esig issuance: %.0f/s", r.perSecond())
	}
	return r, err
}

// issueLeaf issues the certificate the OCSP and signature workloads use.
func (b *bench) issueLeaf() (*issuedCert, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: "x"}}, key)
	if err != nil {
		return nil, err
	}
	body, _ := json.Marshal(map[string]any{
		"csr": string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der})), "profile": "person-signing",
		"subject": map[string]string{"givenName": "Anna", "surname": "Nowak", "pesel": "02270803624"},
	})
	out, err := post(httpClient(1, nil), b.esigURL+"/v1/certificates", "application/json", body, map[string]string{"Authorization": "Bearer " + b.token}, http.StatusCreated)
	if err != nil {
		return nil, err
	}
	var v struct {
		Certificate string `json:"certificate"`
		CRLShard    int    `json:"crlShard"`
	}
	if err := json.Unmarshal(out, &v); err != nil {
		return nil, err
	}
	blk, _ := pem.Decode([]byte(v.Certificate))
	if blk == nil {
		return nil, errors.New("no certificate in the answer")
	}
	cert, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		return nil, err
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, err
	}
	return &issuedCert{certPEM: []byte(v.Certificate), keyPEM: pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder}), cert: cert, shard: v.CRLShard}, nil
}

func (b *bench) esigCA(name string) string { return filepath.Join(b.esigData, "ca", name) }

func readCert(path string) (*x509.Certificate, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	blk, _ := pem.Decode(raw)
	if blk == nil {
		return nil, fmt.Errorf("%s: no PEM certificate", path)
	}
	return x509.ParseCertificate(blk.Bytes)
}

// ---- step-ca ----

// jwkThumbprint is the RFC 7638 thumbprint of a P-256 public key, base64url.
func jwkThumbprint(x, y string) string {
	sum := sha256.Sum256([]byte(`{"crv":"P-256","kty":"EC","x":"` + x + `","y":"` + y + `"}`))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// coord encodes an elliptic curve coordinate for a JWK.
func coord(n *big.Int) string {
	b := make([]byte, 32)
	return base64.RawURLEncoding.EncodeToString(n.FillBytes(b))
}

// signToken makes the one-time token step-ca's JWK provisioner accepts: an
// ES256 JWT naming the provisioner, the sign endpoint and the subject.
func signToken(key *ecdsa.PrivateKey, kid, issuer, audience string) (string, error) {
	now := time.Now()
	jti := make([]byte, 16)
	if _, err := rand.Read(jti); err != nil {
		return "", err
	}
	header, _ := json.Marshal(map[string]string{"alg": "ES256", "kid": kid, "typ": "JWT"})
	claims, _ := json.Marshal(map[string]any{
		"iss": issuer, "aud": audience, "sub": benchName, "sans": []string{benchName},
		"iat": now.Unix(), "nbf": now.Add(-time.Minute).Unix(), "exp": now.Add(30 * time.Minute).Unix(), "jti": hex.EncodeToString(jti),
	})
	signing := base64.RawURLEncoding.EncodeToString(header) + "." + base64.RawURLEncoding.EncodeToString(claims)
	sum := sha256.Sum256([]byte(signing))
	r, s, err := ecdsa.Sign(rand.Reader, key, sum[:])
	if err != nil {
		return "", err
	}
	sig := make([]byte, 64)
	r.FillBytes(sig[:32])
	s.FillBytes(sig[32:])
	return signing + "." + base64.RawURLEncoding.EncodeToString(sig), nil
}

func (b *bench) issueStepCA() (rate, error) {
	ca, err := b.makePeerCA("step-ca")
	if err != nil {
		return rate{}, err
	}
	addr, err := freeAddr()
	if err != nil {
		return rate{}, err
	}
	provKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return rate{}, err
	}
	x, y := coord(provKey.X), coord(provKey.Y)
	kid := jwkThumbprint(x, y)
	dir := filepath.Dir(ca.certPEM)
	cfg := map[string]any{
		"root": ca.rootPEM, "crt": ca.certPEM, "key": ca.keyPEM,
		"address": addr, "dnsNames": []string{"127.0.0.1"},
		"logger": map[string]string{"format": "text"},
		// Certificates are kept, as esig keeps them (badger, step-ca's
		// default database).
		"db": map[string]string{"type": "badgerv2", "dataSource": filepath.Join(dir, "db")},
		"authority": map[string]any{"provisioners": []any{map[string]any{
			"type": "JWK", "name": "bench",
			"key": map[string]string{"kty": "EC", "crv": "P-256", "x": x, "y": y, "use": "sig", "alg": "ES256", "kid": kid},
		}}},
		"tls": map[string]any{"minVersion": 1.2, "maxVersion": 1.3, "renegotiation": false,
			"cipherSuites": []string{"TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256"}},
	}
	raw, _ := json.MarshalIndent(cfg, "", "  ")
	cfgPath := filepath.Join(dir, "ca.json")
	if err := os.WriteFile(cfgPath, raw, 0o600); err != nil {
		return rate{}, err
	}
	cmd, logPath, err := b.start("step-ca", nil, b.o.stepCA, cfgPath)
	if err != nil {
		return rate{}, err
	}
	defer stop(cmd)
	pool := x509.NewCertPool()
	pool.AddCert(ca.root)
	c := httpClient(b.o.clients, &tls.Config{RootCAs: pool})
	base := "https://" + addr
	if err := waitHTTP(c, base+"/health", logPath); err != nil {
		return rate{}, err
	}
	// Tokens are made before the clock starts: the load generator shares
	// the machine, and signing a JWT is the client's work, not the CA's.
	warm := 50
	tokens := make([]string, b.o.requests+warm)
	for i := range tokens {
		if tokens[i], err = signToken(provKey, kid, "bench", base+"/1.0/sign"); err != nil {
			return rate{}, err
		}
	}
	bodies := make([][]byte, len(tokens))
	for i := range bodies {
		bodies[i], _ = json.Marshal(map[string]string{"csr": string(b.csrs[i%len(b.csrs)]), "ott": tokens[i]})
	}
	r, err := drive(cmd, b.o.requests, b.o.clients, warm, func(i int) error {
		_, err := post(c, base+"/1.0/sign", "application/json", bodies[i], nil, http.StatusCreated)
		return err
	})
	if err == nil {
		b.logf("step-ca issuance: %.0f/s", r.perSecond())
	}
	return r, err
}

// ---- cfssl ----

func (b *bench) issueCFSSL() (rate, error) {
	ca, err := b.makePeerCA("cfssl")
	if err != nil {
		return rate{}, err
	}
	addr, err := freeAddr()
	if err != nil {
		return rate{}, err
	}
	host, port, _ := net.SplitHostPort(addr)
	dir := filepath.Dir(ca.certPEM)
	cfgPath := filepath.Join(dir, "config.json")
	cfg := `{"signing":{"default":{"expiry":"8760h","usages":["digital signature","email protection"]}}}`
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		return rate{}, err
	}
	cmd, logPath, err := b.start("cfssl-serve", nil, b.o.cfssl, "serve", "-loglevel", "2", "-address", host, "-port", port,
		"-ca", ca.certPEM, "-ca-key", ca.keyPEM, "-config", cfgPath)
	if err != nil {
		return rate{}, err
	}
	defer stop(cmd)
	c := httpClient(b.o.clients, nil)
	base := "http://" + addr
	if err := waitHTTP(c, base+"/api/v1/cfssl/health", logPath); err != nil {
		return rate{}, err
	}
	bodies := make([][]byte, len(b.csrs))
	for i := range bodies {
		bodies[i], _ = json.Marshal(map[string]string{"certificate_request": string(b.csrs[i])})
	}
	r, err := drive(cmd, b.o.requests, b.o.clients, 50, func(i int) error {
		out, err := post(c, base+"/api/v1/cfssl/sign", "application/json", bodies[i%len(bodies)], nil, http.StatusOK)
		if err == nil && !bytes.Contains(out, []byte(`"success":true`)) {
			err = fmt.Errorf("cfssl refused: %.300s", out)
		}
		return err
	})
	if err == nil {
		b.logf("cfssl serve issuance: %.0f/s", r.perSecond())
	}
	return r, err
}

// ---- OCSP ----

// ocspRequest is the one request every responder is asked: SHA-1 CertID
// (the form openssl and most clients send) of the run's leaf.
func (b *bench) ocspRequest() ([]byte, *x509.Certificate, error) {
	issuer, err := readCert(b.esigCA("issuing.pem"))
	if err != nil {
		return nil, nil, err
	}
	req, err := ocsp.CreateRequest(b.leaf.cert, issuer, nil)
	return req, issuer, err
}

// driveOCSP asks url the same request over and over. The first answer is
// parsed and its signature checked; the timed ones only for a 200 with a
// body, since the load generator shares the machine and checking an ECDSA
// signature per answer would cost it more than some responders spend.
func (b *bench) driveOCSP(name, url string, server *exec.Cmd, withWrk bool) (rate, error) {
	req, issuer, err := b.ocspRequest()
	if err != nil {
		return rate{}, err
	}
	c := httpClient(b.o.clients, nil)
	out, err := post(c, url, "application/ocsp-request", req, nil, http.StatusOK)
	if err != nil {
		return rate{}, err
	}
	resp, err := ocsp.ParseResponseForCert(out, b.leaf.cert, issuer)
	if err != nil {
		return rate{}, fmt.Errorf("%s answer: %w", name, err)
	}
	if resp.Status != ocsp.Good {
		return rate{}, fmt.Errorf("%s answers status %d, want good", name, resp.Status)
	}
	if withWrk && b.o.wrk != "" {
		return b.wrkOCSP(name, url, req, server)
	}
	r, err := drive(server, b.o.ocspRequests, b.o.clients, 50, func(int) error {
		out, err := post(c, url, "application/ocsp-request", req, nil, http.StatusOK)
		if err == nil && len(out) == 0 {
			err = errors.New("empty answer")
		}
		return err
	})
	if err == nil {
		b.logf("%s OCSP: %.0f/s", name, r.perSecond())
	}
	return r, err
}

// wrkOCSP has wrk post req to url from -c connections for -ocsp-seconds,
// after a one-second warm-up, and fails if any answer was not a 200 or any
// connection failed. wrk, in C with one thread, costs the shared machine
// far less per request than a Go HTTP client, which matters most for the
// responders that answer fastest.
func (b *bench) wrkOCSP(name, url string, req []byte, server *exec.Cmd) (rate, error) {
	body := filepath.Join(b.dir, "ocsp-request.der")
	script := filepath.Join(b.dir, "ocsp-post.lua")
	if err := os.WriteFile(body, req, 0o600); err != nil {
		return rate{}, err
	}
	lua := fmt.Sprintf("local f = assert(io.open(%q, \"rb\"))\nwrk.method = \"POST\"\nwrk.body = f:read(\"*all\")\nf:close()\nwrk.headers[\"Content-Type\"] = \"application/ocsp-request\"\n", body)
	if err := os.WriteFile(script, []byte(lua), 0o600); err != nil {
		return rate{}, err
	}
	run := func(seconds int) (string, error) {
		out, err := runOnce(b.dir, b.o.wrk, "-t1", fmt.Sprintf("-c%d", b.o.clients), fmt.Sprintf("-d%ds", seconds), "-s", script, url)
		return string(out), err
	}
	if out, err := run(1); err != nil {
		return rate{}, fmt.Errorf("warm-up: %w", err)
	} else if _, err := parseWrk(out); err != nil {
		return rate{}, fmt.Errorf("warm-up: %w", err)
	}
	cpu0, cpuKnown := groupCPU(server)
	out, err := run(b.o.ocspSeconds)
	if err != nil {
		return rate{}, err
	}
	cpu1, ok := groupCPU(server)
	r, err := parseWrk(out)
	if err != nil {
		return rate{}, err
	}
	if ok && cpuKnown {
		r.serverCPU = cpu1 - cpu0
	}
	b.logf("%s OCSP (wrk): %.0f/s", name, r.perSecond())
	return r, nil
}

// parseWrk reads the request count and duration from wrk's summary and
// refuses a run with non-2xx answers or socket errors.
func parseWrk(out string) (rate, error) {
	var r rate
	for _, line := range strings.Split(out, "\n") {
		line = strings.TrimSpace(line)
		switch {
		case strings.Contains(line, " requests in "):
			var n int
			var dur string
			if _, err := fmt.Sscanf(line, "%d requests in %s", &n, &dur); err != nil {
				return rate{}, fmt.Errorf("wrk: %q: %w", line, err)
			}
			d, err := time.ParseDuration(strings.TrimSuffix(dur, ","))
			if err != nil {
				return rate{}, fmt.Errorf("wrk: %q: %w", line, err)
			}
			r.n, r.elapsed = n, d
		case strings.HasPrefix(line, "Non-2xx or 3xx responses:"), strings.HasPrefix(line, "Socket errors:"):
			return rate{}, fmt.Errorf("wrk: %s", line)
		}
	}
	if r.n == 0 || r.elapsed <= 0 {
		return rate{}, fmt.Errorf("wrk completed no request:\n%s", out)
	}
	return r, nil
}

func (b *bench) ocspESig() (rate, error) {
	return b.driveOCSP("esig", b.esigURL+"/ocsp", b.esigCmd, true)
}

// ocspESigGo is ocspESig driven by the Go client, for comparing with
// openssl ocsp.
func (b *bench) ocspESigGo() (rate, error) {
	return b.driveOCSP("esig", b.esigURL+"/ocsp", b.esigCmd, false)
}

// ocspCFSSL signs the leaf's "good" answer once with cfssl ocspsign, as
// cfssl deployments do, and has cfssl ocspserve serve it.
func (b *bench) ocspCFSSL() (rate, error) {
	dir := filepath.Join(b.dir, "cfssl-ocsp")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return rate{}, err
	}
	leafPath := filepath.Join(dir, "leaf.pem")
	if err := os.WriteFile(leafPath, b.leaf.certPEM, 0o600); err != nil {
		return rate{}, err
	}
	out, err := runOnce(dir, b.o.cfssl, "ocspsign", "-ca", b.esigCA("issuing.pem"), "-responder", b.esigCA("ocsp.pem"),
		"-responder-key", b.esigCA("keys/ocsp.key"), "-cert", leafPath, "-status", "good")
	if err != nil {
		return rate{}, err
	}
	var signed struct {
		OCSPResponse string `json:"ocspResponse"`
	}
	if err := json.Unmarshal(out, &signed); err != nil || signed.OCSPResponse == "" {
		return rate{}, fmt.Errorf("cfssl ocspsign printed no response (%v): %.300s", err, out)
	}
	responses := filepath.Join(dir, "responses")
	if err := os.WriteFile(responses, []byte(signed.OCSPResponse+"\n"), 0o600); err != nil {
		return rate{}, err
	}
	addr, err := freeAddr()
	if err != nil {
		return rate{}, err
	}
	host, port, _ := net.SplitHostPort(addr)
	cmd, logPath, err := b.start("cfssl-ocspserve", nil, b.o.cfssl, "ocspserve", "-loglevel", "2", "-address", host, "-port", port, "-responses", responses)
	if err != nil {
		return rate{}, err
	}
	defer stop(cmd)
	if err := waitTCP(addr, logPath); err != nil {
		return rate{}, err
	}
	return b.driveOCSP("cfssl ocspserve", "http://"+addr+"/", cmd, true)
}

// ocspOpenSSL runs openssl ocsp as a responder over an index holding the
// leaf, with one responder process per core (-multi), signing each answer
// with the same responder key esig uses.
func (b *bench) ocspOpenSSL() (rate, error) {
	dir := filepath.Join(b.dir, "openssl-ocsp")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return rate{}, err
	}
	index := filepath.Join(dir, "index.txt")
	line := fmt.Sprintf("V\t%s\t\t%X\tunknown\t/CN=%s\n", b.leaf.cert.NotAfter.UTC().Format("060102150405Z"), b.leaf.cert.SerialNumber.Bytes(), "bench")
	if err := os.WriteFile(index, []byte(line), 0o600); err != nil {
		return rate{}, err
	}
	addr, err := freeAddr()
	if err != nil {
		return rate{}, err
	}
	_, port, _ := net.SplitHostPort(addr)
	// openssl ocsp (3.0) takes a port only and listens on every address.
	cmd, logPath, err := b.start("openssl-ocsp", nil, b.o.openssl, "ocsp", "-index", index, "-port", port,
		"-rsigner", b.esigCA("ocsp.pem"), "-rkey", b.esigCA("keys/ocsp.key"), "-CA", b.esigCA("issuing.pem"),
		"-multi", fmt.Sprint(runtime.NumCPU()), "-ignore_err")
	if err != nil {
		return rate{}, err
	}
	defer stop(cmd)
	if err := waitTCP(addr, logPath); err != nil {
		return rate{}, err
	}
	// openssl ocsp answers one request per connection and closes it,
	// which wrk does not drive (it reports no request at all), so this
	// row is measured with the Go client, esig's side included.
	return b.driveOCSP("openssl ocsp", "http://"+addr+"/", cmd, false)
}

// waitTCP waits until something listens at addr.
func waitTCP(addr, logPath string) error {
	deadline := time.Now().Add(time.Minute)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return nil
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(logPath)
			return fmt.Errorf("nothing listens at %s after a minute; log:\n%s", addr, log)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// ---- verification ----

// verifyFixture is what the verification workloads read: the signer's key
// and certificate, the trust anchor, the intermediate, CRLs for esig's
// revocation checks.
type verifyFixture struct {
	dir                                 string
	key, cert, chain, root, issuing     string
	crls                                []string
	xadesDocs, cadesDocs                []string
	xadesDir, cadesDir, content, xmlDoc string
}

func (b *bench) verifications() error {
	f, err := b.signFixtures()
	if err != nil {
		return fmt.Errorf("preparing signed documents: %w", err)
	}
	esigArgs := []string{"verify", "--offline", "--trust", f.root, "--format", "json"}
	for _, c := range f.crls {
		esigArgs = append(esigArgs, "--crl", c)
	}
	// XAdES
	xmlsecArgs := func(doc string) []string {
		return []string{"--verify", "--trusted-pem", f.root, "--untrusted-pem", f.issuing,
			"--id-attr:Id", "http://uri.etsi.org/01903/v1.3.2#:SignedProperties", doc}
	}
	b.compareVerify("XAdES verify, a process per document (ms/document)", f.xadesDocs, "xmlsec1 --verify", b.o.xmlsec1,
		func(doc string) []string { return append(append([]string{}, esigArgs...), doc) }, xmlsecArgs, 1)
	b.compareVerify("XAdES verify, a batch on every core (ms/document)", f.xadesDocs, "xmlsec1 --verify", b.o.xmlsec1,
		nil, xmlsecArgs, runtime.NumCPU(), append(append([]string{}, esigArgs...), f.xadesDir)...)
	// CAdES
	opensslArgs := func(doc string) []string {
		return []string{"cms", "-verify", "-binary", "-inform", "DER", "-in", doc, "-CAfile", f.root, "-certfile", f.issuing,
			"-purpose", "any", "-out", os.DevNull}
	}
	b.compareVerify("CAdES verify, a process per document (ms/document)", f.cadesDocs, "openssl cms -verify", b.o.openssl,
		func(doc string) []string { return append(append([]string{}, esigArgs...), doc) }, opensslArgs, 1)
	b.compareVerify("CAdES verify, a batch on every core (ms/document)", f.cadesDocs, "openssl cms -verify", b.o.openssl,
		nil, opensslArgs, runtime.NumCPU(), append(append([]string{}, esigArgs...), f.cadesDir)...)
	return nil
}

func (b *bench) signFixtures() (*verifyFixture, error) {
	f := &verifyFixture{dir: filepath.Join(b.dir, "sign")}
	f.xadesDir, f.cadesDir = filepath.Join(f.dir, "xades"), filepath.Join(f.dir, "cades")
	for _, d := range []string{f.xadesDir, f.cadesDir} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, err
		}
	}
	f.key, f.cert = filepath.Join(f.dir, "signer.key"), filepath.Join(f.dir, "signer.pem")
	f.root, f.issuing, f.chain = b.esigCA("root.pem"), b.esigCA("issuing.pem"), filepath.Join(f.dir, "chain.pem")
	issuing, err := os.ReadFile(f.issuing)
	if err != nil {
		return nil, err
	}
	for path, data := range map[string][]byte{f.key: b.leaf.keyPEM, f.cert: b.leaf.certPEM, f.chain: issuing} {
		if err := os.WriteFile(path, data, 0o600); err != nil {
			return nil, err
		}
	}
	// The CRLs esig needs to reach TOTAL-PASSED offline: the leaf's shard
	// and the root's CRL of the issuing CA.
	c := httpClient(1, nil)
	for _, name := range []string{fmt.Sprintf("%d.crl", b.leaf.shard), "root.crl"} {
		resp, err := c.Get(b.esigURL + "/crl/" + name)
		if err != nil {
			return nil, err
		}
		der, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK {
			return nil, fmt.Errorf("CRL %s: status %d %v", name, resp.StatusCode, err)
		}
		path := filepath.Join(f.dir, name)
		if err := os.WriteFile(path, der, 0o600); err != nil {
			return nil, err
		}
		f.crls = append(f.crls, path)
	}
	// A typical portal document, a declaration of a few kilobytes.
	var doc strings.Builder
	doc.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n" + `<Deklaracja xmlns="urn:example:pit">`)
	for i := range 60 {
		fmt.Fprintf(&doc, `<Pozycja nr="%d"><Opis>Przychód z tytułu umowy nr %d</Opis><Kwota>%d.00</Kwota></Pozycja>`, i, i, 1000+i)
	}
	doc.WriteString("</Deklaracja>\n")
	f.xmlDoc, f.content = filepath.Join(f.dir, "deklaracja.xml"), filepath.Join(f.dir, "deklaracja.xml")
	if err := os.WriteFile(f.xmlDoc, []byte(doc.String()), 0o600); err != nil {
		return nil, err
	}
	xades, cades := filepath.Join(f.dir, "signed.xml"), filepath.Join(f.dir, "signed.p7m")
	if _, err := runOnce(f.dir, b.o.esig, "sign", "xades", "--key", f.key, "--cert", f.cert, "--chain", f.chain, f.xmlDoc, "-o", xades); err != nil {
		return nil, err
	}
	if _, err := runOnce(f.dir, b.o.esig, "sign", "cades", "--key", f.key, "--cert", f.cert, "--chain", f.chain, f.content, "-o", cades); err != nil {
		return nil, err
	}
	for _, s := range []struct {
		src, dir, ext string
		list          *[]string
	}{{xades, f.xadesDir, ".xml", &f.xadesDocs}, {cades, f.cadesDir, ".p7m", &f.cadesDocs}} {
		data, err := os.ReadFile(s.src)
		if err != nil {
			return nil, err
		}
		for i := range b.o.docs {
			path := filepath.Join(s.dir, fmt.Sprintf("doc%04d%s", i, s.ext))
			if err := os.WriteFile(path, data, 0o600); err != nil {
				return nil, err
			}
			*s.list = append(*s.list, path)
		}
	}
	return f, nil
}

// compareVerify times esig and a peer verifying the same documents and adds
// a row of milliseconds per document; the ratio is the peer's time over
// esig's (above 1: esig is faster). With esigBatch, esig verifies all the
// documents in one process (its own parallel batch) and the peer runs
// `parallel` processes at a time; otherwise both run a process per
// document, one at a time.
func (b *bench) compareVerify(workload string, docs []string, peer, peerBin string, esigArgs func(string) []string, peerArgs func(string) []string, parallel int, esigBatch ...string) {
	r := row{workload: workload, peer: peer, target: 1}
	var esigTime time.Duration
	var err error
	if len(esigBatch) > 0 {
		start := time.Now()
		_, err = runOnce(b.dir, b.o.esig, esigBatch...)
		esigTime = time.Since(start)
	} else {
		esigTime, err = timeEach(docs, 1, func(doc string) error { _, err := runOnce(b.dir, b.o.esig, esigArgs(doc)...); return err })
	}
	if err != nil {
		r.esig = "failed"
		r.figure = "esig failed: " + firstLine(err)
		b.logf("%s, esig: %v", workload, err)
		b.rows = append(b.rows, r)
		return
	}
	esigPer := esigTime / time.Duration(len(docs))
	r.esig = fmt.Sprintf("%.2f", float64(esigPer.Microseconds())/1000)
	switch {
	case b.o.skips[peer] != "":
		r.figure = "not run: " + b.o.skips[peer]
	case peerBin == "":
		r.figure = "not run: no binary given"
	default:
		peerTime, err := timeEach(docs, parallel, func(doc string) error { _, err := runOnce(b.dir, peerBin, peerArgs(doc)...); return err })
		if err != nil {
			r.figure = "failed: " + firstLine(err)
			b.logf("%s, %s: %v", workload, peer, err)
			break
		}
		peerPer := peerTime / time.Duration(len(docs))
		r.figure = fmt.Sprintf("%.2f", float64(peerPer.Microseconds())/1000)
		r.ratio = float64(peerPer) / float64(esigPer)
	}
	b.logf("%s: esig %s ms, %s %s", workload, r.esig, peer, r.figure)
	b.rows = append(b.rows, r)
}

// timeEach runs fn on every document, `parallel` at a time, and returns the
// wall time.
func timeEach(docs []string, parallel int, fn func(string) error) (time.Duration, error) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var (
		next  atomic.Int64
		first error
		once  sync.Once
		wg    sync.WaitGroup
	)
	start := time.Now()
	for range parallel {
		wg.Go(func() {
			for ctx.Err() == nil {
				i := int(next.Add(1)) - 1
				if i >= len(docs) {
					return
				}
				if err := fn(docs[i]); err != nil {
					once.Do(func() { first = err; cancel() })
				}
			}
		})
	}
	wg.Wait()
	return time.Since(start), first
}

func firstLine(err error) string {
	s, _, _ := strings.Cut(err.Error(), "\n")
	return s
}
