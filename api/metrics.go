package api

import (
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metrics are the server's Prometheus series.
type metrics struct {
	registry *prometheus.Registry
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	issued   *prometheus.CounterVec
	issuance prometheus.Histogram
	errors   *prometheus.CounterVec
	OCSP     *prometheus.CounterVec
}

func newMetrics(reg *prometheus.Registry) *metrics {
	m := &metrics{
		registry: reg,
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "esig_http_requests_total", Help: "HTTP requests by route and status code."}, []string{"route", "code"}),
		latency:  prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "esig_http_request_duration_seconds", Help: "HTTP request latency by route.", Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14)}, []string{"route"}),
		issued:   prometheus.NewCounterVec(prometheus.CounterOpts{Name: "esig_certificates_issued_total", Help: "Certificates issued, by profile."}, []string{"profile"}),
		issuance: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "esig_issuance_duration_seconds", Help: "Time to check, lint, sign and store one certificate.", Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14)}),
		errors:   prometheus.NewCounterVec(prometheus.CounterOpts{Name: "esig_errors_total", Help: "Problems answered, by kind."}, []string{"kind"}),
		OCSP:     prometheus.NewCounterVec(prometheus.CounterOpts{Name: "esig_ocsp_responses_total", Help: "OCSP answers by outcome (good, revoked, unknown, unauthorized, malformed, error)."}, []string{"outcome"}),
	}
	reg.MustRegister(m.requests, m.latency, m.issued, m.issuance, m.errors, m.OCSP)
	return m
}

// routeMetrics are one route's series, resolved once: looking a series up
// by its labels hashes them, which on a route as hot as OCSP is a
// measurable share of the request.
type routeMetrics struct {
	m       *metrics
	route   string
	latency prometheus.Observer
	codes   sync.Map // status code (int) -> prometheus.Counter
}

func (m *metrics) forRoute(route string) *routeMetrics {
	return &routeMetrics{m: m, route: route, latency: m.latency.WithLabelValues(route)}
}

func (rm *routeMetrics) observe(code int, d time.Duration) {
	if code == 0 {
		code = http.StatusOK
	}
	c, ok := rm.codes.Load(code)
	if !ok {
		c, _ = rm.codes.LoadOrStore(code, rm.m.requests.WithLabelValues(rm.route, strconv.Itoa(code)))
	}
	c.(prometheus.Counter).Inc()
	rm.latency.Observe(d.Seconds())
}

// ocspOutcomes are the outcomes the responder reports (ocspresp.Config's
// Observe), resolved to their counters once.
var ocspOutcomes = []string{"good", "revoked", "unknown", "unauthorized", "malformed", "error"}

// ObserveOCSP counts one OCSP answer; the responder calls it.
func (s *Server) ObserveOCSP(outcome string) {
	if c, ok := s.ocspCounters[outcome]; ok {
		c.Inc()
		return
	}
	s.metrics.OCSP.WithLabelValues(outcome).Inc()
}

func (s *Server) metricsHandler() http.HandlerFunc {
	h := promhttp.HandlerFor(s.metrics.registry, promhttp.HandlerOpts{})
	return h.ServeHTTP
}
