// Package config holds esig's settings: built-in defaults, overridden by a
// YAML file, overridden by ESIG_* environment variables, overridden by
// command-line flags (which the commands apply themselves).
package config

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Config is every setting of esig serve and the ca commands.
type Config struct {
	// Data is the data directory: the SQLite database, the CA, admin.key.
	Data string `yaml:"data" env:"ESIG_DATA"`
	// Listen is the HTTP listen address.
	Listen string `yaml:"listen" env:"ESIG_LISTEN"`
	// BaseURL is the public address written into certificates (OCSP, CRL,
	// caIssuers). Empty: http://<listen address>.
	BaseURL string `yaml:"baseURL" env:"ESIG_BASE_URL"`
	// Database is "sqlite:PATH" or a postgres:// URL. Empty: SQLite in Data.
	Database string `yaml:"database" env:"ESIG_DATABASE"`

	CA       CA                 `yaml:"ca"`
	CRL      CRL                `yaml:"crl"`
	OCSP     OCSP               `yaml:"ocsp"`
	TSA      TSA                `yaml:"tsa"`
	RA       RA                 `yaml:"ra"`
	HTTP     HTTP               `yaml:"http"`
	Log      Log                `yaml:"log"`
	Profiles map[string]Profile `yaml:"profiles"`
}

// CA says where the CA lives and how it is made on first start.
type CA struct {
	Dir     string `yaml:"dir" env:"ESIG_CA_DIR"`          // default <data>/ca
	KeyType string `yaml:"keyType" env:"ESIG_CA_KEY_TYPE"` // for a new CA
	// HSM is a pkcs11: URI of the token that keeps a new CA's keys.
	HSM string `yaml:"hsm" env:"ESIG_CA_HSM"`
	// Passphrase encrypts file keys; PassphraseFile reads it from a file.
	Passphrase     string `yaml:"-" env:"ESIG_CA_PASSPHRASE"`
	PassphraseFile string `yaml:"passphraseFile" env:"ESIG_CA_PASSPHRASE_FILE"`
	// PIN opens the token (or put pin-source in the URI).
	PIN          string `yaml:"-" env:"ESIG_PKCS11_PIN"`
	Organization string `yaml:"organization" env:"ESIG_CA_ORGANIZATION"`
	Country      string `yaml:"country" env:"ESIG_CA_COUNTRY"`
}

// CRL settings.
type CRL struct {
	Shards   int           `yaml:"shards" env:"ESIG_CRL_SHARDS"`
	Validity time.Duration `yaml:"validity" env:"ESIG_CRL_VALIDITY"`
	Refresh  time.Duration `yaml:"refresh" env:"ESIG_CRL_REFRESH"` // how often due shards are looked for
	// LeaseTTL is how long a replica's lease on a shard lasts: the longest
	// a replica that dies while regenerating a shard keeps the others from
	// regenerating it.
	LeaseTTL time.Duration `yaml:"leaseTTL" env:"ESIG_CRL_LEASE_TTL"`
}

// OCSP settings.
type OCSP struct {
	Validity time.Duration `yaml:"validity" env:"ESIG_OCSP_VALIDITY"`
	// Propagation bounds how long a status change made by another replica
	// takes to show in this one's answers.
	Propagation time.Duration `yaml:"propagation" env:"ESIG_OCSP_PROPAGATION"`
	MaxCached   int           `yaml:"maxCached" env:"ESIG_OCSP_MAX_CACHED"`
}

// TSA settings.
type TSA struct {
	// Policy is the TSA policy OID written into every token. The default is
	// ETSI EN 319 421's best-practices policy (BTSP), which the service
	// follows: a certified clock source is the operator's to provide.
	Policy string `yaml:"policy" env:"ESIG_TSA_POLICY"`
}

