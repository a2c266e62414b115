// Package pgtest gives each test its own PostgreSQL database, so tests that
// share one server never see each other's rows.
//
// The server is named by the environment variable ESIG_TEST_POSTGRES_DSN (a
// role that may create databases); without it, tests that need PostgreSQL
// skip with a message saying so.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// EnvDSN names the environment variable that points tests at a server.
const EnvDSN = "ESIG_TEST_POSTGRES_DSN"

// Require skips the test, with a message saying how to run it, unless
// EnvDSN is set. Call it first, so a suite skips once rather than per test.
func Require(t testing.TB) {
	t.Helper()
	if os.Getenv(EnvDSN) == "" {
		t.Skipf("%s is not set; set it to a PostgreSQL DSN (a role that may create databases) to run this test", EnvDSN)
	}
}

// Database creates an empty database with a random name, drops it (closing
// any connection left open) when the test ends, and returns a DSN for it.
// It skips the test when EnvDSN is unset.
func Database(t testing.TB) string {
	t.Helper()
	Require(t)
	admin := os.Getenv(EnvDSN)
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	name := "esig_test_" + hex.EncodeToString(b[:])

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		t.Fatalf("pgtest: connect to the server in %s: %v", EnvDSN, err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("pgtest: create database %s: %v", name, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, admin)
		if err != nil {
			t.Errorf("pgtest: connect to drop database %s: %v", name, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("pgtest: drop database %s: %v", name, err)
		}
	})
	return withDatabase(t, admin, name)
}

// withDatabase returns dsn pointing at database name instead, in either DSN
// form pgx accepts.
func withDatabase(t testing.TB, dsn, name string) string {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		u, err := url.Parse(dsn)
		if err != nil {
			t.Fatalf("pgtest: %s is not a valid URL: %v", EnvDSN, err)
		}
		u.Path = "/" + name
		return u.String()
	}
	// key=value form: a later key overrides an earlier one.
	return dsn + " dbname=" + name
}
