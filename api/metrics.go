package api

import (
	"net/http"
	"strconv"
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

func (m *metrics) observe(route string, code int, d time.Duration) {
	if code == 0 {
		code = http.StatusOK
	}
	m.requests.WithLabelValues(route, strconv.Itoa(code)).Inc()
	m.latency.WithLabelValues(route).Observe(d.Seconds())
}

// ObserveOCSP counts one OCSP answer; the responder calls it.
func (s *Server) ObserveOCSP(outcome string) { s.metrics.OCSP.WithLabelValues(outcome).Inc() }

func (s *Server) metricsHandler() http.HandlerFunc {
	h := promhttp.HandlerFor(s.metrics.registry, promhttp.HandlerOpts{})
	return h.ServeHTTP
}