// RA settings of the registration authority.
type RA struct {
	// SecretFile holds the RA secret (identity hashes, webhook secrets);
	// default <data>/ra.secret, created on first start. Replicas share it.
	SecretFile string `yaml:"secretFile" env:"ESIG_RA_SECRET_FILE"`
	// ApplicationTTL: an application not confirmed in time expires and its
	// personal data is purged.
	ApplicationTTL time.Duration `yaml:"applicationTTL" env:"ESIG_RA_APPLICATION_TTL"`
	// TokenTTL bounds an enrollment link's life.
	TokenTTL time.Duration `yaml:"tokenTTL" env:"ESIG_RA_TOKEN_TTL"`
	// Interval is how often expiries, expiry notices and webhooks run.
	Interval time.Duration `yaml:"interval" env:"ESIG_RA_INTERVAL"`
	// Proof by signature: the anchors (PEM files) trusted for
	// trusted-profile seals and qualified certificates, the trusted lists
	// that decide qualification (files or URLs) with the operator
	// certificates they must be signed with, the validation policy (YAML;
	// it names the trusted-profile sealer), and whether revocation data
	// may be fetched.
	Trust            []string `yaml:"trust"`
	TrustedLists     []string `yaml:"trustedLists"`
	TrustedListCerts []string `yaml:"trustedListCerts"`
	Policy           string   `yaml:"policy" env:"ESIG_RA_POLICY"`
	Offline          bool     `yaml:"offline"`
}

// HTTP server limits.
type HTTP struct {
	MaxBodyBytes int64 `yaml:"maxBodyBytes" env:"ESIG_HTTP_MAX_BODY_BYTES"`
	// RateLimit is the requests per second each API key may make (0: no
	// limit); RateBurst the burst above it.
	RateLimit         int           `yaml:"rateLimit" env:"ESIG_HTTP_RATE_LIMIT"`
	RateBurst         int           `yaml:"rateBurst" env:"ESIG_HTTP_RATE_BURST"`
	ReadHeaderTimeout time.Duration `yaml:"readHeaderTimeout" env:"ESIG_HTTP_READ_HEADER_TIMEOUT"`
	ReadTimeout       time.Duration `yaml:"readTimeout" env:"ESIG_HTTP_READ_TIMEOUT"`
	WriteTimeout      time.Duration `yaml:"writeTimeout" env:"ESIG_HTTP_WRITE_TIMEOUT"`
	IdleTimeout       time.Duration `yaml:"idleTimeout" env:"ESIG_HTTP_IDLE_TIMEOUT"`
	ShutdownTimeout   time.Duration `yaml:"shutdownTimeout" env:"ESIG_HTTP_SHUTDOWN_TIMEOUT"`
}

// Log settings.
type Log struct {
	Format string `yaml:"format" env:"ESIG_LOG_FORMAT"` // json or text; default json for serve
	Level  string `yaml:"level" env:"ESIG_LOG_LEVEL"`   // debug, info, warn, error
}

// Profile overrides a built-in issuance profile.
type Profile struct {
	Validity time.Duration `yaml:"validity"`
	// Policies replaces the certificate policy OIDs ("1.2.3.4").
	Policies []string `yaml:"policies"`
}

// Default returns the built-in settings.
func Default() Config {
	return Config{
		Data:   "./esig-data",
		Listen: "127.0.0.1:8080",
		CA:     CA{KeyType: "ecdsa-p256", Organization: "esig", Country: "PL"},
		CRL:    CRL{Shards: 16, Validity: 24 * time.Hour, Refresh: time.Minute, LeaseTTL: 10 * time.Second},
		OCSP:   OCSP{Validity: 4 * time.Hour, Propagation: 2 * time.Second, MaxCached: 200_000},
		TSA:    TSA{Policy: "0.4.0.2023.1.1"},
		RA:     RA{ApplicationTTL: 7 * 24 * time.Hour, TokenTTL: 72 * time.Hour, Interval: 5 * time.Second},
		HTTP: HTTP{
			MaxBodyBytes: 1 << 20, RateLimit: 200, RateBurst: 400, ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 30 * time.Second,
			WriteTimeout: 60 * time.Second, IdleTimeout: 2 * time.Minute, ShutdownTimeout: 20 * time.Second,
		},
		Log: Log{Level: "info"},
	}
}

// Load returns the defaults, overridden by the YAML file at path (if path is
// not empty) and then by the environment.
func Load(path string, environ []string) (Config, error) {
	c := Default()
	if path != "" {
		raw, err := os.ReadFile(path)
		if err != nil {
			return c, fmt.Errorf("config: %w", err)
		}
		dec := yaml.NewDecoder(bytes.NewReader(raw))
		dec.KnownFields(true) // a misspelt setting is an error, not silently ignored
		if err := dec.Decode(&c); err != nil {
			return c, fmt.Errorf("config %s: %w", path, err)
		}
	}
	env := map[string]string{}
	for _, kv := range environ {
		if k, v, ok := strings.Cut(kv, "="); ok {
			env[k] = v
		}
	}
	if err := applyEnv(reflect.ValueOf(&c).Elem(), env); err != nil {
		return c, err
	}
	return c, nil
}

// applyEnv sets every field tagged env:"NAME" whose variable is set.
func applyEnv(v reflect.Value, env map[string]string) error {
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		f, fv := t.Field(i), v.Field(i)
		if f.Type.Kind() == reflect.Struct && f.Type != reflect.TypeOf(time.Duration(0)) {
			if err := applyEnv(fv, env); err != nil {
				return err
			}
			continue
		}
		name := f.Tag.Get("env")
		val, ok := env[name]
		if name == "" || !ok {
			continue
		}
		if err := setScalar(fv, val); err != nil {
			return fmt.Errorf("config: %s=%q: %w", name, val, err)
		}
	}
	return nil
}

func setScalar(v reflect.Value, s string) error {
	switch {
	case v.Type() == reflect.TypeOf(time.Duration(0)):
		d, err := time.ParseDuration(s)
		if err != nil {
			return err
		}
		v.SetInt(int64(d))
	case v.Kind() == reflect.String:
		v.SetString(s)
	case v.Kind() == reflect.Int || v.Kind() == reflect.Int64:
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return fmt.Errorf("not a whole number")
		}
		v.SetInt(n)
	default:
		return fmt.Errorf("unsupported setting type %s", v.Type())
	}
	return nil
}

// Resolve fills settings derived from others and checks the result.
func (c *Config) Resolve() error {
	if c.Data == "" {
		return fmt.Errorf("config: data directory is empty")
	}
	if c.CA.Dir == "" {
		c.CA.Dir = filepath.Join(c.Data, "ca")
	}
	if c.Database == "" {
		c.Database = "sqlite:" + filepath.Join(c.Data, "esig.db")
	}
	if c.RA.SecretFile == "" {
		c.RA.SecretFile = filepath.Join(c.Data, "ra.secret")
	}
	if c.CA.Passphrase == "" && c.CA.PassphraseFile != "" {
		raw, err := os.ReadFile(c.CA.PassphraseFile)
		if err != nil {
			return fmt.Errorf("config: ca.passphraseFile: %w", err)
		}
		c.CA.Passphrase = strings.TrimRight(string(raw), "\r\n")
	}
	switch {
	case c.CRL.Shards < 1 || c.CRL.Shards > 1024:
		return fmt.Errorf("config: crl.shards %d outside 1..1024", c.CRL.Shards)
	case c.CRL.Validity < time.Hour:
		return fmt.Errorf("config: crl.validity %v is shorter than an hour", c.CRL.Validity)
	case c.CRL.LeaseTTL < time.Second || c.CRL.LeaseTTL > 10*time.Minute:
		// Under a second a slow signature (an HSM, a loaded machine) could
		// outlast its own lease; past minutes a dead replica would hold a
		// shard back for longer than a CRL may be late.
		return fmt.Errorf("config: crl.leaseTTL %v outside 1s..10m", c.CRL.LeaseTTL)
	case c.OCSP.Validity < time.Minute:
		return fmt.Errorf("config: ocsp.validity %v is shorter than a minute", c.OCSP.Validity)
	case c.RA.ApplicationTTL < time.Minute || c.RA.TokenTTL < time.Minute:
		return fmt.Errorf("config: ra.applicationTTL and ra.tokenTTL must be at least a minute")
	case c.RA.Interval < 10*time.Millisecond:
		return fmt.Errorf("config: ra.interval %v is too short", c.RA.Interval)
	case c.HTTP.MaxBodyBytes < 1024:
		return fmt.Errorf("config: http.maxBodyBytes %d is below 1024", c.HTTP.MaxBodyBytes)
	}
	return nil
}
